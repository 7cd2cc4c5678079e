// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALLABLE_PRESETS_HPP
#define MCP_RECOVERY_CALLABLE_PRESETS_HPP

#include "mcp_recovery/callable/translator.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

/// What known MCP client SDKs raise when the server lost the session, as translators and a rule.
///
/// Each preset in `presets::` is a translator (`translator.hpp`): it takes the SDK's error as a
/// `foreign_error` (type name, message, code, detail, copied from the SDK's exception or error
/// object) and fills a `failure` the way that SDK means it: where the HTTP status hides (a code
/// field, a detail string, the message), whether the code is a JSON-RPC code, and for the SDK's
/// session-loss signal `had_session_id = true` and `delivery::rejected` (the server refused the
/// request without running it, so even a `tools/call` may be replayed). Other errors keep
/// `delivery::unknown`, except an HTTP 4xx answer, which is `rejected`. A preset also takes a
/// `std::exception_ptr`: a `std::exception`'s `what()` becomes the message (enough for SDKs whose
/// signal is in the text: fastmcpp, itcv cpp-mcp-sdk); other exceptions go to `default_translator`.
///
/// | preset              | SDK                          | session-loss signal                                                        |
/// |---------------------|------------------------------|----------------------------------------------------------------------------|
/// | `typescript_sdk`    | @modelcontextprotocol/sdk    | `StreamableHTTPError`, code 404; or 400 with a lost-session phrase in the body |
/// | `python_sdk`        | mcp (Python) v1.x            | JSON-RPC code **+32600**, "Session terminated"                             |
/// | `go_sdk`            | go-sdk                       | `ErrSessionMissing`, "session not found"                                   |
/// | `csharp_sdk`        | ModelContextProtocol (C#)    | "... the session has expired ..." (`ClientTransportClosedException`); `HttpRequestException` 404 |
/// | `hkr04_cpp_mcp`     | hkr04/cpp-mcp (legacy SSE)   | `mcp::mcp_exception` -32600 "Session not initialized"; -32700 "Failed to parse JSON-RPC response: ..." (a refused POST) |
/// | `fastmcpp`          | 0xeb/fastmcpp                | `fastmcpp::TransportError`, "StreamableHttp error: 404"; "... 400" when the request carried a session id |
/// | `cxxmcp`            | caomengxuan666/cxxmcp        | `mcp::core::Error` -32600 "http transport session was terminated", detail "404"; -32603 "... returned an error status", detail "400", when the request carried a session id |
/// | `itcv_cpp_mcp_sdk`  | itcv-GmbH/cpp-mcp-sdk        | `std::runtime_error` "Unexpected HTTP status 404 (expected 200)."; "HTTP 400: <body>" with a lost-session phrase |
///
/// Classify with `sdk_classifier` (`sdk_session_rules` in front of the core's
/// `default_classifier`). The 404 signals and the ones with a lost-session phrase (TypeScript,
/// Python, Go, C#, fastmcpp's and cxxmcp's 404, itcv) are recognised by `default_classifier`
/// alone; hkr04's signals and the 400s that fastmcpp and cxxmcp cannot read need
/// `sdk_session_rules`, which also recognises every signal in a failure that only carries the
/// SDK's raw message and code.
///
/// All presets are stateless and safe to call concurrently.

