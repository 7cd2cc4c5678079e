// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_ERROR_HPP
#define MCP_RECOVERY_ERROR_HPP

#include "mcp_recovery/failure.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace mcp_recovery {

/// Why a recovering call gave up. Each value says what the application can conclude.
enum class errc {
    retries_exhausted = 1,  ///< The retry policy allowed no further attempt.
    not_replayable,         ///< The request may already have run and is not idempotent: outcome unknown.
    reconnect_failed,       ///< A new session could not be established.
    circuit_open,           ///< Recent reconnects all failed; failing fast until the cool-down passes.
    deadline_exceeded,      ///< The call's deadline passed, or the next wait would have passed it.
    cancelled,              ///< The caller cancelled.
    permanent_failure,      ///< The failure is not one that recovery can help (see the last failure).
    unauthorized,           ///< Credentials were refused and could not be refreshed.
};

namespace detail {

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::retries_exhausted: return "the retry policy allows no further attempt";
        case errc::not_replayable:
            return "the request may already have been executed and is not idempotent; outcome unknown";
        case errc::reconnect_failed: return "could not reconnect to the server (a new session or connection)";
        case errc::circuit_open: return "reconnects keep failing; circuit open until the cool-down passes";
        case errc::deadline_exceeded: return "the call's deadline was reached";
        case errc::cancelled: return "the call was cancelled";
        case errc::permanent_failure: return "the request failed and recovery cannot help";
        case errc::unauthorized: return "the server refused the credentials and they could not be refreshed";
        }
        return "unknown mcp_recovery error";
    }
};

}  // namespace detail

/// The category of `errc` values. One instance per program.
inline const std::error_category& error_category() noexcept {
    static const detail::error_category_impl category;
    return category;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// What a transport reports in `failure::transport_error` when the trouble is not a plain I/O
/// error (those come as `std::errc`/Asio codes: refused, reset, eof, timed_out).
///
/// The first two mean the connection or stream is gone (`connection_lost`); the others mean the
/// server's answer cannot be used, and sending again would get the same (`permanent`).
enum class transport_errc {
    not_connected = 1,             ///< No session is open yet: a reconnect opens one.
    stream_ended,                  ///< The response stream ended before the response arrived.
    malformed_response,            ///< The answer is not valid HTTP, JSON or JSON-RPC, or has the wrong id.
    response_too_large,            ///< The answer exceeds a configured limit (body, event, header).
    invalid_session_id,            ///< The server sent a session id outside visible ASCII (0x21-0x7E).
    unsupported_protocol_version,  ///< The server negotiated a protocol version the client does not speak.
    redirect_refused,              ///< The server answered with a redirect; redirects are never followed.
    tls_failed,                    ///< The TLS handshake or certificate verification failed.
    session_lost,                  ///< A successful HTTP answer carried the server's lost-session error
                                   ///< (an in-band JSON-RPC error naming a lost session): the server
                                   ///< refused the request on a session it does not know.
    unsupported_content_encoding,  ///< The answer's body has a `Content-Encoding` (gzip, br, ...) that
                                   ///< the client did not ask for (it sends `Accept-Encoding: identity`).
};

namespace detail {

class transport_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.transport"; }

    std::string message(int ev) const override {
        switch (static_cast<transport_errc>(ev)) {
        case transport_errc::not_connected: return "no MCP session is open";
        case transport_errc::stream_ended: return "the response stream ended before the response arrived";
        case transport_errc::malformed_response: return "the server's answer is malformed";
        case transport_errc::response_too_large: return "the server's answer exceeds a size limit";
        case transport_errc::invalid_session_id:
            return "the server sent a session id with characters outside visible ASCII";
        case transport_errc::unsupported_protocol_version:
            return "the server negotiated an unsupported protocol version";
        case transport_errc::redirect_refused: return "the server answered with a redirect, which is not followed";
        case transport_errc::tls_failed: return "TLS handshake or certificate verification failed";
        case transport_errc::session_lost:
            return "the server answered, inside a successful response, that it does not know the session";
        case transport_errc::unsupported_content_encoding:
            return "the server encoded its answer with a Content-Encoding the client did not ask for";
        }
        return "unknown mcp_recovery transport error";
    }
};

}  // namespace detail

