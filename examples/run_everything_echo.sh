#!/usr/bin/env bash
# The README's usage example against server-everything (the MCP reference server, from npm):
# starts it on an ephemeral 127.0.0.1 port, runs the example, checks what it prints and how it
# exits (the echo succeeds; a wrong endpoint and an unreachable server fail with a non-zero exit),
# and stops the server by PID. Every step has a time limit: a broken server or client fails the
# test, never hangs it.
# Usage: run_everything_echo.sh EXAMPLE_BINARY INTEROP_DIR      (INTEROP_DIR: tests/interop, after npm ci)
set -uo pipefail
example="$1"
interop="$2"
step_limit=${MCPR_EXAMPLE_STEP_LIMIT:-60}  # seconds for one run of the example (its own call deadline is 30 s)

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d "$interop/node_modules/@modelcontextprotocol/server-everything" ] ||
  fail "server-everything is not installed: run npm ci in $interop"

work=$(mktemp -d)
node "$interop/start_everything.mjs" --port 0 >"$work/server.out" 2>"$work/server.err" &
pid=$!
stop_server() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}
trap 'stop_server; rm -rf "$work"' EXIT

# 1. The server's port (its one stdout line, LISTENING <port>), within 30 s.
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$work/server.out" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.err" >&2; fail "server-everything exited before listening"; }
  sleep 0.1
done
[ -n "$port" ] || fail "server-everything did not report LISTENING within 30 s"
url="http://127.0.0.1:$port/mcp"

# run EXPECTED_STATUS ARGS...: runs the example with a time limit; its stdout in $got, stderr in $err.
run() {
  local expected="$1"; shift
  timeout --kill-after=5 "$step_limit" "$example" "$@" >"$work/stdout" 2>"$work/stderr"
  local status=$?
  got=$(cat "$work/stdout"); err=$(cat "$work/stderr")
  printf '$ everything_echo %s\n%s\n%s\n(exit %d)\n' "$*" "$got" "$err" "$status"
  [ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "the example did not finish within $step_limit s"
  [ "$status" -eq "$expected" ] || fail "exit status $status, expected $expected"
}

# 2. The echo: exit 0 and exactly "Echo: <text>" (quotes and UTF-8 survive the JSON round trip).
run 0 "$url"
[ "$got" = "Echo: hello from mcp-recovery" ] || fail "unexpected output: $got"
text='hi "there" \ ü'
run 0 "$url" "$text"
[ "$got" = "Echo: $text" ] || fail "unexpected output: $got"

# 3. Failures exit non-zero, with a reason: a wrong endpoint on the live server, no server at all.
run 1 "http://127.0.0.1:$port/nope"
[ -z "$got" ] || fail "output on failure: $got"
grep -q "tools/list failed: the request failed and recovery cannot help" <<<"$err" || fail "no reason given: $err"
run 1 "http://127.0.0.1:1/mcp"
grep -q "tools/list failed: .*Connection refused" <<<"$err" || fail "no reason given: $err"
run 2
echo "PASS: everything_echo against server-everything on 127.0.0.1:$port"