namespace mcp_recovery::callable {

namespace detail {

/// Where `needle` (lower case) starts in `text`, ignoring ASCII case in `text`; npos if absent.
constexpr std::size_t find_ascii_icase(std::string_view text, std::string_view needle) noexcept {
    if (needle.size() > text.size()) return std::string_view::npos;
    for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
        std::size_t j = 0;
        while (j < needle.size() && mcp_recovery::detail::ascii_lower(text[i + j]) == needle[j]) ++j;
        if (j == needle.size()) return i;
    }
    return std::string_view::npos;
}

constexpr bool icontains(std::string_view text, std::string_view needle) noexcept {
    return find_ascii_icase(text, needle) != std::string_view::npos;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// The three-digit HTTP status right after `prefix` (lower case) in `text`, when a digit does not
/// follow it ("404" yes, "4040" no).
constexpr std::optional<int> status_after(std::string_view text, std::string_view prefix) noexcept {
    const std::size_t at = find_ascii_icase(text, prefix);
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t p = at + prefix.size();
    if (p + 3 > text.size() || !is_digit(text[p]) || !is_digit(text[p + 1]) || !is_digit(text[p + 2]))
        return std::nullopt;
    if (p + 3 < text.size() && is_digit(text[p + 3])) return std::nullopt;
    const int status = (text[p] - '0') * 100 + (text[p + 1] - '0') * 10 + (text[p + 2] - '0');
    if (status < 100 || status > 599) return std::nullopt;
    return status;
}

/// A whole string that is a three-digit HTTP status ("404", " 404 ").
constexpr std::optional<int> status_of(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    if (text.size() != 3) return std::nullopt;
    return status_after(text, "");
}

constexpr std::optional<int> as_status(const std::optional<std::int64_t>& code) noexcept {
    if (code && *code >= 100 && *code <= 599) return static_cast<int>(*code);
    return std::nullopt;
}

/// A server's phrase for a lost session (the core's default list) in `text`.
inline bool names_lost_session(std::string_view text) noexcept { return session_message_rules{}.contains_phrase(text); }

inline failure with_message(const foreign_error& e) {
    failure f;
    f.message = e.message;
    return f;
}

/// An HTTP answer: a 4xx is refused before anything ran; other statuses leave delivery unknown.
inline void set_status(failure& f, int status) noexcept {
    f.http_status = status;
    if (status >= 400 && status < 500) f.delivered = delivery::rejected;
}

/// The server refused the request because it no longer knows the session: nothing ran.
inline void mark_session_loss(failure& f) noexcept {
    f.had_session_id = true;
    f.delivered = delivery::rejected;
}

/// The exception overload every preset shares: `what()` as the message of a `foreign_error`.
template <class Preset>
failure translate_with(const Preset& preset, std::exception_ptr e, bool had_session_id = false) {
    if (!e) return default_translator{}(e);
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error&) {
        return default_translator{}(std::current_exception());
    } catch (const std::exception& x) {
        foreign_error fe;
        fe.message = x.what();
        fe.had_session_id = had_session_id;
        return preset(fe);
    } catch (...) {
        return default_translator{}(std::current_exception());
    }
}

/// What every preset shares: a `foreign_error` becomes a failure with its message, the details
/// the preset's `describe` reads from it (by default the code as a JSON-RPC code), and, when the
/// preset's `is_session_loss` says so, a refused request on a lost session; an exception becomes
/// such a `foreign_error` (`translate_with`).
template <class Preset>
struct preset {
    static void describe(const foreign_error& e, failure& f) noexcept { f.jsonrpc_code = e.code; }

    failure operator()(const foreign_error& e) const {
        failure f = with_message(e);
        Preset::describe(e, f);
        if (Preset::is_session_loss(e)) mark_session_loss(f);
        return f;
    }
    failure operator()(std::exception_ptr e) const {
        return translate_with(static_cast<const Preset&>(*this), std::move(e));
    }
    /// The same, for a request that did (or did not) carry a session id: `foreign_error::had_session_id`.
    failure operator()(std::exception_ptr e, bool had_session_id) const {
        return translate_with(static_cast<const Preset&>(*this), std::move(e), had_session_id);
    }
};

}  // namespace detail

namespace presets {

/// The TypeScript SDK (`@modelcontextprotocol/sdk`) client, seen through a bridge.
///
/// `type` matters: for a `StreamableHTTPError` the code is the HTTP status (the message holds
/// the body: "Streamable HTTP error: Error POSTing to endpoint: <body>"); for any other type
/// (`McpError`) it is a JSON-RPC code. Session loss: a `StreamableHTTPError` with 404, or with 400
/// and a lost-session phrase in the body ("No valid session ID provided"). The SDK keeps the
/// stale session id: reconnect with a new transport object, not the old one.
struct typescript_sdk : detail::preset<typescript_sdk> {
    static constexpr std::string_view name = "TypeScript SDK";

    static bool is_http_error(const foreign_error& e) noexcept { return detail::icontains(e.type, "streamablehttperror"); }

