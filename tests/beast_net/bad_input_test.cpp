// Hostile and broken servers: each answer gets a clear failure with the right delivery, never a
// crash, a hang, an unbounded allocation or a silent replay.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"

#include <chrono>
#include <cstdio>
#include <string>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

namespace {

/// A server that initializes properly and answers every other request with `answer`.
raw_http_server::script mcp_script(std::function<raw_answer(const std::string&)> answer,
                                   std::string session = "sid-1") {
    return [answer = std::move(answer), session = std::move(session)](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) return {initialize_answer(req, session), false, true};
        if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
        return answer(req);
    };
}

mb::transport_options options_for(const raw_http_server& s) {
    mb::transport_options o;
    o.url = s.url();
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    return o;
}

const mb::request tool_call{"tools/call", R"({"name":"count","arguments":{"key":"k"}})"};

failure send_failure(mb::streamable_http_transport& t, const mb::request& r = tool_call) {
    REQUIRE(t.connect());
    auto out = t.send(r);
    REQUIRE_FALSE(out);
    return out.error();
}

/// One chunk of a chunked body.
std::string chunk_of(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

std::string json_result(const std::string& req) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(request_id(req)) + R"(,"result":{}})";
}

}  // namespace

namespace {

/// How many requests with `method` the server received.
std::size_t sent(const raw_http_server& server, const std::string& method) {
    std::size_t n = 0;
    for (const auto& r : server.received())
        if (is_method(r, method)) ++n;
    return n;
}

}  // namespace

TEST_CASE("malformed answers are unusable: permanent, delivery unknown, never replayed", "[beast][bad_input]") {
    std::string body;
    std::string content_type = "application/json";
    SECTION("malformed JSON") { body = R"({"jsonrpc":"2.0","id":)"; }
    SECTION("valid JSON that is not a JSON-RPC response") { body = R"({"hello":"world"})"; }
    SECTION("a response with another id") { body = R"({"jsonrpc":"2.0","id":999999,"result":{}})"; }
    SECTION("a JSON-RPC batch") { body = R"([{"jsonrpc":"2.0","id":2,"result":{}}])"; }
    SECTION("wrong content type") {
        content_type = "text/html";
        body = "<html>hello</html>";
    }
    raw_http_server server(mcp_script([&](const std::string&) { return raw_answer{http_response(200, content_type, body)}; }));
    mb::streamable_http_transport t(options_for(server));
    failure f = send_failure(t);
    CHECK(f.transport_error == transport_errc::malformed_response);
    CHECK(f.delivered == delivery::unknown);
    CHECK(f.http_status == 200);
    CHECK(default_classifier{}.classify(f) == failure_kind::permanent);
}

TEST_CASE("a recovering call gives up on a malformed answer without sending again", "[beast][bad_input]") {
    raw_http_server server(mcp_script([](const std::string&) { return raw_answer{http_response(200, "application/json", "{")}; }));
    recovering_client<mb::streamable_http_transport> client{std::in_place, options_for(server)};
    REQUIRE(client.transport().connect());
    const auto before = server.requests();
    auto r = client.try_call({"tools/list", "{}"});  // idempotent, yet a retry could not help
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    CHECK(server.requests() == before + 1);
    CHECK(sent(server, "tools/list") == 1);
}

TEST_CASE("oversized answers are refused at the limit", "[beast][bad_input][limits]") {
    SECTION("JSON body over max_body_size") {
        raw_http_server server(mcp_script([](const std::string& req) {
            std::string big = R"({"jsonrpc":"2.0","id":)" + std::to_string(request_id(req)) + R"(,"result":{"x":")" +
                              std::string(100000, 'a') + "\"}}";
            return raw_answer{http_response(200, "application/json", big)};
        }));
        auto o = options_for(server);
        o.max_body_size = 4096;
        mb::streamable_http_transport t(o);
        failure f = send_failure(t);
        CHECK(f.transport_error == transport_errc::response_too_large);
        CHECK(f.delivered == delivery::unknown);
    }
    SECTION("an endless event stream stops at max_stream_size") {
        raw_http_server server(mcp_script([](const std::string&) {
            std::string stream = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
            for (int i = 0; i < 4000; ++i)
                stream += "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n";
            return raw_answer{stream, true};  // and never ends
        }));
        auto o = options_for(server);
        o.max_stream_size = 64 * 1024;
        std::size_t notifications = 0;
        o.on_message = [&](std::string_view) { ++notifications; };
        mb::streamable_http_transport t(o);
        const auto start = std::chrono::steady_clock::now();
        failure f = send_failure(t);
        CHECK(std::chrono::steady_clock::now() - start < 4s);  // stopped by the limit, not by the timeout
        CHECK(f.transport_error == transport_errc::response_too_large);
        CHECK(notifications > 100);
        CHECK(notifications < 4000);
    }
    SECTION("one event over max_event_size") {
        raw_http_server server(mcp_script([](const std::string&) {
            std::string stream = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 200010\r\n\r\n";
            stream += "data: " + std::string(200000, 'x') + "\n\n";
            stream.resize(stream.find("\r\n\r\n") + 4 + 200010, '\n');
            return raw_answer{stream};
        }));
        auto o = options_for(server);
        o.max_event_size = 8192;
        mb::streamable_http_transport t(o);
        failure f = send_failure(t);
        CHECK(f.transport_error == transport_errc::response_too_large);
    }
    SECTION("headers over max_header_size") {
        raw_http_server server(mcp_script([](const std::string& req) {
            return raw_answer{http_response(200, "application/json", json_result(req),
                                            "X-Padding: " + std::string(64 * 1024, 'p') + "\r\n")};
        }));
        mb::streamable_http_transport t(options_for(server));
        failure f = send_failure(t);
        CHECK(f.transport_error == transport_errc::response_too_large);
    }
}

