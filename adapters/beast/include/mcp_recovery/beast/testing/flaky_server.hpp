// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_FLAKY_SERVER_HPP
#define MCP_RECOVERY_BEAST_TESTING_FLAKY_SERVER_HPP

/// `flaky_server`: an in-process MCP server (Streamable HTTP, loopback, ephemeral port) whose
/// failures are scripted: it forgets sessions, restarts, answers 401/429/503, resets connections
/// before or after running a tool, cuts event streams and stalls, on demand and thread-safely.
/// It also serves stream resumption (SEP-1699): a stream cut by `cut_stream_after_priming` is
/// remembered and replayed on `GET` with `Last-Event-ID`.
/// For tests of MCP clients, of this library and of users' own code.

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

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

/// Construction parameters of a `flaky_server`; every bound has a safe default.
struct flaky_server_options {
    /// How executed requests are answered; `set_response_mode` changes it later.
    response_mode mode = response_mode::json;
    /// How a lost session is answered; `set_lost_session_style` changes it later.
    lost_session_style lost_session = lost_session_style::typescript_404;
    /// Port on 127.0.0.1; 0 picks a free one. A fixed port lets a test start a new server where an
    /// old one stopped (SO_REUSEADDR is set).
    std::uint16_t port = 0;
    /// Longest wait for a whole request (headers and body) and for a write; an idle keep-alive
    /// connection is closed after it.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
    /// Largest request header block; beyond it: 431 and close.
    std::size_t max_header_size = 16 * 1024;
    /// Largest request body; beyond it: 413 and close.
    std::size_t max_body_size = 1024 * 1024;
    /// Connections served at once; more are accepted and closed at once.
    std::size_t max_connections = 256;
    /// Sessions alive at once; an `initialize` beyond it gets 503.
    std::size_t max_sessions = 4096;
    /// Distinct `count` keys; a new key beyond it gets a JSON-RPC error.
    std::size_t max_counter_keys = 4096;
    /// Serve protocol revision 2026-07-28, which has no sessions and no `initialize`: requests
    /// are served without a session id (one sent is ignored), `initialize` is an unknown method,
    /// and an `MCP-Protocol-Version` header, when present, must say 2026-07-28.
    bool sessionless = false;
    /// Serve stream resumption (`GET` with `Last-Event-ID`); false answers every GET 405, as a
    /// server without resumption does. `set_resumption` changes it later. Never in `sessionless`.
    bool resumption = true;
    /// Streams cut by `cut_stream_after_priming` remembered per session for resumption; beyond
    /// it the oldest is forgotten (its ids become unknown). Each holds at most
    /// 2 + 2 * fault::max_stream_notifications + fault::max_resumed_cuts events.
    std::size_t max_resumable_streams = 16;
    /// Keep no connection alive: every answer carries `Connection: close` and the server closes
    /// the connection after it, as a server (or proxy) without keep-alive does.
    /// `set_close_after_response` changes it later.
    bool close_after_response = false;
    /// Serve the standalone listening stream: `GET` with a live session and no `Last-Event-ID`
    /// opens it (see `flaky_server`). False (the default, for the tests written before it):
    /// such a GET gets 405, as a server without it answers. `set_listening_stream` changes it later.
    bool listening_stream = false;
    /// Listening-stream events (priming events included) kept per session for replay to a `GET`
    /// with `Last-Event-ID`; beyond it the oldest is forgotten (its id becomes unknown).
    std::size_t listening_events_kept = 256;
    /// The `retry:` (milliseconds) of the listening stream's priming event; none: no `retry:` line.
    std::optional<std::chrono::milliseconds> listening_retry = std::chrono::milliseconds(10);
    /// How long the `ask` tool waits for the client's answer to its server request; then the call
    /// is answered with the JSON-RPC error -32000 `no answer from the client`.
    std::chrono::milliseconds ask_timeout = std::chrono::seconds(10);
    /// Advertise `"resources":{"subscribe":true}` and `"logging":{}` in the `initialize` result
    /// besides `"tools":{}`. False (the default) keeps the result `{"tools":{}}`; the methods
    /// (`resources/subscribe`, `resources/unsubscribe`, `logging/setLevel`) are served either way.
    bool advertise_subscriptions_and_logging = false;
};

/// One JSON-RPC response that a client POSTed to a server request of `flaky_server` (from the
/// `ask` tool or `flaky_server::request_on_listen`).
struct client_answer {
    /// The session it came with.
    std::string session_id;
    /// The server request's id as raw JSON (an integer: "0", "1", ...).
    std::string id;
    /// The server request's method.
    std::string method;
    /// The whole POSTed message, raw JSON (cut to `flaky_server::max_recorded_message_size`).
    std::string message;
};

/// One `notifications/cancelled` a client POSTed.
struct cancellation {
    /// The session it came with.
    std::string session_id;
    /// `params.requestId` as raw JSON (a string with its quotes, or a number's text); empty when absent.
    std::string request_id;
    /// `params.reason`, decoded; empty when absent or not a string.
    std::string reason;
    /// Whether the server was still working on that request when the notification came: an `ask`
    /// waiting for its answer or a `progress` call still running, of the same session. Such a
    /// call stops: its event stream ends without a response (a JSON-mode `progress` wait does not
    /// stop and still answers).
    bool in_flight = false;
};

namespace detail {

namespace net = ::boost::asio;
namespace http = ::boost::beast::http;
using tcp = net::ip::tcp;
using error_code = ::boost::system::error_code;

inline constexpr std::string_view flaky_protocol_versions[] = {"2024-11-05", "2025-03-26", "2025-06-18",
                                                                "2025-11-25"};
inline constexpr std::string_view flaky_default_protocol_version = "2025-06-18";

inline bool flaky_supports_version(std::string_view v) noexcept {
    for (const std::string_view s : flaky_protocol_versions) {
        if (s == v) return true;
    }
    return false;
}

inline constexpr std::string_view flaky_tools_json =
    R"({"tools":[)"
    R"({"name":"echo","description":"Returns its text argument.",)"
    R"("inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]},)"
    R"("annotations":{"readOnlyHint":true,"idempotentHint":true}},)"
    R"({"name":"count","description":"Increments the counter named key and returns its new value.",)"
    R"("inputSchema":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]},)"
    R"("annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false}},)"
    R"({"name":"executions","description":"Returns how many times count ran for key.",)"
    R"("inputSchema":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]},)"
    R"("annotations":{"readOnlyHint":true}},)"
    R"({"name":"ask","description":"Sends the client a server request (default elicitation/create) on the call's )"
    R"(event stream, waits for its answer and returns it as text.",)"
    R"("inputSchema":{"type":"object","properties":{"method":{"type":"string"},"params":{"type":"object"}}},)"
    R"("annotations":{"readOnlyHint":true}},)"
    R"({"name":"progress","description":"Runs steps steps interval_ms apart, reporting progress when asked to.",)"
    R"("inputSchema":{"type":"object","properties":{"steps":{"type":"integer"},"interval_ms":{"type":"integer"}}},)"
    R"("annotations":{"readOnlyHint":true,"idempotentHint":true}})"
    R"(]})";

inline constexpr std::string_view flaky_default_ask_method = "elicitation/create";
inline constexpr std::string_view flaky_default_ask_params =
    R"({"message":"flaky_server asks for an answer",)"
    R"("requestedSchema":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}})";

// RFC 5424 severities, least severe first, as MCP names them.
inline constexpr std::string_view flaky_log_levels[] = {"debug", "info",     "notice", "warning",
                                                        "error", "critical", "alert",  "emergency"};

inline std::optional<std::size_t> log_level_rank(std::string_view level) noexcept {
    for (std::size_t i = 0; i < std::size(flaky_log_levels); ++i) {
        if (flaky_log_levels[i] == level) return i;
    }
    return std::nullopt;
}

// Bounds of the conversation features (per session unless said otherwise).
inline constexpr std::size_t flaky_max_subscriptions = 1024;
inline constexpr std::size_t flaky_max_pending_server_requests = 64;
inline constexpr std::size_t flaky_max_calls_in_flight = 64;
inline constexpr std::size_t flaky_max_records = 1024;            // client answers, cancellations (server-wide)
inline constexpr std::size_t flaky_max_recorded_message = 64 * 1024;
inline constexpr std::size_t flaky_max_stream_backlog = 4 * 1024 * 1024;  // bytes queued on one stream
inline constexpr std::size_t flaky_max_progress_steps = 100;
inline constexpr std::int64_t flaky_max_progress_interval_ms = 5000;

inline constexpr std::string_view flaky_cut_event_json =
    R"({"jsonrpc":"2.0","method":"notifications/message",)"
    R"("params":{"level":"info","logger":"flaky_server","data":"the stream is about to be cut"}})";

inline std::string_view to_std(::boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

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

inline void append_status_line(std::string& out, unsigned status) {
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    const auto reason = http::obsolete_reason(http::int_to_status(status));
    out.append(reason.data(), reason.size());
    out += "\r\n";
}

inline void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    for (const char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;  // no header injection
    out += "\r\n";
}

inline void append_chunk(std::string& out, std::string_view data) {
    static constexpr char hex[] = "0123456789abcdef";
    char size[2 * sizeof(std::size_t)];
    std::size_t n = 0;
    std::size_t v = data.size();
    do {
        size[n++] = hex[v & 0xF];
        v >>= 4;
    } while (v != 0);
    while (n != 0) out += size[--n];
    out += "\r\n";
    out += data;
    out += "\r\n";
}

inline void append_sse_event(std::string& out, std::string_view event_id, std::string_view json) {
    out += "event: message\nid: ";
    out += event_id;
    out += '\n';
    // One data line per line of the payload, so that a newline cannot end the event early.
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = json.find('\n', start);
        out += "data: ";
        out += json.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        out += '\n';
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    out += '\n';
}

inline void append_sse_event(std::string& out, std::uint64_t event_id, std::string_view json) {
    append_sse_event(out, std::to_string(event_id), json);
}

// A priming event: an id and empty data (no event type), so that a client can resume from it.
inline void append_priming_event(std::string& out, std::string_view event_id,
                                 std::optional<std::chrono::milliseconds> retry) {
    out += "id: ";
    out += event_id;
    out += '\n';
    if (retry) {
        out += "retry: ";
        out += std::to_string(std::max<std::chrono::milliseconds::rep>(0, retry->count()));
        out += '\n';
    }
    out += "data:\n\n";
}

// One event of a resumable stream: the priming event has no data.
struct stored_event {
    std::uint64_t id = 0;
    std::string data;
};

// A stream cut by `cut_stream_after_priming`, kept for resumption: the priming event,
// notifications, the response last.
struct stored_stream {
    std::vector<stored_event> events;
    std::optional<std::chrono::milliseconds> retry;
    std::size_t cuts_left = 0;  // resumptions still to cut
};

inline void append_stored_event(std::string& out, const stored_stream& stream, const stored_event& event) {
    if (!event.data.empty()) return append_sse_event(out, event.id, event.data);
    append_priming_event(out, std::to_string(event.id), stream.retry);
}

inline std::string stream_notification(std::size_t n, std::size_t total) {
    std::string s = R"({"jsonrpc":"2.0","method":"notifications/message",)"
                    R"("params":{"level":"info","logger":"flaky_server","data":"stream event )";
    s += std::to_string(n);
    s += " of ";
    s += std::to_string(total);
    s += R"("}})";
    return s;
}

