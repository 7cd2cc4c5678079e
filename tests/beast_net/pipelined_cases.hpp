// The cases of `transport_options::pipeline_initialized`, written once for both flavours: the
// synchronous client (pipelined_initialized_test.cpp) and the awaitable one
// (beast_async/async_pipelined_initialized_test.cpp) run the same functions with a driver each.
//
// A driver `D` is built from `transport_options` and offers:
//   bool connect();                                 // the first session (its handshake complete)
//   bool reconnect();                               // a new session by hand (notification owed)
//   bool call(const mb::request&);                  // through the recovering client: a success, no tool error
//   std::size_t storm(std::size_t n, const mb::request&);  // n callers at once; how many succeeded
//   bool notify(std::string_view method);          // a notification on the session
//   mb::conversation_stats stats() const;           // the transport's
#ifndef MCP_RECOVERY_TESTS_PIPELINED_CASES_HPP
#define MCP_RECOVERY_TESTS_PIPELINED_CASES_HPP

#include <utility>

#include "mcp_recovery/beast/messages.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/beast/transport_options.hpp"

#include "catch.hpp"
#include "hostile_cases.hpp"
#include "raw_http_server.hpp"

#include <chrono>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace mcp_recovery_tests::pipelined {

namespace mb = mcp_recovery::beast;
namespace mbt = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

inline mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}

/// A server that enforces the lifecycle order as the Python SDK's does.
inline mbt::flaky_server_options ordered() {
    mbt::flaky_server_options o;
    o.require_initialized = true;
    return o;
}

inline mb::transport_options options(const std::string& url, bool pipelined) {
    mb::transport_options o;
    o.url = url;
    o.pipeline_initialized = pipelined;
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    return o;
}

/// A recovery sends notifications/initialized with the replay, and the server, which refuses any
/// request that comes before it, runs the replay once; without pipelining, the same outcome.
template <class D>
void recovery_keeps_the_order(bool pipelined) {
    mbt::flaky_server server(ordered());
    D d(options(server.url(), pipelined));
    REQUIRE(d.connect());
    REQUIRE(d.call(count_call("first")));  // connect() completed its handshake: nothing carried
    CHECK(server.expire_all_sessions() == 1);
    REQUIRE(d.call(count_call("replayed")));
    CHECK(server.requests_before_initialized() == 0);
    CHECK(server.executions("first") == 1);
    CHECK(server.executions("replayed") == 1);
    CHECK(server.initializes() == 2);
    CHECK(server.seen("notifications/initialized") == 2);  // one per session, never twice
    CHECK(d.stats().initialized_pipelined == (pipelined ? 1u : 0u));
    CHECK(d.stats().initialized_refused == 0);
}

/// Many callers meet the expired session at once: one initialize, one notification, carried by
/// one of them; every other request waits for its answer, so none arrives before it.
template <class D>
void storm_sends_one_notification(std::size_t callers) {
    mbt::flaky_server server(ordered());
    D d(options(server.url(), true));
    REQUIRE(d.connect());
    REQUIRE(d.call(count_call("warm")));
    for (int round = 0; round < 3; ++round) {
        server.expire_all_sessions();
        CHECK(d.storm(callers, count_call("storm")) == callers);
    }
    CHECK(server.requests_before_initialized() == 0);
    CHECK(server.initializes() == 4);
    CHECK(server.seen("notifications/initialized") == 4);
    CHECK(server.executions("storm") == 3 * callers);
    CHECK(d.stats().initialized_pipelined == 3);
}

/// A server that closes every connection after its answer (`Connection: close`) reads nothing
/// after the notification: the request goes again, alone, on a new connection, and runs once.
template <class D>
void connection_close_after_the_notification_resends_the_request() {
    mbt::flaky_server_options o = ordered();
    o.close_after_response = true;
    mbt::flaky_server server(o);
    D d(options(server.url(), true));
    REQUIRE(d.connect());
    REQUIRE(d.call(count_call("a")));
    server.expire_all_sessions();
    REQUIRE(d.call(count_call("b")));
    CHECK(server.executions("a") == 1);
    CHECK(server.executions("b") == 1);
    CHECK(server.requests_before_initialized() == 0);
    CHECK(server.seen("notifications/initialized") == 2);
    CHECK(d.stats().initialized_pipelined == 1);
}

