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
///
/// The header to include. Its parts: `fault.hpp` (response modes, lost-session styles, faults and
/// their matches), `flaky_server_options.hpp`, `records.hpp` (`client_answer`, `cancellation`),
/// and the implementation under `detail/`.
///
/// Header-only by default; with `MCP_RECOVERY_SEPARATE_COMPILATION` this header declares the same
/// class (no Boost header) and its members are compiled once, by the one file of the program that
/// includes <mcp_recovery/beast/testing/src.hpp> (the library mcp_recovery::beast_compiled has it
/// as a file of its own: it is linked only into programs that use the server).

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/testing/fault.hpp"
#include "mcp_recovery/beast/testing/flaky_server_options.hpp"
#include "mcp_recovery/beast/testing/records.hpp"

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#include "mcp_recovery/beast/testing/detail/flaky_server_impl.hpp"
#else
#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/testing/detail/protocol.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#endif

namespace mcp_recovery::beast::testing {

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)

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
class flaky_server : public detail::flaky_server_impl {
public:
    using detail::flaky_server_impl::flaky_server_impl;
};

#else

namespace detail {
class flaky_server_impl;
}  // namespace detail

// Separate compilation: the declarations of the header-only class's public members (see
// detail/flaky_server_impl.hpp for their documentation, and the class's); their definitions, in
// mcp_recovery/beast/testing/impl/flaky_server.ipp, forward to the implementation.
class flaky_server {
public:
    /// Binds 127.0.0.1 (`options.port`, 0 for any free port) and starts serving.
    /// Throws `boost::system::system_error` when the port cannot be bound.
    explicit flaky_server(flaky_server_options options = {});
    /// Calls `stop()`.
    ~flaky_server();
    flaky_server(const flaky_server&) = delete;
    flaky_server& operator=(const flaky_server&) = delete;

    /// The port bound on 127.0.0.1.
    std::uint16_t port() const noexcept;

    /// `http://127.0.0.1:<port>/mcp`.
    std::string url() const;

    /// Closes the listener and every connection (pending delays, `ask` waits, `progress` runs
    /// and listening streams end at once) and joins the I/O
    /// thread. Idempotent; the destructor calls it. Sessions, counters and faults stay readable.
    void stop() noexcept;

    /// Forgets every session (with its subscriptions, log level, kept listening-stream events
    /// and pending server requests) and closes every open connection (listening streams and
    /// waiting `ask` calls included), as a server process restart would; keeps listening, and
    /// keeps counters, records and queued faults. Returns once the
    /// connections are closed (at once after `stop()`).
    void restart();

    /// Closes every open connection (a TCP RST), keeping every session and the listener: what a
    /// proxy or load balancer does to idle keep-alive connections. Returns once done.
    void drop_connections();

    /// An outage, as when the server process is killed: closes the listener (a connect is then
    /// refused at once, ECONNREFUSED, rather than left to hang) and every connection (pending
    /// delays end), and forgets every session (as `restart()`). Counters, queued faults and
    /// settings stay. Cancels a pending come-back of `outage()`. Returns once done; no effect
    /// while down or after `stop()`.
    void go_down();

    /// Ends an outage: listens again on the same port (SO_REUSEADDR lets it bind again at once).
    /// No effect while up or after `stop()`. Throws `boost::system::system_error` when the port
    /// cannot be bound again (another socket took it meanwhile).
    void come_back();

    /// `go_down()`, then `come_back()` after `how_long` on a timer of the server's own: returns
    /// once the server is down, without waiting for the end of the outage. If the port cannot be
    /// bound again at that time, it tries again every 20 ms for 5 s, then stays down. `stop()`,
    /// `go_down()` and `come_back()` end the wait.
    void outage(std::chrono::milliseconds how_long);

    /// Whether the server listens: false after `go_down()` (until it comes back) and `stop()`.
    bool is_up() const noexcept;

    /// Outages so far: `go_down()` and `outage()` calls that took the server down.
    std::uint64_t outages() const noexcept;

    /// Keep connections alive (false, the default) or close each after its answer, which then
    /// carries `Connection: close` (`flaky_server_options::close_after_response`).
    void set_close_after_response(bool on) noexcept;

    /// Ends session `id`: later requests with it get the lost-session answer; its listening stream
    /// and its `ask` and `progress` streams close (FIN). False if unknown.
    bool expire_session(std::string_view id);

    /// Ends every session as `expire_session` does; returns how many there were.
    std::size_t expire_all_sessions();

    /// Ids of the live sessions, in no particular order.
    std::vector<std::string> session_ids() const;

    void set_lost_session_style(lost_session_style style);

    void set_response_mode(response_mode mode);

    /// Serve resumption GETs (true, the default) or refuse them with 405 (`flaky_server_options::resumption`).
    void set_resumption(bool on);

    /// Queues `f` for the next `times` POSTed messages that `match` accepts (default: any
    /// request but `initialize`).
    void inject(fault f, fault_match match = fault_match::any_request(), std::size_t times = 1);

    /// Applications of queued faults still to come.
    std::size_t pending_faults() const;

    void clear_faults();

    /// Sessions opened by `initialize`.
    std::uint64_t initializes() const noexcept;

    /// POSTs to `/mcp` read in full, whatever the answer (errors and faults included).
    std::uint64_t requests() const noexcept;

    /// How many times `count` ran for `key`, including runs whose answer was lost.
    std::uint64_t executions(std::string_view key) const;

    std::size_t sessions_alive() const noexcept;

    /// Sessions ended by DELETE.
    std::uint64_t deletes() const noexcept;

    /// Lost-session answers sent (POST and DELETE).
    std::uint64_t lost_session_answers() const noexcept;

