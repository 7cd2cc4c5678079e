// Testing your application against a real Streamable-HTTP server that misbehaves on cue.
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/beast/testing/flaky_server.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include "catch.hpp"

namespace {

namespace mr = mcp_recovery;
namespace fs = mcp_recovery::beast::testing;

struct app_fixture {
    fs::flaky_server server;  // 127.0.0.1, a free port, an I/O thread of its own
    mr::recovering_client<mr::beast::streamable_http_transport> client{std::in_place, [this] {
        mr::beast::transport_options o;
        o.url = server.url();
        return o;
    }()};
};

// count: a tool that is not idempotent; the server counts how often it really ran.
const mr::beast::request count_orders{"tools/call", R"({"name":"count","arguments":{"key":"orders"}})"};

}  // namespace

TEST_CASE("a server restart costs one initialize, and the write runs once", "[docs][testing-kit][beast]") {
    app_fixture f;
    REQUIRE(f.client.transport().connect());

    f.server.restart();  // forgets every session and closes every connection
    auto result = f.client.try_call(count_orders);

    REQUIRE(result);
    CHECK(f.server.initializes() == 2);
    CHECK(f.server.executions("orders") == 1);  // the lost-session answer did not run it
}

TEST_CASE("a connection reset after the tool ran: outcome unknown, not run twice", "[docs][testing-kit][beast]") {
    app_fixture f;
    REQUIRE(f.client.transport().connect());
    f.server.inject(fs::fault::reset_after_execute(), fs::fault_match::tool_call("count"));

    auto result = f.client.try_call(count_orders);

    REQUIRE_FALSE(result);
    CHECK(result.error().code == mr::errc::not_replayable);
    CHECK(f.server.executions("orders") == 1);
}