// A `Last-Event-ID` as this server issues them: 1 to 19 ASCII digits.
inline std::optional<std::uint64_t> parse_event_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// A listening-stream event id: `L<session number>-<sequence>`, both 1 to 19 digits.
struct listen_event_id {
    std::uint64_t session_number = 0;
    std::uint64_t sequence = 0;
};

inline std::optional<listen_event_id> parse_listen_event_id(std::string_view text) noexcept {
    if (text.size() < 4 || text.front() != 'L') return std::nullopt;
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto number = parse_event_id(text.substr(1, dash - 1));
    const auto sequence = parse_event_id(text.substr(dash + 1));
    if (!number || !sequence) return std::nullopt;
    return listen_event_id{*number, *sequence};
}

inline std::string listen_event_name(std::uint64_t session_number, std::uint64_t sequence) {
    return "L" + std::to_string(session_number) + "-" + std::to_string(sequence);
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

/// What a GET gets: an HTTP answer, or a resumed stream (its events, and whether to cut it).
struct resumption_answer {
    std::optional<reply> refusal;
    std::string events;
    bool cut = false;
};

inline void append_sse_head(std::string& out, bool http11, bool keep_alive, std::string_view session_id = {}) {
    append_status_line(out, 200);
    if (!session_id.empty()) append_field(out, "Mcp-Session-Id", session_id);
    append_field(out, "Content-Type", "text/event-stream");
    append_field(out, "Cache-Control", "no-cache");
    if (http11) {
        append_field(out, "Transfer-Encoding", "chunked");
        if (!keep_alive) append_field(out, "Connection", "close");
    } else {
        append_field(out, "Connection", "close");
    }
    out += "\r\n";
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

class connection;

/// State shared by the I/O thread and the public API: sessions, faults, counters.
///
/// `mutex` guards the containers and settings; counters are atomics; `connections` is touched by
/// the I/O thread only (and by `stop()` after that thread has been joined).
class server_core {
public:
    explicit server_core(const flaky_server_options& opts)
        : options(opts),
          mode_(opts.mode),
          style_(opts.lost_session),
          resumption_(opts.resumption),
          listening_(opts.listening_stream),
          random_(seed()) {
        close_after_response = opts.close_after_response;
    }

    const flaky_server_options options;

    mutable std::mutex mutex;
    // Written under `mutex` by the I/O thread and by stop(); read by the API waiting for a task.
    std::uint64_t io_tasks_done = 0;
    bool stopped = false;

    std::atomic<std::uint64_t> initializes{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> deletes{0};
    std::atomic<std::uint64_t> lost_session_answers{0};
    std::atomic<std::uint64_t> faults_applied{0};
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::size_t> open_connections{0};
    std::atomic<std::size_t> sessions_alive{0};
    std::atomic<std::uint64_t> next_event_id{1};
    std::atomic<std::uint64_t> resumption_requests{0};
    std::atomic<std::uint64_t> resumptions{0};
    std::atomic<std::uint64_t> outages{0};
    std::atomic<bool> close_after_response{false};
    std::atomic<std::size_t> listening_open{0};  // listening streams open now (kept by `connection`)
    std::atomic<std::uint64_t> listening_opened{0};
    std::atomic<std::uint64_t> listening_resumes{0};
    std::atomic<std::uint64_t> set_level_calls{0};
    std::atomic<std::uint64_t> unexpected_answers{0};

    std::vector<std::weak_ptr<connection>> connections;  // I/O thread only

    response_mode mode() const {
        std::lock_guard<std::mutex> lock(mutex);
        return mode_;
    }
    void set_mode(response_mode m) {
        std::lock_guard<std::mutex> lock(mutex);
        mode_ = m;
    }
    void set_style(lost_session_style s) {
        std::lock_guard<std::mutex> lock(mutex);
        style_ = s;
    }
    void set_resumption(bool on) {
        std::lock_guard<std::mutex> lock(mutex);
        resumption_ = on;
    }
    void set_listening(bool on) {
        std::lock_guard<std::mutex> lock(mutex);
        listening_ = on;
    }

    bool expire(std::string_view id) {
        std::vector<std::weak_ptr<connection>> doomed;
        {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(id));
            if (it == sessions_.end()) return false;
            collect_streams_locked(it->second, doomed);
            sessions_.erase(it);
            sessions_alive = sessions_.size();
        }
        close_later(doomed);
        return true;
    }
    std::size_t expire_all() {
        std::vector<std::weak_ptr<connection>> doomed;
        std::size_t n = 0;
        {
            std::lock_guard<std::mutex> lock(mutex);
            n = sessions_.size();
            for (auto& s : sessions_) collect_streams_locked(s.second, doomed);
            sessions_.clear();
            sessions_alive = 0;
        }
        close_later(doomed);
        return n;
    }
    std::vector<std::string> session_ids() const {
        std::lock_guard<std::mutex> lock(mutex);
        std::vector<std::string> ids;
        ids.reserve(sessions_.size());
        for (const auto& s : sessions_) ids.push_back(s.first);
        return ids;
    }
    std::uint64_t executions(std::string_view key) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = counters_.find(std::string(key));
        return it == counters_.end() ? 0 : it->second;
    }
    std::uint64_t seen(std::string_view method) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = seen_.find(std::string(method));
        return it == seen_.end() ? 0 : it->second;
    }
    std::uint64_t tool_runs(std::string_view tool) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = tool_runs_.find(std::string(tool));
        return it == tool_runs_.end() ? 0 : it->second;
    }
    /// Counts a received request or notification by method (bounded by `max_counter_keys`).
    void note_seen(const message_info& m) {
        if (!m.is_request && !m.is_notification) return;
        std::lock_guard<std::mutex> lock(mutex);
        bump_locked(seen_, m.method);
    }
    std::vector<std::string> subscriptions() const {
        std::vector<std::string> all;
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (const auto& s : sessions_) all.insert(all.end(), s.second.subscriptions.begin(), s.second.subscriptions.end());
        }
        std::sort(all.begin(), all.end());
        all.erase(std::unique(all.begin(), all.end()), all.end());
        return all;
    }
    std::vector<std::string> subscriptions(std::string_view session_id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return {};
        return it->second.subscriptions;
    }
    std::optional<std::string> log_level(std::string_view session_id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return std::nullopt;
        return it->second.log_level;
    }
    std::vector<client_answer> client_answers() const {
        std::lock_guard<std::mutex> lock(mutex);
        return {answers_.begin(), answers_.end()};
    }
    std::vector<cancellation> cancellations() const {
        std::lock_guard<std::mutex> lock(mutex);
        return {cancellations_.begin(), cancellations_.end()};
    }

    void inject(fault f, fault_match m, std::size_t times) {
        if (times == 0) return;
        std::lock_guard<std::mutex> lock(mutex);
        faults_.push_back(queued_fault{std::move(f), std::move(m), times});
    }
    std::size_t pending_faults() const {
        std::lock_guard<std::mutex> lock(mutex);
        std::size_t n = 0;
        for (const auto& q : faults_) n += q.remaining;
        return n;
    }
    void clear_faults() {
        std::lock_guard<std::mutex> lock(mutex);
        faults_.clear();
    }

    /// Consumes one application of the first queued fault matching `m`, if any.
    std::optional<fault> take_fault(const message_info& m) {
        if (!m.is_request && !m.is_notification) return std::nullopt;
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = faults_.begin(); it != faults_.end(); ++it) {
            if (!it->match.matches(m.method, m.is_request, m.tool)) continue;
            std::optional<fault> f = it->what;
            if (--it->remaining == 0) faults_.erase(it);
            ++faults_applied;
            return f;
        }
        return std::nullopt;
    }

    /// Parses a POST body; on failure returns nullopt and sets `error` to the answer.
    std::optional<message_info> classify(std::string_view body, reply& error) const {
        builtin_json json;
        envelope env;
        std::error_code ec;
        if (!json.parse(body, env, ec)) {
            switch (static_cast<json_error>(ec.value())) {
            case json_error::syntax_error:
            case json_error::unexpected_end:
            case json_error::invalid_number:
            case json_error::invalid_escape:
            case json_error::invalid_utf8:
            case json_error::control_character:
            case json_error::document_too_large: error = transport_error(400, -32700, "Parse error"); break;
            case json_error::batch_not_supported:
                error = transport_error(400, -32600, "Invalid Request: batches are not supported");
                break;
            default: error = transport_error(400, -32600, "Invalid Request"); break;
            }
            return std::nullopt;
        }
        message_info m;
        const bool has_id = env.id_kind != json_id_kind::absent;
        const bool valid_version = env.jsonrpc && *env.jsonrpc == "2.0";
        if (valid_version && env.method && !env.has_result && !env.has_error && env.id_kind != json_id_kind::null) {
            m.method = std::move(*env.method);
            m.is_request = has_id;
            m.is_notification = !has_id;
            m.id_raw = std::move(env.id_raw);
            if (m.is_request && m.method == "tools/call") {
                if (const auto params = find_member(body, "params")) {
                    if (const auto name = find_member(*params, "name")) {
                        if (auto decoded = decode_string(*name)) m.tool = std::move(*decoded);
                    }
                }
            }
            return m;
        }
        if (valid_version && !env.method && (env.has_result || env.has_error) && has_id) {
            m.is_response = true;  // a response to a server request
            m.id_raw = std::move(env.id_raw);
            return m;
        }
        error = transport_error(400, -32600, "Invalid Request");
        return std::nullopt;
    }

    /// The lost-session answer; `id_raw` is the JSON-RPC id of the request it answers (empty for
    /// a notification, a DELETE or a GET).
    reply lost_session(std::string_view id_raw = {}) {
        ++lost_session_answers;
        lost_session_style style;
        {
            std::lock_guard<std::mutex> lock(mutex);
            style = style_;
        }
        if (style == lost_session_style::in_band_200) {
            if (!id_raw.empty()) return rpc_error(id_raw, -32001, "Session not found");
            reply r = rpc_error("null", -32001, "Session not found");
            r.jsonrpc_answer = false;  // no request to answer: plain JSON in every response mode
            return r;
        }
        const http_answer a = lost_session_answer(style);
        reply r;
        r.status = a.status;
        r.content_type = std::string(a.content_type);
        r.body = std::string(a.body);
        return r;
    }

    static reply missing_session_id() {
        return transport_error(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }

    /// Answers a POSTed message; runs the tool when it is a `tools/call`.
    reply handle_post(const message_info& m, std::string_view body, std::optional<std::string_view> session_id,
                      std::optional<std::string_view> protocol_version) {
        if (options.sessionless) {
            if (protocol_version && *protocol_version != "2026-07-28")
                return transport_error(400, -32000,
                                       "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
            if (m.is_request && m.method == "initialize") return rpc_error(m.id_raw, -32601, "Method not found");
        } else {
            if (m.is_request && m.method == "initialize") return initialize(m, body, session_id);
            if (!session_id) return missing_session_id();
            if (!known(*session_id)) return lost_session(m.is_request ? std::string_view(m.id_raw) : std::string_view{});
        }
        if (!options.sessionless && protocol_version && !flaky_supports_version(*protocol_version)) {
            return transport_error(400, -32000,
                                   "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
        }
        if (!m.is_request) {
            const std::string session = session_id ? std::string(*session_id) : std::string();
            if (m.is_response) on_client_answer(session, m.id_raw, body);
            if (m.is_notification && m.method == "notifications/cancelled") on_cancelled(session, body);
            reply r;
            r.status = 202;
            return r;
        }
        if (m.method == "ping") return rpc_result(m.id_raw, "{}");
        if (m.method == "tools/list") return rpc_result(m.id_raw, flaky_tools_json);
        if (m.method == "tools/call") return call_tool(m, body);
        if (m.method == "resources/subscribe" || m.method == "resources/unsubscribe") {
            return subscribe(m, body, session_id.value_or(std::string_view{}));
        }
        if (m.method == "logging/setLevel") return set_level(m, body, session_id.value_or(std::string_view{}));
        return rpc_error(m.id_raw, -32601, "Method not found");
    }

    /// `cut_stream_after_priming`: builds the stream answering `r` and returns the SSE text to send
    /// before the cut. The stream is kept for resumption when `r` answers a request of a live
    /// session (otherwise, as for the other faults, the answer is simply lost).
    std::string cut_stream(const fault& f, const reply& r, std::optional<std::string_view> session_id) {
        stored_stream stream;
        stream.retry = f.retry;
        stream.cuts_left = std::min(f.resumed_cuts, fault::max_resumed_cuts);
        const std::size_t before = std::min(f.notifications_before_cut, fault::max_stream_notifications);
        const std::size_t total = before + std::min(f.notifications_after_cut, fault::max_stream_notifications);
        stream.events.reserve(total + 2);
        stream.events.push_back(stored_event{next_event_id++, {}});
        for (std::size_t i = 1; i <= total; ++i) stream.events.push_back(stored_event{next_event_id++, stream_notification(i, total)});
        stream.events.push_back(stored_event{next_event_id++, r.body});
        std::string out;
        for (std::size_t i = 0; i <= before; ++i) append_stored_event(out, stream, stream.events[i]);
        if (r.jsonrpc_answer && session_id && !options.sessionless && options.max_resumable_streams > 0) {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(*session_id));
            if (it != sessions_.end()) {
                auto& streams = it->second.streams;
                while (streams.size() >= options.max_resumable_streams) streams.pop_front();
                streams.push_back(std::move(stream));
            }
        }
        return out;
    }

    /// Answers a GET: a resumption when it carries `Last-Event-ID` and resumption is on, else 405.
    resumption_answer handle_get(std::optional<std::string_view> session_id,
                                 std::optional<std::string_view> protocol_version,
                                 std::optional<std::string_view> last_event_id) {
        resumption_answer a;
        if (!last_event_id) {
            a.refusal = method_not_allowed(false);
            return a;
        }
        ++resumption_requests;
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (!resumption_ || options.sessionless) {
                a.refusal = method_not_allowed(false);
                return a;
            }
        }
        if (!session_id) {
            a.refusal = missing_session_id();
            return a;
        }
        if (!known(*session_id)) {
            a.refusal = lost_session();
            return a;
        }
        if (protocol_version && !flaky_supports_version(*protocol_version)) {
            a.refusal = transport_error(400, -32000,
                                        "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
            return a;
        }
        if (const auto wanted = parse_event_id(*last_event_id)) {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(*session_id));
            if (it != sessions_.end()) {  // else ended meanwhile: its streams went with it
                for (stored_stream& stream : it->second.streams) {
                    auto& events = stream.events;
                    const auto at = std::find_if(events.begin(), events.end(),
                                                 [&](const stored_event& e) { return e.id == *wanted; });
                    if (at == events.end()) continue;
                    const auto from = static_cast<std::size_t>(at - events.begin()) + 1;
                    std::size_t to = events.size();
                    a.cut = stream.cuts_left > 0 && from < to;
                    if (a.cut) --to;  // the response stays behind
                    for (std::size_t i = from; i < to; ++i) append_stored_event(a.events, stream, events[i]);
                    if (a.cut) {
                        // A fresh priming event just before the response: resuming from it
                        // brings the response.
                        --stream.cuts_left;
                        const stored_event fresh{next_event_id++, {}};
                        append_stored_event(a.events, stream, fresh);
                        events.insert(events.begin() + static_cast<std::ptrdiff_t>(to), fresh);
                    }
                    ++resumptions;
                    return a;
                }
            }
        }
        // Not 404: on the MCP endpoint that means "session not found", and the session is fine.
        a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
        return a;
    }

    reply handle_delete(std::optional<std::string_view> session_id) {
        if (!session_id) return missing_session_id();
        if (expire(*session_id)) {
            ++deletes;
            return reply{};
        }
        return lost_session();
    }

    /// What a GET for the listening stream gets: a refusal, or the stream's first events (its
    /// priming event, or the replay after `Last-Event-ID`) and the stream it replaces, if any.
    struct listen_answer {
        std::optional<reply> refusal;
        std::string events;
        std::string session_id;
        std::shared_ptr<connection> replaced;
    };

    // I/O thread. The listening-stream machinery, defined after `connection`.
    listen_answer open_listening(std::optional<std::string_view> session_id,
                                 std::optional<std::string_view> protocol_version,
                                 std::optional<std::string_view> last_event_id,
                                 const std::shared_ptr<connection>& self);
    std::size_t notify(std::string_view only_session, std::string_view method, std::string_view params_json);
    std::size_t resource_updated(std::string_view uri);
    std::size_t log(std::string_view level, std::string_view data);
    std::optional<std::string> request_on_listen(std::string_view only_session, std::string_view method,
                                                 std::string_view params_json);
    std::size_t drop_listening();
    /// `ask`: registers its server request (and the call as in flight); returns the request's
    /// JSON, or nullopt when the session is gone.
    std::optional<std::string> begin_ask(const std::string& session_id, const std::string& call_id, const reply& call,
                                         const std::shared_ptr<connection>& self);
    /// `progress` with a token: registers the call as in flight.
    void begin_call(const std::string& session_id, const std::string& call_id, const std::shared_ptr<connection>& self);
    /// The call `call_id` of the session is no longer in flight.
    void end_call(const std::string& session_id, const std::string& call_id);

private:
    struct pending_server_request {
        std::string id;  // raw JSON
        std::string method;
        std::weak_ptr<connection> waiter;  // the `ask` call waiting for the answer; none for request_on_listen
    };
    struct listen_event {
        std::uint64_t sequence = 0;
        std::string data;  // empty: a priming event
    };
    struct call_in_flight {
        std::string id;  // the tools/call's id, raw
        std::weak_ptr<connection> stream;
    };
    struct session_state {
        std::string protocol_version;
        std::uint64_t number = 0;  // names the listening-stream event ids
        std::deque<stored_stream> streams;  // at most options.max_resumable_streams, oldest first
        std::vector<std::string> subscriptions;  // sorted, unique, at most flaky_max_subscriptions
        std::optional<std::string> log_level;
        std::weak_ptr<connection> listener;  // the listening stream (I/O thread)
        std::deque<listen_event> listen_events;  // at most options.listening_events_kept, oldest first
        std::uint64_t next_listen_sequence = 1;
        std::uint64_t next_request_id = 0;  // server requests: 0, 1, ...
        std::deque<pending_server_request> pending;  // at most flaky_max_pending_server_requests
        std::deque<call_in_flight> in_flight;  // at most flaky_max_calls_in_flight
    };

    struct queued_fault {
        fault what;
        fault_match match;
        std::size_t remaining;
    };

    static std::uint64_t seed() {
        std::random_device rd;
        const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ now;
    }

    bool known(std::string_view id) const {
        std::lock_guard<std::mutex> lock(mutex);
        return sessions_.find(std::string(id)) != sessions_.end();
    }

    reply initialize(const message_info& m, std::string_view body, std::optional<std::string_view> session_id) {
        if (session_id) {
            // As real servers do: a known session cannot initialize twice; an unknown one is lost.
            if (known(*session_id)) return transport_error(400, -32600, "Invalid Request: Server already initialized");
            return lost_session(m.id_raw);
        }
        std::string version(flaky_default_protocol_version);
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "protocolVersion")) {
                if (auto requested = decode_string(*raw); requested && flaky_supports_version(*requested)) {
                    version = std::move(*requested);
                }
            }
        }
        std::string id;
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (sessions_.size() >= options.max_sessions) {
                return transport_error(503, -32000, "Service Unavailable: too many sessions");
            }
            do {
                id = new_session_id();
            } while (sessions_.find(id) != sessions_.end());
            session_state state;
            state.protocol_version = version;
            state.number = ++sessions_numbered_;
            sessions_.emplace(id, std::move(state));
            sessions_alive = sessions_.size();
        }
        ++initializes;
        std::string result = R"({"protocolVersion":)";
        append_json_string(result, version);
        result += options.advertise_subscriptions_and_logging
                      ? R"(,"capabilities":{"tools":{},"resources":{"subscribe":true},"logging":{}})"
                      : R"(,"capabilities":{"tools":{}})";
        result += R"(,"serverInfo":{"name":"flaky_server","version":"1"}})";
        reply r = rpc_result(m.id_raw, result);
        r.session_id = std::move(id);
        return r;
    }

    // Called with `mutex` held.
    std::string new_session_id() {
        static constexpr char hex[] = "0123456789abcdef";
        std::string id(32, '0');
        for (std::size_t half = 0; half < 2; ++half) {
            std::uint64_t bits = random_();
            for (std::size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = hex[bits & 0xF];
        }
        return id;
    }

    static std::optional<std::string> string_argument(std::string_view body, std::string_view name) {
        const auto params = find_member(body, "params");
        if (!params) return std::nullopt;
        const auto arguments = find_member(*params, "arguments");
        if (!arguments) return std::nullopt;
        const auto raw = find_member(*arguments, name);
        if (!raw) return std::nullopt;
        return decode_string(*raw);
    }

    static std::optional<std::string_view> raw_argument(std::string_view body, std::string_view name) {
        const auto params = find_member(body, "params");
        if (!params) return std::nullopt;
        const auto arguments = find_member(*params, "arguments");
        if (!arguments) return std::nullopt;
        return find_member(*arguments, name);
    }

    // With `mutex` held: counts one more `key` in `map`, unless that would make it hold more than
    // `max_counter_keys` keys.
    void bump_locked(std::unordered_map<std::string, std::uint64_t>& map, const std::string& key) {
        auto it = map.find(key);
        if (it == map.end()) {
            if (map.size() >= options.max_counter_keys) return;
            it = map.emplace(key, 0).first;
        }
        ++it->second;
    }

    void count_tool_run(const std::string& tool) {
        std::lock_guard<std::mutex> lock(mutex);
        bump_locked(tool_runs_, tool);
    }

    // With `mutex` held: the connections of the session's streams (listening, `ask`, `progress`),
    // to close when the session ends.
    static void collect_streams_locked(session_state& s, std::vector<std::weak_ptr<connection>>& out) {
        out.push_back(std::move(s.listener));
        for (auto& p : s.pending) out.push_back(std::move(p.waiter));
        for (auto& c : s.in_flight) out.push_back(std::move(c.stream));
    }

    // Closes those connections on the I/O thread (posted: callable from any thread).
    static void close_later(std::vector<std::weak_ptr<connection>>& doomed);

    // With `mutex` held: stores a listening-stream event (`json`, or a priming event when empty)
    // of the session and returns it as SSE text.
    std::string store_listen_event_locked(session_state& s, std::string_view json) {
        const std::uint64_t sequence = s.next_listen_sequence++;
        if (options.listening_events_kept > 0) {
            while (s.listen_events.size() >= options.listening_events_kept) s.listen_events.pop_front();
            s.listen_events.push_back(listen_event{sequence, std::string(json)});
        }
        std::string text;
        const std::string name = listen_event_name(s.number, sequence);
        if (json.empty()) append_priming_event(text, name, options.listening_retry);
        else append_sse_event(text, name, json);
        return text;
    }

    // With `mutex` held: a new server request of the session, registered as pending.
    std::string new_server_request_locked(session_state& s, std::string_view method, std::string_view params_json,
                                          std::weak_ptr<connection> waiter) {
        std::string id = std::to_string(s.next_request_id++);
        while (s.pending.size() >= flaky_max_pending_server_requests) s.pending.pop_front();
        s.pending.push_back(pending_server_request{id, std::string(method), std::move(waiter)});
        return jsonrpc_request(id, method, params_json);
    }

    // Sends `make(session)` (when not empty) to the listening stream of every session (or of
    // `only_session` when not empty), storing it for replay; returns how many open streams got it.
    std::size_t deliver(std::string_view only_session, const std::function<std::string(const session_state&)>& make);

    // Records a response POSTed by the client and hands it to the `ask` call waiting for it.
    void on_client_answer(const std::string& session_id, const std::string& id_raw, std::string_view body);
    // Records a `notifications/cancelled` and stops the call it names, if in flight.
    void on_cancelled(const std::string& session_id, std::string_view body);

    template <class Record>
    static void record_locked(std::deque<Record>& records, Record r) {
        while (records.size() >= flaky_max_records) records.pop_front();
        records.push_back(std::move(r));
    }

    reply subscribe(const message_info& m, std::string_view body, std::string_view session_id) {
        const bool on = m.method == "resources/subscribe";
        std::optional<std::string> uri;
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "uri")) uri = decode_string(*raw);
        }
        if (!uri) return rpc_error(m.id_raw, -32602, "Invalid params: " + m.method + " needs a string \"uri\"");
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return rpc_result(m.id_raw, "{}");  // sessionless: nothing to keep
        auto& list = it->second.subscriptions;
        const auto at = std::lower_bound(list.begin(), list.end(), *uri);
        const bool present = at != list.end() && *at == *uri;
        if (on && !present) {
            if (list.size() >= flaky_max_subscriptions) {
                return rpc_error(m.id_raw, -32602, "Invalid params: too many subscriptions");
            }
            list.insert(at, std::move(*uri));
        } else if (!on && present) {
            list.erase(at);
        }
        return rpc_result(m.id_raw, "{}");
    }

    reply set_level(const message_info& m, std::string_view body, std::string_view session_id) {
        std::optional<std::string> level;
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "level")) level = decode_string(*raw);
        }
        if (!level || !log_level_rank(*level)) {
            return rpc_error(m.id_raw, -32602, "Invalid params: logging/setLevel needs a \"level\" of RFC 5424");
        }
        ++set_level_calls;
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it != sessions_.end()) it->second.log_level = std::move(level);
        return rpc_result(m.id_raw, "{}");
    }

    reply call_tool(const message_info& m, std::string_view body) {
        if (m.tool == "echo") {
            const auto text = string_argument(body, "text");
            if (!text) return rpc_error(m.id_raw, -32602, "Invalid params: echo needs a string argument \"text\"");
            count_tool_run(m.tool);
            return text_result(m.id_raw, *text);
        }
        if (m.tool == "ask") {
            if (options.sessionless) return rpc_error(m.id_raw, -32602, "Invalid params: ask needs a session");
            reply r;
            r.call = reply::call_kind::ask;
            r.call_id = m.id_raw;
            r.ask_method = std::string(flaky_default_ask_method);
            r.ask_params = std::string(flaky_default_ask_params);
            if (const auto method = raw_argument(body, "method")) {
                auto decoded = decode_string(*method);
                if (!decoded || decoded->empty()) {
                    return rpc_error(m.id_raw, -32602, "Invalid params: ask's \"method\" must be a non-empty string");
                }
                if (*decoded != r.ask_method) r.ask_params.clear();
                r.ask_method = std::move(*decoded);
            }
            if (const auto params = raw_argument(body, "params")) r.ask_params = std::string(*params);
            count_tool_run(m.tool);
            return r;
        }
        if (m.tool == "progress") {
            std::int64_t steps = 3;
            std::int64_t interval = 20;
            if (const auto raw = raw_argument(body, "steps")) {
                const auto v = decode_integer(*raw);
                if (!v || *v < 0) return rpc_error(m.id_raw, -32602, "Invalid params: \"steps\" must be an integer >= 0");
                steps = std::min<std::int64_t>(*v, static_cast<std::int64_t>(flaky_max_progress_steps));
            }
            if (const auto raw = raw_argument(body, "interval_ms")) {
                const auto v = decode_integer(*raw);
                if (!v || *v < 0) {
                    return rpc_error(m.id_raw, -32602, "Invalid params: \"interval_ms\" must be an integer >= 0");
                }
                interval = std::min(*v, flaky_max_progress_interval_ms);
            }
            reply r;
            r.call = reply::call_kind::progress;
            r.call_id = m.id_raw;
            r.progress_steps = static_cast<std::size_t>(steps);
            r.progress_interval = std::chrono::milliseconds(interval);
            if (const auto params = find_member(body, "params")) {
                if (const auto meta = find_member(*params, "_meta")) {
                    if (const auto token = find_member(*meta, "progressToken")) {
                        if (token->front() == '"' || decode_integer(*token)) r.progress_token = std::string(*token);
                    }
                }
            }
            count_tool_run(m.tool);
            return r;
        }
        if (m.tool == "count" || m.tool == "executions") {
            auto key = string_argument(body, "key");
            if (!key) return rpc_error(m.id_raw, -32602, "Invalid params: " + m.tool + " needs a string argument \"key\"");
            std::uint64_t value = 0;
            {
                std::lock_guard<std::mutex> lock(mutex);
                auto it = counters_.find(*key);
                if (m.tool == "count") {
                    if (it == counters_.end()) {
                        if (counters_.size() >= options.max_counter_keys) {
                            return rpc_error(m.id_raw, -32602, "Invalid params: too many distinct keys");
                        }
                        it = counters_.emplace(std::move(*key), 0).first;
                    }
                    value = ++it->second;
                } else if (it != counters_.end()) {
                    value = it->second;
                }
                bump_locked(tool_runs_, m.tool);
            }
            return text_result(m.id_raw, std::to_string(value));
        }
        if (m.tool.empty()) return rpc_error(m.id_raw, -32602, "Invalid params: tools/call needs a string \"name\"");
        return rpc_error(m.id_raw, -32602, "Unknown tool: " + m.tool);
    }

    response_mode mode_;
    lost_session_style style_;
    bool resumption_;
    bool listening_;
    std::mt19937_64 random_;
    std::uint64_t sessions_numbered_ = 0;
    std::unordered_map<std::string, session_state> sessions_;
    std::unordered_map<std::string, std::uint64_t> counters_;
    std::unordered_map<std::string, std::uint64_t> seen_;       // at most options.max_counter_keys
    std::unordered_map<std::string, std::uint64_t> tool_runs_;  // at most options.max_counter_keys
    std::deque<client_answer> answers_;                         // at most flaky_max_records
    std::deque<cancellation> cancellations_;                    // at most flaky_max_records
    std::deque<queued_fault> faults_;
};

