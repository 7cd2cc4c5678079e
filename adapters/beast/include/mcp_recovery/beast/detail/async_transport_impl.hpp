// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_ASYNC_TRANSPORT_IMPL_HPP
#define MCP_RECOVERY_BEAST_DETAIL_ASYNC_TRANSPORT_IMPL_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/async_event.hpp"
#include "mcp_recovery/beast/detail/async_connection.hpp"
#include "mcp_recovery/beast/detail/transport_base.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast {

namespace detail {

/// The implementation of `basic_async_streamable_http_transport`
/// (async_streamable_http_transport.hpp, where it is documented): in header-only mode the public
/// class derives from it; with `MCP_RECOVERY_SEPARATE_COMPILATION` the public class holds one and
/// forwards to it, and this header is included only by the file that compiles the transport
/// (`mcp_recovery/beast/src.hpp`).
template <class JsonPolicy>
class async_transport_impl : public transport_base<JsonPolicy> {
    using base = transport_base<JsonPolicy>;
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

    /// An awaitable answer to a server request (see `server_request_handler`).
    using async_server_request_handler = std::function<awaitable<server_reply>(server_request)>;
    using async_server_request_handlers = std::map<std::string, async_server_request_handler, std::less<>>;

    /// Validates the options; throws `std::invalid_argument` for a bad URL or header. Awaitable
    /// handlers (`async_handlers`) come before `options.server_requests` for the same method, and
    /// declare capabilities as these do.
    async_transport_impl(boost::asio::any_io_executor ex, transport_options options,
                         async_server_request_handlers async_handlers = {})
        : base(declare(std::move(options), async_handlers)), ex_(std::move(ex)),
          async_handlers_(std::move(async_handlers)), listen_(std::make_shared<listen_control>()) {}

    ~async_transport_impl() {
        stop_listening();
        pool_.drop();
    }

    const boost::asio::any_io_executor& get_executor() const noexcept { return ex_; }

    /// Opens the first session: `initialize`, then `notifications/initialized`; then marks it
    /// restored (`session_restored()`), for `async_listen()`.
    /// The handshake is complete when it returns (see `basic_streamable_http_transport::connect`).
    awaitable<outcome<void>> async_connect() {
        outcome<void> r = co_await reconnect_with(time_point::max(), false);
        if (r) session_restored();
        co_return r;
    }

    /// One request, one attempt. Never throws for I/O problems.
    awaitable<outcome<response>> async_send(const request& r, time_point deadline = time_point::max()) {
        const session s = this->snapshot();
        if (!s.open) co_return base::not_connected();
        const std::int64_t id = this->next_request_id();
        const typename base::call_context call = this->context_of(r, id);
        outcome<response> out = co_await exchange(r.method, call.params(), id, s, deadline, nullptr, &call);
        if (this->abandoned(out)) send_cancel_notice(s, id, out.error());
        co_return out;
    }

    /// The application's state is restored on the current session (the async recovering client
    /// calls this after its `on_reconnected` hook; `async_connect()` calls it): `async_listen()`
    /// opens the listening stream on this session now. A reconnect made by hand is followed by this.
    void session_restored() { listen_->restored.store(this->generation()); }

    /// Keeps the listening stream (with `transport_options::listen`; else returns at once): waits
    /// for a restored session, opens its GET stream, answers server requests on it and passes
    /// notifications on; resumes a dropped stream with `Last-Event-ID` and re-opens it on each new
    /// session (the rules of the synchronous transport's listening thread). Runs until
    /// `stop_listening()` or its cancellation; spawn it once, e.g.
    /// `co_spawn(ex, transport.async_listen(), detached)`, and stop it before the transport goes.
    awaitable<void> async_listen();

    /// Ends `async_listen()` (the read in progress is closed at once) and any later one. Thread-safe.
    void stop_listening() noexcept {
        std::shared_ptr<listen_control> ctl = listen_;
        std::lock_guard<std::mutex> lock(ctl->mutex);
        ctl->stopped = true;
        if (ctl->conn) {
            connection* c = ctl->conn;
            try {
                boost::asio::post(c->get_executor(), [ctl, c] {
                    std::lock_guard<std::mutex> l(ctl->mutex);
                    if (ctl->conn == c) c->close();
                });
            } catch (...) {
            }
        }
    }

