// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_STREAMABLE_HTTP_TRANSPORT_HPP
#define MCP_RECOVERY_BEAST_ASYNC_STREAMABLE_HTTP_TRANSPORT_HPP

// The Streamable-HTTP transport for coroutines (C++20, where Asio has co_await), in either of two
// modes (docs/compile-time.md):
// - header-only (the default): everything is here, through detail/async_transport_impl.hpp;
// - MCP_RECOVERY_SEPARATE_COMPILATION defined for the whole program: this header declares the
//   same class, with the same API, and includes only the Asio headers that API is made of
//   (awaitable, any_io_executor); its members are compiled once, by the one file of the program
//   that includes <mcp_recovery/beast/src.hpp> (or the mcp_recovery::beast_compiled library).

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/builtin_json.hpp"
#include "mcp_recovery/beast/detail/async_config.hpp"

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#include "mcp_recovery/beast/detail/async_transport_impl.hpp"
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

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#endif

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

namespace mcp_recovery::beast {

/// The Streamable-HTTP transport for coroutines: what `basic_streamable_http_transport` does,
/// with the same options, limits, failure mapping and stream resumption, as awaitables on the
/// caller's executor. Models the async transport requirements of `async_recovering_client`
/// (`async_send`, `async_reconnect`, `generation`, `async_refresh_auth`, and
/// `async_reconnect(deadline)`, `async_reopen(deadline)`, `session_outlives_connection`).
///
/// Timeouts are Beast's `expires_after` on each step (resolve: a timer), each also bounded by the
/// call's deadline; the wait before a resumption GET is a timer. No thread is ever blocked.
/// Where Asio has per-operation cancellation (Boost >= 1.80), cancelling the awaiting coroutine
/// (e.g. `co_spawn(..., bind_cancellation_slot(signal.slot(), token))` and
/// `signal.emit(cancellation_type::terminal)`) ends the step in progress: the connection is
/// closed and the failure's delivery says whether the request may have reached the server.
///
/// Thread-safe: coroutines on any threads of one io pool may `async_send` at once (each uses a
/// connection of its own from the keep-alive pool). One `async_reconnect` at a time: a second
/// one while the first runs fails at once with `operation_in_progress` (the recovering client's
/// single flight never does that).
///
/// The server's side of the conversation is that of the synchronous transport (docs/conversation.md);
/// handlers may also be awaitables (`async_server_request_handlers`, at construction). The
/// listening stream is the coroutine `async_listen()`, which the application spawns and which
/// runs until `stop_listening()` (or its cancellation): the transport must outlive it. A
/// `notifications/cancelled` is sent by a detached coroutine that owns all it uses (it may
///
/// With `MCP_RECOVERY_SEPARATE_COMPILATION`, the object holds its implementation on the heap
/// (one allocation at construction) and every member is a call to it; nothing else changes.
template <class JsonPolicy = builtin_json>
class basic_async_streamable_http_transport;

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)

// Header-only: the implementation itself, under the public name.
template <class JsonPolicy>
class basic_async_streamable_http_transport : public detail::async_transport_impl<JsonPolicy> {
public:
    using detail::async_transport_impl<JsonPolicy>::async_transport_impl;
};

#else

namespace detail {
template <class JsonPolicy>
class async_transport_impl;
}  // namespace detail

// Separate compilation: the declarations of the header-only class's public members (the
// transport's and those of detail::transport_base); their definitions, in
// mcp_recovery/beast/impl/async_streamable_http_transport.ipp, forward to the implementation
// (each awaitable is the implementation's own: no coroutine frame is added).
template <class JsonPolicy>
class basic_async_streamable_http_transport {
    template <class T>
    using awaitable = boost::asio::awaitable<T>;

public:
    using request_type = request;
    using response_type = response;

    /// See the header-only class (detail/async_transport_impl.hpp): a lost connection is
    /// answered with `async_reopen` on the same session, a lost session with `async_reconnect`.
    static constexpr bool session_outlives_connection = true;

    /// An awaitable answer to a server request (see `server_request_handler`).
    using async_server_request_handler = std::function<awaitable<server_reply>(server_request)>;
    using async_server_request_handlers = std::map<std::string, async_server_request_handler, std::less<>>;

    /// Validates the options; throws `std::invalid_argument` for a bad URL or header. Awaitable
    /// handlers (`async_handlers`) come before `options.server_requests` for the same method.
    basic_async_streamable_http_transport(boost::asio::any_io_executor ex, transport_options options,
                                          async_server_request_handlers async_handlers = {});
    ~basic_async_streamable_http_transport();
    basic_async_streamable_http_transport(const basic_async_streamable_http_transport&) = delete;
    basic_async_streamable_http_transport& operator=(const basic_async_streamable_http_transport&) = delete;
    basic_async_streamable_http_transport(basic_async_streamable_http_transport&&) = delete;
    basic_async_streamable_http_transport& operator=(basic_async_streamable_http_transport&&) = delete;

    const boost::asio::any_io_executor& get_executor() const noexcept;

    /// Opens the first session: `initialize`, then `notifications/initialized`; then marks it
    /// restored (`session_restored()`), for `async_listen()`.
    awaitable<outcome<void>> async_connect();
    /// One request, one attempt. Never throws for I/O problems.
    awaitable<outcome<response>> async_send(const request& r, time_point deadline = time_point::max());
    /// The application's state is restored on the current session: `async_listen()` opens the
    /// listening stream on this session now.
    void session_restored();
    /// Keeps the listening stream (with `transport_options::listen`) until `stop_listening()` or
    /// its cancellation; spawn it once, and stop it before the transport goes.
    awaitable<void> async_listen();
    /// Ends `async_listen()` (the read in progress is closed at once) and any later one. Thread-safe.
    void stop_listening() noexcept;
    /// Whether the listening stream is open now.
    bool listening() const noexcept;
    /// Waits until the listening stream is open, or `deadline`; whether it is.
    awaitable<bool> async_wait_until_listening(time_point deadline);
    /// Sends a notification (no response expected; the server answers 202).
    awaitable<outcome<void>> async_notify(std::string method, std::string params = {},
                                          time_point deadline = time_point::max());
    /// Drops the session and opens a new one with the same `initialize` parameters.
    awaitable<outcome<void>> async_reconnect();
    /// `async_reconnect()`, with `initialize` and `notifications/initialized` each bounded by `deadline`.
    awaitable<outcome<void>> async_reconnect(time_point deadline);
    /// Opens one new connection to the endpoint and keeps it in the keep-alive pool.
    awaitable<outcome<void>> async_reopen(time_point deadline = time_point::max());
    /// Ends the session: DELETE with the session id (a 405 from the server is fine).
    awaitable<outcome<void>> async_terminate();
    /// Asks the token provider for a new token (after a 401); the provider runs on this coroutine.
    awaitable<outcome<void>> async_refresh_auth();

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
    std::unique_ptr<detail::async_transport_impl<JsonPolicy>> impl_;
};

// Compiled once, by the file that includes mcp_recovery/beast/src.hpp.
extern template class basic_async_streamable_http_transport<builtin_json>;

#endif

using async_streamable_http_transport = basic_async_streamable_http_transport<>;

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
