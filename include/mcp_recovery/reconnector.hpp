// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECONNECTOR_HPP
#define MCP_RECOVERY_RECONNECTOR_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/transport.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

/// Outcome of asking a reconnector for a session newer than the one a call failed on.
using reconnect_outcome = outcome<void, call_error>;

/// Reconnector requirements (`r` a Reconnector, `t` a Transport, `c` a Clock, `o` an Observer,
/// `h` a callable `outcome<void>(Transport&)`):
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `r.reconnect(t, g, deadline, c, o, h)` | `reconnect_outcome` | on success, `t.generation() > g` and `h` has run for that generation; never waits past `deadline` |
/// | `r.connection_epoch()` (optional, with `reopen`) | `std::uint64_t` | grows with every successful flight; read by the client before it sends |
/// | `r.reopen(t, e, deadline, c, o)` (optional) | `reconnect_outcome` | for a transport whose session outlives its connections: on success the server accepts connections again (the session untouched); returns at once when a flight succeeded since the caller read epoch `e`; never waits past `deadline`. Without it the client uses `reconnect` |
///
/// Called concurrently by every caller whose request failed with a lost session or connection.
///
/// Models: `single_flight_reconnector<BackoffPolicy>` (the default); for the asynchronous client,
/// `beast::async_single_flight_reconnector<BackoffPolicy>`, whose interface is its own. Checked by
/// `is_reconnector<R, Transport, Clock, Observer>` and, in C++20, `concept reconnector<R, Transport,
/// Clock, Observer>` (the required `reconnect` only).

namespace detail {

/// A stand-in for the hook `recovering_client` passes to `reconnect` (an lvalue callable).
template <class Transport>
struct reconnect_hook_probe {
    outcome<void> operator()(Transport&) const { return {}; }
};

template <class R, class T, class C, class O, class = void>
struct has_reconnect : std::false_type {};
template <class R, class T, class C, class O>
struct has_reconnect<R, T, C, O,
                     std::void_t<decltype(std::declval<R&>().reconnect(
                         std::declval<T&>(), std::declval<std::uint64_t>(), std::declval<time_point>(),
                         std::declval<C&>(), std::declval<O&>(), std::declval<reconnect_hook_probe<T>&>()))>>
    : std::is_convertible<decltype(std::declval<R&>().reconnect(
                              std::declval<T&>(), std::declval<std::uint64_t>(), std::declval<time_point>(),
                              std::declval<C&>(), std::declval<O&>(), std::declval<reconnect_hook_probe<T>&>())),
                          reconnect_outcome> {};

/// `value` is `is_reconnector_v<R, T, C, O>`; instantiating it names the missing member in a
/// static_assert (the C++17 diagnostics of `recovering_client`).
template <class R, class T, class C, class O>
struct reconnector_requirements {
    static_assert(has_reconnect<R, T, C, O>::value,
                  "Reconnector: needs reconnect_outcome reconnect(Transport&, std::uint64_t generation, time_point "
                  "deadline, Clock&, Observer&, Hook&& on_reconnected)");
    static constexpr bool value = has_reconnect<R, T, C, O>::value;
};

}  // namespace detail

/// Whether `R` meets the Reconnector requirements for a client of `Transport`, `Clock` and
/// `Observer` (the required row of the table above).
template <class R, class Transport, class Clock = steady_clock_source, class Observer = null_observer>
struct is_reconnector : detail::has_reconnect<R, Transport, Clock, Observer> {};
template <class R, class Transport, class Clock = steady_clock_source, class Observer = null_observer>
inline constexpr bool is_reconnector_v = is_reconnector<R, Transport, Clock, Observer>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The Reconnector requirements as a concept; same requirements as `is_reconnector`. A type that
/// does not model it makes the compiler name the expression it misses.
template <class R, class Transport, class Clock, class Observer>
concept reconnector = requires(R& r, Transport& t, std::uint64_t generation, time_point deadline, Clock& c, Observer& o,
                               detail::reconnect_hook_probe<Transport>& hook) {
    { r.reconnect(t, generation, deadline, c, o, hook) } -> std::convertible_to<reconnect_outcome>;
};
#endif