/// The category of `transport_errc` values.
inline const std::error_category& transport_category() noexcept {
    static const detail::transport_category_impl category;
    return category;
}

inline std::error_code make_error_code(transport_errc e) noexcept {
    return {static_cast<int>(e), transport_category()};
}

/// What an error code means for recovery, whatever its category: compare with `==`
/// (`ec == condition::session_lost`), as with Beast's `condition` or `std::errc`.
///
/// | condition | error codes equivalent to it |
/// |---|---|
/// | `cancelled` | `std::errc::operation_canceled` (and what its category maps to it, e.g. Asio's `operation_aborted` on POSIX), `errc::cancelled` |
/// | `session_lost` | `transport_errc::session_lost` (the server's in-band lost-session error) |
/// | `connection_lost` | `transport_errc::not_connected`, `transport_errc::stream_ended`; `std::errc::connection_refused`, `connection_reset`, `connection_aborted`, `broken_pipe`, `not_connected`, `network_down`, `network_reset`, `network_unreachable`, `host_unreachable` |
/// | `unusable_answer` | every other `transport_errc`: malformed, too large, bad session id, unsupported protocol version or content encoding, redirect, TLS |
/// | `retryable` | the `errc` of a call that gave up with nothing run twice and may succeed later: `retries_exhausted`, `reconnect_failed`, `circuit_open`, `deadline_exceeded` |
///
/// `retryable` says nothing about `not_replayable` (the request may have run: check before
/// repeating it), `cancelled`, `permanent_failure` and `unauthorized` (a repeat fails alike).
enum class condition {
    cancelled = 1,    ///< The caller cancelled.
    session_lost,     ///< The server does not know the session.
    connection_lost,  ///< The connection or the response stream is gone (or was never opened).
    unusable_answer,  ///< The server's answer cannot be used; sending again would get the same.
    retryable,        ///< A call gave up, nothing ran twice, and the same call may succeed later.
};

namespace detail {

class condition_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.condition"; }

    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::cancelled: return "the operation was cancelled";
        case condition::session_lost: return "the server does not know the session";
        case condition::connection_lost: return "the connection to the server is lost";
        case condition::unusable_answer: return "the server's answer cannot be used";
        case condition::retryable: return "the call gave up; it may succeed if made again later";
        }
        return "unknown mcp_recovery condition";
    }

    bool equivalent(const std::error_code& code, int cond) const noexcept override {
        switch (static_cast<condition>(cond)) {
        case condition::cancelled:
            return code == std::errc::operation_canceled || is(code, errc::cancelled);
        case condition::session_lost: return is(code, transport_errc::session_lost);
        case condition::connection_lost:
            if (code.category() == transport_category())
                return is(code, transport_errc::not_connected) || is(code, transport_errc::stream_ended);
            return code == std::errc::connection_refused || code == std::errc::connection_reset ||
                   code == std::errc::connection_aborted || code == std::errc::broken_pipe ||
                   code == std::errc::not_connected || code == std::errc::network_down ||
                   code == std::errc::network_reset || code == std::errc::network_unreachable ||
                   code == std::errc::host_unreachable;
        case condition::unusable_answer:
            return code.category() == transport_category() && !is(code, transport_errc::not_connected) &&
                   !is(code, transport_errc::stream_ended) && !is(code, transport_errc::session_lost);
        case condition::retryable:
            return is(code, errc::retries_exhausted) || is(code, errc::reconnect_failed) ||
                   is(code, errc::circuit_open) || is(code, errc::deadline_exceeded);
        }
        return false;
    }

private:
    static bool is(const std::error_code& code, errc e) noexcept {
        return code.category() == ::mcp_recovery::error_category() && code.value() == static_cast<int>(e);
    }
    static bool is(const std::error_code& code, transport_errc e) noexcept {
        return code.category() == transport_category() && code.value() == static_cast<int>(e);
    }
};

}  // namespace detail

/// The category of `condition` values.
inline const std::error_category& condition_category() noexcept {
    static const detail::condition_category_impl category;
    return category;
}

inline std::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

}  // namespace mcp_recovery

