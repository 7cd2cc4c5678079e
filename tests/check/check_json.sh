#!/usr/bin/env bash
# The --json report and --header of mcp-recovery-check (issue 13), asserted with python3.
# Usage: check_json.sh CASE CHECK_BINARY [HOSTILE_SERVER_BINARY]
#   builtin      --json against the built-in server: valid JSON, the expected keys, every run grades
#                ping, get_stream, resumption and delete
#   header       hostile_mcp_server requires X-Api-Key: the check with --header gets in (exit 0,
#                the header named, its value never shown); without it, initialize fails with 401
#   hostile-body the server's bodies hold quotes, backslashes, control bytes and invalid UTF-8:
#                the report is still valid JSON (strict UTF-8) and grades ping and get_stream fail
#   delete-405   DELETE is 405: graded pass, the after-DELETE probe skipped, exit 0
#   resumable    GET offers an event stream with ids and Last-Event-ID replays: both pass
#   get-404      GET is 404: get_stream fails, exit status unchanged (0)
# Servers are started here on 127.0.0.1 with an ephemeral port and stopped by PID.
set -euo pipefail
case_name="$1"; check="$2"; server="${3:-}"
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {  # start_server ARGS...: sets url
  "$server" "$@" >"$work/server.out" &
  pid=$!
  local port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$work/server.out" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "hostile_mcp_server exited before listening" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "hostile_mcp_server did not report LISTENING within 10 s" >&2; exit 1; }
  url="http://127.0.0.1:$port/mcp"
}

run_check() {  # run_check EXPECTED_EXIT ARGS...: the report in $work/out.json
  local expected="$1"; shift
  set +e
  "$check" --json "$@" >"$work/out.json" 2>"$work/err.txt"
  local rc=$?
  set -e
  if [ "$rc" -ne "$expected" ]; then
    echo "check_json: exit status $rc, expected $expected" >&2
    cat "$work/out.json" "$work/err.txt" >&2
    exit 1
  fi
}

# validate PYTHON_ASSERTIONS: loads $work/out.json as strict UTF-8 JSON into `d`, runs the assertions.
validate() {
  python3 - "$work/out.json" "$1" <<'PY'
import json, sys
raw = open(sys.argv[1], 'rb').read()
text = raw.decode('utf-8')  # strict: invalid UTF-8 in the report fails here
lines = [l for l in text.splitlines() if l.strip()]
assert len(lines) == 1, f"expected one JSON line, got {len(lines)}"
d = json.loads(text)  # strict: raw control characters in strings fail here
for key in ('tool', 'version', 'timestamp', 'url', 'headers', 'runs', 'summary', 'overall', 'exit_status'):
    assert key in d, f"missing key {key}"
assert d['tool'] == 'mcp-recovery-check'
for run in d['runs']:
    for key in ('title', 'initialize', 'checks', 'recovery', 'http_diagnostics', 'verdict'):
        assert key in run, f"missing run key {key}"
    names = [c['name'] for c in run['checks']]
    for n in ('ping', 'get_stream', 'resumption', 'delete'):
        assert n in names, f"check {n} missing in {names}"
    for c in run['checks']:
        assert c['verdict'] in ('pass', 'fail', 'note', 'skipped'), c
        assert isinstance(c['expected'], str) and c['expected'], c
def check(run, name):
    return next(c for c in run['checks'] if c['name'] == name)
exec(sys.argv[2])
print(json.dumps(d['summary']), d['overall'])
for run in d['runs']:
    print(run['title'], {c['name']: c['verdict'] for c in run['checks']})
PY
}

case "$case_name" in
  builtin)
    run_check 0
    validate '
assert d["url"] is None and d["exit_status"] == 0 and d["burst"]["ok"] is True
assert len(d["runs"]) == 6
for run in d["runs"]:
    assert check(run, "ping")["verdict"] == "pass", check(run, "ping")
    assert check(run, "delete")["verdict"] == "pass"
    assert check(run, "get_stream")["verdict"] == "pass", check(run, "get_stream")
    assert check(run, "resumption")["verdict"] in ("pass", "note")
    for p in run["recovery"]:
        assert p["recovered"] is True and p["classification"] == "session_expired", p
'
    ;;
  header)
    secret='s3cret-Value-never-shown'
    start_server --fault none --require-header "X-Api-Key:$secret"
    run_check 0 --timeout 2 --header "X-Api-Key: $secret" "$url"
    if grep -q -- "$secret" "$work/out.json" "$work/err.txt"; then echo "check_json: the header value was shown" >&2; exit 1; fi
    validate '
assert d["headers"] == ["X-Api-Key"], d["headers"]
run = d["runs"][0]
assert run["initialize"]["ok"] is True
assert check(run, "ping")["verdict"] == "pass" and check(run, "delete")["verdict"] == "pass"
'
    # The human report names the header, never its value.
    out=$("$check" --timeout 2 --header "X-Api-Key: $secret" "$url" 2>&1)
    printf '%s\n' "$out" | grep -q "extra headers    : X-Api-Key (values not shown)" || { echo "check_json: header not named" >&2; exit 1; }
    if printf '%s\n' "$out" | grep -q -- "$secret"; then echo "check_json: the header value was shown" >&2; exit 1; fi
    # Without the header the server answers 401: initialize fails, the features are skipped.
    run_check 1 --timeout 2 "$url"
    validate '
run = d["runs"][0]
assert run["initialize"]["ok"] is False and "401" in run["failed_step"]["answer"], run["failed_step"]
assert all(c["verdict"] == "skipped" for c in run["checks"])
'
    ;;
  hostile-body)
    start_server --fault hostile-body
    run_check 0 --timeout 2 "$url"
    validate '
run = d["runs"][0]
g = check(run, "get_stream")
assert g["verdict"] == "fail" and g["observed"]["status"] == 400, g
body = g["observed"]["body"]
for piece in ("\"quote\"", "back\\slash", "\x01", "\x1b[31m", "\ufffd", "caf\u00e9"):
    assert piece in body, (piece, body)
p = check(run, "ping")
assert p["verdict"] == "fail" and "-32603" in p["details"], p
assert "\"quote\"" in p["details"] and "\x01" in p["details"], p["details"]
'
    ;;
  delete-405)
    start_server --fault delete-405
    run_check 0 --timeout 2 "$url"
    validate '
run = d["runs"][0]
assert check(run, "delete")["verdict"] == "pass" and check(run, "delete")["observed"]["status"] == 405
assert check(run, "deleted_session_404")["verdict"] == "skipped"
assert check(run, "unknown_session_404")["verdict"] == "pass"
after = next(p for p in run["recovery"] if p["name"] == "after_delete")
assert after["skipped"] is True, after
'
    ;;
  resumable)
    start_server --fault resumable
    run_check 0 --timeout 2 "$url"
    validate '
run = d["runs"][0]
g = check(run, "get_stream")
assert g["verdict"] == "pass" and g["observed"]["event_stream"] and g["observed"]["event_id"] == "1", g
r = check(run, "resumption")
assert r["verdict"] == "pass" and r["observed"]["event_id"] == "1" and r["observed"]["resume"]["status"] == 200, r
'
    ;;
  get-404)
    start_server --fault get-404
    run_check 0 --timeout 2 "$url"
    validate '
run = d["runs"][0]
assert check(run, "get_stream")["verdict"] == "fail" and check(run, "get_stream")["observed"]["status"] == 404
assert check(run, "resumption")["verdict"] == "note"
'
    ;;
  *) echo "check_json: unknown case $case_name" >&2; exit 2 ;;
esac
