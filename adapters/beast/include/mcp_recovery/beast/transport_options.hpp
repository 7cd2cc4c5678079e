// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TRANSPORT_OPTIONS_HPP
#define MCP_RECOVERY_BEAST_TRANSPORT_OPTIONS_HPP

/// `transport_options`: the settings of both Beast transports. Standard library only.

#include "mcp_recovery/beast/conversation.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_recovery::beast {

/// Settings of `streamable_http_transport`. Every limit bounds memory or time, whatever the
/// server does.
struct transport_options {
    std::string url;  ///< `http://host:port/path` or `https://...` (https needs MCP_RECOVERY_BEAST_TLS).

    // initialize parameters (sent again, identical, on every reconnect)
    std::string client_name = "mcp-recovery";
    std::string client_version = "0.1.0";
    std::string capabilities = "{}";              ///< JSON object.
    /// Requested; the server may answer another supported one. "2026-07-28" (or later) selects
    /// the sessionless revision: no initialize, no session id, `reconnect()` only renews connections.
    std::string protocol_version = "2025-06-18";

    // time
    duration connect_timeout = std::chrono::seconds(10);  ///< resolve + connect + TLS handshake
    duration write_timeout = std::chrono::seconds(10);
    duration read_timeout = std::chrono::seconds(60);  ///< until the headers, and between two reads of a body or stream
    /// Longest wait for one whole response, from the end of writing the request to the end of a
    /// JSON body or to the response event of an event stream, however the server keeps the
    /// connection busy (keep-alive comments, other messages, one byte a minute): a call made
    /// without a deadline still ends. On top of `read_timeout`, which bounds each read. Expiry is
    /// `std::errc::timed_out` (delivery unknown) with a message that names `response_timeout`.
    duration response_timeout = std::chrono::minutes(5);
    /// After the response arrived on an event stream, how long to wait for the server to end
    /// that stream (as the spec says it should) so that the connection can be reused; a stream
    /// still open then, or longer than 64 KiB, is closed instead. 0: close at once.
    duration stream_drain_timeout = std::chrono::milliseconds(5);

    // stream resumption (SEP-1699): when the event stream answering a request ends or breaks
    // (EOF, reset; not a timeout) before the response, after at least one event with an `id:`,
    // the transport waits, then GETs the endpoint with `Last-Event-ID` to receive the rest.
    // Only for revisions with sessions (not 2026-07-28), and never past the call's deadline.
    /// Resumption GETs per request; 0 disables resumption.
    std::size_t max_resume_attempts = 2;
    /// Wait before a resumption GET when the stream gave no `retry:` (a `retry:` value is waited exactly).
    duration resume_delay = std::chrono::seconds(1);
    /// Longest wait before a resumption GET: a larger `retry:` from the server is cut to this.
    duration max_resume_delay = std::chrono::seconds(30);

    // the connection pool
    std::size_t max_idle_connections = 16;              ///< pooled connections kept for reuse
    duration max_idle = std::chrono::seconds(4);       ///< pooled connections idle longer are not reused
    /// A server's `Keep-Alive: timeout=N` is believed less this margin (half of N when N is
    /// shorter than twice the margin): a pooled connection is not reused later than that.
    duration keep_alive_margin = std::chrono::seconds(1);

    // size
    std::size_t max_header_size = 16 * 1024;
    std::size_t max_body_size = 8 * 1024 * 1024;    ///< JSON body
    std::size_t max_error_body_size = 64 * 1024;     ///< body of an HTTP error status
    std::size_t max_event_size = 8 * 1024 * 1024;   ///< one SSE event
    std::size_t max_stream_size = 64 * 1024 * 1024;  ///< one SSE response stream in total
    std::size_t max_session_id_size = 1024;
    /// Interim (1xx) responses skipped before the final one (each bounded by `max_header_size`);
    /// one more, or a 101, is `transport_errc::malformed_response`.
    std::size_t max_interim_responses = 8;

    // TLS (https): verification of the certificate and of the host name is on by default.
    bool tls_verify = true;
    std::string tls_ca_file;  ///< Extra CA bundle (PEM); the system's default paths are always used.

    /// Every server notification and request, as JSON text, from a call's stream or the listening
    /// stream. Called on the reading thread; must not call back into the transport.
    std::function<void(std::string_view message)> on_message;