/// One accepted connection: reads requests one at a time, answers each, applies faults.
/// Lives on the I/O thread; owned by its pending operation's handler.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(server_core& core, tcp::socket socket)
        : core_(core),
          stream_(std::move(socket)),
          timer_(stream_.get_executor()),
          buffer_(core.options.max_header_size + 64 * 1024) {
        ++core_.open_connections;
    }

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    ~connection() {
        // The socket closes with the stream; only the counts are left to settle.
        if (!closed_) --core_.open_connections;
        release_listening();
    }

    void start() { read_request(); }

    /// Closes the connection now (FIN), interrupting any read, write or delay.
    void abort() noexcept {
        if (closed_) return;
        closed_ = true;
        ask_waiting_ = false;
        release_listening();
        try {
            timer_.cancel();
        } catch (...) {
        }
        stream_.close();
        --core_.open_connections;
    }

    /// Any thread: `abort()` on the I/O thread.
    void close_later() {
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->abort(); });
    }

    /// Whether this is a listening stream still open (I/O thread).
    bool listening_open() const noexcept { return role_ == role::listening && !closed_ && !ending_; }

    /// I/O thread: sends one event (SSE text) on this listening stream; false if it is not open.
    bool push_event(std::string_view sse_text) {
        if (!listening_open()) return false;
        if (!queue_event(sse_text)) return false;
        pump();
        return !closed_;
    }

    /// I/O thread: ends this listening stream cleanly (the last chunk), then closes: it was replaced.
    void end_listening() {
        if (listening_open()) end_stream();
    }

    /// I/O thread: the client answered this `ask` call's server request with `message`: the
    /// call's result carries it, then the stream ends.
    void ask_answered(std::string_view message) {
        if (closed_ || !ask_waiting_) return;
        ask_waiting_ = false;
        cancel_timer();
        core_.end_call(session_, call_id_);
        std::string event;
        append_sse_event(event, core_.next_event_id++, text_result(call_id_, message).body);
        queue_event(event);
        end_stream();
    }

    /// I/O thread: the client cancelled this connection's `ask` or `progress` call: its stream
    /// ends without a response. False when no such call runs here.
    bool cancel_call() {
        if (closed_ || ending_ || (role_ != role::ask && role_ != role::progress)) return false;
        ask_waiting_ = false;
        cancel_timer();
        end_stream();
        return true;
    }

