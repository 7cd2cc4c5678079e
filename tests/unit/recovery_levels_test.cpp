// Recovery decisions under real-world faults (issue 10), with the manual clock and scripted
// transports: a lost connection is not a lost session, a lost session is renewed even when the
// call is not replayed, classifiers say the delivery they know, every step stays inside the
// deadline, failed flights back off and the circuit opens only on failures that last.
// The async client runs the same cases in tests/beast_async/async_recovery_levels_test.cpp.
#include "mcp_recovery/recovering_client.hpp"

#include "mcp_recovery/testing/manual_clock.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
using namespace std::chrono_literals;
namespace mt = mcp_recovery::testing;
namespace fail = mcp_recovery::testing::failures;

namespace {

template <class Transport = mt::scripted_http_transport, class Retry = retry_once,
          class Classifier = default_classifier>
using client = recovering_client<Transport, Classifier, Retry, no_backoff, single_flight_reconnector<>,
                                 counting_observer, mt::manual_clock>;

template <class Client>
Client& with_clock(Client& c, const mt::manual_clock& clock) {
    c.clock() = clock;
    return c;
}

const mt::scripted_request list_tools{"tools/list", "list"};
const mt::scripted_request write_file{"tools/call", "write"};

// A user rule: this gateway's 502 with body "upstream gone" never reached the server.
struct upstream_gone_rule {
    std::optional<classification> match(const failure& f) const {
        if (f.http_status == 502 && f.message == "upstream gone")
            return classification{failure_kind::transient, delivery::rejected};
        return std::nullopt;
    }
};

// A user classifier that knows a lost session but not the delivery.
struct blunt_classifier {
    classification classify(const failure& f) const {
        if (f.message == "gone") return failure_kind::session_expired;
        return spec_classifier{}.classify(f);
    }
};

failure said_gone() {
    failure f;
    f.message = "gone";
    f.delivered = delivery::unknown;
    return f;
}

}  // namespace

TEST_CASE("a reset connection is reopened on the same session: 0 initializes", "[levels][connection]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);
    const auto g0 = c.transport().generation();

    SECTION("an idempotent request whose delivery is unknown is sent again on a new connection") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(list_tools);
        REQUIRE(r);
        CHECK(r->generation == g0);
        CHECK(c.transport().reopens() == 1);
        CHECK(c.transport().reconnects() == 0);
        CHECK(c.observer().reopens_succeeded() == 1);
        CHECK(c.observer().reconnects() == 0);
    }
    SECTION("a refused connection never carried the request: even a tools/call is sent again") {
        c.transport().fail_next(fail::connection_refused());
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(r->generation == g0);
        CHECK(c.transport().executions("write") == 1);
        CHECK(c.transport().reconnects() == 0);
    }
    SECTION("a tools/call that may have run is not sent again, and nothing is reopened for it") {
        c.transport().fail_next(fail::reset_after_write());
        auto r = c.try_call(write_file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(c.transport().executions("write") == 1);
        CHECK(c.transport().reopens() == 0);
        CHECK(c.transport().reconnects() == 0);
    }
}

TEST_CASE("a transport whose session is its connection keeps re-initializing on connection loss",
          "[levels][connection]") {
    mt::manual_clock clock;
    client<mt::scripted_transport> c{std::in_place};
    with_clock(c, clock);
    const auto g0 = c.transport().generation();
    c.transport().fail_next(fail::reset_after_write());
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);
    CHECK(c.transport().reconnects() == 1);
}

TEST_CASE("after a reopen, the server's lost-session answer costs one initialize within one recovery",
          "[levels][connection][session]") {
    // A restart seen by a call in flight: the connection breaks, then the new process does not know
    // the session. retry_once covers it: reopen + resend, then initialize + resend.
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);
    const auto g0 = c.transport().generation();
    c.transport().on_send([&c, n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (++n == 1) {
            c.transport().expire_session();  // the process that comes back forgot the session
            return fail::reset_after_write();
        }
        return std::nullopt;
    });
    auto r = c.try_call(list_tools);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);
    CHECK(c.transport().reopens() == 1);
    CHECK(c.transport().reconnects() == 1);
    CHECK(c.transport().sends() == 3);

    SECTION("the escalation is granted once per call: a second loss ends it") {
        c.transport().on_send([&c, n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
            ++n;
            if (n == 1 || n == 3) {
                c.transport().expire_session();
                return fail::reset_after_write();
            }
            return std::nullopt;
        });
        auto again = c.try_call(list_tools);
        REQUIRE_FALSE(again);
        CHECK(again.error().code == errc::retries_exhausted);
    }
}

