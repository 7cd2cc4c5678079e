// examples/wrappers/cxxmcp_wrapper.hpp compiled against OUR FAKE of caomengxuan666/cxxmcp's client
// (tests/sdk/fakes/cxxmcp: same headers, names and signatures as far as the wrapper uses them,
// returning the real SDK's errors as tests/sdk/cxxmcp_sdk_test.cpp observed them), driven by an
// in-process scripted server. Always built (CI): the wrapper the docs show cannot rot.
#include "cxxmcp_wrapper.hpp"

#include "catch.hpp"
#include "cxxmcp_fake/server.hpp"

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace mcp_recovery;
using cxxmcp_fake::dialect;
namespace wrap = mcp_recovery_wrappers::cxxmcp_sdk;

namespace {

using client_t = wrap::client<counting_observer>;

/// A fake server at a fresh URI, and the wrapped client connected to it.
struct fixture {
    explicit fixture(dialect d) : server(std::make_shared<cxxmcp_fake::server>(d)), uri(next_uri()) {
        cxxmcp_fake::network::listen(uri, server);
        mcp::client::HttpTransportOptions options;
        options.uri = uri;
        client = std::make_unique<client_t>(wrap::make_transport(options));
    }

    static std::string next_uri() {
        static std::atomic<int> n{0};
        return "http://fake-cxxmcp-" + std::to_string(n.fetch_add(1)) + "/mcp";
    }

    /// SIGKILL and start again on the same address: every session is gone.
    void restart() {
        server->crash();
        server->start();
    }

    std::uint64_t reconnects() { return client->observer().reconnects(); }

    std::shared_ptr<cxxmcp_fake::server> server;
    std::string uri;
    std::unique_ptr<client_t> client;
};

wrap::rpc_request tools_list() { return {"tools/list", mcp::protocol::Json::object()}; }

wrap::rpc_request count(const std::string& key) {
    mcp::protocol::Json params = mcp::protocol::Json::object();
    params["name"] = "count";
    params["key"] = key;
    return {"tools/call", params};
}

}  // namespace

TEST_CASE("cxxmcp fake, 404 dialect: after a restart the SDK re-initializes by itself; no reconnect of ours",
          "[sdk][cxxmcp][fake]") {
    fixture f(dialect::not_found_404);
    REQUIRE(f.client->try_call(tools_list()));
    f.restart();
    auto r = f.client->try_call(tools_list());
    REQUIRE(r);
    CHECK(r->contains("tools"));
    CHECK(f.reconnects() == 0);
    CHECK(f.server->sessions_opened() == 2);  // the SDK's own initialize after the 404
}

TEST_CASE("cxxmcp fake, 400 dialect: after a restart the next call reconnects once and succeeds",
          "[sdk][cxxmcp][fake]") {
    fixture f(dialect::bad_request_400);
    REQUIRE(f.client->try_call(tools_list()));
    f.restart();
    auto r = f.client->try_call(tools_list());
    REQUIRE(r);
    CHECK(r->contains("tools"));
    CHECK(f.reconnects() == 1);
    CHECK(f.client->observer().failures(failure_kind::session_expired) == 1);
    CHECK(f.server->sessions_opened() == 2);
}

TEST_CASE("cxxmcp fake, 400 dialect: 8 threads on the dead session, exactly 1 reconnect, 8/8 ok",
          "[sdk][cxxmcp][fake]") {
    fixture f(dialect::bad_request_400);
    REQUIRE(f.client->try_call(tools_list()));
    f.restart();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            if (f.client->try_call(tools_list())) ok.fetch_add(1);
        });
    for (std::thread& t : threads) t.join();
    CHECK(ok.load() == 8);
    CHECK(f.reconnects() == 1);
    CHECK(f.server->sessions_opened() == 2);
}

TEST_CASE("cxxmcp fake: a non-idempotent tools/call after a restart runs exactly once", "[sdk][cxxmcp][fake]") {
    const dialect d = GENERATE(dialect::not_found_404, dialect::bad_request_400);
    fixture f(d);
    REQUIRE(f.client->try_call(tools_list()));
    f.restart();
    const std::string key = d == dialect::not_found_404 ? "once-404" : "once-400";
    auto r = f.client->try_call(count(key));
    REQUIRE(r);
    CHECK(r->get("count") == "1");
    CHECK(f.server->executions(key) == 1);
    // 404: the SDK re-initialized and resent it itself (the 404 means it did not run); 400: ours.
    CHECK(f.reconnects() == (d == dialect::not_found_404 ? 0u : 1u));
}

