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

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mcp_recovery/beast/detail/async_config.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/retry_policy.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

namespace mcp_recovery::beast {

namespace net = boost::asio;

/// A one-shot event that coroutines wait for with a deadline, from any thread of an io pool.
///
/// `set()` may be called from any thread, before or after the wait started: the flag and the
/// timer are only touched on the event's strand, so no wake-up is lost and no timer is raced.
class async_event : public std::enable_shared_from_this<async_event> {
public:
    explicit async_event(const net::any_io_executor& ex) : strand_(net::make_strand(ex)), timer_(strand_) {}

    void set() {
        net::post(strand_, [self = shared_from_this()] {
            self->set_.store(true);
            self->timer_.cancel();
        });
    }

    /// True when set, false when `deadline` passed first.
    net::awaitable<bool> wait_until(time_point deadline) {
        co_await net::post(strand_, net::use_awaitable);  // continue on the strand: check and wait as one step
        if (set_.load()) co_return true;
#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
        // A cancellation emitted before the timer's wait is installed on the slot would be lost
        // (the slot had no handler yet): the state remembers it, so look before waiting.
        const net::cancellation_state state = co_await net::this_coro::cancellation_state;
        if (state.cancelled() != net::cancellation_type::none) co_return set_.load();
#endif
        timer_.expires_at(deadline == time_point::max() ? clock_type::now() + std::chrono::hours(24 * 365) : deadline);
        boost::system::error_code ec;
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        co_return set_.load();
    }

    bool is_set() const noexcept { return set_.load(); }

private:
    net::strand<net::any_io_executor> strand_;
    net::steady_timer timer_;
    std::atomic<bool> set_{false};
};

namespace detail {

/// Removes `event` from `list` (guarded by `mutex`) when the scope ends, even by an exception (a
/// cancelled coroutine under Asio's throw_if_cancelled): a waiter never stays registered.
struct scoped_waiter {
    std::mutex& mutex;
    std::vector<std::shared_ptr<async_event>>& list;
    const std::shared_ptr<async_event>& event;
    ~scoped_waiter() {
        std::lock_guard<std::mutex> lock(mutex);
        list.erase(std::remove(list.begin(), list.end(), event), list.end());
    }
};

template <class T, class = void>
struct is_async_transport_impl : std::false_type {};

template <class T>
struct is_async_transport_impl<
    T, std::void_t<typename T::request_type, typename T::response_type,
                   decltype(std::declval<T&>().async_send(std::declval<const typename T::request_type&>(),
                                                          std::declval<time_point>())),
                   decltype(std::declval<T&>().async_reconnect()), decltype(std::declval<const T&>().generation())>>
    : std::bool_constant<
          std::is_same_v<decltype(std::declval<T&>().async_send(std::declval<const typename T::request_type&>(),
                                                                std::declval<time_point>())),
                         net::awaitable<outcome<typename T::response_type>>> &&
          std::is_same_v<decltype(std::declval<T&>().async_reconnect()), net::awaitable<outcome<void>>>> {};

template <class T, class = void>
struct has_async_deadline_reconnect : std::false_type {};
template <class T>
struct has_async_deadline_reconnect<T, std::void_t<decltype(std::declval<T&>().async_reconnect(std::declval<time_point>()))>>
    : std::is_same<decltype(std::declval<T&>().async_reconnect(std::declval<time_point>())), net::awaitable<outcome<void>>> {};

template <class T, class = void>
struct has_async_reopen : std::false_type {};
template <class T>
struct has_async_reopen<T, std::void_t<decltype(std::declval<T&>().async_reopen(std::declval<time_point>()))>>
    : std::is_same<decltype(std::declval<T&>().async_reopen(std::declval<time_point>())), net::awaitable<outcome<void>>> {};

template <class T, class = void>
struct has_async_refresh_auth : std::false_type {};
template <class T>
struct has_async_refresh_auth<T, std::void_t<decltype(std::declval<T&>().async_refresh_auth())>>
    : std::is_same<decltype(std::declval<T&>().async_refresh_auth()), net::awaitable<outcome<void>>> {};

}  // namespace detail

/// Async transport requirements:
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `t.async_send(req, deadline)` | `awaitable<outcome<response_type>>` | one attempt, failures as `failure` with the right delivery |
/// | `t.async_reconnect()` | `awaitable<outcome<void>>` | a new session; `generation()` grows on success |
/// | `ct.generation()` | `std::uint64_t` | thread-safe read |
/// | `t.async_refresh_auth()` (optional) | `awaitable<outcome<void>>` | new credentials after a 401 |
/// | `t.async_reconnect(deadline)` (optional) | `awaitable<outcome<void>>` | as `async_reconnect()`, every step bounded by `deadline` |
/// | `T::session_outlives_connection` (optional) | `static constexpr bool` | as for the sync Transport: a lost connection is recovered on the same session |
/// | `t.async_reopen(deadline)` (optional) | `awaitable<outcome<void>>` | a new connection, the session untouched |
template <class T>
inline constexpr bool is_async_transport_v = detail::is_async_transport_impl<T>::value;

/// `single_flight_reconnector` for coroutines: one flight per transport, waiters suspended (never
/// blocking an io thread, never holding a lock across a suspension), each bounded by its own
/// deadline; same fencing, backoff, circuit breaker and connection-level `reopen`
/// (`detail::flight_book`). A flight runs on its own and is bounded by
/// `reconnect_options::reconnect_timeout` (through the transport's `async_reconnect(deadline)` /
/// `async_reopen(deadline)`), so a stalled server cannot keep it going.
template <class Backoff = exponential_backoff>
class async_single_flight_reconnector {
public:
    async_single_flight_reconnector() = default;
    explicit async_single_flight_reconnector(reconnect_options options) { book_.options = options; }
    async_single_flight_reconnector(reconnect_options options, Backoff backoff) {
        book_.options = options;
        book_.backoff = std::move(backoff);
    }
    async_single_flight_reconnector(const async_single_flight_reconnector&) = delete;
    async_single_flight_reconnector& operator=(const async_single_flight_reconnector&) = delete;

