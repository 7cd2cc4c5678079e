#!/usr/bin/env bash
# Runs a server whose port is fixed in its code (hkr04/cpp-mcp's examples/server_example: localhost:8888)
# the way tests/sdk/sdk_harness.hpp's listening_server drives servers: it is started with
# `--port N` appended, and must print `LISTENING <port>` on stdout once it accepts connections.
#
# Usage: run_fixed_port_server.sh <binary> <fixed port> --port N
#   N must be 0 (first start: "any port", answered with the fixed one) or the fixed port (restart).
#
# The script EXECs the binary (same PID: the harness kills it by PID), in the binary's directory,
# with its stdout sent to stderr. Before that it forks a watcher that polls 127.0.0.1:<fixed port>
# (every 50 ms, at most 30 s) and prints `LISTENING <fixed port>` on the original stdout once a TCP
# connect succeeds; the watcher gives up when the server process is gone.
# Refuses to start (exit 3) when something already listens on the fixed port: the LISTENING line
# would then describe another process.
set -u
if [ $# -ne 4 ] || [ "$3" != "--port" ]; then
    echo "usage: $0 <binary> <fixed port> --port N" >&2
    exit 2
fi
binary=$1
fixed=$2
asked=$4
if [ "$asked" != 0 ] && [ "$asked" != "$fixed" ]; then
    echo "$0: $binary listens on $fixed only (asked for $asked)" >&2
    exit 2
fi
if (exec 3<>/dev/tcp/127.0.0.1/"$fixed") 2>/dev/null; then
    echo "$0: something already listens on 127.0.0.1:$fixed" >&2
    exit 3
fi
server_pid=$$   # the binary's PID after the exec below
(
    for _ in $(seq 600); do
        kill -0 "$server_pid" 2>/dev/null || exit 1
        if (exec 3<>/dev/tcp/127.0.0.1/"$fixed") 2>/dev/null; then
            echo "LISTENING $fixed"
            exit 0
        fi
        sleep 0.05
    done
    echo "$0: $binary did not accept on 127.0.0.1:$fixed within 30 s" >&2
    exit 1
) &
cd "$(dirname "$binary")" || exit 2
exec "$binary" >&2
