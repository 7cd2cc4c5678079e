#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 30).
# Usage: scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
mcpr_need_packages cmake make clang libclang-rt-14-dev catch2
seconds="${1:-30}"; shift || true
build=build/fuzz
CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCP_RECOVERY_BUILD_FUZZERS=ON \
  -DMCP_RECOVERY_BUILD_TESTS=ON -DMCP_RECOVERY_WITH_BEAST=OFF -DMCP_RECOVERY_BUILD_BENCHMARKS=OFF \
  -DMCP_RECOVERY_BUILD_EXAMPLES=OFF -DMCP_RECOVERY_BUILD_TOOLS=OFF >/dev/null
for src in tests/fuzz/*.cpp; do
  name=$(basename "$src" .cpp)
  cmake --build "$build" -j "$(mcpr_jobs)" --target "$name" >/dev/null
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  dict=""
  case "$name" in
    fuzz_sse) [ -f tests/fuzz/sse.dict ] && dict="-dict=tests/fuzz/sse.dict" ;;
    fuzz_json_envelope) [ -f tests/fuzz/json.dict ] && dict="-dict=tests/fuzz/json.dict" ;;
    fuzz_classifier) dict="-dict=tests/fuzz/classifier.dict" ;;
  esac
  echo "--- $name for ${seconds}s"
  log="$build/$name.log"
  rc=0
  # shellcheck disable=SC2086
  "$build/tests/$name" -max_total_time="$seconds" -artifact_prefix="$build/" $dict "$@" "$corpus" >"$log" 2>&1 || rc=$?
  grep -E "Done [0-9]+ runs|ERROR|SUMMARY" "$log" || true
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; echo "$name: FAILED (exit $rc)"; exit 1; fi
done
