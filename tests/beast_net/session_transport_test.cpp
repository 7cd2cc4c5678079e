// The synchronous transport's session-level members over real loopback HTTP: a session that
// outlives its connections, reconnect bounded by a deadline, reopen (one new connection, the
// session untouched), and a lost session answered in band (a 200 carrying the lost-session error).
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/transport.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"
#include "test_support.hpp"

#include <chrono>
#include <string>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

static_assert(mb::streamable_http_transport::session_outlives_connection);
static_assert(session_outlives_connection_v<mb::streamable_http_transport>);
static_assert(has_reopen_v<mb::streamable_http_transport>);
static_assert(has_deadline_reconnect_v<mb::streamable_http_transport>);

namespace {

mb::transport_options options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 5s;
    o.read_timeout = 60s;  // longer than any test: deadlines must do the bounding
    return o;
}

const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};

/// A server that initializes (with session id `session`, none when empty) and answers every
/// other request with `body` (the request's id in place of `@ID@`) as `content_type`.
raw_http_server::script answering(std::string body, std::string content_type = "application/json",
                                  std::string session = "sid-1") {
    return [=](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) {
            if (!session.empty()) return {initialize_answer(req, session), false, true};
            std::string init = initialize_answer(req, "x");
            init.erase(init.find("Mcp-Session-Id: x\r\n"), 19);
            return {init, false, true};
        }
        if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
        std::string b = body;
        const auto at = b.find("@ID@");
        if (at != std::string::npos) b.replace(at, 4, std::to_string(request_id(req)));
        if (content_type == "text/event-stream") b = "event: message\nid: 1\ndata: " + b + "\n\n";
        return {http_response(200, content_type, b), false, true};
    };
}

constexpr const char* lost_in_band = R"({"jsonrpc":"2.0","id":@ID@,"error":{"code":-32001,"message":"Session not found"}})";

}  // namespace

TEST_CASE("reconnect(deadline) bounds a stalled step and names it", "[beast][transport][reconnect]") {
    fs::flaky_server server;
    mb::streamable_http_transport t(options_for(server.url()));

    SECTION("pipelined: a stalled notifications/initialized stalls the request that carries it, to its deadline") {
        server.inject(fs::fault::delay(30s), fs::fault_match::method("notifications/initialized"));
        REQUIRE(t.reconnect(std::chrono::steady_clock::now() + 5s));  // the notification is owed
        const auto start = std::chrono::steady_clock::now();
        auto r = t.send(echo_call, std::chrono::steady_clock::now() + 300ms);
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE_FALSE(r);
        CHECK(took < 5s);  // a margin: the stall is 30 s
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(t.conversation().initialized_pipelined == 0);  // never answered: owed still
    }
    SECTION("a stalled notifications/initialized") {
        mb::transport_options o = options_for(server.url());
        o.pipeline_initialized = false;
        mb::streamable_http_transport plain(o);
        server.inject(fs::fault::delay(30s), fs::fault_match::method("notifications/initialized"));
        const auto start = std::chrono::steady_clock::now();
        auto r = plain.reconnect(std::chrono::steady_clock::now() + 300ms);
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE_FALSE(r);
        CHECK(took < 5s);  // a margin: the stall is 30 s
        CHECK(r.error().method == "notifications/initialized");
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(plain.generation() == 0);  // the new session is not installed
        CHECK(plain.session_id().empty());
    }
    SECTION("a stalled initialize") {
        server.inject(fs::fault::delay(30s), fs::fault_match::method("initialize"));
        const auto start = std::chrono::steady_clock::now();
        auto r = t.reconnect(std::chrono::steady_clock::now() + 300ms);
        REQUIRE_FALSE(r);
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(r.error().method == "initialize");
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(t.generation() == 0);
    }
    SECTION("an initialize refused by the server") {
        server.inject(fs::fault::service_unavailable(), fs::fault_match::method("initialize"));
        auto r = t.reconnect(std::chrono::steady_clock::now() + 5s);
        REQUIRE_FALSE(r);
        CHECK(r.error().method == "initialize");
        CHECK(r.error().http_status == 503);
    }
    SECTION("a deadline already past: nothing is sent") {
        auto r = t.reconnect(std::chrono::steady_clock::now() - 1s);
        REQUIRE_FALSE(r);
        CHECK(r.error().method == "initialize");
        CHECK(r.error().delivered == delivery::not_sent);
        CHECK(server.initializes() == 0);
    }
    SECTION("within the deadline it succeeds; reconnect() without one too") {
        REQUIRE(t.reconnect(std::chrono::steady_clock::now() + 5s));
        CHECK(t.generation() == 1);
        REQUIRE(t.reconnect());
        CHECK(t.generation() == 2);
        CHECK(server.initializes() == 2);
    }
}

