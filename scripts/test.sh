#!/usr/bin/env bash
# Builds and runs the whole test suite (the README's second command).
#
# Environment (all optional):
#   MCPR_CXX_STANDARD  17 (default) or 20
#   MCPR_BUILD_DIR     build directory (default build/test-cxx$MCPR_CXX_STANDARD)
#   MCPR_SANITIZE      address,undefined | thread | (empty)
#   MCPR_CTEST_ARGS    extra ctest arguments, e.g. "-R concurrency"
#   MCPR_BENCHMARKS    OFF: do not build the benchmark programs (default ON)
#   MCPR_BOOST         1.81: build against Debian's Boost 1.81 headers, unpacked into build/ (its
#                      -dev package conflicts with the installed 1.74, so it is not installed)
#   MCPR_SEPARATE      ON (default): the test programs link the transports and the test server
#                      compiled once (mcp_recovery::beast_compiled, docs/compile-time.md); the
#                      benchmark programs, the examples and the check tool stay header-only, so both
#                      modes are built and run; the packaging tests install and consume the
#                      compiled libraries too. OFF: the test programs header-only too.
#   MCPR_CMAKE_ARGS    extra CMake arguments, e.g. "-DMCP_RECOVERY_RESTART_INTEROP_TESTS=OFF"
#   CXX                compiler (default c++)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

mcpr_need_packages cmake make g++ catch2 libboost-dev libssl-dev openssl pkg-config
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

boost_args=()
if [ -n "${MCPR_BOOST:-}" ]; then
  root="$PWD/build/boost-${MCPR_BOOST}"
  if [ ! -f "$root/usr/include/boost/version.hpp" ]; then
    mkdir -p "$root/deb"
    (cd "$root/deb" && apt-get download "libboost${MCPR_BOOST}-dev" >/dev/null 2>&1) || {
      [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null
      (cd "$root/deb" && apt-get download "libboost${MCPR_BOOST}-dev" >/dev/null)
    }
    dpkg -x "$root"/deb/libboost"${MCPR_BOOST}"-dev_*.deb "$root"
  fi
  boost_args=(-DBoost_DIR="$(echo "$root"/usr/lib/*/cmake/Boost-"${MCPR_BOOST}".*)" -DBoost_NO_SYSTEM_PATHS=ON)
  build="${MCPR_BUILD_DIR:-$build-boost${MCPR_BOOST}}"
fi

cmake -S . -B "$build" "${boost_args[@]}" \
  -DCMAKE_BUILD_TYPE=None \
  -DMCP_RECOVERY_CXX_STANDARD="$std" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DMCP_RECOVERY_BUILD_TESTS=ON -DMCP_RECOVERY_BUILD_BENCHMARKS="${MCPR_BENCHMARKS:-ON}" -DMCP_RECOVERY_BUILD_EXAMPLES=ON \
  -DMCP_RECOVERY_TEST_SEPARATE_COMPILATION="${MCPR_SEPARATE:-ON}" -DMCP_RECOVERY_INSTALL_COMPILED="${MCPR_SEPARATE:-ON}" \
  ${MCPR_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(mcpr_jobs)"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure --timeout 600 ${MCPR_CTEST_ARGS:-}
