// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_CLIENT_HPP
#define MCP_RECOVERY_BEAST_ASYNC_CLIENT_HPP

/// Asynchronous recovery on Asio coroutines (C++20): `async_recovering_client`, the async
/// single-flight reconnector, and the async transport requirements. The same classifier, retry,
/// backoff and observer policies as the synchronous client, through the same `recovery_plan`.
///
/// Available where Asio has `co_await` support (`BOOST_ASIO_HAS_CO_AWAIT`: g++ >= 10 in C++20;
/// Boost 1.74 does not enable it for clang with libstdc++).
///
/// Parts, each in its own header: `async_event.hpp`, `async_transport.hpp` (requirements),
/// `async_reconnector.hpp`, and this one (the client).

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_config.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mcp_recovery/beast/async_event.hpp"
#include "mcp_recovery/beast/async_reconnector.hpp"
#include "mcp_recovery/beast/async_transport.hpp"
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
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/recovery_policies.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

namespace mcp_recovery::beast {

namespace net = boost::asio;

namespace detail {
template <class C, class = void>
struct is_async_clock_impl : std::false_type {};
template <class C>
struct is_async_clock_impl<C, std::void_t<decltype(std::declval<C&>().now())>>
    : std::is_convertible<decltype(std::declval<C&>().now()), time_point> {};
}  // namespace detail

/// Clock requirements of the asynchronous client: `c.now()` returns `time_point`, callable from
/// any thread. It times every decision (deadlines, retry contexts, the circuit breaker, the
/// observer's durations); the waits themselves are Asio timers on `std::chrono::steady_clock`, so
/// its `now()` must tell steady_clock's time (`steady_clock_source` does; a manual clock does not).
template <class C>
inline constexpr bool is_async_clock_v = detail::is_async_clock_impl<C>::value;

namespace detail {
/// The asynchronous client's keeper timer: the loop coroutine's shared state (it outlives the
/// client when the loop is suspended at the client's end: the loop then touches nothing else).
struct async_keeper_life {
    std::mutex mutex;
    bool stopped = false;
    bool done = false;                        // the loop has ended
    std::shared_ptr<async_event> sleeping;    // the loop's current wait, to wake it
};
struct async_keeper_timer {
    std::mutex mutex;
    std::atomic<bool> tried{false};  // start was attempted (or the keeper stopped): no lock per call
    bool stopped = false;
    std::shared_ptr<async_keeper_life> life;
};
}  // namespace detail

#if MCP_RECOVERY_HAS_CONCEPTS
template <class C>
concept async_clock = is_async_clock_v<C>;
#endif

/// The asynchronous recovering client: `async_call` with any Asio completion token
/// (`use_awaitable`, a callback `void(std::exception_ptr, result_type)`, ...), or `call` as an
/// awaitable. Same decisions as `recovering_client` (`recovery_plan`); waits are Asio timers,
/// the single flight is `async_single_flight_reconnector`.
///
/// Cancellation, two ways; a cancelled call is never retried, and a reconnect it was waiting for
/// goes on for the others (flights run on their own, see `async_single_flight_reconnector`):
/// - `cancel()` ends every call in progress with `errc::cancelled` at its next step (waits for a
///   reconnect or a backoff end at once; a request already on the wire completes first);
/// - per operation (Boost >= 1.80, `MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS`): a terminal
///   cancellation of the coroutine awaiting `call` (or of `async_call`'s completion token, e.g.
///   bound with `bind_cancellation_slot`) ends that call only: the wait or the I/O step in progress
///   stops at once. As with any Asio operation, under the default `this_coro::throw_if_cancelled`
///   the cancelled coroutine may see `system_error(operation_aborted)` at its next `co_await`;
///   with `throw_if_cancelled(false)` the call returns `errc::cancelled`.
///
/// Thread-safe: calls may run on a multi-threaded io_context. The client must outlive its calls
/// and the reconnect they started (`reconnector().in_flight()`): destroy it after its io_context
/// ran out of work or was stopped.
///
/// Session keeper (the optional last parameter; `no_session_keeper`, the default, changes
/// nothing): with `session_keeper`, each call reads the clock once and tells the keeper; the
/// `reinitialize` action renews a session idle past the threshold before a call (through the
/// reconnector: one flight for concurrent callers); the `ping` action runs ONE coroutine on the
/// client's executor (unless `own_timer` is off), started at the first call or by
/// `start_session_keeper()`, that pings when the session has idled for the threshold. It keeps
/// the io_context busy: `stop_session_keeper()` (or `terminate()`, or the destructor) ends it, at
/// once when it sleeps; a ping on the wire at that moment is a call in flight (the rule above:
/// let the io_context run out of work before destroying the client). `keep_alive(now)` is one
/// keeper step by hand.
#if MCP_RECOVERY_HAS_CONCEPTS
template <async_transport Transport, classifier Classifier = default_classifier, retry_policy RetryPolicy = retry_once,
          backoff_policy BackoffPolicy = no_backoff, class Reconnector = async_single_flight_reconnector<>,
          observer Observer = null_observer, async_clock Clock = steady_clock_source,
          session_keeper_policy SessionKeeper = no_session_keeper>
    requires async_reconnector<Reconnector, Transport, Clock, Observer>
#else
template <class Transport, class Classifier = default_classifier, class RetryPolicy = retry_once,
          class BackoffPolicy = no_backoff, class Reconnector = async_single_flight_reconnector<>,
          class Observer = null_observer, class Clock = steady_clock_source, class SessionKeeper = no_session_keeper>
#endif
class async_recovering_client
    : public ::mcp_recovery::detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector,
                                                     Observer, Clock,
                                                     std::function<net::awaitable<outcome<void>>(Transport&)>,
                                                     SessionKeeper> {
    using base = ::mcp_recovery::detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector,
                                                         Observer, Clock,
                                                         std::function<net::awaitable<outcome<void>>(Transport&)>,
                                                         SessionKeeper>;
    using base::keeper_enabled;
    using base::clock_;
    using base::hook_;
    using base::observer_;
    using base::reconnector_;

    // The policies it shares with the sync client are checked in detail::client_policies.
    static_assert(is_async_transport_v<Transport>,
                  "Transport type requirements not met (see mcp_recovery/beast/async_transport.hpp)");
    static_assert(is_async_clock_v<Clock>, "Clock type requirements not met: needs time_point now() (see async_client.hpp)");
    static_assert(is_async_reconnector_v<Reconnector, Transport, Clock, Observer>,
                  "Reconnector type requirements not met (see mcp_recovery/beast/async_reconnector.hpp)");

public:
    using request_type = typename Transport::request_type;
    using response_type = typename Transport::response_type;
    using result_type = outcome<response_type, call_error>;
    /// The policies as a bundle (see `recovery_policies`, `basic_async_recovering_client`).
    using policies = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock, SessionKeeper>;
    using typename base::annotation_source;
    using typename base::reconnect_hook;

    template <class... Args>
    explicit async_recovering_client(net::any_io_executor ex, std::in_place_t, Args&&... args)
        : executor_(std::move(ex)), transport_(std::forward<Args>(args)...) {}

    async_recovering_client(const async_recovering_client&) = delete;
    async_recovering_client& operator=(const async_recovering_client&) = delete;

    /// With a session keeper: stops its loop (see the class comment).
    ~async_recovering_client() {
        if constexpr (keeper_enabled) stop_session_keeper();
    }

    /// One call with recovery, as an awaitable. The request is copied into the coroutine.
    net::awaitable<result_type> call(request_type request) {
        if constexpr (keeper_enabled) {
            const call_options defaults{};
            co_return co_await kept_call(request, defaults, time_point::max(), cancel_epoch_.load());
        }
        const std::uint64_t epoch = cancel_epoch_.load(std::memory_order_relaxed);
        const std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = co_await transport_.async_send(request, time_point::max());
        if (first) co_return std::move(*first);
        // No temporaries of class type in a co_await expression: g++ 12 destroys some twice.
        const call_options defaults{};
        failure last = std::move(first).error();
        co_return co_await recover(request, defaults, time_point::max(), generation, std::move(last), epoch, auth,
                                   conn);
    }

    /// As `call(request)`, with per-call settings (deadline, idempotency).
    net::awaitable<result_type> call(request_type request, call_options options) {
        const std::uint64_t epoch = cancel_epoch_.load();
        const time_point deadline = effective_deadline(options, clock_);
        if constexpr (keeper_enabled) co_return co_await kept_call(request, options, deadline, epoch);
        std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = co_await transport_.async_send(request, deadline);
        if (first) co_return std::move(*first);
        failure last = std::move(first).error();
        co_return co_await recover(request, options, deadline, generation, std::move(last), epoch, auth, conn);
    }

    /// One call with recovery, completing through `token` with `(std::exception_ptr, result_type)`.
    template <class CompletionToken>
    auto async_call(request_type request, CompletionToken&& token) {
        return net::co_spawn(executor_, call(std::move(request)), std::forward<CompletionToken>(token));
    }
    template <class CompletionToken>
    auto async_call(request_type request, call_options options, CompletionToken&& token) {
        return net::co_spawn(executor_, call(std::move(request), std::move(options)),
                             std::forward<CompletionToken>(token));
    }

    /// Ends the session (HTTP DELETE) when the transport can (`async_terminate()`); stops the
    /// session keeper first.
    template <class T = Transport, std::enable_if_t<detail::has_async_terminate<T>::value, int> = 0>
    net::awaitable<outcome<void>> terminate() {
        if constexpr (keeper_enabled) stop_session_keeper();
        co_return co_await transport_.async_terminate();
    }

    /// Session keeper (an enabled `SessionKeeper` only): one keeper step at `now`, as
    /// `recovering_client::keep_alive` (a ping, a lost session renewed, or the `reinitialize`
    /// action; `keeper_step::busy` when another step is in flight). The keeper's coroutine
    /// awaits this; await it yourself with `own_timer` off.
    template <class K = SessionKeeper, std::enable_if_t<::mcp_recovery::detail::keeper_is_enabled<K>::value, int> = 0>
    net::awaitable<keeper_step> keep_alive(time_point now) {
        if (!this->keeper_.due(now)) co_return keeper_step::nothing;
        if (!this->keeper_gate_.try_begin()) co_return keeper_step::busy;
        const ::mcp_recovery::detail::keeper_gate_guard guard{this->keeper_gate_};
        if (!this->keeper_.due(now)) co_return keeper_step::nothing;  // another step acted meanwhile
        const std::uint64_t generation = transport_.generation();
        if (this->keeper_effective_action() == keeper_action::reinitialize) {
            const duration idle = this->keeper_.idle(now);
            const never_cancelled no_cancel{};
            const reconnect_outcome r = co_await keeper_reinitialize(generation, time_point::max(), idle, no_cancel);
            co_return r ? keeper_step::reinitialized : keeper_step::failed;
        }
        if constexpr (ping_request_traits<request_type>::available) {
            const request_type ping = ping_request_traits<request_type>::make();
            const time_point deadline = saturating_add(now, this->keeper_.options().action_timeout);
            const keeper_ticket ticket = this->keeper_.begin_send(now);
            outcome<response_type> r = co_await transport_.async_send(ping, deadline);
            if (r) {
                (void)this->keeper_.end_send(ticket, false);
                ::mcp_recovery::detail::notify_keeper_ping(observer_, ticket.idle, nullptr);
                co_return keeper_step::pinged;
            }
            ::mcp_recovery::detail::notify_keeper_ping(observer_, ticket.idle, &r.error());
            if (!this->keeper_session_lost(r.error())) co_return keeper_step::failed;
            if (this->keeper_.end_send(ticket, true)) wake_keeper();
            const never_cancelled no_cancel{};
            const reconnect_outcome renewed =
                co_await keeper_reinitialize(generation, time_point::max(), ticket.idle, no_cancel);
            co_return renewed ? keeper_step::reinitialized : keeper_step::failed;
        }
        co_return keeper_step::nothing;
    }

    /// Starts the keeper's coroutine now rather than at the first call (a ping keeper with
    /// `own_timer` only; otherwise, or after `stop_session_keeper()`, nothing).
    template <class K = SessionKeeper, std::enable_if_t<::mcp_recovery::detail::keeper_is_enabled<K>::value, int> = 0>
    void start_session_keeper() {
        std::shared_ptr<detail::async_keeper_life> life;
        {
            std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
            keeper_timer_.tried.store(true, std::memory_order_release);
            if (keeper_timer_.stopped || keeper_timer_.life || !this->keeper_runs_timer()) return;
            keeper_timer_.life = std::make_shared<detail::async_keeper_life>();
            life = keeper_timer_.life;
        }
        net::co_spawn(executor_, keeper_loop(std::move(life)), net::detached);
    }

    /// Stops the session keeper for good: a sleeping loop ends at once (it then touches nothing
    /// of the client); a step in flight ends after its I/O. Calls go on without it. Also done
    /// by `terminate()` and the destructor. Does not block.
    template <class K = SessionKeeper, std::enable_if_t<::mcp_recovery::detail::keeper_is_enabled<K>::value, int> = 0>
    void stop_session_keeper() {
        std::shared_ptr<detail::async_keeper_life> life;
        {
            std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
            keeper_timer_.stopped = true;
            keeper_timer_.tried.store(true, std::memory_order_release);
            life = keeper_timer_.life;
        }
        if (!life) return;
        std::shared_ptr<async_event> sleeping;
        {
            std::lock_guard<std::mutex> lock(life->mutex);
            life->stopped = true;
            sleeping = std::move(life->sleeping);
        }
        if (sleeping) sleeping->set();
    }

    /// Whether the keeper's coroutine runs (started and not ended yet).
    template <class K = SessionKeeper, std::enable_if_t<::mcp_recovery::detail::keeper_is_enabled<K>::value, int> = 0>
    bool session_keeper_running() {
        std::shared_ptr<detail::async_keeper_life> life;
        {
            std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
            life = keeper_timer_.life;
        }
        if (!life) return false;
        std::lock_guard<std::mutex> lock(life->mutex);
        return !life->done;
    }

    /// Ends every call in progress with `errc::cancelled` (see the class comment).
    void cancel() {
        cancel_epoch_.fetch_add(1);
        reconnector_.wake_all();
        std::vector<std::shared_ptr<async_event>> sleeping;
        {
            std::lock_guard<std::mutex> lock(sleepers_mutex_);
            sleeping = sleepers_;
        }
        for (auto& e : sleeping) e->set();
    }

    Transport& transport() noexcept { return transport_; }
    const Transport& transport() const noexcept { return transport_; }
    // classifier(), retry_policy(), backoff_policy(), reconnector(), observer(), clock(), options(),
    // on_reconnected(hook), use_tool_annotations(source): detail::client_policies, shared with
    // the synchronous client.
    /// Calls sleeping in a backoff or Retry-After wait right now.
    std::size_t sleepers() const {
        std::lock_guard<std::mutex> lock(sleepers_mutex_);
        return sleepers_.size();
    }

private:
    struct never_cancelled {
        bool operator()() const noexcept { return false; }
    };

    // The reconnect hook: the user's, then (with a keeper) the new session's activity.
    auto make_hook() {
        return [this](Transport& t) -> net::awaitable<outcome<void>> {
            if constexpr (keeper_enabled) {
                outcome<void> r{};
                if (hook_) r = co_await hook_(t);
                if (r) this->keeper_.session_opened(clock_.now());  // the new session's last message
                co_return r;
            } else {
                if (hook_) co_return co_await hook_(t);
                co_return outcome<void>{};
            }
        };
    }

    // A call with an enabled session keeper (see recovering_client::kept_call).
    net::awaitable<result_type> kept_call(const request_type& request, const call_options& options,
                                          time_point deadline, std::uint64_t epoch) {
        std::uint64_t generation = transport_.generation();
        time_point now = clock_.now();
        if (this->keeper_reinitializes_before_calls() && this->keeper_.due(now)) {
            auto cancelled = [this, epoch] { return cancel_epoch_.load() != epoch; };
            const duration idle = this->keeper_.idle(now);
            (void)co_await keeper_reinitialize(generation, deadline, idle, cancelled);
            generation = transport_.generation();
            now = clock_.now();
        }
        const keeper_ticket ticket = this->keeper_.begin_send(now);
        // Started (or woken) once there is activity to measure idleness from: a loop started
        // before it (co_spawn may run it at once, as Boost 1.81 does) would find nothing due and
        // sleep until woken.
        if (!keeper_timer_.tried.load(std::memory_order_acquire)) start_session_keeper();
        else if (!ticket.known) wake_keeper();  // the first activity the keeper hears of
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = co_await transport_.async_send(request, deadline);
        if (first) {
            (void)this->keeper_.end_send(ticket, false);
            co_return std::move(*first);
        }
        if (this->keeper_.end_send(ticket, this->keeper_session_lost(first.error()))) wake_keeper();
        failure last = std::move(first).error();
        co_return co_await recover(request, options, deadline, generation, std::move(last), epoch, auth, conn);
    }

    // A new session for the keeper through the reconnector (one flight for concurrent callers);
    // the first caller to ask away from `generation` tells the observer.
    template <class Cancelled>
    net::awaitable<reconnect_outcome> keeper_reinitialize(std::uint64_t generation, time_point deadline, duration idle,
                                                          Cancelled cancelled) {
        const bool reports = this->keeper_gate_.claim_reinitialize(generation);
        auto hook = make_hook();
        reconnect_outcome r =
            co_await reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook, cancelled);
        if (reports)
            ::mcp_recovery::detail::notify_keeper_reinitialize(observer_, idle, r ? std::error_code{} : r.error().code);
        co_return r;
    }

