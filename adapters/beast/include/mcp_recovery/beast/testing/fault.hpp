// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_FAULT_HPP
#define MCP_RECOVERY_BEAST_TESTING_FAULT_HPP

/// What a test scripts on a `flaky_server`: how it answers (`response_mode`), how it answers a lost
/// session (`lost_session_style`, `lost_session_answer`), and the one-shot faults (`fault`,
/// `fault_kind`) with the messages they apply to (`fault_match`). Standard library only.
/// Include `flaky_server.hpp` to get the server with them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mcp_recovery::beast::testing {

/// How the server answers a JSON-RPC request that it executed (or refused with a JSON-RPC error).
enum class response_mode : unsigned char {
    json,  ///< `200 application/json`, the response as the body.
    sse,   ///< `200 text/event-stream`: one `event: message` with an `id:` and the response as
           ///< `data:`, then the stream ends (chunked; the connection stays open).
};

/// How the server answers a request whose `Mcp-Session-Id` it does not know (expired, deleted,
/// forgotten by `restart()`, or never issued). Each reproduces a real server byte for byte.
enum class lost_session_style : unsigned char {
    typescript_404,    ///< 404 application/json `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}` (TypeScript SDK, the spec's rule).
    everything_400,    ///< 400 application/json `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}` (server-everything, TypeScript example router).
    python_404,        ///< 404 application/json `{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}}` (Python SDK >= 1.26, FastMCP).
    go_404_plain,      ///< 404 text/plain `session not found` (Go SDK).
    python_400_plain,  ///< 400 text/plain `Bad Request: No valid session ID provided` (Python SDK <= 1.25).
    in_band_200,       ///< 200 application/json `{"jsonrpc":"2.0","id":<the request's id>,"error":{"code":-32001,"message":"Session not found"}}`
                       ///< (a gateway answering in band; the id is null for a notification, a DELETE or a GET).
                       ///< A request's answer is a JSON-RPC answer: in SSE mode it comes as an event stream.
};

/// A fixed HTTP answer: status, content type and body.
struct http_answer {
    unsigned status;
    std::string_view content_type;
    std::string_view body;
};

/// The exact answer `flaky_server` gives for a lost session in `style` (for `in_band_200`, with
/// `"id":null`: a request gets its own id there).
constexpr http_answer lost_session_answer(lost_session_style style) noexcept {
    switch (style) {
    case lost_session_style::typescript_404:
        return {404, "application/json",
                R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})"};
    case lost_session_style::everything_400:
        return {400, "application/json",
                R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})"};
    case lost_session_style::python_404:
        return {404, "application/json",
                R"({"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}})"};
    case lost_session_style::go_404_plain: return {404, "text/plain", "session not found"};
    case lost_session_style::python_400_plain:
        return {400, "text/plain", "Bad Request: No valid session ID provided"};
    case lost_session_style::in_band_200:
        return {200, "application/json",
                R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}})"};
    }
    return {404, "text/plain", "session not found"};
}

constexpr std::string_view to_string(lost_session_style style) noexcept {
    switch (style) {
    case lost_session_style::typescript_404: return "typescript_404";
    case lost_session_style::everything_400: return "everything_400";
    case lost_session_style::python_404: return "python_404";
    case lost_session_style::go_404_plain: return "go_404_plain";
    case lost_session_style::python_400_plain: return "python_400_plain";
    case lost_session_style::in_band_200: return "in_band_200";
    }
    return "invalid";
}

/// What a one-shot `fault` does to the request it is applied to.
enum class fault_kind : unsigned char {
    http_status,             ///< Answer a fixed HTTP status and body; the request is not executed.
    reset_before_execute,    ///< Close the connection with a TCP RST (SO_LINGER 0) without executing;
                             ///< the session stays alive (a network fault, not a server restart).
    reset_after_execute,     ///< Execute the request, then RST without answering.
    cut_stream_after_event,  ///< Execute, answer as SSE with one `notifications/message` event (with
                             ///< an `id:`), then close the connection before the response. The
                             ///< stream is not kept: resuming it gets 400 (unknown `Last-Event-ID`).
    delay,                   ///< Wait, then process normally; `stop()` and `restart()` interrupt it.
    answer_as,               ///< Process normally, answering in `fault::mode`.
    cut_stream_after_priming,  ///< Execute, answer as SSE with a priming event (an `id:`, `retry:`
                               ///< and empty data) and `notifications_before_cut` notifications,
                               ///< then close the connection before the response. The whole stream
                               ///< (with `notifications_after_cut` more and the response) is kept
                               ///< for resumption: `GET` with `Last-Event-ID` replays it, nothing
                               ///< runs again. See `flaky_server` for the rules.
};

/// One scripted fault; build it with the named factories.
///
/// `mode`, when set, is the response mode of the answer this fault lets through (`delay`,
/// `answer_as`); it has no effect on the others.
struct fault {
    fault_kind kind = fault_kind::answer_as;
    /// `http_status`: the status (200..599; others are sent as 500), body and content type.
    unsigned status = 0;
    std::string body;
    std::string content_type;
    /// `http_status`: a `Retry-After: <seconds>` header.
    std::optional<std::uint32_t> retry_after_seconds;
    /// `http_status`: a `WWW-Authenticate: Bearer ...` header.
    bool www_authenticate = false;
    /// `delay`: how long to wait before processing.
    std::chrono::milliseconds delay_duration{0};
    std::optional<response_mode> mode;