    static bool is_session_loss(const foreign_error& e) noexcept {
        if (!is_http_error(e) || !e.code) return false;
        return *e.code == 404 || (*e.code == 400 && detail::names_lost_session(e.message));
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        if (!is_http_error(e)) f.jsonrpc_code = e.code;
        else if (std::optional<int> status = detail::as_status(e.code)) detail::set_status(f, *status);
    }
};

/// The Python SDK (`mcp` v1.x) client, seen through a bridge: an `McpError` whose code is a
/// JSON-RPC code. Session loss: code **+32600** (positive: the SDK's own code for it, set when
/// the server answered 404), message "Session terminated". A negative -32600 is an ordinary
/// invalid request.
struct python_sdk : detail::preset<python_sdk> {
    static constexpr std::string_view name = "Python SDK";

    static bool is_session_loss(const foreign_error& e) noexcept {
        if (e.code) return *e.code == 32600;
        return detail::icontains(e.message, "session terminated");
    }
};

/// The Go SDK client, seen through a bridge. Session loss: `ErrSessionMissing` ("session not
/// found", possibly wrapped: the type or the message says it). The SDK raises it only when the
/// 404 body is not JSON-RPC. A code, when given, is a JSON-RPC code.
struct go_sdk : detail::preset<go_sdk> {
    static constexpr std::string_view name = "Go SDK";

    static bool is_session_loss(const foreign_error& e) noexcept {
        return detail::icontains(e.type, "errsessionmissing") || detail::icontains(e.message, "session not found");
    }
};

/// The C# SDK (`ModelContextProtocol`) client, seen through a bridge.
///
/// Session loss: a message that says the session has expired ("The server returned HTTP 404 for
/// a request with an Mcp-Session-Id, indicating the session has expired. ...": a
/// `ClientTransportClosedException` or its inner `McpException`), or a
/// `ClientTransportClosedException` / `HttpRequestException` whose code (the HTTP status) is 404.
/// Any other `ClientTransportClosedException` means the transport closed (a stdio server exited):
/// a lost connection (`connection_aborted`, delivery unknown). For an `HttpRequestException` the
/// code is the HTTP status; for other types a JSON-RPC code.
struct csharp_sdk : detail::preset<csharp_sdk> {
    static constexpr std::string_view name = "C# SDK";

    static bool is_transport_closed(const foreign_error& e) noexcept {
        return detail::icontains(e.type, "clienttransportclosedexception");
    }
    static bool is_http_request_error(const foreign_error& e) noexcept {
        return detail::icontains(e.type, "httprequestexception");
    }

    static bool is_session_loss(const foreign_error& e) noexcept {
        if (detail::icontains(e.message, "session has expired")) return true;
        return (is_transport_closed(e) || is_http_request_error(e)) && e.code && *e.code == 404;
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        if (!is_transport_closed(e) && !is_http_request_error(e)) f.jsonrpc_code = e.code;
        else if (std::optional<int> status = detail::as_status(e.code)) detail::set_status(f, *status);
        if (is_transport_closed(e) && !is_session_loss(e)) {
            f.transport_error = std::make_error_code(std::errc::connection_aborted);
            f.delivered = delivery::unknown;
        }
    }
};

/// hkr04/cpp-mcp's `mcp::sse_client` (legacy HTTP+SSE; the SDK has no Streamable HTTP client):
/// `mcp::mcp_exception` (a `std::runtime_error` with `code()`, a JSON-RPC `mcp::error_code`).
/// Messages as the SDK (f1117d5) raises them, and what each becomes:
///
/// | code   | message                                                        | failure |
/// |--------|----------------------------------------------------------------|---------|
/// | -32600 | `Session not initialized` (hkr04's server, once the SSE stream re-attached to a new session) | lost session, rejected |
/// | -32700 | `Failed to parse JSON-RPC response: [json.exception.type_error.305] ...` (a non-2xx answer whose body is `{"error":"<text>"}`: hkr04's server for an unknown session, 404 "Session not found") | lost session, rejected |
/// | -32700 | `Failed to parse JSON-RPC response: [json.exception.parse_error.101] ...` (a non-2xx answer whose body is not JSON: the TypeScript SDK's SSE servers for an unknown session, 404 text "Session not found") | lost session, rejected |
/// | -32603 | `Could not establish connection` (server down)                 | `connection_refused`, not_sent |
/// | -32603 | `Message endpoint not set, SSE connection may not be established` (the SSE stream never got its endpoint) | `not_connected`, not_sent |
/// | -32603 | `Failed to read connection`, `Failed to write connection`, `Connection timed out` (httplib: the POST broke or its 30 s read timed out) | `connection_aborted` / `timed_out`, unknown |
/// | -32603 | `Timeout waiting for SSE response` (the answer never came on the stream) | `timed_out`, unknown |
///
/// The SDK raises "Failed to parse JSON-RPC response" only for a POST answered with a non-2xx
/// status whose body is not a JSON-RPC error (a JSON-RPC error body arrives with its own code and
/// is read as that); on the legacy SSE transport the server answers a POST before it runs the
/// message, so such an answer is a refusal. Trade-off of the -32700 rule: any such answer (a
/// proxy's HTML 502, a 400 "Invalid message") costs one reconnect and one replay. Without a code,
/// the messages alone decide.
struct hkr04_cpp_mcp : detail::preset<hkr04_cpp_mcp> {
    static constexpr std::string_view name = "hkr04/cpp-mcp";

