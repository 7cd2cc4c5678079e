// End to end: recovering_client over the Beast transport against flaky_server, for every fault it
// injects, with an idempotent and a non-idempotent request: the expected outcome each time, and
// never an execution twice.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/testing/manual_clock.hpp"

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

namespace {

// The client's clock is manual: waits for Retry-After and backoff are recorded, not slept.
using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once,
                                      exponential_backoff, single_flight_reconnector<>, counting_observer,
                                      mcp_recovery::testing::manual_clock>;

struct fixture {
    explicit fixture(fs::response_mode mode = fs::response_mode::json)
        : server([&] {
              fs::flaky_server_options o;
              o.mode = mode;
              return o;
          }()),
          client(std::in_place, [&] {
              mb::transport_options o;
              o.url = server.url();
              o.read_timeout = 1s;
              o.connect_timeout = 2s;
              return o;
          }()) {
        client.clock() = clock;
        client.backoff_policy() = exponential_backoff(100ms, 2.0, 1s, jitter::none);
        REQUIRE(client.transport().connect());
    }
    fs::flaky_server server;
    // Started at the real time: deadlines the client computes from it reach the real transport.
    mcp_recovery::testing::manual_clock clock{clock_type::now()};
    client_type client;
};

mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}

// A read-only tool call: idempotent by its annotations.
const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
call_options read_only() {
    call_options o;
    o.annotations = tool_annotations{true, false};
    return o;
}

enum class expect { recovered, not_replayable, unauthorized };

struct fault_case {
    const char* name;
    std::function<fs::fault()> make;
    expect idempotent;
    expect non_idempotent;
    int executions_non_idempotent;  // how often the non-idempotent call ran in the end
    std::vector<duration> waits;    // the client's recorded waits (idempotent case)
};

}  // namespace

TEST_CASE("every fault of flaky_server, idempotent and not: the expected outcome, never twice", "[beast][recovery]") {
    const std::vector<fault_case> cases{
        {"429 with Retry-After", [] { return fs::fault::too_many_requests(1); }, expect::recovered, expect::recovered, 1, {1s}},
        {"503 with Retry-After", [] { return fs::fault::service_unavailable(2); }, expect::recovered, expect::recovered, 1, {2s}},
        {"503 without a hint", [] { return fs::fault::service_unavailable(); }, expect::recovered, expect::recovered, 1, {100ms}},
        {"500 (may have run)", [] { return fs::fault::internal_error(); }, expect::recovered, expect::not_replayable, 0, {100ms}},
        {"401", [] { return fs::fault::unauthorized(); }, expect::unauthorized, expect::unauthorized, 0, {}},
        {"reset before executing", [] { return fs::fault::reset_before_execute(); }, expect::recovered, expect::not_replayable, 0, {}},
        {"reset after executing", [] { return fs::fault::reset_after_execute(); }, expect::recovered, expect::not_replayable, 1, {}},
        {"stream cut after an event", [] { return fs::fault::cut_stream_after_event(); }, expect::recovered, expect::not_replayable, 1, {}},
        {"stall past the read timeout", [] { return fs::fault::delay(3s); }, expect::recovered, expect::not_replayable, 1, {}},
    };
    for (const auto& c : cases) {
        for (bool idempotent : {true, false}) {
            CAPTURE(c.name, idempotent);
            fixture f;
            const std::string key = std::string("k-") + c.name;
            f.server.inject(c.make(), fs::fault_match::tool_call());
            auto r = idempotent ? f.client.try_call(echo_call, read_only()) : f.client.try_call(count_call(key));
            const expect e = idempotent ? c.idempotent : c.non_idempotent;
            switch (e) {
            case expect::recovered:
                REQUIRE(r);
                CHECK_FALSE(r->is_error());
                break;
            case expect::not_replayable:
                REQUIRE_FALSE(r);
                CHECK(r.error().code == errc::not_replayable);
                REQUIRE(r.error().last_failure);
                CHECK(r.error().last_failure->delivered == delivery::unknown);
                break;
            case expect::unauthorized:
                REQUIRE_FALSE(r);
                CHECK(r.error().code == errc::unauthorized);
                CHECK(f.client.transport().generation() == 1);  // never re-initialized for it
                break;
            }
            if (!idempotent) {
                if (c.make().kind == fs::fault_kind::delay) {
                    // The stalled request may still run on the server after the client gave up:
                    // stop it; whatever happened, it ran at most once.
                    f.server.stop();
                    CHECK(f.server.executions(key) <= 1);
                } else {
                    CHECK(f.server.executions(key) == static_cast<std::uint64_t>(c.executions_non_idempotent));
                }
            } else {
                CHECK(f.clock.sleeps() == c.waits);
            }
        }
    }
}

