// The awaitable Streamable-HTTP transport over real loopback HTTP (flaky_server and scripted raw
// servers), alone and under async_recovering_client: the same behaviour, limits and failure
// mapping as the synchronous transport, timeouts that fire, storms of coroutines, faults,
// stream resumption and per-operation cancellation.
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"

#include "async_support.hpp"
#include "catch.hpp"
#include "raw_http_server.hpp"
#include "test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
namespace net = boost::asio;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

namespace {

using async_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, retry_once,
                                                 exponential_backoff, mb::async_single_flight_reconnector<no_backoff>,
                                                 counting_observer>;

mb::transport_options options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = 1s;
    o.resume_delay = 10ms;
    return o;
}

mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}
const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
call_options read_only() {
    call_options o;
    o.annotations = tool_annotations{true, false};
    return o;
}

struct fixture {
    explicit fixture(fs::response_mode mode = fs::response_mode::json)
        : server([&] {
              fs::flaky_server_options o;
              o.mode = mode;
              return o;
          }()),
          client(ioc.get_executor(), std::in_place, ioc.get_executor(), options_for(server.url())) {
        client.backoff_policy() = exponential_backoff(10ms, 2.0, 100ms, jitter::none);
        auto connected = run(ioc, client.transport().async_connect());
        REQUIRE(connected);
    }
    async_client::result_type call(const mb::request& r, call_options o = {}) { return run(ioc, client.call(r, o)); }

    fs::flaky_server server;
    net::io_context ioc;
    async_client client;
};

}  // namespace

TEST_CASE("the awaitable transport: calls over one kept-alive connection, with the session id", "[async][transport]") {
    const auto mode = GENERATE(fs::response_mode::json, fs::response_mode::sse);
    fixture f(mode);
    auto& t = f.client.transport();
    REQUIRE(f.server.session_ids().size() == 1);
    CHECK(t.session_id() == f.server.session_ids().front());
    CHECK(t.protocol_version() == "2025-06-18");
    CHECK(t.generation() == 1);
    for (int i = 0; i < 10; ++i) {
        auto r = run(f.ioc, t.async_send(echo_call));
        REQUIRE(r);
        CHECK_FALSE(r->is_error());
        CHECK(r->result().find("hi") != std::string_view::npos);
    }
    // JSON answers leave the connection reusable, and so does an event stream that the server
    // ends right after the response (the transport reads it to its end).
    CHECK(t.connections_opened() == 1);
    auto r = run(f.ioc, t.async_send(count_call("direct")));
    REQUIRE(r);
    CHECK(f.server.executions("direct") == 1);
    REQUIRE(run(f.ioc, t.async_terminate()));
    CHECK(f.server.session_ids().empty());
    auto after = run(f.ioc, t.async_send(echo_call));
    REQUIRE_FALSE(after);
    CHECK(after.error().transport_error == transport_errc::not_connected);
}

TEST_CASE("the awaitable transport maps failures like the synchronous one", "[async][transport]") {
    fixture f;
    auto& t = f.client.transport();
    SECTION("a lost session: the server's 404, rejected, with the session id") {
        f.server.expire_all_sessions();
        auto r = run(f.ioc, t.async_send(echo_call));
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 404);
        CHECK(r.error().delivered == delivery::rejected);
        CHECK(r.error().had_session_id);
        CHECK(default_classifier{}.classify(r.error()) == failure_kind::session_expired);
    }
    SECTION("a reset after executing: delivery unknown") {
        f.server.inject(fs::fault::reset_after_execute(), fs::fault_match::tool_call());
        auto r = run(f.ioc, t.async_send(count_call("reset")));
        REQUIRE_FALSE(r);
        CHECK(r.error().delivered == delivery::unknown);
        CHECK(f.server.executions("reset") == 1);
    }
    SECTION("a stall past the read timeout: timed out, delivery unknown, the call returns") {
        f.server.inject(fs::fault::delay(3s), fs::fault_match::tool_call());
        auto r = run(f.ioc, t.async_send(echo_call));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(r.error().delivered == delivery::unknown);
    }
    SECTION("a call's deadline bounds the read too") {
        f.server.inject(fs::fault::delay(3s), fs::fault_match::tool_call());
        auto r = run(f.ioc, t.async_send(echo_call, clock_type::now() + 200ms));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::timed_out);
    }
    SECTION("429 with Retry-After: rejected, the hint kept") {
        f.server.inject(fs::fault::too_many_requests(7), fs::fault_match::tool_call());
        auto r = run(f.ioc, t.async_send(echo_call));
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 429);
        CHECK(r.error().retry_after == std::optional<duration>(7s));
        CHECK(r.error().delivered == delivery::rejected);
    }
}

