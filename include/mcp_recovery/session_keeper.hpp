// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_SESSION_KEEPER_HPP
#define MCP_RECOVERY_SESSION_KEEPER_HPP

/// The session keeper policy: keep an idle session alive (`ping`), or open a new one before the
/// next call would meet a dead one (`reinitialize`), after an idle time taken from a hint or
/// learned from the sessions the client saw expire. Standard library only, no I/O, no clock read:
/// the client hands it every time it needs (docs/concepts/session_keeper.md).

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/time.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

/// What the keeper does when the session has idled for its threshold.
enum class keeper_action : unsigned char {
    /// Send `ping` on the session (every server answers it), which resets the server's idle
    /// timer. Needs a timer: a thread per synchronous client, a coroutine per asynchronous one
    /// (unless `session_keeper_options::own_timer` is false: then call `keep_alive(now)`).
    ping,
    /// Open a new session (through the client's reconnector, so concurrent callers share one
    /// `initialize`) before the first call that finds the session idle past the threshold. No
    /// timer, no traffic while idle: one `initialize` per idle gap longer than the threshold.
    reinitialize,
};

/// Settings of `session_keeper`. Set them before calls start (`client.session_keeper().set_options(o)`).
struct session_keeper_options {
    keeper_action action = keeper_action::ping;
    /// The server's idle timeout when it is known (e.g. from its documentation). With learning
    /// on, the smaller of this and what was learned is used. None, and nothing learned yet: the
    /// keeper does nothing.
    std::optional<duration> idle_timeout_hint;
    /// Act after this fraction of the estimated timeout (0.01 .. 1).
    double margin = 0.8;
    /// Act up to this fraction earlier than `margin` says, drawn per idle period (0 .. 0.9), so
    /// that many clients of one server do not act in lockstep.
    double jitter = 0.1;
    /// Never act after less idle time than this (at least 1 ms); also the smallest idle time a
    /// lost session is learned from (a shorter one is not an idle timeout the keeper could beat:
    /// a restart, most likely).
    duration min_interval = std::chrono::seconds(1);
    /// Never let the session idle longer than this, whatever the estimate (at least `min_interval`).
    duration max_interval = std::chrono::hours(1);
    /// Learn the timeout from the idle times of sessions that were lost (an upper bound) and of
    /// sessions that survived (a lower bound).
    bool learn = true;
    /// Bound of one ping (its deadline). A re-initialize is bounded by the reconnector's
    /// `reconnect_timeout`.
    duration action_timeout = std::chrono::seconds(10);
    /// With `ping`: the client runs the timer itself (a thread for `recovering_client`, a
    /// coroutine on its executor for `beast::async_recovering_client`), started at the first
    /// call. False: nothing runs by itself; call `client.keep_alive(now)` from your own timer
    /// (or a test).
    bool own_timer = true;
};

/// What one message sent on the session tells the keeper: the idle time before it (since the
/// last message the keeper knows of), when that is known.
struct keeper_ticket {
    duration idle{};
    bool known = false;
};

/// What `keep_alive(now)` did.
enum class keeper_step : unsigned char {
    nothing,        ///< not due: the session idled less than the threshold, or no estimate, or no session yet
    busy,           ///< another keeper action is in flight on this transport
    pinged,         ///< a ping was answered: the session lives on
    reinitialized,  ///< a new session is open (the reinitialize action, or a ping that met a lost session)
    failed,         ///< the ping or the re-initialize failed (server down, ...): the next call recovers
};

inline const char* to_string(keeper_step s) noexcept {
    switch (s) {
    case keeper_step::nothing: return "nothing";
    case keeper_step::busy: return "busy";
    case keeper_step::pinged: return "pinged";
    case keeper_step::reinitialized: return "reinitialized";
    case keeper_step::failed: return "failed";
    }
    return "unknown";
}

