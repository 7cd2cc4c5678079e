// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_TESTING_SCRIPTED_TRANSPORT_HPP
#define MCP_RECOVERY_TESTING_SCRIPTED_TRANSPORT_HPP

#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

namespace mcp_recovery::testing {

/// Ready-made failures, as the Streamable-HTTP adapter reports the common server answers.
namespace failures {

/// The server forgot the session: 404 with JSON-RPC -32001 "Session not found" (TypeScript SDK).
inline failure session_not_found() {
    failure f;
    f.http_status = 404;
    f.jsonrpc_code = -32001;
    f.message = "Session not found";
    f.had_session_id = true;
    f.delivered = delivery::rejected;
    return f;
}

/// The connection broke after the request was written: the server may have executed it.
inline failure reset_after_write() {
    failure f;
    f.transport_error = std::make_error_code(std::errc::connection_reset);
    f.had_session_id = true;
    f.delivered = delivery::unknown;
    return f;
}

/// The connection could not be opened: the request never left.
inline failure connection_refused() {
    failure f;
    f.transport_error = std::make_error_code(std::errc::connection_refused);
    f.delivered = delivery::not_sent;
    return f;
}

/// 429 Too Many Requests, optionally with Retry-After.
inline failure throttled(std::optional<duration> retry_after = std::nullopt) {
    failure f;
    f.http_status = 429;
    f.message = "Too Many Requests";
    f.had_session_id = true;
    f.retry_after = retry_after;
    f.delivered = delivery::rejected;
    return f;
}

/// A 5xx answer (default 502 Bad Gateway) without a hint. Delivery as the Streamable-HTTP adapter
/// reports it: 500, 502 and 504 `unknown` (the request may have run before the error: a gateway
/// cannot tell), other statuses `rejected`. The testing kit is never kinder than the transport.
inline failure server_error(int status = 502) {
    failure f;
    f.http_status = status;
    f.message = "Bad Gateway";
    f.had_session_id = true;
    f.delivered = (status == 500 || status == 502 || status == 504) ? delivery::unknown : delivery::rejected;
    return f;
}

/// The server answered, inside a 200, that it does not know the session (a gateway's in-band
/// JSON-RPC error), as the Streamable-HTTP adapter reports it (`transport_errc::session_lost`).
inline failure session_lost_in_band() {
    failure f;
    f.transport_error = make_error_code(transport_errc::session_lost);
    f.http_status = 200;
    f.jsonrpc_code = -32001;
    f.message = "Session not found";
    f.had_session_id = true;
    f.delivered = delivery::rejected;
    return f;
}

/// 401 with WWW-Authenticate.
inline failure unauthorized() {
    failure f;
    f.http_status = 401;
    f.www_authenticate = true;
    f.message = "Unauthorized";
    f.had_session_id = true;
    f.delivered = delivery::rejected;
    return f;
}

/// The caller cancelled the request.
inline failure cancelled() {
    failure f;
    f.transport_error = std::make_error_code(std::errc::operation_canceled);
    f.delivered = delivery::unknown;
    return f;
}

/// A JSON-RPC level error the server answered with 400 (not recoverable).
inline failure bad_request(std::string_view message = "Bad Request: Unsupported protocol version") {
    failure f;
    f.http_status = 400;
    f.message = message;
    f.had_session_id = true;
    f.delivered = delivery::rejected;
    return f;
}

}  // namespace failures

/// The request type of `scripted_transport`: a method and a key that names what it does (the
/// transport counts executions per key, to prove a request never ran twice).
struct scripted_request {
    std::string method;
    std::string key;
};

/// The response: which request, on which session, after how many executions of its key.
struct scripted_response {
    std::string key;
    std::uint64_t generation = 0;
    int executions = 0;
};

/// An in-memory Transport that fails on cue, to test recovery without sockets.
///
/// Script sends with `fail_next`, or `expire_session` to make every request on the current
/// session fail like a server that forgot it until the next reconnect. `fail_next` entries whose
/// delivery is `unknown` count as executed (the server ran the request, then the connection
/// broke). Reconnects can be scripted to fail and held at a gate to steer concurrent tests.
/// Thread-safe. `WithAuthRefresh` adds `refresh_auth()`. `SessionOutlivesConnection` makes it a
/// transport whose session is not tied to a connection (as Streamable HTTP): it then has
/// `reopen(deadline)`, and a lost connection is recovered on the same session.
///
/// `go_down()` / `come_back()` play a server process that is down: while down, sends, reconnects
/// and reopens fail with `connection_refused`; coming back forgets the session (a restarted
/// process), so the first request on the old session meets `session_not_found`.
template <bool WithAuthRefresh = true, bool SessionOutlivesConnection = false>
class basic_scripted_transport {
public:
    using request_type = scripted_request;
    using response_type = scripted_response;
    static constexpr bool session_outlives_connection = SessionOutlivesConnection;

    basic_scripted_transport() = default;
    basic_scripted_transport(const basic_scripted_transport&) = delete;
    basic_scripted_transport& operator=(const basic_scripted_transport&) = delete;

    // ---- script ----

