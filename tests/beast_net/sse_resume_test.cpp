// SSE stream resumption (SEP-1699): a POST's event stream that ends or breaks before the response,
// after an event with an id, is resumed with GET + Last-Event-ID after the server's retry: wait.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

namespace {

const std::string sse_head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

bool is_get(const std::string& req) { return req.rfind("GET ", 0) == 0; }

std::string header_value(const std::string& req, const std::string& name) {
    const auto p = req.find("\r\n" + name + ": ");
    if (p == std::string::npos) return {};
    const auto start = p + 4 + name.size();
    return req.substr(start, req.find("\r\n", start) - start);
}

std::string response_event(long long id) {
    return "id: r\ndata: {\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) + ",\"result\":{\"ok\":true}}\n\n";
}

/// Initializes (session "sid-1"); POSTs of other methods and GETs go to the given functions. The
/// POST's id is remembered so that GET answers can carry the response to it.
struct scripted {
    std::function<std::string(long long id)> post;
    std::function<std::string(long long id, const std::string& req)> get;
    long long last_id = -1;

    raw_http_server::script script() {
        return [this](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-1"), false, true};
            if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
            if (is_get(req)) return {get(last_id, req)};
            last_id = request_id(req);
            return {post(last_id)};
        };
    }
};

mb::transport_options options_for(const raw_http_server& s) {
    mb::transport_options o;
    o.url = s.url();
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    o.resume_delay = 10ms;
    return o;
}

std::vector<std::string> gets(const raw_http_server& s) {
    std::vector<std::string> out;
    for (const auto& r : s.received())
        if (is_get(r)) out.push_back(r);
    return out;
}

const mb::request tool_call{"tools/call", R"({"name":"count","arguments":{}})"};

}  // namespace

TEST_CASE("a stream ended after a priming event is resumed with GET and Last-Event-ID", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "id: 7\nretry: 50\ndata:\n\n"; };
    s.get = [](long long id, const std::string&) { return sse_head + response_event(id); };
    raw_http_server server(s.script());
    mb::streamable_http_transport t(options_for(server));
    REQUIRE(t.connect());
    const auto start = std::chrono::steady_clock::now();
    auto r = t.send(tool_call);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(r);
    CHECK(r->result() == R"({"ok":true})");
    const auto g = gets(server);
    REQUIRE(g.size() == 1);
    CHECK(header_value(g[0], "Last-Event-ID") == "7");
    CHECK(header_value(g[0], "Mcp-Session-Id") == "sid-1");
    CHECK(header_value(g[0], "MCP-Protocol-Version") == "2025-06-18");
    CHECK(header_value(g[0], "Accept") == "text/event-stream");
    CHECK(g[0].rfind("GET /mcp HTTP/1.1\r\n", 0) == 0);
    CHECK(elapsed >= 45ms);  // the retry: 50 was honoured
}

TEST_CASE("a resumed stream passes other messages to on_message", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/a\"}\n\n"; };
    s.get = [](long long id, const std::string&) {
        return sse_head + "id: 2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/b\"}\n\n" + response_event(id);
    };
    raw_http_server server(s.script());
    auto o = options_for(server);
    std::vector<std::string> seen;
    o.on_message = [&](std::string_view m) { seen.emplace_back(m); };
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    REQUIRE(t.send(tool_call));
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].find("notifications/a") != std::string::npos);
    CHECK(seen[1].find("notifications/b") != std::string::npos);
}

TEST_CASE("without an event id there is no resumption", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "retry: 10\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}\n\n"; };
    s.get = [](long long id, const std::string&) { return sse_head + response_event(id); };
    raw_http_server server(s.script());
    mb::streamable_http_transport t(options_for(server));
    REQUIRE(t.connect());
    auto r = t.send(tool_call);
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::stream_ended);
    CHECK(r.error().delivered == delivery::unknown);
    CHECK(gets(server).empty());
}

TEST_CASE("a GET answered 405 ends the call as a lost stream", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "id: 7\nretry: 10\ndata:\n\n"; };
    s.get = [](long long, const std::string&) { return http_response(405, "text/plain", "Method Not Allowed"); };
    raw_http_server server(s.script());
    mb::streamable_http_transport t(options_for(server));
    REQUIRE(t.connect());
    auto r = t.send(tool_call);
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::stream_ended);
    CHECK(r.error().delivered == delivery::unknown);
    CHECK(default_classifier{}.classify(r.error()) == failure_kind::connection_lost);
    CHECK(gets(server).size() == 1);
}

