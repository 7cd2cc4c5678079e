// The conversation across each session event, through the recovering clients (sync and async, the
// same cases), against flaky_server: after a restart, an expiry, an outage and dropped
// connections, a server request on a call's stream is answered and the call completes, and the
// listening stream delivers again (re-opened on the new session once the `on_reconnected` hook
// re-subscribed and re-set the log level; resumed with Last-Event-ID when the session survived).
// And a call abandoned at its deadline leaves a `notifications/cancelled` for its id on the server.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#if defined(__cpp_impl_coroutine) || defined(__cpp_coroutines)
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#endif

#include "catch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

/// Polls `pred` until it holds or `limit` passes (real processes and threads: bounded).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

/// What the application saw of the server's side.
struct app_state {
    std::mutex mutex;
    std::vector<std::string> notifications;  // methods
    std::vector<std::string> raw;            // every server message
    int elicitations = 0;
    std::size_t count(const std::string& method) {
        std::lock_guard<std::mutex> lock(mutex);
        std::size_t n = 0;
        for (const auto& m : notifications) n += m == method;
        return n;
    }
};

const std::string uri = "file:///watched.txt";

/// The per-session state the application puts back on every new session (the hook).
std::vector<mb::request> session_state() {
    return {{"resources/subscribe", R"({"uri":")" + uri + R"("})"}, {"logging/setLevel", R"({"level":"debug"})"}};
}

mb::transport_options options_for(const fs::flaky_server& server, app_state& app) {
    mb::transport_options o;
    o.url = server.url();
    o.listen = true;
    o.listen_retry_delay = 20ms;
    o.max_resume_delay = 200ms;
    o.read_timeout = 10s;
    o.connect_timeout = 2s;
    o.server_requests["elicitation/create"] = [&app](const mb::server_request&) {
        std::lock_guard<std::mutex> lock(app.mutex);
        ++app.elicitations;
        return mb::server_reply::ok(R"({"action":"accept","content":{"name":"kept"}})");
    };
    o.on_notification = [&app](std::string_view method, std::string_view) {
        std::lock_guard<std::mutex> lock(app.mutex);
        app.notifications.emplace_back(method);
    };
    o.on_message = [&app](std::string_view m) {
        std::lock_guard<std::mutex> lock(app.mutex);
        app.raw.emplace_back(m);
    };
    return o;
}

struct sync_client {
    using client_type = recovering_client<mb::streamable_http_transport, default_classifier, limited_time,
                                          exponential_backoff>;
    sync_client(mb::transport_options o) : c(std::in_place, std::move(o)) {
        c.on_reconnected([](mb::streamable_http_transport& t) -> outcome<void> {
            for (const auto& r : session_state()) {
                auto x = t.send(r);
                if (!x) return std::move(x).error();
            }
            return {};
        });
    }
    outcome<mb::response, call_error> call(const mb::request& r, call_options o = {}) { return c.try_call(r, o); }
    mb::streamable_http_transport& transport() { return c.transport(); }
    client_type c;
};

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
struct async_client {
    using client_type = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier,
                                                    limited_time, exponential_backoff>;
    async_client(mb::transport_options o)
        : work(boost::asio::make_work_guard(ioc)), c(ioc.get_executor(), std::in_place, ioc.get_executor(), std::move(o)) {
        c.on_reconnected([](mb::async_streamable_http_transport& t) -> boost::asio::awaitable<outcome<void>> {
            const std::vector<mb::request> state = session_state();
            for (const auto& r : state) {
                outcome<mb::response> x = co_await t.async_send(r);
                if (!x) co_return std::move(x).error();
            }
            co_return outcome<void>{};
        });
        listener = boost::asio::co_spawn(ioc, c.transport().async_listen(), boost::asio::use_future);
        runner = std::thread([this] { ioc.run(); });
    }
    ~async_client() {
        c.transport().stop_listening();
        listener.wait_for(5s);
        work.reset();
        ioc.stop();
        runner.join();
    }
    outcome<mb::response, call_error> call(const mb::request& r, call_options o = {}) {
        return boost::asio::co_spawn(ioc, c.call(r, o), boost::asio::use_future).get();
    }
    mb::async_streamable_http_transport& transport() { return c.transport(); }
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    client_type c;
    std::future<void> listener;
    std::thread runner;
};
#define MCPR_CLIENTS sync_client, async_client
#else
#define MCPR_CLIENTS sync_client
#endif

enum class session_event { restart, expire, outage, drop_connections };

const char* name_of(session_event e) {
    switch (e) {
    case session_event::restart: return "restart (sessions forgotten)";
    case session_event::expire: return "session expired";
    case session_event::outage: return "outage of 300 ms (process killed, sessions forgotten)";
    case session_event::drop_connections: return "connections dropped (session kept)";
    }
    return "?";
}

void stage(fs::flaky_server& server, session_event e) {
    switch (e) {
    case session_event::restart: server.restart(); break;
    case session_event::expire: server.expire_all_sessions(); break;
    case session_event::outage: server.outage(300ms); break;
    case session_event::drop_connections: server.drop_connections(); break;
    }
}

