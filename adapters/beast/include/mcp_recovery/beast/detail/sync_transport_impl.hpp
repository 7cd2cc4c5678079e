// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_SYNC_TRANSPORT_IMPL_HPP
#define MCP_RECOVERY_BEAST_DETAIL_SYNC_TRANSPORT_IMPL_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/connection.hpp"
#include "mcp_recovery/beast/detail/transport_base.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace mcp_recovery::beast {

namespace detail {

/// The implementation of `basic_streamable_http_transport` (streamable_http_transport.hpp, where
/// it is documented): in header-only mode the public class derives from it; with
/// `MCP_RECOVERY_SEPARATE_COMPILATION` the public class holds one and forwards to it, and this
/// header is included only by the file that compiles the transport (`mcp_recovery/beast/src.hpp`).
template <class JsonPolicy>
class sync_transport_impl : public transport_base<JsonPolicy> {
    using base = transport_base<JsonPolicy>;
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
    explicit sync_transport_impl(transport_options options) : base(std::move(options)) {}

    /// Stops the listening thread and the cancellation notices (see the class comment), then
    /// closes the pooled connections.
    ~sync_transport_impl() {
        stop_listening();
        notices_.stop();
        pool_.drop();
    }

    /// Opens the first session: `initialize`, then `notifications/initialized`; then, with
    /// `transport_options::listen`, the listening stream (`session_restored()`).
    /// The handshake is complete when it returns (the notification is never left for a request to
    /// carry, whatever `transport_options::pipeline_initialized` says: that is for recoveries).
    outcome<void> connect() {
        outcome<void> r = reconnect_with(time_point::max(), false);
        if (r) session_restored();
        return r;
    }

    /// One request, one attempt. Never throws for I/O problems.
    outcome<response> send(const request& r) { return send(r, time_point::max()); }

    outcome<response> send(const request& r, time_point deadline) {
        const session s = this->snapshot();
        if (!s.open) return base::not_connected();
        const std::int64_t id = this->next_request_id();
        const typename base::call_context call = this->context_of(r, id);
        outcome<response> out = exchange(r.method, call.params(), id, s, deadline, nullptr, &call);
        if (this->abandoned(out)) {
            this->conv_.cancellations.fetch_add(1);
            notices_.post(this->cancel_notice(s, id, out.error()), this->url_, this->tls_owner(), this->options_);
        }
        return out;
    }

    /// The application's state is restored on the current session (a recovering client calls
    /// this after its `on_reconnected` hook; `connect()` calls it): with
    /// `transport_options::listen`, the listening stream is opened on this session now (the
    /// thread is started on first use). A `reconnect()` made by hand is followed by this call.
    void session_restored() {
        if (!this->options_.listen) return;
        std::lock_guard<std::mutex> lock(listen_mutex_);
        if (listen_stopped_) return;
        restored_generation_ = this->generation();
        if (!listener_.joinable()) listener_ = std::thread([this] { listen_loop(); });
        listen_cv_.notify_all();
    }

    /// Stops the listening stream and joins its thread; for good (idempotent). Returns at once for
    /// a stream being read; a connect or an answer in progress ends within its own timeout.
    void stop_listening() noexcept {
        {
            std::lock_guard<std::mutex> lock(listen_mutex_);
            listen_stopped_ = true;
            listen_cv_.notify_all();
        }
        if (!listener_.joinable()) return;
        // The step in progress is interrupted; one that starts just after is interrupted next time.
        for (;;) {
            std::unique_lock<std::mutex> lock(listen_mutex_);
            if (listen_ended_) break;
            if (listen_conn_) listen_conn_->interrupt();
            listen_cv_.wait_for(lock, std::chrono::milliseconds(5));
        }
        try {
            listener_.join();
        } catch (...) {
        }
    }

    /// Whether the listening stream is open now.
    bool listening() const {
        std::lock_guard<std::mutex> lock(listen_mutex_);
        return listen_open_;
    }