TEST_CASE("a server that is down is probed by one flight at a time, backing off, until it is back",
          "[levels][outage]") {
    mt::manual_clock clock;
    client<mt::scripted_http_transport, limited_time> c{std::in_place};
    with_clock(c, clock);
    const auto g0 = c.transport().generation();
    // The restart: refused while down (3 probes fail), then the session is gone.
    c.transport().on_send([n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (++n == 1) return fail::connection_refused();
        return std::nullopt;
    });
    c.transport().fail_next_reopen(fail::connection_refused(), 3);
    c.transport().expire_session();
    call_options o;
    o.timeout = 20s;
    const auto started = clock.now();
    auto r = c.try_call(write_file, o);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);                    // exactly one initialize
    CHECK(c.transport().reconnects() == 1);
    CHECK(c.transport().reopens() == 4);               // 3 refused probes, then the one that got through
    CHECK(c.transport().executions("write") == 1);
    CHECK(c.observer().reopens_failed() == 3);
    // The probes were spaced by the flight backoff (full jitter, steps 50, 100, 200 ms): never
    // more than 350 ms in all, never a hot loop past the steps' sum, and well inside the timeout.
    CHECK(clock.now() - started <= 350ms);
    CHECK(c.reconnector().consecutive_failures() == 0);

    SECTION("retry_once gives up after the first failed probe, with the probe's failure") {
        client<> once{std::in_place};
        with_clock(once, clock);
        once.transport().fail_next(fail::connection_refused());
        once.transport().fail_next_reopen(fail::connection_refused());
        auto e = once.try_call(list_tools);
        REQUIRE_FALSE(e);
        CHECK(e.error().code == errc::reconnect_failed);
        REQUIRE(e.error().last_failure);
        CHECK(e.error().last_failure->transport_error == std::errc::connection_refused);
        REQUIRE(e.error().request_failure);
        CHECK(once.transport().reopens() == 1);
    }
}

TEST_CASE("a recognised lost session is renewed even when the call is not replayed", "[levels][session]") {
    mt::manual_clock clock;
    client<mt::scripted_http_transport, retry_once, blunt_classifier> c{std::in_place};
    with_clock(c, clock);
    const auto g0 = c.transport().generation();
    c.transport().fail_next(said_gone());
    auto r = c.try_call(write_file);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
    CHECK(c.transport().reconnects() == 1);  // renewed for the next call
    CHECK(c.transport().generation() == g0 + 1);
    auto next = c.try_call(write_file);
    REQUIRE(next);
    CHECK(c.transport().reconnects() == 1);
    CHECK(c.transport().sends() == 2);
}

TEST_CASE("classifiers say the delivery they know", "[levels][classifier]") {
    mt::manual_clock clock;

    SECTION("the server's lost-session answers are rejected: a tools/call is replayed once") {
        for (const failure& lost : {fail::session_not_found(), fail::session_lost_in_band()}) {
            client<> c{std::in_place};
            with_clock(c, clock);
            failure unknown = lost;
            unknown.delivered = delivery::unknown;  // as a wrapped client's exception would say
            c.transport().expire_session(unknown);
            auto r = c.try_call(write_file);
            REQUIRE(r);
            CHECK(c.transport().executions("write") == 1);
            CHECK(c.transport().reconnects() == 1);
        }
    }
    SECTION("a user rule marks a gateway's 502 as rejected") {
        using rule_classifier = first_match<upstream_gone_rule, default_classifier>;
        client<mt::scripted_http_transport, retry_once, rule_classifier> c{std::in_place};
        with_clock(c, clock);
        failure gone = fail::server_error(502);
        gone.message = "upstream gone";
        CHECK(gone.delivered == delivery::unknown);  // what the transport says of any 502
        c.transport().fail_next(gone);
        auto r = c.try_call(write_file);
        REQUIRE(r);
        CHECK(c.transport().sends() == 2);

        failure other = fail::server_error(502);  // the rule does not match: may have run
        c.transport().fail_next(other);
        auto e = c.try_call(write_file);
        REQUIRE_FALSE(e);
        CHECK(e.error().code == errc::not_replayable);
    }
    SECTION("default_classifier returns the kind and the delivery") {
        const default_classifier dc;
        const classification lost = dc.classify(fail::session_not_found());
        CHECK(lost.kind == failure_kind::session_expired);
        REQUIRE(lost.delivered);
        CHECK(*lost.delivered == delivery::rejected);
        const classification reset = dc.classify(fail::reset_after_write());
        CHECK(reset.kind == failure_kind::connection_lost);
        CHECK_FALSE(reset.delivered);
        failure tool_text;  // a 200 with lost-session words but no in-band error: a tool's text
        tool_text.http_status = 200;
        tool_text.message = "Session not found";
        tool_text.transport_error = make_error_code(transport_errc::stream_ended);
        CHECK(dc.classify(tool_text).kind == failure_kind::connection_lost);
    }
}