    /// Fault applications consumed.
    std::uint64_t faults_applied() const noexcept;

    /// GETs to `/mcp` with `Last-Event-ID`, whatever the answer (405 and errors included).
    std::uint64_t resumption_requests() const noexcept;

    /// Resumption GETs answered with a replay stream (cut ones included).
    std::uint64_t resumptions() const noexcept;

    /// Connections accepted so far, and open now.
    std::uint64_t connections_accepted() const noexcept;

    std::size_t open_connections() const noexcept;

    /// Largest `client_answer::message` kept (longer messages are cut to it).
    static constexpr std::size_t max_recorded_message_size = detail::flaky_max_recorded_message;

    /// Most `client_answers()` and `cancellations()` kept each; beyond it the oldest is dropped.
    static constexpr std::size_t max_records = detail::flaky_max_records;

    /// JSON-RPC requests and notifications POSTed with `method`, whatever the answer (faults,
    /// lost sessions and errors included; responses are not counted). At most
    /// `max_counter_keys` distinct methods are counted; later new ones read 0.
    std::uint64_t seen(std::string_view method) const;

    /// How many times the tool `tool` ran (a `tools/call` with valid arguments: `echo`, `count`,
    /// `executions`, `ask`, `progress`), including runs whose answer was lost.
    std::uint64_t tool_runs(std::string_view tool) const;

    /// Every URI that a live session subscribed to (`resources/subscribe` and not
    /// `resources/unsubscribe` since), sorted, without duplicates.
    std::vector<std::string> subscriptions() const;

    /// The URIs that session `session_id` subscribed to, sorted; empty for an unknown session.
    std::vector<std::string> subscriptions(std::string_view session_id) const;

    /// The level last set by `logging/setLevel` in session `session_id`; nullopt when never set
    /// or when the session is unknown.
    std::optional<std::string> log_level(std::string_view session_id) const;

    /// Valid `logging/setLevel` requests served (of every session).
    std::uint64_t set_level_calls() const noexcept;

    /// Serve the listening stream (true) or answer a GET without `Last-Event-ID` 405 (false)
    /// (`flaky_server_options::listening_stream`). Open streams stay open.
    void set_listening_stream(bool on);

    /// Sends the notification `{"jsonrpc":"2.0","method":<method>,"params":<params_json>}`
    /// (no `params` when `params_json` is empty; it is inserted verbatim and must be valid JSON)
    /// to the listening stream of every live session; sessions without an open stream keep it
    /// for a resuming GET. Returns how many open streams got it; 0 after `stop()`.
    std::size_t notify(std::string method, std::string params_json = {});

    /// `notify` for the session `session_id` only: 1 when its stream is open, else 0 (an unknown
    /// session keeps nothing).
    std::size_t notify_session(std::string_view session_id, std::string method, std::string params_json = {});

    /// Sends `notifications/resources/updated` `{"uri":<uri>}` to every session subscribed to
    /// `uri` (kept for replay where no stream is open); returns how many open streams got it.
    std::size_t resource_updated(std::string uri);

    /// Sends `notifications/message` `{"level":<level>,"data":<data as a JSON string>}` to every
    /// session whose `logging/setLevel` level admits `level` (RFC 5424: debug < info < notice <
    /// warning < error < critical < alert < emergency; a session admits its level and above).
    /// Sessions that never set a level get nothing; an unknown `level` is sent to none. Kept for
    /// replay where no stream is open; returns how many open streams got it.
    std::size_t log(std::string level, std::string data);

    /// Sends the server request `{"jsonrpc":"2.0","id":<n>,"method":<method>,"params":<params_json>}`
    /// on the open listening stream of session `session_id` (empty: of any session with one) and
    /// returns its id as raw JSON (the session's next server request id: 0, 1, ...); nullopt, and
    /// nothing sent, when no such stream is open. The client's answer is recorded in
    /// `client_answers()`.
    std::optional<std::string> request_on_listen(std::string session_id, std::string method,
                                                 std::string params_json = {});

    /// Closes every open listening stream abruptly (FIN before the end of the chunked body, as a
    /// network fault), keeping the sessions and their kept events: a client can resume with
    /// `Last-Event-ID`. Returns how many were open.
    std::size_t drop_listening_streams();

    /// Listening streams open now.
    std::size_t listening_streams() const noexcept;

    /// GETs that opened a listening stream (resuming ones included).
    std::uint64_t listening_streams_opened() const noexcept;

    /// GETs with the `Last-Event-ID` of a listening-stream event that reopened the stream.
    std::uint64_t listening_resumes() const noexcept;

    /// The responses POSTed by clients to the server's requests (`ask`, `request_on_listen`),
    /// oldest first (at most `max_records`).
    std::vector<client_answer> client_answers() const;

    /// POSTed JSON-RPC responses (with a live session, or any in `sessionless` mode) whose id
    /// names no pending server request of that session (never sent, already answered, or
    /// forgotten: at most 64 are pending per session); they get 202 all the same.
    std::uint64_t unexpected_answers() const noexcept;

    /// Sessions forgotten for idling longer than `flaky_server_options::session_idle_timeout`.
    std::uint64_t idle_expirations() const noexcept;

    /// Requests refused for arriving before `notifications/initialized` (`require_initialized`).
    std::uint64_t requests_before_initialized() const noexcept;

    /// The `notifications/cancelled` POSTed with a live session, oldest first (at most `max_records`).
    std::vector<cancellation> cancellations() const;

private:
    std::unique_ptr<detail::flaky_server_impl> impl_;
};

#endif

}  // namespace mcp_recovery::beast::testing

#endif
