// A retry policy whose decision has another name than on_failure.
// first-error c++17: RetryPolicy: needs bool on_failure\(const retry_context&\)
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .retry_policy<RetryPolicy>.|does not satisfy .retry_policy.
// output c++20: p\.on_failure\(c\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

struct retry_twice {
    bool should_retry(const mcp_recovery::retry_context& c) const { return c.attempt < 3; }
};

mcp_recovery::recovering_client<mcp_recovery::testing::scripted_transport, mcp_recovery::default_classifier, retry_twice>
    client{std::in_place};
