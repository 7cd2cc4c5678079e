// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_STREAMABLE_HTTP_TRANSPORT_HPP
#define MCP_RECOVERY_BEAST_STREAMABLE_HTTP_TRANSPORT_HPP

// The synchronous Streamable-HTTP transport, in either of two modes (docs/compile-time.md):
// - header-only (the default): everything is here, through detail/sync_transport_impl.hpp
//   (Boost.Beast and Asio);
// - MCP_RECOVERY_SEPARATE_COMPILATION defined for the whole program: this header declares the
//   same class, with the same API, and includes no Boost header; its members are compiled once,
//   by the one file of the program that includes <mcp_recovery/beast/src.hpp> (or the
//   mcp_recovery::beast_compiled library, which is that file).

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/builtin_json.hpp"

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#include "mcp_recovery/beast/detail/sync_transport_impl.hpp"
#else
// What detail/transport_base.hpp gives users of the header-only mode, minus Boost: std only.
#include "mcp_recovery/beast/conversation.hpp"
#include "mcp_recovery/beast/header_rules.hpp"
#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/messages.hpp"
#include "mcp_recovery/beast/protocol.hpp"
#include "mcp_recovery/beast/sse.hpp"
#include "mcp_recovery/beast/transport_options.hpp"
#include "mcp_recovery/beast/transport_stats.hpp"
#include "mcp_recovery/beast/url.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#endif

namespace mcp_recovery::beast {

/// MCP Streamable-HTTP transport over Boost.Beast, synchronous: models the Transport concept of
/// mcp-recovery (`send`, `reconnect`, `generation`, `terminate`, `refresh_auth`, and
/// `reconnect(deadline)`, `reopen(deadline)`, `session_outlives_connection`).
///
/// Thread-safe: many threads may `send` at once (each uses a connection of its own from a small
/// keep-alive pool); `reconnect` replaces the session while they do. Every blocking step has a
/// real timeout. No redirect is ever followed. Nothing is sent before `connect()` (or the first
/// reconnect a recovering client makes on `transport_errc::not_connected`).
///
/// Every outcome maps to a `failure` whose `delivery` says whether the server may have run the
/// request: nothing written = `not_sent`; an HTTP error status = `rejected` (but 500, 502 and
/// 504 = `unknown`: the request may have run before the error); a reset, EOF, timeout or a broken
/// stream after the request was written = `unknown`. An event stream that ends or breaks before the
/// response is first resumed (GET with `Last-Event-ID`, see `transport_options::max_resume_attempts`)
/// when it carried an event id; only if that does not bring the response is it such a failure.
/// A 2xx answer that is the server's lost-session error in band (`transport_options::in_band_session_loss`)
/// is the failure `transport_errc::session_lost`, `rejected`.
///
/// The server's side of the conversation (docs/conversation.md): server requests on a call's
/// stream are answered (`transport_options::server_requests`) while the stream stays open;
/// progress goes to the call's `request::on_progress`; a call abandoned after its request was
/// written is announced with `notifications/cancelled` in the background. With
/// `transport_options::listen`, a thread of the transport keeps the GET listening stream open (see
/// `session_restored()`); the destructor stops it and returns once it has ended (at once for a
/// read; a connect or an answer in progress is bounded by its timeout).
///
/// Threads and descriptors: a call runs on its caller's thread. The transport's own threads are
/// the listening thread (with `listen`) and the one that sends `notifications/cancelled` (started
/// on first need). Host names are looked up by one service for the whole process
/// (`detail::sync_resolver`: at most 4 threads, started on demand, each ended after 30 s idle;
/// callers of one host and port share its lookup; nothing cached), never by a thread per
/// connection; a connect waits for the lookup at most `connect_timeout` (and its deadline), then
/// fails with `std::errc::timed_out` and leaves a hung lookup to its thread (no destructor, and not
/// the process's exit, waits for it). An IP-literal URL is not looked up. Each pooled connection
/// holds 4 descriptors (Linux): its socket and its own io_context's epoll, eventfd and timerfd.
/// That io_context is not shared: each blocking call runs its I/O loop on its caller's thread,
/// independently of the others; sharing one would take an I/O thread of the transport.
///
/// `basic_async_streamable_http_transport` (async_streamable_http_transport.hpp) is the same
/// transport for coroutines.
///
/// With `MCP_RECOVERY_SEPARATE_COMPILATION`, the object holds its implementation on the heap
/// (one allocation at construction) and every member is a call to it; nothing else changes.
template <class JsonPolicy = builtin_json>
class basic_streamable_http_transport;

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)

