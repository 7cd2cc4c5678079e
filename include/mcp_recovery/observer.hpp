// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_OBSERVER_HPP
#define MCP_RECOVERY_OBSERVER_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace mcp_recovery {

/// Telemetry hooks. The client calls them on the recovery path only, never on a call that
/// succeeds at the first attempt, and from whichever thread runs the call: an observer used by
/// concurrent callers must be thread-safe. Observers must not throw.
///
/// | Expression | Semantics |
/// |---|---|
/// | `o.on_failure(f, kind, attempt)` | attempt number `attempt` failed with `f`, classified `kind` |
/// | `o.on_reconnect_start(generation)` | this thread leads a reconnect away from `generation` |
/// | `o.on_reconnect_done(generation, ec, took)` | the reconnect it led finished: new generation, or `ec` |
/// | `o.on_retry(kind, attempt, wait)` | attempt `attempt + 1` follows after `wait` |
/// | `o.on_recovered(attempts, took)` | the call succeeded after `attempts` attempts, `took` after the first failure |
/// | `o.on_give_up(ec, last)` | the call ends with `ec`; `last` is the last failure or null |
///
/// Optional (called when present):
///
/// | Expression | Semantics |
/// |---|---|
/// | `o.on_reopen_done(ec, took)` | a connection-level recovery this thread led (a transport whose session outlives its connections opened a new connection, the session untouched) finished: success, or `ec` |
/// | `o.on_keeper_ping(idle, f)` | the session keeper sent a ping after `idle`: answered (`f` null), or it failed with `*f` |
/// | `o.on_keeper_reinitialize(idle, ec)` | the session keeper opened a new session after `idle` (before a call, or after its ping met a lost session): success, or `ec` |
///
/// `null_observer` implements every hook as nothing; derive from it to implement only some.
///
/// Models: `null_observer` (the default), `counting_observer`. Checked by `is_observer<O>` and, in
/// C++20, `concept observer<O>`.
struct null_observer {
    void on_failure(const failure&, failure_kind, int) noexcept {}
    void on_reconnect_start(std::uint64_t) noexcept {}
    void on_reconnect_done(std::uint64_t, std::error_code, duration) noexcept {}
    void on_retry(failure_kind, int, duration) noexcept {}
    void on_recovered(int, duration) noexcept {}
    void on_give_up(std::error_code, const failure*) noexcept {}
    void on_reopen_done(std::error_code, duration) noexcept {}
    void on_keeper_ping(duration, const failure*) noexcept {}
    void on_keeper_reinitialize(duration, std::error_code) noexcept {}
};

