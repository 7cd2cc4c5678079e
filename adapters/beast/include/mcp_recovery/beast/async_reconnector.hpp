// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_RECONNECTOR_HPP
#define MCP_RECOVERY_BEAST_ASYNC_RECONNECTOR_HPP

/// `async_single_flight_reconnector`: one reconnect flight per transport for coroutines.

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_config.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mcp_recovery/beast/async_event.hpp"
#include "mcp_recovery/beast/async_transport.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/transport.hpp"

#include <cstdint>
#include <type_traits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace mcp_recovery::beast {

namespace net = boost::asio;

namespace detail {

/// Stand-ins for the hook and the cancellation predicate a client passes to `reconnect`.
template <class Transport>
struct async_hook_probe {
    net::awaitable<outcome<void>> operator()(Transport&) const;
};
struct cancelled_probe {
    bool operator()() const noexcept { return false; }
};

template <class R, class T, class C, class O, class = void>
struct is_async_reconnector_impl : std::false_type {};
template <class R, class T, class C, class O>
struct is_async_reconnector_impl<
    R, T, C, O,
    std::void_t<decltype(std::declval<R&>().reconnect(std::declval<T&>(), std::uint64_t{}, std::declval<time_point>(),
                                                      std::declval<C&>(), std::declval<O&>(), async_hook_probe<T>{},
                                                      cancelled_probe{})),
                decltype(std::declval<R&>().wake_all())>>
    : std::is_same<decltype(std::declval<R&>().reconnect(std::declval<T&>(), std::uint64_t{}, std::declval<time_point>(),
                                                         std::declval<C&>(), std::declval<O&>(), async_hook_probe<T>{},
                                                         cancelled_probe{})),
                   net::awaitable<reconnect_outcome>> {};

template <class R, class T, class C, class O, class = void>
struct async_reconnector_has_reopen : std::false_type {};
template <class R, class T, class C, class O>
struct async_reconnector_has_reopen<
    R, T, C, O,
    std::void_t<decltype(std::declval<R&>().reopen(std::declval<T&>(), std::uint64_t{}, std::declval<time_point>(),
                                                   std::declval<C&>(), std::declval<O&>(), cancelled_probe{})),
                decltype(std::declval<const R&>().connection_epoch())>> : std::true_type {};

}  // namespace detail

/// Async Reconnector requirements (docs/concepts/async_reconnector.md), for a transport `T`, a
/// clock `C` and an observer `O`: `r.reconnect(t, seen_generation, deadline, c, o, hook,
/// cancelled)` returns `awaitable<reconnect_outcome>` (a session newer than `seen_generation`;
/// `hook(t)` returns `awaitable<outcome<void>>`, `cancelled()` is asked after every wake-up), and
/// `r.wake_all()` wakes every waiter so that it re-checks `cancelled()`. Optional, for
/// connection-level recovery: `r.reopen(t, seen_epoch, deadline, c, o, cancelled)` with
/// `r.connection_epoch()`.
template <class R, class Transport, class Clock, class Observer>
inline constexpr bool is_async_reconnector_v = detail::is_async_reconnector_impl<R, Transport, Clock, Observer>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
template <class R, class Transport, class Clock, class Observer>
concept async_reconnector = is_async_reconnector_v<R, Transport, Clock, Observer>;
#endif

/// `single_flight_reconnector` for coroutines: one flight per transport, waiters suspended (never
/// blocking an io thread, never holding a lock across a suspension), each bounded by its own
/// deadline; same fencing, backoff, circuit breaker and connection-level `reopen`
/// (`detail::flight_book`). A flight runs on its own and is bounded by
/// `reconnect_options::reconnect_timeout` (through the transport's `async_reconnect(deadline)` /
/// `async_reopen(deadline)`), so a stalled server cannot keep it going.
template <class BackoffPolicy = exponential_backoff>
class async_single_flight_reconnector : public ::mcp_recovery::detail::flight_reconnector_base<BackoffPolicy> {
    using base = ::mcp_recovery::detail::flight_reconnector_base<BackoffPolicy>;
    using base::book_;
    using base::mutex_;

public:
    using base::base;

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

