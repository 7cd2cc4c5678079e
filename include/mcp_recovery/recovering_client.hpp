// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECOVERING_CLIENT_HPP
#define MCP_RECOVERY_RECOVERING_CLIENT_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/detail/auth_book.hpp"
#include "mcp_recovery/detail/client_policies.hpp"
#include "mcp_recovery/detail/recovering_call.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/recovery_policies.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/session_keeper.hpp"
#include "mcp_recovery/transport.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace mcp_recovery {

namespace detail {
/// The synchronous client's keeper timer: one thread, started at the first call when a ping
/// keeper runs its own timer, waiting on a condition variable (through the client's clock) until
/// the keeper is due, woken when the estimate drops and at the end.
struct keeper_thread {
    std::mutex mutex;
    std::condition_variable cv;
    std::thread thread;
    std::atomic<bool> tried{false};  // start was attempted (or the keeper stopped): no lock per call
    bool stopped = false;
    std::uint64_t wakes = 0;
};
}  // namespace detail

/// An MCP client call path that recognises session loss, reconnects once for all callers and
/// retries when that is safe.
///
/// `call` sends the request; on failure the `Classifier` names the kind, replay safety and the
/// `RetryPolicy` decide whether to try again, the `Reconnector` provides a new session (lost
/// session or connection) or the `BackoffPolicy` a wait (throttled, transient), and the request
/// goes again, all bounded by one deadline. A request that may already have run is never replayed
/// unless it is idempotent (`errc::not_replayable`).
///
/// The policies are checked where the client is named: in C++20 by the concepts its parameters
/// are constrained with (the compiler names the expression a type misses), in C++17 by
/// static_asserts that name the missing member. To change one policy and keep the defaults of the
/// others, see `recovery_policies` and `basic_recovering_client`.
///
/// Thread safety: `call` may run concurrently from many threads when the transport's `send` may;
/// the policies' prototypes, the options and the hook are to be set before calls start.
/// Cost: a call that succeeds at once costs the transport's `send` plus one generation read: no
/// heap allocation, no lock, no virtual call, no clock read (unless `call_options::timeout` is set).
///
/// Session keeper (the optional last parameter, `no_session_keeper` by default, which changes
/// nothing): with `session_keeper`, each call reads the clock once and tells the keeper; with the
/// `reinitialize` action a call that finds the session idle past the keeper's threshold opens a
/// new one first (through the reconnector: concurrent callers share one); with the `ping` action
/// the client starts ONE background thread at its first call (unless `own_timer` is off), which
/// pings when the session has idled for the threshold, and is joined by `stop_session_keeper()`,
/// `terminate()` or the destructor. `keep_alive(now)` performs one keeper step by hand.
#if MCP_RECOVERY_HAS_CONCEPTS
template <transport Transport, classifier Classifier = default_classifier, retry_policy RetryPolicy = retry_once,
          backoff_policy BackoffPolicy = no_backoff, class Reconnector = single_flight_reconnector<>,
          observer Observer = null_observer, clock Clock = steady_clock_source,
          session_keeper_policy SessionKeeper = no_session_keeper>
    requires reconnector<Reconnector, Transport, Clock, Observer>
#else
template <class Transport, class Classifier = default_classifier, class RetryPolicy = retry_once,
          class BackoffPolicy = no_backoff, class Reconnector = single_flight_reconnector<>,
          class Observer = null_observer, class Clock = steady_clock_source, class SessionKeeper = no_session_keeper>
