#include <mcp_recovery/beast/testing/flaky_server.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <mcp_recovery/beast/json_lookup.hpp>
#include <mcp_recovery/beast/sse.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = net::ip::tcp;

using mcp_recovery::beast::decode_integer;
using mcp_recovery::beast::decode_string;
using mcp_recovery::beast::find_member;
using mcp_recovery::beast::is_valid_json;
using mcp_recovery::beast::testing::fault;
using mcp_recovery::beast::testing::fault_match;
using mcp_recovery::beast::testing::flaky_server;
using mcp_recovery::beast::testing::flaky_server_options;
using mcp_recovery::beast::testing::lost_session_style;
using mcp_recovery::beast::testing::response_mode;
using mcp_recovery_tests::eventually;

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What the client got back for one request.
struct answer {
    error_code ec;        // empty when a whole response was read
    unsigned status = 0;  // 0 when no response header arrived
    std::string content_type;
    std::string body;  // what arrived of it, even when the read failed
    std::string session_id;
    std::string retry_after;
    std::string www_authenticate;
    std::string allow;
    bool keep_alive = false;
};

/// A plain HTTP/1.1 client over Beast: one connection, one request at a time.
///
/// Each call drives one Beast operation to completion on a private io_context with a deadline,
/// which makes it a blocking call that cannot hang the test run if the server misbehaves
/// (plain blocking socket calls have no timeout). Catch2 assertions are not thread-safe: on
/// other threads than the test's, construct it with `assert_connected` false and check results.
class client {
public:
    explicit client(std::uint16_t port, bool assert_connected = true) : stream_(ioc_) {
        const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
        const error_code ec = run([&](auto handler) { stream_.async_connect(endpoint, std::move(handler)); });
        if (assert_connected) REQUIRE_FALSE(ec);
    }

    error_code write(http::verb verb, std::string_view target, std::string body, const header_list& headers = {}) {
        http::request<http::string_body> req{verb, boost::beast::string_view(target.data(), target.size()), 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::accept, "application/json, text/event-stream");
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        for (const auto& h : headers) req.set(h.first, h.second);
        req.body() = std::move(body);
        req.prepare_payload();
        return run([&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
    }

    error_code write_raw(std::string_view bytes) {
        return run([&](auto handler) { net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), std::move(handler)); });
    }

    answer read() {
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{8} * 1024 * 1024);
        answer a;
        a.ec = run([&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
        if (parser.is_header_done()) {
            const auto& res = parser.get();
            a.status = res.result_int();
            a.content_type = field(res, "Content-Type");
            a.session_id = field(res, "Mcp-Session-Id");
            a.retry_after = field(res, "Retry-After");
            a.www_authenticate = field(res, "WWW-Authenticate");
            a.allow = field(res, "Allow");
            a.keep_alive = res.keep_alive();
        }
        a.body = parser.get().body();
        return a;
    }

    answer request(http::verb verb, std::string_view target, std::string body, const header_list& headers = {}) {
        const error_code ec = write(verb, target, std::move(body), headers);
        if (ec) {
            answer a;
            a.ec = ec;
            return a;
        }
        return read();
    }

    /// POSTs a JSON-RPC message to /mcp, with the session id when not empty.
    answer post(std::string body, const std::string& session = {}, header_list headers = {}) {
        if (!session.empty()) headers.emplace_back("Mcp-Session-Id", session);
        return request(http::verb::post, "/mcp", std::move(body), headers);
    }

private:
    template <class Message>
    static std::string field(const Message& m, std::string_view name) {
        const auto it = m.find(boost::beast::string_view(name.data(), name.size()));
        if (it == m.end()) return {};
        return std::string(it->value().data(), it->value().size());
    }

    template <class Start>
    error_code run(Start&& start) {
        error_code result = net::error::timed_out;
        stream_.expires_after(std::chrono::seconds(30));
        start([&result](const error_code& ec, auto&&...) { result = ec; });
        ioc_.restart();
        ioc_.run();
        return result;
    }

    net::io_context ioc_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
};

std::string rpc(int id, std::string_view method, std::string_view params = {}) {
    std::string s = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) + '"';
    if (!params.empty()) s += R"(,"params":)" + std::string(params);
    return s + '}';
}

std::string notification(std::string_view method) {
    return R"({"jsonrpc":"2.0","method":")" + std::string(method) + R"("})";
}

std::string initialize_body(int id = 1, std::string_view version = "2025-06-18") {
    return rpc(id, "initialize",
               R"({"protocolVersion":")" + std::string(version) +
                   R"(","capabilities":{},"clientInfo":{"name":"test","version":"0"}})");
}

std::string call(int id, std::string_view tool, std::string_view arg, std::string_view value) {
    std::string args = "{\"" + std::string(arg) + "\":";
    mcp_recovery::beast::append_json_string(args, value);
    args += '}';
    return rpc(id, "tools/call", R"({"name":")" + std::string(tool) + R"(","arguments":)" + args + '}');
}

std::string text_result(int id, std::string_view text) {
    std::string s = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"content":[{"type":"text","text":)";
    mcp_recovery::beast::append_json_string(s, text);
    return s + "}]}}";
}

/// initialize + notifications/initialized; returns the session id.
std::string open_session(client& c) {
    const answer init = c.post(initialize_body());
    REQUIRE_FALSE(init.ec);
    REQUIRE(init.status == 200);
    REQUIRE_FALSE(init.session_id.empty());
    const answer initialized = c.post(notification("notifications/initialized"), init.session_id);
    REQUIRE(initialized.status == 202);
    return init.session_id;
}

struct sse_events {
    std::vector<mcp_recovery::beast::sse_event> events;
    std::error_code finish_error;
};

sse_events parse_sse(std::string_view stream) {
    sse_events out;
    mcp_recovery::beast::sse_parser parser;
    std::error_code ec;
    parser.feed(stream, [&](mcp_recovery::beast::sse_event& e) { out.events.push_back(e); }, ec);
    REQUIRE_FALSE(ec);
    parser.finish(out.finish_error);
    return out;
}

bool is_connection_gone(const error_code& ec) {
    return ec == net::error::connection_reset || ec == net::error::eof || ec == http::error::end_of_stream ||
           ec == http::error::partial_message || ec == net::error::broken_pipe;
}

constexpr std::string_view missing_session_body =
    R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Mcp-Session-Id header is required"},"id":null})";

}  // namespace

TEST_CASE("flaky_server listens on loopback and names its endpoint", "[flaky_server]") {
    flaky_server server;
    REQUIRE(server.port() != 0);
    CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()) + "/mcp");
    CHECK(server.sessions_alive() == 0);
    CHECK(server.open_connections() == 0);
}