namespace detail {

// One trait per hook, so that a diagnostic can name the one that is missing. The arguments are
// those the client and the reconnectors pass.
template <class O, class = void>
struct observer_has_on_failure : std::false_type {};
template <class O>
struct observer_has_on_failure<O, std::void_t<decltype(std::declval<O&>().on_failure(
                                      std::declval<const failure&>(), failure_kind{}, int{}))>> : std::true_type {};

template <class O, class = void>
struct observer_has_on_reconnect_start : std::false_type {};
template <class O>
struct observer_has_on_reconnect_start<O, std::void_t<decltype(std::declval<O&>().on_reconnect_start(std::uint64_t{}))>>
    : std::true_type {};

template <class O, class = void>
struct observer_has_on_reconnect_done : std::false_type {};
template <class O>
struct observer_has_on_reconnect_done<
    O, std::void_t<decltype(std::declval<O&>().on_reconnect_done(std::uint64_t{}, std::error_code{}, duration{}))>>
    : std::true_type {};

template <class O, class = void>
struct observer_has_on_retry : std::false_type {};
template <class O>
struct observer_has_on_retry<O, std::void_t<decltype(std::declval<O&>().on_retry(failure_kind{}, int{}, duration{}))>>
    : std::true_type {};

template <class O, class = void>
struct observer_has_on_recovered : std::false_type {};
template <class O>
struct observer_has_on_recovered<O, std::void_t<decltype(std::declval<O&>().on_recovered(int{}, duration{}))>>
    : std::true_type {};

template <class O, class = void>
struct observer_has_on_give_up : std::false_type {};
template <class O>
struct observer_has_on_give_up<
    O, std::void_t<decltype(std::declval<O&>().on_give_up(std::error_code{}, std::declval<const failure*>()))>>
    : std::true_type {};

template <class O>
struct is_observer_impl
    : std::bool_constant<observer_has_on_failure<O>::value && observer_has_on_reconnect_start<O>::value &&
                         observer_has_on_reconnect_done<O>::value && observer_has_on_retry<O>::value &&
                         observer_has_on_recovered<O>::value && observer_has_on_give_up<O>::value> {};

/// `value` is `is_observer_v<O>`; instantiating it names each missing hook in a static_assert of
/// its own (the C++17 diagnostics of `recovering_client`).
template <class O>
struct observer_requirements {
    static_assert(observer_has_on_failure<O>::value,
                  "Observer: needs on_failure(const failure&, failure_kind, int) (derive from null_observer for the "
                  "hooks you do not need)");
    static_assert(observer_has_on_reconnect_start<O>::value,
                  "Observer: needs on_reconnect_start(std::uint64_t) (derive from null_observer for the hooks you do "
                  "not need)");
    static_assert(observer_has_on_reconnect_done<O>::value,
                  "Observer: needs on_reconnect_done(std::uint64_t, std::error_code, duration) (derive from "
                  "null_observer for the hooks you do not need)");
    static_assert(observer_has_on_retry<O>::value,
                  "Observer: needs on_retry(failure_kind, int, duration) (derive from null_observer for the hooks "
                  "you do not need)");
    static_assert(observer_has_on_recovered<O>::value,
                  "Observer: needs on_recovered(int, duration) (derive from null_observer for the hooks you do not "
                  "need)");
    static_assert(observer_has_on_give_up<O>::value,
                  "Observer: needs on_give_up(std::error_code, const failure*) (derive from null_observer for the "
                  "hooks you do not need)");
    static constexpr bool value = is_observer_impl<O>::value;
};

template <class O, class = void>
struct has_on_reopen_done : std::false_type {};
template <class O>
struct has_on_reopen_done<O, std::void_t<decltype(std::declval<O&>().on_reopen_done(std::declval<std::error_code>(),
                                                                                  std::declval<duration>()))>>
    : std::true_type {};

/// Tells `o` about a finished connection-level recovery, when it has the optional hook.
template <class O>
void notify_reopen_done(O& o, std::error_code ec, duration took) noexcept {
    if constexpr (has_on_reopen_done<O>::value) o.on_reopen_done(ec, took);
}

template <class O, class = void>
struct has_on_keeper_ping : std::false_type {};
template <class O>
struct has_on_keeper_ping<O, std::void_t<decltype(std::declval<O&>().on_keeper_ping(std::declval<duration>(),
                                                                                  std::declval<const failure*>()))>>
    : std::true_type {};

template <class O, class = void>
struct has_on_keeper_reinitialize : std::false_type {};
template <class O>
struct has_on_keeper_reinitialize<O, std::void_t<decltype(std::declval<O&>().on_keeper_reinitialize(
                                         std::declval<duration>(), std::declval<std::error_code>()))>>
    : std::true_type {};

/// Tells `o` about a ping of the session keeper, when it has the optional hook.
template <class O>
void notify_keeper_ping(O& o, duration idle, const failure* f) noexcept {
    if constexpr (has_on_keeper_ping<O>::value) o.on_keeper_ping(idle, f);
    else {
        (void)o;
        (void)idle;
        (void)f;
    }
}

/// Tells `o` about a re-initialize of the session keeper, when it has the optional hook.
template <class O>
void notify_keeper_reinitialize(O& o, duration idle, std::error_code ec) noexcept {
    if constexpr (has_on_keeper_reinitialize<O>::value) o.on_keeper_reinitialize(idle, ec);
    else {
        (void)o;
        (void)idle;
        (void)ec;
    }
}
}  // namespace detail

/// Whether `O` meets the Observer requirements: every hook of the first table above (the
/// optional `on_reopen_done` is not required). Checked by `is_observer<O>` and, in C++20,
/// `concept observer<O>`.
template <class O>
struct is_observer : detail::is_observer_impl<O> {};
template <class O>
inline constexpr bool is_observer_v = is_observer<O>::value;

/// Whether `O` has the optional `on_reopen_done(std::error_code, duration)` hook.
template <class O>
inline constexpr bool has_on_reopen_done_v = detail::has_on_reopen_done<O>::value;
/// Whether `O` has the optional session keeper hooks `on_keeper_ping(duration, const failure*)`
/// and `on_keeper_reinitialize(duration, std::error_code)`.
template <class O>
inline constexpr bool has_on_keeper_ping_v = detail::has_on_keeper_ping<O>::value;
template <class O>
inline constexpr bool has_on_keeper_reinitialize_v = detail::has_on_keeper_reinitialize<O>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The Observer requirements as a concept; same requirements as `is_observer`. A type that does
/// not model it makes the compiler name the hook it misses.
template <class O>
concept observer = requires(O& o, const failure& f, failure_kind kind, int attempt, std::uint64_t generation,
                            std::error_code ec, duration took, const failure* last) {
    o.on_failure(f, kind, attempt);
    o.on_reconnect_start(generation);
    o.on_reconnect_done(generation, ec, took);
    o.on_retry(kind, attempt, took);
    o.on_recovered(attempt, took);
    o.on_give_up(ec, last);
};
#endif

/// Counts what recovery did. Thread-safe; counters are relaxed atomics, read them after the calls
/// you measure have returned.
class counting_observer : public null_observer {
public:
    static constexpr std::size_t reason_slots = 16;

