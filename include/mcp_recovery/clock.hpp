// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CLOCK_HPP
#define MCP_RECOVERY_CLOCK_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

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

template <class C, class = void>
struct is_clock_impl : std::false_type {};

template <class C>
struct is_clock_impl<
    C, std::void_t<decltype(std::declval<C&>().now()),
                   decltype(std::declval<C&>().sleep_until(std::declval<time_point>())),
                   decltype(std::declval<C&>().wait_until(std::declval<std::unique_lock<std::mutex>&>(),
                                                          std::declval<std::condition_variable&>(),
                                                          std::declval<time_point>(), clock_wait_probe{}))>>
    : std::bool_constant<
          std::is_convertible_v<decltype(std::declval<C&>().now()), time_point> &&
          std::is_convertible_v<decltype(std::declval<C&>().wait_until(
                                    std::declval<std::unique_lock<std::mutex>&>(),
                                    std::declval<std::condition_variable&>(), std::declval<time_point>(),
                                    clock_wait_probe{})),
                                bool>> {};

}  // namespace detail

/// Whether `C` meets the Clock requirements.
template <class C>
struct is_clock : detail::is_clock_impl<C> {};
template <class C>
inline constexpr bool is_clock_v = is_clock<C>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
template <class C>
concept clock = is_clock_v<C>;
#endif

/// `now + d`, saturating at `time_point::max()` instead of overflowing.
inline time_point saturating_add(time_point now, duration d) noexcept {
    if (d <= duration::zero()) return now + d;
    if (now.time_since_epoch() > duration::max() - d) return time_point::max();
    return now + d;
}

}  // namespace mcp_recovery

#endif