TEST_CASE("flaky_server opens a session on initialize and accepts notifications/initialized", "[flaky_server]") {
    flaky_server server;
    client c(server.port());

    const answer init = c.post(initialize_body());
    REQUIRE_FALSE(init.ec);
    CHECK(init.status == 200);
    CHECK(init.content_type == "application/json");
    CHECK(init.body ==
          R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
          R"("serverInfo":{"name":"flaky_server","version":"1"}}})");
    REQUIRE(init.session_id.size() == 32);
    for (const char ch : init.session_id) CHECK(std::string_view("0123456789abcdef").find(ch) != std::string_view::npos);
    CHECK(server.initializes() == 1);
    CHECK(server.sessions_alive() == 1);
    CHECK(server.session_ids() == std::vector<std::string>{init.session_id});

    const answer initialized = c.post(notification("notifications/initialized"), init.session_id);
    CHECK(initialized.status == 202);
    CHECK(initialized.body.empty());

    const answer ping = c.post(rpc(2, "ping"), init.session_id);
    CHECK(ping.status == 200);
    CHECK(ping.body == R"({"jsonrpc":"2.0","id":2,"result":{}})");
    CHECK(ping.keep_alive);
    CHECK(server.requests() == 3);

    // A second initialize opens a second, different session.
    client other(server.port());
    const answer second = other.post(initialize_body());
    CHECK(second.status == 200);
    CHECK(second.session_id != init.session_id);
    CHECK(server.sessions_alive() == 2);
}

TEST_CASE("flaky_server negotiates the protocol version", "[flaky_server]") {
    std::string requested;
    std::string expected;
    std::tie(requested, expected) = GENERATE(table<std::string, std::string>({
        {"2024-11-05", "2024-11-05"},
        {"2025-03-26", "2025-03-26"},
        {"2025-06-18", "2025-06-18"},
        {"2025-11-25", "2025-11-25"},
        {"1999-01-01", "2025-06-18"},
        {"", "2025-06-18"},
    }));
    flaky_server server;
    client c(server.port());
    const answer init = c.post(initialize_body(7, requested));
    REQUIRE(init.status == 200);
    const auto result = find_member(init.body, "result");
    REQUIRE(result);
    const auto version = find_member(*result, "protocolVersion");
    REQUIRE(version);
    CHECK(decode_string(*version) == expected);
    CHECK(init.body.find(R"("id":7)") != std::string::npos);
}

TEST_CASE("flaky_server lists echo, count and executions", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    const answer list = c.post(rpc(3, "tools/list"), session);
    REQUIRE(list.status == 200);
    const auto result = find_member(list.body, "result");
    REQUIRE(result);
    const auto tools = find_member(*result, "tools");
    REQUIRE(tools);
    REQUIRE(tools->front() == '[');
    CHECK(tools->find(R"("name":"echo")") != std::string_view::npos);
    CHECK(tools->find(R"("name":"count")") != std::string_view::npos);
    CHECK(tools->find(R"("name":"executions")") != std::string_view::npos);
    CHECK(tools->find(R"("idempotentHint":false)") != std::string_view::npos);
    CHECK(tools->find(R"("readOnlyHint":true)") != std::string_view::npos);
}

TEST_CASE("flaky_server runs echo, count and executions", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);

    const std::string tricky = "he said \"hi\"\n\\ {}";
    CHECK(c.post(call(1, "echo", "text", tricky), session).body == text_result(1, tricky));

    CHECK(c.post(call(2, "count", "key", "a"), session).body == text_result(2, "1"));
    CHECK(c.post(call(3, "count", "key", "a"), session).body == text_result(3, "2"));
    CHECK(c.post(call(4, "count", "key", "b"), session).body == text_result(4, "1"));
    CHECK(c.post(call(5, "executions", "key", "a"), session).body == text_result(5, "2"));
    CHECK(c.post(call(6, "executions", "key", "never"), session).body == text_result(6, "0"));
    CHECK(server.executions("a") == 2);
    CHECK(server.executions("b") == 1);
    CHECK(server.executions("never") == 0);

    SECTION("unknown methods get -32601 with 200") {
        const answer a = c.post(rpc(9, "resources/list"), session);
        CHECK(a.status == 200);
        CHECK(a.body == R"({"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}})");
    }
    SECTION("unknown tools and missing arguments get -32602") {
        const answer unknown = c.post(call(10, "nope", "key", "a"), session);
        CHECK(unknown.status == 200);
        CHECK(unknown.body == R"({"jsonrpc":"2.0","id":10,"error":{"code":-32602,"message":"Unknown tool: nope"}})");
        const answer missing = c.post(call(11, "count", "other", "a"), session);
        CHECK(missing.body.find(R"("code":-32602)") != std::string::npos);
        CHECK(server.executions("a") == 2);
    }
    SECTION("string ids are echoed verbatim") {
        const answer a = c.post(R"({"jsonrpc":"2.0","id":"req-\u0031","method":"ping"})", session);
        CHECK(a.body == R"({"jsonrpc":"2.0","id":"req-\u0031","result":{}})");
    }
}

TEST_CASE("flaky_server refuses requests without a session id with 400", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    open_session(c);
    for (const std::string& body : {rpc(2, "tools/list"), notification("notifications/initialized")}) {
        const answer a = c.post(body);
        CHECK(a.status == 400);
        CHECK(a.content_type == "application/json");
        CHECK(a.body == missing_session_body);
    }
    const answer del = c.request(http::verb::delete_, "/mcp", {});
    CHECK(del.status == 400);
    CHECK(del.body == missing_session_body);
    CHECK(server.sessions_alive() == 1);
}

TEST_CASE("flaky_server answers a lost session byte for byte in each style", "[flaky_server]") {
    // Copied from shared/signals.md, not from the header under test.
    lost_session_style style;
    unsigned status;
    std::string content_type;
    std::string body;
    std::tie(style, status, content_type, body) =
        GENERATE(table<lost_session_style, unsigned, std::string, std::string>({
            {lost_session_style::typescript_404, 404, "application/json",
             R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})"},
            {lost_session_style::everything_400, 400, "application/json",
             R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})"},
            {lost_session_style::python_404, 404, "application/json",
             R"({"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}})"},
            {lost_session_style::go_404_plain, 404, "text/plain", "session not found"},
            {lost_session_style::python_400_plain, 400, "text/plain", "Bad Request: No valid session ID provided"},
        }));
    INFO(mcp_recovery::beast::testing::to_string(style));

    auto check_lost = [&](const answer& a) {
        CHECK_FALSE(a.ec);
        CHECK(a.status == status);
        CHECK(a.content_type == content_type);
        CHECK(a.body == body);
    };

    SECTION("set at construction; the session expired") {
        flaky_server_options options;
        options.lost_session = style;
        flaky_server server(options);
        client c(server.port());
        const std::string session = open_session(c);
        REQUIRE(server.expire_session(session));
        CHECK_FALSE(server.expire_session(session));
        CHECK(server.sessions_alive() == 0);
        check_lost(c.post(rpc(5, "tools/list"), session));
        check_lost(c.post(call(6, "count", "key", "k"), session));
        CHECK(server.executions("k") == 0);
        CHECK(server.lost_session_answers() == 2);
    }
    SECTION("set at run time; a session id never issued, and DELETE") {
        flaky_server server;
        server.set_lost_session_style(style);
        client c(server.port());
        check_lost(c.post(rpc(5, "ping"), "0123456789abcdef0123456789abcdef"));
        check_lost(c.request(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", "unknown"}}));
        check_lost(c.post(initialize_body(), "stale-session-id"));  // initialize must come without one
        CHECK(server.initializes() == 0);
    }
}

TEST_CASE("flaky_server ends a session on DELETE", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    const std::string other = [&] {
        client c2(server.port());
        return open_session(c2);
    }();
    REQUIRE(server.sessions_alive() == 2);

    const answer del = c.request(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}});
    CHECK(del.status == 200);
    CHECK(server.deletes() == 1);
    CHECK(server.sessions_alive() == 1);
    CHECK(c.post(rpc(3, "ping"), session).status == 404);
    CHECK(c.request(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}}).status == 404);
    CHECK(server.deletes() == 1);
    CHECK(c.post(rpc(4, "ping"), other).status == 200);

    CHECK(server.expire_all_sessions() == 1);
    CHECK(server.sessions_alive() == 0);
    CHECK(c.post(rpc(5, "ping"), other).status == 404);
}

