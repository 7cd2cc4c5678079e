#include "mcp_recovery/recovering_client.hpp"

#include "mcp_recovery/testing/manual_clock.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"

#include <chrono>
#include <random>

using namespace mcp_recovery;
using namespace std::chrono_literals;
namespace mt = mcp_recovery::testing;
namespace fail = mcp_recovery::testing::failures;

namespace {

using exact_backoff = basic_exponential_backoff<>;

template <class Retry = retry_once, class Backoff = no_backoff, class Transport = mt::scripted_transport>
using test_client = recovering_client<Transport, default_classifier, Retry, Backoff,
                                      single_flight_reconnector<no_backoff>, counting_observer, mt::manual_clock>;

template <class Client>
Client& with_clock(Client& c, const mt::manual_clock& clock) {
    c.clock() = clock;
    return c;
}

const mt::scripted_request list_tools{"tools/list", "list"};
const mt::scripted_request write_file{"tools/call", "write"};

}  // namespace

TEST_CASE("a call that succeeds at once sends once and never reconnects", "[client]") {
    test_client<> c{std::in_place};
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(r->key == "list");
    CHECK(c.transport().sends() == 1);
    CHECK(c.transport().reconnects() == 0);
    CHECK(c.observer().failures() == 0);
}

TEST_CASE("an expired session is re-initialized once and the request replayed", "[client][session]") {
    test_client<> c{std::in_place};
    const auto g0 = c.transport().generation();
    c.transport().expire_session();
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);
    CHECK(c.transport().reconnects() == 1);
    CHECK(c.transport().sends() == 2);
    CHECK(c.observer().reconnects() == 1);
    CHECK(c.observer().retries() == 1);
    CHECK(c.observer().recovered() == 1);
    CHECK(c.observer().failures(failure_kind::session_expired) == 1);
}

TEST_CASE("replay safety decides whether a failed request is sent again", "[client][replay]") {
    test_client<> c{std::in_place};

    SECTION("a non-idempotent tools/call whose delivery is unknown is not replayed") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(write_file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->delivered == delivery::unknown);
        CHECK(r.error().last_failure->transport_error == std::errc::connection_reset);
        CHECK(c.transport().executions("write") == 1);
        CHECK(c.transport().sends() == 1);
        CHECK(c.transport().reconnects() == 0);
        CHECK(c.observer().give_ups(errc::not_replayable) == 1);
    }
    SECTION("a non-idempotent tools/call that the server rejected is replayed") {
        c.transport().expire_session();
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(c.transport().executions("write") == 1);
        CHECK(r->executions == 1);
    }
    SECTION("a tools/call that never left the client is replayed") {
        c.transport().fail_next(fail::connection_refused());
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(c.transport().executions("write") == 1);
    }
    SECTION("an idempotent method whose delivery is unknown is replayed") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(list_tools);
        REQUIRE(r);
        CHECK(c.transport().executions("list") == 2);
        CHECK(c.transport().reconnects() == 1);
    }
    SECTION("a read-only tool is replayed after an unknown delivery") {
        c.transport().fail_next(fail::reset_after_write());
        call_options o;
        o.annotations = tool_annotations{true, false};
        auto r = c.try_call(write_file, o);
        REQUIRE(r);
        CHECK(c.transport().executions("write") == 2);
    }
    SECTION("a per-call override to non_idempotent wins over the method") {
        c.transport().fail_next(fail::reset_after_write());
        call_options o;
        o.idempotency = idempotency::non_idempotent;
        auto r = c.try_call(list_tools, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
    }
    SECTION("a per-call override to idempotent allows the replay") {
        c.transport().fail_next(fail::reset_after_write());
        call_options o;
        o.idempotency = idempotency::idempotent;
        auto r = c.try_call(write_file, o);
        REQUIRE(r);
        CHECK(c.transport().executions("write") == 2);
    }
}

TEST_CASE("cancellation is never retried and never reconnects", "[client][cancel]") {
    test_client<limited_attempts> c{std::in_place};
    c.retry_policy() = limited_attempts(10);
    c.transport().fail_next(fail::cancelled());
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cancelled);
    CHECK(c.transport().sends() == 1);
    CHECK(c.transport().reconnects() == 0);
    CHECK(c.observer().retries() == 0);
}