    /// Waits until the listening stream is open, or `deadline`; whether it is. A server that
    /// sends a request on the listening stream right after `notifications/initialized` (as
    /// server-everything's `roots/list`) is heard only once it is open: wait for it after
    /// `connect()` before the calls that depend on it.
    bool wait_until_listening(time_point deadline) {
        std::unique_lock<std::mutex> lock(listen_mutex_);
        auto ready = [&] { return listen_open_ || listen_stopped_; };
        if (deadline == time_point::max()) listen_cv_.wait(lock, ready);
        else listen_cv_.wait_until(lock, deadline, ready);
        return listen_open_;
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
    outcome<void> reconnect(time_point deadline) { return reconnect_with(deadline, this->defers_initialized()); }

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

    /// `reconnect(deadline)`; `defer_initialized`: the notification is left for the next request.
    outcome<void> reconnect_with(time_point deadline, bool defer_initialized) {
        // The old session id stays in use until the new one is installed: a concurrent send with
        // it meets the server's lost-session answer and waits for this reconnect, while a send
        // without any id would get a 400 that is not recognisable as a lost session.
        reconnect_turn serial(*this);
        if (!serial.take(deadline)) return base::step_too_late(base::initialize_method);
        if (auto ended = this->begin_reconnect(deadline, pool_)) return std::move(*ended);
        std::string session_id;
        outcome<response> r = exchange(base::initialize_method, this->initialize_params(), this->next_request_id(),
                                       session{}, deadline, &session_id);
        outcome<session> s = this->initialize_answered(std::move(r), std::move(session_id), deadline);
        if (!s) return std::move(s).error();
        if (defer_initialized) {
            // Sent with the session's next request (transport_options::pipeline_initialized).
            this->install(std::move(*s), /*owe_initialized=*/true);
            return {};
        }
        outcome<void> n = post_notification(base::initialized_method, {}, *s, deadline);
        return this->end_reconnect(std::move(n), std::move(*s));
    }

    using post_request = typename base::post_request;
    static constexpr std::chrono::milliseconds owed_grace{50};

    outcome<response> exchange(std::string_view method, std::string_view params, std::int64_t id, const session& s,
                               time_point deadline, std::string* session_header_out = nullptr,
                               const typename base::call_context* call = nullptr) {
        std::optional<post_request> initialized;
        if (method != base::initialize_method) {
            if (std::optional<failure> f = owed_before(s, deadline, initialized)) return std::move(*f);
        }
        auto req = this->make_post(s, method, params, id);
        std::optional<response> answer;
        sse_parser events = this->new_event_parser();
        exchange_result x = round_trip(req, deadline, this->options_.max_body_size, id, &answer, &events, call, &s,
                                       false, initialized ? &*initialized : nullptr);
        if (initialized) settle(s, x);
        if (session_header_out && x.session_header) *session_header_out = *x.session_header;
        if (x.stream_broken) {
            if (std::optional<response> resumed = resume(s, id, deadline, events, call))
                return this->deliver(std::move(*resumed), x.status, s);
        }
        answer_late(x, s, deadline);
        return this->conclude_post(x, answer, id, s, session_header_out != nullptr);
    }

    /// Answers server requests: each answer is a POST of its own (on a pooled or new connection),
    /// bounded by `deadline` and the write/read timeouts.
    void answer_requests(const std::vector<server_request>& requests, const session& s, time_point deadline) {
        for (const server_request& r : requests) {
            if (base::past(deadline)) return;
            auto req = this->make_message_post(s, this->answer_body(r));
            exchange_result x = round_trip(req, deadline, this->options_.max_error_body_size);
            if (!x.error && x.status >= 200 && x.status < 300) this->conv_.answered.fetch_add(1);
        }
    }

    /// Server requests that came with or after the response are answered too (the server may still wait).
    void answer_late(exchange_result& x, const session& s, time_point deadline) {
        if (x.server_requests.empty() || x.error) return;
        std::vector<server_request> late = std::move(x.server_requests);
        answer_requests(late, s, deadline);
    }

    // Stream resumption (SEP-1699): the event stream answering request `id` ended or broke before
    // the response. While it carried an event id, waits the server's `retry:` (else
    // `resume_delay`) and GETs the endpoint with `Last-Event-ID`; the server replays the events
    // after that id on the new stream, read like the first one (`events` keeps the latest id).
    // Returns the response, or nothing when resumption is not possible or did not bring it.
    std::optional<response> resume(const session& s, std::int64_t id, time_point deadline, sse_parser& events,
                                   const typename base::call_context* call) {
        for (std::size_t attempt = 0; attempt < this->options_.max_resume_attempts; ++attempt) {
            const std::optional<duration> wait = this->resume_wait(s, events, deadline);
            if (!wait) return std::nullopt;
            std::this_thread::sleep_for(*wait);
            auto req = this->make_resume_get(s, events.last_event_id());
            std::optional<response> answer;
            exchange_result x =
                round_trip(req, deadline, this->options_.max_error_body_size, id, &answer, &events, call, &s);
            if (answer) return answer;
            if (!x.stream_broken) return std::nullopt;  // 405 or another status, no stream, timeout, ...
        }
        return std::nullopt;
    }

    outcome<void> post_notification(std::string_view method, std::string_view params, const session& s,
                                    time_point deadline) {
        std::optional<post_request> initialized;
        if (method != base::initialized_method) {
            if (std::optional<failure> f = owed_before(s, deadline, initialized)) return std::move(*f);
        }
        auto req = this->make_post(s, method, params, std::nullopt);
        exchange_result x = round_trip(req, deadline, this->options_.max_error_body_size, 0, nullptr, nullptr, nullptr,
                                       nullptr, false, initialized ? &*initialized : nullptr);
        if (initialized) settle(s, x);
        if (!x.error && x.status >= 200 && x.status < 300) return {};
        return base::to_failure(x, s);
    }

    // notifications/initialized owed by a new session (transport_options::pipeline_initialized):
    // the session's next request carries it; the others wait until it was answered.

    /// Before a request of session `s`: sets `initialized` when this request is to carry the
    /// session's owed notification, or waits while another one carries it. False when `deadline`
    /// passed while waiting.
    bool take_owed(const session& s, time_point deadline, std::optional<post_request>& initialized) {
        for (;;) {
            switch (this->claim_owed(s)) {
            case base::owed_claim::none: return true;
            case base::owed_claim::carry:
                initialized.emplace(this->make_post(s, base::initialized_method, {}, std::nullopt));
                return true;
            case base::owed_claim::wait: {
                std::unique_lock<std::mutex> lock(owed_mutex_);
                auto settled = [&] { return !this->owed_carried(); };
                if (deadline == time_point::max()) owed_cv_.wait(lock, settled);
                else if (!owed_cv_.wait_until(lock, deadline, settled)) return false;
                break;
            }
            }
        }
    }

    /// Before a message of session `s`: the owed notification to carry (`initialized` set), waited
    /// for while another message carries it, or sent on its own first to a server that is not
    /// pipelined with (transport_base::pipelining_unsafe; without an answer it is given back and
    /// the next message carries it again). A failure ends the message unsent.
    std::optional<failure> owed_before(const session& s, time_point deadline, std::optional<post_request>& initialized) {
        if (!take_owed(s, deadline, initialized)) return base::owed_too_late();
        if (!initialized || !this->pipelining_unsafe()) return std::nullopt;
        exchange_result x = round_trip(*initialized, deadline, this->options_.max_error_body_size);
        if (this->settle_owed(s, x.status != 0)) wake_owed();
        initialized.reset();
        if (x.status != 0) return std::nullopt;
        return this->initialized_alone_failed(x, s);
    }

    void settle(const session& s, const exchange_result& x) {
        if (this->settle_carried(s, x)) wake_owed();
    }

    void wake_owed() {
        std::lock_guard<std::mutex> lock(owed_mutex_);
        owed_cv_.notify_all();
    }

    /// Before the listening stream's GET: a notification still owed after a moment (`owed_grace`,
    /// for a request to carry it) is sent on its own, so that a server that waits for it before
    /// sending anything on the stream is not kept waiting by a client with nothing to ask.
    void send_owed_before_listening(const session& s) {
        {
            std::unique_lock<std::mutex> lock(owed_mutex_);
            owed_cv_.wait_for(lock, owed_grace, [&] { return !this->owes(s) || listen_stop_requested(); });
        }
        // Being carried (or sent) already: the GET need not wait for it (only requests must).
        if (this->claim_owed(s) != base::owed_claim::carry) return;
        auto initialized = this->make_post(s, base::initialized_method, {}, std::nullopt);
        exchange_result x = round_trip(initialized, answer_deadline(), this->options_.max_error_body_size);
        if (this->settle_owed(s, x.status != 0)) wake_owed();
    }

    // Sends `req` and reads the answer. For a 2xx event stream (when `answer` and `events` are
    // given), reads events until the response with `id` arrives (into `answer`). Every decision is
    // the exchange machine's (transport_base.hpp), shared with the awaitable transport: this only
    // performs its steps, blocking on the connection's private io_context.
    // Server requests read on the stream are answered at `step::answer` (`s`: the session they
    // came in; `deadline`, or for the listening stream the write and read timeouts, bound them).
    // `listening`: the listening thread's GET, interruptible by `stop_listening()`.
    template <class Request>
    exchange_result round_trip(Request& req, time_point deadline, std::size_t body_limit, std::int64_t id = 0,
                               std::optional<response>* answer = nullptr, sse_parser* events = nullptr,
                               const typename base::call_context* call = nullptr, const session* s = nullptr,
                               bool listening = false, post_request* carried = nullptr) {
        using machine = typename base::template exchange_machine<connection>;
        using step = typename machine::step;
        machine m(*this, pool_, deadline, body_limit, id, answer, events, call, listening);
        if (carried) m.carry(*carried);
        // The listening thread's I/O is registered while it runs, for `stop_listening()` to interrupt.
        struct io_scope {
            sync_transport_impl* t;
            io_scope(sync_transport_impl* owner, connection* c) : t(owner) {
                if (!t) return;
                std::lock_guard<std::mutex> lock(t->listen_mutex_);
                t->listen_conn_ = c;
            }
            ~io_scope() {
                if (!t) return;
                std::lock_guard<std::mutex> lock(t->listen_mutex_);
                t->listen_conn_ = nullptr;
            }
        };
        auto scope = [&]() { return io_scope(listening ? this : nullptr, m.has_connection() ? &m.connection() : nullptr); };
        for (;;) {
            if (listening && listen_stop_requested()) {
                exchange_result gone;  // the machine closes its connection; an interrupted one is never reused
                gone.error = std::make_error_code(std::errc::operation_canceled);
                return gone;
            }
            switch (m.next()) {
            case step::acquire:
                if (!m.take_pooled()) m.fresh();
                break;
            case step::open: {
                std::error_code ec;
                {
                    auto io = scope();
                    ec = m.connection().open(this->url_, this->tls_context(), m.timeout(), m.until());
                }
                m.opened(ec);
                break;
            }
            case step::write: {
                bool written = false;
                std::error_code ec;
                {
                    auto io = scope();
                    ec = m.connection().write(req, m.timeout(), m.until(), written, m.preamble());
                }
                m.wrote(ec, written);
                break;
            }
            case step::read_header: {
                std::error_code ec;
                {
                    auto io = scope();
                    ec = m.connection().read_header(m.parser(), m.timeout(), m.until());
                }
                m.header_read(ec);
                if (listening && m.is_event_stream()) {
                    this->conv_.opened.fetch_add(1);
                    if (req.find("Last-Event-ID") != req.end()) this->conv_.resumed.fetch_add(1);
                    set_listen_open(true);
                }
                break;
            }
            case step::read_body: {
                std::size_t got = 0;
                std::error_code ec;
                {
                    auto io = scope();
                    ec = m.connection().read_some(m.parser(), m.chunk(), machine::chunk_capacity, got, m.timeout(),
                                                  m.until());
                }
                m.body_read(ec, got);
                break;
            }
            case step::pause:
                std::this_thread::sleep_for(m.timeout());
                m.paused();
                break;
            case step::answer: {
                const std::vector<server_request> requests = m.take_server_requests();
                if (s) answer_requests(requests, *s, listening ? answer_deadline() : deadline);
                m.answered();
                break;
            }
            case step::done: return m.finish();
            }
        }
    }

    time_point answer_deadline() const {
        return clock_type::now() + this->options_.connect_timeout + this->options_.write_timeout + this->options_.read_timeout;
    }

    bool listen_stop_requested() {
        std::lock_guard<std::mutex> lock(listen_mutex_);
        return listen_stopped_;
    }

    // The listening thread: waits for a restored session, opens its GET stream and reads it (server
    // requests answered, notifications passed on); on a drop, resumes it with `Last-Event-ID` after
    // a wait that doubles (`listen_retry_delay` .. `max_resume_delay`, or the server's `retry:`), at
    // most `max_listen_attempts` failures in a row; a 405, or a session the server no longer knows,
    // ends listening for that session: it starts again on the next restored one.
    void listen_loop() {
        typename base::listen_plan plan(this->options_);
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(listen_mutex_);
                listen_cv_.wait(lock, [&] { return listen_stopped_ || plan.wants(restored_generation_, this->generation()); });
                if (listen_stopped_) break;
            }
            const session s = this->snapshot();
            if (!plan.start(s)) continue;
            send_owed_before_listening(s);
            auto req = this->make_listen_get(s, plan.last_event_id());
            std::optional<response> none;  // nothing is a response on this stream
            sse_parser events = this->new_event_parser();
            const time_point began = clock_type::now();
            exchange_result x = round_trip(req, time_point::max(), this->options_.max_error_body_size, -1, &none,
                                           &events, nullptr, &s, true);
            if (x.is_event_stream) set_listen_open(false);
            if (listen_stop_requested()) break;
            if (plan.ended(s, x, events, clock_type::now() - began, this->conv_.not_offered) == base::listen_plan::after::new_session)
                continue;
            // A new session restored meanwhile ends the wait: its stream opens at once.
            std::unique_lock<std::mutex> lock(listen_mutex_);
            listen_cv_.wait_for(lock, plan.wait(),
                                [&] { return listen_stopped_ || restored_generation_ != plan.current(); });
            if (listen_stopped_) break;
        }
        std::lock_guard<std::mutex> lock(listen_mutex_);
        listen_ended_ = true;
        listen_open_ = false;
        listen_cv_.notify_all();
    }

