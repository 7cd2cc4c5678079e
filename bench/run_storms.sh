#!/usr/bin/env bash
# Runs the storm benchmark (bench/storm_bench.cpp) and draws its figures (bench/plot.py).
#
#   bash bench/run_storms.sh [--quick] [--no-build] [--build-dir DIR]
#
#   --quick       few rounds (a smoke run: checks the functional results, figures are rough)
#   --no-build    expect DIR/bench/mcp_recovery_bench_storm to exist already
#   --build-dir   build directory (default build/bench-storm: C++20 with g++, so that the
#                 coroutine part is built too; -O2)
# Environment: MCPR_JOBS (parallel build jobs, default 2), CXX.
#
# Writes build/bench-out/{storm.md,storm.csv,classifier.csv,payload.csv} and
# docs/img/{storm-latency.svg,recovery-vs-payload.svg}. The exit code is the benchmark's: non-zero
# only on a functional failure (a failed call, or more than one initialize in a single-flight storm).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

quick=()
build_it=1
build="build/bench-storm"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --no-build) build_it=0 ;;
    --build-dir) build="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--no-build] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done

program="$build/bench/mcp_recovery_bench_storm"
if [ "$build_it" = 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    std=17
    # The async part needs Asio's co_await: g++ in C++20 (Boost 1.74 does not enable it for clang).
    if "${CXX:-c++}" --version 2>/dev/null | grep -q "Free Software Foundation"; then std=20; fi
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O2 -DMCP_RECOVERY_CXX_STANDARD="$std" \
      -DMCP_RECOVERY_BUILD_TESTS=OFF -DMCP_RECOVERY_BUILD_EXAMPLES=OFF -DMCP_RECOVERY_BUILD_BENCHMARKS=ON >/dev/null
  fi
  cmake --build "$build" -j "${MCPR_JOBS:-2}" --target mcp_recovery_bench_storm
elif [ ! -x "$program" ]; then
  echo "$program not found (build it, or drop --no-build)" >&2
  exit 2
fi

out="build/bench-out"
mkdir -p "$out"
status=0
"$program" "${quick[@]}" --csv "$out" | tee "$out/storm.md" || status=$?
python3 bench/plot.py "$out" --out docs/img
echo
echo "tables:  $root/$out/storm.md"
echo "CSV:     $root/$out/{storm,classifier,payload}.csv"
echo "figures: $root/docs/img/storm-latency.svg"
echo "         $root/docs/img/recovery-vs-payload.svg"
exit "$status"
