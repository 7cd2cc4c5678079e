#!/usr/bin/env bash
# Runs mcp-recovery-check against hostile_mcp_server with one HTTP fault, started here on
# 127.0.0.1 with an ephemeral port and stopped by PID, and asserts the exit status and output.
# Usage: check_hostile.sh SERVER_BINARY FAULT CODE REGEX CHECK_BINARY [check options...]
set -euo pipefail
server="$1"; fault="$2"; code="$3"; regex="$4"; shift 4
dir="$(cd "$(dirname "$0")" && pwd)"
out=$(mktemp)
"$server" --fault "$fault" >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$out" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "hostile_mcp_server exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "hostile_mcp_server did not report LISTENING within 10 s" >&2; exit 1; }
bash "$dir/../support/expect_exit.sh" "$code" "$regex" "$@" "http://127.0.0.1:$port/mcp"
