#!/usr/bin/env bash
# Runs mcp-recovery-check against a real MCP server from npm, started here on 127.0.0.1 with an
# ephemeral port and stopped by PID. Usage: check_against.sh CHECK_BINARY SERVER_SCRIPT [args...]
set -euo pipefail
check="$1"; shift
script="$1"; shift
dir="$(cd "$(dirname "$0")" && pwd)"
out=$(mktemp)
node "$dir/$script" --port 0 "$@" >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 300); do
  port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$out" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "server $script exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "server $script did not report LISTENING within 30 s" >&2; exit 1; }
"$check" "http://127.0.0.1:$port/mcp"