/// Settings of `single_flight_reconnector` (and of the async one).
///
/// Failed flights back off (the reconnector's `BackoffPolicy`, by default 50 ms doubling up to 1 s with
/// full jitter; a server's Retry-After on the failed `initialize` instead, clamped to
/// `max_server_wait`). The circuit opens only when the failures persist: at least
/// `failure_threshold` consecutive failed flights spanning at least `open_after`. Then callers
/// fail fast (`errc::circuit_open`, with the time until the next probe) for `cool_down`, which
/// doubles at each re-opening up to `cool_down_max`; the first successful probe closes it.
struct reconnect_options {
    /// Consecutive failed flights before the circuit may open.
    int failure_threshold = 5;
    /// How long the circuit stays open the first time; doubles at each re-opening.
    duration cool_down = std::chrono::seconds(1);
    /// The longest the circuit stays open (a `cool_down` above it is used as it is).
    duration cool_down_max = std::chrono::seconds(30);
    /// How long the failures must have lasted (from the first failed flight of the run) before
    /// the circuit opens: a restart with a few seconds of downtime never opens it. Zero: at once.
    duration open_after = std::chrono::seconds(15);
    /// Bound of one flight (reconnect or reopen, the hook included for the async reconnector):
    /// a stalled `initialize` or `notifications/initialized` cannot keep a flight going longer.
    /// The synchronous flight is also bounded by its leader's deadline.
    duration reconnect_timeout = std::chrono::seconds(10);
    /// A server's Retry-After on a failed flight is honoured up to this long.
    duration max_server_wait = std::chrono::seconds(60);
};

/// The backoff between failed flights that the reconnectors use unless given one: 50 ms doubling
/// up to 1 s, full jitter.
inline exponential_backoff default_flight_backoff() {
    return exponential_backoff(std::chrono::milliseconds(50), 2.0, std::chrono::seconds(1), jitter::full);
}

namespace detail {

// The default flight backoff, with a seed of its own: reconnectors of many clients (in one
// process or many) that see one server go down must not probe it at the same instants.
template <class Backoff>
Backoff make_flight_backoff() {
    Backoff b = [] {
        if constexpr (std::is_same_v<Backoff, exponential_backoff>) return default_flight_backoff();
        else return Backoff{};
    }();
    reseed_backoff(b, fresh_backoff_seed());
    return b;
}

/// What a flight does.
enum class flight_kind : unsigned char {
    session,     ///< a new session (`reconnect`), then the hook
    connection,  ///< a new connection on the same session (`reopen`)
};

/// How a flight ended (`flight_book::finish`).
enum class flight_end : unsigned char {
    succeeded,    ///< a new session (its hook succeeded too), or a new connection
    failed,       ///< the transport's `reconnect` or `reopen` failed: its failure is shared with the waiters
    hook_failed,  ///< the new session is up but the `on_reconnected` hook failed: the session is not used
    threw,        ///< an exception left the flight: a failed flight with no failure to share
    cut_short,    ///< its leader's deadline cut it short: no verdict on the server, waiters with time fly again
};

/// The bookkeeping of single-flight reconnects, shared by the synchronous and the asynchronous
/// reconnector: who flies, what the last flight left behind, the backoff between failed flights
/// and the circuit breaker. No locking and no waiting: the owner holds its lock around every call.
template <class Backoff>
struct flight_book {
    reconnect_options options{};
    Backoff backoff = make_flight_backoff<Backoff>();
    bool in_flight = false;
    std::uint64_t flights_finished = 0;
    // Flights that succeeded (either kind): a caller that sent before the latest of them and then
    // lost its connection retries on the connection that flight proved, without a flight of its own.
    std::atomic<std::uint64_t> good_flights{0};
    int consecutive_failures = 0;
    time_point first_failure{};   // of the current run of failed flights
    int openings = 0;             // times the circuit opened in the current run
    time_point not_before{};
    time_point open_until{};
    std::optional<call_error> last_flight_error;
    std::optional<std::uint64_t> hook_failed_generation;
    // The last flight ended because its leader's deadline cut it short: it says nothing about the
    // server, so waiters with time left fly again instead of sharing its failure.
    bool last_flight_cut_short = false;

    bool circuit_is_open(time_point now) const noexcept { return openings > 0 && now < open_until; }

    // A session is usable when the transport moved on and the hook did not fail for it.
    bool has_newer_session(std::uint64_t generation, std::uint64_t seen) const noexcept {
        return generation > seen && !(hook_failed_generation && *hook_failed_generation == generation);
    }