    /// `cut_stream_after_priming`: bounds of the counts below (larger values are cut to them).
    static constexpr std::size_t max_stream_notifications = 64;
    static constexpr std::size_t max_resumed_cuts = 16;
    /// `cut_stream_after_priming`: the `retry:` (milliseconds) of each priming event; none: no
    /// `retry:` line (a client then waits its own default).
    std::optional<std::chrono::milliseconds> retry;
    /// `cut_stream_after_priming`: `notifications/message` events sent after the priming event and
    /// before the cut, and more that come after the cut (only a resumption delivers them).
    std::size_t notifications_before_cut = 0;
    std::size_t notifications_after_cut = 0;
    /// `cut_stream_after_priming`: how many resumptions of the stream are cut again: each replays
    /// the events it owes except the response, then a fresh priming event (a new id), then closes.
    std::size_t resumed_cuts = 0;

    /// Any status and body; `content_type` is sent only with a non-empty body.
    static fault http_status(unsigned code, std::string text = {}, std::string type = "text/plain",
                             std::optional<std::uint32_t> retry_after = std::nullopt, bool authenticate = false) {
        fault f;
        f.kind = fault_kind::http_status;
        f.status = code;
        f.body = std::move(text);
        f.content_type = std::move(type);
        f.retry_after_seconds = retry_after;
        f.www_authenticate = authenticate;
        return f;
    }
    /// 401 with `WWW-Authenticate: Bearer ...` and an OAuth `invalid_token` JSON body.
    static fault unauthorized() {
        return http_status(401, R"({"error":"invalid_token","error_description":"The access token expired"})",
                           "application/json", std::nullopt, true);
    }
    /// 429 with `Retry-After`.
    static fault too_many_requests(std::uint32_t retry_after) {
        return http_status(429, "Too Many Requests", "text/plain", retry_after);
    }
    /// 503, with `Retry-After` when given.
    static fault service_unavailable(std::optional<std::uint32_t> retry_after = std::nullopt) {
        return http_status(503, "Service Unavailable", "text/plain", retry_after);
    }
    /// 500.
    static fault internal_error() { return http_status(500, "Internal Server Error", "text/plain"); }
    static fault reset_before_execute() { return of(fault_kind::reset_before_execute); }
    static fault reset_after_execute() { return of(fault_kind::reset_after_execute); }
    static fault cut_stream_after_event() { return of(fault_kind::cut_stream_after_event); }
    static fault delay(std::chrono::milliseconds how_long) {
        fault f = of(fault_kind::delay);
        f.delay_duration = how_long;
        return f;
    }
    static fault answer_as(response_mode answer_mode) { return of(fault_kind::answer_as).with_mode(answer_mode); }
    /// A resumable cut: `retry_after_ms` is the priming event's `retry:` (nullopt: none).
    static fault cut_stream_after_priming(
        std::optional<std::chrono::milliseconds> retry_after_ms = std::chrono::milliseconds(10)) {
        fault f = of(fault_kind::cut_stream_after_priming);
        f.retry = retry_after_ms;
        return f;
    }

    /// Sets `mode`; returns `*this` for chaining: `fault::delay(50ms).with_mode(response_mode::sse)`.
    fault& with_mode(response_mode answer_mode) & {
        mode = answer_mode;
        return *this;
    }
    fault&& with_mode(response_mode answer_mode) && {
        mode = answer_mode;
        return std::move(*this);
    }
    /// Sets `notifications_before_cut` and `notifications_after_cut`; chains like `with_mode`.
    fault& with_notifications(std::size_t before_cut, std::size_t after_cut = 0) & {
        notifications_before_cut = before_cut;
        notifications_after_cut = after_cut;
        return *this;
    }
    fault&& with_notifications(std::size_t before_cut, std::size_t after_cut = 0) && {
        return std::move(with_notifications(before_cut, after_cut));
    }
    /// Sets `resumed_cuts`; chains like `with_mode`.
    fault& with_resumed_cuts(std::size_t cuts) & {
        resumed_cuts = cuts;
        return *this;
    }
    fault&& with_resumed_cuts(std::size_t cuts) && { return std::move(with_resumed_cuts(cuts)); }

private:
    static fault of(fault_kind k) {
        fault f;
        f.kind = k;
        return f;
    }
};

/// Which POSTed messages a queued fault applies to. `initialize` is never matched unless asked.
struct fault_match {
    enum class scope : unsigned char {
        any_request,  ///< Every JSON-RPC request (a message with an id); not notifications or responses.
        method,       ///< Requests and notifications with the method `name`.
        tool_call,    ///< `tools/call` requests, of the tool `name` when it is not empty.
    };
    scope what = scope::any_request;
    std::string name;
    /// For `any_request`: whether `initialize` matches too.
    bool include_initialize = false;

    static fault_match any_request(bool include_initialize_too = false) {
        fault_match m;
        m.include_initialize = include_initialize_too;
        return m;
    }
    /// Naming `initialize` here is asking for it.
    static fault_match method(std::string method_name) {
        fault_match m;
        m.what = scope::method;
        m.name = std::move(method_name);
        return m;
    }
    static fault_match tool_call(std::string tool_name = {}) {
        fault_match m;
        m.what = scope::tool_call;
        m.name = std::move(tool_name);
        return m;
    }

    /// Whether a message with `message_method` (a request when `is_request`, else a notification)
    /// calling `tool` (for `tools/call`) matches.
    bool matches(std::string_view message_method, bool is_request, std::string_view tool) const noexcept {
        switch (what) {
        case scope::any_request: return is_request && (include_initialize || message_method != "initialize");
        case scope::method: return message_method == name;
        case scope::tool_call: return is_request && message_method == "tools/call" && (name.empty() || tool == name);
        }
        return false;
    }
};

}  // namespace mcp_recovery::beast::testing

#endif
