// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECONNECTOR_HPP
#define MCP_RECOVERY_RECONNECTOR_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

namespace mcp_recovery {

/// Outcome of asking a reconnector for a session newer than the one a call failed on.
using reconnect_outcome = outcome<void, call_error>;

/// Reconnector requirements (`r` a Reconnector, `t` a Transport, `c` a Clock, `o` an Observer,
/// `h` a callable `outcome<void>(Transport&)`):
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `r.reconnect(t, g, deadline, c, o, h)` | `reconnect_outcome` | on success, `t.generation() > g` and `h` has run for that generation; never waits past `deadline` |
///
/// Called concurrently by every caller whose request failed with a lost session or connection.

/// Settings of `single_flight_reconnector`.
struct reconnect_options {
    /// Consecutive failed flights after which the circuit opens.
    int failure_threshold = 5;
    /// How long an open circuit fails fast before it lets one probe through.
    duration cool_down = std::chrono::seconds(30);
};

namespace detail {

/// The bookkeeping of single-flight reconnects, shared by the synchronous and the asynchronous
/// reconnector: who flies, what the last flight left behind, the backoff between failed flights
/// and the circuit breaker. No locking and no waiting: the owner holds its lock around every call.
template <class Backoff>
struct flight_book {
    reconnect_options options{};
    Backoff backoff{};
    bool in_flight = false;
    std::uint64_t flights_finished = 0;
    int consecutive_failures = 0;
    time_point not_before{};
    time_point open_until{};
    std::optional<call_error> last_flight_error;
    std::optional<std::uint64_t> hook_failed_generation;

    bool circuit_is_open(time_point now) const noexcept {
        return consecutive_failures >= options.failure_threshold && now < open_until;
    }

    // A session is usable when the transport moved on and the hook did not fail for it.
    bool has_newer_session(std::uint64_t generation, std::uint64_t seen) const noexcept {
        return generation > seen && !(hook_failed_generation && *hook_failed_generation == generation);
    }

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
            call_error e{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
            if (last_flight_error) e.last_failure = last_flight_error->last_failure;
            return e;
        }
        return std::nullopt;
    }

    /// Records a finished flight: `flight_failure` empty and `threw` false means success.
    reconnect_outcome finish(std::optional<failure> flight_failure, bool hook_failed, bool threw, time_point now,
                             std::uint64_t generation) {
        in_flight = false;
        ++flights_finished;
        if (!flight_failure && !threw) {
            consecutive_failures = 0;
            backoff.reset();
            not_before = time_point{};
            last_flight_error.reset();
            hook_failed_generation.reset();
            return {};
        }
        ++consecutive_failures;
        not_before = saturating_add(now, backoff.next_delay());
        if (consecutive_failures >= options.failure_threshold) open_until = saturating_add(now, options.cool_down);
        if (hook_failed) hook_failed_generation = generation;
        last_flight_error = call_error{make_error_code(errc::reconnect_failed), std::move(flight_failure), {}};
        return *last_flight_error;
    }
};

}  // namespace detail

/// One reconnect at a time per transport, shared by every caller that needs it.
///
/// A caller that failed on generation `g` gets a session newer than `g`: if one exists it returns
/// at once (generation fencing: a stale failure costs nothing), if a flight is under way it waits
/// for that flight, else it leads a flight. A waiter gives up at its own deadline without
/// cancelling the flight. Every waiter of a flight gets that flight's result: a failed flight is
/// not retried by each of them. Failed flights back off (`Backoff`, applied before the next
/// flight starts); after `failure_threshold` consecutive failed flights the circuit opens and
/// callers fail fast with `errc::circuit_open` for `cool_down`, then one probe flight is let
/// through. The `on_reconnected` hook runs inside the flight, before waiters are released; if it
/// fails, the flight fails.
///
/// Thread-safe. Not copyable (it owns a mutex); the client owns one per transport.
template <class Backoff = exponential_backoff>
class single_flight_reconnector {
public:
    single_flight_reconnector() = default;
    explicit single_flight_reconnector(reconnect_options options, Backoff backoff = Backoff{}) {
        book_.options = options;
        book_.backoff = std::move(backoff);
    }

    single_flight_reconnector(const single_flight_reconnector&) = delete;
    single_flight_reconnector& operator=(const single_flight_reconnector&) = delete;

    /// Change the settings. Not to be called while calls are running.
    void set_options(reconnect_options options) { book_.options = options; }
    const reconnect_options& options() const noexcept { return book_.options; }
    /// The backoff between failed flights. Not to be changed while calls are running.
    Backoff& backoff_policy() noexcept { return book_.backoff; }

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

    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(Transport& transport, std::uint64_t seen_generation, time_point deadline,
                                Clock& clock, Observer& observer, Hook&& on_reconnected) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (book_.in_flight) {
                const std::uint64_t flight = book_.flights_finished;
                const bool finished =
                    clock.wait_until(lock, cv_, deadline, [&] { return book_.flights_finished != flight; });
                if (!finished) return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                if (book_.has_newer_session(transport.generation(), seen_generation)) return {};
                // The flight this caller waited for failed: share its result instead of flying again.
                if (book_.last_flight_error) return *book_.last_flight_error;
                continue;
            }
            if (book_.has_newer_session(transport.generation(), seen_generation)) return {};
            time_point start_at;
            if (auto refused = book_.refuse(clock.now(), deadline, start_at)) return *refused;
            return lead_flight(lock, transport, start_at, clock, observer, on_reconnected);
        }
    }

private:
    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome lead_flight(std::unique_lock<std::mutex>& lock, Transport& transport, time_point start_at,
                                  Clock& clock, Observer& observer, Hook& on_reconnected) {
        book_.in_flight = true;
        const std::uint64_t from = transport.generation();
        lock.unlock();

        observer.on_reconnect_start(from);
        std::optional<failure> flight_failure;
        const time_point began = clock.now();
        bool hook_failed = false;
        try {
            if (start_at > began) clock.sleep_until(start_at);
            outcome<void> r = transport.reconnect();
            if (r) {
                outcome<void> h = on_reconnected(transport);
                if (!h) {
                    flight_failure = std::move(h).error();
                    hook_failed = true;
                }
            } else {
                flight_failure = std::move(r).error();
            }
        } catch (...) {
            lock.lock();
            book_.finish(std::nullopt, false, true, clock.now(), transport.generation());
            cv_.notify_all();
            lock.unlock();
            throw;
        }
        const duration took = clock.now() - began;
        lock.lock();
        reconnect_outcome result =
            book_.finish(std::move(flight_failure), hook_failed, false, clock.now(), transport.generation());
        cv_.notify_all();
        const std::uint64_t to = transport.generation();
        lock.unlock();
        observer.on_reconnect_done(to, result ? std::error_code{} : result.error().code, took);
        return result;
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    detail::flight_book<Backoff> book_;
};

}  // namespace mcp_recovery

#endif