TEST_CASE("flaky_server checks MCP-Protocol-Version when present", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    const answer bad = c.post(rpc(2, "ping"), session, {{"MCP-Protocol-Version", "1999-01-01"}});
    CHECK(bad.status == 400);
    CHECK(bad.body ==
          R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Unsupported protocol version: 1999-01-01"},"id":null})");
    CHECK(c.post(rpc(3, "ping"), session, {{"MCP-Protocol-Version", "2025-11-25"}}).status == 200);
    CHECK(c.post(rpc(4, "ping"), session).status == 200);
}

TEST_CASE("flaky_server rejects malformed messages and keeps the connection", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);

    const answer parse = c.post(R"({"jsonrpc":"2.0","id":1,"method":)", session);
    CHECK(parse.status == 400);
    CHECK(parse.body == R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null})");

    const answer batch = c.post(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", session);
    CHECK(batch.status == 400);
    CHECK(batch.body.find(R"("code":-32600)") != std::string::npos);

    const answer not_rpc = c.post(R"({"hello":"world"})", session);
    CHECK(not_rpc.status == 400);
    CHECK(not_rpc.body == R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null})");

    // A response to a server request is accepted.
    CHECK(c.post(R"({"jsonrpc":"2.0","id":"s1","result":{}})", session).status == 202);
    CHECK(c.post(rpc(9, "ping"), session).status == 200);
    CHECK(server.requests() == 2 + 5);
}