private:
    enum class then : unsigned char { read, read_body, linger, close };
    /// What the connection does once a request turned it into an event stream.
    enum class role : unsigned char { request, listening, ask, progress };

    void cancel_timer() noexcept {
        try {
            timer_.cancel();
        } catch (...) {
        }
    }

    void release_listening() noexcept {
        if (!listening_counted_) return;
        listening_counted_ = false;
        --core_.listening_open;
    }

    static std::chrono::milliseconds linger_time(const flaky_server_options& o) {
        return std::min<std::chrono::milliseconds>(o.idle_timeout, std::chrono::seconds(2));
    }

    std::optional<std::string_view> header(std::string_view name) const {
        const auto& req = parser_->get();
        const auto it = req.find(::boost::beast::string_view(name.data(), name.size()));
        if (it == req.end()) return std::nullopt;
        return to_std(it->value());
    }

    void read_request() {
        fault_.reset();
        message_ = message_info{};
        parser_.emplace();
        constexpr std::size_t max_header = std::numeric_limits<std::uint32_t>::max();
        parser_->header_limit(static_cast<std::uint32_t>(std::min(core_.options.max_header_size, max_header)));
        parser_->body_limit(static_cast<std::uint64_t>(core_.options.max_body_size));  // never boost::none: see 1.74
        stream_.expires_after(core_.options.idle_timeout);
        // Header first, so that a client waiting on `Expect: 100-continue` (curl) gets its go-ahead.
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(const error_code& ec) {
        if (closed_) return;
        if (ec) return on_read(ec);
        if (parser_->is_done()) return on_read(ec);
        const auto expect = parser_->get().find(http::field::expect);
        if (expect != parser_->get().end() && ::boost::beast::iequals(expect->value(), "100-continue")) {
            out_ = "HTTP/1.1 100 Continue\r\n\r\n";
            return write(then::read_body);
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (closed_) return;
        if (ec) {
            if (ec == http::error::body_limit) return send(plain_reply(413, "Payload Too Large", true));
            if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
                return send(plain_reply(431, "Request Header Fields Too Large", true));
            }
            const bool parse_error = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                                     ec != http::error::end_of_stream && ec != http::error::partial_message;
            if (parse_error) return send(plain_reply(400, "Bad Request", true));
            return abort();  // EOF, reset, timeout, cancelled
        }
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        http11_ = req.version() >= 11;
        const std::string_view target = to_std(req.target());
        if (target.substr(0, target.find('?')) != "/mcp") return send(plain_reply(404, "Not Found"));
        if (req.method() == http::verb::post) return on_post();
        if (req.method() == http::verb::delete_) return send(core_.handle_delete(header("Mcp-Session-Id")));
        if (req.method() == http::verb::get) return on_get();
        // After a HEAD the client expects no body: close rather than leave it out of step.
        send(method_not_allowed(req.method() == http::verb::head));
    }

    void on_get() {
        const auto last = header("Last-Event-ID");
        if (!last || parse_listen_event_id(*last)) {
            auto a = core_.open_listening(header("Mcp-Session-Id"), header("MCP-Protocol-Version"), last,
                                          shared_from_this());
            if (a.refusal) return send(std::move(*a.refusal));
            if (a.replaced) a.replaced->end_listening();
            session_ = std::move(a.session_id);
            return start_stream(role::listening, a.events);
        }
        resumption_answer a =
            core_.handle_get(header("Mcp-Session-Id"), header("MCP-Protocol-Version"), header("Last-Event-ID"));
        if (a.refusal) return send(std::move(*a.refusal));
        const bool keep = keep_alive_ && http11_ && !a.cut && !core_.close_after_response;
        out_.clear();
        append_sse_head(out_, http11_, keep || a.cut);  // a cut is not announced
        if (http11_) {
            if (!a.events.empty()) append_chunk(out_, a.events);  // an empty chunk would end the body
            if (!a.cut) out_ += "0\r\n\r\n";
        } else {
            out_ += a.events;
        }
        write(a.cut ? then::close : keep ? then::read : then::linger);
    }

    void on_post() {
        ++core_.requests;
        reply error;
        auto info = core_.classify(parser_->get().body(), error);
        if (!info) return send(std::move(error));
        message_ = std::move(*info);
        core_.note_seen(message_);
        fault_ = core_.take_fault(message_);
        if (!fault_) return execute();
        switch (fault_->kind) {
        case fault_kind::http_status: return send(fault_reply(*fault_));
        case fault_kind::reset_before_execute: return reset();
        case fault_kind::delay:
            timer_.expires_after(fault_->delay_duration);
            timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
                if (self->closed_ || wait_ec) return;
                self->execute();
            });
            return;
        case fault_kind::reset_after_execute:
        case fault_kind::cut_stream_after_event:
        case fault_kind::cut_stream_after_priming:
        case fault_kind::answer_as: return execute();
        }
    }

    void execute() {
        reply r = core_.handle_post(message_, parser_->get().body(), header("Mcp-Session-Id"),
                                    header("MCP-Protocol-Version"));
        if (fault_ && fault_->kind == fault_kind::reset_after_execute) return reset();
        if (r.call != reply::call_kind::none) {
            // Not resumable: a cut fault cuts the call's stream before it starts.
            if (fault_ && (fault_->kind == fault_kind::cut_stream_after_event ||
                           fault_->kind == fault_kind::cut_stream_after_priming)) {
                return cut_stream();
            }
            return start_call(std::move(r));
        }
        if (fault_ && fault_->kind == fault_kind::cut_stream_after_event) return cut_stream();
        if (fault_ && fault_->kind == fault_kind::cut_stream_after_priming) {
            return cut_stream(core_.cut_stream(*fault_, r, header("Mcp-Session-Id")));
        }
        send(std::move(r));
    }

    // `ask` and `progress`: the call's event stream (or, for `progress` without a token, a wait).
    void start_call(reply r) {
        call_id_ = std::move(r.call_id);
        session_ = std::string(header("Mcp-Session-Id").value_or(std::string_view{}));
        if (r.call == reply::call_kind::progress && r.progress_token.empty()) {
            // No token: wait for the whole run, then answer as any request.
            timer_.expires_after(r.progress_interval * static_cast<int>(r.progress_steps));
            timer_.async_wait([self = shared_from_this(), steps = r.progress_steps](const error_code& ec) {
                if (self->closed_ || ec) return;
                self->send(text_result(self->call_id_, "done " + std::to_string(steps)));
            });
            return;
        }
        std::string events;
        append_priming_event(events, std::to_string(core_.next_event_id++), std::nullopt);
        if (r.call == reply::call_kind::ask) {
            const auto request = core_.begin_ask(session_, call_id_, r, shared_from_this());
            if (!request) return send(rpc_error(call_id_, -32000, "Session not found"));
            append_sse_event(events, core_.next_event_id++, *request);
            ask_waiting_ = true;
            start_stream(role::ask, events);
            timer_.expires_after(core_.options.ask_timeout);
            timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (ec || self->closed_ || !self->ask_waiting_) return;
                self->ask_waiting_ = false;
                self->core_.end_call(self->session_, self->call_id_);
                std::string event;
                append_sse_event(event, self->core_.next_event_id++,
                                 rpc_error(self->call_id_, -32000, "no answer from the client").body);
                self->queue_event(event);
                self->end_stream();
            });
            return;
        }
        core_.begin_call(session_, call_id_, shared_from_this());
        progress_token_ = std::move(r.progress_token);
        progress_steps_ = r.progress_steps;
        progress_interval_ = r.progress_interval;
        start_stream(role::progress, events);
        progress_tick();
    }

    void progress_tick() {
        if (progress_done_ >= progress_steps_) {
            core_.end_call(session_, call_id_);
            std::string event;
            append_sse_event(event, core_.next_event_id++,
                             text_result(call_id_, "done " + std::to_string(progress_steps_)).body);
            queue_event(event);
            return end_stream();
        }
        timer_.expires_after(progress_interval_);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->closed_ || self->ending_) return;
            const std::size_t k = ++self->progress_done_;
            std::string params = R"({"progressToken":)";
            params += self->progress_token_;
            params += R"(,"progress":)";
            params += std::to_string(k);
            params += R"(,"total":)";
            params += std::to_string(self->progress_steps_);
            params += R"(,"message":"step )";
            params += std::to_string(k);
            params += R"("})";
            std::string event;
            append_sse_event(event, self->core_.next_event_id++, jsonrpc_notification("notifications/progress", params));
            if (!self->queue_event(event)) return;
            self->pump();
            self->progress_tick();
        });
    }

    // Turns this connection into an event stream: the head and `first_events`, then more events
    // as they come; it ends with `end_stream()` (then closes: the head says `Connection: close`)
    // or when either side closes. Its writes have no deadline; a client that reads too slowly
    // is cut off once `flaky_max_stream_backlog` bytes wait.
    void start_stream(role r, std::string_view first_events) {
        role_ = r;
        if (r == role::listening) {
            listening_counted_ = true;
            ++core_.listening_open;
        }
        stream_.expires_never();
        std::string head;
        append_sse_head(head, http11_, false);
        queue_raw(std::move(head));
        if (!first_events.empty()) queue_event(first_events);
        pump();
        watch();
    }

    bool queue_raw(std::string bytes) {
        if (closed_ || ending_) return false;
        backlog_bytes_ += bytes.size();
        backlog_.push_back(std::move(bytes));
        if (backlog_bytes_ > flaky_max_stream_backlog) {
            abort();
            return false;
        }
        return true;
    }

    bool queue_event(std::string_view sse_text) {
        if (!http11_) return queue_raw(std::string(sse_text));
        std::string chunk;
        append_chunk(chunk, sse_text);
        return queue_raw(std::move(chunk));
    }

    // The last chunk, then a half-close once it is written; the connection closes when the
    // client closes, or after `linger_time`.
    void end_stream() {
        if (closed_ || ending_) return;
        if (http11_) {
            backlog_bytes_ += 5;
            backlog_.push_back("0\r\n\r\n");
        }
        ending_ = true;
        ask_waiting_ = false;
        release_listening();
        pump();
    }

    void pump() {
        if (writing_ || closed_) return;
        if (backlog_.empty()) {
            if (ending_ && !ended_) {
                ended_ = true;
                error_code ec;
                stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                timer_.expires_after(linger_time(core_.options));
                timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
                    if (!wait_ec) self->abort();
                });
            }
            return;
        }
        stream_out_.clear();
        while (!backlog_.empty()) {
            stream_out_ += backlog_.front();
            backlog_.pop_front();
        }
        backlog_bytes_ = 0;
        writing_ = true;
        net::async_write(stream_, net::buffer(stream_out_), [self = shared_from_this()](const error_code& ec, std::size_t) {
            self->writing_ = false;
            if (self->closed_) return;
            if (ec) return self->abort();
            self->pump();
        });
    }

    // Reads (and discards, bounded) while the stream is open, to see the client close it.
    void watch() {
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
            if (self->closed_) return;
            self->drained_ += n;
            if (ec || self->drained_ > self->core_.options.max_body_size) return self->abort();
            self->watch();
        });
    }

    static reply fault_reply(const fault& f) {
        reply r;
        r.status = f.status >= 200 && f.status <= 599 ? f.status : 500;
        if (!f.body.empty()) {
            r.content_type = f.content_type;
            r.body = f.body;
        }
        r.retry_after = f.retry_after_seconds;
        r.www_authenticate = f.www_authenticate;
        return r;
    }

    void send(reply r) {
        bool keep = keep_alive_ && !r.close && !core_.close_after_response;
        const response_mode mode = fault_ && fault_->mode ? *fault_->mode : core_.mode();
        out_.clear();
        if (r.jsonrpc_answer && mode == response_mode::sse) {
            if (!http11_) keep = false;
            std::string event;
            append_sse_event(event, core_.next_event_id++, r.body);
            append_sse_head(out_, http11_, keep, r.session_id);
            if (http11_) {
                append_chunk(out_, event);
                out_ += "0\r\n\r\n";
            } else {
                out_ += event;
            }
        } else {
            append_status_line(out_, r.status);
            if (!r.session_id.empty()) append_field(out_, "Mcp-Session-Id", r.session_id);
            if (r.retry_after) append_field(out_, "Retry-After", std::to_string(*r.retry_after));
            if (r.www_authenticate) {
                append_field(out_, "WWW-Authenticate", R"(Bearer realm="flaky_server", error="invalid_token")");
            }
            if (!r.allow.empty()) append_field(out_, "Allow", r.allow);
            if (!r.body.empty()) append_field(out_, "Content-Type", r.content_type);
            append_field(out_, "Content-Length", std::to_string(r.body.size()));
            if (!keep) append_field(out_, "Connection", "close");
            else if (!http11_) append_field(out_, "Connection", "keep-alive");
            out_ += "\r\n";
            out_ += r.body;
        }
        write(keep ? then::read : then::linger);
    }

    void cut_stream() {
        std::string event;
        append_sse_event(event, core_.next_event_id++, flaky_cut_event_json);
        cut_stream(event);
    }

    // Starts an event stream, sends `events` (not empty) and closes before its end.
    void cut_stream(std::string_view events) {
        out_.clear();
        append_sse_head(out_, http11_, true);
        if (http11_) append_chunk(out_, events);
        else out_ += events;
        write(then::close);
    }

    void write(then next) {
        stream_.expires_after(core_.options.idle_timeout);
        net::async_write(stream_, net::buffer(out_),
                         [self = shared_from_this(), next](const error_code& ec, std::size_t) {
                             if (self->closed_) return;
                             if (ec) return self->abort();
                             switch (next) {
                             case then::read: return self->read_request();
                             case then::read_body: return self->read_body();
                             case then::linger: return self->linger();
                             case then::close: return self->abort();
                             }
                         });
    }

    // RST instead of FIN: SO_LINGER with a zero timeout, then close.
    void reset() {
        error_code ec;
        stream_.socket().set_option(net::socket_base::linger(true, 0), ec);
        abort();
    }

    // Half-close, then read and discard what the client still sends (bounded in time and bytes),
    // so that closing does not turn into an RST that destroys the answer before it is read.
    void linger() {
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(linger_time(core_.options));
        drain();
    }

    void drain() {
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
            if (self->closed_) return;
            self->drained_ += n;
            if (ec || self->drained_ > self->core_.options.max_body_size) return self->abort();
            self->drain();
        });
    }

    server_core& core_;
    ::boost::beast::tcp_stream stream_;
    net::steady_timer timer_;
    ::boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    message_info message_;
    std::optional<fault> fault_;
    std::string out_;
    std::array<char, 4096> drain_{};
    std::size_t drained_ = 0;
    bool keep_alive_ = false;
    bool http11_ = true;
    bool closed_ = false;
    // Event streams (listening, `ask`, `progress`).
    role role_ = role::request;
    std::string session_;  // the session of the stream
    std::string call_id_;  // ask, progress: the tools/call's id, raw
    std::deque<std::string> backlog_;  // bytes to write, framed
    std::size_t backlog_bytes_ = 0;
    std::string stream_out_;  // being written
    bool writing_ = false;
    bool ending_ = false;  // the last chunk is queued: nothing more
    bool ended_ = false;   // written; half-closed
    bool listening_counted_ = false;  // counted in core_.listening_open
    bool ask_waiting_ = false;
    std::string progress_token_;  // raw JSON
    std::size_t progress_steps_ = 0;
    std::size_t progress_done_ = 0;
    std::chrono::milliseconds progress_interval_{0};
};