TEST_CASE("every step of a recovery stays inside the call's deadline", "[levels][deadline]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);

    SECTION("the reconnect is given the call's deadline") {
        c.transport().expire_session();
        call_options o;
        o.timeout = 2s;
        const auto deadline = clock.now() + 2s;
        REQUIRE(c.try_call(list_tools, o));
        CHECK(c.transport().last_reconnect_deadline() == deadline);
    }
    SECTION("without a deadline the flight is bounded by reconnect_timeout") {
        c.transport().expire_session();
        const auto now = clock.now();
        REQUIRE(c.try_call(list_tools));
        CHECK(c.transport().last_reconnect_deadline() == now + c.reconnector().options().reconnect_timeout);
        CHECK(c.reconnector().options().reconnect_timeout == 10s);
    }
    SECTION("no attempt starts after the deadline, even when the reconnect succeeded late") {
        c.transport().expire_session();
        c.on_reconnected([&clock](mt::scripted_http_transport&) -> outcome<void> {
            clock.advance(5s);  // a slow hook: the deadline passes inside the flight
            return {};
        });
        call_options o;
        o.timeout = 1s;
        auto r = c.try_call(list_tools, o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
        CHECK(c.transport().sends() == 1);  // the request did not go out again
    }
}

TEST_CASE("a leader whose deadline ends its flight leaves the others free to fly again", "[levels][deadline]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);
    c.transport().expire_session();
    c.transport().fail_next_reconnect(fail::connection_refused());  // what the cut-short flight returns
    c.transport().hold_reconnects();

    std::optional<call_error> leader_error;
    std::thread leader([&] {
        call_options o;
        o.timeout = 1s;
        auto r = c.try_call(list_tools, o);
        if (!r) leader_error = r.error();
    });
    const auto until = [&](auto pred) {
        for (int i = 0; i < 20000 && !pred(); ++i) std::this_thread::yield();
        return pred();
    };
    REQUIRE(until([&] { return c.transport().reconnects_waiting() == 1; }));
    std::optional<outcome<mt::scripted_response, call_error>> patient;
    std::thread waiter([&] {
        call_options o;
        o.timeout = 60s;
        patient = c.try_call(list_tools, o);
    });
    REQUIRE(until([&] { return clock.waiters() == 1; }));
    clock.advance(2s);  // the leader's deadline passes while its flight is stuck
    c.transport().release_reconnects();
    leader.join();
    waiter.join();
    REQUIRE(leader_error);
    CHECK(leader_error->code == errc::deadline_exceeded);
    REQUIRE(patient);
    CHECK(*patient);  // the waiter led a new flight instead of sharing a failure it did not cause
    CHECK(c.transport().reconnects() == 2);
    CHECK(c.reconnector().consecutive_failures() == 0);
}

TEST_CASE("failed flights back off, honour Retry-After, and open the circuit only when failures last",
          "[levels][circuit]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);

    SECTION("a 503 with Retry-After on initialize delays the next flight by the hint") {
        c.transport().expire_session();
        c.transport().fail_next_reconnect(fail::throttled(5s));
        auto first = c.try_call(list_tools);
        REQUIRE_FALSE(first);
        CHECK(first.error().code == errc::reconnect_failed);
        const auto before = clock.now();
        auto second = c.try_call(list_tools);
        REQUIRE(second);
        CHECK(clock.now() - before == 5s);  // the flight waited the hint, not the 50 ms backoff
    }
    SECTION("five failed flights in a second do not open the circuit; failures lasting 15 s do") {
        c.transport().expire_session();
        c.transport().fail_next_reconnect(fail::connection_refused(), 100);
        for (int i = 0; i < 8; ++i) CHECK(c.try_call(list_tools).error().code == errc::reconnect_failed);
        CHECK(c.reconnector().consecutive_failures() == 8);
        CHECK_FALSE(c.reconnector().circuit_open(clock.now()));
        clock.advance(15s);
        CHECK(c.try_call(list_tools).error().code == errc::reconnect_failed);  // this failure opens it
        CHECK(c.reconnector().circuit_open(clock.now()));
        auto open = c.try_call(list_tools);
        REQUIRE_FALSE(open);
        CHECK(open.error().code == errc::circuit_open);
        CHECK(open.error().retry_after == 1s);  // the first cool-down is short
        const std::string what = recovery_error(open.error()).what();
        CHECK(what.find("next reconnect probe in 1000 ms") != std::string::npos);
        clock.advance(1s);
        CHECK(c.try_call(list_tools).error().code == errc::reconnect_failed);  // the probe fails
        CHECK(c.try_call(list_tools).error().retry_after == 2s);                // and it doubles
    }
}

TEST_CASE("a wrong endpoint is a permanent failure at once, saying what answered 404", "[levels][session]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);
    c.transport().expire_session();
    failure not_found;
    not_found.http_status = 404;
    not_found.message = "Not Found";
    not_found.method = "initialize";
    not_found.had_session_id = false;
    not_found.delivered = delivery::rejected;
    c.transport().fail_next_reconnect(not_found, 10);
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    CHECK(c.transport().reconnects() == 1);
    const std::string what = recovery_error(r.error()).what();
    CHECK(what.find("answering initialize: HTTP 404") != std::string::npos);
}

TEST_CASE("a failed credential refresh keeps both the refusal and the refresh's failure", "[levels][auth]") {
    mt::manual_clock clock;
    client<> c{std::in_place};
    with_clock(c, clock);
    c.transport().fail_next(fail::unauthorized());
    failure idp_down = fail::connection_refused();
    idp_down.message = "token endpoint unreachable";
    c.transport().fail_next_refresh(idp_down);
    auto r = c.try_call(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::unauthorized);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->message == "token endpoint unreachable");
    REQUIRE(r.error().request_failure);
    CHECK(r.error().request_failure->http_status == 401);
}