    /// Whether the listening stream is open now.
    bool listening() const noexcept { return listen_->open.load(); }

    /// Waits until the listening stream is open, or `deadline`; whether it is (see
    /// `basic_streamable_http_transport::wait_until_listening`). Polls every 5 ms.
    awaitable<bool> async_wait_until_listening(time_point deadline) {
        for (;;) {
            if (listen_->open.load()) co_return true;
            if (listen_stopped() || clock_type::now() >= deadline) co_return false;
            boost::asio::steady_timer timer(ex_, std::chrono::milliseconds(5));
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (ec) co_return listen_->open.load();
        }
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
        return reconnect_with(deadline, this->defers_initialized());
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

    /// `async_reconnect(deadline)`; `defer_initialized`: the notification is left for the next request.
    awaitable<outcome<void>> reconnect_with(time_point deadline, bool defer_initialized) {
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

        if (auto ended = this->begin_reconnect(deadline, pool_)) co_return std::move(*ended);
        // No temporaries of class type in a co_await expression: g++ 12 destroys some twice.
        const session none;  // no session id, no protocol header
        const std::string params = this->initialize_params();
        std::string session_id;
        outcome<response> r =
            co_await exchange(base::initialize_method, params, this->next_request_id(), none, deadline, &session_id);
        outcome<session> s = this->initialize_answered(std::move(r), std::move(session_id), deadline);
        if (!s) co_return std::move(s).error();
        if (defer_initialized) {
            // Sent with the session's next request (transport_options::pipeline_initialized).
            this->install(std::move(*s), /*owe_initialized=*/true);
            co_return outcome<void>{};
        }
        outcome<void> n = co_await post_notification(base::initialized_method, {}, *s, deadline);
        co_return this->end_reconnect(std::move(n), std::move(*s));
    }

    using machine = typename base::template exchange_machine<connection>;
    using post_request = typename base::post_request;
    static constexpr std::chrono::milliseconds owed_grace{50};

    static transport_options declare(transport_options o, const async_server_request_handlers& async_handlers) {
        for (const auto& entry : async_handlers) {
            if (!entry.second || o.server_requests.count(entry.first)) continue;
            // Only declares the capability: the awaitable handler answers (see `answer_requests`).
            o.server_requests[entry.first] = [](const server_request&) { return server_reply::ok(); };
        }
        return o;
    }

    struct listen_control {
        std::mutex mutex;
        connection* conn = nullptr;  ///< the listening stream's connection while an I/O step runs
        bool stopped = false;
        std::atomic<std::uint64_t> restored{0};
        std::atomic<bool> open{false};
    };

    bool listen_stopped() const {
        std::lock_guard<std::mutex> lock(listen_->mutex);
        return listen_->stopped;
    }

    awaitable<outcome<response>> exchange(std::string_view method, std::string_view params, std::int64_t id,
                                          const session& s, time_point deadline,
                                          std::string* session_header_out = nullptr,
                                          const typename base::call_context* call = nullptr) {
        std::optional<post_request> initialized;
        if (method != base::initialize_method) {
            std::optional<failure> f = co_await owed_before(s, deadline, initialized);
            if (f) co_return std::move(*f);
        }
        post_request* carried = initialized ? &*initialized : nullptr;
        auto req = this->make_post(s, method, params, id);
        std::optional<response> answer;
        sse_parser events = this->new_event_parser();
        exchange_result x = co_await round_trip(req, deadline, this->options_.max_body_size, id, &answer, &events, call,
                                                &s, false, carried);
        if (carried) settle(s, x);
        if (session_header_out && x.session_header) *session_header_out = *x.session_header;
        if (x.stream_broken) {
            std::optional<response> resumed = co_await resume(s, id, deadline, events, call);
            if (resumed) co_return this->deliver(std::move(*resumed), x.status, s);
        }
        if (!x.server_requests.empty() && !x.error) {
            const std::vector<server_request> late = std::move(x.server_requests);
            co_await answer_requests(late, s, deadline);
        }
        co_return this->conclude_post(x, answer, id, s, session_header_out != nullptr);
    }

    /// Answers server requests, each by a POST of its own, bounded by `deadline`.
    awaitable<void> answer_requests(const std::vector<server_request>& requests, const session& s,
                                    time_point deadline) {
        for (const server_request& r : requests) {
            if (base::past(deadline)) co_return;
            std::string body;
            auto it = async_handlers_.find(r.method);
            if (it != async_handlers_.end() && it->second) {
                server_reply reply;
                try {
                    reply = co_await it->second(r);
                } catch (const std::exception& e) {
                    reply = server_reply::error(-32603, std::string("the client's handler failed: ") + e.what());
                } catch (...) {
                    reply = server_reply::error(-32603, "the client's handler failed");
                }
                body = detail::reply_body(r.id, reply);
            } else {
                body = this->answer_body(r);
            }
            auto req = this->make_message_post(s, std::move(body));
            exchange_result x = co_await round_trip(req, deadline, this->options_.max_error_body_size);
            if (!x.error && x.status >= 200 && x.status < 300) this->conv_.answered.fetch_add(1);
        }
    }

    // A detached coroutine that owns everything it uses: it may outlive the transport.
    struct notice_job {
        bhttp::request<bhttp::string_body> req;
        endpoint_url url;
        time_point deadline;
        duration connect_timeout;
#if defined(MCP_RECOVERY_BEAST_TLS)
        std::shared_ptr<boost::asio::ssl::context> tls;
#else
        std::shared_ptr<std::nullptr_t> tls;
#endif
    };

    void send_cancel_notice(const session& s, std::int64_t id, const failure& f) {
        auto job = std::make_shared<notice_job>(
            notice_job{this->cancel_notice(s, id, f), this->url_, clock_type::now() + this->options_.cancel_timeout,
                       this->options_.connect_timeout, this->tls_owner()});
        this->conv_.cancellations.fetch_add(1);
        try {
            // On a strand of its own, as every connection (see `round_trip`).
            boost::asio::any_io_executor strand = boost::asio::make_strand(ex_);
            boost::asio::co_spawn(strand, send_notice(std::move(job), strand), boost::asio::detached);
        } catch (...) {
        }
    }

    static awaitable<void> send_notice(std::shared_ptr<notice_job> job, boost::asio::any_io_executor strand) {
        connection c(strand);
        std::error_code ec = co_await c.open(job->url, job->tls.get(), job->connect_timeout, job->deadline);
        if (ec) co_return;
        bool written = false;
        ec = co_await c.write(job->req, job->deadline - clock_type::now(), job->deadline, written);
        if (ec) co_return;
        bhttp::response_parser<bhttp::empty_body> parser;
        parser.skip(true);
        (void)co_await c.read_header(parser, job->deadline - clock_type::now(), job->deadline);
        c.close();
    }

    // Stream resumption, as in the synchronous transport; the wait is a timer.
    awaitable<std::optional<response>> resume(const session& s, std::int64_t id, time_point deadline,
                                              sse_parser& events, const typename base::call_context* call) {
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
            exchange_result x = co_await round_trip(req, deadline, this->options_.max_error_body_size, id, &answer,
                                                    &events, call, &s);
            if (answer) co_return answer;
            if (!x.stream_broken) co_return std::nullopt;
        }
        co_return std::nullopt;
    }