TEST_CASE("cxxmcp fake: server down, the call fails with the connection failure, then recovery",
          "[sdk][cxxmcp][fake]") {
    const dialect d = GENERATE(dialect::not_found_404, dialect::bad_request_400);
    fixture f(d);
    REQUIRE(f.client->try_call(tools_list()));
    f.server->crash();

    // A refused connection: the client tries to reconnect (in vain) until the call's deadline.
    call_options bounded;
    bounded.timeout = std::chrono::milliseconds(200);
    auto down = f.client->try_call(tools_list(), bounded);
    REQUIRE_FALSE(down);
    REQUIRE(down.error().last_failure);
    CHECK(down.error().last_failure->message.view() == "http transport request failed");
    CHECK(down.error().last_failure->transport_error == std::errc::connection_refused);
    CHECK(f.client->observer().failures(failure_kind::connection_lost) >= 1);
    CHECK(f.client->observer().reconnects_succeeded() == 0);

    f.server->start();
    auto r = f.client->try_call(tools_list());
    REQUIRE(r);
    CHECK(r->contains("tools"));
    // 404: the old Client re-initialized by itself; 400: our reconnect built a new one.
    CHECK(f.client->observer().reconnects_succeeded() == (d == dialect::not_found_404 ? 0u : 1u));
    auto once = f.client->try_call(count("after-down"));
    REQUIRE(once);
    CHECK(f.server->executions("after-down") == 1);
}

TEST_CASE("cxxmcp fake: server down at the start, the first call connects", "[sdk][cxxmcp][fake]") {
    auto server = std::make_shared<cxxmcp_fake::server>(dialect::not_found_404);
    server->crash();
    const std::string uri = fixture::next_uri();
    cxxmcp_fake::network::listen(uri, server);
    mcp::client::HttpTransportOptions options;
    options.uri = uri;
    client_t client(wrap::make_transport(options));  // initialize failed: no client in the slot yet
    CHECK(server->sessions_opened() == 0);
    server->start();
    auto r = client.try_call(count("first"));
    REQUIRE(r);
    CHECK(server->executions("first") == 1);
    CHECK(client.observer().reconnects_succeeded() == 1);
}

TEST_CASE("cxxmcp fake: what the wrapper's translation and the classifier make of the SDK's errors",
          "[sdk][cxxmcp][fake]") {
    const callable::sdk_classifier c;
    // Sent on an initialized client (send), and the same from a failed initialize (reconnect).
    const auto sent = [](const mcp::core::Error& e) { return wrap::translate(e, true); };
    const auto init = [](const mcp::core::Error& e) { return wrap::translate(e, false); };

    // 404 that the SDK's own re-initialize did not cure.
    const failure terminated = sent(mcp::core::Error{-32600, "http transport session was terminated", "404", "transport"});
    CHECK(terminated.http_status == 404);
    CHECK(terminated.delivered == delivery::rejected);
    CHECK(c.classify(terminated).kind == failure_kind::session_expired);

    // server-everything's 400, whose body cxxmcp cannot read: a lost session only on a request
    // that carried a session id.
    const mcp::core::Error unread{-32603, "http transport request returned an error status", "400", "transport"};
    const failure unread_400 = sent(unread);
    CHECK(unread_400.http_status == 400);
    CHECK(unread_400.delivered == delivery::rejected);
    CHECK(c.classify(unread_400).kind == failure_kind::session_expired);
    CHECK(c.classify(init(unread)).kind == failure_kind::permanent);

    // A 400 body cxxmcp can read: its JSON-RPC error.
    const failure no_session = sent(mcp::core::Error{-32000, "Bad Request: No valid session ID provided", "", "protocol"});
    CHECK(c.classify(no_session).kind == failure_kind::session_expired);
    CHECK(c.classify(no_session).delivery_of(no_session) == delivery::rejected);
    const failure header_required =
        sent(mcp::core::Error{-32000, "Bad Request: Mcp-Session-Id header is required", "", "protocol"});
    CHECK(c.classify(header_required).kind == failure_kind::permanent);

    // Server down: refused, never sent.
    const failure refused =
        sent(mcp::core::Error{-32603, "http transport request failed", "Could not establish connection", "transport"});
    CHECK(refused.delivered == delivery::not_sent);
    CHECK(c.classify(refused).kind == failure_kind::connection_lost);
    const failure read_failed =
        sent(mcp::core::Error{-32603, "http transport request failed", "Failed to read connection", "transport"});
    CHECK(read_failed.delivered == delivery::unknown);
    CHECK(c.classify(read_failed).kind == failure_kind::connection_lost);

    const failure not_connected = wrap::not_connected();
    CHECK(not_connected.delivered == delivery::not_sent);
    CHECK(c.classify(not_connected).kind == failure_kind::connection_lost);

    // Other 400s and 500s.
    const failure other_500 =
        sent(mcp::core::Error{-32603, "http transport request returned an error status", "500", "transport"});
    CHECK(c.classify(other_500).kind == failure_kind::transient);
}
