#!/usr/bin/env bash
# Builds and runs the whole test suite (the README's second command).
#
# Environment (all optional):
#   MCPR_CXX_STANDARD  17 (default) or 20
#   MCPR_BUILD_DIR     build directory (default build/test-cxx$MCPR_CXX_STANDARD)
#   MCPR_SANITIZE      address,undefined | thread | (empty)
#   MCPR_CTEST_ARGS    extra ctest arguments, e.g. "-R concurrency"
#   CXX                compiler (default c++)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

mcpr_need_packages cmake make g++ catch2

std="${MCPR_CXX_STANDARD:-17}"
sanitize="${MCPR_SANITIZE:-}"
build="${MCPR_BUILD_DIR:-build/test-cxx${std}${sanitize:+-${sanitize//,/-}}}"
flags=""
[ -n "$sanitize" ] && flags="-fsanitize=${sanitize} -fno-sanitize-recover=all -fno-omit-frame-pointer -g"

cmake -S . -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMCP_RECOVERY_CXX_STANDARD="$std" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DMCP_RECOVERY_BUILD_TESTS=ON -DMCP_RECOVERY_BUILD_BENCHMARKS=ON -DMCP_RECOVERY_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(mcpr_jobs)"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure --timeout 600 ${MCPR_CTEST_ARGS:-}
