// A minimal recovering client over the in-memory transport; run by the test suite.
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <chrono>
#include <cstdio>

int main() {
    using namespace mcp_recovery;
    // Any type with send / reconnect / generation works; here, the shipped in-memory transport.
    using transport = testing::scripted_transport;
    recovering_client<transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<>, counting_observer> client{std::in_place};

    client.transport().expire_session();            // the server forgets our session...
    call_options options;
    options.timeout = std::chrono::seconds(10);     // one deadline for the whole call
    auto result = client.try_call({"tools/list", "list"}, options);

    if (!result) {
        std::printf("failed: %s\n", result.error().code.message().c_str());
        return 1;
    }
    std::printf("recovered on session generation %llu after %llu reconnect(s)\n",
                static_cast<unsigned long long>(result->generation),
                static_cast<unsigned long long>(client.observer().reconnects()));
    return client.observer().reconnects() == 1 ? 0 : 1;
}
