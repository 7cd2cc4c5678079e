// Consumer of the Boost.Beast adapter (mcp_recovery::beast, or mcp_recovery::beast_tls when
// MCP_RECOVERY_BEAST_TLS is defined by that target): a transport against a port where nothing
// listens must fail to connect with "connection refused", and report that the request never left.
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

namespace {

int expect_refused(const std::string& url) {
    namespace mb = mcp_recovery::beast;
    mb::transport_options options;
    options.url = url;
    options.connect_timeout = std::chrono::seconds(5);
    mb::streamable_http_transport transport(options);
    auto connected = transport.connect();
    if (connected) {
        std::printf("beast consumer: %s: connected, expected a connection failure\n", url.c_str());
        return 1;
    }
    const auto& f = connected.error();
    const bool refused = f.transport_error == std::errc::connection_refused;
    const bool not_sent = f.delivered == mcp_recovery::delivery::not_sent;
    std::printf("beast consumer: %s: %s (delivery %s)\n", url.c_str(), f.transport_error.message().c_str(),
                std::string(mcp_recovery::to_string(f.delivered)).c_str());
    return refused && not_sent ? 0 : 1;
}

}  // namespace

int main() {
    int failures = expect_refused("http://127.0.0.1:1/mcp");
#if defined(MCP_RECOVERY_BEAST_TLS)
    failures += expect_refused("https://127.0.0.1:1/mcp");
#endif
    return failures == 0 ? 0 : 1;
}
