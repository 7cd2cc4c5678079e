// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_STREAMABLE_HTTP_TRANSPORT_HPP
#define MCP_RECOVERY_BEAST_ASYNC_STREAMABLE_HTTP_TRANSPORT_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_connection.hpp"
#include "mcp_recovery/beast/detail/transport_base.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
template <class JsonPolicy = builtin_json>
class basic_async_streamable_http_transport : public detail::transport_base<JsonPolicy> {
    using base = detail::transport_base<JsonPolicy>;
    using typename base::exchange_result;
    using typename base::session;
    template <class T>
    using awaitable = boost::asio::awaitable<T>;

public:
    /// The session is not tied to a connection (Streamable HTTP): see
    /// `basic_streamable_http_transport::session_outlives_connection`. A lost connection is
    /// answered with a new one (`async_reopen`) on the same session; a new session
    /// (`async_reconnect`) only when the server says the old one is gone.
    static constexpr bool session_outlives_connection = true;

    /// Validates the options; throws `std::invalid_argument` for a bad URL or header.
    basic_async_streamable_http_transport(boost::asio::any_io_executor ex, transport_options options)
        : base(std::move(options)), ex_(std::move(ex)) {}

    ~basic_async_streamable_http_transport() { pool_.drop(); }

    const boost::asio::any_io_executor& get_executor() const noexcept { return ex_; }

    /// Opens the first session: `initialize`, then `notifications/initialized`.
    awaitable<outcome<void>> async_connect() { return async_reconnect(); }

    /// One request, one attempt. Never throws for I/O problems.
    awaitable<outcome<response>> async_send(const request& r, time_point deadline = time_point::max()) {
        const session s = this->snapshot();
        if (!s.open) co_return base::not_connected();
        co_return co_await exchange(r.method, r.params, this->next_request_id(), s, deadline);
    }

    /// Sends a notification (no response expected; the server answers 202).
    awaitable<outcome<void>> async_notify(std::string method, std::string params = {},
                                          time_point deadline = time_point::max()) {
        co_return co_await post_notification(method, params, this->snapshot(), deadline);
    }

    /// Drops the session and opens a new one with the same `initialize` parameters; bumps the
    /// generation on success (see `basic_streamable_http_transport::reconnect`). No deadline:
    /// each step is bounded by the timeouts of `transport_options` only.
    awaitable<outcome<void>> async_reconnect() { return async_reconnect(time_point::max()); }

    /// `async_reconnect()`, with `initialize` and `notifications/initialized` each bounded by
    /// `deadline` as well (see `basic_streamable_http_transport::reconnect(deadline)`): a token
    /// provider is not started past it, and a failed step's `failure::method` names the step.
    awaitable<outcome<void>> async_reconnect(time_point deadline) {
        if (reconnecting_.exchange(true)) {
            failure f;
            f.transport_error = std::make_error_code(std::errc::operation_in_progress);
            f.message = "a reconnect of this transport is already under way";
            f.delivered = delivery::not_sent;
            co_return f;
        }
        struct clear_flag {
            std::atomic<bool>& flag;
            ~clear_flag() { flag.store(false); }
        } guard{reconnecting_};

        if (!revision_has_sessions(this->options_.protocol_version)) {
            pool_.drop();
            this->install_sessionless();
            co_return outcome<void>{};
        }
        // A step is not started past the deadline (an I/O step would still get a moment to run).
        if (base::past(deadline)) co_return base::step_too_late(base::initialize_method);
        if (this->needs_token()) {
            outcome<void> t = this->refresh_auth();
            if (!t) co_return t;
        }
        // No temporaries of class type in a co_await expression: g++ 12 destroys some twice.
        const session none;  // no session id, no protocol header
        const std::string params = this->initialize_params();
        std::string session_id;
        outcome<response> r =
            co_await exchange(base::initialize_method, params, this->next_request_id(), none, deadline, &session_id);
        outcome<session> s = this->accept_initialize(std::move(r), std::move(session_id));
        if (!s) co_return base::step_failed(std::move(s).error(), base::initialize_method);
        if (base::past(deadline)) co_return base::step_too_late(base::initialized_method);
        outcome<void> n = co_await post_notification(base::initialized_method, {}, *s, deadline);
        if (!n) co_return base::step_failed(std::move(n).error(), base::initialized_method);
        this->install(std::move(*s));
        co_return outcome<void>{};
    }

    /// Opens one new connection to the endpoint (connect, and the TLS handshake for https),
    /// bounded by `connect_timeout` and `deadline`, and keeps it in the keep-alive pool for the
    /// next request (see `basic_streamable_http_transport::reopen`). Touches neither the session
    /// nor `generation()`. A failure is that of a send whose connect failed (`delivery::not_sent`).
    awaitable<outcome<void>> async_reopen(time_point deadline = time_point::max()) {
        auto c = std::make_unique<connection>(ex_);
        const std::error_code ec =
            co_await c->open(this->url_, this->tls_context(), this->options_.connect_timeout, deadline);
        if (ec) co_return this->connect_failure(ec);
        this->opened_.fetch_add(1);
        pool_.release(std::move(c), this->options_.max_idle_connections);
        co_return outcome<void>{};
    }

