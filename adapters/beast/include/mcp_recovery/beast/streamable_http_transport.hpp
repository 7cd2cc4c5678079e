// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_STREAMABLE_HTTP_TRANSPORT_HPP
#define MCP_RECOVERY_BEAST_STREAMABLE_HTTP_TRANSPORT_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/connection.hpp"
#include "mcp_recovery/beast/detail/transport_base.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

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
/// `basic_async_streamable_http_transport` (async_streamable_http_transport.hpp) is the same
/// transport for coroutines.
template <class JsonPolicy = builtin_json>
class basic_streamable_http_transport : public detail::transport_base<JsonPolicy> {
    using base = detail::transport_base<JsonPolicy>;
    using typename base::exchange_result;
    using typename base::session;

public:
    /// The session is not tied to a connection (Streamable HTTP): a connection that breaks, or a
    /// server that stops accepting connections for a while, leaves the session as it was, and the
    /// next request on a new connection carries the same session id. A recovering client therefore
    /// answers a lost connection by opening a new one (`reopen`) on the same session, and opens a
    /// new session (`reconnect`) only when the server says the old one is gone.
    static constexpr bool session_outlives_connection = true;

    /// Validates the options; throws `std::invalid_argument` for a bad URL or header.
    explicit basic_streamable_http_transport(transport_options options) : base(std::move(options)) {}

    ~basic_streamable_http_transport() { pool_.drop(); }

    /// Opens the first session: `initialize`, then `notifications/initialized`.
    outcome<void> connect() { return reconnect(); }

    /// One request, one attempt. Never throws for I/O problems.
    outcome<response> send(const request& r) { return send(r, time_point::max()); }

    outcome<response> send(const request& r, time_point deadline) {
        const session s = this->snapshot();
        if (!s.open) return base::not_connected();
        return exchange(r.method, r.params, this->next_request_id(), s, deadline);
    }

    /// Sends a notification (no response expected; the server answers 202).
    outcome<void> notify(std::string_view method, std::string_view params = {},
                         time_point deadline = time_point::max()) {
        return post_notification(method, params, this->snapshot(), deadline);
    }

    /// Drops the session and opens a new one with the same `initialize` parameters; bumps the
    /// generation on success. Connections are kept (the session is not tied to a connection).
    /// No deadline: each step is bounded by the timeouts of `transport_options` only.
    outcome<void> reconnect() { return reconnect(time_point::max()); }

    /// `reconnect()`, with every step bounded by `deadline` as well: waiting for a reconnect
    /// already under way on another thread, `initialize` and `notifications/initialized` (each
    /// also by its own timeouts). A token provider (when a token is needed) is not started past
    /// the deadline; it is not interrupted once running. A failed step's `failure::method` names
    /// it (`"initialize"`, `"notifications/initialized"`); the session is then left as it was.
    outcome<void> reconnect(time_point deadline) {
        // The old session id stays in use until the new one is installed: a concurrent send with
        // it meets the server's lost-session answer and waits for this reconnect, while a send
        // without any id would get a 400 that is not recognisable as a lost session.
        reconnect_turn serial(*this);
        if (!serial.take(deadline)) return base::step_too_late(base::initialize_method);
        if (!revision_has_sessions(this->options_.protocol_version)) {
            // Nothing to negotiate and no session to open: start over with fresh connections.
            pool_.drop();
            this->install_sessionless();
            return {};
        }
        // A step is not started past the deadline (an I/O step would still get a moment to run).
        if (base::past(deadline)) return base::step_too_late(base::initialize_method);
        if (this->needs_token()) {
            outcome<void> t = this->refresh_auth();
            if (!t) return t;
        }
        std::string session_id;
        outcome<response> r = exchange(base::initialize_method, this->initialize_params(), this->next_request_id(),
                                       session{}, deadline, &session_id);
        outcome<session> s = this->accept_initialize(std::move(r), std::move(session_id));
        if (!s) return base::step_failed(std::move(s).error(), base::initialize_method);
        if (base::past(deadline)) return base::step_too_late(base::initialized_method);
        outcome<void> n = post_notification(base::initialized_method, {}, *s, deadline);
        if (!n) return base::step_failed(std::move(n).error(), base::initialized_method);
        this->install(std::move(*s));
        return {};
    }

    /// Opens one new connection to the endpoint (connect, and the TLS handshake for https),
    /// bounded by `connect_timeout` and `deadline`, and keeps it in the keep-alive pool for the
    /// next request. Touches neither the session nor `generation()`; works in the sessionless
    /// revision too. Success means the server accepts connections again. A failure is that of a
    /// send whose connect failed (the I/O error, e.g. `connection_refused`; `delivery::not_sent`).
    outcome<void> reopen(time_point deadline = time_point::max()) {
        auto c = std::make_unique<connection>();
        const std::error_code ec = c->open(this->url_, this->tls_context(), this->options_.connect_timeout, deadline);
        if (ec) return this->connect_failure(ec);
        this->opened_.fetch_add(1);
        pool_.release(std::move(c), this->options_.max_idle_connections);
        return {};
    }

    /// Ends the session: DELETE with the session id (a 405 from the server is fine). Afterwards the
    /// transport has no session until the next reconnect.
    outcome<void> terminate() {
        const session s = this->snapshot();
        if (s.id.empty()) return {};
        auto req = this->make_delete(s);
        exchange_result x = round_trip(req, time_point::max(), this->options_.max_error_body_size);
        return this->conclude_terminate(x, s);
    }

private:
    using connection = detail::connection;