/// A notification of the application carries the owed one as a request would.
template <class D>
void a_notification_carries_it_too() {
    mbt::flaky_server server(ordered());
    D d(options(server.url(), true));
    REQUIRE(d.connect());
    CHECK(server.seen("notifications/initialized") == 1);  // connect() completes the handshake
    REQUIRE(d.reconnect());
    CHECK(server.seen("notifications/initialized") == 1);  // owed: nothing sent yet
    REQUIRE(d.notify("notifications/roots/list_changed"));
    CHECK(server.seen("notifications/initialized") == 2);
    CHECK(server.seen("notifications/roots/list_changed") == 1);
    CHECK(d.stats().initialized_pipelined == 1);
    REQUIRE(d.call(count_call("after")));
    CHECK(server.seen("notifications/initialized") == 2);
    CHECK(server.requests_before_initialized() == 0);
}

/// Hostile answers to the carried notification, from a server that writes exactly these bytes:
/// a refusal with a body (the request is still answered, as the server chose, and the refusal is
/// counted); an interim 100 before the 202; an oversized body (a clear error, the connection
/// closed, never read as the request's answer).
template <class D>
void hostile_answers_to_the_notification() {
    using namespace mcp_recovery_tests::hostile;
    auto json = [](const std::string& req) { return http_response(200, "application/json", own_result(req)); };
    SECTION("refused with 400 and a body: the request's own answer still comes") {
        auto notifications = std::make_shared<std::atomic<int>>(0);
        raw_http_server server([&, notifications](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-r"), false, true};
            if (is_method(req, "notifications/initialized") && notifications->fetch_add(1) == 0)
                return {http_response(202, "", ""), false, true};  // connect()'s
            if (is_method(req, "notifications/initialized"))
                return {http_response(400, "application/json",
                                      R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"no"},"id":null})"),
                        false, true};
            return {json(req), false, true};
        });
        D d(options(server.url(), true));
        REQUIRE(d.connect());
        REQUIRE(d.reconnect());  // the notification owed: the next call carries it
        CHECK(d.call(marked_call("m1")));
        CHECK(d.stats().initialized_pipelined == 1);
        CHECK(d.stats().initialized_refused == 1);
        CHECK(d.call(marked_call("m2")));  // the connection stays in order
        CHECK(server.requests() == 6);  // 2 x (initialize, notification), m1, m2: nothing sent twice
    }
    SECTION("an interim 100 Continue before the 202 is skipped") {
        raw_http_server server([&](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-c"), false, true};
            if (is_method(req, "notifications/initialized"))
                return {"HTTP/1.1 100 Continue\r\n\r\n" + http_response(202, "", ""), false, true};
            return {json(req), false, true};
        });
        D d(options(server.url(), true));
        REQUIRE(d.connect());
        REQUIRE(d.reconnect());
        CHECK(d.call(marked_call("c1")));
        CHECK(d.stats().initialized_pipelined == 1);
        CHECK(d.stats().initialized_refused == 0);
    }
    SECTION("an oversized answer to the notification is an error, never read as the request's answer") {
        auto oversized = std::make_shared<std::atomic<int>>(2);
        raw_http_server server([&, oversized](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-o"), false, true};
            if (is_method(req, "notifications/initialized")) {
                if (oversized->fetch_sub(1) == 1)  // the second one: the first is connect()'s
                    return {http_response(400, "text/plain", std::string(200 * 1024, 'x')), false, true};
                return {http_response(202, "", ""), false, true};
            }
            return {json(req), false, true};
        });
        mb::transport_options o = options(server.url(), true);
        o.max_error_body_size = 1024;
        D d(o);
        REQUIRE(d.connect());
        REQUIRE(d.reconnect());
        CHECK_FALSE(d.call(marked_call("o1")));  // not replayed: it may have run
        CHECK(d.stats().initialized_pipelined == 0);
        // The notification was not answered: it goes again, with the next request.
        CHECK(d.call(marked_call("o2")));
        CHECK(d.stats().initialized_pipelined == 1);
    }
    SECTION("a server that writes a stray CRLF after its answers is not pipelined with") {
        raw_http_server server([&](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-s") + "\r\n", false, true};
            if (is_method(req, "notifications/initialized")) return {http_response(202, "", "") + "\r\n", false, true};
            return {json(req) + "\r\n", false, true};
        });
        D d(options(server.url(), true));
        REQUIRE(d.connect());
        REQUIRE(d.reconnect());  // its initialize answer was followed by a stray CRLF
        CHECK(d.call(marked_call("s1")));
        CHECK(d.call(marked_call("s2")));
        CHECK(d.stats().initialized_pipelined == 0);  // the notification went on its own
        CHECK(server.requests() == 6);
    }
}

}  // namespace mcp_recovery_tests::pipelined

#endif
