// flaky_server's conversation features: subscriptions, logging/setLevel, the listening stream
// (notifications, replay after Last-Event-ID), server requests (the `ask` tool, request_on_listen),
// notifications/cancelled and progress. Raw HTTP over Beast, no transport.
#include <mcp_recovery/beast/testing/flaky_server.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <mcp_recovery/beast/json_lookup.hpp>
#include <mcp_recovery/beast/sse.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using mcp_recovery::beast::decode_string;
using mcp_recovery::beast::find_member;
using mcp_recovery::beast::sse_event;
using mcp_recovery::beast::testing::flaky_server;
using mcp_recovery::beast::testing::flaky_server_options;
using mcp_recovery::beast::testing::response_mode;
using mcp_recovery_tests::eventually;

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One HTTP/1.1 connection to the server: a request, then its response read whole (`read_all`)
/// or event by event (`next_event`). Every operation has a deadline, so that a server that
/// misbehaves fails the test instead of hanging it.
class conn {
public:
    explicit conn(std::uint16_t port) : stream_(ioc_) {
        const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
        REQUIRE_FALSE(run(5s, [&](auto handler) { stream_.async_connect(endpoint, std::move(handler)); }));
    }

    /// Sends a request and reads the response header.
    error_code start(http::verb verb, std::string body, const header_list& headers = {}) {
        parser_.emplace();
        parser_->body_limit(std::uint64_t{8} * 1024 * 1024);
        sse_.reset();
        events_.clear();
        fed_ = 0;
        http::request<http::string_body> req{verb, "/mcp", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::accept, "application/json, text/event-stream");
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        for (const auto& h : headers) req.set(h.first, h.second);
        req.body() = std::move(body);
        req.prepare_payload();
        if (const error_code ec = run(5s, [&](auto handler) { http::async_write(stream_, req, std::move(handler)); })) {
            return ec;
        }
        return run(5s, [&](auto handler) { http::async_read_header(stream_, buffer_, *parser_, std::move(handler)); });
    }

    unsigned status() const { return parser_->get().result_int(); }
    std::string field(std::string_view name) const {
        const auto& res = parser_->get();
        const auto it = res.find(boost::beast::string_view(name.data(), name.size()));
        return it == res.end() ? std::string() : std::string(it->value().data(), it->value().size());
    }

    /// Reads the rest of the response; returns its whole body.
    std::string read_all(std::chrono::milliseconds limit = 5s) {
        if (!parser_->is_done()) last_error_ = run(limit, [&](auto handler) { http::async_read(stream_, buffer_, *parser_, std::move(handler)); });
        return parser_->get().body();
    }

    /// The next SSE event of the response body; nullopt when the body ended (or failed, see
    /// `last_error()`) or `limit` passed first.
    std::optional<sse_event> next_event(std::chrono::milliseconds limit = 5s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (events_.empty()) {
            if (parser_->is_done()) return std::nullopt;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left <= 0ms) return std::nullopt;
            last_error_ = run(left, [&](auto handler) { http::async_read_some(stream_, buffer_, *parser_, std::move(handler)); });
            feed();
            if (last_error_ && events_.empty()) return std::nullopt;
        }
        sse_event e = std::move(events_.front());
        events_.pop_front();
        return e;
    }

    /// Whether the response body ended cleanly (its last chunk arrived) within `limit`, with no
    /// event left unread.
    bool ends_cleanly(std::chrono::milliseconds limit = 5s) {
        if (next_event(limit)) return false;
        return parser_->is_done();
    }

    error_code last_error() const { return last_error_; }

    /// POSTs one message and reads the whole response.
    std::pair<unsigned, std::string> post(std::string body, const std::string& session = {}) {
        header_list headers;
        if (!session.empty()) headers.emplace_back("Mcp-Session-Id", session);
        const error_code ec = start(http::verb::post, std::move(body), headers);
        if (ec) return {0, {}};
        std::string text = read_all();
        return {status(), std::move(text)};
    }

private:
    void feed() {
        const std::string& body = parser_->get().body();
        if (body.size() <= fed_) return;
        std::error_code ec;
        sse_.feed(std::string_view(body).substr(fed_), [&](sse_event& e) { events_.push_back(e); }, ec);
        fed_ = body.size();
        REQUIRE_FALSE(ec);
    }

    template <class Start>
    error_code run(std::chrono::milliseconds limit, Start&& begin) {
        error_code result = net::error::timed_out;
        stream_.expires_after(limit);
        begin([&result](const error_code& ec, auto&&...) { result = ec; });
        ioc_.restart();
        ioc_.run();
        return result;
    }

    net::io_context ioc_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    mcp_recovery::beast::sse_parser sse_;
    std::deque<sse_event> events_;
    std::size_t fed_ = 0;
    error_code last_error_;
};

