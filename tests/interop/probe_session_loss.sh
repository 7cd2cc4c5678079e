#!/usr/bin/env bash
# Replays, with curl, the HTTP exchanges recorded in README.md against one Streamable-HTTP MCP
# server: initialize, notifications/initialized, tools/list, tools/call, DELETE, a call with the
# deleted session id, a call with an unknown session id and a call with no session id.
# Prints the status line, the interesting response headers and the body of every step.
#
# usage: probe_session_loss.sh URL [PROTOCOL_VERSION] [TOOL_CALL_PARAMS_JSON]
#   URL               e.g. http://127.0.0.1:PORT/mcp (loopback only)
#   PROTOCOL_VERSION  what the client asks for in initialize (default 2025-06-18)
#   TOOL_CALL_PARAMS  params of the tools/call (default {"name":"echo","arguments":{"text":"hi"}})
set -euo pipefail

url=${1:?usage: probe_session_loss.sh URL [PROTOCOL_VERSION] [TOOL_CALL_PARAMS_JSON]}
version=${2:-2025-06-18}
call_params=${3:-'{"name":"echo","arguments":{"text":"hi"}}'}
accept='Accept: application/json, text/event-stream'
ctype='Content-Type: application/json'
hdrs=$(mktemp)
trap 'rm -f "$hdrs"' EXIT

# step TITLE METHOD [SESSION_ID|-] [BODY]  -> prints status, headers of interest, body
step() {
    local title=$1 method=$2 sid=${3:--} body=${4:-}
    local args=(-sS -m 10 -X "$method" -D "$hdrs" -H "$accept" "$url")
    [[ -n $body ]] && args+=(-H "$ctype" --data-binary "$body")
    [[ $sid != - ]] && args+=(-H "Mcp-Session-Id: $sid")
    [[ $sid != - && -n ${negotiated:-} ]] && args+=(-H "MCP-Protocol-Version: $negotiated")
    echo "### $title"
    echo "> $method $(sed -E 's#^https?://[^/]+##' <<<"$url") session=${sid} ${body}"
    local out
    out=$(curl "${args[@]}" || true)
    head -n1 "$hdrs" | tr -d '\r'
    grep -iE '^(content-type|mcp-session-id|mcp-protocol-version|allow):' "$hdrs" | tr -d '\r' || true
    [[ -n $out ]] && printf '%s\n' "$out"
    echo
    last_body=$out
}

negotiated=
step "initialize (asks $version)" POST - \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$version\",\"capabilities\":{},\"clientInfo\":{\"name\":\"probe\",\"version\":\"0\"}}}"
sid=$(grep -i '^mcp-session-id:' "$hdrs" | head -n1 | cut -d: -f2- | tr -d ' \r')
negotiated=$(grep -o '"protocolVersion":"[^"]*"' <<<"$last_body" | head -n1 | cut -d'"' -f4)
echo "(session id: ${sid:-none}; negotiated protocolVersion: ${negotiated:-?})"
echo
step "notifications/initialized" POST "$sid" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
step "tools/list" POST "$sid" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | cut -c1-400
step "tools/call" POST "$sid" "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":$call_params}"
step "DELETE the session" DELETE "$sid"
step "tools/call with the deleted session id" POST "$sid" \
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":$call_params}"
step "tools/call with an unknown session id" POST "00000000-dead-beef-0000-000000000000" \
    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":$call_params}"
step "tools/call with no session id" POST - \
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":$call_params}"
step "GET (SSE stream) with the deleted session id" GET "$sid"
step "DELETE with the deleted session id" DELETE "$sid"