call_options within(duration d) {
    call_options o;
    o.deadline = clock_type::now() + d;
    return o;
}

mb::request ask() { return {"tools/call", R"({"name":"ask","arguments":{}})"}; }

}  // namespace

TEMPLATE_TEST_CASE("across each session event: a server request is answered and the listening stream delivers again",
                   "[conversation][recovery]", MCPR_CLIENTS) {
    const session_event event = GENERATE(session_event::restart, session_event::expire, session_event::outage,
                                         session_event::drop_connections);
    CAPTURE(name_of(event));
    fs::flaky_server_options so;
    so.listening_stream = true;
    so.advertise_subscriptions_and_logging = true;
    fs::flaky_server server(so);
    app_state app;
    TestType client(options_for(server, app));

    // First call: the client opens the session, the hook restores the (so far empty) state, the
    // listening stream opens; a server request on the call's stream is answered.
    auto first = client.call(ask(), within(20s));
    REQUIRE(first);
    CHECK(std::string(first->result()).find(R"(\"action\":\"accept\")") != std::string::npos);
    REQUIRE(eventually([&] { return server.listening_streams() == 1; }));
    const std::string first_session = client.transport().session_id();
    CHECK(server.subscriptions(first_session) == std::vector<std::string>{uri});  // the hook ran at connect
    CHECK(server.log_level(first_session) == std::optional<std::string>("debug"));
    REQUIRE(server.resource_updated(uri) == 1);
    REQUIRE(eventually([&] { return app.count("notifications/resources/updated") == 1; }));
    const std::size_t answers_before = server.client_answers().size();
    const auto opened_before = server.listening_streams_opened();

    stage(server, event);

    // The next call recovers (a new session and the hook, or a new connection on the same one).
    auto next = client.call(ask(), within(20s));
    INFO((next ? std::string("ok") : next.error().code.message()));
    REQUIRE(next);
    CHECK(std::string(next->result()).find(R"(\"action\":\"accept\")") != std::string::npos);
    CHECK(server.client_answers().size() == answers_before + 1);
    {
        std::lock_guard<std::mutex> lock(app.mutex);
        CHECK(app.elicitations == 2);
    }
    const std::string session = client.transport().session_id();
    if (event == session_event::drop_connections) {
        CHECK(session == first_session);
        // The same session: the stream is resumed after its last event id.
        REQUIRE(eventually([&] { return server.listening_streams() == 1 && server.listening_resumes() >= 1; }));
    } else {
        CHECK(session != first_session);
        REQUIRE(eventually([&] { return server.listening_streams() == 1; }));
        CHECK(server.listening_streams_opened() > opened_before);
        // The hook put the state back on the new session before the stream opened.
        CHECK(server.subscriptions(session) == std::vector<std::string>{uri});
        CHECK(server.log_level(session) == std::optional<std::string>("debug"));
    }
    CHECK(server.resource_updated(uri) == 1);
    CHECK(eventually([&] { return app.count("notifications/resources/updated") == 2; }));
    CHECK(server.log("info", "after the event") == 1);
    CHECK(eventually([&] { return app.count("notifications/message") >= 1; }));
}

TEMPLATE_TEST_CASE("a call abandoned at its deadline leaves notifications/cancelled for its id on the server",
                   "[conversation][recovery]", MCPR_CLIENTS) {
    fs::flaky_server server;
    app_state app;
    mb::transport_options o = options_for(server, app);
    o.listen = false;
    TestType client(o);
    REQUIRE(client.call({"tools/list", "{}"}));
    // 100 steps of 100 ms: the call runs 10 s; its deadline is 400 ms.
    mb::request slow{"tools/call", R"({"name":"progress","arguments":{"steps":100,"interval_ms":100}})"};
    std::atomic<int> progress{0};
    slow.on_progress = [&](const mb::progress_update&) { ++progress; };
    const auto began = std::chrono::steady_clock::now();
    auto r = client.call(slow, within(400ms));
    CHECK(std::chrono::steady_clock::now() - began < 3s);
    REQUIRE_FALSE(r);
    // Cut at its deadline after the request was written: not replayed (a tool call may have run),
    // or the deadline itself, depending on which step the deadline met.
    CHECK((r.error().code == errc::deadline_exceeded || r.error().code == errc::not_replayable));
    CHECK(progress >= 1);
    // The progress token is the request's id: the server must hear the cancellation of that id.
    std::string token;
    {
        std::lock_guard<std::mutex> lock(app.mutex);
        for (const auto& m : app.raw) {
            const auto p = m.find(R"("progressToken":)");
            if (p != std::string::npos) token = m.substr(p + 16, m.find_first_of(",}", p + 16) - p - 16);
        }
    }
    REQUIRE_FALSE(token.empty());
    REQUIRE(eventually([&] { return !server.cancellations().empty(); }));
    const auto c = server.cancellations().front();
    CHECK(c.request_id == token);
    // (`in_flight` is not asserted: the transport closes the abandoned stream's connection, which
    // flaky_server may notice, and stop the run, before the notice arrives.)
    CHECK(client.transport().conversation().cancellations_sent == 1);
}
