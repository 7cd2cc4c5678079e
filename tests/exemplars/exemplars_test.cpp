// The code that docs/ and README.md show: each concept exemplar models its concept (checked at
// compile time) and works inside a recovering client; each snippet does what its page says.
// check_docs.cmake keeps the pages' copies identical to these files.
#include "backoff_exemplar.hpp"
#include "classifier_exemplar.hpp"
#include "clock_exemplar.hpp"
#include "observer_exemplar.hpp"
#include "reconnector_exemplar.hpp"
#include "retry_policy_exemplar.hpp"
#include "transport_exemplar.hpp"

#include "call_errors.hpp"
#include "composition.hpp"
#include "first_client_callable.hpp"
#include "metrics.hpp"
#include "replay_safety.hpp"

#if defined(MCP_RECOVERY_DOCS_WITH_BEAST)
#include "async_reconnector_exemplar.hpp"
#include "async_transport_exemplar.hpp"
#include "first_client_async.hpp"
#include "first_client_beast.hpp"
#include "readme_usage.hpp"

#include <mcp_recovery/beast/testing/flaky_server.hpp>
#endif

#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/manual_clock.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace mcp_recovery;
using namespace std::chrono_literals;
namespace mt = mcp_recovery::testing;
namespace fail = mcp_recovery::testing::failures;

namespace {

// The core has no trait for these two concepts: their requirements, spelled out from
// reconnector.hpp and observer.hpp.
using hook_type = std::function<outcome<void>(mt::scripted_transport&)>;

template <class R, class = void>
struct models_reconnector : std::false_type {};
template <class R>
struct models_reconnector<R, std::void_t<decltype(std::declval<R&>().reconnect(
                                 std::declval<mt::scripted_transport&>(), std::uint64_t{}, time_point{},
                                 std::declval<mt::manual_clock&>(), std::declval<counting_observer&>(),
                                 std::declval<hook_type&>()))>>
    : std::bool_constant<std::is_default_constructible_v<R> &&
                         std::is_same_v<decltype(std::declval<R&>().reconnect(
                                            std::declval<mt::scripted_transport&>(), std::uint64_t{}, time_point{},
                                            std::declval<mt::manual_clock&>(), std::declval<counting_observer&>(),
                                            std::declval<hook_type&>())),
                                        reconnect_outcome>> {};

template <class O, class = void>
struct models_observer : std::false_type {};
template <class O>
struct models_observer<
    O, std::void_t<decltype(std::declval<O&>().on_failure(std::declval<const failure&>(), failure_kind{}, 1)),
                   decltype(std::declval<O&>().on_reconnect_start(std::uint64_t{})),
                   decltype(std::declval<O&>().on_reconnect_done(std::uint64_t{}, std::error_code{}, duration{})),
                   decltype(std::declval<O&>().on_retry(failure_kind{}, 1, duration{})),
                   decltype(std::declval<O&>().on_recovered(1, duration{})),
                   decltype(std::declval<O&>().on_give_up(std::error_code{}, static_cast<const failure*>(nullptr)))>>
    : std::is_default_constructible<O> {};

struct not_a_backoff {  // no reset()
    duration next_delay() { return {}; }
};

const mt::scripted_request list_tools{"tools/list", "list"};
const mt::scripted_request write_file{"tools/call", "write"};

failure gone_410() {
    failure f;
    f.http_status = 410;
    f.had_session_id = true;
    f.delivered = delivery::rejected;
    return f;
}

}  // namespace

// ---------------------------------------------------------------- concept exemplars

