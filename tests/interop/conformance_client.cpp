// A client for the official MCP conformance suite (@modelcontextprotocol/conformance), built on the
// Beast transport and recovering_client. The suite appends the server URL as the last argument and
// names the scenario in MCP_CONFORMANCE_SCENARIO. Exit 0 when the scenario's client side is done.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    using namespace mcp_recovery;
    namespace mb = mcp_recovery::beast;
    if (argc < 2) {
        std::fprintf(stderr, "usage: conformance_client URL (scenario in MCP_CONFORMANCE_SCENARIO)\n");
        return 2;
    }
    const char* env = std::getenv("MCP_CONFORMANCE_SCENARIO");
    const std::string scenario = env ? env : "";
    mb::transport_options o;
    o.url = argv[argc - 1];
    o.client_name = "mcp-recovery-conformance-client";
    o.client_version = "0.1.0";
    o.connect_timeout = std::chrono::seconds(10);
    o.read_timeout = std::chrono::seconds(10);
    try {
        recovering_client<mb::streamable_http_transport> client{std::in_place, o};
        if (auto c = client.transport().connect(); !c) {
            std::fprintf(stderr, "initialize failed: HTTP %d %s\n", c.error().http_status, c.error().message.str().c_str());
            return 1;
        }
        std::fprintf(stderr, "initialized: protocol %s\n", client.transport().protocol_version().c_str());
        if (scenario == "tools_call") {
            auto r = client.try_call({"tools/call", R"({"name":"add_numbers","arguments":{"a":5,"b":3}})"});
            if (!r || r->is_error()) {
                std::fprintf(stderr, "tools/call add_numbers failed\n");
                return 1;
            }
            std::fprintf(stderr, "add_numbers: %s\n", std::string(r->result()).c_str());
        }
        if (scenario == "sse-retry") {
            // The server ends the response stream after a priming event: the transport resumes it
            // with GET + Last-Event-ID after the server's retry interval.
            auto r = client.try_call({"tools/call", R"({"name":"test_reconnection","arguments":{}})"});
            if (!r || r->is_error()) {
                std::fprintf(stderr, "tools/call test_reconnection failed\n");
                return 1;
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "conformance_client: %s\n", e.what());
        return 1;
    }
}
