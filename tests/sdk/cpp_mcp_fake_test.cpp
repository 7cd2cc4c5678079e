// examples/wrappers/cpp_mcp_wrapper.hpp (the hkr04/cpp-mcp wrapper docs/wrapping-clients.md shows)
// compiled against our fake of the SDK's interface (tests/sdk/fakes/cpp_mcp: mcp::sse_client,
// mcp::mcp_exception, mcp::json; standard library only), whose scripted server raises the
// messages the real client raises. Always built (CI): the documented code cannot rot. The real
// SDK against real servers: cpp_mcp_sdk_test.cpp.
#include "cpp_mcp_wrapper.hpp"

#include "catch.hpp"
#include "fake_cpp_mcp_server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using cpp_mcp_fake::stale;
using mcp_recovery::errc;

const mcp_recovery_wrappers::cpp_mcp_sdk::rpc_request tools_list{"tools/list", mcp::json::object()};

mcp_recovery_wrappers::cpp_mcp_sdk::rpc_request count(const std::string& key) { return mcp_recovery_wrappers::cpp_mcp_sdk::tool_call("count", {{"key", key}}); }

/// A fake server at a URL of its own, and the documented client connected to it.
struct fixture {
    explicit fixture(const std::string& name)
        : url("http://" + name + ".fake-cpp-mcp.test:8888"),
          server(cpp_mcp_fake::server::create(url)),
          client(mcp_recovery_wrappers::cpp_mcp_sdk::make_client(mcp_recovery_wrappers::cpp_mcp_sdk::options{url})) {}

    std::string url;
    std::shared_ptr<cpp_mcp_fake::server> server;
    mcp_recovery_wrappers::cpp_mcp_sdk::client_type<> client;
};

}  // namespace

TEST_CASE("cpp_mcp wrapper (fake SDK): the first connect initializes, calls pass through", "[sdk][cpp_mcp][fake]") {
    fixture f("plain");
    CHECK(f.server->initializes() == 1);
    auto r = f.client.try_call(tools_list);
    REQUIRE(r);
    CHECK(r->contains("tools"));
    CHECK(f.client.observer().reconnects() == 0);
}

TEST_CASE("cpp_mcp wrapper (fake SDK): after a restart the next call recovers, in both dialects",
          "[sdk][cpp_mcp][fake]") {
    const stale how = GENERATE(stale::parse_error, stale::text_body, stale::not_initialized);
    CAPTURE(how == stale::parse_error ? "-32700 type_error.305"
                                      : how == stale::text_body ? "-32700 parse_error.101" : "-32600 Session not initialized");
    fixture f(how == stale::parse_error ? "restart-305" : how == stale::text_body ? "restart-101" : "restart-uninit");
    REQUIRE(f.client.try_call(tools_list));

    f.server->restart(how);
    auto r = f.client.try_call(tools_list);
    REQUIRE(r);
    CHECK(f.client.observer().reconnects() == 1);
    CHECK(f.client.observer().failures(mcp_recovery::failure_kind::session_expired) == 1);
    CHECK(f.server->initializes() == 2);
    CHECK(f.client.try_call(tools_list));
    CHECK(f.client.observer().reconnects() == 1);
}

TEST_CASE("cpp_mcp wrapper (fake SDK): 8 threads after a restart cost one reconnect", "[sdk][cpp_mcp][fake]") {
    fixture f("threads");
    REQUIRE(f.client.try_call(tools_list));
    f.server->restart();

    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            if (f.client.try_call(tools_list)) ok.fetch_add(1);
        });
    for (auto& t : threads) t.join();
    CHECK(ok.load() == 8);
    CHECK(f.client.observer().reconnects() == 1);
    CHECK(f.server->initializes() == 2);
}

TEST_CASE("cpp_mcp wrapper (fake SDK): a tools/call after a restart runs exactly once", "[sdk][cpp_mcp][fake]") {
    const stale how = GENERATE(stale::parse_error, stale::text_body, stale::not_initialized);
    fixture f(how == stale::parse_error ? "once-305" : how == stale::text_body ? "once-101" : "once-uninit");
    REQUIRE(f.client.try_call(count("warm-up")));
    f.server->restart(how);

    auto r = f.client.try_call(count("after-restart"));
    REQUIRE(r);  // the server refused it without running it (a lost session): replayed once
    CHECK(f.server->executions("after-restart") == 1);
    CHECK(f.client.observer().reconnects() == 1);
}

TEST_CASE("cpp_mcp wrapper (fake SDK): server down fails safely (not sent), then up recovers",
          "[sdk][cpp_mcp][fake]") {
    fixture f("down");
    REQUIRE(f.client.try_call(tools_list));
    f.server->stop();

    // "Could not establish connection": not sent, so even a tools/call may go again; the
    // reconnect fails too (the server is down), which ends the call.
    auto down = f.client.try_call(count("while-down"));
    REQUIRE_FALSE(down);
    CHECK(down.error().code == errc::reconnect_failed);
    REQUIRE(down.error().last_failure);  // the reconnect's: "the reconnect callable returned false"
    CHECK(down.error().last_failure->message.str() == "mcp_recovery::callable: the reconnect callable returned false");
    const auto sent = f.client.observer().last_failure();  // the send's
    REQUIRE(sent);
    CHECK(sent->message.str() == "Could not establish connection");
    CHECK(sent->delivered == mcp_recovery::delivery::not_sent);
    CHECK(f.client.observer().failures(mcp_recovery::failure_kind::connection_lost) == 1);
    CHECK(f.client.observer().reconnects_failed() == 1);
    CHECK(f.server->executions("while-down") == 0);

    // Up again (every session forgotten). The slot holds the client whose initialize failed: it
    // answers "Message endpoint not set" (not sent) at once, which asks for a new session.
    f.server->start();
    auto up = f.client.try_call(count("after-up"));
    REQUIRE(up);
    CHECK(f.server->executions("after-up") == 1);
    CHECK(f.client.observer().reconnects_succeeded() == 1);
    CHECK(f.client.try_call(tools_list));
}

TEST_CASE("cpp_mcp wrapper (fake SDK): a tools/call whose connection broke is not replayed",
          "[sdk][cpp_mcp][fake]") {
    fixture f("broken");
    REQUIRE(f.client.try_call(tools_list));
    f.server->break_after_next_call();

    auto r = f.client.try_call(count("broken"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->message.str() == "Failed to read connection");
    CHECK(r.error().last_failure->delivered == mcp_recovery::delivery::unknown);
    CHECK(f.server->executions("broken") == 1);
    CHECK(f.client.observer().reconnects() == 0);

    // The same failure on a tools/list (idempotent): replayed, after a reconnect (a lost connection).
    f.server->break_after_next_call();
    CHECK(f.client.try_call(tools_list));
    CHECK(f.client.observer().reconnects() == 1);
}