inline void server_core::close_later(std::vector<std::weak_ptr<connection>>& doomed) {
    for (const auto& w : doomed) {
        if (const auto c = w.lock()) c->close_later();
    }
}

inline server_core::listen_answer server_core::open_listening(std::optional<std::string_view> session_id,
                                                              std::optional<std::string_view> protocol_version,
                                                              std::optional<std::string_view> last_event_id,
                                                              const std::shared_ptr<connection>& self) {
    listen_answer a;
    if (last_event_id) ++resumption_requests;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (!listening_ || options.sessionless || (last_event_id && !resumption_)) {
            a.refusal = method_not_allowed(false);
            return a;
        }
    }
    if (!session_id) {
        a.refusal = missing_session_id();
        return a;
    }
    if (!known(*session_id)) {
        a.refusal = lost_session();
        return a;
    }
    if (protocol_version && !flaky_supports_version(*protocol_version)) {
        a.refusal = transport_error(400, -32000,
                                    "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
        return a;
    }
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(std::string(*session_id));
    if (it == sessions_.end()) {  // cannot happen on the I/O thread, but cheap to check
        a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
        return a;
    }
    session_state& s = it->second;
    if (last_event_id) {
        const auto wanted = parse_listen_event_id(*last_event_id);
        const auto at = std::find_if(s.listen_events.begin(), s.listen_events.end(),
                                     [&](const listen_event& e) { return e.sequence == wanted->sequence; });
        if (wanted->session_number != s.number || at == s.listen_events.end()) {
            a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
            return a;
        }
        for (auto e = std::next(at); e != s.listen_events.end(); ++e) {
            if (!e->data.empty()) append_sse_event(a.events, listen_event_name(s.number, e->sequence), e->data);
        }
        ++listening_resumes;
    } else {
        a.events = store_listen_event_locked(s, {});  // the priming event
    }
    a.replaced = s.listener.lock();
    s.listener = self;
    a.session_id = std::string(*session_id);
    ++listening_opened;
    return a;
}

