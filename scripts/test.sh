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

mcpr_need_packages cmake make g++ catch2 libboost-dev libssl-dev openssl
mcpr_need_interop

std="${MCPR_CXX_STANDARD:-17}"
sanitize="${MCPR_SANITIZE:-}"
build="${MCPR_BUILD_DIR:-build/test-cxx${std}${sanitize:+-${sanitize//,/-}}}"
# -O2 with assertions on and without full debug info (which doubles the build time of the Beast
# tests on a 2-core machine); sanitizer builds get line tables for their reports.
flags="-O2"
[ -n "$sanitize" ] && flags="-O1 -g1 -fsanitize=${sanitize} -fno-sanitize-recover=all -fno-omit-frame-pointer"
# g++ notes every atomic_thread_fence inside Asio under TSan (-Wtsan); clang has no such warning.
if [ "$sanitize" = thread ] && "${CXX:-c++}" --version 2>/dev/null | grep -q "Free Software Foundation"; then
  flags="$flags -Wno-tsan"
fi

cmake -S . -B "$build" \
  -DCMAKE_BUILD_TYPE=None \
  -DMCP_RECOVERY_CXX_STANDARD="$std" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DMCP_RECOVERY_BUILD_TESTS=ON -DMCP_RECOVERY_BUILD_BENCHMARKS=ON -DMCP_RECOVERY_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(mcpr_jobs)"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure --timeout 600 ${MCPR_CTEST_ARGS:-}
