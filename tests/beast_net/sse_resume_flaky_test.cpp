// Stream resumption end to end (SEP-1699): recovering_client over the Beast transport against
// flaky_server, whose cut streams are resumed with GET + Last-Event-ID. A non-idempotent call
// whose stream was cut after the tool ran completes through resumption, running once; when
// resumption is refused or disabled it fails with delivery unknown and is never replayed.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/testing/manual_clock.hpp"

#include "catch.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

namespace {

// The client's clock is manual: its backoff waits are recorded, not slept. The transport's wait
// before a resumption GET is real (it is the server's `retry:`).
using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once,
                                      exponential_backoff, single_flight_reconnector<>, counting_observer,
                                      mcp_recovery::testing::manual_clock>;

struct fixture {
    explicit fixture(const std::function<void(mb::transport_options&)>& tweak = {},
                     fs::flaky_server_options server_options = {})
        : server(server_options), client(std::in_place, [&] {
              mb::transport_options o;
              o.url = server.url();
              o.read_timeout = 5s;
              o.connect_timeout = 2s;
              o.resume_delay = 10ms;  // without a retry: from the server
              if (tweak) tweak(o);
              return o;
          }()) {
        client.clock() = clock;
        client.backoff_policy() = exponential_backoff(100ms, 2.0, 1s, jitter::none);
        REQUIRE(client.transport().connect());
        REQUIRE(server.initializes() == 1);
    }
    fs::flaky_server server;
    // Started at the real time: deadlines the client computes from it reach the real transport.
    mcp_recovery::testing::manual_clock clock{clock_type::now()};
    client_type client;
};

mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}

std::string count_result(int value) {
    return R"({"content":[{"type":"text","text":")" + std::to_string(value) + R"("}]})";
}

// The call failed as a lost answer that must not be replayed: delivery unknown, stream ended.
void check_not_replayed(const client_type::result_type& r) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->delivered == delivery::unknown);
    CHECK(r.error().last_failure->transport_error == transport_errc::stream_ended);
}

}  // namespace

TEST_CASE("a non-idempotent call whose stream is cut after the priming event completes by resumption, once",
          "[beast][sse][resume][flaky_server]") {
    fixture f;
    f.server.inject(fs::fault::cut_stream_after_priming(50ms), fs::fault_match::tool_call("count"));
    const auto start = std::chrono::steady_clock::now();
    auto r = f.client.try_call(count_call("once"));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(r);
    CHECK(r->result() == count_result(1));
    CHECK(f.server.executions("once") == 1);
    CHECK(f.server.resumption_requests() == 1);
    CHECK(f.server.resumptions() == 1);
    CHECK(f.server.faults_applied() == 1);
    // No re-initialize, no replay: the original request was answered on the resumed stream.
    CHECK(f.server.initializes() == 1);
    CHECK(f.client.observer().reconnects() == 0);
    CHECK(f.client.observer().retries() == 0);
    CHECK(f.client.transport().generation() == 1);
    CHECK(f.clock.sleeps().empty());
    // The server's retry: 50 was waited, not the client's resume_delay of 10 ms (a lower bound only).
    CHECK(elapsed >= 50ms);

    // The session carries on.
    auto next = f.client.try_call(count_call("once"));
    REQUIRE(next);
    CHECK(next->result() == count_result(2));
    CHECK(f.server.executions("once") == 2);
}

TEST_CASE("notifications around the cut arrive once each, in order", "[beast][sse][resume][flaky_server]") {
    std::vector<std::string> seen;
    fixture f([&](mb::transport_options& o) { o.on_message = [&](std::string_view m) { seen.emplace_back(m); }; });
    f.server.inject(fs::fault::cut_stream_after_priming(10ms).with_notifications(2, 3), fs::fault_match::tool_call());
    auto r = f.client.try_call(count_call("notified"));
    REQUIRE(r);
    CHECK(r->result() == count_result(1));
    REQUIRE(seen.size() == 5);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CAPTURE(i);
        CHECK(seen[i].find("stream event " + std::to_string(i + 1) + " of 5") != std::string::npos);
    }
    CHECK(f.server.executions("notified") == 1);
    CHECK(f.server.resumptions() == 1);
}

