// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_FLAKY_SERVER_IMPL_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_FLAKY_SERVER_IMPL_HPP

/// The implementation of `flaky_server` (mcp_recovery/beast/testing/flaky_server.hpp).

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/testing/detail/connection.hpp"
#include "mcp_recovery/beast/testing/detail/conversation.hpp"
#include "mcp_recovery/beast/testing/detail/session_core.hpp"
#include "mcp_recovery/beast/testing/fault.hpp"
#include "mcp_recovery/beast/testing/flaky_server_options.hpp"
#include "mcp_recovery/beast/testing/records.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mcp_recovery::beast::testing {

namespace detail {

/// The implementation of `flaky_server` (testing/flaky_server.hpp, where it is documented): in
/// header-only mode `flaky_server` derives from it; with `MCP_RECOVERY_SEPARATE_COMPILATION` it
/// holds one and forwards to it, and this header is compiled once (mcp_recovery/beast/testing/src.hpp).
class flaky_server_impl {
public:
    /// Binds 127.0.0.1 (`options.port`, 0 for any free port) and starts serving.
    /// Throws `boost::system::system_error` when the port cannot be bound.
    explicit flaky_server_impl(flaky_server_options options = {})
        : core_(options), acceptor_(ioc_), retry_timer_(ioc_), outage_timer_(ioc_) {
        const detail::tcp::endpoint endpoint(detail::net::ip::address_v4::loopback(), options.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(detail::net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(detail::net::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
        accept();
        thread_ = std::thread([this] { run(); });
    }

    /// Calls `stop()`.
    ~flaky_server_impl() { stop(); }

    flaky_server_impl(const flaky_server_impl&) = delete;
    flaky_server_impl& operator=(const flaky_server_impl&) = delete;

    /// The port bound on 127.0.0.1.
    std::uint16_t port() const noexcept { return port_; }

    /// `http://127.0.0.1:<port>/mcp`.
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

    /// Closes the listener and every connection (pending delays, `ask` waits, `progress` runs
    /// and listening streams end at once) and joins the I/O
    /// thread. Idempotent; the destructor calls it. Sessions, counters and faults stay readable.
    void stop() noexcept {
        std::lock_guard<std::mutex> guard(stop_mutex_);
        if (thread_.joinable()) {
            ioc_.stop();
            try {
                thread_.join();
            } catch (...) {
            }
        }
        // The I/O thread is gone: the sockets can be touched from here.
        up_ = false;
        detail::error_code ec;
        acceptor_.close(ec);
        try {
            retry_timer_.cancel();
            outage_timer_.cancel();
        } catch (...) {
        }
        abort_connections();
        {
            std::lock_guard<std::mutex> lock(core_.mutex);
            core_.stopped = true;
        }
        restarted_.notify_all();
    }

    /// Forgets every session (with its subscriptions, log level, kept listening-stream events
    /// and pending server requests) and closes every open connection (listening streams and
    /// waiting `ask` calls included), as a server process restart would; keeps listening, and
    /// keeps counters, records and queued faults. Returns once the
    /// connections are closed (at once after `stop()`).
    void restart() {
        // Connections closed first, sessions forgotten after, both on the I/O thread: no request
        // is answered "session not found" by the process that is going away.
        on_io_thread([this] {
            abort_connections();
            core_.expire_all();
        });
        core_.expire_all();  // also after stop(), when the I/O thread no longer runs tasks
    }

    /// Closes every open connection (a TCP RST), keeping every session and the listener: what a
    /// proxy or load balancer does to idle keep-alive connections. Returns once done.
    void drop_connections() {
        on_io_thread([this] { abort_connections(); });
    }

    /// An outage, as when the server process is killed: closes the listener (a connect is then
    /// refused at once, ECONNREFUSED, rather than left to hang) and every connection (pending
    /// delays end), and forgets every session (as `restart()`). Counters, queued faults and
    /// settings stay. Cancels a pending come-back of `outage()`. Returns once done; no effect
    /// while down or after `stop()`.
    void go_down() {
        // Closed first, forgotten after, both on the I/O thread: no request is answered "session
        // not found" in between (a killed process never says that).
        on_io_thread([this] {
            take_down();
            core_.expire_all();
        });
        core_.expire_all();  // also after stop(), when the I/O thread no longer runs tasks
    }

    /// Ends an outage: listens again on the same port (SO_REUSEADDR lets it bind again at once).
    /// No effect while up or after `stop()`. Throws `boost::system::system_error` when the port
    /// cannot be bound again (another socket took it meanwhile).
    void come_back() {
        detail::error_code ec;
        on_io_thread([this, &ec] {
            ++outage_generation_;  // a pending come-back of outage() is not needed any more
            cancel_quietly(outage_timer_);
            ec = listen_again();
        });
        if (ec) throw boost::system::system_error(ec, "flaky_server: cannot listen again on port " + std::to_string(port_));
    }

    /// `go_down()`, then `come_back()` after `how_long` on a timer of the server's own: returns
    /// once the server is down, without waiting for the end of the outage. If the port cannot be
    /// bound again at that time, it tries again every 20 ms for 5 s, then stays down. `stop()`,
    /// `go_down()` and `come_back()` end the wait.
    void outage(std::chrono::milliseconds how_long) {
        on_io_thread([this, how_long] {
            take_down();
            core_.expire_all();
            come_back_after(how_long, 0);
        });
    }

    /// Whether the server listens: false after `go_down()` (until it comes back) and `stop()`.
    bool is_up() const noexcept { return up_; }
    /// Outages so far: `go_down()` and `outage()` calls that took the server down.
    std::uint64_t outages() const noexcept { return core_.outages; }

    /// Keep connections alive (false, the default) or close each after its answer, which then
    /// carries `Connection: close` (`flaky_server_options::close_after_response`).
    void set_close_after_response(bool on) noexcept { core_.close_after_response = on; }

    /// Ends session `id`: later requests with it get the lost-session answer; its listening stream
    /// and its `ask` and `progress` streams close (FIN). False if unknown.
    bool expire_session(std::string_view id) { return core_.expire(id); }

    /// Ends every session as `expire_session` does; returns how many there were.
    std::size_t expire_all_sessions() { return core_.expire_all(); }

    /// Ids of the live sessions, in no particular order.
    std::vector<std::string> session_ids() const { return core_.session_ids(); }

    void set_lost_session_style(lost_session_style style) { core_.set_style(style); }
    void set_response_mode(response_mode mode) { core_.set_mode(mode); }
    /// Serve resumption GETs (true, the default) or refuse them with 405 (`flaky_server_options::resumption`).
    void set_resumption(bool on) { core_.set_resumption(on); }

    /// Queues `f` for the next `times` POSTed messages that `match` accepts (default: any
    /// request but `initialize`).
    void inject(fault f, fault_match match = fault_match::any_request(), std::size_t times = 1) {
        core_.inject(std::move(f), std::move(match), times);
    }
    /// Applications of queued faults still to come.
    std::size_t pending_faults() const { return core_.pending_faults(); }
    void clear_faults() { core_.clear_faults(); }

    /// Sessions opened by `initialize`.
    std::uint64_t initializes() const noexcept { return core_.initializes; }
    /// POSTs to `/mcp` read in full, whatever the answer (errors and faults included).
    std::uint64_t requests() const noexcept { return core_.requests; }
    /// How many times `count` ran for `key`, including runs whose answer was lost.
    std::uint64_t executions(std::string_view key) const { return core_.executions(key); }
    std::size_t sessions_alive() const noexcept { return core_.sessions_alive; }
    /// Sessions ended by DELETE.
    std::uint64_t deletes() const noexcept { return core_.deletes; }
    /// Lost-session answers sent (POST and DELETE).
    std::uint64_t lost_session_answers() const noexcept { return core_.lost_session_answers; }
    /// Fault applications consumed.
    std::uint64_t faults_applied() const noexcept { return core_.faults_applied; }
    /// GETs to `/mcp` with `Last-Event-ID`, whatever the answer (405 and errors included).
    std::uint64_t resumption_requests() const noexcept { return core_.resumption_requests; }
    /// Resumption GETs answered with a replay stream (cut ones included).
    std::uint64_t resumptions() const noexcept { return core_.resumptions; }
    /// Connections accepted so far, and open now.
    std::uint64_t connections_accepted() const noexcept { return core_.connections_accepted; }
    std::size_t open_connections() const noexcept { return core_.open_connections; }

    /// Largest `client_answer::message` kept (longer messages are cut to it).
    static constexpr std::size_t max_recorded_message_size = detail::flaky_max_recorded_message;
    /// Most `client_answers()` and `cancellations()` kept each; beyond it the oldest is dropped.
    static constexpr std::size_t max_records = detail::flaky_max_records;

    /// JSON-RPC requests and notifications POSTed with `method`, whatever the answer (faults,
    /// lost sessions and errors included; responses are not counted). At most
    /// `max_counter_keys` distinct methods are counted; later new ones read 0.
    std::uint64_t seen(std::string_view method) const { return core_.seen(method); }
    /// How many times the tool `tool` ran (a `tools/call` with valid arguments: `echo`, `count`,
    /// `executions`, `ask`, `progress`), including runs whose answer was lost.
    std::uint64_t tool_runs(std::string_view tool) const { return core_.tool_runs(tool); }

    /// Every URI that a live session subscribed to (`resources/subscribe` and not
    /// `resources/unsubscribe` since), sorted, without duplicates.
    std::vector<std::string> subscriptions() const { return core_.subscriptions(); }
    /// The URIs that session `session_id` subscribed to, sorted; empty for an unknown session.
    std::vector<std::string> subscriptions(std::string_view session_id) const { return core_.subscriptions(session_id); }
    /// The level last set by `logging/setLevel` in session `session_id`; nullopt when never set
    /// or when the session is unknown.
    std::optional<std::string> log_level(std::string_view session_id) const { return core_.log_level(session_id); }
    /// Valid `logging/setLevel` requests served (of every session).
    std::uint64_t set_level_calls() const noexcept { return core_.set_level_calls; }

    /// Serve the listening stream (true) or answer a GET without `Last-Event-ID` 405 (false)
    /// (`flaky_server_options::listening_stream`). Open streams stay open.
    void set_listening_stream(bool on) { core_.set_listening(on); }

    /// Sends the notification `{"jsonrpc":"2.0","method":<method>,"params":<params_json>}`
    /// (no `params` when `params_json` is empty; it is inserted verbatim and must be valid JSON)
    /// to the listening stream of every live session; sessions without an open stream keep it
    /// for a resuming GET. Returns how many open streams got it; 0 after `stop()`.
    std::size_t notify(std::string method, std::string params_json = {}) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.notify({}, method, params_json); });
        return n;
    }
    /// `notify` for the session `session_id` only: 1 when its stream is open, else 0 (an unknown
    /// session keeps nothing).
    std::size_t notify_session(std::string_view session_id, std::string method, std::string params_json = {}) {
        std::size_t n = 0;
        if (session_id.empty()) return 0;
        on_io_thread([&] { n = core_.notify(session_id, method, params_json); });
        return n;
    }
    /// Sends `notifications/resources/updated` `{"uri":<uri>}` to every session subscribed to
    /// `uri` (kept for replay where no stream is open); returns how many open streams got it.
    std::size_t resource_updated(std::string uri) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.resource_updated(uri); });
        return n;
    }
    /// Sends `notifications/message` `{"level":<level>,"data":<data as a JSON string>}` to every
    /// session whose `logging/setLevel` level admits `level` (RFC 5424: debug < info < notice <
    /// warning < error < critical < alert < emergency; a session admits its level and above).
    /// Sessions that never set a level get nothing; an unknown `level` is sent to none. Kept for
    /// replay where no stream is open; returns how many open streams got it.
    std::size_t log(std::string level, std::string data) {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.log(level, data); });
        return n;
    }
    /// Sends the server request `{"jsonrpc":"2.0","id":<n>,"method":<method>,"params":<params_json>}`
    /// on the open listening stream of session `session_id` (empty: of any session with one) and
    /// returns its id as raw JSON (the session's next server request id: 0, 1, ...); nullopt, and
    /// nothing sent, when no such stream is open. The client's answer is recorded in
    /// `client_answers()`.
    std::optional<std::string> request_on_listen(std::string session_id, std::string method,
                                                 std::string params_json = {}) {
        std::optional<std::string> id;
        on_io_thread([&] { id = core_.request_on_listen(session_id, method, params_json); });
        return id;
    }
    /// Closes every open listening stream abruptly (FIN before the end of the chunked body, as a
    /// network fault), keeping the sessions and their kept events: a client can resume with
    /// `Last-Event-ID`. Returns how many were open.
    std::size_t drop_listening_streams() {
        std::size_t n = 0;
        on_io_thread([&] { n = core_.drop_listening(); });
        return n;
    }
    /// Listening streams open now.
    std::size_t listening_streams() const noexcept { return core_.listening_open; }
    /// GETs that opened a listening stream (resuming ones included).
    std::uint64_t listening_streams_opened() const noexcept { return core_.listening_opened; }
    /// GETs with the `Last-Event-ID` of a listening-stream event that reopened the stream.
    std::uint64_t listening_resumes() const noexcept { return core_.listening_resumes; }

    /// The responses POSTed by clients to the server's requests (`ask`, `request_on_listen`),
    /// oldest first (at most `max_records`).
    std::vector<client_answer> client_answers() const { return core_.client_answers(); }
    /// POSTed JSON-RPC responses (with a live session, or any in `sessionless` mode) whose id
    /// names no pending server request of that session (never sent, already answered, or
    /// forgotten: at most 64 are pending per session); they get 202 all the same.
    std::uint64_t unexpected_answers() const noexcept { return core_.unexpected_answers; }
    /// Sessions forgotten for idling longer than `flaky_server_options::session_idle_timeout`.
    std::uint64_t idle_expirations() const noexcept { return core_.idle_expirations; }
    /// Requests refused for arriving before `notifications/initialized` (`require_initialized`).
    std::uint64_t requests_before_initialized() const noexcept { return core_.requests_before_initialized; }
    /// The `notifications/cancelled` POSTed with a live session, oldest first (at most `max_records`).
    std::vector<cancellation> cancellations() const { return core_.cancellations(); }