    // the server's side of the conversation (conversation.hpp, docs/conversation.md)
    /// Answers to server requests, by method. A request is answered by a POST with the session id
    /// (on another connection, while its stream stays open), within the deadline of the call it
    /// arrived on. Without a handler, `ping` is answered `{}` and anything else -32601 "Method not
    /// found": no server is ever left waiting. The `initialize` capabilities follow the handlers
    /// (`sampling/createMessage` → `sampling`, `elicitation/create` → `elicitation`, `roots/list`
    /// → `roots`), added to `capabilities` when not written there.
    server_request_handlers server_requests;
    /// Every server notification (method and raw `params`, empty when absent), from a call's
    /// stream or the listening stream. Called on the reading thread; must not call back into the transport.
    std::function<void(std::string_view method, std::string_view params)> on_notification;
    /// A call's `notifications/progress` restarts its `response_timeout` (as the TypeScript SDK's
    /// `resetTimeoutOnProgress`); never past the call's deadline.
    bool reset_timeout_on_progress = false;
    /// A call abandoned after its request was written (deadline passed, timed out, cancelled)
    /// sends `notifications/cancelled` with its id, in the background (it never delays the caller),
    /// bounded by `cancel_timeout`. Best effort: a server that is down never hears it.
    bool send_cancelled = true;
    duration cancel_timeout = std::chrono::seconds(2);

    // the listening stream (GET), see `listen()` of the transports
    /// Open the GET listening stream once the session is ready (after `connect()`, or after a
    /// recovering client's `on_reconnected` hook). 405 from the server: it has none, not tried
    /// again for that session. Sessionless revisions have none.
    bool listen = false;
    /// First wait before the listening stream is resumed (`Last-Event-ID`) or re-opened after a
    /// drop; doubled after each failure up to `max_resume_delay`; a `retry:` is honoured.
    duration listen_retry_delay = std::chrono::milliseconds(500);
    /// Failed attempts in a row, in one session, before the listener waits for a new session.
    std::size_t max_listen_attempts = 6;
    /// A listening stream silent this long is re-opened (with `Last-Event-ID`): a dead peer is found.
    duration listen_idle_timeout = std::chrono::minutes(5);
    /// Bearer token provider: called on connect and by `refresh_auth()` (after a 401). Empty: no
    /// Authorization header. Return an error failure when no token can be had.
    std::function<outcome<std::string>()> token_provider;
    /// Extra headers on every request (e.g. an API key). Names and values are validated.
    std::vector<std::pair<std::string, std::string>> headers;

    /// Recognise a lost session answered in band: a 2xx answer (a JSON body, or the response event
    /// of a stream) to a request that carried a session id, whose JSON-RPC *error* (never a
    /// result, so never a tool's `isError`) has code -32001, -32600 or -32000 and a message with
    /// one of the default lost-session phrases (`session_message_rules`), e.g. a gateway's
    /// `200 {"error":{"code":-32001,"message":"Session not found"}}`. Such an answer becomes a
    /// `failure` (`transport_errc::session_lost`, the HTTP status, the JSON-RPC code and message,
    /// `delivery::rejected`), which recovery treats as a lost session. false: returned as a
    /// response (a JSON-RPC error), as any other.
    bool in_band_session_loss = true;

    /// After a `reconnect`, send `notifications/initialized` together with the next request of
    /// the new session on one keep-alive connection (HTTP/1.1 pipelining: both are written before
    /// either answer is read) instead of waiting for its 202 first: a recovery costs three round
    /// trips instead of four. The order the server sees is unchanged (an HTTP/1.1 server handles
    /// the requests of a connection in order, and one that will not sends `Connection: close` and
    /// reads nothing more: the request then goes alone on a new connection), and every other
    /// request of the session waits until the notification has been answered, as without it.
    /// A listening stream, `notify()` and `terminate()` send it first on their own when no request
    /// carried it. Its refusal (a non-2xx answer) no longer fails the reconnect: the request it
    /// went with is answered as the server answers it, and `conversation().initialized_refused`
    /// counts it. See docs/reliability.md ("Pipelined initialized"). false: the notification is
    /// sent and answered within `reconnect()`, as before.
    bool pipeline_initialized = true;
};

}  // namespace mcp_recovery::beast

#endif