    void set_options(reconnect_options options) { book_.options = options; }
    const reconnect_options& options() const noexcept { return book_.options; }
    Backoff& backoff_policy() noexcept { return book_.backoff; }

    /// Whether the circuit is open at `now` (for monitoring).
    bool circuit_open(time_point now) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return book_.circuit_is_open(now);
    }

    /// Coroutines waiting for a flight right now.
    std::size_t waiters() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return waiters_.size();
    }

    /// Wakes every waiter so that it re-checks its call (used by `cancel()`); none gives up
    /// unless its own call was cancelled or its deadline passed.
    void wake_all() {
        std::vector<std::shared_ptr<async_event>> all;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            all.swap(waiters_);
        }
        for (auto& e : all) e->set();
    }

    /// Whether a flight is under way (it may outlive the calls that wait for it).
    bool in_flight() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return book_.in_flight;
    }

    /// A session newer than `seen_generation`. `cancelled()` is asked after every wake-up: true
    /// ends the wait with `errc::cancelled`.
    ///
    /// The flight itself runs as a coroutine of its own on the caller's executor, not as part of
    /// the call that started it: that call waits for it like every other caller, so neither its
    /// cancellation nor its deadline stops a reconnect the others need.
    template <class Transport, class Observer, class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> reconnect(Transport& transport, std::uint64_t seen_generation,
                                                time_point deadline, Observer& observer, Hook on_reconnected,
                                                Cancelled cancelled) {
        return run(::mcp_recovery::detail::flight_kind::session, transport, seen_generation, deadline, observer,
                   std::move(on_reconnected), std::move(cancelled));
    }

    /// Grows with every successful flight (either kind); read by the client before it sends.
    std::uint64_t connection_epoch() const noexcept { return book_.good_flights.load(std::memory_order_acquire); }

    /// A new connection on the same session (see `single_flight_reconnector::reopen`), for a caller
    /// that read `seen_epoch` before it sent.
    template <class Transport, class Observer, class Cancelled>
    net::awaitable<reconnect_outcome> reopen(Transport& transport, std::uint64_t seen_epoch, time_point deadline,
                                             Observer& observer, Cancelled cancelled) {
        auto no_hook = [](Transport&) -> net::awaitable<outcome<void>> { co_return outcome<void>{}; };
        return run(::mcp_recovery::detail::flight_kind::connection, transport, seen_epoch, deadline, observer, no_hook,
                   std::move(cancelled));
    }