TEST_CASE("flaky_server answers other paths and methods, and bounds requests", "[flaky_server]") {
    flaky_server_options options;
    options.max_body_size = 1024;
    options.max_header_size = 2048;
    flaky_server server(options);

    SECTION("other paths: 404 Not Found") {
        client c(server.port());
        const answer a = c.post(rpc(1, "ping"), {}, {});
        CHECK(a.status == 400);  // /mcp itself, without a session
        const answer other = c.request(http::verb::post, "/other", rpc(1, "initialize"));
        CHECK(other.status == 404);
        CHECK(other.content_type == "text/plain");
        CHECK(other.body == "Not Found");
        CHECK(server.initializes() == 0);
    }
    SECTION("GET: 405") {
        client c(server.port());
        const answer a = c.request(http::verb::get, "/mcp", {});
        CHECK(a.status == 405);
        CHECK(a.allow == "POST, DELETE");
    }
    SECTION("a body beyond the limit: 413, then close") {
        client c(server.port());
        REQUIRE_FALSE(c.write_raw("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  "Content-Length: 2048\r\n\r\n"));
        const answer a = c.read();
        CHECK(a.status == 413);
        CHECK_FALSE(a.keep_alive);
        CHECK(is_connection_gone(c.read().ec));
    }
    SECTION("headers beyond the limit: 431, then close") {
        client c(server.port());
        const answer a = c.post(rpc(1, "ping"), {}, {{"X-Padding", std::string(4096, 'x')}});
        CHECK(a.status == 431);
        CHECK_FALSE(a.keep_alive);
    }
    SECTION("garbage: 400, then close; the server keeps serving") {
        client c(server.port());
        REQUIRE_FALSE(c.write_raw("\x01\x02 NOT HTTP\r\n\r\n"));
        const answer a = c.read();
        CHECK(a.status == 400);
        CHECK(is_connection_gone(c.read().ec));
        client fresh(server.port());
        CHECK(fresh.post(initialize_body()).status == 200);
    }
}

TEST_CASE("flaky_server speaks HTTP/1.0 and Expect: 100-continue", "[flaky_server]") {
    flaky_server server;
    const std::string body = initialize_body();

    SECTION("HTTP/1.0 without keep-alive: a sized answer, then close") {
        client c(server.port());
        REQUIRE_FALSE(c.write_raw("POST /mcp HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body));
        const answer a = c.read();
        CHECK(a.status == 200);
        CHECK_FALSE(a.keep_alive);
        CHECK(find_member(a.body, "result"));
        CHECK(is_connection_gone(c.read().ec));
    }
    SECTION("HTTP/1.0 in SSE mode: the stream ends with the connection") {
        server.set_response_mode(response_mode::sse);
        client c(server.port());
        REQUIRE_FALSE(c.write_raw("POST /mcp HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body));
        const answer a = c.read();
        CHECK_FALSE(a.ec);
        CHECK(a.content_type == "text/event-stream");
        const sse_events parsed = parse_sse(a.body);
        REQUIRE(parsed.events.size() == 1);
        CHECK(find_member(parsed.events.front().data, "result"));
    }
    SECTION("Expect: 100-continue gets 100 Continue before the body is sent") {
        client c(server.port());
        REQUIRE_FALSE(c.write_raw("POST /mcp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n"));
        CHECK(c.read().status == 100);
        REQUIRE_FALSE(c.write_raw(body));
        const answer a = c.read();
        CHECK(a.status == 200);
        CHECK(a.session_id.size() == 32);
    }
    SECTION("HEAD: 405, then close") {
        client c(server.port());
        const answer a = c.request(http::verb::head, "/mcp", {});
        CHECK(a.status == 405);
        CHECK_FALSE(a.keep_alive);
    }
}

TEST_CASE("flaky_server restart closes connections and forgets sessions", "[flaky_server]") {
    flaky_server server;
    client a(server.port());
    client idle(server.port());
    const std::string session = open_session(a);
    REQUIRE(eventually([&] { return server.open_connections() == 2; }));
    CHECK(a.post(call(2, "count", "key", "k"), session).status == 200);

    server.restart();
    CHECK(server.open_connections() == 0);
    CHECK(server.sessions_alive() == 0);
    CHECK(server.executions("k") == 1);  // side effects survive, as in a database

    CHECK(is_connection_gone(a.post(rpc(3, "ping"), session).ec));
    CHECK(is_connection_gone(idle.read().ec));

    client b(server.port());
    const answer lost = b.post(rpc(4, "ping"), session);
    CHECK(lost.status == 404);
    CHECK(lost.body == R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})");
    const std::string fresh = open_session(b);
    CHECK(fresh != session);
    CHECK(b.post(rpc(5, "ping"), fresh).status == 200);
    CHECK(server.initializes() == 2);
}

TEST_CASE("flaky_server answers http_status faults without executing", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);

    SECTION("401 with WWW-Authenticate, only on tools/call") {
        server.inject(fault::unauthorized(), fault_match::tool_call());
        CHECK(c.post(rpc(2, "ping"), session).status == 200);  // not matched
        const answer a = c.post(call(3, "count", "key", "k"), session);
        CHECK(a.status == 401);
        CHECK(a.www_authenticate.rfind("Bearer ", 0) == 0);
        CHECK(a.content_type == "application/json");
        CHECK(a.body.find("invalid_token") != std::string::npos);
        CHECK(server.executions("k") == 0);
        CHECK(c.post(call(4, "count", "key", "k"), session).body == text_result(4, "1"));
    }
    SECTION("429 and 503 with Retry-After, 500, each once, in queue order") {
        server.inject(fault::too_many_requests(7));
        server.inject(fault::service_unavailable(3));
        server.inject(fault::internal_error());
        CHECK(server.pending_faults() == 3);
        const answer throttled = c.post(rpc(2, "ping"), session);
        CHECK(throttled.status == 429);
        CHECK(throttled.retry_after == "7");
        const answer unavailable = c.post(rpc(3, "ping"), session);
        CHECK(unavailable.status == 503);
        CHECK(unavailable.retry_after == "3");
        const answer error = c.post(rpc(4, "ping"), session);
        CHECK(error.status == 500);
        CHECK(error.retry_after.empty());
        CHECK(c.post(rpc(5, "ping"), session).status == 200);
        CHECK(server.pending_faults() == 0);
        CHECK(server.faults_applied() == 3);
    }
    SECTION("a fault for N requests applies N times") {
        server.inject(fault::http_status(502, R"({"oops":1})", "application/json"), fault_match::method("ping"), 2);
        const answer first = c.post(rpc(2, "ping"), session);
        CHECK(first.status == 502);
        CHECK(first.body == R"({"oops":1})");
        CHECK(c.post(rpc(3, "tools/list"), session).status == 200);
        CHECK(c.post(rpc(4, "ping"), session).status == 502);
        CHECK(c.post(rpc(5, "ping"), session).status == 200);
    }
    SECTION("a fault for one tool leaves the others alone") {
        server.inject(fault::internal_error(), fault_match::tool_call("count"));
        CHECK(c.post(call(2, "echo", "text", "x"), session).status == 200);
        CHECK(c.post(call(3, "count", "key", "k"), session).status == 500);
        CHECK(server.executions("k") == 0);
    }
    SECTION("clear_faults empties the queue") {
        server.inject(fault::internal_error(), fault_match::any_request(), 5);
        server.clear_faults();
        CHECK(server.pending_faults() == 0);
        CHECK(c.post(rpc(2, "ping"), session).status == 200);
    }
}

TEST_CASE("flaky_server never applies a fault to initialize unless asked", "[flaky_server]") {
    flaky_server server;
    client c(server.port());

    server.inject(fault::internal_error());
    const std::string session = open_session(c);  // initialize and a notification: not matched
    CHECK(server.pending_faults() == 1);
    CHECK(c.post(rpc(2, "ping"), session).status == 500);

    server.inject(fault::service_unavailable(1), fault_match::method("initialize"));
    CHECK(c.post(initialize_body()).status == 503);
    server.inject(fault::service_unavailable(1), fault_match::any_request(true));
    CHECK(c.post(initialize_body()).status == 503);
    CHECK(server.initializes() == 1);
    CHECK(c.post(initialize_body()).status == 200);
}

TEST_CASE("flaky_server reset faults send an RST before or after executing", "[flaky_server]") {
    flaky_server server;
    client setup(server.port());
    const std::string session = open_session(setup);

    SECTION("reset_before_execute") {
        server.inject(fault::reset_before_execute(), fault_match::tool_call());
        client c(server.port());
        const answer a = c.post(call(2, "count", "key", "k"), session);
        CHECK(a.ec == net::error::connection_reset);
        CHECK(a.status == 0);
        CHECK(server.executions("k") == 0);
    }
    SECTION("reset_after_execute") {
        server.inject(fault::reset_after_execute(), fault_match::tool_call());
        client c(server.port());
        const answer a = c.post(call(2, "count", "key", "k"), session);
        CHECK(a.ec == net::error::connection_reset);
        CHECK(a.status == 0);
        CHECK(server.executions("k") == 1);
    }
    // The session survives; a new connection carries on.
    client after(server.port());
    CHECK(after.post(rpc(9, "ping"), session).status == 200);
    CHECK(server.pending_faults() == 0);
}

TEST_CASE("flaky_server cut_stream_after_event sends one event, then closes", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    server.inject(fault::cut_stream_after_event(), fault_match::tool_call("count"));

    const answer a = c.post(call(2, "count", "key", "k"), session);
    CHECK(is_connection_gone(a.ec));
    CHECK(a.status == 200);
    CHECK(a.content_type == "text/event-stream");
    CHECK(server.executions("k") == 1);

    const sse_events parsed = parse_sse(a.body);
    REQUIRE(parsed.events.size() == 1);
    const auto& event = parsed.events.front();
    CHECK(event.type == "message");
    CHECK_FALSE(event.id.empty());
    const auto method = find_member(event.data, "method");
    REQUIRE(method);
    CHECK(decode_string(*method) == "notifications/message");
    CHECK_FALSE(find_member(event.data, "id"));
    CHECK_FALSE(parsed.finish_error);  // the event was whole; the response never came
}

namespace {

/// GET /mcp asking to resume after `last_event_id`; headers left empty are not sent.
answer resume_get(client& c, const std::string& session, const std::string& last_event_id) {
    header_list headers{{"Accept", "text/event-stream"}};
    if (!session.empty()) headers.emplace_back("Mcp-Session-Id", session);
    if (!last_event_id.empty()) headers.emplace_back("Last-Event-ID", last_event_id);
    return c.request(http::verb::get, "/mcp", {}, headers);
}

std::string notification_text(const mcp_recovery::beast::sse_event& e) {
    const auto params = find_member(e.data, "params");
    if (!params) return {};
    const auto data = find_member(*params, "data");
    if (!data) return {};
    return decode_string(*data).value_or("");
}

constexpr std::string_view unknown_event_body =
    R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Unknown Last-Event-ID"},"id":null})";

}  // namespace

TEST_CASE("flaky_server cut_stream_after_priming cuts after the priming event; GET with Last-Event-ID replays",
          "[flaky_server][resume]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    server.inject(fault::cut_stream_after_priming(std::chrono::milliseconds(50)).with_notifications(1, 2),
                  fault_match::tool_call("count"));

    const answer cut = c.post(call(2, "count", "key", "k"), session);
    CHECK(is_connection_gone(cut.ec));
    CHECK(cut.status == 200);
    CHECK(cut.content_type == "text/event-stream");
    CHECK(server.executions("k") == 1);
    const sse_events first = parse_sse(cut.body);
    REQUIRE(first.events.size() == 2);
    const auto& priming = first.events[0];
    CHECK_FALSE(priming.id.empty());
    CHECK(priming.data.empty());
    CHECK(priming.retry == std::chrono::milliseconds(50));
    CHECK(notification_text(first.events[1]) == "stream event 1 of 3");
    CHECK_FALSE(first.events[1].id.empty());
    CHECK(first.events[1].id != priming.id);
    CHECK(cut.body.find(R"("result")") == std::string::npos);  // the response never came

    client r(server.port());
    SECTION("from the last event: the rest, the response among it, then the stream ends") {
        const answer a = resume_get(r, session, first.events[1].id);
        REQUIRE_FALSE(a.ec);
        CHECK(a.status == 200);
        CHECK(a.content_type == "text/event-stream");
        CHECK(a.keep_alive);
        const sse_events replay = parse_sse(a.body);
        REQUIRE(replay.events.size() == 3);
        CHECK(notification_text(replay.events[0]) == "stream event 2 of 3");
        CHECK(notification_text(replay.events[1]) == "stream event 3 of 3");
        CHECK(replay.events[2].data == text_result(2, "1"));
        for (const auto& e : replay.events) CHECK_FALSE(e.id.empty());
        CHECK(server.executions("k") == 1);  // replayed, not run again
        CHECK(server.resumptions() == 1);
        CHECK(server.resumption_requests() == 1);
        CHECK(r.post(rpc(9, "ping"), session).status == 200);  // the connection carries on

        // Any id of the stream is a cursor: from the priming event, everything after it.
        const answer again = resume_get(r, session, priming.id);
        const sse_events all = parse_sse(again.body);
        REQUIRE(all.events.size() == 4);
        CHECK(notification_text(all.events[0]) == "stream event 1 of 3");
        CHECK(all.events[3].data == text_result(2, "1"));
        // From the response's own id: nothing is left; the stream ends at once.
        const answer none = resume_get(r, session, replay.events[2].id);
        CHECK(none.status == 200);
        CHECK(parse_sse(none.body).events.empty());
        CHECK(server.resumptions() == 3);
        CHECK(server.executions("k") == 1);
    }
    SECTION("an unknown id: 400, not a lost session") {
        for (const std::string id : {"999999999", "abc", "12345678901234567890"}) {
            CAPTURE(id);
            const answer a = resume_get(r, session, id);
            CHECK(a.status == 400);
            CHECK(a.content_type == "application/json");
            CHECK(a.body == unknown_event_body);
        }
        CHECK(server.resumptions() == 0);
        CHECK(server.resumption_requests() == 3);
        CHECK(server.sessions_alive() == 1);
    }
    SECTION("an id of another session's stream is unknown there") {
        const std::string other = open_session(r);
        const answer a = resume_get(r, other, priming.id);
        CHECK(a.status == 400);
        CHECK(a.body == unknown_event_body);
    }
    SECTION("no Last-Event-ID: 405 as before") {
        const answer a = resume_get(r, session, {});
        CHECK(a.status == 405);
        CHECK(a.allow == "POST, DELETE");
        CHECK(server.resumption_requests() == 0);
    }
    SECTION("no session id: 400; an unknown or expired session: the lost-session answer") {
        const answer missing = resume_get(r, {}, priming.id);
        CHECK(missing.status == 400);
        CHECK(missing.body == missing_session_body);
        server.set_lost_session_style(lost_session_style::go_404_plain);
        const answer unknown = resume_get(r, std::string(32, 'f'), priming.id);
        CHECK(unknown.status == 404);
        CHECK(unknown.body == "session not found");
        server.restart();  // the streams go with the sessions
        client fresh(server.port());
        const answer gone = resume_get(fresh, session, priming.id);
        CHECK(gone.status == 404);
        CHECK(gone.body == "session not found");
        CHECK(server.lost_session_answers() == 2);
        CHECK(server.resumptions() == 0);
    }
    SECTION("resumption refused: 405, nothing replayed") {
        server.set_resumption(false);
        const answer a = resume_get(r, session, priming.id);
        CHECK(a.status == 405);
        CHECK(a.allow == "POST, DELETE");
        CHECK(server.resumption_requests() == 1);
        CHECK(server.resumptions() == 0);
        server.set_resumption(true);
        CHECK(resume_get(r, session, priming.id).status == 200);
    }
}

TEST_CASE("flaky_server cuts a resumed stream again while resumed_cuts last", "[flaky_server][resume]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);
    server.inject(fault::cut_stream_after_priming(std::chrono::milliseconds(10)).with_notifications(0, 1).with_resumed_cuts(1));

    const answer cut = c.post(call(2, "count", "key", "k"), session);
    CHECK(is_connection_gone(cut.ec));
    const sse_events first = parse_sse(cut.body);
    REQUIRE(first.events.size() == 1);
    const std::string priming = first.events[0].id;

    client r1(server.port());
    const answer resumed = resume_get(r1, session, priming);
    CHECK(resumed.status == 200);
    CHECK(is_connection_gone(resumed.ec));  // cut again
    const sse_events second = parse_sse(resumed.body);
    REQUIRE(second.events.size() == 2);
    CHECK(notification_text(second.events[0]) == "stream event 1 of 1");
    CHECK(second.events[1].data.empty());  // a fresh priming event
    CHECK(second.events[1].retry == std::chrono::milliseconds(10));
    const std::string fresh = second.events[1].id;
    CHECK(fresh != priming);
    CHECK(fresh != second.events[0].id);

    client r2(server.port());
    const answer last = resume_get(r2, session, fresh);
    REQUIRE_FALSE(last.ec);
    const sse_events third = parse_sse(last.body);
    REQUIRE(third.events.size() == 1);
    CHECK(third.events[0].data == text_result(2, "1"));
    // The cuts are used up: from the first id, the whole rest, the fresh priming event included.
    const answer whole = resume_get(r2, session, priming);
    REQUIRE_FALSE(whole.ec);
    const sse_events all = parse_sse(whole.body);
    REQUIRE(all.events.size() == 3);
    CHECK(all.events[1].id == fresh);
    CHECK(all.events[2].data == text_result(2, "1"));
    CHECK(server.resumptions() == 3);
    CHECK(server.executions("k") == 1);
}

TEST_CASE("flaky_server keeps at most max_resumable_streams cut streams per session", "[flaky_server][resume]") {
    flaky_server_options options;
    options.max_resumable_streams = 2;
    SECTION("resumption on") {}
    SECTION("resumption off from the start") { options.resumption = false; }
    flaky_server server(options);
    std::vector<std::string> primings;
    std::string session;
    {
        client c(server.port());
        session = open_session(c);
    }
    for (int i = 0; i < 3; ++i) {
        server.inject(fault::cut_stream_after_priming());
        client c(server.port());
        const answer cut = c.post(call(2 + i, "count", "key", "k"), session);
        const sse_events parsed = parse_sse(cut.body);
        REQUIRE(parsed.events.size() == 1);
        primings.push_back(parsed.events[0].id);
    }
    CHECK(server.executions("k") == 3);
    client r(server.port());
    if (!options.resumption) {
        CHECK(resume_get(r, session, primings[2]).status == 405);
        return;
    }
    CHECK(resume_get(r, session, primings[0]).status == 400);  // forgotten, the oldest
    for (int i = 1; i < 3; ++i) {
        const answer a = resume_get(r, session, primings[static_cast<std::size_t>(i)]);
        CHECK(a.status == 200);
        const sse_events replay = parse_sse(a.body);
        REQUIRE(replay.events.size() == 1);
        CHECK(replay.events[0].data == text_result(2 + i, std::to_string(i + 1)));
    }
}

TEST_CASE("flaky_server delays an answer, interruptibly", "[flaky_server]") {
    flaky_server server;
    client c(server.port());
    const std::string session = open_session(c);

    SECTION("the answer comes after the delay") {
        server.inject(fault::delay(std::chrono::milliseconds(150)), fault_match::method("ping"));
        const auto start = std::chrono::steady_clock::now();
        const answer a = c.post(rpc(2, "ping"), session);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
        CHECK(a.status == 200);
        CHECK(a.body == R"({"jsonrpc":"2.0","id":2,"result":{}})");
    }
    SECTION("a delay can also switch the answer to SSE") {
        server.inject(fault::delay(std::chrono::milliseconds(1)).with_mode(response_mode::sse));
        const answer a = c.post(rpc(2, "ping"), session);
        CHECK(a.content_type == "text/event-stream");
        const sse_events parsed = parse_sse(a.body);
        REQUIRE(parsed.events.size() == 1);
        CHECK(parsed.events.front().data == R"({"jsonrpc":"2.0","id":2,"result":{}})");
    }
    SECTION("restart() interrupts it") {
        server.inject(fault::delay(std::chrono::hours(1)), fault_match::tool_call());
        REQUIRE_FALSE(c.write(http::verb::post, "/mcp", call(2, "count", "key", "k"), {{"Mcp-Session-Id", session}}));
        REQUIRE(eventually([&] { return server.faults_applied() == 1; }));
        server.restart();
        CHECK(is_connection_gone(c.read().ec));
        CHECK(server.executions("k") == 0);
    }
    SECTION("stop() interrupts it promptly") {
        server.inject(fault::delay(std::chrono::hours(1)), fault_match::tool_call());
        REQUIRE_FALSE(c.write(http::verb::post, "/mcp", call(2, "count", "key", "k"), {{"Mcp-Session-Id", session}}));
        REQUIRE(eventually([&] { return server.faults_applied() == 1; }));
        const auto start = std::chrono::steady_clock::now();
        server.stop();
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
        CHECK(is_connection_gone(c.read().ec));
        CHECK(server.executions("k") == 0);
    }
}

TEST_CASE("flaky_server in SSE mode answers with one event and ends the stream", "[flaky_server]") {
    flaky_server_options options;
    options.mode = response_mode::sse;
    flaky_server server(options);
    client c(server.port());

    const answer init = c.post(initialize_body());
    REQUIRE(init.status == 200);
    CHECK(init.content_type == "text/event-stream");
    REQUIRE(init.session_id.size() == 32);
    CHECK(init.keep_alive);
    const sse_events parsed_init = parse_sse(init.body);
    REQUIRE(parsed_init.events.size() == 1);
    CHECK(find_member(parsed_init.events.front().data, "result"));

    CHECK(c.post(notification("notifications/initialized"), init.session_id).status == 202);

    // Same connection: the stream ended cleanly and the connection is reused.
    const answer echo = c.post(call(2, "echo", "text", "hello"), init.session_id);
    REQUIRE_FALSE(echo.ec);
    CHECK(echo.content_type == "text/event-stream");
    const sse_events parsed = parse_sse(echo.body);
    REQUIRE(parsed.events.size() == 1);
    CHECK(parsed.events.front().type == "message");
    CHECK_FALSE(parsed.events.front().id.empty());
    CHECK(parsed.events.front().data == text_result(2, "hello"));
    CHECK(parsed.events.front().id != parsed_init.events.front().id);

    // HTTP-level errors stay JSON; a fault can switch one answer back to JSON.
    CHECK(c.post(rpc(3, "ping")).content_type == "application/json");
    server.inject(fault::answer_as(response_mode::json));
    const answer json = c.post(rpc(4, "ping"), init.session_id);
    CHECK(json.content_type == "application/json");
    CHECK(json.body == R"({"jsonrpc":"2.0","id":4,"result":{}})");

    server.set_response_mode(response_mode::json);
    CHECK(c.post(rpc(5, "ping"), init.session_id).content_type == "application/json");
}

TEST_CASE("flaky_server stop() is prompt with idle connections open", "[flaky_server]") {
    auto server = std::make_unique<flaky_server>();
    client with_session(server->port());
    client idle1(server->port());
    client idle2(server->port());
    open_session(with_session);
    REQUIRE(eventually([&] { return server->open_connections() == 3; }));

    const auto start = std::chrono::steady_clock::now();
    server->stop();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(server->open_connections() == 0);
    CHECK(is_connection_gone(idle1.read().ec));
    CHECK(is_connection_gone(idle2.read().ec));
    CHECK(is_connection_gone(with_session.read().ec));

    // Idempotent; restart() after stop() returns at once; the destructor joins nothing twice.
    server->stop();
    server->restart();
    CHECK(server->sessions_alive() == 0);
    server.reset();
}

TEST_CASE("flaky_server closes idle connections after idle_timeout", "[flaky_server]") {
    flaky_server_options options;
    options.idle_timeout = std::chrono::milliseconds(100);
    flaky_server server(options);
    client c(server.port());
    // Blocks until the server gives up on the idle connection: no sleep needed.
    const auto start = std::chrono::steady_clock::now();
    CHECK(is_connection_gone(c.read().ec));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(90));
    // The stream's timer closes the socket just before the server's handler counts it closed.
    CHECK(eventually([&] { return server.open_connections() == 0; }));
}

TEST_CASE("flaky_server closes connections beyond max_connections", "[flaky_server]") {
    flaky_server_options options;
    options.max_connections = 1;
    flaky_server server(options);
    client first(server.port());
    REQUIRE(eventually([&] { return server.open_connections() == 1; }));
    client second(server.port());
    CHECK(is_connection_gone(second.read().ec));
    CHECK(server.connections_accepted() == 2);
    CHECK(first.post(initialize_body()).status == 200);
}

TEST_CASE("flaky_server counts exactly under concurrent clients", "[flaky_server]") {
    flaky_server server;
    client setup(server.port());
    const std::string session = open_session(setup);
    constexpr int threads = 4;
    constexpr int calls = 20;
    std::atomic<int> ok{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            client c(server.port(), false);
            for (int i = 0; i < calls; ++i) {
                if (c.post(call(i, "count", "key", "shared"), session).status == 200) ++ok;
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(ok == threads * calls);
    CHECK(server.executions("shared") == static_cast<std::uint64_t>(threads * calls));
}

TEST_CASE("find_member returns the raw text of a top-level member", "[flaky_server][json_lookup]") {
    const std::string_view doc =
        R"( {"a" : {"x":[1,{"method":"no"}],"s":"}\"{"} , "method":"tools/call", "n":-12, "e":[], "m\u0065":true } )";
    CHECK(find_member(doc, "a") == std::optional<std::string_view>(R"({"x":[1,{"method":"no"}],"s":"}\"{"})"));
    CHECK(find_member(doc, "method") == std::optional<std::string_view>(R"("tools/call")"));
    CHECK(find_member(doc, "n") == std::optional<std::string_view>("-12"));
    CHECK(find_member(doc, "e") == std::optional<std::string_view>("[]"));
    CHECK(find_member(doc, "me") == std::optional<std::string_view>("true"));
    CHECK_FALSE(find_member(doc, "x"));  // nested members are not top-level
    CHECK_FALSE(find_member(doc, "s"));
    CHECK(find_member(R"({"k":1,"k":2})", "k") == std::optional<std::string_view>("2"));
    CHECK_FALSE(find_member("{}", "k"));

    for (const std::string_view bad : {"", "[]", R"("k")", "{", R"({"k":1,})", R"({"k":1}x)", R"({"k":1}, "j":2)",
                                       R"({"k":01})", R"({"k":"\x"})", "{\"k\":\"\x01\"}", R"({"k" 1})", R"({k:1})",
                                       "{\"k\":\"\xff\"}", R"({"k":[1,2})", R"({"k":tru})"}) {
        INFO(bad);
        CHECK_FALSE(find_member(bad, "k"));
    }

    std::string deep = R"({"k":)" + std::string(63, '[') + std::string(63, ']') + "}";
    CHECK(find_member(deep, "k"));
    deep = R"({"k":)" + std::string(64, '[') + std::string(64, ']') + "}";
    CHECK_FALSE(find_member(deep, "k"));
    const std::string very_deep = R"({"k":)" + std::string(100000, '[');
    CHECK_FALSE(find_member(very_deep, "k"));
    CHECK(is_valid_json(" [1, {\"a\": null}] "));
    CHECK_FALSE(is_valid_json("1 2"));
}