std::string rpc(int id, std::string_view method, std::string_view params = {}) {
    std::string s = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) + '"';
    if (!params.empty()) s += R"(,"params":)" + std::string(params);
    return s + '}';
}

std::string tool_call(int id, std::string_view tool, std::string_view arguments = "{}", std::string_view meta = {}) {
    std::string params = R"({"name":")" + std::string(tool) + R"(","arguments":)" + std::string(arguments);
    if (!meta.empty()) params += R"(,"_meta":)" + std::string(meta);
    return rpc(id, "tools/call", params + '}');
}

/// initialize + notifications/initialized over `c`; returns the session id.
std::string open_session(conn& c) {
    REQUIRE_FALSE(c.start(http::verb::post,
                          rpc(1, "initialize",
                              R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}})")));
    REQUIRE(c.status() == 200);
    const std::string session = c.field("Mcp-Session-Id");
    c.read_all();
    REQUIRE_FALSE(session.empty());
    REQUIRE(c.post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session).first == 202);
    return session;
}

/// Opens the listening stream on `c` (resuming after `last_event_id` when not empty).
void listen(conn& c, const std::string& session, const std::string& last_event_id = {}) {
    header_list headers{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}};
    if (!last_event_id.empty()) headers.emplace_back("Last-Event-ID", last_event_id);
    REQUIRE_FALSE(c.start(http::verb::get, {}, headers));
}

std::string member(std::string_view json, std::string_view key) {
    const auto raw = find_member(json, key);
    return raw ? std::string(*raw) : std::string();
}

std::string method_of(const sse_event& e) { return decode_string(member(e.data, "method")).value_or(""); }

std::string params_member(const sse_event& e, std::string_view key) { return member(member(e.data, "params"), key); }

/// The text of the first content item of a tools/call result.
std::string result_text(std::string_view response) {
    const std::string content = member(member(response, "result"), "content");
    if (content.size() < 2) return {};
    // One item: strip the array brackets.
    return decode_string(member(std::string_view(content).substr(1, content.size() - 2), "text")).value_or("");
}

}  // namespace