TEST_CASE("reopen opens one connection, leaves the session alone, and the next send reuses it",
          "[beast][transport][reopen]") {
    fs::flaky_server server;
    mb::streamable_http_transport t(options_for(server.url()));

    SECTION("against a live server") {
        server.set_close_after_response(true);  // so that the pool is empty after connecting
        REQUIRE(t.connect());
        server.set_close_after_response(false);
        REQUIRE(eventually([&] { return server.open_connections() == 0; }));
        const std::string session = t.session_id();
        const auto generation = t.generation();
        const auto accepted = server.connections_accepted();
        const auto opened = t.connections_opened();

        REQUIRE(t.reopen(std::chrono::steady_clock::now() + 5s));
        REQUIRE(eventually([&] { return server.connections_accepted() == accepted + 1; }));
        CHECK(t.connections_opened() == opened + 1);
        CHECK(t.generation() == generation);
        CHECK(t.session_id() == session);
        CHECK(server.requests() == 2);  // initialize and notifications/initialized: reopen sends nothing

        auto r = t.send(echo_call);
        REQUIRE(r);
        CHECK(server.connections_accepted() == accepted + 1);  // reused: no further accept
        CHECK(t.connections_opened() == opened + 1);
        CHECK(t.generation() == generation);
        CHECK(t.session_id() == session);
        CHECK(server.session_ids() == std::vector<std::string>{session});
    }
    SECTION("against a stopped server: refused, nothing sent") {
        REQUIRE(t.connect());
        server.stop();
        auto r = t.reopen(std::chrono::steady_clock::now() + 5s);
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::connection_refused);
        CHECK(r.error().delivered == delivery::not_sent);
        CHECK(t.generation() == 1);
    }
    SECTION("during an outage it fails; once the server is back it succeeds on the same session") {
        REQUIRE(t.connect());
        const std::string session = t.session_id();
        server.go_down();
        auto down = t.reopen();
        REQUIRE_FALSE(down);
        CHECK(down.error().transport_error == std::errc::connection_refused);
        server.come_back();
        REQUIRE(t.reopen());
        CHECK(t.session_id() == session);  // the transport keeps it; the server decides whether it still exists
        CHECK(t.generation() == 1);
    }
}

TEST_CASE("reopen works in the sessionless revision", "[beast][transport][reopen][sessionless]") {
    fs::flaky_server_options so;
    so.sessionless = true;
    fs::flaky_server server(so);
    mb::transport_options o = options_for(server.url());
    o.protocol_version = "2026-07-28";
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    const auto accepted = server.connections_accepted();
    REQUIRE(t.reopen());
    REQUIRE(eventually([&] { return server.connections_accepted() == accepted + 1; }));
    REQUIRE(t.send(echo_call));
    CHECK(server.connections_accepted() == accepted + 1);
    CHECK(t.generation() == 1);
}

TEST_CASE("a lost session answered in band with 200 is a session_lost failure", "[beast][transport][in_band]") {
    const std::string content_type = GENERATE(std::string("application/json"), std::string("text/event-stream"));
    CAPTURE(content_type);
    raw_http_server server(answering(lost_in_band, content_type));
    mb::streamable_http_transport t(options_for(server.url()));
    REQUIRE(t.connect());
    auto r = t.send(echo_call);
    REQUIRE_FALSE(r);
    const failure& f = r.error();
    CHECK(f.transport_error == transport_errc::session_lost);
    CHECK(f.http_status == 200);
    CHECK(f.jsonrpc_code == -32001);
    CHECK(f.message == "Session not found");
    CHECK(f.had_session_id);
    CHECK(f.delivered == delivery::rejected);
    CHECK(default_classifier{}.classify(f) == failure_kind::session_expired);
}

TEST_CASE("in-band answers that are not a lost session stay responses", "[beast][transport][in_band]") {
    std::string body;
    std::string session = "sid-1";
    bool option = true;
    SECTION("in_band_session_loss off") {
        body = lost_in_band;
        option = false;
    }
    SECTION("a tool result with isError saying Session not found") {
        body = R"({"jsonrpc":"2.0","id":@ID@,"result":{"content":[{"type":"text","text":"Session not found"}],"isError":true}})";
    }
    SECTION("JSON-RPC -32603 Session not found") {
        body = R"({"jsonrpc":"2.0","id":@ID@,"error":{"code":-32603,"message":"Session not found"}})";
    }
    SECTION("JSON-RPC -32001 Tool not found") {
        body = R"({"jsonrpc":"2.0","id":@ID@,"error":{"code":-32001,"message":"Tool not found"}})";
    }
    SECTION("a request without a session id (the server assigned none)") {
        body = lost_in_band;
        session.clear();
    }
    raw_http_server server(answering(body, "application/json", session));
    mb::transport_options o = options_for(server.url());
    o.in_band_session_loss = option;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    auto r = t.send(echo_call);
    REQUIRE(r);
    CHECK(r->message.find("not found") != std::string::npos);
}

TEST_CASE("flaky_server's in_band_200 lost session is recovered with one initialize", "[beast][recovery][in_band]") {
    const auto mode = GENERATE(fs::response_mode::json, fs::response_mode::sse);
    fs::flaky_server_options so;
    so.mode = mode;
    so.lost_session = fs::lost_session_style::in_band_200;
    fs::flaky_server server(so);
    mb::transport_options o = options_for(server.url());
    o.read_timeout = 5s;
    recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<>, counting_observer>
        client{std::in_place, o};
    REQUIRE(client.transport().connect());
    server.expire_all_sessions();
    auto r = client.try_call({"tools/call", R"({"name":"count","arguments":{"key":"in-band"}})"});
    REQUIRE(r);
    CHECK_FALSE(r->is_error());
    CHECK(server.executions("in-band") == 1);
    CHECK(server.initializes() == 2);
    CHECK(client.observer().reconnects() == 1);
}