#endif
class recovering_client
    : public detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock,
                                     std::function<outcome<void>(Transport&)>, SessionKeeper> {
    using base = detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer,
                                         Clock, std::function<outcome<void>(Transport&)>, SessionKeeper>;
    using base::keeper_enabled;
    using base::clock_;
    using base::hook_;
    using base::observer_;
    using base::reconnector_;

    // C++17: each names the member a type misses, then says which requirements it fails (the
    // policies the async client shares are checked in detail::client_policies).
    static_assert(detail::transport_requirements<Transport>::value,
                  "Transport type requirements not met (see mcp_recovery/transport.hpp)");
    static_assert(detail::clock_requirements<Clock>::value,
                  "Clock type requirements not met (see mcp_recovery/clock.hpp)");
    static_assert(detail::reconnector_requirements<Reconnector, Transport, Clock, Observer>::value,
                  "Reconnector type requirements not met (see mcp_recovery/reconnector.hpp)");

public:
    using transport_type = Transport;
    using request_type = typename Transport::request_type;
    using response_type = typename Transport::response_type;
    using result_type = outcome<response_type, call_error>;
    /// The policies as a bundle, to name a client that differs in one of them:
    /// `basic_recovering_client<T, client::policies::with_observer<counting_observer>>`.
    using policies = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock, SessionKeeper>;
    using typename base::annotation_source;
    using typename base::reconnect_hook;

    /// Builds the transport in place from `args`; policies start default-constructed.
    template <class... Args>
    explicit recovering_client(std::in_place_t, Args&&... args) : transport_(std::forward<Args>(args)...) {}

    explicit recovering_client(Transport transport) : transport_(std::move(transport)) {}

    recovering_client(const recovering_client&) = delete;
    recovering_client& operator=(const recovering_client&) = delete;

    /// With a session keeper: stops it (joins its thread, if any) before the transport goes.
    ~recovering_client() {
        if constexpr (keeper_enabled) stop_session_keeper();
    }

    /// One call with recovery; never throws for failures (only `std::bad_alloc` and what the
    /// transport or a policy throws).
    result_type try_call(const request_type& request) {
        if constexpr (keeper_enabled) return kept_call(request, call_options{}, time_point::max());
        const std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = send(request, time_point::max());
        if (first) return std::move(*first);
        return recover(request, call_options{}, time_point::max(), generation, auth, conn, std::move(first).error());
    }

    /// As `try_call(request)`, with per-call settings (deadline, idempotency).
    result_type try_call(const request_type& request, const call_options& options) {
        const time_point deadline = effective_deadline(options, clock_);
        if constexpr (keeper_enabled) return kept_call(request, options, deadline);
        const std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = send(request, deadline);
        if (first) return std::move(*first);
        return recover(request, options, deadline, generation, auth, conn, std::move(first).error());
    }

    /// One call with recovery; on failure sets `ec` (compare it with an `errc` or a `condition`)
    /// and returns a value-initialized response.
    response_type call(const request_type& request, std::error_code& ec) {
        static_assert(std::is_default_constructible_v<response_type>,
                      "call(request, ec) needs a default-constructible response; use try_call");
        return settle(try_call(request), ec);
    }

    /// As `call(request, ec)`, with per-call settings (deadline, idempotency).
    response_type call(const request_type& request, const call_options& options, std::error_code& ec) {
        static_assert(std::is_default_constructible_v<response_type>,
                      "call(request, options, ec) needs a default-constructible response; use try_call");
        return settle(try_call(request, options), ec);
    }

    /// One call with recovery; throws `recovery_error` (a `std::system_error`) on failure.
    response_type call(const request_type& request, const call_options& options) {
        result_type r = try_call(request, options);
        if (!r) throw recovery_error(std::move(r).error());
        return std::move(*r);
    }
    response_type call(const request_type& request) {
        result_type r = try_call(request);
        if (!r) throw recovery_error(std::move(r).error());
        return std::move(*r);
    }

    /// Ends the session (HTTP DELETE) when the transport can; stops the session keeper first.
    template <class T = Transport, std::enable_if_t<has_terminate_v<T>, int> = 0>
    outcome<void> terminate() {
        if constexpr (keeper_enabled) stop_session_keeper();
        return transport_.terminate();
    }

    /// Session keeper (with an enabled `SessionKeeper` only): one keeper step at `now`. When the
    /// session has idled for the keeper's threshold: a ping (a lost session met by it is renewed
    /// through the reconnector), or a new session (the `reinitialize` action). At most one keeper
    /// step in flight per client: a concurrent one returns `keeper_step::busy`. The keeper's own
    /// thread calls this; call it yourself with `own_timer` off (tests: with a manual clock).
    template <class K = SessionKeeper, std::enable_if_t<detail::keeper_is_enabled<K>::value, int> = 0>
    keeper_step keep_alive(time_point now) {
        if (!this->keeper_.due(now)) return keeper_step::nothing;
        if (!this->keeper_gate_.try_begin()) return keeper_step::busy;
        const detail::keeper_gate_guard guard{this->keeper_gate_};
        if (!this->keeper_.due(now)) return keeper_step::nothing;  // another step acted meanwhile
        const std::uint64_t generation = transport_.generation();
        if (this->keeper_effective_action() == keeper_action::reinitialize) {
            const reconnect_outcome r = keeper_reinitialize(generation, time_point::max(), this->keeper_.idle(now));
            return r ? keeper_step::reinitialized : keeper_step::failed;
        }
        if constexpr (ping_request_traits<request_type>::available) {
            const request_type ping = ping_request_traits<request_type>::make();
            const time_point deadline = saturating_add(now, this->keeper_.options().action_timeout);
            const keeper_ticket ticket = this->keeper_.begin_send(now);
            outcome<response_type> r = send(ping, deadline);
            if (r) {
                (void)this->keeper_.end_send(ticket, false);
                detail::notify_keeper_ping(observer_, ticket.idle, nullptr);
                return keeper_step::pinged;
            }
            detail::notify_keeper_ping(observer_, ticket.idle, &r.error());
            if (!this->keeper_session_lost(r.error())) return keeper_step::failed;
            if (this->keeper_.end_send(ticket, true)) wake_keeper();
            const reconnect_outcome renewed = keeper_reinitialize(generation, time_point::max(), ticket.idle);
            return renewed ? keeper_step::reinitialized : keeper_step::failed;
        }
        return keeper_step::nothing;
    }

    /// Starts the keeper's thread now rather than at the first call (a ping keeper with
    /// `own_timer` only; otherwise, or after `stop_session_keeper()`, nothing).
    template <class K = SessionKeeper, std::enable_if_t<detail::keeper_is_enabled<K>::value, int> = 0>
    void start_session_keeper() {
        detail::keeper_thread& rt = keeper_timer_;
        std::lock_guard<std::mutex> lock(rt.mutex);
        rt.tried.store(true, std::memory_order_release);
        if (rt.stopped || rt.thread.joinable() || !this->keeper_runs_timer()) return;
        rt.thread = std::thread([this] { keeper_thread_main(); });
    }

    /// Stops the session keeper for good: its thread (if any) is woken and joined; calls go on
    /// without it (the keeper still learns, but acts no more). Also done by `terminate()` and the
    /// destructor. Waits at most for a keeper step in progress (bounded by `action_timeout`, or
    /// the reconnector's `reconnect_timeout`).
    template <class K = SessionKeeper, std::enable_if_t<detail::keeper_is_enabled<K>::value, int> = 0>
    void stop_session_keeper() {
        detail::keeper_thread& rt = keeper_timer_;
        std::thread t;
        {
            std::lock_guard<std::mutex> lock(rt.mutex);
            rt.stopped = true;
            rt.tried.store(true, std::memory_order_release);
            t = std::move(rt.thread);
        }
        rt.cv.notify_all();
        if (!t.joinable()) return;
        if (t.get_id() == std::this_thread::get_id()) t.detach();  // from inside a keeper step (a hook)
        else t.join();
    }

    /// Whether the keeper's thread runs (for tests and monitoring).
    template <class K = SessionKeeper, std::enable_if_t<detail::keeper_is_enabled<K>::value, int> = 0>
    bool session_keeper_running() {
        std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
        return keeper_timer_.thread.joinable() && !keeper_timer_.stopped;
    }

    Transport& transport() noexcept { return transport_; }
    const Transport& transport() const noexcept { return transport_; }
    // classifier(), retry_policy(), backoff_policy(), reconnector(), observer(), clock(), options(),
    // on_reconnected(hook), use_tool_annotations(source): detail::client_policies, shared with
    // the asynchronous client.

private:
    static response_type settle(result_type&& r, std::error_code& ec) {
        if (r) {
            ec.clear();
            return std::move(*r);
        }
        ec = r.error().code;
        return response_type{};
    }

    // A call with an enabled session keeper: the keeper's timer is started, a session idle past
    // the threshold is renewed first (`reinitialize`), the keeper is told the send and learns
    // from its outcome; the recovery is the same.
    result_type kept_call(const request_type& request, const call_options& options, time_point deadline) {
        std::uint64_t generation = transport_.generation();
        time_point now = clock_.now();
        if (this->keeper_reinitializes_before_calls() && this->keeper_.due(now)) {
            (void)keeper_reinitialize(generation, deadline, this->keeper_.idle(now));
            generation = transport_.generation();
            now = clock_.now();
        }
        const keeper_ticket ticket = this->keeper_.begin_send(now);
        // Started (or woken) once there is activity to measure idleness from: a timer started
        // before it would find nothing due and sleep until woken.
        if (!keeper_timer_.tried.load(std::memory_order_acquire)) start_session_keeper();
        else if (!ticket.known) wake_keeper();  // the first activity the keeper hears of
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = send(request, deadline);
        if (first) {
            (void)this->keeper_.end_send(ticket, false);
            return std::move(*first);
        }
        if (this->keeper_.end_send(ticket, this->keeper_session_lost(first.error()))) wake_keeper();
        return recover(request, options, deadline, generation, auth, conn, std::move(first).error());
    }

    // A new session for the keeper, through the reconnector (concurrent callers share its one
    // flight); the first caller to ask away from `generation` tells the observer.
    reconnect_outcome keeper_reinitialize(std::uint64_t generation, time_point deadline, duration idle) {
        const bool reports = this->keeper_gate_.claim_reinitialize(generation);
        reconnect_outcome r = reconnect(generation, deadline);
        if (reports) detail::notify_keeper_reinitialize(observer_, idle, r ? std::error_code{} : r.error().code);
        return r;
    }

    // The estimate dropped: the keeper's thread recomputes its wake-up.
    void wake_keeper() {
        {
            std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
            ++keeper_timer_.wakes;
        }
        keeper_timer_.cv.notify_all();
    }

    // The keeper's thread: waits (through the clock) until the keeper is due, a wake or the
    // stop; then one keeper step. A step that could not act (busy, failed) is retried after
    // `min_interval` at the earliest: never a busy loop.
    void keeper_thread_main() {
        detail::keeper_thread& rt = keeper_timer_;
        std::unique_lock<std::mutex> lock(rt.mutex);
        time_point not_before{};
        while (!rt.stopped) {
            time_point next = this->keeper_.next_due();
            if (next < not_before) next = not_before;
            const std::uint64_t wakes = rt.wakes;
            clock_.wait_until(lock, rt.cv, next, [&] { return rt.stopped || rt.wakes != wakes; });
            if (rt.stopped) break;
            if (rt.wakes != wakes) continue;
            lock.unlock();
            const time_point now = clock_.now();
            keeper_step step = keeper_step::failed;
            try {
                step = keep_alive(now);
            } catch (...) {
                // A throwing hook or transport must not end the thread: counted as a failed step.
            }
            lock.lock();
            if (step == keeper_step::busy || step == keeper_step::failed)
                not_before = saturating_add(now, this->keeper_.options().min_interval);
        }
    }

    outcome<response_type> send(const request_type& request, time_point deadline) {
        if constexpr (detail::has_deadline_send<Transport>::value)
            return transport_.send(request, deadline);
        else
            return transport_.send(request);
    }

    MCP_RECOVERY_NOINLINE MCP_RECOVERY_COLD result_type recover(const request_type& request,
                                                                 const call_options& options, time_point deadline,
                                                                 std::uint64_t generation, std::uint64_t auth_seen,
                                                                 std::uint64_t conn_seen, failure last) {
        using op = detail::call_io::op;
        auto c = this->template begin_recovery<response_type>(request, options, deadline, has_refresh_auth_v<Transport>,
                                                             session_outlives_connection_v<Transport>, std::move(last));
        for (detail::call_io io = c.start(clock_.now()); io.what != op::finish;) {
            switch (io.what) {
            case op::finish: break;
            case op::renew:
                renew_session(generation, deadline);
                io = c.after_renew();
                break;
            // Each step first, then the time it ended (function arguments have no order).
            case op::reconnect: {
                reconnect_outcome r = reconnect(generation, deadline);
                io = c.after_step(std::move(r), clock_.now());
                break;
            }
            case op::reopen: {
                reconnect_outcome r = reopen(generation, conn_seen, deadline);
                io = c.after_step(std::move(r), clock_.now());
                break;
            }
            case op::wait:
                if (io.wait > duration::zero()) clock_.sleep_until(io.until);
                io = c.before_send(clock_.now());
                break;
            case op::refresh_auth: {
                const outcome<void> r = refresh_auth(auth_seen, deadline);
                io = c.after_refresh(r, clock_.now());
                break;
            }
            case op::send: {
                generation = transport_.generation();
                auth_seen = auth_epoch();
                conn_seen = connection_epoch();
                if constexpr (keeper_enabled) (void)this->keeper_.begin_send(clock_.now());
                outcome<response_type> r = send(request, deadline);
                io = c.after_send(std::move(r), clock_.now());
                break;
            }
            }
        }
        return std::move(c).result();
    }

    reconnect_outcome reconnect(std::uint64_t generation, time_point deadline) {
        auto hook = [this](Transport& t) -> outcome<void> {
            outcome<void> r = hook_ ? hook_(t) : outcome<void>{};
            if constexpr (keeper_enabled) {
                if (r) this->keeper_.session_opened(clock_.now());  // the new session's last message
            }
            return r;
        };
        return reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook);
    }

    // A new connection on the same session; a reconnector without `reopen` renews the session.
    reconnect_outcome reopen(std::uint64_t generation, std::uint64_t conn_seen, time_point deadline) {
        if constexpr (detail::reconnector_has_reopen<Reconnector, Transport, Clock, Observer>::value) {
            (void)generation;
            return reconnector_.reopen(transport_, conn_seen, deadline, clock_, observer_);
        } else {
            (void)conn_seen;
            return reconnect(generation, deadline);
        }
    }

    // Successful flights so far, when the connection-level recovery can use them (a transport
    // whose session outlives its connections, a reconnector with `reopen`): one relaxed atomic
    // load on the success path, none otherwise.
    std::uint64_t connection_epoch() const noexcept {
        if constexpr (session_outlives_connection_v<Transport> &&
                      detail::reconnector_has_reopen<Reconnector, Transport, Clock, Observer>::value)
            return reconnector_.connection_epoch();
        else
            return 0;
    }

    // The call gives up on a lost session: renew it anyway (when there is time), so that the next
    // call does not meet the dead session too. Its outcome is the next call's business.
    void renew_session(std::uint64_t generation, time_point deadline) {
        if (deadline != time_point::max() && clock_.now() >= deadline) return;
        (void)reconnect(generation, deadline);
    }

    // Credential refreshes finished before a send; nothing to read when the transport cannot refresh.
    std::uint64_t auth_epoch() const noexcept {
        if constexpr (has_refresh_auth_v<Transport>) return auth_.epoch();
        else return 0;
    }

    // One credential refresh at a time, shared by every caller rejected with the credentials it
    // replaces (the transport's refresh_auth is not required to be thread-safe): the decisions are
    // `detail::auth_book`'s, as in the asynchronous client; a waiter blocks on the clock's wait.
    outcome<void> refresh_auth(std::uint64_t seen, time_point deadline) {
        if constexpr (has_refresh_auth_v<Transport>) {
            using turn = detail::auth_book::turn;
            std::unique_lock<std::mutex> lock(auth_mutex_);
            for (;;) {
                const turn t = auth_.begin(seen);
                if (t == turn::refreshed) return {};
                if (t == turn::lead) break;
                const std::uint64_t failures_before = auth_.failures();
                clock_.wait_until(lock, auth_cv_, deadline, [&] { return !auth_.in_flight(); });
                if (auto shared = auth_.after_wait(seen, failures_before)) return std::move(*shared);
                if (deadline != time_point::max() && clock_.now() >= deadline)
                    return detail::auth_book::ended_while_waiting(errc::deadline_exceeded);
            }
            lock.unlock();
            outcome<void> r{};
            try {
                r = transport_.refresh_auth();
            } catch (...) {
                end_refresh(nullptr);
                throw;
            }
            end_refresh(&r);
            return r;
        } else {
            (void)seen;
            (void)deadline;
            return {};
        }
    }

    // The leader's refresh ended with `*r` (null: by an exception); its waiters wake.
    void end_refresh(const outcome<void>* r) {
        {
            std::lock_guard<std::mutex> lock(auth_mutex_);
            if (r) auth_.finish(*r);
            else auth_.abandon();
        }
        auth_cv_.notify_all();
    }

    Transport transport_;
    std::mutex auth_mutex_;
    std::condition_variable auth_cv_;
    detail::auth_book auth_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS std::conditional_t<keeper_enabled, detail::keeper_thread, detail::no_keeper_timer>
        keeper_timer_;
};

/// A `recovering_client` of `Transport` with the policies of the bundle `Policies`
/// (`recovery_policies<...>`, or anything with the same six member types; `session_keeper`, the
/// seventh, is optional).
///
///     using client = basic_recovering_client<my_transport, recovery_policies<>::with_observer<counting_observer>>;
///
/// is `recovering_client<my_transport, default_classifier, retry_once, no_backoff,
/// single_flight_reconnector<>, counting_observer, steady_clock_source>`: the same type.
template <class Transport, class Policies = recovery_policies<>>
using basic_recovering_client =
    recovering_client<Transport, typename Policies::classifier, typename Policies::retry_policy,
                      typename Policies::backoff_policy, typename Policies::reconnector, typename Policies::observer,
                      typename Policies::clock, typename detail::session_keeper_of<Policies>::type>;

}  // namespace mcp_recovery

#endif