    void set_listen_open(bool open) {
        {
            std::lock_guard<std::mutex> lock(listen_mutex_);
            listen_open_ = open;
        }
        listen_cv_.notify_all();
    }

    // One reconnect at a time, waited for until a deadline. A flag under a mutex and a condition
    // variable rather than std::timed_mutex: libstdc++'s try_lock_until uses
    // pthread_mutex_clocklock, which ThreadSanitizer (GCC 12) does not intercept, so it reported
    // every unlock as "unlock of an unlocked mutex".
    std::mutex owed_mutex_;  // with owed_cv_: waiting for the owed notifications/initialized
    std::condition_variable owed_cv_;
    std::mutex reconnect_mutex_;
    std::condition_variable reconnect_done_;
    bool reconnecting_ = false;

    class reconnect_turn {
    public:
        explicit reconnect_turn(sync_transport_impl& t) : t_(t) {}
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
        sync_transport_impl& t_;
        bool taken_ = false;
    };
    connection_pool<connection> pool_;

    // the listening thread (see `listen_loop`)
    mutable std::mutex listen_mutex_;
    std::condition_variable listen_cv_;
    std::thread listener_;
    connection* listen_conn_ = nullptr;  ///< the connection of the I/O step in progress
    std::uint64_t restored_generation_ = 0;
    bool listen_stopped_ = false;
    bool listen_ended_ = false;
    bool listen_open_ = false;