    static bool code_is(const foreign_error& e, std::int64_t code) noexcept { return !e.code || *e.code == code; }

    static bool is_session_loss(const foreign_error& e) noexcept {
        if (code_is(e, -32600) && detail::icontains(e.message, "session not initialized")) return true;
        return code_is(e, -32700) && detail::icontains(e.message, "failed to parse json-rpc response");
    }

    /// The transport error an httplib failure (code -32603) stands for, and whether the request
    /// provably never left; none for other messages.
    static std::optional<std::pair<std::errc, delivery>> connection_failure(const foreign_error& e) noexcept {
        if (!code_is(e, -32603)) return std::nullopt;
        const std::string_view m = e.message;
        if (detail::icontains(m, "could not establish connection"))
            return std::pair<std::errc, delivery>{std::errc::connection_refused, delivery::not_sent};
        if (detail::icontains(m, "message endpoint not set"))
            return std::pair<std::errc, delivery>{std::errc::not_connected, delivery::not_sent};
        if (detail::icontains(m, "timeout waiting for sse response") || detail::icontains(m, "connection timed out"))
            return std::pair<std::errc, delivery>{std::errc::timed_out, delivery::unknown};
        if (detail::icontains(m, "failed to read connection") || detail::icontains(m, "failed to write connection"))
            return std::pair<std::errc, delivery>{std::errc::connection_aborted, delivery::unknown};
        return std::nullopt;
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        f.jsonrpc_code = e.code;
        if (auto c = connection_failure(e)) {
            f.transport_error = std::make_error_code(c->first);
            f.delivered = c->second;
        }
    }
};

/// 0xeb/fastmcpp's `StreamableHttpTransport`: `fastmcpp::TransportError` (a `std::runtime_error`).
/// The SDK throws the body of an error answer away, so the message holds only the status.
/// Messages as the SDK (1cd32e0) raises them, and what each becomes:
///
/// | message                                       | failure |
/// |-----------------------------------------------|---------|
/// | `StreamableHttp error: 404` (TypeScript SDK server: unknown session) | `http_status` 404, lost session, rejected |
/// | `StreamableHttp error: 400` with `had_session_id` (server-everything: "Bad Request: No valid session ID provided") | `http_status` 400, lost session, rejected |
/// | `StreamableHttp error: 400` without it        | `http_status` 400, rejected (permanent) |
/// | `StreamableHttp error: 415`                   | `http_status` 415, rejected (permanent): fastmcpp sends `Content-Type` twice and TypeScript SDK servers refuse it; see docs/wrapping-clients.md |
/// | `StreamableHttp request failed: no response`  | `connection_aborted`, unknown: refused, reset, or its 300 s read timeout (the SDK does not say which) |
/// | `JSON-RPC error: <message>`                   | message only (the SDK drops the code): permanent |
///
/// Trade-off of the 400 rule: a 400 on a request that carried a session id costs at most one
/// reconnect and one replay when it really was a validation error (the replay gets the same 400,
/// and the retry policy ends the call with it). Set `foreign_error::had_session_id` (or pass it
/// to the exception overload) from the SDK's `StreamableHttpTransport::has_session()` taken
/// before the call. Before re-initializing, clear the stale session id (`client.disconnect(true)`)
/// or build a new `Client`, or the new `initialize` carries the dead id.
struct fastmcpp : detail::preset<fastmcpp> {
    static constexpr std::string_view name = "0xeb/fastmcpp";