/// The default SessionKeeper: none. The clients then behave and cost exactly as without the
/// policy (the success path gains no clock read, no lock, no allocation; it takes no space).
struct no_session_keeper {
    static constexpr bool enabled = false;
};

/// How a keeper's ping request is built for the request type `Request`: `available` and
/// `static Request make()`. The default works for every default-constructible request type with
/// an assignable `method` member (`beast::request`, `testing::scripted_request`): `method` =
/// "ping", everything else value-initialized (for `beast::request`: no params). Specialize it for
/// other request types; without it the `ping` action acts as `reinitialize`.
template <class Request, class = void>
struct ping_request_traits {
    static constexpr bool available = false;
};
template <class Request>
struct ping_request_traits<
    Request, std::enable_if_t<std::is_default_constructible_v<Request> &&
                              std::is_assignable_v<decltype((std::declval<Request&>().method)), const char*>>> {
    static constexpr bool available = true;
    static Request make() {
        Request r{};
        r.method = "ping";
        return r;
    }
};

/// The session keeper: decides when an idle session needs a ping or a new session, and learns the
/// server's idle timeout. No I/O and no clock read: the client tells it when messages go out
/// (`begin_send`), how they end (`end_send`), when a session opens (`session_opened`), and asks
/// `due(now)` / `next_due()`.
///
/// Learning: a session lost after an idle time `g` means the server's timeout T <= g (kept: the
/// smallest such `g`, the upper bound); a message answered after an idle time `s` means T > s
/// (kept: the largest, the lower bound). Contradicting evidence resets: a survival at or above the
/// upper bound drops it (that loss was no idle timeout: a restart), a loss at or below the lower
/// bound restarts the lower bound (the server's timeout shrank). Two numbers, whatever happens.
///
/// The keeper acts after `threshold = clamp(margin * E * (1 - jitter * u), min_interval,
/// max_interval)` of idle time, with E the smaller of the hint and the upper bound, and u in
/// [0, 1) drawn from the keeper's seed and the start of the idle period (so each idle period has
/// its own, and two clients differ). No E: nothing to do.
///
/// Thread-safe: every member may be called concurrently (atomics; a mutex only when a learned
/// bound changes). `set_options` and `reseed` before calls start.
class session_keeper {
public:
    static constexpr bool enabled = true;

    session_keeper() noexcept : seed_(fresh_backoff_seed()) {}
    explicit session_keeper(session_keeper_options options) noexcept : session_keeper() { set_options(options); }
    session_keeper(const session_keeper&) = delete;
    session_keeper& operator=(const session_keeper&) = delete;

    /// Changes the settings (normalized: see `session_keeper_options`). Not while calls run.
    void set_options(session_keeper_options o) noexcept {
        o.margin = std::clamp(o.margin, 0.01, 1.0);
        o.jitter = std::clamp(o.jitter, 0.0, 0.9);
        if (o.min_interval < std::chrono::milliseconds(1)) o.min_interval = std::chrono::milliseconds(1);
        if (o.max_interval < o.min_interval) o.max_interval = o.min_interval;
        if (o.action_timeout <= duration::zero()) o.action_timeout = std::chrono::seconds(10);
        options_ = o;
    }
    const session_keeper_options& options() const noexcept { return options_; }
    /// The seed of the jitter (a fresh one per keeper by default); for reproducible tests.
    void reseed(std::uint64_t seed) noexcept { seed_ = seed; }

    // ---- what the keeper knows ----