    /// Ends the session: DELETE with the session id (a 405 from the server is fine).
    awaitable<outcome<void>> async_terminate() {
        const session s = this->snapshot();
        if (s.id.empty()) co_return outcome<void>{};
        auto req = this->make_delete(s);
        exchange_result x = co_await round_trip(req, time_point::max(), this->options_.max_error_body_size);
        co_return this->conclude_terminate(x, s);
    }

    /// Asks the token provider for a new token (after a 401); the provider runs on this coroutine.
    awaitable<outcome<void>> async_refresh_auth() { co_return this->refresh_auth(); }

private:
    using connection = detail::async_connection;
    using machine = typename base::template exchange_machine<connection>;

    awaitable<outcome<response>> exchange(std::string_view method, std::string_view params, std::int64_t id,
                                          const session& s, time_point deadline,
                                          std::string* session_header_out = nullptr) {
        auto req = this->make_post(s, method, params, id);
        std::optional<response> answer;
        sse_parser events = this->new_event_parser();
        exchange_result x = co_await round_trip(req, deadline, this->options_.max_body_size, id, &answer, &events);
        if (session_header_out && x.session_header) *session_header_out = *x.session_header;
        if (x.stream_broken) {
            std::optional<response> resumed = co_await resume(s, id, deadline, events);
            if (resumed) co_return this->deliver(std::move(*resumed), x.status, s);
        }
        co_return this->conclude_post(x, answer, id, s, session_header_out != nullptr);
    }

    // Stream resumption, as in the synchronous transport; the wait is a timer.
    awaitable<std::optional<response>> resume(const session& s, std::int64_t id, time_point deadline,
                                              sse_parser& events) {
        for (std::size_t attempt = 0; attempt < this->options_.max_resume_attempts; ++attempt) {
            const std::optional<duration> wait = this->resume_wait(s, events, deadline);
            if (!wait) co_return std::nullopt;
#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
            // Not after a cancellation that came between two operations (see async_event).
            const boost::asio::cancellation_state state = co_await boost::asio::this_coro::cancellation_state;
            if (state.cancelled() != boost::asio::cancellation_type::none) co_return std::nullopt;
#endif
            boost::asio::steady_timer timer(ex_, *wait);
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (ec) co_return std::nullopt;  // cancelled
            auto req = this->make_resume_get(s, events.last_event_id());
            std::optional<response> answer;
            exchange_result x =
                co_await round_trip(req, deadline, this->options_.max_error_body_size, id, &answer, &events);
            if (answer) co_return answer;
            if (!x.stream_broken) co_return std::nullopt;
        }
        co_return std::nullopt;
    }

    awaitable<outcome<void>> post_notification(std::string_view method, std::string_view params, const session& s,
                                               time_point deadline) {
        auto req = this->make_post(s, method, params, std::nullopt);
        exchange_result x = co_await round_trip(req, deadline, this->options_.max_error_body_size);
        if (!x.error && x.status >= 200 && x.status < 300) co_return outcome<void>{};
        co_return base::to_failure(x, s);
    }

    // As the synchronous transport's round_trip (see there): the exchange machine decides, this
    // awaits its steps. Each connection has a strand of its own, and every operation on it runs
    // there (`perform`, spawned on it): with an io_context run by many threads, Beast's timeout
    // handler and the completion of the read it cuts short never run at once, so a timeout always
    // reads as a timeout.
    template <class Request>
    awaitable<exchange_result> round_trip(Request& req, time_point deadline, std::size_t body_limit,
                                          std::int64_t id = 0, std::optional<response>* answer = nullptr,
                                          sse_parser* events = nullptr) {
        using step = typename machine::step;
        machine m(*this, pool_, deadline, body_limit, id, answer, events);
        while (m.next() != step::done) {
            if (m.next() == step::acquire && !m.take_pooled()) m.fresh(boost::asio::make_strand(ex_));
            co_await boost::asio::co_spawn(m.connection().get_executor(), perform(m, req), boost::asio::use_awaitable);
        }
        co_return m.finish();
    }

    // The steps of `m` on its current connection, on that connection's strand, until it needs
    // another connection or is done.
    template <class Request>
    awaitable<void> perform(machine& m, Request& req) {
        using step = typename machine::step;
        for (;;) {
            switch (m.next()) {
            case step::acquire:
            case step::done: co_return;
            case step::open: {
                const std::error_code ec =
                    co_await m.connection().open(this->url_, this->tls_context(), m.timeout(), m.until());
                m.opened(ec);
                break;
            }
            case step::write: {
                bool written = false;
                const std::error_code ec = co_await m.connection().write(req, m.timeout(), m.until(), written);
                m.wrote(ec, written);
                break;
            }
            case step::read_header: {
                const std::error_code ec = co_await m.connection().read_header(m.parser(), m.timeout(), m.until());
                m.header_read(ec);
                break;
            }
            case step::read_body: {
                std::size_t got = 0;
                const std::error_code ec = co_await m.connection().read_some(m.parser(), m.chunk(), machine::chunk_capacity,
                                                                            got, m.timeout(), m.until());
                m.body_read(ec, got);
                break;
            }
            case step::pause: {
                boost::asio::steady_timer timer(m.connection().get_executor(), m.timeout());
                boost::system::error_code ec;
                co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
                m.paused();
                break;
            }
            }
        }
    }

    boost::asio::any_io_executor ex_;
    std::atomic<bool> reconnecting_{false};
    detail::connection_pool<connection> pool_;
};

using async_streamable_http_transport = basic_async_streamable_http_transport<>;

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