    awaitable<outcome<void>> post_notification(std::string_view method, std::string_view params, const session& s,
                                               time_point deadline) {
        std::optional<post_request> initialized;
        if (method != base::initialized_method) {
            std::optional<failure> f = co_await owed_before(s, deadline, initialized);
            if (f) co_return std::move(*f);
        }
        post_request* carried = initialized ? &*initialized : nullptr;
        auto req = this->make_post(s, method, params, std::nullopt);
        exchange_result x = co_await round_trip(req, deadline, this->options_.max_error_body_size, 0, nullptr, nullptr,
                                                nullptr, nullptr, false, carried);
        if (carried) settle(s, x);
        if (!x.error && x.status >= 200 && x.status < 300) co_return outcome<void>{};
        co_return base::to_failure(x, s);
    }

    // notifications/initialized owed by a new session (see the synchronous transport): the
    // session's next request carries it; the others wait, suspended, until it was answered.

    /// Before a message of session `s`: the owed notification to carry (`initialized` set), waited
    /// for while another message carries it, or sent on its own first to a server that is not
    /// pipelined with (transport_base::pipelining_unsafe). A failure ends the message unsent.
    awaitable<std::optional<failure>> owed_before(const session& s, time_point deadline,
                                                  std::optional<post_request>& initialized) {
        const bool ready = co_await take_owed(s, deadline, initialized);
        if (!ready) co_return base::owed_too_late();
        if (!initialized || !this->pipelining_unsafe()) co_return std::nullopt;
        exchange_result n = co_await round_trip(*initialized, deadline, this->options_.max_error_body_size);
        if (this->settle_owed(s, n.status != 0)) wake_owed();
        initialized.reset();
        if (n.status == 0) co_return this->initialized_alone_failed(n, s);
        co_return std::nullopt;
    }