inline std::size_t server_core::deliver(std::string_view only_session,
                                        const std::function<std::string(const session_state&)>& make) {
    std::vector<std::pair<std::shared_ptr<connection>, std::string>> sends;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (!only_session.empty() && entry.first != only_session) continue;
            const std::string json = make(entry.second);
            if (json.empty()) continue;
            std::string text = store_listen_event_locked(entry.second, json);
            if (auto c = entry.second.listener.lock()) sends.emplace_back(std::move(c), std::move(text));
        }
    }
    std::size_t delivered = 0;
    for (const auto& send : sends) {
        if (send.first->push_event(send.second)) ++delivered;
    }
    return delivered;
}

inline std::size_t server_core::notify(std::string_view only_session, std::string_view method,
                                       std::string_view params_json) {
    if (!only_session.empty() && !known(only_session)) return 0;
    const std::string json = jsonrpc_notification(method, params_json);
    return deliver(only_session, [&](const session_state&) { return json; });
}

inline std::size_t server_core::resource_updated(std::string_view uri) {
    std::string params = R"({"uri":)";
    append_json_string(params, uri);
    params += '}';
    const std::string json = jsonrpc_notification("notifications/resources/updated", params);
    return deliver({}, [&](const session_state& s) {
        return std::binary_search(s.subscriptions.begin(), s.subscriptions.end(), uri) ? json : std::string();
    });
}

inline std::size_t server_core::log(std::string_view level, std::string_view data) {
    const auto rank = log_level_rank(level);
    if (!rank) return 0;
    std::string params = R"({"level":)";
    append_json_string(params, level);
    params += R"(,"data":)";
    append_json_string(params, data);
    params += '}';
    const std::string json = jsonrpc_notification("notifications/message", params);
    return deliver({}, [&](const session_state& s) {
        if (!s.log_level) return std::string();
        const auto wanted = log_level_rank(*s.log_level);
        return wanted && *rank >= *wanted ? json : std::string();
    });
}

inline std::optional<std::string> server_core::request_on_listen(std::string_view only_session,
                                                                 std::string_view method,
                                                                 std::string_view params_json) {
    std::shared_ptr<connection> stream;
    std::string id;
    std::string text;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (!only_session.empty() && entry.first != only_session) continue;
            auto c = entry.second.listener.lock();
            if (!c || !c->listening_open()) continue;
            session_state& s = entry.second;
            id = std::to_string(s.next_request_id);
            text = store_listen_event_locked(s, new_server_request_locked(s, method, params_json, {}));
            stream = std::move(c);
            break;
        }
    }
    if (!stream) return std::nullopt;
    stream->push_event(text);
    return id;
}

inline std::size_t server_core::drop_listening() {
    std::vector<std::shared_ptr<connection>> streams;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (auto c = entry.second.listener.lock()) streams.push_back(std::move(c));
            entry.second.listener.reset();
        }
    }
    std::size_t dropped = 0;
    for (const auto& c : streams) {
        if (!c->listening_open()) continue;
        ++dropped;
        c->abort();
    }
    return dropped;
}

inline std::optional<std::string> server_core::begin_ask(const std::string& session_id, const std::string& call_id,
                                                         const reply& call, const std::shared_ptr<connection>& self) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return std::nullopt;
    session_state& s = it->second;
    while (s.in_flight.size() >= flaky_max_calls_in_flight) s.in_flight.pop_front();
    s.in_flight.push_back(call_in_flight{call_id, self});
    return new_server_request_locked(s, call.ask_method, call.ask_params, self);
}

inline void server_core::begin_call(const std::string& session_id, const std::string& call_id,
                                    const std::shared_ptr<connection>& self) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    auto& calls = it->second.in_flight;
    while (calls.size() >= flaky_max_calls_in_flight) calls.pop_front();
    calls.push_back(call_in_flight{call_id, self});
}

inline void server_core::end_call(const std::string& session_id, const std::string& call_id) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    auto& calls = it->second.in_flight;
    calls.erase(std::remove_if(calls.begin(), calls.end(), [&](const call_in_flight& c) { return c.id == call_id; }),
                calls.end());
}

inline void server_core::on_client_answer(const std::string& session_id, const std::string& id_raw,
                                          std::string_view body) {
    std::shared_ptr<connection> waiter;
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(session_id);
        if (it == sessions_.end()) {
            ++unexpected_answers;
            return;
        }
        auto& pending = it->second.pending;
        const auto p = std::find_if(pending.begin(), pending.end(),
                                    [&](const pending_server_request& r) { return r.id == id_raw; });
        if (p == pending.end()) {
            ++unexpected_answers;
            return;
        }
        record_locked(answers_, client_answer{session_id, p->id, p->method,
                                              std::string(body.substr(0, flaky_max_recorded_message))});
        waiter = p->waiter.lock();
        pending.erase(p);
    }
    if (waiter) waiter->ask_answered(body);
}

inline void server_core::on_cancelled(const std::string& session_id, std::string_view body) {
    cancellation c;
    c.session_id = session_id;
    if (const auto params = find_member(body, "params")) {
        if (const auto id = find_member(*params, "requestId")) c.request_id = std::string(*id);
        if (const auto reason = find_member(*params, "reason")) c.reason = decode_string(*reason).value_or("");
    }
    std::shared_ptr<connection> call;
    if (!c.request_id.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(session_id);
        if (it != sessions_.end()) {
            auto& calls = it->second.in_flight;
            const auto at = std::find_if(calls.begin(), calls.end(),
                                         [&](const call_in_flight& f) { return f.id == c.request_id; });
            if (at != calls.end()) {
                call = at->stream.lock();
                calls.erase(at);
            }
        }
    }
    c.in_flight = call && call->cancel_call();
    std::lock_guard<std::mutex> lock(mutex);
    record_locked(cancellations_, std::move(c));
}

}  // namespace detail