    static std::optional<int> status(const foreign_error& e) noexcept {
        return detail::status_after(e.message, "streamablehttp error: ");
    }
    static bool is_session_loss(const foreign_error& e) noexcept {
        const std::optional<int> s = status(e);
        return s == 404 || (s == 400 && e.had_session_id);
    }
    static bool is_no_response(const foreign_error& e) noexcept {
        return detail::icontains(e.message, "streamablehttp request failed: no response");
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        if (std::optional<int> s = status(e)) {
            detail::set_status(f, *s);
        } else if (is_no_response(e)) {
            f.transport_error = std::make_error_code(std::errc::connection_aborted);
        }
    }
};

/// caomengxuan666/cxxmcp: `mcp::core::Error` (`code`, `message`, `detail`) in a
/// `mcp::core::Result<T>` (a `tl::expected`). Messages as the SDK (43507d3) returns them, and what
/// each becomes:
///
/// | code   | message                                              | detail | failure |
/// |--------|------------------------------------------------------|--------|---------|
/// | -32600 | `http transport session was terminated` (its own re-initialize after a 404 failed too) | `404` | `http_status` 404, lost session, rejected |
/// | -32603 | `http transport request returned an error status` with `had_session_id` (server-everything's 400 "No valid session ID provided", whose body has no `id`, which the SDK cannot read) | `400` | `http_status` 400, lost session, rejected |
/// | -32603 | the same, without `had_session_id`                   | `400`  | `http_status` 400, rejected (permanent) |
/// | -32603 | `http transport request failed` (server down)        | `Could not establish connection` | `connection_refused`, not_sent |
/// | -32603 | `http transport request failed`                      | other httplib errors (`Failed to read connection`, ...) | `connection_aborted`, unknown |
/// | -32603 | `http transport request timed out`                   |        | `timed_out`, unknown |
///
/// A 404 usually never reaches you: the SDK clears the session, re-initializes and resends the
/// request itself, once per call (not single-flight: 8 callers on a lost session open 8
/// sessions). Trade-off of the 400 rule, as for fastmcpp: a real validation 400 on a request that
/// carried a session id costs at most one reconnect and one replay.
struct cxxmcp : detail::preset<cxxmcp> {
    static constexpr std::string_view name = "caomengxuan666/cxxmcp";

    static bool is_error_status(const foreign_error& e) noexcept {
        return detail::icontains(e.message, "http transport request returned an error status");
    }
    static bool is_session_loss(const foreign_error& e) noexcept {
        if ((!e.code || *e.code == -32600) && detail::icontains(e.message, "session was terminated")) return true;
        return e.had_session_id && is_error_status(e) && detail::status_of(e.detail) == 400;
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        f.jsonrpc_code = e.code;
        if (std::optional<int> s = detail::status_of(e.detail)) {
            detail::set_status(f, *s);
        } else if (detail::icontains(e.message, "http transport request failed")) {
            const bool refused = detail::icontains(e.detail, "could not establish connection");
            f.transport_error = std::make_error_code(refused ? std::errc::connection_refused : std::errc::connection_aborted);
            if (refused) f.delivered = delivery::not_sent;
        } else if (detail::icontains(e.message, "http transport request timed out")) {
            f.transport_error = std::make_error_code(std::errc::timed_out);
        }
    }
};

/// itcv-GmbH/cpp-mcp-sdk: `std::runtime_error` with "Unexpected HTTP status <status> (expected
/// 200)." or, for a 400, "HTTP 400: <body>". The status becomes `http_status`. Session loss: 404
/// (the SDK has already cleared its session state), or 400 whose body has a lost-session phrase
/// ("No valid session ID provided").
struct itcv_cpp_mcp_sdk : detail::preset<itcv_cpp_mcp_sdk> {
    static constexpr std::string_view name = "itcv-GmbH/cpp-mcp-sdk";