TEST_CASE("flaky_server keeps resources/subscribe per session and forgets it with the session",
          "[flaky_server][conversation]") {
    flaky_server_options options;
    options.advertise_subscriptions_and_logging = true;
    flaky_server server(options);
    conn c(server.port());
    REQUIRE_FALSE(c.start(http::verb::post,
                          rpc(1, "initialize",
                              R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}})")));
    const std::string session = c.field("Mcp-Session-Id");
    const std::string init = c.read_all();
    CHECK(init.find(R"("capabilities":{"tools":{},"resources":{"subscribe":true},"logging":{}})") != std::string::npos);

    CHECK(c.post(rpc(2, "resources/subscribe", R"({"uri":"file:///b"})"), session) ==
          std::make_pair(200u, std::string(R"({"jsonrpc":"2.0","id":2,"result":{}})")));
    CHECK(c.post(rpc(3, "resources/subscribe", R"({"uri":"file:///a"})"), session).first == 200);
    CHECK(c.post(rpc(4, "resources/subscribe", R"({"uri":"file:///a"})"), session).first == 200);  // twice: once
    CHECK(server.subscriptions() == std::vector<std::string>{"file:///a", "file:///b"});
    CHECK(server.subscriptions(session) == std::vector<std::string>{"file:///a", "file:///b"});
    CHECK(server.seen("resources/subscribe") == 3);

    conn other(server.port());
    const std::string second = open_session(other);
    CHECK(other.post(rpc(2, "resources/subscribe", R"({"uri":"file:///c"})"), second).first == 200);
    CHECK(server.subscriptions() == std::vector<std::string>{"file:///a", "file:///b", "file:///c"});

    CHECK(c.post(rpc(5, "resources/unsubscribe", R"({"uri":"file:///b"})"), session).second ==
          R"({"jsonrpc":"2.0","id":5,"result":{}})");
    CHECK(server.subscriptions(session) == std::vector<std::string>{"file:///a"});
    const auto bad = c.post(rpc(6, "resources/subscribe", R"({"url":"x"})"), session);
    CHECK(bad.first == 200);
    CHECK(member(member(bad.second, "error"), "code") == "-32602");

    server.expire_session(second);
    CHECK(server.subscriptions() == std::vector<std::string>{"file:///a"});
    server.restart();
    CHECK(server.subscriptions().empty());
    CHECK(server.subscriptions(session).empty());
}

TEST_CASE("flaky_server keeps logging/setLevel per session", "[flaky_server][conversation]") {
    flaky_server server;
    conn c(server.port());
    const std::string session = open_session(c);
    CHECK_FALSE(server.log_level(session));
    CHECK(c.post(rpc(2, "logging/setLevel", R"({"level":"warning"})"), session).second ==
          R"({"jsonrpc":"2.0","id":2,"result":{}})");
    CHECK(server.log_level(session) == std::optional<std::string>("warning"));
    const auto bad = c.post(rpc(3, "logging/setLevel", R"({"level":"loud"})"), session);
    CHECK(member(member(bad.second, "error"), "code") == "-32602");
    CHECK(server.log_level(session) == std::optional<std::string>("warning"));
    CHECK(server.set_level_calls() == 1);
    CHECK(server.seen("logging/setLevel") == 2);
    server.restart();
    CHECK_FALSE(server.log_level(session));
}

TEST_CASE("flaky_server listening stream: notifications with ids, replay after a drop", "[flaky_server][conversation]") {
    flaky_server_options options;
    options.listening_stream = true;
    flaky_server server(options);
    conn c(server.port());
    const std::string session = open_session(c);

    conn get(server.port());
    listen(get, session);
    CHECK(get.status() == 200);
    CHECK(get.field("Content-Type") == "text/event-stream");
    const auto priming = get.next_event();
    REQUIRE(priming);
    CHECK(priming->data.empty());
    CHECK(priming->id.rfind("L", 0) == 0);
    CHECK(priming->retry == std::chrono::milliseconds(10));
    CHECK(server.listening_streams() == 1);
    CHECK(server.listening_streams_opened() == 1);

    CHECK(server.notify("notifications/tools/list_changed") == 1);
    const auto first = get.next_event();
    REQUIRE(first);
    CHECK(first->type == "message");
    CHECK(first->data == R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
    CHECK_FALSE(first->id.empty());
    CHECK(first->id != priming->id);

    SECTION("log goes to the sessions whose level admits it") {
        CHECK(server.log("error", "nobody asked") == 0);  // no level set: nothing
        REQUIRE(c.post(rpc(2, "logging/setLevel", R"({"level":"warning"})"), session).first == 200);
        CHECK(server.log("info", "too low") == 0);
        CHECK(server.log("error", "disk \"full\"") == 1);
        const auto e = get.next_event();
        REQUIRE(e);
        CHECK(method_of(*e) == "notifications/message");
        CHECK(params_member(*e, "level") == R"("error")");
        CHECK(decode_string(params_member(*e, "data")) == std::optional<std::string>("disk \"full\""));
    }
    SECTION("resource_updated goes to the subscribed sessions") {
        REQUIRE(c.post(rpc(2, "resources/subscribe", R"({"uri":"mem://x"})"), session).first == 200);
        CHECK(server.resource_updated("mem://y") == 0);
        CHECK(server.resource_updated("mem://x") == 1);
        const auto e = get.next_event();
        REQUIRE(e);
        CHECK(e->data == R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"mem://x"}})");
    }
    SECTION("dropped, then resumed with Last-Event-ID: the events sent meanwhile, then live") {
        CHECK(server.drop_listening_streams() == 1);
        CHECK_FALSE(get.next_event());
        CHECK_FALSE(get.ends_cleanly());  // cut, not ended
        REQUIRE(eventually([&] { return server.listening_streams() == 0; }));

        CHECK(server.notify("notifications/a", R"({"n":1})") == 0);  // kept for replay
        CHECK(server.notify_session(session, "notifications/b") == 0);
        CHECK(server.notify_session("no-such-session", "notifications/b") == 0);

        conn again(server.port());
        listen(again, session, first->id);
        CHECK(again.status() == 200);
        const auto a = again.next_event();
        const auto b = again.next_event();
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->data == R"({"jsonrpc":"2.0","method":"notifications/a","params":{"n":1}})");
        CHECK(method_of(*b) == "notifications/b");
        CHECK(a->id != b->id);
        CHECK(server.listening_resumes() == 1);
        CHECK(server.resumption_requests() == 1);
        CHECK(server.listening_streams() == 1);
        CHECK(server.notify("notifications/c") == 1);
        const auto live = again.next_event();
        REQUIRE(live);
        CHECK(method_of(*live) == "notifications/c");

        // The priming event's id replays everything kept after it; an unknown id is refused.
        conn all(server.port());
        listen(all, session, priming->id);
        std::vector<std::string> methods;
        for (int i = 0; i < 4; ++i) {
            const auto e = all.next_event();
            REQUIRE(e);
            methods.push_back(method_of(*e));
        }
        CHECK(methods == std::vector<std::string>{"notifications/tools/list_changed", "notifications/a",
                                                  "notifications/b", "notifications/c"});
        CHECK(again.ends_cleanly());  // replaced by the newer stream
        conn unknown(server.port());
        listen(unknown, session, "L999-1");
        CHECK(unknown.status() == 400);
        CHECK(unknown.read_all().find("Unknown Last-Event-ID") != std::string::npos);
    }
    SECTION("a second GET replaces the first, which ends cleanly") {
        conn second(server.port());
        listen(second, session);
        CHECK(second.status() == 200);
        REQUIRE(second.next_event());  // its priming event
        CHECK(get.ends_cleanly());
        CHECK(server.listening_streams() == 1);
        CHECK(server.notify("notifications/x") == 1);
        const auto e = second.next_event();
        REQUIRE(e);
        CHECK(method_of(*e) == "notifications/x");
    }
    SECTION("the stream closes with its session") {
        CHECK(server.expire_session(session));
        CHECK_FALSE(get.next_event());
        REQUIRE(eventually([&] { return server.listening_streams() == 0; }));
    }
}

TEST_CASE("flaky_server without listening_stream answers GET 405", "[flaky_server][conversation]") {
    flaky_server server;  // listening_stream is off by default
    conn c(server.port());
    const std::string session = open_session(c);
    listen(c, session);
    CHECK(c.status() == 405);
    CHECK(c.field("Allow") == "POST, DELETE");
    c.read_all();
    CHECK(server.listening_streams_opened() == 0);

    server.set_listening_stream(true);
    conn g(server.port());
    listen(g, session);
    CHECK(g.status() == 200);
    server.set_listening_stream(false);
    conn h(server.port());
    listen(h, session);
    CHECK(h.status() == 405);
}

TEST_CASE("flaky_server ask sends a server request on the call's stream and returns the answer",
          "[flaky_server][conversation]") {
    flaky_server server;
    conn c(server.port());
    const std::string session = open_session(c);

    conn call(server.port());
    REQUIRE_FALSE(call.start(http::verb::post, tool_call(7, "ask"), {{"Mcp-Session-Id", session}}));
    CHECK(call.status() == 200);
    CHECK(call.field("Content-Type") == "text/event-stream");
    const auto priming = call.next_event();
    REQUIRE(priming);
    CHECK(priming->data.empty());
    CHECK_FALSE(priming->id.empty());
    const auto request = call.next_event();
    REQUIRE(request);
    CHECK(member(request->data, "id") == "0");  // server request ids start at 0
    CHECK(method_of(*request) == "elicitation/create");
    CHECK_FALSE(member(member(request->data, "params"), "requestedSchema").empty());
    CHECK(server.tool_runs("ask") == 1);

    SECTION("answered: 202, then the call's result carries the answer") {
        const std::string answer =
            R"({"jsonrpc":"2.0","id":0,"result":{"action":"accept","content":{"answer":"yes"}}})";
        CHECK(c.post(answer, session) == std::make_pair(202u, std::string()));
        const auto result = call.next_event();
        REQUIRE(result);
        CHECK(member(result->data, "id") == "7");
        CHECK(result_text(result->data) == answer);
        CHECK(call.ends_cleanly());
        const auto answers = server.client_answers();
        REQUIRE(answers.size() == 1);
        CHECK(answers[0].session_id == session);
        CHECK(answers[0].id == "0");
        CHECK(answers[0].method == "elicitation/create");
        CHECK(answers[0].message == answer);
        CHECK(server.unexpected_answers() == 0);

        // The next server request of the session gets id 1; an error answer is passed on too.
        conn next(server.port());
        REQUIRE_FALSE(next.start(http::verb::post,
                                 tool_call(8, "ask", R"({"method":"sampling/createMessage","params":{"maxTokens":5}})"),
                                 {{"Mcp-Session-Id", session}}));
        REQUIRE(next.next_event());
        const auto second = next.next_event();
        REQUIRE(second);
        CHECK(second->data == R"({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"maxTokens":5}})");
        const std::string refusal = R"({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"User rejected"}})";
        CHECK(c.post(refusal, session).first == 202);
        const auto second_result = next.next_event();
        REQUIRE(second_result);
        CHECK(result_text(second_result->data) == refusal);
        CHECK(server.tool_runs("ask") == 2);
    }
    SECTION("an answer with an unknown id: 202, counted, the call still waits") {
        CHECK(c.post(R"({"jsonrpc":"2.0","id":5,"result":{}})", session).first == 202);
        CHECK(server.unexpected_answers() == 1);
        CHECK(server.client_answers().empty());
        CHECK_FALSE(call.next_event(50ms));
        CHECK(call.last_error() == boost::beast::error::timeout);
    }
    SECTION("cancelled: recorded as in flight, the stream ends without a response") {
        CHECK(c.post(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"bored"}})",
                     session)
                  .first == 202);
        CHECK(call.ends_cleanly());
        const auto cancellations = server.cancellations();
        REQUIRE(cancellations.size() == 1);
        CHECK(cancellations[0].session_id == session);
        CHECK(cancellations[0].request_id == "7");
        CHECK(cancellations[0].reason == "bored");
        CHECK(cancellations[0].in_flight);
        CHECK(server.seen("notifications/cancelled") == 1);
    }
}

TEST_CASE("flaky_server ask answers an error after ask_timeout", "[flaky_server][conversation]") {
    flaky_server_options options;
    options.ask_timeout = 200ms;  // the server's own timer
    flaky_server server(options);
    conn c(server.port());
    const std::string session = open_session(c);
    conn call(server.port());
    REQUIRE_FALSE(call.start(http::verb::post, tool_call(3, "ask"), {{"Mcp-Session-Id", session}}));
    REQUIRE(call.next_event());
    REQUIRE(call.next_event());
    const auto result = call.next_event();
    REQUIRE(result);
    CHECK(result->data == R"({"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"no answer from the client"}})");
    CHECK(call.ends_cleanly());
    // A late answer is still recorded: the request was sent.
    CHECK(c.post(R"({"jsonrpc":"2.0","id":0,"result":{"action":"decline"}})", session).first == 202);
    CHECK(server.client_answers().size() == 1);
    CHECK(server.unexpected_answers() == 0);
}

TEST_CASE("flaky_server request_on_listen sends a server request on the listening stream", "[flaky_server][conversation]") {
    flaky_server_options options;
    options.listening_stream = true;
    flaky_server server(options);
    conn c(server.port());
    const std::string session = open_session(c);
    CHECK_FALSE(server.request_on_listen(session, "roots/list"));  // no stream open

    conn get(server.port());
    listen(get, session);
    REQUIRE(get.next_event());  // priming
    const auto id = server.request_on_listen({}, "roots/list");
    REQUIRE(id);
    CHECK(*id == "0");
    const auto e = get.next_event();
    REQUIRE(e);
    CHECK(e->data == R"({"jsonrpc":"2.0","id":0,"method":"roots/list"})");
    CHECK(server.request_on_listen(session, "ping", "{}") == std::optional<std::string>("1"));

    const std::string answer = R"({"jsonrpc":"2.0","id":0,"result":{"roots":[]}})";
    CHECK(c.post(answer, session).first == 202);
    const auto answers = server.client_answers();
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].id == "0");
    CHECK(answers[0].method == "roots/list");
    CHECK(answers[0].message == answer);
    // Answering the same id twice: the second is unexpected.
    CHECK(c.post(answer, session).first == 202);
    CHECK(server.unexpected_answers() == 1);
}

TEST_CASE("flaky_server records notifications/cancelled", "[flaky_server][conversation]") {
    flaky_server server;
    conn c(server.port());
    const std::string session = open_session(c);
    CHECK(c.post(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"abc","reason":"timeout"}})",
                 session)
              .first == 202);
    CHECK(c.post(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12}})", session).first ==
          202);
    const auto all = server.cancellations();
    REQUIRE(all.size() == 2);
    CHECK(all[0].request_id == R"("abc")");
    CHECK(all[0].reason == "timeout");
    CHECK_FALSE(all[0].in_flight);
    CHECK(all[1].request_id == "12");
    CHECK(all[1].reason.empty());
    CHECK(server.seen("notifications/cancelled") == 2);
    CHECK(server.seen("notifications/initialized") == 1);
    CHECK(server.seen("initialize") == 1);
}

TEST_CASE("flaky_server progress tool reports progress to a token", "[flaky_server][conversation]") {
    flaky_server server;
    conn c(server.port());
    const std::string session = open_session(c);

    const std::string token = GENERATE(std::string(R"("tok-1")"), std::string("0"));
    CAPTURE(token);
    conn call(server.port());
    REQUIRE_FALSE(call.start(http::verb::post,
                             tool_call(4, "progress", R"({"steps":4,"interval_ms":5})", R"({"progressToken":)" + token + "}"),
                             {{"Mcp-Session-Id", session}}));
    CHECK(call.field("Content-Type") == "text/event-stream");
    const auto priming = call.next_event();
    REQUIRE(priming);
    CHECK(priming->data.empty());
    for (int k = 1; k <= 4; ++k) {
        const auto e = call.next_event();
        REQUIRE(e);
        CHECK(e->data == R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":)" + token +
                             R"(,"progress":)" + std::to_string(k) + R"(,"total":4,"message":"step )" +
                             std::to_string(k) + R"("}})");
    }
    const auto result = call.next_event();
    REQUIRE(result);
    CHECK(result->data == R"({"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"done 4"}]}})");
    CHECK(call.ends_cleanly());
    CHECK(server.tool_runs("progress") == 1);
}

