// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_RECORDS_HPP
#define MCP_RECOVERY_BEAST_TESTING_RECORDS_HPP

/// What a `flaky_server` records of the conversation for a test to read: the clients' answers to
/// its server requests (`client_answer`) and the cancellations they sent (`cancellation`).
/// Standard library only.

#include <string>

namespace mcp_recovery::beast::testing {

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

}  // namespace mcp_recovery::beast::testing

#endif