private:
    void run() noexcept {
        for (;;) {
            try {
                ioc_.run();
                return;
            } catch (...) {
                // A handler threw (e.g. bad_alloc): that connection is dropped; keep serving.
            }
        }
    }

    // Runs `task` on the I/O thread and waits until it ran; does nothing after stop().
    template <class Task>
    void on_io_thread(Task task) {
        std::unique_lock<std::mutex> lock(core_.mutex);
        if (core_.stopped) return;
        const std::uint64_t ticket = ++io_tasks_requested_;
        detail::net::post(ioc_, [this, ticket, &task] {
            try {
                task();
            } catch (...) {
                // Tasks do not throw (they report through error codes); the waiter must wake anyway.
            }
            {
                std::lock_guard<std::mutex> done(core_.mutex);
                core_.io_tasks_done = std::max(core_.io_tasks_done, ticket);
            }
            restarted_.notify_all();
        });
        restarted_.wait(lock, [&] { return core_.io_tasks_done >= ticket || core_.stopped; });
    }

    // I/O thread: closes the listener and every connection.
    void take_down() noexcept {
        ++outage_generation_;
        cancel_quietly(outage_timer_);
        if (up_) {
            up_ = false;
            ++core_.outages;
            ++listen_generation_;  // a pending accept or accept retry of the old listener does nothing
            detail::error_code ignored;
            acceptor_.close(ignored);
            cancel_quietly(retry_timer_);
        }
        abort_connections();
    }

    static void cancel_quietly(detail::net::steady_timer& timer) noexcept {
        try {
            timer.cancel();
        } catch (...) {
        }
    }

    // I/O thread: listens on port_ again, unless already up.
    detail::error_code listen_again() noexcept {
        if (up_) return {};
        detail::error_code ec;
        const detail::tcp::endpoint endpoint(detail::net::ip::address_v4::loopback(), port_);
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(detail::net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(detail::net::socket_base::max_listen_connections, ec);
        if (ec) {
            detail::error_code ignored;
            acceptor_.close(ignored);
            return ec;
        }
        up_ = true;
        accept();
        return {};
    }

    // I/O thread: comes back after `wait` (then every 20 ms while the port cannot be bound, at
    // most 250 times), unless the outage ended otherwise meanwhile.
    void come_back_after(std::chrono::milliseconds wait, int attempt) {
        static constexpr int max_attempts = 250;
        outage_timer_.expires_after(wait);
        outage_timer_.async_wait([this, attempt, generation = outage_generation_](const detail::error_code& ec) {
            if (ec || generation != outage_generation_) return;
            if (listen_again() && attempt + 1 < max_attempts) come_back_after(std::chrono::milliseconds(20), attempt + 1);
        });
    }

    void accept() {
        acceptor_.async_accept([this, generation = listen_generation_](const detail::error_code& ec,
                                                                        detail::tcp::socket socket) {
            if (generation != listen_generation_ || !acceptor_.is_open()) return;
            if (ec) {
                if (ec == detail::net::error::operation_aborted) return;
                // Out of descriptors or the like: try again shortly instead of spinning.
                retry_timer_.expires_after(std::chrono::milliseconds(20));
                retry_timer_.async_wait([this, generation](const detail::error_code& wait_ec) {
                    if (!wait_ec && generation == listen_generation_) accept();
                });
                return;
            }
            ++core_.connections_accepted;
            if (core_.open_connections >= core_.options.max_connections) {
                detail::error_code ignored;
                socket.close(ignored);
            } else {
                detail::error_code ignored;
                socket.set_option(detail::tcp::no_delay(true), ignored);
                auto c = std::make_shared<detail::connection>(core_, std::move(socket));
                auto& list = core_.connections;
                list.erase(std::remove_if(list.begin(), list.end(), [](const auto& w) { return w.expired(); }),
                           list.end());
                list.push_back(c);
                c->start();
            }
            accept();
        });
    }

    // On the I/O thread, or after it was joined.
    void abort_connections() noexcept {
        auto list = std::move(core_.connections);
        core_.connections.clear();
        for (const auto& w : list) {
            if (auto c = w.lock()) c->abort();
        }
    }

    // Declared before ioc_: handlers destroyed with ioc_ still reach them.
    detail::server_core core_;
    std::mutex stop_mutex_;
    std::condition_variable restarted_;  // an I/O task is done, or the server stopped
    std::uint64_t io_tasks_requested_ = 0;  // guarded by core_.mutex
    std::uint16_t port_ = 0;
    std::atomic<bool> up_{true};
    // I/O thread only (and the constructor, before it starts): which listener and which outage
    // pending handlers belong to.
    std::uint64_t listen_generation_ = 0;
    std::uint64_t outage_generation_ = 0;
    detail::net::io_context ioc_{1};
    // Keeps the I/O thread running while down (no listener, no connection): stop() ends it.
    detail::net::executor_work_guard<detail::net::io_context::executor_type> work_{ioc_.get_executor()};
    detail::tcp::acceptor acceptor_;
    detail::net::steady_timer retry_timer_;
    detail::net::steady_timer outage_timer_;
    std::thread thread_;
};

}  // namespace detail

}  // namespace mcp_recovery::beast::testing

#endif