TEST_CASE("a permanent failure is surfaced unchanged after one attempt", "[client]") {
    test_client<limited_attempts> c{std::in_place};
    c.retry_policy() = limited_attempts(10);
    c.transport().fail_next(fail::bad_request());
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->http_status == 400);
    CHECK(r.error().last_failure->message == "Bad Request: Unsupported protocol version");
    CHECK(c.transport().sends() == 1);
}

TEST_CASE("throttling waits for the server's hint on the same session", "[client][throttle]") {
    mt::manual_clock clock;
    test_client<> c{std::in_place};
    with_clock(c, clock);

    SECTION("Retry-After is honoured exactly") {
        c.transport().fail_next(fail::throttled(2s));
        auto r = c.try_call(write_file);
        REQUIRE(r);
        REQUIRE(clock.sleeps().size() == 1);
        CHECK(clock.sleeps()[0] == 2s);
        CHECK(c.transport().reconnects() == 0);
    }
    SECTION("a huge Retry-After is clamped to max_server_wait") {
        c.options().max_server_wait = 5s;
        c.transport().fail_next(fail::throttled(std::chrono::hours(10)));
        auto r = c.try_call(write_file);
        REQUIRE(r);
        REQUIRE(clock.sleeps().size() == 1);
        CHECK(clock.sleeps()[0] == 5s);
    }
    SECTION("a Retry-After beyond the deadline gives up at once without sleeping") {
        c.transport().fail_next(fail::throttled(10s));
        call_options o;
        o.deadline = clock.now() + 3s;
        auto r = c.try_call(write_file, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
        CHECK(clock.sleeps().empty());
        CHECK(c.transport().sends() == 1);
    }
    SECTION("a relative timeout bounds the wait like a deadline") {
        c.transport().fail_next(fail::throttled(10s));
        call_options o;
        o.timeout = 9s;
        auto r = c.try_call(write_file, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
    }
}

TEST_CASE("transient failures back off with the backoff policy", "[client][backoff]") {
    mt::manual_clock clock;
    test_client<limited_attempts, exact_backoff> c{std::in_place};
    with_clock(c, clock);
    c.retry_policy() = limited_attempts(4);
    c.backoff_policy() = exact_backoff(100ms, 2.0, 10s, jitter::none);
    c.transport().fail_next(fail::server_error(503), 3);
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(clock.sleeps() == std::vector<duration>{100ms, 200ms, 400ms});
    CHECK(c.transport().sends() == 4);

    SECTION("the backoff prototype is copied per call: the next call starts again at the first step") {
        c.transport().fail_next(fail::server_error(503), 1);
        REQUIRE(c.try_call(list_tools));
        CHECK(clock.sleeps().back() == 100ms);
    }
    SECTION("when the retry policy is exhausted the call ends with retries_exhausted") {
        c.transport().fail_next(fail::server_error(502), 4);
        auto e = c.try_call(list_tools);
        REQUIRE_FALSE(e);
        CHECK(e.error().code == errc::retries_exhausted);
        REQUIRE(e.error().last_failure);
        CHECK(e.error().last_failure->http_status == 502);
    }
}

TEST_CASE("the sum of all waits never exceeds the call's deadline", "[client][deadline]") {
    std::mt19937 rng(12345);
    for (int trial = 0; trial < 300; ++trial) {
        mt::manual_clock clock;
        test_client<limited_time, exact_backoff> c{std::in_place};
        with_clock(c, clock);
        c.retry_policy() = limited_time(std::chrono::hours(1));
        const auto initial = std::chrono::milliseconds(1 + rng() % 500);
        c.backoff_policy() = exact_backoff(initial, 1.0 + static_cast<double>(rng() % 30) / 10.0, 20s,
                                           trial % 2 ? jitter::full : jitter::decorrelated);
        const int failures = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < failures; ++i) {
            switch (rng() % 3) {
            case 0: c.transport().fail_next(fail::server_error(503)); break;
            case 1: c.transport().fail_next(fail::throttled(std::chrono::milliseconds(rng() % 4000))); break;
            default: c.transport().fail_next(fail::server_error(500)); break;
            }
        }
        const auto budget = std::chrono::milliseconds(rng() % 20000);
        const time_point start = clock.now();
        call_options o;
        o.deadline = start + budget;
        auto r = c.try_call(list_tools, o);
        CAPTURE(trial, failures, budget.count());
        REQUIRE(clock.total_slept() <= budget);
        REQUIRE(clock.now() - start <= budget);
        if (!r) CHECK(r.error().code == errc::deadline_exceeded);
    }
}

TEST_CASE("unauthorized refreshes credentials once and never re-initializes", "[client][auth]") {
    test_client<limited_attempts> c{std::in_place};
    c.retry_policy() = limited_attempts(5);

    SECTION("a refresh followed by success") {
        c.transport().fail_next(fail::unauthorized());
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(c.transport().refreshes() == 1);
        CHECK(c.transport().reconnects() == 0);
    }
    SECTION("a second 401 after the refresh gives up with unauthorized") {
        c.transport().fail_next(fail::unauthorized(), 2);
        auto r = c.try_call(write_file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::unauthorized);
        CHECK(c.transport().refreshes() == 1);
        CHECK(c.transport().reconnects() == 0);
        CHECK(c.transport().sends() == 2);
    }
    SECTION("a failed refresh gives up with the refresh's failure") {
        c.transport().fail_next(fail::unauthorized());
        c.transport().fail_next_refresh(fail::connection_refused());
        auto r = c.try_call(write_file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::unauthorized);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->transport_error == std::errc::connection_refused);
    }
}

