// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_FAILURE_HPP
#define MCP_RECOVERY_FAILURE_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/time.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace mcp_recovery {

/// Whether the server may have executed a request that failed.
///
/// This is what decides if a non-idempotent request may be sent again.
enum class delivery : unsigned char {
    not_sent,  ///< The request never left the client (connect refused, DNS, ...).
    rejected,  ///< The server answered without executing it (404 session, 401, 429, 400, ...).
    unknown,   ///< It may have run: the connection broke after the request was written.
};

/// What a classifier decided a failure means; drives what the client does next.
enum class failure_kind : unsigned char {
    session_expired,  ///< The server forgot the session: re-initialize once, then replay.
    connection_lost,  ///< Refused, reset, EOF, timeout: reconnect; replay only if replay-safe.
    throttled,        ///< 429, or 503 with Retry-After: wait (bounded) and retry on the same session.
    transient,        ///< 408, 500, 502, 504, 503 without Retry-After: back off and retry if replay-safe.
    unauthorized,     ///< 401, or 403 with WWW-Authenticate: refresh credentials once, retry.
    cancelled,        ///< The caller cancelled: stop now, never retry, never reconnect.
    permanent,        ///< Anything else: surfaced unchanged.
};

constexpr std::string_view to_string(delivery d) noexcept {
    switch (d) {
    case delivery::not_sent: return "not_sent";
    case delivery::rejected: return "rejected";
    case delivery::unknown: return "unknown";
    }
    return "invalid";
}

constexpr std::string_view to_string(failure_kind k) noexcept {
    switch (k) {
    case failure_kind::session_expired: return "session_expired";
    case failure_kind::connection_lost: return "connection_lost";
    case failure_kind::throttled: return "throttled";
    case failure_kind::transient: return "transient";
    case failure_kind::unauthorized: return "unauthorized";
    case failure_kind::cancelled: return "cancelled";
    case failure_kind::permanent: return "permanent";
    }
    return "invalid";
}

/// Text a server sent with a failure, cut to `max_size` bytes.
///
/// Servers control this text, so it is bounded: a hostile or broken server cannot make a
/// failure arbitrarily large, and classifying it stays cheap.
class failure_message {
public:
    static constexpr std::size_t max_size = 1024;

    failure_message() = default;
    failure_message(std::string_view text) : text_(text.substr(0, max_size)) {}  // NOLINT: implicit by design
    failure_message(const char* text) : failure_message(std::string_view(text)) {}  // NOLINT
    failure_message(const std::string& text) : failure_message(std::string_view(text)) {}  // NOLINT

    std::string_view view() const noexcept { return text_; }
    const std::string& str() const noexcept { return text_; }
    bool empty() const noexcept { return text_.empty(); }
    std::size_t size() const noexcept { return text_.size(); }

    friend bool operator==(const failure_message& a, std::string_view b) noexcept { return a.view() == b; }
    friend bool operator!=(const failure_message& a, std::string_view b) noexcept { return a.view() != b; }

private:
    std::string text_;
};

/// Plain data describing why a request produced no result. Adapters fill it; classifiers read it.
///
/// A JSON-RPC error *response* (an unknown method, invalid params, answered with 200) is not a
/// failure: it is a response and reaches the application unchanged; so is a tool that failed,
/// which is not even a JSON-RPC error but a result with `isError` true. A failure is what stopped
/// a response from arriving: a transport error or an HTTP error status.
struct failure {
    /// I/O error, empty when the server answered (refused, reset, eof, timed_out, operation_canceled).
    std::error_code transport_error;
    /// HTTP status of the answer; 0 when there was none.
    int http_status = 0;
    /// JSON-RPC `error.code` from the body, when the body had one.
    std::optional<std::int64_t> jsonrpc_code;
    /// `error.message` from a JSON-RPC body, or the text of a plain-text body.
    failure_message message;
    /// Whether the failed request carried an `Mcp-Session-Id`.
    bool had_session_id = false;
    /// Whether a 401/403 carried `WWW-Authenticate`.
    bool www_authenticate = false;
    /// Server's hint how long to wait (Retry-After, or SSE `retry:`).
    std::optional<duration> retry_after;
    /// Whether the server may have executed the request.
    delivery delivered = delivery::unknown;
    /// The method of the request that failed, when it was not the caller's own request: set by
    /// transports for the steps of a reconnect (`initialize`, `notifications/initialized`), so
    /// that an error can say "the endpoint answered 404 to initialize". Empty otherwise.
    std::string method;
};

}  // namespace mcp_recovery

#endif