TEST_CASE("a server that refuses resumption: delivery unknown, a non-idempotent call is not replayed",
          "[beast][sse][resume][flaky_server]") {
    fs::flaky_server_options so;
    bool later = false;
    SECTION("refused by the options") { so.resumption = false; }
    SECTION("refused by set_resumption") { later = true; }
    fixture f({}, so);
    if (later) f.server.set_resumption(false);
    f.server.inject(fs::fault::cut_stream_after_priming(10ms), fs::fault_match::tool_call());
    auto r = f.client.try_call(count_call("refused"));
    check_not_replayed(r);
    CHECK(f.server.executions("refused") == 1);
    CHECK(f.server.resumption_requests() == 1);  // it asked, and was refused
    CHECK(f.server.resumptions() == 0);
    CHECK(f.server.initializes() == 1);
    CHECK(f.server.requests() == 2 + 1);  // initialize, initialized, the call: no replay
}

TEST_CASE("with max_resume_attempts = 0 a cut stream is not resumed and not replayed",
          "[beast][sse][resume][flaky_server]") {
    fixture f([](mb::transport_options& o) { o.max_resume_attempts = 0; });
    f.server.inject(fs::fault::cut_stream_after_priming(10ms), fs::fault_match::tool_call());
    auto r = f.client.try_call(count_call("disabled"));
    check_not_replayed(r);
    CHECK(f.server.executions("disabled") == 1);
    CHECK(f.server.resumption_requests() == 0);
    CHECK(f.server.requests() == 2 + 1);
}

TEST_CASE("an idempotent call whose stream cannot be resumed is replayed instead",
          "[beast][sse][resume][flaky_server]") {
    fixture f;
    f.server.set_resumption(false);
    f.server.inject(fs::fault::cut_stream_after_priming(10ms), fs::fault_match::tool_call("echo"));
    call_options read_only;
    read_only.annotations = tool_annotations{true, false};
    auto r = f.client.try_call({"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"}, read_only);
    REQUIRE(r);
    CHECK(r->result() == R"({"content":[{"type":"text","text":"hi"}]})");
    CHECK(f.server.resumption_requests() == 1);
    CHECK(f.server.resumptions() == 0);
    CHECK(f.server.faults_applied() == 1);
}

TEST_CASE("a resumed stream that is cut again is resumed once more, within max_resume_attempts",
          "[beast][sse][resume][flaky_server]") {
    SECTION("one more cut: two resumptions bring the response") {
        fixture f;
        f.server.inject(fs::fault::cut_stream_after_priming(10ms).with_notifications(1, 1).with_resumed_cuts(1),
                        fs::fault_match::tool_call());
        auto r = f.client.try_call(count_call("twice-cut"));
        REQUIRE(r);
        CHECK(r->result() == count_result(1));
        CHECK(f.server.resumption_requests() == 2);
        CHECK(f.server.resumptions() == 2);
        CHECK(f.server.executions("twice-cut") == 1);
        CHECK(f.server.initializes() == 1);
    }
    SECTION("more cuts than attempts: given up, not replayed") {
        fixture f;  // max_resume_attempts = 2 (the default)
        f.server.inject(fs::fault::cut_stream_after_priming(10ms).with_resumed_cuts(2), fs::fault_match::tool_call());
        auto r = f.client.try_call(count_call("cut-thrice"));
        check_not_replayed(r);
        CHECK(f.server.resumption_requests() == 2);
        CHECK(f.server.executions("cut-thrice") == 1);
    }
}

TEST_CASE("a resumption that meets a lost session does not run the call again", "[beast][sse][resume][flaky_server]") {
    fs::flaky_server* server = nullptr;
    fixture f([&](mb::transport_options& o) {
        // The notification before the cut arrives while the stream is open: the session ends then.
        o.on_message = [&](std::string_view) {
            if (server) server->expire_all_sessions();
        };
    });
    server = &f.server;
    f.server.inject(fs::fault::cut_stream_after_priming(10ms).with_notifications(1), fs::fault_match::tool_call());
    auto r = f.client.try_call(count_call("expired"));
    check_not_replayed(r);
    CHECK(f.server.resumption_requests() == 1);
    CHECK(f.server.resumptions() == 0);
    CHECK(f.server.lost_session_answers() == 1);
    CHECK(f.server.executions("expired") == 1);
}
