// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_CONVERSATION_HPP
#define MCP_RECOVERY_BEAST_CONVERSATION_HPP

/// The server's side of the conversation, as the Streamable-HTTP transports see it: requests the
/// server sends to the client (`ping`, `sampling/createMessage`, `elicitation/create`,
/// `roots/list`, ...), notifications (progress, logging, `resources/updated`, list changes), and
/// what the client answers. I/O-free: the transports (`streamable_http_transport.hpp`,
/// `async_streamable_http_transport.hpp`) read these messages on a call's event stream or on the
/// listening stream, and POST the answers. See `docs/conversation.md`.

#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast {

/// A JSON-RPC request the server sent to the client.
struct server_request {
    std::string method;  ///< e.g. "elicitation/create"
    std::string params;  ///< raw JSON of `params` (an object), empty when absent
    std::string id;      ///< raw JSON of the id, exactly as sent (a number, possibly 0, or a string)
};

/// The client's answer to a server request: a result, or a JSON-RPC error.
struct server_reply {
    std::string result = "{}";  ///< raw JSON of `result` (when not an error); must be valid JSON
    bool is_error = false;
    std::int64_t code = 0;  ///< JSON-RPC error code (when `is_error`)
    std::string message;    ///< JSON-RPC error message (when `is_error`)

    /// A result (`result_json` must be one JSON value, usually an object).
    static server_reply ok(std::string result_json = "{}") {
        server_reply r;
        r.result = std::move(result_json);
        return r;
    }
    /// A JSON-RPC error.
    static server_reply error(std::int64_t code, std::string message) {
        server_reply r;
        r.is_error = true;
        r.code = code;
        r.message = std::move(message);
        return r;
    }
    /// -32601 "Method not found": what a request without a handler is answered.
    static server_reply method_not_found(std::string_view method) {
        return error(-32601, "Method not found: " + std::string(method));
    }
};

/// Answers one server request. Called on the thread that read it (a caller's thread, or the sync
/// transport's listening thread); may block (e.g. to ask a user), the call it arrived on waits
/// meanwhile within its deadline. An exception becomes the error -32603 with its `what()`.
using server_request_handler = std::function<server_reply(const server_request&)>;

/// Handlers by method. Declared capabilities follow them (see `capabilities_for_handlers`).
using server_request_handlers = std::map<std::string, server_request_handler, std::less<>>;

/// A `notifications/progress` for one call (the token is the call's own).
struct progress_update {
    double progress = 0;
    std::optional<double> total;
    std::string message;  ///< empty when absent
};

/// What a message read from an event stream is.
enum class message_kind : unsigned char { response, request, notification, invalid };

inline message_kind kind_of(const envelope& e) noexcept {
    if (e.method) return e.id_kind == json_id_kind::absent ? message_kind::notification : message_kind::request;
    if ((e.has_result || e.has_error) && e.id_kind != json_id_kind::absent) return message_kind::response;
    return message_kind::invalid;
}

