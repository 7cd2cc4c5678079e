#!/usr/bin/env bash
# Cost of including one header (issue 15): for each header, a TU that includes <utility> and
# that header only, compiled with -O2 -c; prints CPU seconds (user+sys) and peak RSS. One compile
# at a time. Costs are inclusive (a header's own includes count) and do not add up: Boost's common
# parts (asio/detail, execution, system) are paid once per TU, by whichever header comes first.
#
#   bench/header_costs.sh [--cxx clang++] [--std 17] [--repeat 2] [HEADER...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
CXX="${CXX:-g++}"; STD=17; REPEAT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cxx) shift; CXX="$1" ;;
    --std) shift; STD="$1" ;;
    --repeat) shift; REPEAT="$1" ;;
    *) break ;;
  esac
  shift
done
if [ $# -eq 0 ]; then
  set -- "<utility>" "<string>" "<thread>" "<random>" "<map>" \
    "<mcp_recovery/recovering_client.hpp>" \
    "<mcp_recovery/beast/builtin_json.hpp>" "<mcp_recovery/beast/conversation.hpp>" \
    "<mcp_recovery/beast/transport_options.hpp>" "<mcp_recovery/beast/messages.hpp>" \
    "<mcp_recovery/beast/sse.hpp>" "<mcp_recovery/beast/header_rules.hpp>" "<mcp_recovery/beast/tools.hpp>" \
    "<boost/asio/io_context.hpp>" "<boost/asio/ip/tcp.hpp>" "<boost/asio/connect.hpp>" \
    "<boost/beast/core/flat_buffer.hpp>" "<boost/beast/core/tcp_stream.hpp>" \
    "<boost/beast/http.hpp>" \
    "<boost/beast/http/message.hpp>" "<boost/beast/http/string_body.hpp>" "<boost/beast/http/empty_body.hpp>" \
    "<boost/beast/http/buffer_body.hpp>" "<boost/beast/http/parser.hpp>" "<boost/beast/http/read.hpp>" \
    "<boost/beast/http/write.hpp>" "<boost/beast/http/file_body.hpp>" "<boost/beast/http/dynamic_body.hpp>" \
    "<boost/asio/ssl.hpp>" "<boost/beast/ssl.hpp>" \
    "<mcp_recovery/beast/detail/connection.hpp>" "<mcp_recovery/beast/detail/transport_base.hpp>" \
    "<mcp_recovery/beast/streamable_http_transport.hpp>"
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
echo "| header | CPU s | peak MB |"
echo "|---|---|---|"
for h in "$@"; do
  printf '#include <utility>\n#include %s\nint main() { return 0; }\n' "$h" >"$tmp/h.cpp"
  best=""; mb=""
  for ((i = 0; i < REPEAT; i++)); do
    if ! /usr/bin/time -f '%U %S %M' -o "$tmp/t" "$CXX" -std=c++$STD -O2 -c -I"$root/include" \
        -I"$root/adapters/beast/include" "$tmp/h.cpp" -o "$tmp/h.o" 2>"$tmp/log"; then
      best=FAIL; head -5 "$tmp/log" >&2; break
    fi
    read -r u s m <"$tmp/t"
    cpu="$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}')"
    if [ -z "$best" ] || awk -v a="$cpu" -v b="$best" 'BEGIN{exit !(a < b)}'; then best="$cpu"; mb=$((m / 1024)); fi
  done
  echo "| \`$h\` | $best | $mb |"
done