    /// The next `times` sends fail with `f`.
    void fail_next(const failure& f, int times = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int i = 0; i < times; ++i) send_script_.push_back(f);
    }
    /// Every send on the current generation fails with `f` (default: 404 "Session not found")
    /// until a reconnect succeeds.
    void expire_session(const failure& f = failures::session_not_found()) {
        std::lock_guard<std::mutex> lock(mutex_);
        expired_generation_ = generation_.load();
        expiry_failure_ = f;
    }
    /// The next `times` reconnects fail with `f`.
    void fail_next_reconnect(const failure& f, int times = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int i = 0; i < times; ++i) reconnect_script_.push_back(f);
    }
    /// The next `times` auth refreshes fail with `f`.
    void fail_next_refresh(const failure& f, int times = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int i = 0; i < times; ++i) refresh_script_.push_back(f);
    }
    /// Reconnects block until `release_reconnects()`.
    void hold_reconnects() {
        std::lock_guard<std::mutex> lock(mutex_);
        held_ = true;
    }
    void release_reconnects() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            held_ = false;
        }
        gate_.notify_all();
    }
    /// The next `times` reopens fail with `f`.
    void fail_next_reopen(const failure& f, int times = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int i = 0; i < times; ++i) reopen_script_.push_back(f);
    }
    /// The server goes down: every send, reconnect and reopen is refused until `come_back()`.
    void go_down() {
        std::lock_guard<std::mutex> lock(mutex_);
        down_ = true;
    }
    /// The server is back, without the sessions it had (a restarted process).
    void come_back() {
        std::lock_guard<std::mutex> lock(mutex_);
        down_ = false;
        expired_generation_ = generation_.load();
        expiry_failure_ = failures::session_not_found();
    }
    /// Called at the start of every send, outside the transport's lock (to observe, to block, or to
    /// answer: a failure it returns is the send's result; the request then counts as executed when
    /// the failure's delivery is `unknown`).
    void on_send(std::function<std::optional<failure>(const scripted_request&)> f) { on_send_ = std::move(f); }

    // ---- what happened ----

    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
    std::size_t sends() const { return sends_.load(); }
    std::size_t reconnects() const { return reconnects_.load(); }
    std::size_t refreshes() const { return refreshes_.load(); }
    std::size_t reopens() const { return reopens_.load(); }
    /// The deadline the last `reconnect(deadline)` was given (`time_point::max()` for `reconnect()`).
    time_point last_reconnect_deadline() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return last_reconnect_deadline_;
    }
    /// Reconnects currently blocked at the gate.
    std::size_t reconnects_waiting() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return at_gate_;
    }
    /// How many times requests with this key were executed by the "server".
    int executions(const std::string& key) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = executions_.find(key);
        return it == executions_.end() ? 0 : it->second;
    }

    // ---- Transport ----

    outcome<scripted_response> send(const scripted_request& request) {
        std::optional<failure> answer;
        if (on_send_) answer = on_send_(request);
        sends_.fetch_add(1);
        std::lock_guard<std::mutex> lock(mutex_);
        if (answer) {
            if (answer->delivered == delivery::unknown) ++executions_[request.key];
            return *std::move(answer);
        }
        if (down_) return failures::connection_refused();
        const std::uint64_t g = generation_.load();
        if (expired_generation_ && *expired_generation_ == g) return *expiry_failure_;
        if (!send_script_.empty()) {
            failure f = send_script_.front();
            send_script_.pop_front();
            if (f.delivered == delivery::unknown) ++executions_[request.key];
            return f;
        }
        const int n = ++executions_[request.key];
        return scripted_response{request.key, g, n};
    }

    outcome<void> reconnect() { return reconnect(time_point::max()); }

    /// As `reconnect()`; records `deadline` (a held reconnect is not bounded by it).
    outcome<void> reconnect(time_point deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        reconnects_.fetch_add(1);
        last_reconnect_deadline_ = deadline;
        ++at_gate_;
        gate_.wait(lock, [&] { return !held_; });
        --at_gate_;
        if (down_) return failures::connection_refused();
        if (!reconnect_script_.empty()) {
            failure f = reconnect_script_.front();
            reconnect_script_.pop_front();
            return f;
        }
        generation_.fetch_add(1, std::memory_order_acq_rel);
        expired_generation_.reset();
        return {};
    }

    /// A new connection, the session untouched (only with `SessionOutlivesConnection`).
    template <bool B = SessionOutlivesConnection, std::enable_if_t<B, int> = 0>
    outcome<void> reopen(time_point) {
        std::lock_guard<std::mutex> lock(mutex_);
        reopens_.fetch_add(1);
        if (down_) return failures::connection_refused();
        if (!reopen_script_.empty()) {
            failure f = reopen_script_.front();
            reopen_script_.pop_front();
            return f;
        }
        return {};
    }

    template <bool B = WithAuthRefresh, std::enable_if_t<B, int> = 0>
    outcome<void> refresh_auth() {
        std::lock_guard<std::mutex> lock(mutex_);
        refreshes_.fetch_add(1);
        if (!refresh_script_.empty()) {
            failure f = refresh_script_.front();
            refresh_script_.pop_front();
            return f;
        }
        return {};
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable gate_;
    std::atomic<std::uint64_t> generation_{1};
    std::atomic<std::size_t> sends_{0};
    std::atomic<std::size_t> reconnects_{0};
    std::atomic<std::size_t> refreshes_{0};
    std::deque<failure> send_script_;
    std::deque<failure> reconnect_script_;
    std::deque<failure> refresh_script_;
    std::deque<failure> reopen_script_;
    std::atomic<std::size_t> reopens_{0};
    time_point last_reconnect_deadline_ = time_point::max();
    bool down_ = false;
    std::optional<std::uint64_t> expired_generation_;
    std::optional<failure> expiry_failure_;
    std::map<std::string, int> executions_;
    std::function<std::optional<failure>(const scripted_request&)> on_send_;
    bool held_ = false;
    std::size_t at_gate_ = 0;
};

using scripted_transport = basic_scripted_transport<true>;
using scripted_transport_without_auth = basic_scripted_transport<false>;
/// A scripted transport whose session outlives its connections, as Streamable HTTP.
using scripted_http_transport = basic_scripted_transport<true, true>;

}  // namespace mcp_recovery::testing

#endif