/// An MCP server for tests: Streamable HTTP on `http://127.0.0.1:<port>/mcp`, with scripted faults.
///
/// Endpoint `/mcp` (any other path: 404 `Not Found`). POST carries one JSON-RPC message:
/// - `initialize` (sent without `Mcp-Session-Id`) opens a session: a 32-hex-digit id in the
///   `Mcp-Session-Id` header, the client's `protocolVersion` if supported (2024-11-05, 2025-03-26,
///   2025-06-18, 2025-11-25) else 2025-06-18, capabilities `{tools:{}}`, serverInfo
///   `{name:"flaky_server",version:"1"}`. With a session id it is refused like real servers do:
///   400 "Server already initialized" for a live session, the lost-session answer otherwise.
/// - every other message needs the session id: none -> 400 `Bad Request: Mcp-Session-Id header
///   is required`; unknown or expired -> the `lost_session_style` answer; then an unsupported
///   `MCP-Protocol-Version` header -> 400 `Bad Request: Unsupported protocol version: X`.
/// - notifications and responses: 202 without a body. `ping` -> `{}`. `tools/list` -> `echo`
///   (`{text}`), `count` (`{key}`, not idempotent), `executions` (`{key}`, read-only), `ask`,
///   `progress` (below). `tools/call`: echo returns its text; count increments the counter `key`
///   and returns its new value as text; executions returns it. Other methods: JSON-RPC -32601 with 200.
/// - `resources/subscribe` / `resources/unsubscribe` `{uri}` -> `{}`: the session's set of
///   URIs (`subscriptions()`, at most 1024 per session); `logging/setLevel` `{level}` (an RFC
///   5424 name) -> `{}` (`log_level()`); a missing or bad argument: -32602. Both are forgotten
///   with the session. The `initialize` result advertises them only with
///   `flaky_server_options::advertise_subscriptions_and_logging`.
/// - `notifications/cancelled` `{requestId, reason}`: recorded (`cancellations()`); a running
///   `ask` or `progress` call of the session with that id stops, its stream ending without a
///   response. A JSON-RPC response: matched to the session's pending server request with that
///   id (recorded in `client_answers()`, handed to the `ask` call waiting for it) or counted in
///   `unexpected_answers()`.
/// - malformed JSON: 400 with JSON-RPC -32700 (id null); not a JSON-RPC message: 400 -32600.
/// DELETE with a live session id ends it (200). GET: the listening stream or a resumption (below);
/// other methods: 405.
///
/// Calls answered with an event stream of their own (always SSE, whatever the response mode;
/// chunked; `Connection: close`, the connection closing after the stream's end; their event ids
/// are numeric and not resumable; a cut fault cuts them before they start):
/// - `ask` `{method?, params?}`: a priming event (an id, empty data), then the server request
///   `{"jsonrpc":"2.0","id":<n>,"method":<method>,"params":<params>}` (default method
///   `elicitation/create` with a message and a small `requestedSchema`; another method without
///   `params` gets none), `n` being the session's next server request id (0, 1, ...). Then it
///   waits for the client to POST the response with that id (on any connection, with the
///   session id: 202) and answers `{"content":[{"type":"text","text":<that whole message, raw>}]}`;
///   after `ask_timeout` without it, the JSON-RPC error -32000 `no answer from the client`.
/// - `progress` `{steps? (3, at most 100), interval_ms? (20, at most 5000)}`: with
///   `params._meta.progressToken` (a string or an integer, echoed verbatim), a priming event, then
///   `steps` events `notifications/progress` `{"progressToken":<t>,"progress":k,"total":steps,
///   "message":"step k"}` `interval_ms` apart (a timer), then the result `done <steps>`. Without
///   a token it waits `steps * interval_ms` and answers `done <steps>` as any request (JSON or SSE).
/// A call whose client closes the connection stops at once.
///
/// The listening stream (`flaky_server_options::listening_stream`, off by default). `GET /mcp`
/// without `Last-Event-ID`, with a live session: 200 `text/event-stream`, chunked, `Connection:
/// close`, kept open until the server closes it; first a priming event (an id, `retry:` of
/// `listening_retry`, empty data). Its events (`notify`, `notify_session`, `resource_updated`,
/// `log`, `request_on_listen`) are `event: message` with an id `L<session number>-<sequence>`,
/// unique within the server. One stream per session: a second GET replaces the first, which
/// ends cleanly (its last chunk, then close). Each session keeps its last `listening_events_kept`
/// events, sent while a stream was open or not: a GET with the `Last-Event-ID` of one of them
/// gets the kept events after it, then the stream continues live (no new priming event); an id
/// no longer kept (or of another session): 400 `Unknown Last-Event-ID`. Checked in this order:
/// listening off, `sessionless`, or a `Last-Event-ID` with resumption off: 405; no session id:
/// 400; unknown session: the lost-session answer; unsupported `MCP-Protocol-Version`: 400.
/// The stream closes with its session (expiry, DELETE, `restart()`, an outage, `stop()`) and on
/// `drop_listening_streams()`.
/// Request headers are bounded (431 beyond), bodies too (413 beyond); a request must arrive within
/// `idle_timeout`.
///
/// Stream resumption (SEP-1699) of a call's stream. A stream cut by `fault::cut_stream_after_priming` is kept, per
/// session, as: a priming event (an id, `retry:`, empty data), the notifications before and after
/// the cut, the response; each event has a server-wide unique numeric id (at most
/// `max_resumable_streams` streams per session, oldest forgotten first; they end with the
/// session). `GET /mcp` with a numeric `Last-Event-ID`, checked in this order:
/// - resumption off (`set_resumption(false)`, or `sessionless`): 405, as a server without it;
/// - no session id: 400 as for POST; unknown session: the `lost_session_style` answer; an
///   unsupported `MCP-Protocol-Version`: 400;
/// - an id of none of the session's kept streams: 400 application/json
///   `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Unknown Last-Event-ID"},"id":null}`
///   (not 404, which on the MCP endpoint means the session is gone);
/// - else 200 `text/event-stream` replaying that stream's events after the id (the response
///   among them), then the stream ends (chunked; keep-alive). Nothing is executed again. While
///   the fault's `resumed_cuts` last, the replay stops before the response, adds a fresh priming
///   event (placed just before the response) and closes the connection instead.
///
/// Faults are queued with `inject` and consumed one application at a time by the next POSTed
/// JSON-RPC message they match, checked in queue order, before session validation (a fault
/// plays a proxy, a network or a crash, which do not look at sessions). A fault that executes
/// (`reset_after_execute`, `cut_stream_after_event`, `cut_stream_after_priming`, `delay`,
/// `answer_as`) still applies the session rules: an expired session is not executed, but its
/// answer is lost all the same (a cut stream of no live session is not kept for resumption).
///
/// Threading: one I/O thread runs every connection (asynchronous Beast/Asio; a request is
/// processed to completion before the next event, so handlers are short and never block). Every
/// public member function is thread-safe and may run while clients are connected; counters are
/// atomics and are updated before the answer is written, so a client that has its answer sees
/// them. `restart()` and `stop()` return only once the connections are closed.
///
/// Outages. `go_down()` plays a killed server process: the listener closes (connects are refused,
/// ECONNREFUSED), every connection closes, every session is forgotten; `come_back()` listens again
/// on the same port, with no sessions. `outage(d)` does both, coming back after `d` on its own
/// timer. `close_after_response` plays a server without keep-alive.
class flaky_server {
public:
    /// Binds 127.0.0.1 (`options.port`, 0 for any free port) and starts serving.
    /// Throws `boost::system::system_error` when the port cannot be bound.
    explicit flaky_server(flaky_server_options options = {})
        : core_(options), acceptor_(ioc_), retry_timer_(ioc_), outage_timer_(ioc_) {
        const detail::tcp::endpoint endpoint(detail::net::ip::address_v4::loopback(), options.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(detail::net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(detail::net::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
        accept();
        thread_ = std::thread([this] { run(); });
    }

    /// Calls `stop()`.
    ~flaky_server() { stop(); }

    flaky_server(const flaky_server&) = delete;
    flaky_server& operator=(const flaky_server&) = delete;

    /// The port bound on 127.0.0.1.
    std::uint16_t port() const noexcept { return port_; }

    /// `http://127.0.0.1:<port>/mcp`.
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

    /// Closes the listener and every connection (pending delays, `ask` waits, `progress` runs
    /// and listening streams end at once) and joins the I/O
    /// thread. Idempotent; the destructor calls it. Sessions, counters and faults stay readable.
    void stop() noexcept {
        std::lock_guard<std::mutex> guard(stop_mutex_);
        if (thread_.joinable()) {
            ioc_.stop();
            try {
                thread_.join();
            } catch (...) {
            }
        }
        // The I/O thread is gone: the sockets can be touched from here.
        up_ = false;
        detail::error_code ec;
        acceptor_.close(ec);
        try {
            retry_timer_.cancel();
            outage_timer_.cancel();
        } catch (...) {
        }
        abort_connections();
        {
            std::lock_guard<std::mutex> lock(core_.mutex);
            core_.stopped = true;
        }
        restarted_.notify_all();
    }

    /// Forgets every session (with its subscriptions, log level, kept listening-stream events
    /// and pending server requests) and closes every open connection (listening streams and
    /// waiting `ask` calls included), as a server process restart would; keeps listening, and
    /// keeps counters, records and queued faults. Returns once the
    /// connections are closed (at once after `stop()`).
    void restart() {
        // Connections closed first, sessions forgotten after, both on the I/O thread: no request
        // is answered "session not found" by the process that is going away.
        on_io_thread([this] {
            abort_connections();
            core_.expire_all();
        });
        core_.expire_all();  // also after stop(), when the I/O thread no longer runs tasks
    }

    /// Closes every open connection (a TCP RST), keeping every session and the listener: what a
    /// proxy or load balancer does to idle keep-alive connections. Returns once done.
    void drop_connections() {
        on_io_thread([this] { abort_connections(); });
    }

    /// An outage, as when the server process is killed: closes the listener (a connect is then
    /// refused at once, ECONNREFUSED, rather than left to hang) and every connection (pending
    /// delays end), and forgets every session (as `restart()`). Counters, queued faults and
    /// settings stay. Cancels a pending come-back of `outage()`. Returns once done; no effect
    /// while down or after `stop()`.
    void go_down() {
        // Closed first, forgotten after, both on the I/O thread: no request is answered "session
        // not found" in between (a killed process never says that).
        on_io_thread([this] {
            take_down();
            core_.expire_all();
        });
        core_.expire_all();  // also after stop(), when the I/O thread no longer runs tasks
    }

    /// Ends an outage: listens again on the same port (SO_REUSEADDR lets it bind again at once).
    /// No effect while up or after `stop()`. Throws `boost::system::system_error` when the port
    /// cannot be bound again (another socket took it meanwhile).
    void come_back() {
        detail::error_code ec;
        on_io_thread([this, &ec] {
            ++outage_generation_;  // a pending come-back of outage() is not needed any more
            cancel_quietly(outage_timer_);
            ec = listen_again();
        });
        if (ec) throw boost::system::system_error(ec, "flaky_server: cannot listen again on port " + std::to_string(port_));
    }

    /// `go_down()`, then `come_back()` after `how_long` on a timer of the server's own: returns
    /// once the server is down, without waiting for the end of the outage. If the port cannot be
    /// bound again at that time, it tries again every 20 ms for 5 s, then stays down. `stop()`,
    /// `go_down()` and `come_back()` end the wait.
    void outage(std::chrono::milliseconds how_long) {
        on_io_thread([this, how_long] {
            take_down();
            core_.expire_all();
            come_back_after(how_long, 0);
        });
    }

    /// Whether the server listens: false after `go_down()` (until it comes back) and `stop()`.
    bool is_up() const noexcept { return up_; }
    /// Outages so far: `go_down()` and `outage()` calls that took the server down.
    std::uint64_t outages() const noexcept { return core_.outages; }

    /// Keep connections alive (false, the default) or close each after its answer, which then
    /// carries `Connection: close` (`flaky_server_options::close_after_response`).
    void set_close_after_response(bool on) noexcept { core_.close_after_response = on; }

    /// Ends session `id`: later requests with it get the lost-session answer; its listening stream
    /// and its `ask` and `progress` streams close (FIN). False if unknown.
    bool expire_session(std::string_view id) { return core_.expire(id); }

    /// Ends every session as `expire_session` does; returns how many there were.
    std::size_t expire_all_sessions() { return core_.expire_all(); }

    /// Ids of the live sessions, in no particular order.
    std::vector<std::string> session_ids() const { return core_.session_ids(); }

    void set_lost_session_style(lost_session_style style) { core_.set_style(style); }
    void set_response_mode(response_mode mode) { core_.set_mode(mode); }
    /// Serve resumption GETs (true, the default) or refuse them with 405 (`flaky_server_options::resumption`).
    void set_resumption(bool on) { core_.set_resumption(on); }

    /// Queues `f` for the next `times` POSTed messages that `match` accepts (default: any
    /// request but `initialize`).
    void inject(fault f, fault_match match = fault_match::any_request(), std::size_t times = 1) {
        core_.inject(std::move(f), std::move(match), times);
    }
    /// Applications of queued faults still to come.
    std::size_t pending_faults() const { return core_.pending_faults(); }
    void clear_faults() { core_.clear_faults(); }

    /// Sessions opened by `initialize`.
    std::uint64_t initializes() const noexcept { return core_.initializes; }
    /// POSTs to `/mcp` read in full, whatever the answer (errors and faults included).
    std::uint64_t requests() const noexcept { return core_.requests; }
    /// How many times `count` ran for `key`, including runs whose answer was lost.
    std::uint64_t executions(std::string_view key) const { return core_.executions(key); }
    std::size_t sessions_alive() const noexcept { return core_.sessions_alive; }
    /// Sessions ended by DELETE.
    std::uint64_t deletes() const noexcept { return core_.deletes; }
    /// Lost-session answers sent (POST and DELETE).
    std::uint64_t lost_session_answers() const noexcept { return core_.lost_session_answers; }
    /// Fault applications consumed.
    std::uint64_t faults_applied() const noexcept { return core_.faults_applied; }
    /// GETs to `/mcp` with `Last-Event-ID`, whatever the answer (405 and errors included).
    std::uint64_t resumption_requests() const noexcept { return core_.resumption_requests; }
    /// Resumption GETs answered with a replay stream (cut ones included).
    std::uint64_t resumptions() const noexcept { return core_.resumptions; }
    /// Connections accepted so far, and open now.
    std::uint64_t connections_accepted() const noexcept { return core_.connections_accepted; }
    std::size_t open_connections() const noexcept { return core_.open_connections; }

    /// Largest `client_answer::message` kept (longer messages are cut to it).
    static constexpr std::size_t max_recorded_message_size = detail::flaky_max_recorded_message;
    /// Most `client_answers()` and `cancellations()` kept each; beyond it the oldest is dropped.
    static constexpr std::size_t max_records = detail::flaky_max_records;

    /// JSON-RPC requests and notifications POSTed with `method`, whatever the answer (faults,
    /// lost sessions and errors included; responses are not counted). At most
    /// `max_counter_keys` distinct methods are counted; later new ones read 0.
    std::uint64_t seen(std::string_view method) const { return core_.seen(method); }
    /// How many times the tool `tool` ran (a `tools/call` with valid arguments: `echo`, `count`,
    /// `executions`, `ask`, `progress`), including runs whose answer was lost.
    std::uint64_t tool_runs(std::string_view tool) const { return core_.tool_runs(tool); }

    /// Every URI that a live session subscribed to (`resources/subscribe` and not
    /// `resources/unsubscribe` since), sorted, without duplicates.
    std::vector<std::string> subscriptions() const { return core_.subscriptions(); }
    /// The URIs that session `session_id` subscribed to, sorted; empty for an unknown session.
    std::vector<std::string> subscriptions(std::string_view session_id) const { return core_.subscriptions(session_id); }
    /// The level last set by `logging/setLevel` in session `session_id`; nullopt when never set
    /// or when the session is unknown.
    std::optional<std::string> log_level(std::string_view session_id) const { return core_.log_level(session_id); }
    /// Valid `logging/setLevel` requests served (of every session).
    std::uint64_t set_level_calls() const noexcept { return core_.set_level_calls; }

    /// Serve the listening stream (true) or answer a GET without `Last-Event-ID` 405 (false)
    /// (`flaky_server_options::listening_stream`). Open streams stay open.
    void set_listening_stream(bool on) { core_.set_listening(on); }

    /// Sends the notification `{"jsonrpc":"2.0","method":<method>,"params":<params_json>}`
    /// (no `params` when `params_json` is empty; it is inserted verbatim and must be valid JSON)
    /// to the listening stream of every live session; sessions without an open stream keep it
    /// for a resuming GET. Returns how many open streams got it; 0 after `stop()`.
    std::size_t notify(std::string method, std::string params_json = {}) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.notify({}, method, params_json); });
        return n;
    }
    /// `notify` for the session `session_id` only: 1 when its stream is open, else 0 (an unknown
    /// session keeps nothing).
    std::size_t notify_session(std::string_view session_id, std::string method, std::string params_json = {}) {
        std::size_t n = 0;
        if (session_id.empty()) return 0;
        on_io_thread([&] { n = core_.notify(session_id, method, params_json); });
        return n;
    }
    /// Sends `notifications/resources/updated` `{"uri":<uri>}` to every session subscribed to
    /// `uri` (kept for replay where no stream is open); returns how many open streams got it.
    std::size_t resource_updated(std::string uri) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.resource_updated(uri); });
        return n;
    }
    /// Sends `notifications/message` `{"level":<level>,"data":<data as a JSON string>}` to every
    /// session whose `logging/setLevel` level admits `level` (RFC 5424: debug < info < notice <
    /// warning < error < critical < alert < emergency; a session admits its level and above).
    /// Sessions that never set a level get nothing; an unknown `level` is sent to none. Kept for
    /// replay where no stream is open; returns how many open streams got it.
    std::size_t log(std::string level, std::string data) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.log(level, data); });
        return n;
    }
    /// Sends the server request `{"jsonrpc":"2.0","id":<n>,"method":<method>,"params":<params_json>}`
    /// on the open listening stream of session `session_id` (empty: of any session with one) and
    /// returns its id as raw JSON (the session's next server request id: 0, 1, ...); nullopt, and
    /// nothing sent, when no such stream is open. The client's answer is recorded in
    /// `client_answers()`.
    std::optional<std::string> request_on_listen(std::string session_id, std::string method,
                                                 std::string params_json = {}) {
        std::optional<std::string> id;
        on_io_thread([&] { id = core_.request_on_listen(session_id, method, params_json); });
        return id;
    }
    /// Closes every open listening stream abruptly (FIN before the end of the chunked body, as a
    /// network fault), keeping the sessions and their kept events: a client can resume with
    /// `Last-Event-ID`. Returns how many were open.
    std::size_t drop_listening_streams() {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.drop_listening(); });
        return n;
    }
    /// Listening streams open now.
    std::size_t listening_streams() const noexcept { return core_.listening_open; }
    /// GETs that opened a listening stream (resuming ones included).
    std::uint64_t listening_streams_opened() const noexcept { return core_.listening_opened; }
    /// GETs with the `Last-Event-ID` of a listening-stream event that reopened the stream.
    std::uint64_t listening_resumes() const noexcept { return core_.listening_resumes; }

    /// The responses POSTed by clients to the server's requests (`ask`, `request_on_listen`),
    /// oldest first (at most `max_records`).
    std::vector<client_answer> client_answers() const { return core_.client_answers(); }
    /// POSTed JSON-RPC responses (with a live session, or any in `sessionless` mode) whose id
    /// names no pending server request of that session (never sent, already answered, or
    /// forgotten: at most 64 are pending per session); they get 202 all the same.
    std::uint64_t unexpected_answers() const noexcept { return core_.unexpected_answers; }
    /// The `notifications/cancelled` POSTed with a live session, oldest first (at most `max_records`).
    std::vector<cancellation> cancellations() const { return core_.cancellations(); }