    /// Whether the last finished flight succeeded.
    bool last_flight_succeeded() const noexcept { return !last_flight_cut_short && !last_flight_error; }

    /// Whether a caller may lead a flight now: the error to return instead, or when it may start
    /// (after the backoff of failed flights).
    std::optional<call_error> refuse(time_point now, time_point deadline, time_point& start_at) const {
        if (circuit_is_open(now)) {
            call_error e{make_error_code(errc::circuit_open), std::nullopt, open_until - now};
            if (last_flight_error) e.last_failure = last_flight_error->last_failure;
            return e;
        }
        start_at = not_before > now ? not_before : now;
        if (start_at >= deadline) {
            call_error e{make_error_code(errc::deadline_exceeded), std::nullopt, start_at - now};
            if (last_flight_error) e.last_failure = last_flight_error->last_failure;
            return e;
        }
        return std::nullopt;
    }

    /// The deadline of a flight that starts at `start_at` for a leader whose own deadline is
    /// `leader_deadline` (`time_point::max()` when the flight runs on its own).
    time_point flight_deadline(time_point start_at, time_point leader_deadline) const noexcept {
        const time_point bound = saturating_add(start_at, options.reconnect_timeout);
        return bound < leader_deadline ? bound : leader_deadline;
    }

    /// Records a finished flight, which ended as `end`, at `now`, with the transport at
    /// `generation`. `flight_failure`: the transport's or the hook's failure (`failed`,
    /// `hook_failed`; ignored otherwise). Returns what the flight's leader and waiters get.
    reconnect_outcome finish(flight_end end, std::optional<failure>&& flight_failure, time_point now,
                             std::uint64_t generation) {
        in_flight = false;
        ++flights_finished;
        last_flight_cut_short = end == flight_end::cut_short;
        switch (end) {
        case flight_end::cut_short: return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
        case flight_end::succeeded:
            good_flights.fetch_add(1, std::memory_order_release);
            consecutive_failures = 0;
            openings = 0;
            backoff.reset();
            not_before = time_point{};
            open_until = time_point{};
            last_flight_error.reset();
            hook_failed_generation.reset();
            return {};
        case flight_end::threw: flight_failure.reset(); break;
        case flight_end::failed:
        case flight_end::hook_failed: break;
        }
        if (consecutive_failures++ == 0) first_failure = now;
        // The server's hint when it gave one (429/503 on initialize), else the backoff.
        const duration wait = flight_failure && flight_failure->retry_after
                                  ? clamp_server_hint(*flight_failure->retry_after, options.max_server_wait)
                                  : backoff.next_delay();
        not_before = saturating_add(now, wait);
        if (consecutive_failures >= options.failure_threshold && now - first_failure >= options.open_after) {
            duration cool = options.cool_down;
            for (int i = 0; i < openings && cool < options.cool_down_max; ++i) cool *= 2;
            if (cool > options.cool_down_max && options.cool_down <= options.cool_down_max) cool = options.cool_down_max;
            open_until = saturating_add(now, cool);
            if (open_until > not_before) not_before = open_until;
            ++openings;
        }
        if (end == flight_end::hook_failed) hook_failed_generation = generation;
        last_flight_error = call_error{make_error_code(errc::reconnect_failed), std::move(flight_failure), {}};
        return *last_flight_error;
    }
};

/// `t.reconnect(deadline)` when the transport has it, else `t.reconnect()`.
template <class Transport>
outcome<void> reconnect_transport(Transport& t, time_point deadline) {
    if constexpr (has_deadline_reconnect_v<Transport>) return t.reconnect(deadline);
    else {
        (void)deadline;
        return t.reconnect();
    }
}

/// `t.reopen(deadline)` when the transport has it; else nothing to do (the next send opens a
/// connection of its own).
template <class Transport>
outcome<void> reopen_transport(Transport& t, time_point deadline) {
    if constexpr (has_reopen_v<Transport>) return t.reopen(deadline);
    else {
        (void)t;
        (void)deadline;
        return {};
    }
}

/// The failure of a flight that threw.
inline failure thrown_failure(const char* what) {
    failure f;
    f.message = std::string("the reconnect threw: ") + what;
    f.delivered = delivery::unknown;
    return f;
}

}  // namespace detail

