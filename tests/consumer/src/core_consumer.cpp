// Consumer of the installed (or embedded) core: the README's example, with the shipped in-memory
// transport. Exits 0 when the call recovered from an expired session with one reconnect.
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>
// The std-only callable adapter ships with the core (same target, same install).
#if __has_include(<mcp_recovery/callable.hpp>)
#include <mcp_recovery/callable.hpp>
#endif

#include <chrono>
#include <cstdio>

int main() {
    using namespace mcp_recovery;
    using transport = testing::scripted_transport;
    recovering_client<transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      counting_observer>
        client{std::in_place};

    client.transport().expire_session();
    call_options options;
    options.timeout = std::chrono::seconds(10);
    auto result = client.try_call({"tools/list", "list"}, options);
    if (!result) {
        std::printf("core consumer: call failed: %s\n", result.error().code.message().c_str());
        return 1;
    }
    const auto reconnects = client.observer().reconnects();
    std::printf("core consumer: recovered on generation %llu after %llu reconnect(s)\n",
                static_cast<unsigned long long>(result->generation), static_cast<unsigned long long>(reconnects));
    return reconnects == 1 ? 0 : 1;
}