    awaitable<bool> take_owed(const session& s, time_point deadline, std::optional<post_request>& initialized) {
        for (;;) {
            const typename base::owed_claim claim = this->claim_owed(s);
            if (claim == base::owed_claim::none) co_return true;
            if (claim == base::owed_claim::carry) {
                initialized.emplace(this->make_post(s, base::initialized_method, {}, std::nullopt));
                co_return true;
            }
            auto event = std::make_shared<async_event>(ex_);
            {
                std::lock_guard<std::mutex> lock(owed_mutex_);
                owed_waiters_.push_back(event);
            }
            const detail::scoped_waiter registered{owed_mutex_, owed_waiters_, event};
            if (!this->owed_carried()) continue;  // settled before the waiter was registered
            const bool woken = co_await event->wait_until(deadline);
            if (!woken && base::past(deadline)) co_return false;
        }
    }

    void settle(const session& s, const exchange_result& x) {
        if (this->settle_carried(s, x)) wake_owed();
    }

    void wake_owed() {
        std::vector<std::shared_ptr<async_event>> to_wake;
        {
            std::lock_guard<std::mutex> lock(owed_mutex_);
            to_wake.swap(owed_waiters_);
        }
        for (auto& e : to_wake) e->set();
    }

    /// Before the listening stream's GET (see the synchronous transport): a notification still
    /// owed after `owed_grace` is sent on its own.
    awaitable<void> send_owed_before_listening(const session& s) {
        if (!this->owes(s)) co_return;
        boost::asio::steady_timer timer(ex_, owed_grace);
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec || this->claim_owed(s) != base::owed_claim::carry) co_return;
        auto initialized = this->make_post(s, base::initialized_method, {}, std::nullopt);
        const time_point deadline =
            clock_type::now() + this->options_.connect_timeout + this->options_.write_timeout + this->options_.read_timeout;
        exchange_result x = co_await round_trip(initialized, deadline, this->options_.max_error_body_size);
        if (this->settle_owed(s, x.status != 0)) wake_owed();
    }

    // As the synchronous transport's round_trip (see there): the exchange machine decides, this
    // awaits its steps. Each connection has a strand of its own, and every operation on it runs
    // there (`perform`, spawned on it): with an io_context run by many threads, Beast's timeout
    // handler and the completion of the read it cuts short never run at once, so a timeout always
    // reads as a timeout.
    // Server requests are answered at `step::answer`, off the connection's strand (`s`: their
    // session). `listening`: the listening stream, whose connection `stop_listening()` closes.
    template <class Request>
    awaitable<exchange_result> round_trip(Request& req, time_point deadline, std::size_t body_limit,
                                          std::int64_t id = 0, std::optional<response>* answer = nullptr,
                                          sse_parser* events = nullptr,
                                          const typename base::call_context* call = nullptr,
                                          const session* s = nullptr, bool listening = false,
                                          post_request* carried = nullptr) {
        using step = typename machine::step;
        machine m(*this, pool_, deadline, body_limit, id, answer, events, call, listening);
        if (carried) m.carry(*carried);
        while (m.next() != step::done) {
            if (m.next() == step::acquire && !m.take_pooled()) m.fresh(boost::asio::make_strand(ex_));
            if (m.next() == step::answer) {
                const std::vector<server_request> requests = m.take_server_requests();
                if (s) {
                    const time_point until =
                        listening ? clock_type::now() + this->options_.connect_timeout + this->options_.write_timeout +
                                        this->options_.read_timeout
                                  : deadline;
                    co_await answer_requests(requests, *s, until);
                }
                m.answered();
                continue;
            }
            if (listening) {
                std::lock_guard<std::mutex> lock(listen_->mutex);
                if (listen_->stopped) {
                    exchange_result gone;
                    gone.error = std::make_error_code(std::errc::operation_canceled);
                    co_return gone;
                }
                listen_->conn = &m.connection();
            }
            co_await boost::asio::co_spawn(m.connection().get_executor(), perform(m, req, listening),
                                           boost::asio::use_awaitable);
            if (listening) {
                std::lock_guard<std::mutex> lock(listen_->mutex);
                listen_->conn = nullptr;
            }
        }
        co_return m.finish();
    }