TEST_CASE("the Transport exemplar recovers a lost session inside a recovering client", "[docs][transport]") {
    STATIC_REQUIRE(is_transport_v<app::echo_transport>);
    STATIC_REQUIRE_FALSE(is_transport_v<app::echo_request>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(transport<app::echo_transport>);
#endif
    recovering_client<app::echo_transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      counting_observer>
        client{std::in_place};
    client.transport().lose_session();
    auto r = client.try_call(app::echo_request{"tools/call", "hi"});
    REQUIRE(r);
    CHECK(r->text == "hi");
    CHECK(r->generation == 2);
    CHECK(client.observer().reconnects() == 1);
}

TEST_CASE("the Classifier exemplar decides 410 itself and passes the rest on", "[docs][classifier]") {
    STATIC_REQUIRE(is_classifier_v<app::gateway_classifier>);
    STATIC_REQUIRE_FALSE(is_classifier_v<app::echo_transport>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(classifier<app::gateway_classifier>);
#endif
    const app::gateway_classifier c;
    CHECK(c.classify(gone_410()) == failure_kind::session_expired);
    failure no_session = gone_410();
    no_session.had_session_id = false;
    CHECK(c.classify(no_session) == failure_kind::permanent);
    CHECK(c.classify(fail::session_not_found()) == failure_kind::session_expired);
    CHECK(c.classify(fail::throttled()) == failure_kind::throttled);

    recovering_client<mt::scripted_transport, app::gateway_classifier> client{std::in_place};
    client.transport().expire_session(gone_410());
    REQUIRE(client.try_call(write_file));
    CHECK(client.transport().reconnects() == 1);
}

TEST_CASE("the RetryPolicy exemplar allows one reconnect per call and 20 s of throttling", "[docs][retry]") {
    STATIC_REQUIRE(is_retry_policy_v<app::one_reconnect_then_patience>);
    STATIC_REQUIRE_FALSE(is_retry_policy_v<not_a_backoff>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(retry_policy<app::one_reconnect_then_patience>);
#endif
    using client_type = recovering_client<mt::scripted_transport, default_classifier, app::one_reconnect_then_patience,
                                          no_backoff, single_flight_reconnector<no_backoff>, counting_observer,
                                          mt::manual_clock>;
    SECTION("a second lost connection in one call is not chased") {
        client_type client{std::in_place};
        client.transport().fail_next(fail::reset_after_write(), 2);
        auto r = client.try_call(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::retries_exhausted);
        CHECK(client.transport().reconnects() == 1);
    }
    SECTION("each call gets a fresh copy: the next call may reconnect again") {
        client_type client{std::in_place};
        client.transport().fail_next(fail::reset_after_write());
        REQUIRE(client.try_call(list_tools));
        client.transport().fail_next(fail::reset_after_write());
        REQUIRE(client.try_call(list_tools));
        CHECK(client.transport().reconnects() == 2);
    }
    SECTION("throttling is retried while less than 20 s passed") {
        client_type client{std::in_place};
        mt::manual_clock clock;
        client.clock() = clock;
        client.transport().fail_next(fail::throttled(5s), 4);
        REQUIRE(client.try_call(list_tools));
        CHECK(clock.total_slept() == 20s);
    }
}

TEST_CASE("the Backoff exemplar climbs its ladder and starts over on reset", "[docs][backoff]") {
    STATIC_REQUIRE(is_backoff_policy_v<app::ladder_backoff>);
    STATIC_REQUIRE_FALSE(is_backoff_policy_v<not_a_backoff>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(backoff_policy<app::ladder_backoff>);
#endif
    app::ladder_backoff b;
    CHECK(b.next_delay() == 50ms);
    CHECK(b.next_delay() == 250ms);
    CHECK(b.next_delay() == 1s);
    CHECK(b.next_delay() == 1s);
    b.reset();
    CHECK(b.next_delay() == 50ms);

    recovering_client<mt::scripted_transport, default_classifier, limited_attempts, app::ladder_backoff,
                      single_flight_reconnector<>, null_observer, mt::manual_clock>
        client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.retry_policy() = limited_attempts{5};
    client.transport().fail_next(fail::server_error(502), 4);
    REQUIRE(client.try_call(list_tools));
    CHECK(clock.sleeps() == std::vector<duration>{50ms, 250ms, 1s, 1s});
}

TEST_CASE("the Reconnector exemplar: one reconnect for many callers, waits bounded by the clock",
          "[docs][reconnector]") {
    STATIC_REQUIRE(models_reconnector<app::serial_reconnector>::value);
    STATIC_REQUIRE(models_reconnector<single_flight_reconnector<>>::value);
    STATIC_REQUIRE_FALSE(models_reconnector<app::echo_transport>::value);
    using client_type = recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff,
                                          app::serial_reconnector, counting_observer, mt::manual_clock>;
    SECTION("8 callers on an expired session: one reconnect") {
        client_type client{std::in_place};
        client.transport().expire_session();
        std::atomic<int> answered{0};
        std::vector<std::thread> callers;
        for (int i = 0; i < 8; ++i)
            callers.emplace_back([&] {
                if (client.try_call(list_tools)) ++answered;
            });
        for (auto& t : callers) t.join();
        CHECK(answered == 8);
        CHECK(client.transport().reconnects() == 1);
        CHECK(client.observer().reconnects() == 1);
        CHECK(client.observer().reconnects_succeeded() == 1);
    }
    SECTION("a waiter gives up at its own deadline while another caller reconnects") {
        client_type client{std::in_place};
        mt::manual_clock clock;
        client.clock() = clock;
        client.transport().expire_session();
        client.transport().hold_reconnects();
        bool leader_answered = false;
        std::thread leader([&] { leader_answered = client.try_call(list_tools).has_value(); });
        REQUIRE(mcp_recovery_tests::eventually([&] { return client.transport().reconnects_waiting() == 1; }));
        call_options one_second;
        one_second.timeout = 1s;
        outcome<mt::scripted_response, call_error> waiter_result{error_tag, call_error{}};
        std::thread waiter([&] { waiter_result = client.try_call(list_tools, one_second); });
        REQUIRE(mcp_recovery_tests::eventually([&] { return clock.waiters() == 1; }));
        clock.advance(2s);
        waiter.join();
        client.transport().release_reconnects();
        leader.join();
        CHECK(leader_answered);
        REQUIRE_FALSE(waiter_result);
        CHECK(waiter_result.error().code == errc::deadline_exceeded);
        CHECK(client.transport().reconnects() == 1);
    }
    SECTION("a failing on_reconnected hook fails the call") {
        client_type client{std::in_place};
        client.on_reconnected([](mt::scripted_transport&) -> outcome<void> { return fail::bad_request("no"); });
        client.transport().expire_session();
        auto r = client.try_call(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        CHECK(client.observer().reconnects_failed() == 1);
    }
}

TEST_CASE("the Observer exemplar writes one line per recovery event", "[docs][observer]") {
    STATIC_REQUIRE(models_observer<app::log_observer>::value);
    STATIC_REQUIRE(models_observer<null_observer>::value);
    STATIC_REQUIRE(models_observer<counting_observer>::value);
    STATIC_REQUIRE_FALSE(models_observer<app::echo_transport>::value);

    recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      app::log_observer>
        client{std::in_place};
    std::mutex m;
    std::vector<std::string> lines;
    client.observer().sink = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(m);
        lines.push_back(line);
    };
    client.transport().expire_session();
    REQUIRE(client.try_call(list_tools));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "attempt 1 failed (HTTP 404, delivery rejected): session_expired");
    CHECK(lines[1].rfind("session 2 opened in ", 0) == 0);

    lines.clear();
    client.transport().fail_next(fail::reset_after_write());
    REQUIRE_FALSE(client.try_call(write_file));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "attempt 1 failed (HTTP 0, delivery unknown): connection_lost");
    CHECK(lines[1] == "call failed: " + make_error_code(errc::not_replayable).message());

    client.observer().sink = [](const std::string&) { throw std::runtime_error("sink down"); };
    client.transport().expire_session();
    CHECK(client.try_call(list_tools));  // a throwing sink does not break the call
}

TEST_CASE("the Clock exemplar keeps real time and meters the waits", "[docs][clock]") {
    STATIC_REQUIRE(is_clock_v<app::metered_clock>);
    STATIC_REQUIRE_FALSE(is_clock_v<app::ladder_backoff>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mcp_recovery::clock<app::metered_clock>);
#endif
    recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      null_observer, app::metered_clock>
        client{std::in_place};
    client.transport().fail_next(fail::throttled(3ms));
    REQUIRE(client.try_call(list_tools));
    CHECK(client.clock().slept() >= 2ms);  // 3 ms, less the time it took to start sleeping

    client.transport().expire_session();  // the reconnector's waits go through the clock too
    REQUIRE(client.try_call(list_tools));
}

#if defined(MCP_RECOVERY_DOCS_WITH_BEAST) && defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
TEST_CASE("the AsyncTransport exemplar recovers 20 coroutines with one reconnect", "[docs][async]") {
    namespace net = boost::asio;
    STATIC_REQUIRE(beast::is_async_transport_v<app::async_echo_transport>);
    STATIC_REQUIRE_FALSE(beast::is_async_transport_v<app::echo_transport>);
    net::io_context io;
    beast::async_recovering_client<app::async_echo_transport, default_classifier, retry_once, no_backoff,
                                   beast::async_single_flight_reconnector<no_backoff>, counting_observer>
        client(io.get_executor(), std::in_place, io.get_executor());
    client.transport().lose_session();
    int answered = 0;
    for (int i = 0; i < 20; ++i) {
        const app::echo_request hello{"ping", "hello"};
        net::co_spawn(io, client.call(hello), [&](std::exception_ptr e, outcome<app::echo_response, call_error> r) {
            if (!e && r && r->text == "hello" && r->generation == 2) ++answered;
        });
    }
    io.run();
    CHECK(answered == 20);
    CHECK(client.observer().reconnects() == 1);
}

TEST_CASE("the async Reconnector exemplar: 20 callers ask, one flight serves them all", "[docs][async]") {
    namespace net = boost::asio;
    STATIC_REQUIRE(beast::is_async_reconnector_v<app::counting_async_reconnector, app::async_echo_transport,
                                                 steady_clock_source, counting_observer>);
    STATIC_REQUIRE_FALSE(beast::is_async_reconnector_v<single_flight_reconnector<>, app::async_echo_transport,
                                                       steady_clock_source, counting_observer>);
    net::io_context io;
    beast::async_recovering_client<app::async_echo_transport, default_classifier, retry_once, no_backoff,
                                   app::counting_async_reconnector, counting_observer>
        client(io.get_executor(), std::in_place, io.get_executor());
    client.transport().lose_session();
    int answered = 0;
    for (int i = 0; i < 20; ++i) {
        const app::echo_request hello{"ping", "hello"};
        net::co_spawn(io, client.call(hello), [&](std::exception_ptr e, outcome<app::echo_response, call_error> r) {
            if (!e && r && r->generation == 2) ++answered;
        });
    }
    io.run();
    CHECK(answered == 20);
    CHECK(client.reconnector().asked() == 20);
    CHECK(client.reconnector().served() == 20);
    CHECK(client.observer().reconnects() == 1);
}
#endif

// ---------------------------------------------------------------- snippets

TEST_CASE("getting started: the callable adapter recovers the wrapped client's lost session", "[docs][snippet]") {
    const int before = app::the_stub_server().initializes.load();
    app::the_stub_server().forget_on_next_call = true;
    const std::string answer = app::call_through_my_client("http://127.0.0.1:1/mcp");
    CHECK(answer.find(R"("method":"tools/call")") != std::string::npos);
    CHECK(app::the_stub_server().initializes.load() - before == 2);
}

TEST_CASE("reading a call_error: the reason, the last failure, the advice", "[docs][snippet]") {
    recovering_client<mt::scripted_transport> client{std::in_place};
    client.transport().fail_next(fail::reset_after_write());
    auto r = client.try_call(write_file);
    REQUIRE_FALSE(r);
    const std::string text = app::explain(r.error());
    CHECK(text.rfind(make_error_code(errc::not_replayable).message(), 0) == 0);
    CHECK(text.find("check before you do it again") != std::string::npos);

    const call_error open{make_error_code(errc::circuit_open), std::nullopt, 30s};
    CHECK(app::explain(open).find("next try in 30 s") != std::string::npos);

    int sends = 0;
    int fail_at = 0;
    client.transport().on_send([&](const mt::scripted_request&) -> std::optional<failure> {
        if (++sends == fail_at) return fail::bad_request();
        return std::nullopt;
    });
    fail_at = 1;
    CHECK(app::call_three_ways(client, list_tools).find("HTTP 400") != std::string::npos);
    sends = 0;
    fail_at = 2;
    CHECK(app::call_three_ways(client, list_tools) == make_error_code(errc::permanent_failure).message());
    sends = 0;
    fail_at = 3;
    CHECK(app::call_three_ways(client, list_tools).find("HTTP 400") != std::string::npos);
    sends = 0;
    fail_at = 0;
    CHECK(app::call_three_ways(client, list_tools) == "ok");
}

TEST_CASE("composition: the configured prototypes are what the calls use", "[docs][snippet]") {
    app::tuned_client<mt::scripted_transport> client{std::in_place};
    app::configure(client);
    CHECK(client.retry_policy().max_attempts() == 4);
    CHECK(client.reconnector().options().failure_threshold == 3);
    CHECK(client.reconnector().options().cool_down == 10s);
    CHECK(client.options().max_server_wait == 20s);
    failure evicted = fail::bad_request("Bad Request: session evicted");
    CHECK(client.classifier().classify(evicted) == failure_kind::session_expired);
    client.transport().expire_session(evicted);
    REQUIRE(client.try_call(write_file));
    CHECK(client.observer().reconnects() == 1);

    app::own_policies_client<app::echo_transport> own{std::in_place};
    own.observer().sink = [](const std::string&) {};
    own.transport().lose_session();
    REQUIRE(own.try_call(app::echo_request{"tools/call", "x"}));
    CHECK(own.transport().generation() == 2);
}

TEST_CASE("replay safety: request_traits, annotations and per-call overrides", "[docs][snippet]") {
    CHECK(method_of(app::rpc_call{"tools/list", "{}"}) == std::optional<std::string_view>("tools/list"));
    const auto decide = [](const char* method, const call_options& o) {
        return resolve_idempotency(o.idempotency, method_of(app::rpc_call{method, {}}), o.annotations);
    };
    CHECK(decide("tools/list", call_options{}));
    CHECK_FALSE(decide("tools/call", call_options{}));
    CHECK(decide("tools/call", app::with_annotations(tool_annotations{true, false})));
    CHECK(decide("tools/call", app::with_annotations(tool_annotations{false, true})));
    CHECK(decide("tools/call", app::safe_to_repeat()));
    CHECK_FALSE(decide("tools/list", app::never_repeat()));

    recovering_client<mt::scripted_transport> client{std::in_place};
    client.transport().fail_next(fail::reset_after_write());
    CHECK(client.try_call(write_file, app::safe_to_repeat()));
    client.transport().fail_next(fail::reset_after_write());
    auto r = client.try_call(list_tools, app::never_repeat());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
}

TEST_CASE("observability: counting_observer's counters as metrics", "[docs][snippet]") {
    recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      counting_observer>
        client{std::in_place};
    client.transport().expire_session();
    REQUIRE(client.try_call(list_tools));
    client.transport().fail_next(fail::reset_after_write());
    REQUIRE_FALSE(client.try_call(write_file));
    auto m = app::recovery_metrics(client.observer());
    CHECK(m.at("mcp_failures_total") == 2);
    CHECK(m.at("mcp_sessions_lost_total") == 1);
    CHECK(m.at("mcp_reconnects_total") == 1);
    CHECK(m.at("mcp_retries_total") == 1);
    CHECK(m.at("mcp_recovered_total") == 1);
    CHECK(m.at("mcp_gave_up_total") == 1);
    CHECK(m.at("mcp_outcome_unknown_total") == 1);
}

#if defined(MCP_RECOVERY_DOCS_WITH_BEAST)
namespace {

namespace fs = mcp_recovery::beast::testing;

// The next tools/call gets the TypeScript SDK's lost-session answer, whatever the session.
void lose_session_on_next_tool_call(fs::flaky_server& server) {
    const fs::http_answer a = fs::lost_session_answer(fs::lost_session_style::typescript_404);
    server.inject(fs::fault::http_status(a.status, std::string(a.body), std::string(a.content_type)),
                  fs::fault_match::tool_call());
}

}  // namespace

TEST_CASE("README usage: the call comes back after a lost session", "[docs][snippet][beast]") {
    fs::flaky_server server;
    lose_session_on_next_tool_call(server);
    CHECK(call_echo(server.url()) == R"({"content":[{"type":"text","text":"hi"}]})");
    CHECK(server.initializes() == 2);
}

TEST_CASE("getting started: the Beast client answers after a lost session", "[docs][snippet][beast]") {
    fs::flaky_server server;
    lose_session_on_next_tool_call(server);
    CHECK(app::first_call(server.url()) == 0);
    CHECK(server.initializes() == 2);
    CHECK(app::first_call("http://127.0.0.1:1/mcp") == 1);  // nobody listens there
}

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
TEST_CASE("getting started: the async client answers after a lost session", "[docs][snippet][beast][async]") {
    fs::flaky_server server;
    lose_session_on_next_tool_call(server);
    CHECK(app::call_echo_async(server.url()) == R"({"content":[{"type":"text","text":"hi"}]})");
    CHECK(server.initializes() == 2);
}
#endif
#endif
