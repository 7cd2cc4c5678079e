// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BACKOFF_POLICY_HPP
#define MCP_RECOVERY_BACKOFF_POLICY_HPP

/// BackoffPolicy: how long to wait before the next attempt.
///
/// A backoff policy is a value type. The client holds a prototype and copies it fresh for each call
/// (and calls `reseed` on the copy when the policy has one, so that copies of one prototype do not
/// jitter in lockstep). Policies never read a clock, never sleep and never do I/O: the client
/// sleeps, and bounds every sleep by the call's deadline.
///
/// Requirements, for a value `b` of type `B&`:
///
/// | Expression       | Type                   | Semantics                                          |
/// |------------------|------------------------|----------------------------------------------------|
/// | `B(b)`           |                        | copy: a fresh per-call policy from the prototype    |
/// | `b.next_delay()` | convertible to duration| the wait before the next attempt; never negative    |
/// | `b.reset()`      |                        | the next `next_delay()` is the first step again      |
/// | `b.reseed(s)`    |                        | optional; `s` is a `std::uint64_t`: a new random stream |
///
/// Models: `no_backoff` (the default), `exponential_backoff`.
/// Checked by `is_backoff_policy<B>` and, in C++20, `concept backoff_policy<B>`.
/// `reseed_backoff(b, seed)` calls `b.reseed(seed)` when `B` has it and does nothing otherwise.

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

namespace detail {

template <class T, class = void>
struct has_next_delay : std::false_type {};

template <class T>
struct has_next_delay<T, std::void_t<decltype(std::declval<T&>().next_delay())>>
    : std::is_convertible<decltype(std::declval<T&>().next_delay()), duration> {};

template <class T, class = void>
struct has_reset : std::false_type {};

template <class T>
struct has_reset<T, std::void_t<decltype(std::declval<T&>().reset())>> : std::true_type {};

/// `value` is `is_backoff_policy_v<T>`; instantiating it names each unmet requirement in a
/// static_assert of its own (the C++17 diagnostics of `recovering_client`).
template <class T>
struct backoff_policy_requirements {
    static_assert(std::is_copy_constructible_v<T>,
                  "BackoffPolicy: needs a copy constructor (the client copies the prototype for each call)");
    static_assert(has_next_delay<T>::value, "BackoffPolicy: needs duration next_delay()");
    static_assert(has_reset<T>::value, "BackoffPolicy: needs reset()");
    static constexpr bool value =
        std::is_copy_constructible_v<T> && has_next_delay<T>::value && has_reset<T>::value;
};

}  // namespace detail

/// Whether `T` meets the BackoffPolicy requirements (see the table at the top of this header).
///
/// Usable as `static_assert(is_backoff_policy_v<B>, "BackoffPolicy type requirements not met");`
template <class T>
struct is_backoff_policy
    : std::bool_constant<std::is_copy_constructible_v<T> && detail::has_next_delay<T>::value &&
                         detail::has_reset<T>::value> {};

template <class T>
inline constexpr bool is_backoff_policy_v = is_backoff_policy<T>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The BackoffPolicy requirements as a concept; same requirements as `is_backoff_policy`.
template <class T>
concept backoff_policy = std::is_copy_constructible_v<T> && requires(T& b) {
    { b.next_delay() } -> std::convertible_to<duration>;
    b.reset();
};
#endif

/// Whether `T` has the optional `reseed(std::uint64_t)` member of a BackoffPolicy.
template <class T, class = void>
struct has_reseed : std::false_type {};

template <class T>
struct has_reseed<T, std::void_t<decltype(std::declval<T&>().reseed(std::declval<std::uint64_t>()))>>
    : std::true_type {};

template <class T>
inline constexpr bool has_reseed_v = has_reseed<T>::value;

/// Gives a per-call copy its own random stream: `b.reseed(seed)` when the policy has it, else nothing.
template <class Backoff>
void reseed_backoff(Backoff& b, std::uint64_t seed) {
    if constexpr (has_reseed_v<Backoff>) {
        b.reseed(seed);
    } else {
        (void)b;
        (void)seed;
    }
}