TEST_CASE("decode_string and decode_integer are strict", "[flaky_server][json_lookup]") {
    CHECK(decode_string(R"("a\"b\\c\n\u00e9\ud83d\ude00")") == std::optional<std::string>("a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80"));
    CHECK(decode_string(R"( "" )") == std::optional<std::string>(""));
    for (const std::string_view bad : {"", "\"", R"("a)", R"("a","b")", R"("a"x)", R"("\ud800")", R"("\q")", "a",
                                       "1", "\"\x01\"", "\"\xc0\xaf\""}) {
        INFO(bad);
        CHECK_FALSE(decode_string(bad));
    }

    CHECK(decode_integer("42") == std::optional<std::int64_t>(42));
    CHECK(decode_integer(" -0 ") == std::optional<std::int64_t>(0));
    CHECK(decode_integer("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
    CHECK(decode_integer("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    for (const std::string_view bad :
         {"", "-", "9223372036854775808", "1.0", "1e2", "01", "+1", R"("1")", "1,2", "--1", "1-"}) {
        INFO(bad);
        CHECK_FALSE(decode_integer(bad));
    }
}

namespace {

/// Connects to 127.0.0.1:`port` once and returns the outcome (bounded: 10 s).
error_code try_connect(std::uint16_t port) {
    net::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    error_code result = net::error::timed_out;
    stream.expires_after(std::chrono::seconds(10));
    stream.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port),
                         [&](const error_code& ec) { result = ec; });
    ioc.run();
    return result;
}

}  // namespace

TEST_CASE("flaky_server go_down refuses connections and forgets sessions; come_back listens on the same port",
          "[flaky_server][outage]") {
    flaky_server server;
    const std::uint16_t port = server.port();
    client a(port);
    client idle(port);
    const std::string session = open_session(a);
    CHECK(a.post(call(2, "count", "key", "k"), session).status == 200);
    REQUIRE(eventually([&] { return server.open_connections() == 2; }));
    CHECK(server.is_up());
    CHECK(server.outages() == 0);

    server.go_down();
    CHECK_FALSE(server.is_up());
    CHECK(server.outages() == 1);
    CHECK(server.sessions_alive() == 0);
    CHECK(server.session_ids().empty());
    CHECK(server.open_connections() == 0);
    CHECK(server.executions("k") == 1);  // side effects survive, as in a database
    CHECK(is_connection_gone(idle.read().ec));
    CHECK(is_connection_gone(a.post(rpc(3, "ping"), session).ec));
    // Refused at once, as by a port nobody listens on: not a hang, not a reset after accepting.
    const auto start = std::chrono::steady_clock::now();
    CHECK(try_connect(port) == net::error::connection_refused);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    server.go_down();  // already down: no effect
    CHECK(server.outages() == 1);

    server.come_back();
    CHECK(server.is_up());
    CHECK(server.port() == port);
    client b(port);
    const answer lost = b.post(rpc(4, "ping"), session);  // the old session is gone
    CHECK(lost.status == 404);
    const std::string fresh = open_session(b);
    CHECK(fresh != session);
    CHECK(server.sessions_alive() == 1);
    CHECK(server.session_ids() == std::vector<std::string>{fresh});
    CHECK(b.post(call(5, "count", "key", "k"), fresh).body == text_result(5, "2"));
    server.come_back();  // already up: no effect
    CHECK(server.is_up());

    SECTION("again: each outage counts, sessions opened meanwhile are forgotten") {
        server.go_down();
        CHECK(server.sessions_alive() == 0);
        CHECK(try_connect(port) == net::error::connection_refused);
        server.come_back();
        CHECK(server.outages() == 2);
        client c(port);
        open_session(c);
        CHECK(server.sessions_alive() == 1);
    }
    SECTION("a pending delay ends with the outage") {
        server.inject(fault::delay(std::chrono::hours(1)), fault_match::tool_call());
        REQUIRE_FALSE(b.write(http::verb::post, "/mcp", call(6, "count", "key", "k"), {{"Mcp-Session-Id", fresh}}));
        REQUIRE(eventually([&] { return server.faults_applied() == 1; }));
        server.go_down();
        CHECK(is_connection_gone(b.read().ec));
        CHECK(server.executions("k") == 2);
    }
}

TEST_CASE("flaky_server outage comes back on its own timer; stop() ends it", "[flaky_server][outage]") {
    flaky_server server;
    const std::uint16_t port = server.port();
    client a(port);
    open_session(a);

    SECTION("it returns at once and comes back after the time") {
        const auto start = std::chrono::steady_clock::now();
        server.outage(std::chrono::milliseconds(400));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400));  // no waiting for the end
        CHECK_FALSE(server.is_up());
        CHECK(server.sessions_alive() == 0);
        CHECK(server.outages() == 1);
        REQUIRE(eventually([&] { return server.is_up(); }));
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(400));
        client b(port);
        const answer init = b.post(initialize_body());
        CHECK(init.status == 200);
        CHECK(server.sessions_alive() == 1);
    }
    SECTION("come_back() ends it early; a later go_down() is not undone by the old timer") {
        server.outage(std::chrono::milliseconds(300));
        server.come_back();
        CHECK(server.is_up());
        server.go_down();
        CHECK(server.outages() == 2);
        // Watched past the end of the first outage (300 ms): the server stays down.
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
        bool came_up = false;
        while (!came_up && std::chrono::steady_clock::now() < until) {
            came_up = server.is_up();
            std::this_thread::yield();
        }
        CHECK_FALSE(came_up);
        CHECK(try_connect(port) == net::error::connection_refused);
    }
    SECTION("stop() during an outage returns promptly and it never comes back") {
        server.outage(std::chrono::hours(1));
        const auto start = std::chrono::steady_clock::now();
        server.stop();
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
        CHECK_FALSE(server.is_up());
        server.come_back();  // after stop(): no effect
        CHECK_FALSE(server.is_up());
        CHECK(try_connect(port) == net::error::connection_refused);
    }
}