    // The steps of `m` on its current connection, on that connection's strand, until it needs
    // another connection or is done.
    template <class Request>
    awaitable<void> perform(machine& m, Request& req, bool listening = false) {
        using step = typename machine::step;
        for (;;) {
            switch (m.next()) {
            case step::acquire:
            case step::answer:
            case step::done: co_return;
            case step::open: {
                const std::error_code ec =
                    co_await m.connection().open(this->url_, this->tls_context(), m.timeout(), m.until());
                m.opened(ec);
                break;
            }
            case step::write: {
                bool written = false;
                const std::error_code ec = co_await m.connection().write(req, m.timeout(), m.until(), written, m.preamble());
                m.wrote(ec, written);
                break;
            }
            case step::read_header: {
                const std::error_code ec = co_await m.connection().read_header(m.parser(), m.timeout(), m.until());
                m.header_read(ec);
                if (listening && m.is_event_stream()) {
                    this->conv_.opened.fetch_add(1);
                    if (req.find("Last-Event-ID") != req.end()) this->conv_.resumed.fetch_add(1);
                    listen_->open.store(true);
                }
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
    std::mutex owed_mutex_;  // guards owed_waiters_
    std::vector<std::shared_ptr<async_event>> owed_waiters_;  // waiting for the owed notifications/initialized
    std::atomic<bool> reconnecting_{false};
    async_server_request_handlers async_handlers_;
    std::shared_ptr<listen_control> listen_;
    connection_pool<connection> pool_;
};

template <class JsonPolicy>
boost::asio::awaitable<void> async_transport_impl<JsonPolicy>::async_listen() {
    if (!this->options_.listen) co_return;
    typename base::listen_plan plan(this->options_);
    // Waits in slices, so that `stop_listening()` and a restored session are seen soon: a new
    // session restored meanwhile (`restored` other than the current one) ends the wait.
    auto pause = [this, &plan](duration d, bool wake_on_restore) -> awaitable<bool> {
        const time_point end = clock_type::now() + d;
        for (;;) {
            if (listen_stopped()) co_return false;
            if (wake_on_restore && listen_->restored.load() != plan.current()) co_return true;
            const time_point now = clock_type::now();
            if (now >= end) co_return true;
            boost::asio::steady_timer timer(ex_, std::min<duration>(end - now, std::chrono::milliseconds(20)));
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (ec) co_return false;  // cancelled
        }
    };
    for (;;) {
        const std::uint64_t restored = listen_->restored.load();
        if (listen_stopped()) break;
        if (!plan.wants(restored, this->generation())) {
            const bool go_on = co_await pause(std::chrono::milliseconds(20), false);
            if (!go_on) break;
            continue;
        }
        const session s = this->snapshot();
        if (!plan.start(s)) continue;
        co_await send_owed_before_listening(s);
        if (listen_stopped()) break;
        auto req = this->make_listen_get(s, plan.last_event_id());
        std::optional<response> none;
        sse_parser events = this->new_event_parser();
        const time_point began = clock_type::now();
        exchange_result x = co_await round_trip(req, time_point::max(), this->options_.max_error_body_size, -1, &none,
                                                &events, nullptr, &s, true);
        listen_->open.store(false);
        if (listen_stopped()) break;
        if (x.error == std::errc::operation_canceled) break;  // cancelled by the application
        const auto next = plan.ended(s, x, events, clock_type::now() - began, this->conv_.not_offered);
        if (next == base::listen_plan::after::new_session) continue;
        const bool go_on = co_await pause(plan.wait(), true);
        if (!go_on) break;
    }
    listen_->open.store(false);
}

}  // namespace detail

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