    void on_failure(const failure& f, failure_kind kind, int) noexcept {
        failures_.fetch_add(1, std::memory_order_relaxed);
        by_kind_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
        try {
            std::lock_guard<std::mutex> lock(mutex_);
            last_failure_ = f;
        } catch (...) {
            // Keeping the last failure is best effort; counting must not throw.
        }
    }
    void on_reconnect_start(std::uint64_t) noexcept { reconnects_started_.fetch_add(1, std::memory_order_relaxed); }
    void on_reconnect_done(std::uint64_t, std::error_code ec, duration) noexcept {
        (ec ? reconnects_failed_ : reconnects_succeeded_).fetch_add(1, std::memory_order_relaxed);
    }
    void on_retry(failure_kind, int, duration) noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }
    void on_reopen_done(std::error_code ec, duration) noexcept {
        (ec ? reopens_failed_ : reopens_succeeded_).fetch_add(1, std::memory_order_relaxed);
    }
    void on_recovered(int, duration) noexcept { recovered_.fetch_add(1, std::memory_order_relaxed); }
    void on_keeper_ping(duration, const failure* f) noexcept {
        (f ? keeper_pings_failed_ : keeper_pings_).fetch_add(1, std::memory_order_relaxed);
    }
    void on_keeper_reinitialize(duration, std::error_code ec) noexcept {
        (ec ? keeper_reinitializes_failed_ : keeper_reinitializes_).fetch_add(1, std::memory_order_relaxed);
    }
    void on_give_up(std::error_code ec, const failure*) noexcept {
        give_ups_.fetch_add(1, std::memory_order_relaxed);
        if (ec.category() == error_category()) {
            auto slot = static_cast<std::size_t>(ec.value());
            if (slot < reason_slots) by_reason_[slot].fetch_add(1, std::memory_order_relaxed);
        }
    }

    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
    std::uint64_t failures(failure_kind k) const noexcept {
        return by_kind_[static_cast<std::size_t>(k)].load(std::memory_order_relaxed);
    }
    /// Reconnect flights this client led (one per recovered session loss, however many callers).
    std::uint64_t reconnects() const noexcept { return reconnects_started_.load(std::memory_order_relaxed); }
    std::uint64_t reconnects_succeeded() const noexcept { return reconnects_succeeded_.load(std::memory_order_relaxed); }
    std::uint64_t reconnects_failed() const noexcept { return reconnects_failed_.load(std::memory_order_relaxed); }
    std::uint64_t retries() const noexcept { return retries_.load(std::memory_order_relaxed); }
    /// Connection-level recoveries this client led (new connection, same session): succeeded, failed.
    std::uint64_t reopens_succeeded() const noexcept { return reopens_succeeded_.load(std::memory_order_relaxed); }
    std::uint64_t reopens_failed() const noexcept { return reopens_failed_.load(std::memory_order_relaxed); }
    std::uint64_t recovered() const noexcept { return recovered_.load(std::memory_order_relaxed); }
    /// Session keeper: pings answered, pings that failed (a lost session among them), and the
    /// sessions it opened (before a call, or after a ping met a lost session), succeeded / failed.
    /// A keeper re-initialize is a reconnect flight too (counted in `reconnects()`).
    std::uint64_t keeper_pings() const noexcept { return keeper_pings_.load(std::memory_order_relaxed); }
    std::uint64_t keeper_pings_failed() const noexcept { return keeper_pings_failed_.load(std::memory_order_relaxed); }
    std::uint64_t keeper_reinitializes() const noexcept {
        return keeper_reinitializes_.load(std::memory_order_relaxed);
    }
    std::uint64_t keeper_reinitializes_failed() const noexcept {
        return keeper_reinitializes_failed_.load(std::memory_order_relaxed);
    }
    std::uint64_t give_ups() const noexcept { return give_ups_.load(std::memory_order_relaxed); }
    std::uint64_t give_ups(errc reason) const noexcept {
        auto slot = static_cast<std::size_t>(reason);
        return slot < reason_slots ? by_reason_[slot].load(std::memory_order_relaxed) : 0;
    }
    std::optional<failure> last_failure() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return last_failure_;
    }

private:
    std::atomic<std::uint64_t> failures_{0};
    std::array<std::atomic<std::uint64_t>, 8> by_kind_{};
    std::atomic<std::uint64_t> reconnects_started_{0};
    std::atomic<std::uint64_t> reconnects_succeeded_{0};
    std::atomic<std::uint64_t> reconnects_failed_{0};
    std::atomic<std::uint64_t> retries_{0};
    std::atomic<std::uint64_t> reopens_succeeded_{0};
    std::atomic<std::uint64_t> reopens_failed_{0};
    std::atomic<std::uint64_t> recovered_{0};
    std::atomic<std::uint64_t> keeper_pings_{0};
    std::atomic<std::uint64_t> keeper_pings_failed_{0};
    std::atomic<std::uint64_t> keeper_reinitializes_{0};
    std::atomic<std::uint64_t> keeper_reinitializes_failed_{0};
    std::atomic<std::uint64_t> give_ups_{0};
    std::array<std::atomic<std::uint64_t>, reason_slots> by_reason_{};
    mutable std::mutex mutex_;
    std::optional<failure> last_failure_;
};

static_assert(is_observer_v<null_observer>, "null_observer must model Observer");
static_assert(is_observer_v<counting_observer>, "counting_observer must model Observer");

}  // namespace mcp_recovery

#endif