TEST_CASE("flaky_server in_band_200 answers a lost session with 200 and the request's id", "[flaky_server]") {
    flaky_server_options options;
    options.lost_session = lost_session_style::in_band_200;
    flaky_server server(options);
    CHECK(mcp_recovery::beast::testing::to_string(lost_session_style::in_band_200) == "in_band_200");
    client c(server.port());
    const std::string session = open_session(c);
    REQUIRE(server.expire_session(session));

    const answer a = c.post(call(7, "count", "key", "k"), session);
    CHECK_FALSE(a.ec);
    CHECK(a.status == 200);
    CHECK(a.content_type == "application/json");
    CHECK(a.body == R"({"jsonrpc":"2.0","id":7,"error":{"code":-32001,"message":"Session not found"}})");
    CHECK(c.post(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})", session).body ==
          R"({"jsonrpc":"2.0","id":"abc","error":{"code":-32001,"message":"Session not found"}})");
    CHECK(server.executions("k") == 0);
    // No request to answer (DELETE): the id is null.
    const answer del = c.request(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}});
    CHECK(del.status == 200);
    CHECK(del.body == R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}})");
    CHECK(server.lost_session_answers() == 3);

    SECTION("in SSE mode the request's answer is the response event") {
        server.set_response_mode(response_mode::sse);
        const answer s = c.post(rpc(8, "tools/list"), session);
        CHECK(s.status == 200);
        CHECK(s.content_type == "text/event-stream");
        const sse_events parsed = parse_sse(s.body);
        REQUIRE(parsed.events.size() == 1);
        CHECK(parsed.events.front().data ==
              R"({"jsonrpc":"2.0","id":8,"error":{"code":-32001,"message":"Session not found"}})");
    }
}

