// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CLOCK_HPP
#define MCP_RECOVERY_CLOCK_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/time.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

/// The time source and the only way the library waits.
///
/// Requirements of a Clock `c` (all callable concurrently from many threads):
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `c.now()` | `time_point` | the current time |
/// | `c.sleep_until(t)` | | block the calling thread until `now() >= t` |
/// | `c.wait_until(lock, cv, t, pred)` | `bool` | like `cv.wait_until(lock, t, pred)`: returns `pred()` once it holds or `t` passed; `lock` holds the mutex `cv` is used with |
///
/// Policies never read the clock themselves; the client and the reconnector hand them times. Tests
/// substitute `testing::manual_clock` so that no test sleeps.
///
/// Models: `steady_clock_source` (the default), `testing::manual_clock`. Checked by `is_clock<C>`
/// and, in C++20, `concept clock<C>`.
struct steady_clock_source {
    time_point now() const noexcept { return clock_type::now(); }

    void sleep_until(time_point t) const {
        if (t == time_point::max()) t = now() + std::chrono::hours(24 * 365);
        std::this_thread::sleep_until(t);
    }

    template <class Predicate>
    bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point t,
                    Predicate pred) const {
        // Some standard libraries overflow when converting time_point::max() for the OS call.
        if (t == time_point::max()) {
            cv.wait(lock, pred);
            return true;
        }
        return cv.wait_until(lock, t, pred);
    }
};

namespace detail {

struct clock_wait_probe {
    bool operator()() const noexcept { return true; }
};

// One trait per requirement, so that a diagnostic can name the one that is not met.
template <class C, class = void>
struct has_now : std::false_type {};
template <class C>
struct has_now<C, std::void_t<decltype(std::declval<C&>().now())>>
    : std::is_convertible<decltype(std::declval<C&>().now()), time_point> {};

template <class C, class = void>
struct has_sleep_until : std::false_type {};
template <class C>
struct has_sleep_until<C, std::void_t<decltype(std::declval<C&>().sleep_until(std::declval<time_point>()))>>
    : std::true_type {};

template <class C, class = void>
struct has_wait_until : std::false_type {};
template <class C>
struct has_wait_until<C, std::void_t<decltype(std::declval<C&>().wait_until(
                             std::declval<std::unique_lock<std::mutex>&>(), std::declval<std::condition_variable&>(),
                             std::declval<time_point>(), clock_wait_probe{}))>>
    : std::is_convertible<decltype(std::declval<C&>().wait_until(std::declval<std::unique_lock<std::mutex>&>(),
                                                                 std::declval<std::condition_variable&>(),
                                                                 std::declval<time_point>(), clock_wait_probe{})),
                          bool> {};

template <class C>
struct is_clock_impl
    : std::bool_constant<has_now<C>::value && has_sleep_until<C>::value && has_wait_until<C>::value> {};

/// `value` is `is_clock_v<C>`; instantiating it names each missing member in a static_assert of
/// its own (the C++17 diagnostics of `recovering_client`).
template <class C>
struct clock_requirements {
    static_assert(has_now<C>::value, "Clock: needs time_point now()");
    static_assert(has_sleep_until<C>::value, "Clock: needs sleep_until(time_point)");
    static_assert(has_wait_until<C>::value,
                  "Clock: needs bool wait_until(std::unique_lock<std::mutex>&, std::condition_variable&, time_point, "
                  "Predicate)");
    static constexpr bool value = is_clock_impl<C>::value;
};

}  // namespace detail

/// Whether `C` meets the Clock requirements (the table above).
template <class C>
struct is_clock : detail::is_clock_impl<C> {};
template <class C>
inline constexpr bool is_clock_v = is_clock<C>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The Clock requirements as a concept; same requirements as `is_clock`. A type that does not
/// model it makes the compiler name the expression it misses.
template <class C>
concept clock = requires(C& c, time_point t, std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         detail::clock_wait_probe pred) {
    { c.now() } -> std::convertible_to<time_point>;
    c.sleep_until(t);
    { c.wait_until(lock, cv, t, pred) } -> std::convertible_to<bool>;
};
#endif

}  // namespace mcp_recovery

#endif