private:
    template <class Transport, class Observer, class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> run(::mcp_recovery::detail::flight_kind kind, Transport& transport,
                                          std::uint64_t seen_generation, time_point deadline, Observer& observer,
                                          Hook on_reconnected, Cancelled cancelled) {
        using ::mcp_recovery::detail::flight_kind;
        const auto ex = co_await net::this_coro::executor;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (cancelled()) co_return call_error{make_error_code(errc::cancelled), std::nullopt, {}};
            if (!book_.in_flight) {
                if (kind == flight_kind::session && book_.has_newer_session(transport.generation(), seen_generation))
                    co_return reconnect_outcome{};
                // Fencing for reopen (`seen_generation` is the connection epoch then): a flight
                // succeeded after this caller sent; try its connection first.
                if (kind == flight_kind::connection &&
                    book_.good_flights.load(std::memory_order_relaxed) != seen_generation)
                    co_return reconnect_outcome{};
                time_point start_at;
                if (auto refused = book_.refuse(clock_type::now(), deadline, start_at)) co_return *refused;
                book_.in_flight = true;
                // Spawned without the lock (a flight with nothing to wait for may finish at once);
                // this caller then waits for it like any other, unless it has finished already.
                lock.unlock();
                net::co_spawn(ex, fly(kind, transport, start_at, observer, on_reconnected), net::detached);
                lock.lock();
            }
            if (book_.in_flight) {
                const std::uint64_t flight = book_.flights_finished;
                auto event = std::make_shared<async_event>(ex);
                waiters_.push_back(event);
                lock.unlock();
                {
                    const detail::scoped_waiter registered{mutex_, waiters_, event};
                    co_await event->wait_until(deadline);
                }
                lock.lock();
                if (book_.flights_finished == flight) {
                    if (cancelled()) co_return call_error{make_error_code(errc::cancelled), std::nullopt, {}};
                    if (clock_type::now() >= deadline)
                        co_return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                    continue;  // woken for someone else's cancel: wait again
                }
            }
            // A flight finished since this caller asked.
            if (kind == flight_kind::session) {
                if (book_.has_newer_session(transport.generation(), seen_generation)) co_return reconnect_outcome{};
                if (book_.last_flight_succeeded()) continue;  // a reopen: this caller needs a session
            } else if (book_.last_flight_succeeded()) {
                co_return reconnect_outcome{};  // any flight that succeeded reached the server
            }
            // The flight this caller waited for failed: share its result instead of flying again.
            if (book_.last_flight_error) co_return *book_.last_flight_error;
        }
    }

    // One flight: the backoff wait of failed flights, the reconnect (or reopen) bounded by
    // `reconnect_timeout`, the hook; then every waiter is woken. An exception from the transport
    // or the hook fails the flight with its message.
    template <class Transport, class Observer, class Hook>
    net::awaitable<void> fly(::mcp_recovery::detail::flight_kind kind, Transport& transport, time_point start_at,
                             Observer& observer, Hook on_reconnected) {
        using ::mcp_recovery::detail::flight_kind;
        const std::uint64_t from = transport.generation();
        if (kind == flight_kind::session) observer.on_reconnect_start(from);
        const time_point began = clock_type::now();
        std::optional<failure> flight_failure;
        bool hook_failed = false;
        try {
            if (start_at > began) {
                net::steady_timer wait(co_await net::this_coro::executor, start_at);
                boost::system::error_code ec;
                co_await wait.async_wait(net::redirect_error(net::use_awaitable, ec));
            }
            const time_point flight_deadline = book_.flight_deadline(clock_type::now(), time_point::max());
            // No co_await inside a conditional expression: g++ 12 destroys its result twice.
            outcome<void> r;
            if (kind == flight_kind::session) r = co_await reconnect_transport(transport, flight_deadline);
            else r = co_await reopen_transport(transport, flight_deadline);
            if (r) {
                if (kind == flight_kind::session) {
                    outcome<void> h = co_await on_reconnected(transport);
                    if (!h) {
                        flight_failure = std::move(h).error();
                        hook_failed = true;
                    } else {
                        ::mcp_recovery::detail::notify_session_restored(transport);
                    }
                }
            } else {
                flight_failure = std::move(r).error();
            }
        } catch (const std::exception& e) {
            flight_failure = ::mcp_recovery::detail::thrown_failure(e.what());
        } catch (...) {
            flight_failure = ::mcp_recovery::detail::thrown_failure("an exception that is not a std::exception");
        }
        std::vector<std::shared_ptr<async_event>> to_wake;
        reconnect_outcome result;
        std::uint64_t to = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            result = book_.finish(std::move(flight_failure), hook_failed, false, clock_type::now(),
                                  transport.generation());
            to_wake.swap(waiters_);
            to = transport.generation();
        }
        for (auto& e : to_wake) e->set();
        const std::error_code ec = result ? std::error_code{} : result.error().code;
        if (kind == flight_kind::session) observer.on_reconnect_done(to, ec, clock_type::now() - began);
        else ::mcp_recovery::detail::notify_reopen_done(observer, ec, clock_type::now() - began);
    }

    template <class Transport>
    static net::awaitable<outcome<void>> reconnect_transport(Transport& t, time_point deadline) {
        if constexpr (detail::has_async_deadline_reconnect<Transport>::value) co_return co_await t.async_reconnect(deadline);
        else co_return co_await t.async_reconnect();
    }

    template <class Transport>
    static net::awaitable<outcome<void>> reopen_transport(Transport& t, time_point deadline) {
        if constexpr (detail::has_async_reopen<Transport>::value) co_return co_await t.async_reopen(deadline);
        else co_return outcome<void>{};
    }

    mutable std::mutex mutex_;
    ::mcp_recovery::detail::flight_book<Backoff> book_;
    std::vector<std::shared_ptr<async_event>> waiters_;
};

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
template <class Transport, class Classifier = default_classifier, class RetryPolicy = retry_once,
          class Backoff = no_backoff, class Reconnector = async_single_flight_reconnector<>,
          class Observer = null_observer>
