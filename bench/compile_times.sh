#!/usr/bin/env bash
# Compile time per translation unit (issue 15): CPU seconds (user+sys of the compiler and all its
# children: cc1plus, as) and peak RSS of small representative user files in bench/compile/.
#
#   bench/compile_times.sh                     # g++, -O0 and -O2, C++17 and C++20, min of 1 run
#   bench/compile_times.sh --clang             # also clang++ (CLANGXX=clang++-14 to pick one)
#   bench/compile_times.sh --repeat 3          # min CPU of 3 runs per cell (peak RSS: of that run)
#   bench/compile_times.sh --levels "O0 O2 syntax"   # "syntax" = -fsyntax-only (front end only)
#   bench/compile_times.sh --only beast_sync   # rows whose label contains the word
#   bench/compile_times.sh --out /tmp/ct.md    # also write the table to a file
#   bench/compile_times.sh --extra "-DBOOST_ASIO_SEPARATE_COMPILATION -DBOOST_BEAST_SEPARATE_COMPILATION"
#
# CPU time, not wall time: the machine may be shared. Compiles run one at a time (never in
# parallel), each to an object file in a temporary directory (no link).
#
# Rows: "label | source | standards | extra flags | needs". "needs" lists files that must exist (a
# row whose file is missing prints "not built yet": the separate-compilation mode of
# docs/compile-time.md) and/or the word co_await (Asio must have co_await with that compiler and
# standard: Boost 1.74 has it with g++, not with clang + libstdc++). Adding a mode is one line.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
beast_inc="$root/adapters/beast/include"

ROWS=(
  "core only (user transport)   | bench/compile/core_only.cpp   | 17 20 |                                     | "
  "Boost only (Beast/Asio HTTP)  | bench/compile/boost_only.cpp  | 17 20 |                                     | "
  "Beast sync, header-only       | bench/compile/beast_sync.cpp  | 17 20 |                                     | "
  "Beast async, header-only      | bench/compile/beast_async.cpp | 20    |                                     | co_await"
  "Beast sync, separate          | bench/compile/beast_sync.cpp  | 17 20 | -DMCP_RECOVERY_SEPARATE_COMPILATION | adapters/beast/include/mcp_recovery/beast/src.hpp"
  "Beast async, separate         | bench/compile/beast_async.cpp | 20    | -DMCP_RECOVERY_SEPARATE_COMPILATION | co_await adapters/beast/include/mcp_recovery/beast/src.hpp"
  "src.hpp TU (once per program) | bench/compile/beast_src.cpp   | 17 20 | -DMCP_RECOVERY_SEPARATE_COMPILATION | adapters/beast/include/mcp_recovery/beast/src.hpp"
  "test server file, header-only | bench/compile/flaky_server_test.cpp | 17 20 |                           | "
  "test server file, separate    | bench/compile/flaky_server_test.cpp | 17 20 | -DMCP_RECOVERY_SEPARATE_COMPILATION | adapters/beast/include/mcp_recovery/beast/testing/src.hpp"
)

CXX_LIST=("${CXX:-g++}")
LEVELS="O0 O2"
REPEAT=1
ONLY=""
OUT=""
# What the mcp_recovery::beast CMake target adds to every user TU (adapters/beast/CMakeLists.txt).
COMMON="-DBOOST_ASIO_NO_DEPRECATED"
EXTRA="${CXXFLAGS_EXTRA:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --clang) CXX_LIST+=("${CLANGXX:-clang++}") ;;
    --cxx) shift; CXX_LIST=("$1") ;;
    --levels) shift; LEVELS="$1" ;;
    --repeat) shift; REPEAT="$1" ;;
    --only) shift; ONLY="$1" ;;
    --out) shift; OUT="$1" ;;
    --extra) shift; EXTRA="$1" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

# measure CMD...: prints "cpu_seconds peak_mb", or "FAIL" when the command fails.
measure() {
  local rc=0
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" >"$tmp/log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { echo FAIL; return; }
    awk '{printf "%.2f %.0f\n", $1 + $2, $3 / 1024}' "$tmp/time"
  else  # getrusage of the waited-for children (compiler driver, cc1plus, as)
    python3 - "$@" >"$tmp/time" 2>"$tmp/log" <<'PY' || rc=$?
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=sys.stderr).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.0f" % (u.ru_utime + u.ru_stime, u.ru_maxrss / 1024))
sys.exit(rc)
PY
    [ $rc -eq 0 ] || { echo FAIL; return; }
    cat "$tmp/time"
  fi
}

table="| TU | compiler | standard | level | CPU s | peak MB |
|---|---|---|---|---|---|"
echo "$table"
for cxx in "${CXX_LIST[@]}"; do
  cxx_ver="$("$cxx" -dumpfullversion -dumpversion 2>/dev/null || true)"
  if "$cxx" --version | head -1 | grep -qi clang; then cxx_name="clang ${cxx_ver:-?}"; else cxx_name="$(basename "$cxx") ${cxx_ver:-?}"; fi
  for row in "${ROWS[@]}"; do
    IFS='|' read -r label src stds flags needs <<<"$row"
    label="$(trim "$label")"; src="$(trim "$src")"; flags="$(trim "$flags")"; needs="$(trim "$needs")"
    if [ -n "$ONLY" ] && [[ "$label $src" != *"$ONLY"* ]]; then continue; fi
    for std in $stds; do
      for level in $LEVELS; do
        skip=""
        for need in $needs; do
          if [ "$need" = co_await ]; then
            printf '#include <utility>\n#include <boost/asio/awaitable.hpp>\n#ifndef BOOST_ASIO_HAS_CO_AWAIT\n#error no co_await\n#endif\n' |
              "$cxx" -std=c++$std -E -x c++ - >/dev/null 2>&1 || skip="n/a (Asio has no co_await here)"
          elif [ ! -e "$root/$need" ]; then
            skip="not built yet"
          fi
        done
        if [ -n "$skip" ]; then
          line="| $label | $cxx_name | C++$std | -$level | $skip | |"
          echo "$line"; table+=$'\n'"$line"; continue
        fi
        case "$level" in
          syntax) opt=(-O0 -fsyntax-only) ;;
          *) opt=("-$level" -c -o "$tmp/out.o") ;;
        esac
        best=""; best_mb=""
        for ((i = 0; i < REPEAT; i++)); do
          # shellcheck disable=SC2086
          r="$(cd "$root" && measure "$cxx" -std=c++$std "${opt[@]}" $COMMON $flags $EXTRA \
                -I"$root/include" -I"$beast_inc" "$root/$src")"
          if [ "$r" = FAIL ]; then best=FAIL; sed -n '1,15p' "$tmp/log" >&2; break; fi
          read -r cpu mb <<<"$r"
          if [ -z "$best" ] || awk -v a="$cpu" -v b="$best" 'BEGIN{exit !(a < b)}'; then best="$cpu"; best_mb="$mb"; fi
        done
        line="| $label | $cxx_name | C++$std | -$level | $best | $best_mb |"
        echo "$line"; table+=$'\n'"$line"
      done
    done
  done
done
if [ -n "$OUT" ]; then printf '%s\n' "$table" >"$OUT"; fi