    /// The smallest idle time after which a session was found lost (T <= it), if any.
    std::optional<duration> learned_upper() const noexcept {
        const rep u = upper_.load(std::memory_order_relaxed);
        if (u == unknown_upper) return std::nullopt;
        return duration(u);
    }
    /// The largest idle time a session survived (T > it); zero when none.
    duration learned_lower() const noexcept { return duration(lower_.load(std::memory_order_relaxed)); }
    /// The estimated server timeout: the smaller of the hint and the learned upper bound.
    std::optional<duration> estimate() const noexcept {
        std::optional<duration> e = options_.idle_timeout_hint;
        if (options_.learn) {
            if (const std::optional<duration> u = learned_upper(); u && (!e || *u < *e)) e = u;
        }
        return e;
    }
    /// The idle time after which the keeper acts, for an idle period that began at `activity`.
    std::optional<duration> threshold_after(time_point activity) const noexcept {
        const std::optional<duration> e = estimate();
        if (!e) return std::nullopt;
        const double u = unit_from(seed_ ^ static_cast<std::uint64_t>(activity.time_since_epoch().count()));
        const double f = options_.margin * (1.0 - options_.jitter * u);
        const double scaled = static_cast<double>(e->count()) * f;
        duration d = scaled >= static_cast<double>(duration::max().count()) ? duration::max()
                                                                             : duration(static_cast<rep>(scaled));
        return std::clamp(d, options_.min_interval, options_.max_interval);
    }
    /// When the last message the keeper knows of went out (or the last session opened).
    std::optional<time_point> last_activity() const noexcept {
        const rep a = activity_.load(std::memory_order_acquire);
        if (a == unknown) return std::nullopt;
        return time_point(duration(a));
    }
    /// How long the session has idled at `now` (zero when nothing is known).
    duration idle(time_point now) const noexcept {
        const std::optional<time_point> a = last_activity();
        return a && now > *a ? now - *a : duration::zero();
    }
    /// When the keeper should act next: `time_point::max()` when there is nothing to do.
    time_point next_due() const noexcept {
        const std::optional<time_point> a = last_activity();
        if (!a) return time_point::max();
        const std::optional<duration> t = threshold_after(*a);
        if (!t) return time_point::max();
        return saturating_add(*a, *t);
    }
    /// Whether the session has idled for the threshold at `now`.
    bool due(time_point now) const noexcept { return now >= next_due(); }

    // ---- what the client tells it ----

    /// A message is about to go out on the session at `now`: the idle time before it.
    keeper_ticket begin_send(time_point now) noexcept {
        const rep n = now.time_since_epoch().count();
        rep previous = activity_.load(std::memory_order_relaxed);
        while (previous < n && !activity_.compare_exchange_weak(previous, n, std::memory_order_acq_rel)) {
        }
        if (previous == unknown) return keeper_ticket{};
        return keeper_ticket{previous < n ? duration(n - previous) : duration::zero(), true};
    }
    /// The message of `ticket` was answered (`session_lost` false) or met the lost-session answer
    /// (true): learns from it. Returns whether the estimate dropped (a timer should wake).
    bool end_send(const keeper_ticket& ticket, bool session_lost) noexcept {
        if (!ticket.known) return false;
        return session_lost ? learn_lost(ticket.idle) : (learn_survived(ticket.idle), false);
    }
    /// A new session opened at `now` (its `initialize` is its last activity).
    void session_opened(time_point now) noexcept { (void)begin_send(now); }

    /// Learns that a session was lost after `idle`: T <= idle. Returns whether the estimate dropped.
    bool learn_lost(duration idle) noexcept {
        if (!options_.learn || idle < options_.min_interval) return false;
        const std::optional<duration> before = estimate();
        {
            std::lock_guard<std::mutex> lock(learn_mutex_);
            const rep g = idle.count();
            if (g < upper_.load(std::memory_order_relaxed)) upper_.store(g, std::memory_order_relaxed);
            if (lower_.load(std::memory_order_relaxed) >= g) lower_.store(0, std::memory_order_relaxed);
        }
        const std::optional<duration> after = estimate();
        return after && (!before || *after < *before);
    }
    /// Learns that a session survived `idle`: T > idle.
    void learn_survived(duration idle) noexcept {
        if (!options_.learn) return;
        const rep s = idle.count();
        // The common case, lock-free: nothing new.
        if (s <= lower_.load(std::memory_order_relaxed) && s < upper_.load(std::memory_order_relaxed)) return;
        std::lock_guard<std::mutex> lock(learn_mutex_);
        if (s >= upper_.load(std::memory_order_relaxed)) upper_.store(unknown_upper, std::memory_order_relaxed);
        if (s > lower_.load(std::memory_order_relaxed)) lower_.store(s, std::memory_order_relaxed);
    }
    /// Forgets what was learned (the hint stays).
    void forget() noexcept {
        std::lock_guard<std::mutex> lock(learn_mutex_);
        upper_.store(unknown_upper, std::memory_order_relaxed);
        lower_.store(0, std::memory_order_relaxed);
    }

private:
    using rep = duration::rep;
    static constexpr rep unknown_upper = std::numeric_limits<rep>::max();
    static constexpr rep unknown = std::numeric_limits<rep>::min();

