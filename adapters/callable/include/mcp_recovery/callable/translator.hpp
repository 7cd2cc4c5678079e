// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALLABLE_TRANSLATOR_HPP
#define MCP_RECOVERY_CALLABLE_TRANSLATOR_HPP

#include "mcp_recovery/failure.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <system_error>

/// Translators: what a wrapped client raised, as a `failure` the classifier can read.
///
/// Translator requirements, for `t` a `const Translator&`:
///
/// | Expression                | Type      | Semantics |
/// |---------------------------|-----------|-----------|
/// | `t(std::exception_ptr e)` | `failure` | Optional. An exception a callable threw. Without it, `default_translator` handles exceptions. |
/// | `t(err)`                  | `failure` | Needed for each error type `E` that a callable returns in an expected-like result (`err` an `E`). |
///
/// A translator fills what it knows: the HTTP status and JSON-RPC code it can see, the message,
/// whether the request carried a session id and above all **`delivery`**. Leave `delivery` at
/// `unknown` unless you know better: an error thrown after the client was asked to send may
/// come from a request the server already executed, and only `not_sent`/`rejected` let the
/// recovering client replay a request that is not idempotent.
///
/// A translator may throw; the transport then reports a failure that says so (it never lets the
/// exception out). Models: `default_translator`, and every preset in `presets.hpp`.

namespace mcp_recovery::callable {

/// An error raised by another MCP client SDK, as it reaches your code: its type name, message,
/// numeric code and extra detail.
///
/// The library cannot name the exception types of other SDKs, so you copy their fields into this
/// plain struct and hand it to a preset (`presets.hpp`), which knows what that SDK means by them.
struct foreign_error {
    /// The error's type as the SDK names it ("StreamableHTTPError", "mcp::mcp_exception", ...).
    /// Empty when unknown; only presets whose SDK reuses one code field for different things read it.
    std::string type;
    /// The error's message (`what()`, `Error.message`, ...).
    std::string message;
    /// The numeric code the error carries, if any: a JSON-RPC code or an HTTP status (the preset knows which).
    std::optional<std::int64_t> code;
    /// Extra text the SDK attaches (cxxmcp's `Error::detail`, a JSON-RPC error's `data`).
    std::string detail;
    /// Whether the failed request carried a session id. Only your wrapper knows it (ask the SDK's
    /// client before the call); presets whose SDK hides the server's answer read it: fastmcpp's
    /// bare "StreamableHttp error: 400" counts as a lost session only when it is set.
    bool had_session_id = false;
};

/// The translator used when none is given: the standard library's error types, read literally.
///
/// - `std::system_error` (and a returned `std::error_code`): `transport_error` is its code, which
///   the core classifies as a lost connection (or `cancelled` for `operation_canceled`).
///   `delivery` is `not_sent` for `connection_refused` (nothing can have been written), else `unknown`.
/// - any other `std::exception`: its `what()` as the message, `delivery::unknown`. The core's
///   classifier reads that message for the session-loss phrases it knows; anything else is `permanent`.
/// - an exception of another type: a message saying so, `delivery::unknown`.
/// - `foreign_error`: the message, the code as the JSON-RPC code, `delivery::unknown`. A preset
///   knows more; use one when the error comes from a known SDK.
///
/// Stateless; safe to call concurrently.
struct default_translator {
    failure operator()(std::exception_ptr e) const {
        failure f;
        if (!e) {
            f.message = "mcp_recovery::callable: no exception to translate";
            return f;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::system_error& x) {
            f = (*this)(x.code());
            f.message = x.what();
        } catch (const std::exception& x) {
            f.message = x.what();
        } catch (...) {
            f.message = "mcp_recovery::callable: an exception not derived from std::exception";
        }
        return f;
    }

    failure operator()(const std::error_code& ec) const noexcept {
        failure f;
        f.transport_error = ec;
        f.delivered = ec == std::errc::connection_refused ? delivery::not_sent : delivery::unknown;
        return f;
    }

    failure operator()(const foreign_error& e) const {
        failure f;
        f.message = e.message;
        f.jsonrpc_code = e.code;
        return f;
    }
};

}  // namespace mcp_recovery::callable

#endif