namespace detail {

/// What both single-flight reconnectors (this one and `beast::async_single_flight_reconnector`)
/// own and show alike: the flight book under a mutex, its settings, its backoff, and the
/// monitoring reads. They differ only in how callers wait for a flight.
template <class BackoffPolicy>
class flight_reconnector_base {
public:
    flight_reconnector_base() = default;
    explicit flight_reconnector_base(reconnect_options options) { book_.options = options; }
    flight_reconnector_base(reconnect_options options, BackoffPolicy backoff) {
        book_.options = options;
        book_.backoff = std::move(backoff);
    }
    flight_reconnector_base(const flight_reconnector_base&) = delete;
    flight_reconnector_base& operator=(const flight_reconnector_base&) = delete;

    /// Change the settings. Not to be called while calls are running.
    void set_options(reconnect_options options) { book_.options = options; }
    const reconnect_options& options() const noexcept { return book_.options; }
    /// The backoff between failed flights. Not to be changed while calls are running.
    BackoffPolicy& backoff_policy() noexcept { return book_.backoff; }

    /// Whether the circuit is open at `now` (for monitoring; the answer may be stale at once).
    bool circuit_open(time_point now) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return book_.circuit_is_open(now);
    }
    /// Consecutive failed flights so far.
    int consecutive_failures() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return book_.consecutive_failures;
    }
    /// Whether a flight is under way.
    bool in_flight() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return book_.in_flight;
    }
    /// Grows with every successful flight (either kind); read by the client before it sends.
    std::uint64_t connection_epoch() const noexcept { return book_.good_flights.load(std::memory_order_acquire); }

protected:
    ~flight_reconnector_base() = default;

    mutable std::mutex mutex_;
    flight_book<BackoffPolicy> book_;
};

}  // namespace detail

/// One reconnect at a time per transport, shared by every caller that needs it.
///
/// A caller that failed on generation `g` gets a session newer than `g`: if one exists it returns
/// at once (generation fencing: a stale failure costs nothing), if a flight is under way it waits
/// for that flight, else it leads a flight. A waiter gives up at its own deadline without
/// cancelling the flight. Every waiter of a flight gets that flight's result: a failed flight is
/// not retried by each of them (the client may ask again if its retry policy allows). Failed
/// flights back off; the circuit breaker opens only on failures that persist (see
/// `reconnect_options`). The `on_reconnected` hook runs inside the flight, before waiters are
/// released; if it fails, the flight fails.
///
/// `reopen` is the connection-level flight for transports whose session outlives their
/// connections: `transport.reopen(deadline)` (a new connection, the session kept), sharing the
/// single flight, the backoff and the breaker with `reconnect`.
///
/// Deadlines: a flight runs on its leader's thread and is bounded by the earlier of the leader's
/// deadline and `reconnect_timeout`. A flight cut short by its leader's deadline does not count as
/// a failure and is not shared: the waiters that still have time fly again.
///
/// Thread-safe. Not copyable (it owns a mutex); the client owns one per transport.
template <class BackoffPolicy = exponential_backoff>
class single_flight_reconnector : public detail::flight_reconnector_base<BackoffPolicy> {
    using base = detail::flight_reconnector_base<BackoffPolicy>;
    using base::book_;
    using base::mutex_;

public:
    using base::base;

    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(Transport& transport, std::uint64_t seen_generation, time_point deadline,
                                Clock& clock, Observer& observer, Hook&& on_reconnected) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (book_.in_flight) {
                if (!wait_for_flight(lock, clock, deadline))
                    return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                if (book_.has_newer_session(transport.generation(), seen_generation)) return {};
                if (book_.last_flight_cut_short || book_.last_flight_succeeded()) continue;
                // The flight this caller waited for failed: share its result instead of flying again.
                return *book_.last_flight_error;
            }
            if (book_.has_newer_session(transport.generation(), seen_generation)) return {};
            time_point start_at;
            if (auto refused = book_.refuse(clock.now(), deadline, start_at)) return *refused;
            return lead_flight(lock, detail::flight_kind::session, transport, start_at, deadline, clock, observer,
                               on_reconnected);
        }
    }


    /// A new connection on the same session, for a caller that read `seen_epoch` before it sent.
    template <class Transport, class Clock, class Observer>
    reconnect_outcome reopen(Transport& transport, std::uint64_t seen_epoch, time_point deadline, Clock& clock,
                             Observer& observer) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            // Fencing: a flight succeeded after this caller sent; try its connection first.
            if (!book_.in_flight && book_.good_flights.load(std::memory_order_relaxed) != seen_epoch) return {};
            if (book_.in_flight) {
                if (!wait_for_flight(lock, clock, deadline))
                    return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                if (book_.last_flight_cut_short) continue;
                // Any flight that succeeded reached the server: the connection is back.
                if (book_.last_flight_succeeded()) return {};
                return *book_.last_flight_error;
            }
            time_point start_at;
            if (auto refused = book_.refuse(clock.now(), deadline, start_at)) return *refused;
            auto no_hook = [](Transport&) { return outcome<void>{}; };
            return lead_flight(lock, detail::flight_kind::connection, transport, start_at, deadline, clock, observer,
                               no_hook);
        }
    }