namespace std {
template <>
struct is_error_code_enum<mcp_recovery::errc> : true_type {};
template <>
struct is_error_code_enum<mcp_recovery::transport_errc> : true_type {};
template <>
struct is_error_condition_enum<mcp_recovery::condition> : true_type {};
}  // namespace std

namespace mcp_recovery {

/// Whether an error code means the caller cancelled the operation: `ec == condition::cancelled`.
///
/// True for anything equivalent to `std::errc::operation_canceled` (generic or system category,
/// which covers Asio's `operation_aborted` on POSIX) and for `mcp_recovery::errc::cancelled`.
/// Every classifier here treats such a failure as `cancelled` whatever else it carries.
inline bool is_cancellation(const std::error_code& ec) noexcept { return ec == condition::cancelled; }

/// Whether a transport error says the answer itself is unusable (so a retry cannot help):
/// `ec == condition::unusable_answer`.
inline bool is_unusable_answer(const std::error_code& ec) noexcept { return ec == condition::unusable_answer; }

/// Why a call ended without a response: the reason, and the last failure the server or the
/// transport reported (absent when the call gave up before any attempt failed).
struct call_error {
    std::error_code code;
    /// The last failure reported: the request's own, or that of the recovery step that ended the
    /// call (the failed `initialize` of a reconnect, the failed credential refresh).
    std::optional<failure> last_failure;
    /// With `circuit_open`: how long until the next reconnect probe is allowed.
    duration retry_after{};
    /// When a recovery step ended the call (reconnect, reopen, credential refresh): the request's
    /// own last failure, e.g. the 401 whose refresh failed. Empty otherwise.
    std::optional<failure> request_failure{};
};

/// Thrown by the throwing `call` overload. Carries the same information as `call_error`.
class recovery_error : public std::system_error {
public:
    /// `what()`: the details of `e` (the circuit's next probe, the last failure, the request's
    /// failure), then the reason (`e.code.message()`). A reason that already says the delivery
    /// (`not_replayable`: the request may have run) is not repeated by the details.
    explicit recovery_error(call_error e) : recovery_error(describe(e), std::move(e)) {}

    const call_error& error() const noexcept { return error_; }
    const std::optional<failure>& last_failure() const noexcept { return error_.last_failure; }

private:
    // `e` by reference: the public constructor's `describe(e)` may be evaluated after binding it.
    recovery_error(const std::string& details, call_error&& e)
        : std::system_error(details.empty() ? std::system_error(e.code) : std::system_error(e.code, details)),
          error_(std::move(e)) {}

    static std::string describe(const call_error& e) {
        // The reason of `not_replayable` is the delivery: the details do not say it again.
        const bool says_delivery = e.code == make_error_code(errc::not_replayable);
        std::string s;
        if (e.code == make_error_code(errc::circuit_open)) {
            s += "next reconnect probe in " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(e.retry_after).count()) + " ms";
        }
        append(s, "last failure:", e.last_failure, !says_delivery);
        append(s, "the request's failure:", e.request_failure, !says_delivery);
        return s;
    }

    // "; <label> <what f says>", when there is something to say.
    static void append(std::string& s, const char* label, const std::optional<failure>& f, bool with_delivery) {
        if (!f) return;
        const std::string details = describe(*f, with_delivery);
        if (details.empty()) return;
        if (!s.empty()) s += "; ";
        s += label;
        s += details;
    }

    static std::string describe(const failure& f, bool with_delivery) {
        std::string s;
        if (!f.method.empty()) {
            s += " answering ";
            s += f.method;
            s += ':';
        }
        if (f.http_status != 0) s += " HTTP " + std::to_string(f.http_status);
        if (f.jsonrpc_code) s += " JSON-RPC " + std::to_string(*f.jsonrpc_code);
        if (f.transport_error) s += " " + f.transport_error.message();
        if (!f.message.empty()) {
            s += " \"";
            s += f.message.view();
            s += '"';
        }
        if (with_delivery) {
            s += " (delivery ";
            s += to_string(f.delivered);
            s += ')';
        }
        return s;
    }

    call_error error_;
};

}  // namespace mcp_recovery

#endif