TEST_CASE("unauthorized without an auth hook gives up at once", "[client][auth]") {
    test_client<retry_once, no_backoff, mt::scripted_transport_without_auth> c{std::in_place};
    c.transport().fail_next(fail::unauthorized());
    auto r = c.try_call(write_file);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::unauthorized);
    CHECK(c.transport().sends() == 1);
    CHECK(c.transport().reconnects() == 0);
}

TEST_CASE("retry_once replays once: a session lost twice in a row ends the call", "[client][session]") {
    test_client<> c{std::in_place};
    c.transport().expire_session();
    c.transport().on_send([&c, n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (++n == 2) c.transport().expire_session();  // the replay meets a lost session again
        return std::nullopt;
    });
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::retries_exhausted);
    // The second loss is not replayed, but the session is renewed so that the next call works.
    CHECK(c.transport().reconnects() == 2);
    CHECK(c.transport().sends() == 2);
    auto next = c.try_call(list_tools);
    CHECK(next);
    CHECK(c.transport().sends() == 3);
    CHECK(c.transport().reconnects() == 2);
}

TEST_CASE("a failed reconnect ends the call with reconnect_failed and its cause", "[client][session]") {
    test_client<> c{std::in_place};
    c.transport().expire_session();
    c.transport().fail_next_reconnect(fail::connection_refused());
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::reconnect_failed);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->transport_error == std::errc::connection_refused);
    CHECK(c.observer().reconnects_failed() == 1);
}

TEST_CASE("a stale failure from an older generation causes no reconnect", "[client][session]") {
    test_client<> c{std::in_place};
    c.transport().fail_next(fail::session_not_found());
    // Another caller re-initialized while this request was on its way.
    c.transport().on_send([&c, first = true](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (std::exchange(first, false)) REQUIRE(c.transport().reconnect());
        return std::nullopt;
    });
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(c.transport().reconnects() == 1);  // only the other caller's
    CHECK(c.observer().reconnects() == 0);
    CHECK(c.transport().sends() == 2);
}

TEST_CASE("the on_reconnected hook restores session state inside the flight", "[client][hook]") {
    test_client<> c{std::in_place};
    int hook_runs = 0;
    std::uint64_t hook_saw = 0;
    c.on_reconnected([&](mt::scripted_transport& t) -> outcome<void> {
        ++hook_runs;
        hook_saw = t.generation();
        return {};
    });
    const auto g0 = c.transport().generation();
    c.transport().expire_session();
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(hook_runs == 1);
    CHECK(hook_saw == g0 + 1);

    SECTION("a failing hook fails the flight, and the next call flies again") {
        bool fail_hook = true;
        c.on_reconnected([&](mt::scripted_transport&) -> outcome<void> {
            ++hook_runs;
            if (fail_hook) return fail::server_error(500);
            return {};
        });
        c.transport().expire_session();
        auto bad = c.try_call(list_tools);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == errc::reconnect_failed);
        REQUIRE(bad.error().last_failure);
        CHECK(bad.error().last_failure->http_status == 500);
        fail_hook = false;
        c.transport().expire_session();
        auto good = c.try_call(list_tools);
        REQUIRE(good);
        CHECK(hook_runs == 3);
        CHECK(c.transport().reconnects() == 3);
    }
}