TEST_CASE("flaky_server close_after_response closes every connection after its answer", "[flaky_server][keep_alive]") {
    const bool at_construction = GENERATE(true, false);
    flaky_server_options options;
    options.close_after_response = at_construction;
    flaky_server server(options);
    if (!at_construction) server.set_close_after_response(true);
    client c(server.port());
    const answer init = c.post(initialize_body());
    CHECK(init.status == 200);
    CHECK_FALSE(init.keep_alive);  // Connection: close
    CHECK(is_connection_gone(c.read().ec));
    CHECK(eventually([&] { return server.open_connections() == 0; }));

    // Errors and SSE answers too.
    client d(server.port());
    CHECK_FALSE(d.post(rpc(2, "ping")).keep_alive);  // 400: no session id
    CHECK(is_connection_gone(d.read().ec));
    server.set_response_mode(response_mode::sse);
    client e(server.port());
    const answer sse = e.post(rpc(3, "ping"), init.session_id);
    CHECK(sse.content_type == "text/event-stream");
    CHECK_FALSE(sse.keep_alive);
    CHECK(is_connection_gone(e.read().ec));

    server.set_close_after_response(false);
    client f(server.port());
    CHECK(f.post(rpc(4, "ping"), init.session_id).keep_alive);
    CHECK(f.post(rpc(5, "ping"), init.session_id).keep_alive);  // the same connection
    CHECK(server.connections_accepted() == 4);
}

