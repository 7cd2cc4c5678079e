// Interop: the Beast transport and recovering_client against real MCP servers we did not write,
// from npm (pinned in tests/interop/package-lock.json): a server on the official TypeScript SDK
// (404 -32001 for a lost session) and @modelcontextprotocol/server-everything (400 "No valid
// session ID provided"). Each server is started on 127.0.0.1 with an ephemeral port and stopped by
// PID. Needs `npm ci` in tests/interop (scripts/test.sh does it) and MCP_RECOVERY_INTEROP_DIR.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "child_process.hpp"

#include <cstdlib>
#include <memory>
#include <string>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using mcp_recovery_tests::child_process;
using namespace std::chrono_literals;

namespace {

std::string interop_dir() {
    const char* dir = std::getenv("MCP_RECOVERY_INTEROP_DIR");
    if (!dir || !*dir) FAIL("MCP_RECOVERY_INTEROP_DIR is not set (ctest sets it; run `npm ci` in tests/interop)");
    return dir;
}

/// A Node MCP server: started with `--port PORT`, ready when it prints `LISTENING <port>`.
class node_server {
public:
    node_server(std::string script, std::vector<std::string> extra = {}, std::uint16_t port = 0)
        : script_(std::move(script)), extra_(std::move(extra)) {
        start(port);
    }

    void start(std::uint16_t port) {
        std::vector<std::string> argv{"node", interop_dir() + "/" + script_, "--port", std::to_string(port)};
        argv.insert(argv.end(), extra_.begin(), extra_.end());
        process_ = std::make_unique<child_process>(argv);
        auto line = process_->wait_for("LISTENING ", 30s);
        if (!line) FAIL("the server " << script_ << " did not report LISTENING within 30 s");
        port_ = static_cast<std::uint16_t>(std::stoi(*line));
    }
    /// Kills the process (SIGTERM by PID) and starts a new one on the same port: every session is gone.
    void restart() {
        process_->stop();
        start(port_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

private:
    std::string script_;
    std::vector<std::string> extra_;
    std::unique_ptr<child_process> process_;
    std::uint16_t port_ = 0;
};

using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;

mb::transport_options options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 10s;
    o.read_timeout = 20s;
    return o;
}

std::string text_of(const mb::response& r) {
    auto content = mb::find_member(r.result(), "content");
    return content ? std::string(*content) : std::string(r.result());
}

mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}
mb::request executions_of(const std::string& key) {
    return {"tools/call", R"({"name":"executions","arguments":{"key":")" + key + R"("}})"};
}

}  // namespace

TEST_CASE("TypeScript SDK server: calls, DELETE-then-call and an unknown session recover", "[interop][ts_sdk]") {
    const bool json_mode = GENERATE(false, true);
    CAPTURE(json_mode);
    node_server server("ts_sdk_server.mjs", json_mode ? std::vector<std::string>{"--json"} : std::vector<std::string>{});
    client_type client{std::in_place, options_for(server.url())};
    auto& t = client.transport();
    REQUIRE(t.connect());
    CHECK_FALSE(t.session_id().empty());
    CHECK(t.protocol_version() == "2025-06-18");

    auto echo = client.try_call({"tools/call", R"({"name":"echo","arguments":{"text":"hello interop"}})"});
    REQUIRE(echo);
    REQUIRE_FALSE(echo->is_error());
    CHECK(text_of(*echo).find("hello interop") != std::string::npos);

    const std::string key = std::string("interop-ts-") + (json_mode ? "json" : "sse");
    SECTION("DELETE the session, then a non-idempotent call: one reconnect, executed exactly once") {
        const std::string old = t.session_id();
        REQUIRE(t.terminate());
        REQUIRE(t.adopt_session_id(old));
        auto r = client.try_call(count_call(key));
        REQUIRE(r);
        CHECK(client.observer().reconnects() == 1);
        auto last = client.observer().last_failure();
        REQUIRE(last);
        CHECK(last->http_status == 404);
        CHECK(last->jsonrpc_code == -32001);
        CHECK(last->message == "Session not found");
        CHECK(last->delivered == delivery::rejected);
        CHECK(client.observer().failures(failure_kind::session_expired) == 1);
        auto n = client.try_call(executions_of(key));
        REQUIRE(n);
        CHECK(text_of(*n).find("\"1\"") != std::string::npos);
        CHECK(t.session_id() != old);
    }
    SECTION("a session id the server never issued") {
        REQUIRE(t.adopt_session_id("00000000-dead-beef-0000-000000000000"));
        auto r = client.try_call({"tools/list", "{}"});
        REQUIRE(r);
        CHECK(client.observer().reconnects() == 1);
    }
    SECTION("the server process restarts mid-run: the client recovers without help") {
        REQUIRE(client.try_call(count_call(key)));
        server.restart();
        auto r = client.try_call(count_call(key));
        REQUIRE(r);
        CHECK(client.observer().reconnects() == 1);
        auto n = client.try_call(executions_of(key));
        REQUIRE(n);
        CHECK(text_of(*n).find("\"1\"") != std::string::npos);  // the new process ran it once
    }
}

TEST_CASE("server-everything: its 400 lost-session answer is recognised and recovered", "[interop][everything]") {
    node_server server("start_everything.mjs");
    client_type client{std::in_place, options_for(server.url())};
    auto& t = client.transport();
    REQUIRE(t.connect());
    auto echo = client.try_call({"tools/call", R"({"name":"echo","arguments":{"message":"hi"}})"});
    REQUIRE(echo);
    CHECK(text_of(*echo).find("Echo: hi") != std::string::npos);

    SECTION("DELETE then call") {
        const std::string old = t.session_id();
        REQUIRE(t.terminate());
        REQUIRE(t.adopt_session_id(old));
        auto r = client.try_call({"tools/call", R"({"name":"echo","arguments":{"message":"again"}})"});
        REQUIRE(r);
        CHECK(text_of(*r).find("Echo: again") != std::string::npos);
        auto last = client.observer().last_failure();
        REQUIRE(last);
        CHECK(last->http_status == 400);
        CHECK(last->message == "Bad Request: No valid session ID provided");
        CHECK(client.observer().failures(failure_kind::session_expired) == 1);
        CHECK(client.observer().reconnects() == 1);
    }
    SECTION("process restart") {
        server.restart();
        auto r = client.try_call({"tools/list", "{}"});
        REQUIRE(r);
        CHECK(client.observer().reconnects() == 1);
    }
    SECTION("protocol 2025-11-25: priming events with empty data are skipped") {
        mb::transport_options o = options_for(server.url());
        o.protocol_version = "2025-11-25";
        client_type c2{std::in_place, o};
        REQUIRE(c2.transport().connect());
        CHECK(c2.transport().protocol_version() == "2025-11-25");
        auto r = c2.try_call({"tools/call", R"({"name":"echo","arguments":{"message":"primed"}})"});
        REQUIRE(r);
        CHECK(text_of(*r).find("Echo: primed") != std::string::npos);
    }
}
