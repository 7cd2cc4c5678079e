#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 30).
# Usage: scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
# The Beast adapter (Boost headers) is on for fuzz_framing, which drives the transport against a
# loopback server; MCPR_FUZZ_BEAST=OFF builds and runs the std-only targets alone.
beast="${MCPR_FUZZ_BEAST:-ON}"
packages=(cmake make clang libclang-rt-14-dev catch2)
[ "$beast" = ON ] && packages+=(libboost-dev)
mcpr_need_packages "${packages[@]}"
seconds="${1:-30}"; shift || true
build=build/fuzz
CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCP_RECOVERY_BUILD_FUZZERS=ON \
  -DMCP_RECOVERY_BUILD_TESTS=ON -DMCP_RECOVERY_WITH_BEAST="$beast" -DMCP_RECOVERY_INTEROP_TESTS=OFF \
  -DMCP_RECOVERY_BUILD_BENCHMARKS=OFF -DMCP_RECOVERY_BUILD_EXAMPLES=OFF -DMCP_RECOVERY_BUILD_TOOLS=OFF >/dev/null
for src in tests/fuzz/*.cpp; do
  name=$(basename "$src" .cpp)
  if [ "$name" = fuzz_framing ] && [ "$beast" != ON ]; then echo "--- $name skipped (MCPR_FUZZ_BEAST=$beast)"; continue; fi
  cmake --build "$build" -j "$(mcpr_jobs)" --target "$name" >/dev/null
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  # Checked-in seeds (read only: libFuzzer adds what it finds to the first directory).
  seeds=""
  [ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
  dict=""
  case "$name" in
    fuzz_sse) [ -f tests/fuzz/sse.dict ] && dict="-dict=tests/fuzz/sse.dict" ;;
    fuzz_json_envelope) [ -f tests/fuzz/json.dict ] && dict="-dict=tests/fuzz/json.dict" ;;
    fuzz_classifier) dict="-dict=tests/fuzz/classifier.dict" ;;
    fuzz_framing) dict="-dict=tests/fuzz/framing.dict" ;;
  esac
  echo "--- $name for ${seconds}s"
  log="$build/$name.log"
  rc=0
  # shellcheck disable=SC2086
  "$build/tests/$name" -max_total_time="$seconds" -artifact_prefix="$build/" $dict "$@" "$corpus" $seeds >"$log" 2>&1 || rc=$?
  grep -E "Done [0-9]+ runs|ERROR|SUMMARY" "$log" || true
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; echo "$name: FAILED (exit $rc)"; exit 1; fi
done