namespace detail {

/// The JSON-RPC response to server request `id_raw`, as the body of a POST.
inline std::string reply_body(std::string_view id_raw, const server_reply& r) {
    std::string body = R"({"jsonrpc":"2.0","id":)";
    body += id_raw;
    if (r.is_error) {
        body += R"(,"error":{"code":)";
        body += std::to_string(r.code);
        body += R"(,"message":)";
        append_json_string(body, r.message);
        body += "}}";
    } else {
        body += R"(,"result":)";
        // A handler's result that is not one JSON value would make the whole answer invalid.
        if (is_valid_json(r.result)) body += r.result.empty() ? std::string_view("{}") : std::string_view(r.result);
        else body += "{}";
        body += '}';
    }
    return body;
}

/// Runs the handler for `req` (or the default: `ping` → `{}`, anything else → -32601), never throws.
inline server_reply answer_with(const server_request_handlers& handlers, const server_request& req) {
    auto it = handlers.find(req.method);
    if (it == handlers.end() || !it->second) {
        if (req.method == "ping") return server_reply::ok("{}");
        return server_reply::method_not_found(req.method);
    }
    try {
        return it->second(req);
    } catch (const std::exception& e) {
        return server_reply::error(-32603, std::string("the client's handler failed: ") + e.what());
    } catch (...) {
        return server_reply::error(-32603, "the client's handler failed");
    }
}

/// The capability a handler for `method` implies, as a member of the `capabilities` object.
inline std::string_view capability_for(std::string_view method) noexcept {
    if (method == "sampling/createMessage") return R"("sampling":{})";
    if (method == "elicitation/create") return R"("elicitation":{})";
    if (method == "roots/list") return R"("roots":{})";
    return {};
}

/// `capabilities` (a JSON object) with the members the handlers imply added when absent: a
/// handler for `sampling/createMessage` declares `sampling`, `elicitation/create` declares
/// `elicitation`, `roots/list` declares `roots`. A member the application wrote itself is kept
/// as written (e.g. `"roots":{"listChanged":true}`).
inline std::string capabilities_for_handlers(std::string_view capabilities, const server_request_handlers& handlers) {
    std::string caps(trim_json_ws(capabilities));
    if (caps.empty()) caps = "{}";
    if (caps.front() != '{' || !is_valid_json(caps)) return caps;  // passed through; the server judges
    for (const auto& entry : handlers) {
        const std::string_view member = capability_for(entry.first);
        if (member.empty() || !entry.second) continue;
        const std::string_view name = member.substr(1, member.find('"', 1) - 1);
        if (find_member(caps, name)) continue;
        const std::size_t close = caps.rfind('}');
        const bool empty = trim_json_ws(std::string_view(caps).substr(1, close - 1)).empty();
        caps.insert(close, empty ? std::string(member) : "," + std::string(member));
    }
    return caps;
}

/// `params` with `_meta.progressToken` set to `token` (when `params` has no `_meta` yet): the
/// token under which the server reports progress for this call. Params with a `_meta` of their
/// own are returned unchanged, and `token_out` is then their own token (raw JSON) if they carry one.
inline std::string with_progress_token(std::string_view params, std::int64_t token, std::string& token_out) {
    const std::string_view p = trim_json_ws(params);
    if (p.empty()) {
        token_out = std::to_string(token);
        return R"({"_meta":{"progressToken":)" + token_out + "}}";
    }
    if (p.front() != '{' || !is_valid_json(p)) {
        token_out.clear();
        return std::string(params);
    }
    if (auto meta = find_member(p, "_meta")) {
        auto own = find_member(*meta, "progressToken");
        token_out = own ? std::string(*own) : std::string();
        return std::string(params);
    }
    token_out = std::to_string(token);
    std::string out = R"({"_meta":{"progressToken":)" + token_out + "}";
    const std::string_view rest = trim_json_ws(p.substr(1));
    if (rest != "}") out += ',';
    out += rest;
    return out;
}

inline std::optional<double> json_number(std::optional<std::string_view> raw) {
    if (!raw || raw->empty()) return std::nullopt;
    const char c = raw->front();
    if (!(c == '-' || (c >= '0' && c <= '9'))) return std::nullopt;
    const std::string text(*raw);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str()) return std::nullopt;
    return v;
}

/// The progress update in `params` of a `notifications/progress` when its token is `token` (raw
/// JSON, compared as written), else nothing.
inline std::optional<progress_update> progress_for(std::string_view params, std::string_view token) {
    if (token.empty()) return std::nullopt;
    auto t = find_member(params, "progressToken");
    if (!t || *t != token) return std::nullopt;
    progress_update u;
    auto p = json_number(find_member(params, "progress"));
    if (!p) return std::nullopt;
    u.progress = *p;
    u.total = json_number(find_member(params, "total"));
    if (auto m = find_member(params, "message")) {
        if (auto s = decode_string(*m)) u.message = std::move(*s);
    }
    return u;
}

/// The `notifications/cancelled` params for request `id`.
inline std::string cancelled_params(std::int64_t id, std::string_view reason) {
    std::string params = R"({"requestId":)" + std::to_string(id) + R"(,"reason":)";
    append_json_string(params, reason);
    params += '}';
    return params;
}

}  // namespace detail

}  // namespace mcp_recovery::beast

#endif
