// A backoff policy without next_delay().
// first-error c++17: BackoffPolicy: needs duration next_delay\(\)
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .backoff_policy<BackoffPolicy>.|does not satisfy .backoff_policy.
// output c++20: b\.next_delay\(\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

struct fixed_wait {
    mcp_recovery::duration delay() const { return std::chrono::milliseconds(100); }
    void reset() {}
};

namespace mr = mcp_recovery;
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_backoff_policy<fixed_wait>>
    client{std::in_place};