TEST_CASE("the circuit breaker opens, fails fast, and lets one probe through after the cool-down",
          "[client][circuit]") {
    mt::manual_clock clock;
    test_client<> c{std::in_place};
    with_clock(c, clock);
    reconnect_options breaker{3, 10s};
    breaker.open_after = 0s;  // open on the count alone (the time window has tests of its own)
    c.reconnector().set_options(breaker);
    c.transport().expire_session();
    c.transport().fail_next_reconnect(fail::connection_refused(), 4);

    for (int i = 0; i < 3; ++i) {
        auto r = c.try_call(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
    }
    CHECK(c.transport().reconnects() == 3);
    CHECK(c.reconnector().circuit_open(clock.now()));

    clock.advance(4s);
    auto open = c.try_call(list_tools);
    REQUIRE_FALSE(open);
    CHECK(open.error().code == errc::circuit_open);
    CHECK(open.error().retry_after == 6s);
    REQUIRE(open.error().last_failure);
    CHECK(c.transport().reconnects() == 3);  // failed fast, no flight

    clock.advance(6s);  // cool-down over: one probe, which fails and re-opens the circuit
    auto probe = c.try_call(list_tools);
    REQUIRE_FALSE(probe);
    CHECK(probe.error().code == errc::reconnect_failed);
    CHECK(c.transport().reconnects() == 4);
    auto again = c.try_call(list_tools);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == errc::circuit_open);
    CHECK(again.error().retry_after == 20s);  // the cool-down doubles at each re-opening

    clock.advance(20s);  // the next probe succeeds and closes the circuit
    auto ok = c.try_call(list_tools);
    REQUIRE(ok);
    CHECK(c.transport().reconnects() == 5);
    CHECK_FALSE(c.reconnector().circuit_open(clock.now()));
    CHECK(c.reconnector().consecutive_failures() == 0);
}

