// Conan test package: recovers a call from an expired session with the in-memory transport and,
// with with_beast=True, builds a Streamable-HTTP transport.
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>
#if defined(TEST_WITH_BEAST)
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#endif

#include <chrono>
#include <cstdio>

int main() {
    using namespace mcp_recovery;
    recovering_client<testing::scripted_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<>, counting_observer>
        client{std::in_place};
    client.transport().expire_session();
    call_options options;
    options.timeout = std::chrono::seconds(10);
    auto result = client.try_call({"tools/list", "list"}, options);
    if (!result || client.observer().reconnects() != 1) {
        std::printf("mcp_recovery test_package: recovery failed\n");
        return 1;
    }
    std::printf("mcp_recovery test_package: recovered after %llu reconnect(s)\n",
                static_cast<unsigned long long>(client.observer().reconnects()));
#if defined(TEST_WITH_BEAST)
    beast::transport_options beast_options;
    beast_options.url = "http://127.0.0.1:1/mcp";
    beast::streamable_http_transport transport(beast_options);  // constructs only: nothing is sent
    std::printf("mcp_recovery test_package: beast transport for %s\n", beast_options.url.c_str());
#endif
    return 0;
}