/// A fresh seed for a backoff copy: distinct on every call (a process-wide counter mixed with the
/// start time), so that copies of one prototype, in one process or many, do not jitter in lockstep
/// (which would bring a herd back at the same instant).
inline std::uint64_t fresh_backoff_seed() noexcept {
    static std::atomic<std::uint64_t> counter{0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(
                                                  std::chrono::steady_clock::now().time_since_epoch().count())};
    std::uint64_t z = counter.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// Never waits: every `next_delay()` is zero. The default, and what session recovery wants (the
/// reconnect itself is the pause).
struct no_backoff {
    constexpr duration next_delay() const noexcept { return duration::zero(); }
    constexpr void reset() const noexcept {}
};

/// How an exponential backoff spreads its delays.
enum class jitter : unsigned char {
    none,          ///< `min(cap, initial * multiplier^n)`: exact, so callers that fail together retry together.
    full,          ///< uniform in `[0, min(cap, initial * multiplier^n)]` (the AWS "full jitter").
    decorrelated,  ///< uniform in `[initial, min(cap, previous * 3)]`, previous starting at initial (AWS).
};

namespace detail {

/// The SplitMix64 finaliser: spreads neighbouring seeds (0, 1, 2, ...) over unrelated streams.
/// Without it, an LCG such as minstd_rand seeded with 1 and 2 starts with near-identical draws.
constexpr std::uint64_t mix_seed(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

template <class R, class = void>
struct has_value_seed : std::false_type {};

template <class R>
struct has_value_seed<R, std::void_t<decltype(std::declval<R&>().seed(std::declval<typename R::result_type>()))>>
    : std::true_type {};

/// A uniform integer in `[0, n]` from the raw output of a UniformRandomBitGenerator.
///
/// Written here rather than taken from `std::uniform_int_distribution` so that the result is the
/// same with every standard library and the bounds hold exactly. The method is the classic one
/// (scale down with rejection, or compose several draws and reject): unbiased.
///
/// `budget` bounds the number of rejected draws for one value. A working generator runs out of it
/// with probability below 2^-64; a broken or constant one (as tests inject) then gets the
/// nearest in-range value instead of a loop that never ends. Either way the result is in `[0, n]`.
template <class Random>
std::uint64_t uniform_up_to(Random& g, std::uint64_t n, int& budget) {
    using result_type = typename Random::result_type;
    static_assert(std::is_unsigned_v<result_type> && std::numeric_limits<result_type>::digits <= 64,
                  "the random source must produce unsigned values of at most 64 bits");
    constexpr std::uint64_t g_min = static_cast<std::uint64_t>((Random::min)());
    constexpr std::uint64_t g_range = static_cast<std::uint64_t>((Random::max)()) - g_min;
    static_assert(g_range > 0, "the random source must be able to produce more than one value");

    if (g_range == n) {
        return static_cast<std::uint64_t>(g()) - g_min;
    }
    if (g_range > n) {
        // More values than needed: equal buckets of `scale` raw values; reject the remainder.
        const std::uint64_t values = n + 1;  // no overflow: n < g_range
        const std::uint64_t scale = g_range / values;
        const std::uint64_t past = values * scale;
        for (;;) {
            const std::uint64_t raw = static_cast<std::uint64_t>(g()) - g_min;
            if (raw < past) return raw / scale;
            if (budget <= 0) {
                const std::uint64_t r = raw / scale;
                return r < n ? r : n;
            }
            --budget;
        }
    }
    if constexpr (g_range < std::numeric_limits<std::uint64_t>::max()) {
        // Fewer values than needed: a high digit from a recursive draw, a low digit from one raw draw.
        constexpr std::uint64_t base = g_range + 1;
        for (;;) {
            const std::uint64_t high = base * uniform_up_to(g, n / base, budget);  // <= n
            const std::uint64_t value = high + (static_cast<std::uint64_t>(g()) - g_min);
            const bool wrapped = value < high;
            if (!wrapped && value <= n) return value;
            if (budget <= 0) return n;  // every rejected value lies above n
            --budget;
        }
    } else {
        return n;  // unreachable: a full 64-bit generator has g_range >= n
    }
}

template <class Random>
std::uint64_t uniform_up_to(Random& g, std::uint64_t n) {
    int budget = 64;
    return uniform_up_to(g, n, budget);
}

}  // namespace detail

/// Exponential backoff with jitter: how long to wait before attempt n+1.
///
/// Parameters: `initial` delay (>= 0), `multiplier` (finite, >= 1), `cap` on any one delay
/// (>= initial) and the `jitter` mode. Defaults: 100 ms, 2.0, 10 s, `jitter::full`.
/// Step n (0 for the first call after construction or `reset()`) is `initial * multiplier^n`,
/// capped. `none` waits exactly the step; `full` waits a uniform time in `[0, step]`;
/// `decorrelated` waits a uniform time in `[initial, min(cap, previous * 3)]`, where previous is
/// the last delay (initially `initial`); it grows by the factor 3 of the AWS recipe and does not use
/// `multiplier`. An `initial` of zero with `decorrelated` always waits zero.
///
/// Overflow-safe: steps are computed in floating point and stop growing once they reach the cap, so
/// any number of calls, a huge multiplier or a cap of `duration::max()` never wraps or goes negative.
/// Delays are whole clock ticks; bounds hold exactly.
///
/// `Random` is a UniformRandomBitGenerator (unsigned results of at most 64 bits). Only its raw
/// output is used, so a given seed gives the same delays with every standard library. A
/// default-constructed `Random` is default-seeded: copies of one prototype draw the same stream
/// until `reseed` gives each its own, which the client does for every per-call copy.
///
/// Not thread-safe: one copy per call. Invalid parameters throw `std::invalid_argument`.
template <class Random = std::minstd_rand>
class basic_exponential_backoff {
    using rep = duration::rep;
    static_assert(std::is_integral_v<rep> && std::is_signed_v<rep>, "duration must count integral ticks");

public:
    using random_type = Random;

    /// 100 ms, doubling, capped at 10 s, full jitter.
    basic_exponential_backoff() : basic_exponential_backoff(std::chrono::milliseconds(100)) {}

    explicit basic_exponential_backoff(duration initial, double multiplier = 2.0,
                                       duration cap = std::chrono::seconds(10), jitter mode = jitter::full)
        : basic_exponential_backoff(initial, multiplier, cap, mode, Random()) {}

    /// As above, with a given random source (a seeded engine, or a scripted one in tests).
    basic_exponential_backoff(duration initial, double multiplier, duration cap, jitter mode, Random random)
        : initial_(validate(initial, multiplier, cap)),
          cap_(cap),
          multiplier_(multiplier),
          mode_(mode),
          random_(std::move(random)) {
        reset();
    }

    /// The wait before the next attempt, in `[0, cap()]`; advances to the next step.
    duration next_delay() {
        const rep cap = cap_.count();
        if (mode_ == jitter::decorrelated) {
            const rep low = initial_.count();
            const rep high = previous_ > cap / 3 ? cap : (previous_ * 3 < cap ? previous_ * 3 : cap);
            const rep span = high - low;  // >= 0: previous_ >= initial_ and cap >= initial_
            previous_ = low + static_cast<rep>(detail::uniform_up_to(random_, static_cast<std::uint64_t>(span)));
            return duration(previous_);
        }

        const rep step = step_ticks();
        if (!at_cap_) {
            step_ *= multiplier_;
            // Stop multiplying once at the cap. A product past the cap (even +inf, from a huge
            // multiplier) is never converted: step_ticks() returns the cap for it.
            if (!(step_ < static_cast<double>(cap))) at_cap_ = true;
        }
        if (mode_ == jitter::none) return duration(step);
        return duration(static_cast<rep>(detail::uniform_up_to(random_, static_cast<std::uint64_t>(step))));
    }

    /// Back to the first step. Does not rewind the random source.
    void reset() noexcept {
        step_ = static_cast<double>(initial_.count());
        at_cap_ = !(step_ < static_cast<double>(cap_.count()));
        previous_ = initial_.count();
    }

    /// Gives this copy its own random stream, derived from `seed`. Does nothing when `Random` has
    /// no `seed(result_type)` member. Neighbouring seeds give unrelated streams.
    void reseed(std::uint64_t seed) {
        if constexpr (detail::has_value_seed<Random>::value) {
            using result_type = typename Random::result_type;
            random_.seed(static_cast<result_type>(detail::mix_seed(seed)));
        } else {
            (void)seed;
        }
    }

    duration initial() const noexcept { return initial_; }
    double multiplier() const noexcept { return multiplier_; }
    duration cap() const noexcept { return cap_; }
    jitter jitter_mode() const noexcept { return mode_; }
    Random& random() noexcept { return random_; }
    const Random& random() const noexcept { return random_; }

private:
    static duration validate(duration initial, double multiplier, duration cap) {
        if (initial < duration::zero()) {
            throw std::invalid_argument("mcp_recovery::exponential_backoff: the initial delay must not be negative");
        }
        if (cap < initial) {
            throw std::invalid_argument(
                "mcp_recovery::exponential_backoff: the cap must not be less than the initial delay");
        }
        if (!(multiplier >= 1.0) || !std::isfinite(multiplier)) {  // also rejects NaN
            throw std::invalid_argument(
                "mcp_recovery::exponential_backoff: the multiplier must be a finite number >= 1");
        }
        return initial;
    }

    // The current step in ticks, clamped to the cap before it is converted, so that the conversion
    // from double is always in range.
    rep step_ticks() const noexcept {
        const rep cap = cap_.count();
        if (at_cap_ || !(step_ < static_cast<double>(cap))) return cap;
        const rep ticks = static_cast<rep>(step_);  // 0 <= step_ < cap <= rep max: in range
        return ticks < cap ? ticks : cap;
    }

    duration initial_;
    duration cap_;
    double multiplier_;
    jitter mode_;
    Random random_;
    double step_ = 0.0;     // none, full: the current step in ticks, < cap unless at_cap_
    bool at_cap_ = false;   // none, full: the step reached the cap and stays there
    rep previous_ = 0;      // decorrelated: the last delay in ticks
};

/// Exponential backoff with the default random source (`std::minstd_rand`).
using exponential_backoff = basic_exponential_backoff<>;

/// A server's "wait this long" hint (Retry-After, SSE `retry:`) bounded to `[0, max_wait]`.
///
/// The server controls the hint: a negative one means "now", a huge one is cut to what the client
/// is willing to wait. A negative `max_wait` is taken as zero.
constexpr duration clamp_server_hint(duration hint, duration max_wait) noexcept {
    if (max_wait < duration::zero()) max_wait = duration::zero();
    if (hint < duration::zero()) return duration::zero();
    return hint < max_wait ? hint : max_wait;
}

static_assert(is_backoff_policy_v<no_backoff>, "no_backoff must model BackoffPolicy");
static_assert(is_backoff_policy_v<exponential_backoff>, "exponential_backoff must model BackoffPolicy");

}  // namespace mcp_recovery

#endif