class async_recovering_client {
    static_assert(is_async_transport_v<Transport>, "Transport does not meet the async transport requirements");

public:
    using request_type = typename Transport::request_type;
    using response_type = typename Transport::response_type;
    using result_type = outcome<response_type, call_error>;
    using reconnect_hook = std::function<net::awaitable<outcome<void>>(Transport&)>;

    template <class... Args>
    explicit async_recovering_client(net::any_io_executor ex, std::in_place_t, Args&&... args)
        : executor_(std::move(ex)), transport_(std::forward<Args>(args)...) {}

    async_recovering_client(const async_recovering_client&) = delete;
    async_recovering_client& operator=(const async_recovering_client&) = delete;

    /// One call with recovery, as an awaitable. The request is copied into the coroutine.
    net::awaitable<result_type> call(request_type request) {
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
    Classifier& classifier() noexcept { return classifier_; }
    RetryPolicy& retry_policy() noexcept { return retry_; }
    Backoff& backoff_policy() noexcept { return backoff_; }
    Reconnector& reconnector() noexcept { return reconnector_; }
    Observer& observer() noexcept { return observer_; }
    client_options& options() noexcept { return options_; }
    void on_reconnected(reconnect_hook hook) { hook_ = std::move(hook); }
    /// Calls sleeping in a backoff or Retry-After wait right now.
    std::size_t sleepers() const {
        std::lock_guard<std::mutex> lock(sleepers_mutex_);
        return sleepers_.size();
    }

private:
    struct wall_clock {
        time_point now() const noexcept { return clock_type::now(); }
    };

    template <class... Args>
    result_type give_up(Args&&... args) {
        return ::mcp_recovery::detail::give_up<response_type>(observer_, std::forward<Args>(args)...);
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
        recovery_plan<Classifier, RetryPolicy, Backoff, Observer> plan(
            classifier_, retry_, backoff_, observer_, options_,
            resolve_idempotency(options.idempotency, method_of(request), options.annotations),
            detail::has_async_refresh_auth<Transport>::value, clock_type::now(), deadline,
            session_outlives_connection_v<Transport>);
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
        auto hook = [this](Transport& t) -> net::awaitable<outcome<void>> {
            if (hook_) co_return co_await hook_(t);
            co_return outcome<void>{};
        };

        int attempt = 1;
        if (cancelled()) co_return give_up(errc::cancelled, std::move(last));
        recovery_step step = plan.next(last, attempt, clock_type::now());
        for (;;) {
            if (cancelled()) co_return give_up(errc::cancelled, std::move(last));
            switch (step.what) {
            case recovery_step::action::give_up:
                if (step.renew_session && (deadline == time_point::max() || clock_type::now() < deadline)) {
                    // Renew the lost session for the next call, whatever becomes of this one.
                    (void)co_await reconnector_.reconnect(transport_, generation, deadline, observer_, hook, cancelled);
                }
                co_return give_up(step.reason, std::move(last));
            case recovery_step::action::reconnect:
            case recovery_step::action::reopen: {
                reconnect_outcome r;
                if (step.what == recovery_step::action::reconnect)
                    r = co_await reconnector_.reconnect(transport_, generation, deadline, observer_, hook, cancelled);
                else
                    r = co_await reopen(generation, conn_seen, deadline, hook, cancelled);
                if (!r) {
                    call_error e = std::move(r).error();
                    ++attempt;
                    const recovery_step again = plan.after_failed_step(step, e, attempt, clock_type::now());
                    if (again.what == recovery_step::action::give_up) {
                        e.code = make_error_code(again.reason);
                        co_return give_up(std::move(e), last);
                    }
                    continue;  // the same step again, after the reconnector's backoff
                }
                break;
            }
            case recovery_step::action::wait:
                if (step.wait > duration::zero()) co_await sleep_until(step.until, epoch);
                break;
            case recovery_step::action::refresh_auth:
                if constexpr (detail::has_async_refresh_auth<Transport>::value) {
                    outcome<void> r = co_await refresh_auth(auth_seen, deadline, cancelled);
                    if (!r) {
                        co_return ::mcp_recovery::detail::give_up_after_step<response_type>(
                            observer_, errc::unauthorized, std::move(r).error(), last);
                    }
                }
                break;
            }
            if (cancelled()) co_return give_up(errc::cancelled, std::move(last));
            // No attempt starts after the deadline, whatever the step before it took.
            if (deadline != time_point::max() && clock_type::now() >= deadline)
                co_return give_up(errc::deadline_exceeded, std::move(last));
            observer_.on_retry(step.kind, attempt, step.wait);
            generation = transport_.generation();
            auth_seen = auth_epoch();
            conn_seen = connection_epoch();
            outcome<response_type> next = co_await transport_.async_send(request, deadline);
            if (next) {
                observer_.on_recovered(attempt + 1, clock_type::now() - plan.started());
                co_return std::move(*next);
            }
            last = std::move(next).error();
            ++attempt;
            step = plan.next(last, attempt, clock_type::now());
        }
    }

    template <class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> reopen(std::uint64_t generation, std::uint64_t conn_seen, time_point deadline,
                                             Hook& hook, Cancelled& cancelled) {
        if constexpr (has_reopen_reconnector)
            co_return co_await reconnector_.reopen(transport_, conn_seen, deadline, observer_, cancelled);
        else
            co_return co_await reconnector_.reconnect(transport_, generation, deadline, observer_, hook, cancelled);
    }

    // One credential refresh at a time, shared by every caller rejected with the credentials it
    // replaces (as the synchronous client): a caller whose request was sent before a refresh that
    // has finished since retries with it instead of refreshing again.
    template <class Cancelled>
    net::awaitable<outcome<void>> refresh_auth(std::uint64_t seen, time_point deadline, Cancelled& cancelled) {
        const auto ex = co_await net::this_coro::executor;
        for (;;) {
            std::shared_ptr<async_event> event;
            std::uint64_t failed_before = 0;
            {
                std::lock_guard<std::mutex> lock(auth_mutex_);
                if (auth_refreshes_.load(std::memory_order_relaxed) != seen) co_return outcome<void>{};
                if (!auth_in_flight_) {
                    auth_in_flight_ = true;
                    break;
                }
                event = std::make_shared<async_event>(ex);
                auth_waiters_.push_back(event);
                failed_before = auth_refreshes_failed_;
            }
            {
                const detail::scoped_waiter registered{auth_mutex_, auth_waiters_, event};
                co_await event->wait_until(deadline);
            }
            {
                std::lock_guard<std::mutex> lock(auth_mutex_);
                if (auth_refreshes_.load(std::memory_order_relaxed) != seen) co_return outcome<void>{};
                // The refresh this caller waited for failed: share its failure.
                if (auth_refreshes_failed_ != failed_before && last_auth_failure_) co_return *last_auth_failure_;
            }
            if (cancelled() || (deadline != time_point::max() && clock_type::now() >= deadline)) {
                failure f;
                f.transport_error = make_error_code(cancelled() ? errc::cancelled : errc::deadline_exceeded);
                f.message = "the call ended while another caller refreshed the credentials";
                f.delivered = delivery::not_sent;
                co_return f;
            }
        }
        outcome<void> r{};
        try {
            r = co_await transport_.async_refresh_auth();
        } catch (...) {
            finish_refresh(false, std::nullopt);
            throw;
        }
        finish_refresh(static_cast<bool>(r), r ? std::nullopt : std::optional<failure>(r.error()));
        co_return r;
    }

    static constexpr bool has_reopen_reconnector =
        requires(const Reconnector& r) { r.connection_epoch(); };

    // Successful flights so far, when the connection-level recovery uses them.
    std::uint64_t connection_epoch() const noexcept {
        if constexpr (session_outlives_connection_v<Transport> && has_reopen_reconnector)
            return reconnector_.connection_epoch();
        else
            return 0;
    }

    // Credential refreshes finished before a send; nothing to read when the transport cannot refresh.
    std::uint64_t auth_epoch() const noexcept {
        if constexpr (detail::has_async_refresh_auth<Transport>::value) return auth_refreshes_.load(std::memory_order_acquire);
        else return 0;
    }

    void finish_refresh(bool ok, std::optional<failure> why) {
        std::vector<std::shared_ptr<async_event>> to_wake;
        {
            std::lock_guard<std::mutex> lock(auth_mutex_);
            auth_in_flight_ = false;
            if (ok) auth_refreshes_.fetch_add(1, std::memory_order_release);
            else {
                ++auth_refreshes_failed_;
                last_auth_failure_ = std::move(why);
            }
            to_wake.swap(auth_waiters_);
        }
        for (auto& e : to_wake) e->set();
    }

    net::any_io_executor executor_;
    Transport transport_;
    Classifier classifier_{};
    RetryPolicy retry_{};
    Backoff backoff_{};
    Reconnector reconnector_{};
    Observer observer_{};
    wall_clock clock_{};
    client_options options_{};
    reconnect_hook hook_;
    std::atomic<std::uint64_t> cancel_epoch_{0};
    std::mutex auth_mutex_;
    bool auth_in_flight_ = false;
    std::atomic<std::uint64_t> auth_refreshes_{0};
    std::uint64_t auth_refreshes_failed_ = 0;
    std::optional<failure> last_auth_failure_;
    std::vector<std::shared_ptr<async_event>> auth_waiters_;
    mutable std::mutex sleepers_mutex_;
    std::vector<std::shared_ptr<async_event>> sleepers_;
};

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
