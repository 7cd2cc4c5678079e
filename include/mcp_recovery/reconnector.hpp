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
    explicit single_flight_reconnector(reconnect_options options, Backoff backoff = Backoff{})
        : options_(options), backoff_(std::move(backoff)) {}

    single_flight_reconnector(const single_flight_reconnector&) = delete;
    single_flight_reconnector& operator=(const single_flight_reconnector&) = delete;

    /// Change the settings. Not to be called while calls are running.
    void set_options(reconnect_options options) { options_ = options; }
    const reconnect_options& options() const noexcept { return options_; }
    /// The backoff between failed flights. Not to be changed while calls are running.
    Backoff& backoff_policy() noexcept { return backoff_; }

    /// Whether the circuit is open at `now` (for monitoring; the answer may be stale at once).
    bool circuit_open(time_point now) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return circuit_is_open(now);
    }
    /// Consecutive failed flights so far.
    int consecutive_failures() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return consecutive_failures_;
    }

    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(Transport& transport, std::uint64_t seen_generation, time_point deadline,
                                Clock& clock, Observer& observer, Hook&& on_reconnected) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (in_flight_) {
                const std::uint64_t flight = flights_finished_;
                const bool finished = clock.wait_until(lock, cv_, deadline, [&] { return flights_finished_ != flight; });
                if (!finished) return call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                if (has_newer_session(transport, seen_generation)) return {};
                // The flight this caller waited for failed: share its result instead of flying again.
                if (last_flight_error_) return *last_flight_error_;
                continue;
            }
            if (has_newer_session(transport, seen_generation)) return {};

            const time_point now = clock.now();
            if (circuit_is_open(now)) {
                call_error e{make_error_code(errc::circuit_open), std::nullopt, open_until_ - now};
                if (last_flight_error_) e.last_failure = last_flight_error_->last_failure;
                return e;
            }
            const time_point start_at = not_before_ > now ? not_before_ : now;
            if (start_at >= deadline) {
                call_error e{make_error_code(errc::deadline_exceeded), std::nullopt, {}};
                if (last_flight_error_) e.last_failure = last_flight_error_->last_failure;
                return e;
            }
            return lead_flight(lock, transport, start_at, clock, observer, on_reconnected);
        }
    }

private:
    bool circuit_is_open(time_point now) const noexcept {
        return consecutive_failures_ >= options_.failure_threshold && now < open_until_;
    }

    // A session is usable when the transport moved on and its hook did not fail for it.
    template <class Transport>
    bool has_newer_session(const Transport& transport, std::uint64_t seen) const {
        const std::uint64_t g = transport.generation();
        return g > seen && !(hook_failed_generation_ && *hook_failed_generation_ == g);
    }

    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome lead_flight(std::unique_lock<std::mutex>& lock, Transport& transport, time_point start_at,
                                  Clock& clock, Observer& observer, Hook& on_reconnected) {
        in_flight_ = true;
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
            finish_flight(lock, transport, clock, std::nullopt, false, true);
            throw;
        }
        const duration took = clock.now() - began;
        reconnect_outcome result = finish_flight(lock, transport, clock, std::move(flight_failure), hook_failed, false);
        const std::uint64_t to = transport.generation();
        lock.unlock();
        observer.on_reconnect_done(to, result ? std::error_code{} : result.error().code, took);
        return result;
    }

    template <class Transport, class Clock>
    reconnect_outcome finish_flight(std::unique_lock<std::mutex>& lock, Transport& transport, Clock& clock,
                                    std::optional<failure> flight_failure, bool hook_failed, bool threw) {
        lock.lock();
        in_flight_ = false;
        ++flights_finished_;
        reconnect_outcome result;
        if (!flight_failure && !threw) {
            consecutive_failures_ = 0;
            backoff_.reset();
            not_before_ = time_point{};
            last_flight_error_.reset();
            hook_failed_generation_.reset();
        } else {
            const time_point now = clock.now();
            ++consecutive_failures_;
            not_before_ = saturating_add(now, backoff_.next_delay());
            if (consecutive_failures_ >= options_.failure_threshold)
                open_until_ = saturating_add(now, options_.cool_down);
            if (hook_failed) hook_failed_generation_ = transport.generation();
            last_flight_error_ = call_error{make_error_code(errc::reconnect_failed), std::move(flight_failure), {}};
            result = *last_flight_error_;
        }
        cv_.notify_all();
        if (threw) lock.unlock();
        return result;
    }

    reconnect_options options_{};
    Backoff backoff_{};

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool in_flight_ = false;
    std::uint64_t flights_finished_ = 0;
    int consecutive_failures_ = 0;
    time_point not_before_{};
    time_point open_until_{};
    std::optional<call_error> last_flight_error_;
    std::optional<std::uint64_t> hook_failed_generation_;
};

}  // namespace mcp_recovery

#endif
