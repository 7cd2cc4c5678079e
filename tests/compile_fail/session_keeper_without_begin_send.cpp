// A session keeper that says it is enabled but misses a member the client calls.
// first-error c++17: SessionKeeper: needs keeper_ticket begin_send\(time_point\)
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: session_keeper_policy
// output c++20: k\.begin_send\(t\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

struct half_keeper {
    static constexpr bool enabled = true;
    mcp_recovery::session_keeper_options settings;
    const mcp_recovery::session_keeper_options& options() const noexcept { return settings; }
    bool due(mcp_recovery::time_point) const noexcept { return false; }
    mcp_recovery::time_point next_due() const noexcept { return mcp_recovery::time_point::max(); }
    mcp_recovery::duration idle(mcp_recovery::time_point) const noexcept { return {}; }
};

namespace mr = mcp_recovery;
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_session_keeper<half_keeper>>
    client{std::in_place};