TEST_CASE("every server family's lost-session answer is recovered with one initialize", "[beast][recovery]") {
    const auto style = GENERATE(fs::lost_session_style::typescript_404, fs::lost_session_style::everything_400,
                                fs::lost_session_style::python_404, fs::lost_session_style::go_404_plain,
                                fs::lost_session_style::python_400_plain);
    const auto mode = GENERATE(fs::response_mode::json, fs::response_mode::sse);
    CAPTURE(fs::to_string(style), static_cast<int>(mode));
    fixture f(mode);
    f.server.set_lost_session_style(style);
    const auto initializes = f.server.initializes();

    SECTION("the session expires: a non-idempotent call is replayed once, safely") {
        f.server.expire_all_sessions();
        auto r = f.client.try_call(count_call("expiry"));
        REQUIRE(r);
        CHECK(f.server.initializes() == initializes + 1);
        CHECK(f.server.executions("expiry") == 1);
        CHECK(f.client.observer().failures(failure_kind::session_expired) == 1);
    }
    SECTION("the server restarts: connections and sessions are gone") {
        REQUIRE(f.client.try_call(count_call("restart")));
        f.server.restart();
        auto r = f.client.try_call(count_call("restart"));
        REQUIRE(r);
        CHECK(f.server.initializes() == initializes + 1);
        CHECK(f.server.executions("restart") == 2);
    }
    SECTION("DELETE, then a call with the deleted id") {
        auto& t = f.client.transport();
        const std::string old = t.session_id();
        REQUIRE(t.terminate());
        REQUIRE(t.adopt_session_id(old));
        REQUIRE(f.client.try_call(echo_call, read_only()));
        CHECK(f.server.initializes() == initializes + 1);
    }
}

TEST_CASE("32 concurrent callers on an expired session cost one initialize", "[beast][recovery][concurrency]") {
    fixture f;
    REQUIRE(f.client.try_call(echo_call, read_only()));
    const auto initializes = f.server.initializes();
    f.server.expire_all_sessions();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 32; ++i)
        threads.emplace_back([&, i] {
            if (f.client.try_call(count_call("burst-" + std::to_string(i)))) ok.fetch_add(1);
        });
    for (auto& t : threads) t.join();
    CHECK(ok.load() == 32);
    CHECK(f.server.initializes() == initializes + 1);
    for (int i = 0; i < 32; ++i) CHECK(f.server.executions("burst-" + std::to_string(i)) == 1);
}

TEST_CASE("keep-alive connections are reused; after a restart a new one carries the new session", "[beast][transport]") {
    fixture f;
    const auto opened = f.client.transport().connections_opened();
    for (int i = 0; i < 20; ++i) REQUIRE(f.client.try_call(echo_call, read_only()));
    CHECK(f.client.transport().connections_opened() == opened);  // one connection, reused
    f.server.restart();  // closes every connection and forgets every session
    auto r = f.client.try_call(count_call("after-close"));
    REQUIRE(r);
    CHECK(f.server.executions("after-close") == 1);
    CHECK(f.client.transport().connections_opened() > opened);
}

TEST_CASE("event streams that the server ends after the response leave the connection reusable",
          "[beast][transport]") {
    fixture f(fs::response_mode::sse);
    const auto opened = f.client.transport().connections_opened();
    for (int i = 0; i < 20; ++i) REQUIRE(f.client.try_call(echo_call, read_only()));
    CHECK(f.client.transport().connections_opened() == opened);
}

TEST_CASE("the transport sends the session id and the negotiated protocol version", "[beast][transport]") {
    fixture f;
    auto& t = f.client.transport();
    CHECK(t.protocol_version() == "2025-06-18");
    CHECK(mb::valid_session_id(t.session_id(), 1024));
    CHECK(f.server.session_ids().size() == 1);
    CHECK(f.server.session_ids().front() == t.session_id());
    auto r = f.client.try_call({"ping", ""});
    REQUIRE(r);
    CHECK(r->fields.has_result);
    auto unknown = f.client.try_call({"no/such/method", "{}"});
    REQUIRE(unknown);  // a JSON-RPC error is a response, not a failure
    CHECK(unknown->is_error());
    CHECK(unknown->fields.error_code == -32601);
}

TEST_CASE("sessionless revision 2026-07-28 against flaky_server: no initialize, re-issue when safe",
          "[beast][recovery][sessionless]") {
    fs::flaky_server_options so;
    so.sessionless = true;
    fs::flaky_server server(so);
    mb::transport_options o;
    o.url = server.url();
    o.protocol_version = "2026-07-28";
    o.read_timeout = 2s;
    recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<>, counting_observer>
        client{std::in_place, o};
    REQUIRE(client.transport().connect());
    REQUIRE(client.try_call(count_call("plain")));
    CHECK(server.executions("plain") == 1);

    SECTION("a restart loses nothing: there is no session") {
        server.restart();
        REQUIRE(client.try_call(count_call("plain")));
        CHECK(server.executions("plain") == 2);
        CHECK(client.observer().reconnects() == 0);
    }
    SECTION("a lost answer to an idempotent call is re-issued, without initialize") {
        server.inject(fs::fault::reset_after_execute(), fs::fault_match::tool_call());
        auto r = client.try_call(echo_call, read_only());
        REQUIRE(r);
        CHECK(client.observer().reopens_succeeded() == 1);  // a new connection; nothing to re-initialize
        CHECK(client.observer().reconnects() == 0);
    }
    SECTION("a lost answer to a non-idempotent call is not re-issued") {
        server.inject(fs::fault::reset_after_execute(), fs::fault_match::tool_call());
        auto r = client.try_call(count_call("once"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(server.executions("once") == 1);
    }
    CHECK(server.initializes() == 0);
    CHECK(server.sessions_alive() == 0);
}
