// The control: the same shapes as the other cases, every requirement met. It must compile, so
// that a harness (compiler, flags, include path) that compiles nothing cannot pass the others.
// compiles
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/manual_clock.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <cstdint>
#include <string>
#include <system_error>

struct with_generation {
    using request_type = std::string;
    using response_type = std::string;
    mcp_recovery::outcome<std::string> send(const std::string& request) { return request; }
    mcp_recovery::outcome<void> reconnect() { return {}; }
    std::uint64_t generation() const noexcept { return 1; }
};

struct log_observer : mcp_recovery::null_observer {
    void on_give_up(std::error_code, const mcp_recovery::failure*) noexcept {}
};

namespace mr = mcp_recovery;
mr::recovering_client<with_generation> plain{std::in_place};
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_observer<log_observer>::with_clock<
                                                                  mr::testing::manual_clock>::with_retry_policy<mr::limited_attempts>>
    bundled{std::in_place};