    // The estimate dropped: the keeper's loop recomputes its wake-up.
    void wake_keeper() {
        std::shared_ptr<detail::async_keeper_life> life;
        {
            std::lock_guard<std::mutex> lock(keeper_timer_.mutex);
            life = keeper_timer_.life;
        }
        if (!life) return;
        std::shared_ptr<async_event> sleeping;
        {
            std::lock_guard<std::mutex> lock(life->mutex);
            sleeping = std::move(life->sleeping);
        }
        if (sleeping) sleeping->set();
    }

    // The keeper's loop: sleeps until the keeper is due (or a wake, or the stop), then one step.
    // Every look at the client is under `life->mutex` after checking `stopped`, so a loop that
    // wakes after the client ended touches nothing of it. A step that could not act (busy,
    // failed) is retried after `min_interval` at the earliest: never a busy loop.
    net::awaitable<void> keeper_loop(std::shared_ptr<detail::async_keeper_life> life) {
        const auto ex = co_await net::this_coro::executor;
        time_point not_before{};
        for (;;) {
            auto event = std::make_shared<async_event>(ex);
            time_point next{};
            {
                std::lock_guard<std::mutex> lock(life->mutex);
                if (life->stopped) break;
                next = this->keeper_.next_due();
                if (next < not_before) next = not_before;
                life->sleeping = event;
            }
            co_await event->wait_until(next);
            time_point now{};
            {
                std::lock_guard<std::mutex> lock(life->mutex);
                if (life->stopped) break;
                life->sleeping.reset();
                now = clock_.now();
            }
            if (now < next) continue;  // woken early: the estimate dropped
            keeper_step step = keeper_step::failed;
            try {
                step = co_await keep_alive(now);
            } catch (...) {
                // A throwing hook or transport must not end the loop: counted as a failed step.
            }
            {
                std::lock_guard<std::mutex> lock(life->mutex);
                if (life->stopped) break;
                if (step == keeper_step::busy || step == keeper_step::failed)
                    not_before = saturating_add(now, this->keeper_.options().min_interval);
            }
        }
        std::lock_guard<std::mutex> lock(life->mutex);
        life->done = true;
    }

