#pragma once
// Exporting counting_observer's counters, e.g. to Prometheus, StatsD or a health endpoint.
#include <mcp_recovery/observer.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace app {

inline std::map<std::string, std::uint64_t> recovery_metrics(const mcp_recovery::counting_observer& o) {
    namespace mr = mcp_recovery;
    return {
        {"mcp_failures_total", o.failures()},
        {"mcp_sessions_lost_total", o.failures(mr::failure_kind::session_expired)},
        {"mcp_throttled_total", o.failures(mr::failure_kind::throttled)},
        {"mcp_reconnects_total", o.reconnects()},
        {"mcp_reconnects_failed_total", o.reconnects_failed()},
        {"mcp_retries_total", o.retries()},
        {"mcp_recovered_total", o.recovered()},
        {"mcp_gave_up_total", o.give_ups()},
        {"mcp_outcome_unknown_total", o.give_ups(mr::errc::not_replayable)},
    };
}

}  // namespace app
