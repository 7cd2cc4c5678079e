// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_FLAKY_SERVER_OPTIONS_HPP
#define MCP_RECOVERY_BEAST_TESTING_FLAKY_SERVER_OPTIONS_HPP

/// `flaky_server_options`: how a `flaky_server` is built (port, modes, bounds, features).
/// Standard library only.

#include "mcp_recovery/beast/testing/fault.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace mcp_recovery::beast::testing {

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
    /// Forget a session that has heard no request, notification or GET for longer than this, as
    /// servers drop idle sessions: the next message with its id gets the lost-session answer.
    /// Checked when a message for the session arrives (the age is the time since the one before).
    /// None (the default): sessions are kept until expired, deleted or restarted.
    std::optional<std::chrono::milliseconds> session_idle_timeout;
    /// Enforce the lifecycle order as the Python SDK's server does: a request other than
    /// `initialize` and `ping` in a session whose `notifications/initialized` has not arrived is
    /// not executed and is answered with the JSON-RPC error -32602 `Invalid request parameters`
    /// (the Python SDK logs "Received request before initialization was complete"). Counted in
    /// `flaky_server::requests_before_initialized()`. False (the default): not checked.
    bool require_initialized = false;
};

}  // namespace mcp_recovery::beast::testing

#endif