    // `notifications/cancelled`, sent by a thread of its own so that no caller waits for it. Each
    // notice is self-contained (a connection of its own, bounded by `cancel_timeout`); at most
    // `max_queued` wait; the destructor waits for the one in progress (bounded), drops the others.
    class notice_sender {
    public:
        static constexpr std::size_t max_queued = 64;
        ~notice_sender() { stop(); }
        template <class Tls>
        void post(bhttp::request<bhttp::string_body> req, const endpoint_url& url, std::shared_ptr<Tls> tls,
                  const transport_options& o) {
            job j;
            j.req = std::move(req);
            j.url = url;
            j.deadline = clock_type::now() + o.cancel_timeout;
            j.connect_timeout = o.connect_timeout;
            j.send = [tls](job& jb) {
                connection c;
                if (c.open(jb.url, tls.get(), jb.connect_timeout, jb.deadline)) return;
                bool written = false;
                if (c.write(jb.req, jb.deadline - clock_type::now(), jb.deadline, written)) return;
                bhttp::response_parser<bhttp::empty_body> parser;
                parser.skip(true);
                (void)c.read_header(parser, jb.deadline - clock_type::now(), jb.deadline);
                c.close();
            };
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_ || queue_.size() >= max_queued) return;
            queue_.push_back(std::move(j));
            if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
            cv_.notify_one();
        }
        void stop() noexcept {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                stopped_ = true;
                queue_.clear();
            }
            cv_.notify_all();
            if (thread_.joinable()) {
                try {
                    thread_.join();
                } catch (...) {
                }
            }
        }

    private:
        struct job {
            bhttp::request<bhttp::string_body> req;
            endpoint_url url;
            time_point deadline;
            duration connect_timeout{};
            std::function<void(job&)> send;
        };
        void run() {
            for (;;) {
                job j;
                {
                    std::unique_lock<std::mutex> lock(mutex_);
                    cv_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
                    if (stopped_) return;
                    j = std::move(queue_.front());
                    queue_.pop_front();
                }
                try {
                    j.send(j);
                } catch (...) {
                }
            }
        }
        std::mutex mutex_;
        std::condition_variable cv_;
        std::deque<job> queue_;
        std::thread thread_;
        bool stopped_ = false;
    };
    notice_sender notices_;
};

}  // namespace detail

}  // namespace mcp_recovery::beast

#endif
