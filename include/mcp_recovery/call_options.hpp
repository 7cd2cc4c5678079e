// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALL_OPTIONS_HPP
#define MCP_RECOVERY_CALL_OPTIONS_HPP

/// The settings of a call (`call_options`) and of a client (`client_options`).

#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/time.hpp"

#include <chrono>
#include <optional>

namespace mcp_recovery {

/// Per-call settings. The defaults suit most calls: no deadline, idempotency from the method.
struct call_options {
    /// No attempt starts, and no wait runs, past this point. `time_point::max()`: none.
    time_point deadline = time_point::max();
    /// Alternative to `deadline`, counted from the start of the call (the earlier of both wins).
    std::optional<duration> timeout;
    /// Overrides the idempotency derived from the method.
    mcp_recovery::idempotency idempotency = idempotency::automatic;
    /// The tool's annotations from `tools/list`, for `tools/call`.
    std::optional<tool_annotations> annotations;
};

/// Settings of the client itself (the policies have their own).
struct client_options {
    /// A server's Retry-After is honoured up to this long; longer hints are clamped to it.
    duration max_server_wait = std::chrono::seconds(60);
};

/// `options.deadline`, or `now + options.timeout` when that is earlier (`clock.now()` is read only
/// when a timeout is set).
template <class Clock>
time_point effective_deadline(const call_options& options, Clock& clock) {
    time_point deadline = options.deadline;
    if (options.timeout) {
        const time_point by_timeout = saturating_add(clock.now(), *options.timeout);
        if (by_timeout < deadline) deadline = by_timeout;
    }
    return deadline;
}

}  // namespace mcp_recovery

#endif
