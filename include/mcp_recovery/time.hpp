// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_TIME_HPP
#define MCP_RECOVERY_TIME_HPP

/// The library's time types, and arithmetic on them that cannot overflow.

#include <chrono>

namespace mcp_recovery {

/// The clock every deadline and wait in the library is expressed in.
using clock_type = std::chrono::steady_clock;
using duration = clock_type::duration;
using time_point = clock_type::time_point;

/// `now + d`, saturating at `time_point::max()` instead of overflowing.
inline time_point saturating_add(time_point now, duration d) noexcept {
    if (d <= duration::zero()) return now + d;
    if (now.time_since_epoch() > duration::max() - d) return time_point::max();
    return now + d;
}

}  // namespace mcp_recovery

#endif