TEST_CASE("the awaitable transport refuses bad answers with clear errors", "[async][transport][bad-input]") {
    struct bad_case {
        const char* name;
        std::string answer;
        std::error_code expected;
    };
    const std::string big(64 * 1024, 'x');
    const std::vector<bad_case> cases{
        {"malformed JSON", http_response(200, "application/json", "{\"jsonrpc\":\"2.0\",\"id\":"),
         make_error_code(transport_errc::malformed_response)},
        {"the wrong id", http_response(200, "application/json", R"({"jsonrpc":"2.0","id":999999,"result":{}})"),
         make_error_code(transport_errc::malformed_response)},
        {"an oversized body", http_response(200, "application/json", R"({"jsonrpc":"2.0","id":2,"result":")" + big + "\"}"),
         make_error_code(transport_errc::response_too_large)},
        {"a redirect", "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n",
         make_error_code(transport_errc::redirect_refused)},
        {"a truncated event stream",
         "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {\"jsonrpc\":",
         make_error_code(transport_errc::stream_ended)},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        raw_http_server server([&](const std::string& req) -> raw_answer {
            if (is_method(req, "initialize")) return {initialize_answer(req, "sid-1"), false, true};
            if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
            return {c.answer};
        });
        net::io_context ioc;
        mb::transport_options o = options_for(server.url());
        o.max_body_size = 16 * 1024;
        mb::async_streamable_http_transport t(ioc.get_executor(), o);
        REQUIRE(run(ioc, t.async_connect()));
        auto r = run(ioc, t.async_send(echo_call));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == c.expected);
    }
}

TEST_CASE("the awaitable transport refuses a hostile session id", "[async][transport][bad-input]") {
    raw_http_server server([&](const std::string& req) -> raw_answer {
        return {initialize_answer(req, "bad id\r\nX-Injected: 1")};
    });
    net::io_context ioc;
    mb::async_streamable_http_transport t(ioc.get_executor(), options_for(server.url()));
    auto r = run(ioc, t.async_connect());
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::invalid_session_id);
    CHECK(t.generation() == 0);
}

TEST_CASE("the awaitable transport bounds connecting: refused at once, no hang", "[async][transport]") {
    net::io_context ioc;
    mb::async_streamable_http_transport t(ioc.get_executor(), options_for("http://127.0.0.1:1/mcp"));
    auto r = run(ioc, t.async_connect());
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == std::errc::connection_refused);
    CHECK(r.error().delivered == delivery::not_sent);
}

TEST_CASE("the awaitable transport resumes a broken event stream with Last-Event-ID", "[async][transport][resume]") {
    long long post_id = -1;
    std::vector<std::string> last_event_ids;
    raw_http_server server([&](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) return {initialize_answer(req, "sid-1"), false, true};
        if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        if (req.rfind("GET ", 0) == 0) {
            const auto p = req.find("\r\nLast-Event-ID: ");
            const auto start = p + 17;
            last_event_ids.push_back(p == std::string::npos ? "" : req.substr(start, req.find("\r\n", start) - start));
            return {head + "id: e2\ndata: {\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(post_id) +
                    ",\"result\":{\"resumed\":true}}\n\n"};
        }
        post_id = request_id(req);
        return {head + "id: e1\nretry: 20\ndata:\n\n"};  // a priming event, then the stream ends
    });
    net::io_context ioc;
    mb::async_streamable_http_transport t(ioc.get_executor(), options_for(server.url()));
    REQUIRE(run(ioc, t.async_connect()));
    const auto start = std::chrono::steady_clock::now();
    auto r = run(ioc, t.async_send(count_call("resumed")));
    REQUIRE(r);
    CHECK(r->result().find("resumed") != std::string_view::npos);
    CHECK(last_event_ids == std::vector<std::string>{"e1"});
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);  // the server's retry: was waited
}