TEST_CASE("reopen is fenced: a caller that sent before a successful flight uses its connection", "[levels][connection]") {
    mt::manual_clock clock;
    mt::scripted_http_transport t;
    single_flight_reconnector<> r;
    null_observer o;
    const auto before = r.connection_epoch();
    REQUIRE(r.reopen(t, before, time_point::max(), clock, o));
    CHECK(t.reopens() == 1);
    CHECK(r.connection_epoch() == before + 1);
    // A caller that read the epoch before that flight (its send went out on the old connection):
    REQUIRE(r.reopen(t, before, time_point::max(), clock, o));
    CHECK(t.reopens() == 1);  // no flight of its own
    // A caller that sent after it and still lost its connection flies again.
    REQUIRE(r.reopen(t, r.connection_epoch(), time_point::max(), clock, o));
    CHECK(t.reopens() == 2);
}

TEST_CASE("every reconnector jitters with a seed of its own", "[levels][circuit]") {
    // Clients of one server that went down must not probe it at the same instants.
    single_flight_reconnector<> a;
    single_flight_reconnector<> b;
    std::vector<duration> da, db;
    for (int i = 0; i < 8; ++i) {
        da.push_back(a.backoff_policy().next_delay());
        db.push_back(b.backoff_policy().next_delay());
    }
    CHECK(da != db);
    for (std::size_t i = 0; i < da.size(); ++i) CHECK(da[i] <= 1s);
}
