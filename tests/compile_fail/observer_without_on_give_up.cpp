// An observer that misses one hook (it does not derive from null_observer).
// first-error c++17: Observer: needs on_give_up\(std::error_code, const failure\*\)
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .observer<Observer>.|does not satisfy .observer.
// output c++20: o\.on_give_up\(ec, last\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <cstdint>
#include <system_error>

struct log_observer {
    void on_failure(const mcp_recovery::failure&, mcp_recovery::failure_kind, int) noexcept {}
    void on_reconnect_start(std::uint64_t) noexcept {}
    void on_reconnect_done(std::uint64_t, std::error_code, mcp_recovery::duration) noexcept {}
    void on_retry(mcp_recovery::failure_kind, int, mcp_recovery::duration) noexcept {}
    void on_recovered(int, mcp_recovery::duration) noexcept {}
};

namespace mr = mcp_recovery;
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_observer<log_observer>>
    client{std::in_place};
