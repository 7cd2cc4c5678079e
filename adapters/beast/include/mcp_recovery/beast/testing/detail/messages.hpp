// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_MESSAGES_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_MESSAGES_HPP

/// The JSON-RPC messages of `flaky_server`: a POSTed message as classified (`message_info`), the
/// answer decided for it before framing (`reply`) with its builders, and the requests and
/// notifications the server sends. Standard library only.

#include "mcp_recovery/beast/json_string.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast::testing::detail {

// Header values go back into headers and JSON: keep printable ASCII only.
inline std::string printable_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c < 0x20 || c > 0x7E) c = '?';
    }
    return out;
}

/// What the server decided to send, before framing (JSON or SSE, keep-alive or close).
struct reply {
    unsigned status = 200;
    std::string content_type;  // sent only with a body
    std::string body;
    bool jsonrpc_answer = false;  // a 200 answer to a JSON-RPC request: SSE mode applies
    std::string session_id;
    std::optional<std::uint32_t> retry_after;
    bool www_authenticate = false;
    std::string allow;
    bool close = false;
    // A tools/call answered by an event stream of its own (or after a wait): `ask`, `progress`.
    enum class call_kind : unsigned char { none, ask, progress } call = call_kind::none;
    std::string call_id;      // the tools/call's id, raw
    std::string ask_method;   // ask: the server request's method
    std::string ask_params;   // ask: its params, raw JSON; empty: none
    std::string progress_token;  // progress: `_meta.progressToken`, raw JSON; empty: none
    std::size_t progress_steps = 0;
    std::chrono::milliseconds progress_interval{0};
};

inline reply plain_reply(unsigned status, std::string_view text, bool close = false) {
    reply r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = std::string(text);
    r.close = close;
    return r;
}

// An HTTP-level JSON-RPC error, in the TypeScript SDK's member order.
inline reply transport_error(unsigned status, int code, std::string_view message) {
    reply r;
    r.status = status;
    r.content_type = "application/json";
    r.body = R"({"jsonrpc":"2.0","error":{"code":)";
    r.body += std::to_string(code);
    r.body += R"(,"message":)";
    append_json_string(r.body, message);
    r.body += R"(},"id":null})";
    return r;
}

inline reply rpc_result(std::string_view id_raw, std::string_view result_json) {
    reply r;
    r.content_type = "application/json";
    r.jsonrpc_answer = true;
    r.body.reserve(40 + id_raw.size() + result_json.size());
    r.body = R"({"jsonrpc":"2.0","id":)";
    r.body += id_raw;
    r.body += R"(,"result":)";
    r.body += result_json;
    r.body += '}';
    return r;
}

inline reply rpc_error(std::string_view id_raw, int code, std::string_view message) {
    reply r;
    r.content_type = "application/json";
    r.jsonrpc_answer = true;
    r.body = R"({"jsonrpc":"2.0","id":)";
    r.body += id_raw;
    r.body += R"(,"error":{"code":)";
    r.body += std::to_string(code);
    r.body += R"(,"message":)";
    append_json_string(r.body, message);
    r.body += "}}";
    return r;
}

inline reply text_result(std::string_view id_raw, std::string_view text) {
    std::string result = R"({"content":[{"type":"text","text":)";
    append_json_string(result, text);
    result += "}]}";
    return rpc_result(id_raw, result);
}

inline std::string jsonrpc_notification(std::string_view method, std::string_view params_json) {
    std::string s = R"({"jsonrpc":"2.0","method":)";
    append_json_string(s, method);
    if (!params_json.empty()) {
        s += R"(,"params":)";
        s += params_json;
    }
    s += '}';
    return s;
}

inline std::string jsonrpc_request(std::string_view id_raw, std::string_view method, std::string_view params_json) {
    std::string s = R"({"jsonrpc":"2.0","id":)";
    s += id_raw;
    s += R"(,"method":)";
    append_json_string(s, method);
    if (!params_json.empty()) {
        s += R"(,"params":)";
        s += params_json;
    }
    s += '}';
    return s;
}

inline reply method_not_allowed(bool close) {
    reply r = plain_reply(405, "Method Not Allowed", close);
    r.allow = "POST, DELETE";
    return r;
}

/// One parsed POSTed message.
struct message_info {
    bool is_request = false;       // has a non-null id
    bool is_notification = false;  // has a method and no id
    bool is_response = false;      // has a result or an error, and an id
    std::string method;
    std::string id_raw;  // of a request or a response
    std::string tool;  // params.name of a tools/call
};

}  // namespace mcp_recovery::beast::testing::detail

#endif