private:
    void run() noexcept {
        for (;;) {
            try {
                ioc_.run();
                return;
            } catch (...) {
                // A handler threw (e.g. bad_alloc): that connection is dropped; keep serving.
            }
        }
    }

    // Runs `task` on the I/O thread and waits until it ran; does nothing after stop().
    template <class Task>
    void on_io_thread(Task task) {
        std::unique_lock<std::mutex> lock(core_.mutex);
        if (core_.stopped) return;
        const std::uint64_t ticket = ++io_tasks_requested_;
        detail::net::post(ioc_, [this, ticket, &task] {
            try {
                task();
            } catch (...) {
                // Tasks do not throw (they report through error codes); the waiter must wake anyway.
            }
            {
                std::lock_guard<std::mutex> done(core_.mutex);
                core_.io_tasks_done = std::max(core_.io_tasks_done, ticket);
            }
            restarted_.notify_all();
        });
        restarted_.wait(lock, [&] { return core_.io_tasks_done >= ticket || core_.stopped; });
    }

    // I/O thread: closes the listener and every connection.
    void take_down() noexcept {
        ++outage_generation_;
        cancel_quietly(outage_timer_);
        if (up_) {
            up_ = false;
            ++core_.outages;
            ++listen_generation_;  // a pending accept or accept retry of the old listener does nothing
            detail::error_code ignored;
            acceptor_.close(ignored);
            cancel_quietly(retry_timer_);
        }
        abort_connections();
    }

    static void cancel_quietly(detail::net::steady_timer& timer) noexcept {
        try {
            timer.cancel();
        } catch (...) {
        }
    }

    // I/O thread: listens on port_ again, unless already up.
    detail::error_code listen_again() noexcept {
        if (up_) return {};
        detail::error_code ec;
        const detail::tcp::endpoint endpoint(detail::net::ip::address_v4::loopback(), port_);
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(detail::net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(detail::net::socket_base::max_listen_connections, ec);
        if (ec) {
            detail::error_code ignored;
            acceptor_.close(ignored);
            return ec;
        }
        up_ = true;
        accept();
        return {};
    }

    // I/O thread: comes back after `wait` (then every 20 ms while the port cannot be bound, at
    // most 250 times), unless the outage ended otherwise meanwhile.
    void come_back_after(std::chrono::milliseconds wait, int attempt) {
        static constexpr int max_attempts = 250;
        outage_timer_.expires_after(wait);
        outage_timer_.async_wait([this, attempt, generation = outage_generation_](const detail::error_code& ec) {
            if (ec || generation != outage_generation_) return;
            if (listen_again() && attempt + 1 < max_attempts) come_back_after(std::chrono::milliseconds(20), attempt + 1);
        });
    }

    void accept() {
        acceptor_.async_accept([this, generation = listen_generation_](const detail::error_code& ec,
                                                                        detail::tcp::socket socket) {
            if (generation != listen_generation_ || !acceptor_.is_open()) return;
            if (ec) {
                if (ec == detail::net::error::operation_aborted) return;
                // Out of descriptors or the like: try again shortly instead of spinning.
                retry_timer_.expires_after(std::chrono::milliseconds(20));
                retry_timer_.async_wait([this, generation](const detail::error_code& wait_ec) {
                    if (!wait_ec && generation == listen_generation_) accept();
                });
                return;
            }
            ++core_.connections_accepted;
            if (core_.open_connections >= core_.options.max_connections) {
                detail::error_code ignored;
                socket.close(ignored);
            } else {
                detail::error_code ignored;
                socket.set_option(detail::tcp::no_delay(true), ignored);
                auto c = std::make_shared<detail::connection>(core_, std::move(socket));
                auto& list = core_.connections;
                list.erase(std::remove_if(list.begin(), list.end(), [](const auto& w) { return w.expired(); }),
                           list.end());
                list.push_back(c);
                c->start();
            }
            accept();
        });
    }

    // On the I/O thread, or after it was joined.
    void abort_connections() noexcept {
        auto list = std::move(core_.connections);
        core_.connections.clear();
        for (const auto& w : list) {
            if (auto c = w.lock()) c->abort();
        }
    }

    // Declared before ioc_: handlers destroyed with ioc_ still reach them.
    detail::server_core core_;
    std::mutex stop_mutex_;
    std::condition_variable restarted_;  // an I/O task is done, or the server stopped
    std::uint64_t io_tasks_requested_ = 0;  // guarded by core_.mutex
    std::uint16_t port_ = 0;
    std::atomic<bool> up_{true};
    // I/O thread only (and the constructor, before it starts): which listener and which outage
    // pending handlers belong to.
    std::uint64_t listen_generation_ = 0;
    std::uint64_t outage_generation_ = 0;
    detail::net::io_context ioc_{1};
    // Keeps the I/O thread running while down (no listener, no connection): stop() ends it.
    detail::net::executor_work_guard<detail::net::io_context::executor_type> work_{ioc_.get_executor()};
    detail::tcp::acceptor acceptor_;
    detail::net::steady_timer retry_timer_;
    detail::net::steady_timer outage_timer_;
    std::thread thread_;
};

}  // namespace mcp_recovery::beast::testing

#endif