    outcome<response> exchange(std::string_view method, std::string_view params, std::int64_t id, const session& s,
                               time_point deadline, std::string* session_header_out = nullptr) {
        auto req = this->make_post(s, method, params, id);
        std::optional<response> answer;
        sse_parser events = this->new_event_parser();
        exchange_result x = round_trip(req, deadline, this->options_.max_body_size, id, &answer, &events);
        if (session_header_out && x.session_header) *session_header_out = *x.session_header;
        if (x.stream_broken) {
            if (std::optional<response> resumed = resume(s, id, deadline, events))
                return this->deliver(std::move(*resumed), x.status, s);
        }
        return this->conclude_post(x, answer, id, s, session_header_out != nullptr);
    }

    // Stream resumption (SEP-1699): the event stream answering request `id` ended or broke before
    // the response. While it carried an event id, waits the server's `retry:` (else
    // `resume_delay`) and GETs the endpoint with `Last-Event-ID`; the server replays the events
    // after that id on the new stream, read like the first one (`events` keeps the latest id).
    // Returns the response, or nothing when resumption is not possible or did not bring it.
    std::optional<response> resume(const session& s, std::int64_t id, time_point deadline, sse_parser& events) {
        for (std::size_t attempt = 0; attempt < this->options_.max_resume_attempts; ++attempt) {
            const std::optional<duration> wait = this->resume_wait(s, events, deadline);
            if (!wait) return std::nullopt;
            std::this_thread::sleep_for(*wait);
            auto req = this->make_resume_get(s, events.last_event_id());
            std::optional<response> answer;
            exchange_result x = round_trip(req, deadline, this->options_.max_error_body_size, id, &answer, &events);
            if (answer) return answer;
            if (!x.stream_broken) return std::nullopt;  // 405 or another status, no stream, timeout, ...
        }
        return std::nullopt;
    }

    outcome<void> post_notification(std::string_view method, std::string_view params, const session& s,
                                    time_point deadline) {
        auto req = this->make_post(s, method, params, std::nullopt);
        exchange_result x = round_trip(req, deadline, this->options_.max_error_body_size);
        if (!x.error && x.status >= 200 && x.status < 300) return {};
        return base::to_failure(x, s);
    }

    // Sends `req` and reads the answer. For a 2xx event stream (when `answer` and `events` are
    // given), reads events until the response with `id` arrives (into `answer`). Every decision is
    // the exchange machine's (transport_base.hpp), shared with the awaitable transport: this only
    // performs its steps, blocking on the connection's private io_context.
    template <class Request>
    exchange_result round_trip(Request& req, time_point deadline, std::size_t body_limit, std::int64_t id = 0,
                               std::optional<response>* answer = nullptr, sse_parser* events = nullptr) {
        using machine = typename base::template exchange_machine<connection>;
        using step = typename machine::step;
        machine m(*this, pool_, deadline, body_limit, id, answer, events);
        for (;;) {
            switch (m.next()) {
            case step::acquire:
                if (!m.take_pooled()) m.fresh();
                break;
            case step::open:
                m.opened(m.connection().open(this->url_, this->tls_context(), m.timeout(), m.until()));
                break;
            case step::write: {
                bool written = false;
                const std::error_code ec = m.connection().write(req, m.timeout(), m.until(), written);
                m.wrote(ec, written);
                break;
            }
            case step::read_header: m.header_read(m.connection().read_header(m.parser(), m.timeout(), m.until())); break;
            case step::read_body: {
                std::size_t got = 0;
                const std::error_code ec =
                    m.connection().read_some(m.parser(), m.chunk(), machine::chunk_capacity, got, m.timeout(), m.until());
                m.body_read(ec, got);
                break;
            }
            case step::pause:
                std::this_thread::sleep_for(m.timeout());
                m.paused();
                break;
            case step::done: return m.finish();
            }
        }
    }

    // One reconnect at a time, waited for until a deadline. A flag under a mutex and a condition
    // variable rather than std::timed_mutex: libstdc++'s try_lock_until uses
    // pthread_mutex_clocklock, which ThreadSanitizer (GCC 12) does not intercept, so it reported
    // every unlock as "unlock of an unlocked mutex".
    std::mutex reconnect_mutex_;
    std::condition_variable reconnect_done_;
    bool reconnecting_ = false;

    class reconnect_turn {
    public:
        explicit reconnect_turn(basic_streamable_http_transport& t) : t_(t) {}
        reconnect_turn(const reconnect_turn&) = delete;
        reconnect_turn& operator=(const reconnect_turn&) = delete;
        /// Waits for the reconnect under way (if any) to end, until `deadline`; false if it did not.
        bool take(time_point deadline) {
            std::unique_lock<std::mutex> lock(t_.reconnect_mutex_);
            auto free = [&] { return !t_.reconnecting_; };
            if (deadline == time_point::max()) t_.reconnect_done_.wait(lock, free);
            else if (!t_.reconnect_done_.wait_until(lock, deadline, free)) return false;
            t_.reconnecting_ = true;
            taken_ = true;
            return true;
        }
        ~reconnect_turn() {
            if (!taken_) return;
            {
                std::lock_guard<std::mutex> lock(t_.reconnect_mutex_);
                t_.reconnecting_ = false;
            }
            t_.reconnect_done_.notify_one();
        }

    private:
        basic_streamable_http_transport& t_;
        bool taken_ = false;
    };
    detail::connection_pool<connection> pool_;
};

using streamable_http_transport = basic_streamable_http_transport<>;

}  // namespace mcp_recovery::beast

#endif