TEST_CASE("a resumed stream that breaks again is resumed from the newer id", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "id: 7\nretry: 10\ndata:\n\n"; };
    s.get = [](long long id, const std::string& req) {
        if (header_value(req, "Last-Event-ID") == "7") return sse_head + "id: 8\ndata:\n\ndata: {\"jsonrpc\"";  // cut
        return sse_head + response_event(id);
    };
    raw_http_server server(s.script());
    mb::streamable_http_transport t(options_for(server));
    REQUIRE(t.connect());
    REQUIRE(t.send(tool_call));
    const auto g = gets(server);
    REQUIRE(g.size() == 2);
    CHECK(header_value(g[0], "Last-Event-ID") == "7");
    CHECK(header_value(g[1], "Last-Event-ID") == "8");
}

TEST_CASE("resumption is bounded by max_resume_attempts and the deadline", "[beast][sse][resume]") {
    scripted s;
    s.post = [](long long) { return sse_head + "id: 7\nretry: 10\ndata:\n\n"; };
    s.get = [](long long, const std::string&) { return sse_head + "id: 9\ndata:\n\n"; };  // never the response
    raw_http_server server(s.script());
    auto o = options_for(server);
    SECTION("attempts") {
        o.max_resume_attempts = 3;
        mb::streamable_http_transport t(o);
        REQUIRE(t.connect());
        auto r = t.send(tool_call);
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == transport_errc::stream_ended);
        CHECK(r.error().delivered == delivery::unknown);
        CHECK(gets(server).size() == 3);
    }
    SECTION("disabled") {
        o.max_resume_attempts = 0;
        mb::streamable_http_transport t(o);
        REQUIRE(t.connect());
        REQUIRE_FALSE(t.send(tool_call));
        CHECK(gets(server).empty());
    }
    SECTION("a deadline shorter than the retry wait") {
        mb::streamable_http_transport t(o);
        REQUIRE(t.connect());
        REQUIRE_FALSE(t.send(tool_call, std::chrono::steady_clock::now() + 5ms));
        CHECK(gets(server).empty());
    }
}

TEST_CASE("the wait before resuming is the server's retry:, else resume_delay", "[beast][sse][resume]") {
    std::string post_body;
    std::chrono::milliseconds expected{};
    SECTION("retry: 60") {
        post_body = "id: 7\nretry: 60\ndata:\n\n";
        expected = 60ms;
    }
    SECTION("no retry: resume_delay (40 ms)") {
        post_body = "id: 7\ndata:\n\n";
        expected = 40ms;
    }
    scripted s;
    std::chrono::steady_clock::time_point post_answered, get_arrived;
    s.post = [&](long long) {
        post_answered = std::chrono::steady_clock::now();
        return sse_head + post_body;
    };
    s.get = [&](long long id, const std::string&) {
        get_arrived = std::chrono::steady_clock::now();
        return sse_head + response_event(id);
    };
    raw_http_server server(s.script());
    auto o = options_for(server);
    o.resume_delay = 40ms;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    REQUIRE(t.send(tool_call));
    const auto waited = get_arrived - post_answered;
    CHECK(waited >= expected - 2ms);
    CHECK(waited < expected + 500ms);
}

TEST_CASE("initialize and the sessionless revision are not resumed", "[beast][sse][resume]") {
    raw_http_server server([](const std::string& req) -> raw_answer {
        if (is_get(req)) return {http_response(500, "text/plain", "unexpected GET")};
        return {sse_head + "id: 7\nretry: 10\ndata:\n\n"};
    });
    auto o = options_for(server);
    SECTION("initialize") {
        mb::streamable_http_transport t(o);
        REQUIRE_FALSE(t.connect());
    }
    SECTION("2026-07-28") {
        o.protocol_version = "2026-07-28";
        mb::streamable_http_transport t(o);
        REQUIRE(t.connect());
        auto r = t.send(tool_call);
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == transport_errc::stream_ended);
    }
    CHECK(gets(server).empty());
}