    static std::optional<int> status(const foreign_error& e) noexcept {
        if (std::optional<int> s = detail::status_after(e.message, "unexpected http status ")) return s;
        const std::string_view m = e.message;
        if (m.size() >= 9 && detail::find_ascii_icase(m.substr(0, 5), "http ") == 0 && m[8] == ':')
            return detail::status_after(m.substr(0, 8), "http ");
        return std::nullopt;
    }
    static bool is_session_loss(const foreign_error& e) noexcept {
        const std::optional<int> s = status(e);
        return s == 404 || (s == 400 && detail::names_lost_session(e.message));
    }

    static void describe(const foreign_error& e, failure& f) noexcept {
        if (std::optional<int> s = status(e)) detail::set_status(f, *s);
    }
};

}  // namespace presets

/// A rule (`classifier_rule`) that recognises the SDKs' own session-loss signals in a failure's
/// code and message, where the core's `session_message_rules` does not:
///
/// - JSON-RPC code +32600 (Python SDK);
/// - "Session not initialized" with code -32600 or none (hkr04/cpp-mcp);
/// - "session was terminated" with code -32600 or none (cxxmcp);
/// - "Failed to parse JSON-RPC response" with code -32700 or none (hkr04/cpp-mcp: a refused POST
///   whose body is not a JSON-RPC error, such as a server's 404 "Session not found");
/// - "StreamableHttp error: 404" (fastmcpp), "StreamableHttp error: 400" on a request that carried
///   a session id (fastmcpp against server-everything), and "Unexpected HTTP status 404" (itcv cpp-mcp-sdk);
/// - HTTP 400 with "http transport request returned an error status" on a request that carried a
///   session id (cxxmcp against server-everything: a body it could not read).
///
/// Decides `session_expired` or has no opinion. Same scope as `session_message_rules`: never for
/// a cancellation, nor for HTTP 401, 403, 429 or 2xx. noexcept, no allocation.
class sdk_session_rules {
public:
    std::optional<failure_kind> match(const failure& f) const noexcept {
        if (is_cancellation(f.transport_error)) return std::nullopt;
        const int status = f.http_status;
        if (status == 401 || status == 403 || status == 429 || (status >= 200 && status < 300)) return std::nullopt;
        return is_sdk_session_loss(f) ? std::optional<failure_kind>(failure_kind::session_expired) : std::nullopt;
    }

    /// The signals above, without the scope checks.
    static bool is_sdk_session_loss(const failure& f) noexcept {
        const std::string_view m = f.message.view();
        if (f.jsonrpc_code && *f.jsonrpc_code == 32600) return true;
        const bool invalid_request_or_none = !f.jsonrpc_code || *f.jsonrpc_code == -32600;
        if (invalid_request_or_none &&
            (detail::icontains(m, "session not initialized") || detail::icontains(m, "session was terminated")))
            return true;
        if ((!f.jsonrpc_code || *f.jsonrpc_code == -32700) && detail::icontains(m, "failed to parse json-rpc response"))
            return true;
        if (f.http_status == 400 && f.had_session_id && detail::icontains(m, "http transport request returned an error status"))
            return true;
        const std::optional<int> fastmcpp_status = detail::status_after(m, "streamablehttp error: ");
        return fastmcpp_status == 404 || (fastmcpp_status == 400 && f.had_session_id) ||
               detail::status_after(m, "unexpected http status ") == 404;
    }
};

/// `sdk_session_rules`, then the core's `default_classifier`: the classifier for clients wrapped
/// with the presets. Default construction does not allocate; `classify` is noexcept.
class sdk_classifier : public first_match<sdk_session_rules, default_classifier> {
public:
    sdk_classifier() = default;

    /// The core's phrase rules, to add a server's own phrases.
    session_message_rules& session_rules() noexcept { return get<1>().session_rules(); }
    const session_message_rules& session_rules() const noexcept { return get<1>().session_rules(); }
};

static_assert(is_classifier_rule_v<sdk_session_rules>, "sdk_session_rules must model classifier_rule");
static_assert(is_classifier_v<sdk_classifier>, "sdk_classifier must model classifier");

}  // namespace mcp_recovery::callable

#endif