TEST_CASE("flaky_server progress tool without a token just answers", "[flaky_server][conversation]") {
    flaky_server server;
    conn c(server.port());
    const std::string session = open_session(c);
    CHECK(c.post(tool_call(5, "progress", R"({"steps":2,"interval_ms":1})"), session) ==
          std::make_pair(200u, std::string(R"({"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"done 2"}]}})")));
    server.set_response_mode(response_mode::sse);
    const auto sse = c.post(tool_call(6, "progress", R"({"steps":0})"), session);
    CHECK(sse.second.find(R"("text":"done 0")") != std::string::npos);
    CHECK(c.post(tool_call(7, "progress", R"({"steps":-1})"), session).second.find("-32602") != std::string::npos);

    // A client that goes away stops the run; the server stays fine.
    {
        conn gone(server.port());
        REQUIRE_FALSE(gone.start(http::verb::post, tool_call(8, "progress", R"({"steps":100,"interval_ms":5000})",
                                                             R"({"progressToken":1})"),
                                 {{"Mcp-Session-Id", session}}));
        REQUIRE(gone.next_event());
    }
    REQUIRE(eventually([&] { return server.open_connections() == 1; }));
    CHECK(c.post(rpc(9, "ping"), session).first == 200);
}

TEST_CASE("flaky_server restart ends a listening stream and a waiting ask promptly", "[flaky_server][conversation]") {
    flaky_server_options options;
    options.listening_stream = true;  // ask_timeout stays 10 s: only restart() can end it in time
    flaky_server server(options);
    conn c(server.port());
    const std::string session = open_session(c);
    conn get(server.port());
    listen(get, session);
    REQUIRE(get.next_event());
    conn call(server.port());
    REQUIRE_FALSE(call.start(http::verb::post, tool_call(2, "ask"), {{"Mcp-Session-Id", session}}));
    REQUIRE(call.next_event());
    REQUIRE(call.next_event());

    const auto before = std::chrono::steady_clock::now();
    server.restart();
    CHECK_FALSE(get.next_event(3s));
    CHECK(get.last_error() != boost::beast::error::timeout);
    CHECK_FALSE(call.next_event(3s));
    CHECK(call.last_error() != boost::beast::error::timeout);
    CHECK(std::chrono::steady_clock::now() - before < 3s);
    CHECK(server.listening_streams() == 0);
    CHECK(server.sessions_alive() == 0);

    SECTION("go_down and stop are prompt too") {
        conn c2(server.port());
        const std::string s2 = open_session(c2);
        conn get2(server.port());
        listen(get2, s2);
        REQUIRE(get2.next_event());
        conn call2(server.port());
        REQUIRE_FALSE(call2.start(http::verb::post, tool_call(2, "ask"), {{"Mcp-Session-Id", s2}}));
        REQUIRE(call2.next_event());
        REQUIRE(call2.next_event());
        server.go_down();
        CHECK_FALSE(get2.next_event(3s));
        CHECK_FALSE(call2.next_event(3s));
        server.come_back();
        conn c3(server.port());
        const std::string s3 = open_session(c3);
        conn get3(server.port());
        listen(get3, s3);
        REQUIRE(get3.next_event());
        server.stop();
        CHECK_FALSE(get3.next_event(3s));
        CHECK(get3.last_error() != boost::beast::error::timeout);
    }
}