TEST_CASE("flaky_server reset_before_execute resets the connection and keeps the session", "[flaky_server]") {
    flaky_server server;
    client setup(server.port());
    const std::string session = open_session(setup);
    REQUIRE(server.sessions_alive() == 1);
    server.inject(fault::reset_before_execute(), fault_match::tool_call());
    client c(server.port());
    CHECK(c.post(call(2, "count", "key", "k"), session).ec == net::error::connection_reset);
    CHECK(server.sessions_alive() == 1);
    CHECK(server.session_ids() == std::vector<std::string>{session});
    CHECK(server.executions("k") == 0);
    client after(server.port());
    CHECK(after.post(call(3, "count", "key", "k"), session).body == text_result(3, "1"));
    CHECK(server.initializes() == 1);
}

namespace {

/// The raw bytes of a POST to /mcp of `body` in session `session`, for writing several at once.
std::string raw_post(const std::string& body, const std::string& session) {
    return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\n"
           "Content-Type: application/json\r\nMcp-Session-Id: " +
           session + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("flaky_server require_initialized refuses requests before notifications/initialized, as the Python SDK",
          "[flaky_server][lifecycle]") {
    flaky_server_options o;
    o.require_initialized = true;
    flaky_server server(o);
    client c(server.port());
    const answer init = c.post(initialize_body());
    REQUIRE(init.status == 200);
    const std::string session = init.session_id;

    // Not executed, and answered as the Python SDK's server answers it.
    const answer early = c.post(call(2, "count", "key", "early"), session);
    CHECK(early.status == 200);
    CHECK(early.body == R"({"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid request parameters"}})");
    CHECK(server.executions("early") == 0);
    CHECK(server.requests_before_initialized() == 1);
    // ping is allowed before it.
    CHECK(c.post(rpc(3, "ping"), session).body == R"({"jsonrpc":"2.0","id":3,"result":{}})");

    CHECK(c.post(notification("notifications/initialized"), session).status == 202);
    const answer late = c.post(call(4, "count", "key", "late"), session);
    CHECK(late.body == text_result(4, "1"));
    CHECK(server.executions("late") == 1);
    CHECK(server.requests_before_initialized() == 1);

    // Off (the default), the same early request runs.
    flaky_server lax;
    client d(lax.port());
    const answer lax_init = d.post(initialize_body());
    CHECK(d.post(call(2, "count", "key", "early"), lax_init.session_id).body == text_result(2, "1"));
    CHECK(lax.requests_before_initialized() == 0);
}

TEST_CASE("flaky_server serves pipelined requests in order: the notification is processed before the call",
          "[flaky_server][lifecycle]") {
    flaky_server_options o;
    o.require_initialized = true;
    flaky_server server(o);
    client c(server.port());
    const answer init = c.post(initialize_body());
    REQUIRE(init.status == 200);
    // Both requests in one write, before either answer is read (HTTP/1.1 pipelining).
    REQUIRE_FALSE(c.write_raw(raw_post(notification("notifications/initialized"), init.session_id) +
                              raw_post(call(2, "count", "key", "piped"), init.session_id)));
    const answer first = c.read();
    CHECK(first.status == 202);
    const answer second = c.read();
    CHECK(second.status == 200);
    CHECK(second.body == text_result(2, "1"));
    CHECK(server.requests_before_initialized() == 0);
    CHECK(server.executions("piped") == 1);
}

TEST_CASE("flaky_server session_idle_timeout forgets a session idle for longer", "[flaky_server][idle]") {
    flaky_server_options o;
    o.session_idle_timeout = std::chrono::milliseconds(400);
    flaky_server server(o);
    client c(server.port());
    const std::string session = open_session(c);
    // Activity well within the timeout keeps it (each message starts the idle time again).
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(c.post(rpc(10 + i, "ping"), session).status == 200);
    }
    CHECK(server.idle_expirations() == 0);
    // Idle for 2.5 times the timeout: gone, with the lost-session answer, when the next message comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    CHECK(server.sessions_alive() == 1);  // forgotten when heard of, not before
    const answer lost = c.post(rpc(20, "ping"), session);
    CHECK(lost.status == 404);
    CHECK(server.idle_expirations() == 1);
    CHECK(server.sessions_alive() == 0);
    CHECK(server.lost_session_answers() == 1);
}