TEST_CASE("a truncated event stream is a lost connection with delivery unknown", "[beast][bad_input][sse]") {
    SECTION("cut in the middle of an event") {
        raw_http_server server(mcp_script([](const std::string&) {
            return raw_answer{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                              "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\""};
        }));
        mb::streamable_http_transport t(options_for(server));
        failure f = send_failure(t);
        CHECK(f.transport_error == transport_errc::stream_ended);
        CHECK(f.delivered == delivery::unknown);
        CHECK(default_classifier{}.classify(f) == failure_kind::connection_lost);
    }
    SECTION("ended after a notification, before the response") {
        raw_http_server server(mcp_script([](const std::string&) {
            return raw_answer{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                              "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n"};
        }));
        mb::streamable_http_transport t(options_for(server));
        failure f = send_failure(t);
        CHECK(f.transport_error == transport_errc::stream_ended);
        CHECK(f.delivered == delivery::unknown);
    }
    SECTION("a non-idempotent call on it is not replayed") {
        raw_http_server server(mcp_script([](const std::string&) {
            return raw_answer{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {"};
        }));
        recovering_client<mb::streamable_http_transport> client{std::in_place, options_for(server)};
        REQUIRE(client.transport().connect());
        const auto before = server.requests();
        auto r = client.try_call(tool_call);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(server.requests() == before + 1);
        CHECK(sent(server, "tools/call") == 1);
    }
}

TEST_CASE("hostile session ids are refused at initialize", "[beast][bad_input][session]") {
    const std::string bad = GENERATE(std::string("has space"), std::string("caf\xC3\xA9"), std::string(2000, 'x'),
                                     std::string("tab\there"));
    CAPTURE(bad);
    raw_http_server server(mcp_script([](const std::string& req) { return raw_answer{http_response(200, "application/json", json_result(req))}; }, bad));
    mb::streamable_http_transport t(options_for(server));
    auto c = t.connect();
    REQUIRE_FALSE(c);
    CHECK(c.error().transport_error == transport_errc::invalid_session_id);
    CHECK(t.generation() == 0);
    CHECK(t.session_id().empty());
    // and nothing is sent with it
    for (const auto& req : server.received()) CHECK(req.find(bad) == std::string::npos);
}

TEST_CASE("session ids and headers that could inject headers are refused", "[beast][bad_input][session]") {
    raw_http_server server(mcp_script([](const std::string& req) { return raw_answer{http_response(200, "application/json", json_result(req))}; }));
    mb::streamable_http_transport t(options_for(server));
    CHECK_FALSE(t.adopt_session_id("a\r\nX-Injected: 1"));
    CHECK_FALSE(t.adopt_session_id(""));
    CHECK(t.adopt_session_id("visible-ascii-!~"));
    mb::transport_options o = options_for(server);
    o.headers = {{"X-Api-Key", "value\r\nX-Injected: 1"}};
    CHECK_THROWS_AS(mb::streamable_http_transport(o), std::invalid_argument);
    o.headers = {{"Bad Name", "v"}};
    CHECK_THROWS_AS(mb::streamable_http_transport(o), std::invalid_argument);
}

TEST_CASE("bad URLs are refused with a message that says why", "[beast][bad_input]") {
    auto why = [](const std::string& url) {
        mb::transport_options o;
        o.url = url;
        try {
            mb::streamable_http_transport t(o);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(why("ftp://127.0.0.1/mcp").find("unsupported URL scheme") != std::string::npos);
    CHECK(why("127.0.0.1:3000/mcp").find("no scheme") != std::string::npos);
    CHECK(why("http://127.0.0.1:99999/mcp").find("port") != std::string::npos);
    CHECK(why("http://user:pw@127.0.0.1/mcp").find("user information") != std::string::npos);
    CHECK(why("http://127.0.0.1/mcp\r\nX: y").find("control character") != std::string::npos);
    CHECK(why("http:///mcp").find("no host") != std::string::npos);
    // Found by fuzz_headers: hosts with bytes a host name cannot have (they reached the Host header).
    CHECK(why("http://ex]ample:80/mcp").find("not allowed in a host name") != std::string::npos);
    CHECK(why("http://caf\xc3\xa9.example/mcp").find("not allowed in a host name") != std::string::npos);
    CHECK(why("http://[::1%25eth0]/mcp").find("IPv6") != std::string::npos);
    CHECK(why("http://[::g]/mcp").find("IPv6") != std::string::npos);
    CHECK(why("http://127.0.0.1:3000/mcp") == "accepted");
    CHECK(why("http://[::1]:3000/mcp") == "accepted");
    CHECK(why("http://mcp.example-host.org/v1?x=1") == "accepted");
}

TEST_CASE("credentials in a URL are refused and never echoed", "[beast][bad_input][url]") {
    for (const std::string url : {"http://alice:s3cret@127.0.0.1:3000/mcp", "https://alice:s3cret@example.com/mcp",
                                  "http://alice:s3/cr#et@127.0.0.1/mcp", "alice:s3cret@127.0.0.1/mcp",
                                  "alice:s3cret@x://127.0.0.1/mcp"}) {
        CAPTURE(mb::redact_url(url));
        mb::transport_options o;
        o.url = url;
        std::string message = "accepted";
        try {
            mb::streamable_http_transport t(o);
        } catch (const std::invalid_argument& e) {
            message = e.what();
        }
        CHECK(message.find("bad URL") != std::string::npos);
        CHECK(message.find("s3cret") == std::string::npos);
        CHECK(message.find("s3/cr") == std::string::npos);
        CHECK(message.find("alice") == std::string::npos);
        if (url.rfind("alice", 0) != 0 && url.find('#') == std::string::npos)
            CHECK(message.find("user information") != std::string::npos);
    }
}

TEST_CASE("redirects are never followed", "[beast][bad_input]") {
    raw_http_server server(mcp_script([](const std::string&) {
        return raw_answer{http_response(307, "text/plain", "moved", "Location: http://127.0.0.1:1/elsewhere\r\n")};
    }));
    mb::streamable_http_transport t(options_for(server));
    failure f = send_failure(t);
    CHECK(f.transport_error == transport_errc::redirect_refused);
    CHECK(f.http_status == 307);
    CHECK(f.delivered == delivery::rejected);
    CHECK(default_classifier{}.classify(f) == failure_kind::permanent);
}

TEST_CASE("a silent server is cut off by the read timeout (slow loris)", "[beast][bad_input][timeout]") {
    raw_http_server server(mcp_script([](const std::string&) { return raw_answer{"HTTP/1.1 200 OK\r\n", true}; }));
    auto o = options_for(server);
    o.read_timeout = 300ms;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    const auto start = std::chrono::steady_clock::now();
    auto r = t.send(tool_call);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == std::errc::timed_out);
    CHECK(r.error().delivered == delivery::unknown);
    CHECK(took >= 250ms);
    CHECK(took < 5s);

    SECTION("the call's deadline bounds the wait even when the read timeout is longer") {
        o.read_timeout = 30s;
        mb::streamable_http_transport t2(o);
        REQUIRE(t2.connect());
        const auto s2 = std::chrono::steady_clock::now();
        auto r2 = t2.send(tool_call, std::chrono::steady_clock::now() + 300ms);
        REQUIRE_FALSE(r2);
        CHECK(std::chrono::steady_clock::now() - s2 < 5s);
    }
}

TEST_CASE("HTTP error statuses map to failures with the right delivery and hints", "[beast][bad_input]") {
    int status = 0;
    std::string headers;
    delivery expected = delivery::rejected;
    SECTION("429 with Retry-After") {
        status = 429;
        headers = "Retry-After: 7\r\n";
    }
    SECTION("503") { status = 503; }
    SECTION("500 may have run") {
        status = 500;
        expected = delivery::unknown;
    }
    SECTION("502 may have run") {
        status = 502;
        expected = delivery::unknown;
    }
    SECTION("401 with WWW-Authenticate") {
        status = 401;
        headers = "WWW-Authenticate: Bearer\r\n";
    }
    raw_http_server server(mcp_script([&](const std::string&) {
        return raw_answer{http_response(status, "text/plain", "nope " + std::to_string(status), headers)};
    }));
    mb::streamable_http_transport t(options_for(server));
    failure f = send_failure(t);
    CHECK(f.http_status == status);
    CHECK(f.delivered == expected);
    CHECK(f.had_session_id);
    CHECK(f.message == "nope " + std::to_string(status));
    if (status == 429) {
        REQUIRE(f.retry_after);
        CHECK(*f.retry_after == 7s);
    }
    if (status == 401) CHECK(f.www_authenticate);
}

TEST_CASE("a refused connection is not_sent and a reconnect against it fails cleanly", "[beast][bad_input]") {
    std::string url;
    {
        raw_http_server server(mcp_script([](const std::string&) { return raw_answer{}; }));
        url = server.url();
    }  // the port is closed now
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    recovering_client<mb::streamable_http_transport> client{std::in_place, o};
    auto c = client.transport().connect();
    REQUIRE_FALSE(c);
    CHECK(c.error().delivered == delivery::not_sent);
    CHECK(c.error().transport_error == std::errc::connection_refused);
    auto r = client.try_call(tool_call);  // not connected -> one reconnect attempt -> refused
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::reconnect_failed);
}

TEST_CASE("a protocol version the client does not speak fails the initialize", "[beast][bad_input][session]") {
    raw_http_server server([](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) return {initialize_answer(req, "sid", "1999-01-01"), false, true};
        return {http_response(202, "", ""), false, true};
    });
    mb::streamable_http_transport t(options_for(server));
    auto c = t.connect();
    REQUIRE_FALSE(c);
    CHECK(c.error().transport_error == transport_errc::unsupported_protocol_version);
    CHECK(c.error().message.view().find("1999-01-01") != std::string_view::npos);
    CHECK(t.generation() == 0);
}

TEST_CASE("a server that closes the connection after every answer costs no failure", "[beast][keep_alive]") {
    // Each answer ends the connection: the pooled connection is found closed before reuse and a
    // new one is opened, so the request is never written into a dead connection.
    raw_http_server server(mcp_script([](const std::string& req) {
        return raw_answer{http_response(200, "application/json", json_result(req), "Connection: close\r\n")};
    }));
    recovering_client<mb::streamable_http_transport, default_classifier, never_retry> client{std::in_place,
                                                                                             options_for(server)};
    REQUIRE(client.transport().connect());
    for (int i = 0; i < 5; ++i) REQUIRE(client.try_call(tool_call));
    CHECK(client.transport().connections_opened() >= 5);
}

TEST_CASE("an event stream left open after its response costs the drain window, not the read timeout",
          "[beast][keep_alive]") {
    raw_http_server server(mcp_script([](const std::string& req) {
        const std::string event = "data: " + json_result(req) + "\n\n";
        return raw_answer{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              chunk_of(event),
                          /*hang=*/true};
    }));
    auto o = options_for(server);
    o.read_timeout = 5s;
    o.stream_drain_timeout = 20ms;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    const auto start = std::chrono::steady_clock::now();
    auto r = t.send(tool_call);
    REQUIRE(r);
    CHECK_FALSE(r->is_error());
    CHECK(std::chrono::steady_clock::now() - start < 4s);  // the drain gave up, not the 5 s read timeout
}

TEST_CASE("DELETE answered with 405 still ends the session locally", "[beast][session]") {
    raw_http_server server([](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) return {initialize_answer(req, "sid-405"), false, true};
        if (req.rfind("DELETE ", 0) == 0) return {http_response(405, "text/plain", "Method Not Allowed"), false, true};
        return {http_response(202, "", ""), false, true};
    });
    mb::streamable_http_transport t(options_for(server));
    REQUIRE(t.connect());
    REQUIRE(t.terminate());
    CHECK(t.session_id().empty());
    auto r = t.send(tool_call);  // no session any more: not_connected, nothing sent
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::not_connected);
    CHECK(r.error().delivered == delivery::not_sent);
}

TEST_CASE("connect is bounded by connect_timeout when the server never accepts", "[beast][timeout]") {
    // A loopback listener with a full backlog that never accepts: further connects hang in SYN.
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc);
    acceptor.open(boost::asio::ip::tcp::v4());
    acceptor.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen(0);
    const auto port = acceptor.local_endpoint().port();
    std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> fillers;
    for (int i = 0; i < 8; ++i) {
        auto s = std::make_unique<boost::asio::ip::tcp::socket>(ioc);
        // Starting an async connect sends the SYN at once; the io_context is never run.
        s->async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, [](const boost::system::error_code&) {});
        fillers.push_back(std::move(s));
    }
    mb::transport_options o;
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
    o.connect_timeout = 300ms;
    o.read_timeout = 300ms;
    mb::streamable_http_transport t(o);
    const auto start = std::chrono::steady_clock::now();
    auto r = t.connect();
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == std::errc::timed_out);
    CHECK(took < 5s);
}