TEST_CASE("async: a non-idempotent call whose stream flaky_server cuts is resumed, and runs once",
          "[async][transport][resume]") {
    fixture f(fs::response_mode::sse);
    const auto initializes = f.server.initializes();
    SECTION("resumed") {
        f.server.inject(fs::fault::cut_stream_after_priming(20ms).with_notifications(1, 1), fs::fault_match::tool_call());
        auto r = f.call(count_call("cut"));
        REQUIRE(r);
        CHECK_FALSE(r->is_error());
        CHECK(f.server.resumptions() == 1);
        CHECK(f.client.observer().retries() == 0);
    }
    SECTION("resumption refused: not replayed") {
        f.server.set_resumption(false);
        f.server.inject(fs::fault::cut_stream_after_priming(20ms), fs::fault_match::tool_call());
        auto r = f.call(count_call("cut"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
    }
    CHECK(f.server.executions("cut") == 1);
    CHECK(f.server.initializes() == initializes);
}

TEST_CASE("200 coroutines on an expired session over HTTP: one initialize, all succeed", "[async][recovery]") {
    const auto mode = GENERATE(fs::response_mode::json, fs::response_mode::sse);
    fixture f(mode);
    const auto initializes = f.server.initializes();
    f.server.expire_all_sessions();
    std::atomic<int> ok{0}, done{0};
    for (int i = 0; i < 200; ++i)
        net::co_spawn(f.ioc, f.client.call(count_call("storm-" + std::to_string(i))),
                      [&](std::exception_ptr e, async_client::result_type r) {
                          if (!e && r && !r->is_error()) ok.fetch_add(1);
                          done.fetch_add(1);
                      });
    f.ioc.restart();
    f.ioc.run();
    CHECK(done.load() == 200);
    CHECK(ok.load() == 200);
    CHECK(f.server.initializes() == initializes + 1);
    for (int i = 0; i < 200; i += 37) CHECK(f.server.executions("storm-" + std::to_string(i)) == 1);
}

TEST_CASE("coroutines on a 4-thread pool on an expired session over HTTP: one initialize", "[async][recovery]") {
    fs::flaky_server server;
    for (int round = 0; round < 3; ++round) {
        CAPTURE(round);
        net::thread_pool pool(4);
        async_client client(pool.get_executor(), std::in_place, pool.get_executor(), options_for(server.url()));
        std::atomic<int> ok{0}, done{0};
        std::atomic<int> connected{0};  // 1 connected, -1 failed
        net::co_spawn(pool, client.transport().async_connect(), [&](std::exception_ptr, outcome<void> r) {
            connected = r ? 1 : -1;
        });
        REQUIRE(eventually([&] { return connected.load() != 0; }));
        REQUIRE(connected.load() == 1);
        const auto initializes = server.initializes();
        server.expire_all_sessions();
        for (int i = 0; i < 64; ++i)
            net::co_spawn(pool.get_executor(), client.call(echo_call, read_only()),
                          [&](std::exception_ptr e, async_client::result_type r) {
                              if (!e && r) ok.fetch_add(1);
                              done.fetch_add(1);
                          });
        REQUIRE(eventually([&] { return done.load() == 64; }));
        CHECK(ok.load() == 64);
        CHECK(server.initializes() == initializes + 1);
        pool.join();
    }
}

// Every fault of flaky_server against the async client (and the sync one): tests/reliability.

TEST_CASE("a server restart mid-run is recovered by the async client", "[async][recovery]") {
    fixture f;
    REQUIRE(f.call(count_call("before")));
    f.server.restart();
    auto r = f.call(count_call("after"));
    REQUIRE(r);
    CHECK(f.server.executions("after") == 1);
    CHECK(f.client.observer().reconnects() == 1);
}

#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
TEST_CASE("a cancellation slot ends a call stuck on a slow server; the session stays usable",
          "[async][cancel][slot]") {
    fixture f;
    f.server.inject(fs::fault::delay(10s), fs::fault_match::tool_call("count"));
    net::cancellation_signal signal;
    std::optional<std::error_code> code;
    std::optional<delivery> delivered;
    net::co_spawn(
        f.ioc,
        [&]() -> net::awaitable<void> {
            co_await net::this_coro::throw_if_cancelled(false);
            auto r = co_await f.client.call(count_call("slow"));
            code = r ? std::error_code{} : r.error().code;
            if (!r && r.error().last_failure) delivered = r.error().last_failure->delivered;
        },
        net::bind_cancellation_slot(signal.slot(), net::detached));
    net::steady_timer later(f.ioc, 200ms);
    later.async_wait([&](boost::system::error_code) { signal.emit(net::cancellation_type::terminal); });
    const auto start = std::chrono::steady_clock::now();
    f.ioc.restart();
    f.ioc.run();
    CHECK(std::chrono::steady_clock::now() - start < 8s);  // not the server's 10 s
    CHECK(code == std::error_code(errc::cancelled));
    CHECK(delivered == delivery::unknown);  // the request was on the wire
    CHECK(f.client.observer().retries() == 0);
    // The session is intact: the next call needs no initialize.
    const auto initializes = f.server.initializes();
    REQUIRE(f.call(echo_call, read_only()));
    CHECK(f.server.initializes() == initializes);
}
#endif

static_assert(mb::async_streamable_http_transport::session_outlives_connection);

TEST_CASE("async_reconnect(deadline) bounds a stalled step and names it", "[async][transport][reconnect]") {
    fs::flaky_server server;
    net::io_context ioc;
    mb::transport_options o = options_for(server.url());
    o.read_timeout = 60s;  // longer than the test: the deadline must do the bounding
    mb::async_streamable_http_transport t(ioc.get_executor(), o);

    SECTION("pipelined: a stalled notifications/initialized stalls the request that carries it, to its deadline") {
        server.inject(fs::fault::delay(30s), fs::fault_match::method("notifications/initialized"));
        REQUIRE(run(ioc, t.async_reconnect(clock_type::now() + 5s)));  // the notification is owed
        const auto start = std::chrono::steady_clock::now();
        const mb::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
        auto r = run(ioc, t.async_send(echo, clock_type::now() + 300ms));
        REQUIRE_FALSE(r);
        CHECK(std::chrono::steady_clock::now() - start < 5s);  // a margin: the stall is 30 s
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(t.conversation().initialized_pipelined == 0);  // never answered: owed still
    }
    SECTION("a stalled notifications/initialized") {
        mb::transport_options po = o;
        po.pipeline_initialized = false;
        mb::async_streamable_http_transport plain(ioc.get_executor(), po);
        server.inject(fs::fault::delay(30s), fs::fault_match::method("notifications/initialized"));
        const auto start = std::chrono::steady_clock::now();
        auto r = run(ioc, plain.async_reconnect(clock_type::now() + 300ms));
        REQUIRE_FALSE(r);
        CHECK(std::chrono::steady_clock::now() - start < 5s);  // a margin: the stall is 30 s
        CHECK(r.error().method == "notifications/initialized");
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(plain.generation() == 0);
    }
    SECTION("a stalled initialize") {
        server.inject(fs::fault::delay(30s), fs::fault_match::method("initialize"));
        const auto start = std::chrono::steady_clock::now();
        auto r = run(ioc, t.async_reconnect(clock_type::now() + 300ms));
        REQUIRE_FALSE(r);
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(r.error().method == "initialize");
        CHECK(t.generation() == 0);
    }
    SECTION("within the deadline it succeeds; async_reconnect() without one too") {
        REQUIRE(run(ioc, t.async_reconnect(clock_type::now() + 5s)));
        REQUIRE(run(ioc, t.async_reconnect()));
        CHECK(t.generation() == 2);
    }
}

TEST_CASE("async_reopen opens one connection, leaves the session alone, and the next send reuses it",
          "[async][transport][reopen]") {
    fs::flaky_server server;
    net::io_context ioc;
    mb::async_streamable_http_transport t(ioc.get_executor(), options_for(server.url()));

    SECTION("against a live server") {
        server.set_close_after_response(true);  // so that the pool is empty after connecting
        REQUIRE(run(ioc, t.async_connect()));
        server.set_close_after_response(false);
        REQUIRE(eventually([&] { return server.open_connections() == 0; }));
        const std::string session = t.session_id();
        const auto accepted = server.connections_accepted();
        const auto opened = t.connections_opened();

        REQUIRE(run(ioc, t.async_reopen(clock_type::now() + 5s)));
        REQUIRE(eventually([&] { return server.connections_accepted() == accepted + 1; }));
        CHECK(t.connections_opened() == opened + 1);
        CHECK(t.generation() == 1);
        CHECK(t.session_id() == session);

        auto r = run(ioc, t.async_send(echo_call));
        REQUIRE(r);
        CHECK(server.connections_accepted() == accepted + 1);  // reused: no further accept
        CHECK(t.connections_opened() == opened + 1);
        CHECK(t.generation() == 1);
        CHECK(t.session_id() == session);
    }
    SECTION("against a stopped server: refused, nothing sent") {
        REQUIRE(run(ioc, t.async_connect()));
        server.stop();
        auto r = run(ioc, t.async_reopen(clock_type::now() + 5s));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::connection_refused);
        CHECK(r.error().delivered == delivery::not_sent);
        CHECK(t.generation() == 1);
    }
    SECTION("in the sessionless revision") {
        fs::flaky_server_options so;
        so.sessionless = true;
        fs::flaky_server sessionless(so);
        mb::transport_options o = options_for(sessionless.url());
        o.protocol_version = "2026-07-28";
        mb::async_streamable_http_transport st(ioc.get_executor(), o);
        REQUIRE(run(ioc, st.async_connect()));
        REQUIRE(run(ioc, st.async_reopen()));
        REQUIRE(eventually([&] { return sessionless.connections_accepted() == 1; }));
        REQUIRE(run(ioc, st.async_send(echo_call)));
        CHECK(sessionless.connections_accepted() == 1);
    }
}

TEST_CASE("the awaitable transport: a lost session in band with 200 is session_lost", "[async][transport][in_band]") {
    const auto mode = GENERATE(fs::response_mode::json, fs::response_mode::sse);
    const bool option = GENERATE(true, false);
    fs::flaky_server_options so;
    so.mode = mode;
    so.lost_session = fs::lost_session_style::in_band_200;
    fs::flaky_server server(so);
    net::io_context ioc;
    mb::transport_options o = options_for(server.url());
    o.in_band_session_loss = option;
    mb::async_streamable_http_transport t(ioc.get_executor(), o);
    REQUIRE(run(ioc, t.async_connect()));
    server.expire_all_sessions();
    auto r = run(ioc, t.async_send(echo_call));
    if (!option) {
        REQUIRE(r);  // returned as the JSON-RPC error it is
        CHECK(r->is_error());
        CHECK(r->fields.error_code == -32001);
        return;
    }
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::session_lost);
    CHECK(r.error().http_status == 200);
    CHECK(r.error().jsonrpc_code == -32001);
    CHECK(r.error().message == "Session not found");
    CHECK(r.error().had_session_id);
    CHECK(r.error().delivered == delivery::rejected);
}

TEST_CASE("the async client recovers an in-band lost session with one initialize", "[async][recovery][in_band]") {
    fs::flaky_server_options so;
    so.lost_session = fs::lost_session_style::in_band_200;
    fs::flaky_server server(so);
    net::io_context ioc;
    async_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), options_for(server.url()));
    REQUIRE(run(ioc, client.transport().async_connect()));
    server.expire_all_sessions();
    auto r = run(ioc, client.call(count_call("in-band")));
    REQUIRE(r);
    CHECK_FALSE(r->is_error());
    CHECK(server.executions("in-band") == 1);
    CHECK(server.initializes() == 2);
}