    /// A session newer than `seen_generation`. `cancelled()` is asked after every wake-up: true
    /// ends the wait with `errc::cancelled`.
    ///
    /// The flight itself runs as a coroutine of its own on the caller's executor, not as part of
    /// the call that started it: that call waits for it like every other caller, so neither its
    /// cancellation nor its deadline stops a reconnect the others need.
    template <class Transport, class Clock, class Observer, class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> reconnect(Transport& transport, std::uint64_t seen_generation,
                                                time_point deadline, Clock& clock, Observer& observer,
                                                Hook on_reconnected, Cancelled cancelled) {
        return run(::mcp_recovery::detail::flight_kind::session, transport, seen_generation, deadline, clock, observer,
                   std::move(on_reconnected), std::move(cancelled));
    }

    /// A new connection on the same session (see `single_flight_reconnector::reopen`), for a caller
    /// that read `seen_epoch` before it sent.
    template <class Transport, class Clock, class Observer, class Cancelled>
    net::awaitable<reconnect_outcome> reopen(Transport& transport, std::uint64_t seen_epoch, time_point deadline,
                                             Clock& clock, Observer& observer, Cancelled cancelled) {
        auto no_hook = [](Transport&) -> net::awaitable<outcome<void>> { co_return outcome<void>{}; };
        return run(::mcp_recovery::detail::flight_kind::connection, transport, seen_epoch, deadline, clock, observer,
                   no_hook, std::move(cancelled));
    }

private:
    template <class Transport, class Clock, class Observer, class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> run(::mcp_recovery::detail::flight_kind kind, Transport& transport,
                                          std::uint64_t seen_generation, time_point deadline, Clock& clock,
                                          Observer& observer, Hook on_reconnected, Cancelled cancelled) {
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
                if (auto refused = book_.refuse(clock.now(), deadline, start_at)) co_return *refused;
                book_.in_flight = true;
                // Spawned without the lock (a flight with nothing to wait for may finish at once);
                // this caller then waits for it like any other, unless it has finished already.
                lock.unlock();
                net::co_spawn(ex, fly(kind, transport, start_at, clock, observer, on_reconnected), net::detached);
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
                    if (clock.now() >= deadline)
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
    template <class Transport, class Clock, class Observer, class Hook>
    net::awaitable<void> fly(::mcp_recovery::detail::flight_kind kind, Transport& transport, time_point start_at,
                             Clock& clock, Observer& observer, Hook on_reconnected) {
        using ::mcp_recovery::detail::flight_end;
        using ::mcp_recovery::detail::flight_kind;
        const std::uint64_t from = transport.generation();
        if (kind == flight_kind::session) observer.on_reconnect_start(from);
        const time_point began = clock.now();
        std::optional<failure> flight_failure;
        flight_end end = flight_end::succeeded;
        try {
            if (start_at > began) {
                net::steady_timer wait(co_await net::this_coro::executor, start_at);
                boost::system::error_code ec;
                co_await wait.async_wait(net::redirect_error(net::use_awaitable, ec));
            }
            const time_point flight_deadline = book_.flight_deadline(clock.now(), time_point::max());
            // No co_await inside a conditional expression: g++ 12 destroys its result twice.
            outcome<void> r;
            if (kind == flight_kind::session) r = co_await reconnect_transport(transport, flight_deadline);
            else r = co_await reopen_transport(transport, flight_deadline);
            if (r) {
                if (kind == flight_kind::session) {
                    outcome<void> h = co_await on_reconnected(transport);
                    if (!h) {
                        flight_failure = std::move(h).error();
                        end = flight_end::hook_failed;
                    } else {
                        ::mcp_recovery::detail::notify_session_restored(transport);
                    }
                }
            } else {
                flight_failure = std::move(r).error();
                end = flight_end::failed;
            }
        } catch (const std::exception& e) {
            flight_failure = ::mcp_recovery::detail::thrown_failure(e.what());
            end = flight_end::failed;  // shared with the waiters as a failure with the message
        } catch (...) {
            flight_failure = ::mcp_recovery::detail::thrown_failure("an exception that is not a std::exception");
            end = flight_end::failed;
        }
        std::vector<std::shared_ptr<async_event>> to_wake;
        reconnect_outcome result;
        std::uint64_t to = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            result = book_.finish(end, std::move(flight_failure), clock.now(), transport.generation());
            to_wake.swap(waiters_);
            to = transport.generation();
        }
        for (auto& e : to_wake) e->set();
        const std::error_code ec = result ? std::error_code{} : result.error().code;
        if (kind == flight_kind::session) observer.on_reconnect_done(to, ec, clock.now() - began);
        else ::mcp_recovery::detail::notify_reopen_done(observer, ec, clock.now() - began);
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

    std::vector<std::shared_ptr<async_event>> waiters_;
};

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