private:
    template <class Clock>
    bool wait_for_flight(std::unique_lock<std::mutex>& lock, Clock& clock, time_point deadline) {
        const std::uint64_t flight = book_.flights_finished;
        return clock.wait_until(lock, cv_, deadline, [&] { return book_.flights_finished != flight; });
    }

    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome lead_flight(std::unique_lock<std::mutex>& lock, detail::flight_kind kind, Transport& transport,
                                  time_point start_at, time_point leader_deadline, Clock& clock, Observer& observer,
                                  Hook& on_reconnected) {
        book_.in_flight = true;
        const std::uint64_t from = transport.generation();
        const time_point flight_deadline = book_.flight_deadline(start_at, leader_deadline);
        const bool bounded_by_leader = flight_deadline == leader_deadline;
        lock.unlock();

        if (kind == detail::flight_kind::session) observer.on_reconnect_start(from);
        std::optional<failure> flight_failure;
        const time_point began = clock.now();
        bool hook_failed = false;
        try {
            if (start_at > began) clock.sleep_until(start_at);
            outcome<void> r = kind == detail::flight_kind::session ? detail::reconnect_transport(transport, flight_deadline)
                                                                   : detail::reopen_transport(transport, flight_deadline);
            if (r) {
                if (kind == detail::flight_kind::session) {
                    outcome<void> h = on_reconnected(transport);
                    if (!h) {
                        flight_failure = std::move(h).error();
                        hook_failed = true;
                    } else {
                        detail::notify_session_restored(transport);
                    }
                }
            } else {
                flight_failure = std::move(r).error();
            }
        } catch (...) {
            lock.lock();
            book_.finish(detail::flight_end::threw, std::nullopt, clock.now(), transport.generation());
            cv_.notify_all();
            lock.unlock();
            throw;
        }
        const time_point ended = clock.now();
        const duration took = ended - began;
        lock.lock();
        detail::flight_end end = detail::flight_end::succeeded;
        if (hook_failed) end = detail::flight_end::hook_failed;
        else if (flight_failure && bounded_by_leader && ended >= leader_deadline) end = detail::flight_end::cut_short;
        else if (flight_failure) end = detail::flight_end::failed;
        const reconnect_outcome result = book_.finish(end, std::move(flight_failure), ended, transport.generation());
        cv_.notify_all();
        const std::uint64_t to = transport.generation();
        lock.unlock();
        const std::error_code ec = result ? std::error_code{} : result.error().code;
        if (kind == detail::flight_kind::session) observer.on_reconnect_done(to, ec, took);
        else detail::notify_reopen_done(observer, ec, took);
        return result;
    }

    std::condition_variable cv_;
};

namespace detail {
template <class R, class T, class C, class O, class = void>
struct reconnector_has_reopen : std::false_type {};
template <class R, class T, class C, class O>
struct reconnector_has_reopen<R, T, C, O,
                              std::void_t<decltype(std::declval<R&>().connection_epoch()),
                                          decltype(std::declval<R&>().reopen(std::declval<T&>(), std::uint64_t{},
                                                                             std::declval<time_point>(),
                                                                             std::declval<C&>(), std::declval<O&>()))>>
    : std::true_type {};
}  // namespace detail

}  // namespace mcp_recovery

#endif
