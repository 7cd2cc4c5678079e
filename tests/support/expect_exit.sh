#!/usr/bin/env bash
# expect_exit.sh CODE REGEX COMMAND [ARGS...]: runs COMMAND; passes (exit 0) only when it exits
# with CODE and its output (stdout and stderr) matches the extended regular expression REGEX.
set -u
code="$1"; regex="$2"; shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$code" ]; then echo "expect_exit: exit status $rc, expected $code" >&2; exit 1; fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then echo "expect_exit: output does not match /$regex/" >&2; exit 1; fi
exit 0