    // Sleeps until `until`, or until cancel() or a cancellation of the awaiting coroutine (the
    // caller checks which).
    net::awaitable<void> sleep_until(time_point until, std::uint64_t epoch) {
        auto event = std::make_shared<async_event>(co_await net::this_coro::executor);
        {
            std::lock_guard<std::mutex> lock(sleepers_mutex_);
            sleepers_.push_back(event);
        }
        const detail::scoped_waiter registered{sleepers_mutex_, sleepers_, event};
        if (cancel_epoch_.load() != epoch) event->set();
        co_await event->wait_until(until);
    }

    net::awaitable<result_type> recover(const request_type& request, const call_options& options, time_point deadline,
                                        std::uint64_t generation, failure last, std::uint64_t epoch,
                                        std::uint64_t auth_seen, std::uint64_t conn_seen) {
#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
        // Cancellation through the awaiting coroutine's slot (asked only once the first attempt
        // failed: the success path does not pay for it).
        const net::cancellation_state slot = co_await net::this_coro::cancellation_state;
        auto cancelled = [this, epoch, slot] {
            return cancel_epoch_.load() != epoch || slot.cancelled() != net::cancellation_type::none;
        };
#else
        auto cancelled = [this, epoch] { return cancel_epoch_.load() != epoch; };
#endif
        auto hook = make_hook();

        using op = ::mcp_recovery::detail::call_io::op;
        auto c = this->template begin_recovery<response_type>(request, options, deadline,
                                                             detail::has_async_refresh_auth<Transport>::value,
                                                             session_outlives_connection_v<Transport>, std::move(last));
        ::mcp_recovery::detail::call_io io = cancelled() ? c.cancel() : c.start(clock_.now());
        while (io.what != op::finish) {
            if (cancelled()) {
                io = c.cancel();
                break;
            }
            switch (io.what) {
            case op::finish: break;
            case op::renew:
                // Renew the lost session for the next call, whatever becomes of this one.
                if (deadline == time_point::max() || clock_.now() < deadline)
                    (void)co_await reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook,
                                                          cancelled);
                io = c.after_renew();
                break;
            case op::reconnect:
            case op::reopen: {
                reconnect_outcome r;
                if (io.what == op::reconnect)
                    r = co_await reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook,
                                                        cancelled);
                else
                    r = co_await reopen(generation, conn_seen, deadline, hook, cancelled);
                if (!r) io = c.after_failed_step(std::move(r).error(), clock_.now());
                else io = cancelled() ? c.cancel() : c.before_send(clock_.now());
                break;
            }
            case op::wait:
                if (io.wait > duration::zero()) co_await sleep_until(io.until, epoch);
                io = cancelled() ? c.cancel() : c.before_send(clock_.now());
                break;
            case op::refresh_auth: {
                outcome<void> r{};
                if constexpr (detail::has_async_refresh_auth<Transport>::value)
                    r = co_await refresh_auth(auth_seen, deadline, cancelled);
                if (r && cancelled()) io = c.cancel();
                else io = c.after_refresh(r, clock_.now());
                break;
            }
            case op::send: {
                generation = transport_.generation();
                auth_seen = auth_epoch();
                conn_seen = connection_epoch();
                if constexpr (keeper_enabled) (void)this->keeper_.begin_send(clock_.now());
                outcome<response_type> next = co_await transport_.async_send(request, deadline);
                io = c.after_send(std::move(next), clock_.now());
                break;
            }
            }
        }
        co_return std::move(c).result();
    }

    template <class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> reopen(std::uint64_t generation, std::uint64_t conn_seen, time_point deadline,
                                             Hook& hook, Cancelled& cancelled) {
        if constexpr (has_reopen_reconnector)
            co_return co_await reconnector_.reopen(transport_, conn_seen, deadline, clock_, observer_, cancelled);
        else
            co_return co_await reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook, cancelled);
    }

    // One credential refresh at a time, shared by every caller rejected with the credentials it
    // replaces: the decisions are `detail::auth_book`'s, as in the synchronous client; a waiter
    // suspends on an event instead of blocking.
    template <class Cancelled>
    net::awaitable<outcome<void>> refresh_auth(std::uint64_t seen, time_point deadline, Cancelled& cancelled) {
        using turn = ::mcp_recovery::detail::auth_book::turn;
        const auto ex = co_await net::this_coro::executor;
        for (;;) {
            std::shared_ptr<async_event> event;
            std::uint64_t failures_before = 0;
            {
                std::lock_guard<std::mutex> lock(auth_mutex_);
                const turn t = auth_.begin(seen);
                if (t == turn::refreshed) co_return outcome<void>{};
                if (t == turn::lead) break;
                event = std::make_shared<async_event>(ex);
                auth_waiters_.push_back(event);
                failures_before = auth_.failures();
            }
            {
                const detail::scoped_waiter registered{auth_mutex_, auth_waiters_, event};
                co_await event->wait_until(deadline);
            }
            {
                std::lock_guard<std::mutex> lock(auth_mutex_);
                if (auto shared = auth_.after_wait(seen, failures_before)) co_return std::move(*shared);
            }
            if (cancelled()) co_return ::mcp_recovery::detail::auth_book::ended_while_waiting(errc::cancelled);
            if (deadline != time_point::max() && clock_.now() >= deadline)
                co_return ::mcp_recovery::detail::auth_book::ended_while_waiting(errc::deadline_exceeded);
        }
        outcome<void> r{};
        try {
            r = co_await transport_.async_refresh_auth();
        } catch (...) {
            end_refresh(nullptr);
            throw;
        }
        end_refresh(&r);
        co_return r;
    }

    static constexpr bool has_reopen_reconnector =
        detail::async_reconnector_has_reopen<Reconnector, Transport, Clock, Observer>::value;

    // Successful flights so far, when the connection-level recovery uses them.
    std::uint64_t connection_epoch() const noexcept {
        if constexpr (session_outlives_connection_v<Transport> && has_reopen_reconnector)
            return reconnector_.connection_epoch();
        else
            return 0;
    }

    // Credential refreshes finished before a send; nothing to read when the transport cannot refresh.
    std::uint64_t auth_epoch() const noexcept {
        if constexpr (detail::has_async_refresh_auth<Transport>::value) return auth_.epoch();
        else return 0;
    }

    // The leader's refresh ended with `*r` (null: by an exception); its waiters wake.
    void end_refresh(const outcome<void>* r) {
        std::vector<std::shared_ptr<async_event>> to_wake;
        {
            std::lock_guard<std::mutex> lock(auth_mutex_);
            if (r) auth_.finish(*r);
            else auth_.abandon();
            to_wake.swap(auth_waiters_);
        }
        for (auto& e : to_wake) e->set();
    }

    net::any_io_executor executor_;
    Transport transport_;
    std::atomic<std::uint64_t> cancel_epoch_{0};
    std::mutex auth_mutex_;
    ::mcp_recovery::detail::auth_book auth_;
    std::vector<std::shared_ptr<async_event>> auth_waiters_;
    mutable std::mutex sleepers_mutex_;
    std::vector<std::shared_ptr<async_event>> sleepers_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS
    std::conditional_t<keeper_enabled, detail::async_keeper_timer, ::mcp_recovery::detail::no_keeper_timer>
        keeper_timer_;
};

/// The policies of `async_recovering_client`'s defaults as a bundle: `recovery_policies` with the
/// async single-flight reconnector. Change one with `with_...<P>`:
///
///     using policies = beast::async_recovery_policies::with_observer<counting_observer>;
///     beast::basic_async_recovering_client<beast::async_streamable_http_transport, policies> client{ex, std::in_place, options};
using async_recovery_policies = recovery_policies<>::with_reconnector<async_single_flight_reconnector<>>;

/// An `async_recovering_client` of `Transport` with the policies of the bundle `Policies`.
template <class Transport, class Policies = async_recovery_policies>
using basic_async_recovering_client =
    async_recovering_client<Transport, typename Policies::classifier, typename Policies::retry_policy,
                            typename Policies::backoff_policy, typename Policies::reconnector,
                            typename Policies::observer, typename Policies::clock,
                            typename ::mcp_recovery::detail::session_keeper_of<Policies>::type>;

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