// Header-only: the implementation itself, under the public name.
template <class JsonPolicy>
class basic_streamable_http_transport : public detail::sync_transport_impl<JsonPolicy> {
public:
    using detail::sync_transport_impl<JsonPolicy>::sync_transport_impl;
};

#else

namespace detail {
template <class JsonPolicy>
class sync_transport_impl;
}  // namespace detail

// Separate compilation: the declarations of the header-only class's public members (the
// transport's and those of detail::transport_base); their definitions, in
// mcp_recovery/beast/impl/streamable_http_transport.ipp, forward to the implementation.
template <class JsonPolicy>
class basic_streamable_http_transport {
public:
    using request_type = request;
    using response_type = response;

    /// See the header-only class (detail/sync_transport_impl.hpp): a lost connection is answered
    /// with `reopen` on the same session, a lost session with `reconnect`.
    static constexpr bool session_outlives_connection = true;

    /// Validates the options; throws `std::invalid_argument` for a bad URL or header.
    explicit basic_streamable_http_transport(transport_options options);
    /// Stops the listening thread and the cancellation notices, then closes the pooled connections.
    ~basic_streamable_http_transport();
    basic_streamable_http_transport(const basic_streamable_http_transport&) = delete;
    basic_streamable_http_transport& operator=(const basic_streamable_http_transport&) = delete;
    basic_streamable_http_transport(basic_streamable_http_transport&&) = delete;
    basic_streamable_http_transport& operator=(basic_streamable_http_transport&&) = delete;

    /// Opens the first session: `initialize`, then `notifications/initialized`; then, with
    /// `transport_options::listen`, the listening stream.
    outcome<void> connect();
    /// One request, one attempt. Never throws for I/O problems.
    outcome<response> send(const request& r);
    outcome<response> send(const request& r, time_point deadline);
    /// The application's state is restored on the current session: opens the listening stream
    /// (with `transport_options::listen`).
    void session_restored();
    /// Stops the listening stream and joins its thread; for good (idempotent).
    void stop_listening() noexcept;
    /// Whether the listening stream is open now.
    bool listening() const;
    /// Waits until the listening stream is open, or `deadline`; whether it is.
    bool wait_until_listening(time_point deadline);
    /// Sends a notification (no response expected; the server answers 202).
    outcome<void> notify(std::string_view method, std::string_view params = {},
                         time_point deadline = time_point::max());
    /// Drops the session and opens a new one with the same `initialize` parameters.
    outcome<void> reconnect();
    /// `reconnect()`, with every step bounded by `deadline` as well.
    outcome<void> reconnect(time_point deadline);
    /// Opens one new connection to the endpoint and keeps it in the keep-alive pool.
    outcome<void> reopen(time_point deadline = time_point::max());
    /// Ends the session: DELETE with the session id (a 405 from the server is fine).
    outcome<void> terminate();

    /// Asks the token provider for a new token (after a 401). Without a provider: a failure.
    outcome<void> refresh_auth();
    std::uint64_t generation() const noexcept;
    std::string session_id() const;
    std::string protocol_version() const;
    /// Uses `id` as the session id from now on. Refused (false) unless it is a valid session id.
    bool adopt_session_id(std::string id);
    const endpoint_url& url() const noexcept;
    const transport_options& options() const noexcept;
    /// Connections opened so far (for tests and benchmarks of keep-alive reuse).
    std::size_t connections_opened() const noexcept;
    /// What servers did wrong at the HTTP level so far (see `http_diagnostics`).
    http_diagnostics diagnostics() const noexcept;
    /// What the transport did for the server's side of the conversation so far.
    conversation_stats conversation() const noexcept;

private:
    std::unique_ptr<detail::sync_transport_impl<JsonPolicy>> impl_;
};

// Compiled once, by the file that includes mcp_recovery/beast/src.hpp.
extern template class basic_streamable_http_transport<builtin_json>;

#endif

using streamable_http_transport = basic_streamable_http_transport<>;

}  // namespace mcp_recovery::beast

#endif