    // splitmix64, to [0, 1).
    static double unit_from(std::uint64_t z) noexcept {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
    }

    session_keeper_options options_{};
    std::uint64_t seed_;
    std::atomic<rep> activity_{unknown};
    std::atomic<rep> upper_{unknown_upper};
    std::atomic<rep> lower_{0};
    std::mutex learn_mutex_;
};

namespace detail {

template <class K, class = void>
struct keeper_has_enabled : std::false_type {};
template <class K>
struct keeper_has_enabled<K, std::void_t<decltype(K::enabled)>>
    : std::is_convertible<decltype(K::enabled), bool> {};

template <class K, class = void>
struct keeper_is_enabled : std::false_type {};
template <class K>
struct keeper_is_enabled<K, std::enable_if_t<keeper_has_enabled<K>::value>> : std::bool_constant<bool(K::enabled)> {};

// One trait per requirement of an enabled keeper, so that a diagnostic can name the one missing.
template <class K, class = void>
struct keeper_has_options : std::false_type {};
template <class K>
struct keeper_has_options<K, std::void_t<decltype(std::declval<const K&>().options())>>
    : std::is_convertible<decltype(std::declval<const K&>().options()), const session_keeper_options&> {};

template <class K, class = void>
struct keeper_has_due : std::false_type {};
template <class K>
struct keeper_has_due<K, std::void_t<decltype(std::declval<const K&>().due(std::declval<time_point>())),
                                     decltype(std::declval<const K&>().next_due()),
                                     decltype(std::declval<const K&>().idle(std::declval<time_point>()))>>
    : std::bool_constant<std::is_convertible_v<decltype(std::declval<const K&>().due(std::declval<time_point>())), bool> &&
                         std::is_convertible_v<decltype(std::declval<const K&>().next_due()), time_point> &&
                         std::is_convertible_v<decltype(std::declval<const K&>().idle(std::declval<time_point>())),
                                               duration>> {};

template <class K, class = void>
struct keeper_has_sends : std::false_type {};
template <class K>
struct keeper_has_sends<K, std::void_t<decltype(std::declval<K&>().begin_send(std::declval<time_point>())),
                                       decltype(std::declval<K&>().end_send(std::declval<const keeper_ticket&>(), true)),
                                       decltype(std::declval<K&>().session_opened(std::declval<time_point>()))>>
    : std::bool_constant<
          std::is_convertible_v<decltype(std::declval<K&>().begin_send(std::declval<time_point>())), keeper_ticket> &&
          std::is_convertible_v<decltype(std::declval<K&>().end_send(std::declval<const keeper_ticket&>(), true)),
                                bool>> {};

template <class K>
struct is_session_keeper_impl
    : std::bool_constant<keeper_has_enabled<K>::value &&
                         (!keeper_is_enabled<K>::value ||
                          (keeper_has_options<K>::value && keeper_has_due<K>::value && keeper_has_sends<K>::value))> {};

/// `value` is `is_session_keeper_v<K>`; instantiating it names the first requirement `K` misses
/// in a static_assert (the C++17 diagnostics of the clients).
template <class K>
struct session_keeper_requirements {
    static_assert(keeper_has_enabled<K>::value,
                  "SessionKeeper: needs static constexpr bool enabled (no_session_keeper, or session_keeper)");
    static_assert(!keeper_is_enabled<K>::value || keeper_has_options<K>::value,
                  "SessionKeeper: needs const session_keeper_options& options() const");
    static_assert(!keeper_is_enabled<K>::value || keeper_has_due<K>::value,
                  "SessionKeeper: needs bool due(time_point) const, time_point next_due() const and duration "
                  "idle(time_point) const");
    static_assert(!keeper_is_enabled<K>::value || keeper_has_sends<K>::value,
                  "SessionKeeper: needs keeper_ticket begin_send(time_point), bool end_send(const keeper_ticket&, "
                  "bool session_lost) and session_opened(time_point)");
    static constexpr bool value = is_session_keeper_impl<K>::value;
};

/// The action a keeper of a client whose requests are `Request` performs: `ping` needs a ping
/// request (`ping_request_traits`), else it is `reinitialize`.
template <class Request>
constexpr keeper_action effective_action(keeper_action configured) noexcept {
    if constexpr (ping_request_traits<Request>::available) return configured;
    else {
        (void)configured;
        return keeper_action::reinitialize;
    }
}

/// Per transport: at most one keeper action (a ping, or the re-initialize it leads to) in flight;
/// and the one caller that reports a keeper re-initialize of a given generation to the observer.
class keeper_gate {
public:
    bool try_begin() noexcept { return !busy_.exchange(true, std::memory_order_acq_rel); }
    void end() noexcept { busy_.store(false, std::memory_order_release); }
    bool busy() const noexcept { return busy_.load(std::memory_order_acquire); }
    /// Whether this caller is the first to re-initialize away from `generation` for the keeper.
    bool claim_reinitialize(std::uint64_t generation) noexcept {
        std::uint64_t seen = claimed_.load(std::memory_order_relaxed);
        while (seen <= generation) {
            if (claimed_.compare_exchange_weak(seen, generation + 1, std::memory_order_acq_rel)) return true;
        }
        return false;
    }

private:
    std::atomic<bool> busy_{false};
    std::atomic<std::uint64_t> claimed_{0};
};

/// Releases a `keeper_gate` when the scope ends, exceptions included.
struct keeper_gate_guard {
    keeper_gate& gate;
    ~keeper_gate_guard() { gate.end(); }
};

}  // namespace detail