TEST_CASE("failed reconnect flights back off before the next flight", "[client][circuit]") {
    mt::manual_clock clock;
    recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<exact_backoff>, null_observer, mt::manual_clock>
        c{std::in_place};
    c.clock() = clock;
    c.reconnector().backoff_policy() = exact_backoff(1s, 2.0, 8s, jitter::none);
    c.transport().expire_session();
    c.transport().fail_next_reconnect(fail::connection_refused(), 2);
    REQUIRE_FALSE(c.try_call(list_tools));
    CHECK(clock.sleeps().empty());
    REQUIRE_FALSE(c.try_call(list_tools));
    REQUIRE(clock.sleeps() == std::vector<duration>{1s});
    REQUIRE(c.try_call(list_tools));
    CHECK(clock.sleeps() == std::vector<duration>{1s, 2s});

    SECTION("a flight whose backoff would end past the caller's deadline is not started") {
        c.transport().expire_session();
        c.transport().fail_next_reconnect(fail::connection_refused());
        REQUIRE_FALSE(c.try_call(list_tools));  // the success reset the backoff: no wait first
        call_options o;
        o.deadline = clock.now() + 500ms;
        auto r = c.try_call(list_tools, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
        CHECK(c.transport().reconnects() == 4);
    }
}

TEST_CASE("a call past its deadline does not retry", "[client][deadline]") {
    mt::manual_clock clock;
    test_client<> c{std::in_place};
    with_clock(c, clock);
    c.transport().expire_session();
    call_options o;
    o.deadline = clock.now();
    auto r = c.try_call(list_tools, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::deadline_exceeded);
    CHECK(c.transport().reconnects() == 0);
}

TEST_CASE("the paired API reports failures by error_code or by exception", "[client][api]") {
    test_client<> c{std::in_place};

    SECTION("error_code overload") {
        std::error_code ec = make_error_code(errc::cancelled);
        auto ok = c.call(list_tools, {}, ec);
        CHECK_FALSE(ec);
        CHECK(ok.key == "list");
        c.transport().fail_next(fail::reset_after_write());
        auto bad = c.call(write_file, {}, ec);
        CHECK(ec == errc::not_replayable);
        CHECK(bad.key.empty());
    }
    SECTION("error_code overload without options") {
        std::error_code ec = make_error_code(errc::cancelled);
        auto ok = c.call(list_tools, ec);
        CHECK_FALSE(ec);
        CHECK(ok.key == "list");
        c.transport().fail_next(fail::reset_after_write());
        auto bad = c.call(write_file, ec);
        CHECK(ec == errc::not_replayable);
        CHECK(ec != condition::retryable);
        CHECK(bad.key.empty());
        c.transport().fail_next(fail::session_not_found(), 2);
        bad = c.call(list_tools, ec);
        CHECK(ec == errc::retries_exhausted);
        CHECK(ec == condition::retryable);
        CHECK(bad.key.empty());
    }
    SECTION("throwing overload") {
        c.transport().fail_next(fail::reset_after_write());
        try {
            c.call(write_file);
            FAIL("call did not throw");
        } catch (const recovery_error& e) {
            CHECK(e.code() == errc::not_replayable);
            REQUIRE(e.last_failure());
            CHECK(e.last_failure()->delivered == delivery::unknown);
            const std::string what = e.what();
            CHECK(what.find("outcome unknown") != std::string::npos);
            CHECK(what.find(std::make_error_code(std::errc::connection_reset).message()) != std::string::npos);
            // The reason says the request may have run: the delivery is not said a second time.
            CHECK(what.find("delivery unknown") == std::string::npos);
        }
    }
}

TEST_CASE("concept checks accept the models and reject non-models", "[client][concepts]") {
    struct no_reconnect {
        using request_type = int;
        using response_type = int;
        outcome<int> send(const int&) { return 0; }
        std::uint64_t generation() const { return 0; }
    };
    struct wrong_send {
        using request_type = int;
        using response_type = int;
        void send(const int&) {}
        outcome<void> reconnect() { return {}; }
        std::uint64_t generation() const { return 0; }
    };
    STATIC_REQUIRE(is_transport_v<mt::scripted_transport>);
    STATIC_REQUIRE(has_refresh_auth_v<mt::scripted_transport>);
    STATIC_REQUIRE_FALSE(has_refresh_auth_v<mt::scripted_transport_without_auth>);
    STATIC_REQUIRE_FALSE(is_transport_v<no_reconnect>);
    STATIC_REQUIRE_FALSE(is_transport_v<wrong_send>);
    STATIC_REQUIRE_FALSE(is_transport_v<int>);
    STATIC_REQUIRE(is_clock_v<steady_clock_source>);
    STATIC_REQUIRE(is_clock_v<mt::manual_clock>);
    STATIC_REQUIRE_FALSE(is_clock_v<std::chrono::steady_clock>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mcp_recovery::transport<mt::scripted_transport>);
    STATIC_REQUIRE_FALSE(mcp_recovery::transport<no_reconnect>);
    STATIC_REQUIRE(mcp_recovery::clock<mt::manual_clock>);
#endif
}

TEST_CASE("the client's tool annotation source decides the replay of a tools/call made without annotations",
          "[client][replay][annotations]") {
    test_client<> c{std::in_place};
    int asked = 0;
    // The key stands for the tool name here; a Beast client would use beast::annotations_from(catalogue).
    c.use_tool_annotations([&](const mt::scripted_request& r) -> std::optional<tool_annotations> {
        ++asked;
        if (r.key == "write") return tool_annotations{false, true};  // idempotent
        return std::nullopt;                                           // unknown tool
    });
    const mt::scripted_request unknown_tool{"tools/call", "launch"};

    SECTION("a known idempotent tool is replayed after an unknown delivery") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(c.transport().executions("write") == 2);
        CHECK(asked == 1);
    }
    SECTION("an unknown tool is not replayed") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(unknown_tool);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(c.transport().executions("launch") == 1);
        CHECK(asked == 1);
    }
    SECTION("annotations given with the call win over the source") {
        c.transport().fail_next(fail::reset_after_write());
        call_options o;
        o.annotations = tool_annotations{false, false};
        auto r = c.try_call(write_file, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(asked == 0);
    }
    SECTION("an explicit idempotency wins over the source") {
        c.transport().fail_next(fail::reset_after_write());
        call_options o;
        o.idempotency = idempotency::non_idempotent;
        auto r = c.try_call(write_file, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(asked == 0);
    }
    SECTION("the source is not asked on the success path, nor for other methods") {
        REQUIRE(c.try_call(write_file));
        c.transport().fail_next(fail::reset_after_write());
        REQUIRE(c.try_call(list_tools));
        CHECK(asked == 0);
    }
}
