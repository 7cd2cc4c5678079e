#pragma once
// A RetryPolicy: one reconnect per call, but patience with a busy server for up to 20 s.
#include <mcp_recovery/retry_policy.hpp>

#include <chrono>

namespace app {

class one_reconnect_then_patience {
public:
    bool on_failure(const mcp_recovery::retry_context& c) noexcept {
        switch (c.kind) {
        case mcp_recovery::failure_kind::session_expired:
        case mcp_recovery::failure_kind::connection_lost: return reconnects_++ == 0;
        default: return c.now - c.started < std::chrono::seconds(20);  // throttled, transient, unauthorized
        }
    }

private:
    int reconnects_ = 0;  // per call: the client copies the policy at each call's first failure
};

}  // namespace app