/// Whether `K` meets the SessionKeeper requirements: `K::enabled`; and when it is true,
/// `options()`, `due(now)`, `next_due()`, `idle(now)`, `begin_send(now)`, `end_send(ticket, lost)`
/// and `session_opened(now)` as `session_keeper` has them.
template <class K>
struct is_session_keeper : detail::is_session_keeper_impl<K> {};
template <class K>
inline constexpr bool is_session_keeper_v = is_session_keeper<K>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The SessionKeeper requirements as a concept (named so, as `session_keeper` is the model).
template <class K>
concept session_keeper_policy =
    requires { { K::enabled } -> std::convertible_to<bool>; } &&
    (!bool(K::enabled) || requires(K& k, const K& ck, time_point t, const keeper_ticket& ticket) {
        { ck.options() } -> std::convertible_to<const session_keeper_options&>;
        { ck.due(t) } -> std::convertible_to<bool>;
        { ck.next_due() } -> std::convertible_to<time_point>;
        { ck.idle(t) } -> std::convertible_to<duration>;
        { k.begin_send(t) } -> std::convertible_to<keeper_ticket>;
        { k.end_send(ticket, true) } -> std::convertible_to<bool>;
        k.session_opened(t);
    });
#endif

static_assert(is_session_keeper_v<no_session_keeper>, "no_session_keeper must model SessionKeeper");
static_assert(is_session_keeper_v<session_keeper>, "session_keeper must model SessionKeeper");

}  // namespace mcp_recovery

#endif
