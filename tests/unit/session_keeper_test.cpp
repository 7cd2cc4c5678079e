// The session keeper (issue 15): its decisions without I/O (threshold, jitter, clamps, learning
// and its bounded state), and the synchronous client with it over the scripted transport and the
// manual clock: the re-initialize before a call, the ping through keep_alive(now), one keeper
// step in flight, concurrent callers sharing one initialize, the keeper's thread, and
// no_session_keeper changing nothing. No sleeps: threads are steered by observable state.
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include "mcp_recovery/testing/manual_clock.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

// The allocation counter of this test program (tests/unit/classifier_test.cpp replaces operator new).
namespace allocation_counter {
extern thread_local bool counting;
extern thread_local std::size_t count;
}  // namespace allocation_counter

using namespace mcp_recovery;
namespace mt = mcp_recovery::testing;
using namespace std::chrono_literals;
using mcp_recovery_tests::eventually;

namespace {

session_keeper_options keeper_options(keeper_action action, std::optional<duration> hint) {
    session_keeper_options o;
    o.action = action;
    o.idle_timeout_hint = hint;
    o.margin = 0.8;
    o.jitter = 0.0;
    o.min_interval = 1ms;
    o.own_timer = false;
    return o;
}

template <class Keeper = session_keeper>
using keeper_client = basic_recovering_client<mt::scripted_transport, recovery_policies<>::with_clock<mt::manual_clock>
                                                                          ::with_observer<counting_observer>
                                                                          ::with_session_keeper<Keeper>>;

const mt::scripted_request list_tools{"tools/list", "list"};

// Records the methods the transport was asked to send.
struct method_log {
    std::mutex mutex;
    std::vector<std::string> methods;
    void add(const std::string& m) {
        std::lock_guard<std::mutex> lock(mutex);
        methods.push_back(m);
    }
    std::size_t count(const std::string& m) {
        std::lock_guard<std::mutex> lock(mutex);
        std::size_t n = 0;
        for (const auto& x : methods) n += x == m ? 1 : 0;
        return n;
    }
};

// A clock that counts its reads (the success path of a client without a keeper reads none).
struct counting_clock {
    std::shared_ptr<std::atomic<int>> reads = std::make_shared<std::atomic<int>>(0);
    steady_clock_source real;
    time_point now() const noexcept {
        reads->fetch_add(1);
        return real.now();
    }
    void sleep_until(time_point t) const { real.sleep_until(t); }
    template <class P>
    bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point t, P pred) const {
        return real.wait_until(lock, cv, t, std::move(pred));
    }
};

template <class F>
std::size_t allocations_in(F&& f) {
    allocation_counter::count = 0;
    allocation_counter::counting = true;
    f();
    allocation_counter::counting = false;
    return allocation_counter::count;
}

template <class C, class = void>
struct has_keep_alive : std::false_type {};
template <class C>
struct has_keep_alive<C, std::void_t<decltype(std::declval<C&>().keep_alive(time_point{}))>> : std::true_type {};

}  // namespace

// ---- the decisions, without a client ----

TEST_CASE("keeper: no hint and nothing learned: it does nothing", "[keeper]") {
    session_keeper k(keeper_options(keeper_action::ping, std::nullopt));
    const time_point t0 = time_point{} + 1h;
    CHECK_FALSE(k.estimate());
    CHECK(k.next_due() == time_point::max());
    (void)k.begin_send(t0);
    CHECK(k.next_due() == time_point::max());
    CHECK_FALSE(k.due(t0 + 24h));
}

TEST_CASE("keeper: threshold = margin x estimate, clamped to [min, max]", "[keeper]") {
    session_keeper k(keeper_options(keeper_action::ping, 10s));
    const time_point t0 = time_point{} + 1h;
    CHECK_FALSE(k.due(t0));  // no activity yet: no session to keep
    (void)k.begin_send(t0);
    REQUIRE(k.threshold_after(t0) == std::optional<duration>(8s));
    CHECK(k.next_due() == t0 + 8s);
    CHECK_FALSE(k.due(t0 + 7999ms));
    CHECK(k.due(t0 + 8s));
    CHECK(k.idle(t0 + 3s) == 3s);

    session_keeper_options o = keeper_options(keeper_action::ping, 10s);
    o.min_interval = 9s;
    k.set_options(o);
    CHECK(k.threshold_after(t0) == std::optional<duration>(9s));
    o.min_interval = 1ms;
    o.max_interval = 2s;
    k.set_options(o);
    CHECK(k.threshold_after(t0) == std::optional<duration>(2s));

    // Nonsense settings are normalized.
    o.margin = 7.0;
    o.jitter = -1.0;
    o.min_interval = duration::zero();
    o.max_interval = 10s;
    k.set_options(o);
    CHECK(k.options().margin == 1.0);
    CHECK(k.options().jitter == 0.0);
    CHECK(k.options().min_interval == 1ms);
    CHECK(k.threshold_after(t0) == std::optional<duration>(10s));
}

TEST_CASE("keeper: jitter stays within [margin x (1 - jitter), margin] x estimate, and varies", "[keeper]") {
    session_keeper_options o = keeper_options(keeper_action::ping, 10s);
    o.jitter = 0.25;
    session_keeper k(o);
    k.reseed(42);
    const time_point t0 = time_point{} + 1h;
    duration lowest = duration::max();
    duration highest = duration::zero();
    for (int i = 0; i < 2000; ++i) {
        const std::optional<duration> t = k.threshold_after(t0 + std::chrono::milliseconds(i * 37));
        REQUIRE(t);
        REQUIRE(*t >= 6s);  // 10 s x 0.8 x 0.75
        REQUIRE(*t <= 8s);
        lowest = std::min(lowest, *t);
        highest = std::max(highest, *t);
    }
    CHECK(lowest < 6200ms);  // the draws cover the range
    CHECK(highest > 7800ms);
    // The same idle period, the same threshold; two seeds, two schedules.
    CHECK(k.threshold_after(t0) == k.threshold_after(t0));
    session_keeper other(o);
    other.reseed(43);
    int differ = 0;
    for (int i = 0; i < 20; ++i)
        differ += k.threshold_after(t0 + std::chrono::seconds(i)) != other.threshold_after(t0 + std::chrono::seconds(i));
    CHECK(differ > 15);
}

TEST_CASE("keeper: learning keeps two bounds: lost after g means T <= g, survived s means T > s", "[keeper]") {
    session_keeper_options o = keeper_options(keeper_action::reinitialize, std::nullopt);
    o.min_interval = 500ms;
    session_keeper k(o);
    CHECK_FALSE(k.learned_upper());
    CHECK(k.learned_lower() == duration::zero());

    CHECK(k.learn_lost(5s));  // the estimate appears
    CHECK(k.learned_upper() == std::optional<duration>(5s));
    CHECK(k.estimate() == std::optional<duration>(5s));
    CHECK_FALSE(k.learn_lost(7s));  // a looser bound teaches nothing
    CHECK(k.learned_upper() == std::optional<duration>(5s));
    CHECK(k.learn_lost(3s));
    CHECK(k.learned_upper() == std::optional<duration>(3s));
    CHECK_FALSE(k.learn_lost(100ms));  // shorter than min_interval: not an idle timeout the keeper could beat
    CHECK(k.learned_upper() == std::optional<duration>(3s));

    k.learn_survived(2s);
    CHECK(k.learned_lower() == 2s);
    k.learn_survived(1s);
    CHECK(k.learned_lower() == 2s);

    // A survival at the upper bound contradicts it: that loss was no idle timeout (a restart).
    k.learn_survived(4s);
    CHECK_FALSE(k.learned_upper());
    CHECK(k.learned_lower() == 4s);
    // A loss at or below the lower bound: the server's timeout shrank; the lower bound restarts.
    CHECK(k.learn_lost(1s));
    CHECK(k.learned_upper() == std::optional<duration>(1s));
    CHECK(k.learned_lower() == duration::zero());

    // With a hint, the smaller of both.
    o.idle_timeout_hint = 10s;
    k.set_options(o);
    CHECK(k.estimate() == std::optional<duration>(1s));
    k.forget();
    CHECK(k.estimate() == std::optional<duration>(10s));

    // Learning off: nothing is kept.
    o.learn = false;
    k.set_options(o);
    CHECK_FALSE(k.learn_lost(2s));
    k.learn_survived(3s);
    CHECK_FALSE(k.learned_upper());
    CHECK(k.learned_lower() == duration::zero());
}

TEST_CASE("keeper: bounded state: any sequence of evidence leaves two consistent numbers", "[keeper]") {
    session_keeper k(keeper_options(keeper_action::ping, std::nullopt));
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> ms(1, 10000);
    std::bernoulli_distribution lost(0.3);
    // A reference model of the two bounds.
    int upper = -1;  // none (an int, not an optional: g++ 12 warns about optional<int> here at -O2)
    int lower = 0;
    for (int i = 0; i < 20000; ++i) {
        const int g = ms(rng);
        if (lost(rng)) {
            (void)k.learn_lost(std::chrono::milliseconds(g));
            if (upper < 0 || g < upper) upper = g;
            if (lower >= g) lower = 0;
        } else {
            k.learn_survived(std::chrono::milliseconds(g));
            if (upper >= 0 && g >= upper) upper = -1;
            if (g > lower) lower = g;
        }
        const std::optional<duration> u = k.learned_upper();
        REQUIRE(u.has_value() == (upper >= 0));
        if (u) {
            REQUIRE(*u == std::chrono::milliseconds(upper));
            REQUIRE(k.learned_lower() < *u);  // consistent: T in (lower, upper]
        }
        REQUIRE(k.learned_lower() == std::chrono::milliseconds(lower));
    }
    STATIC_REQUIRE(sizeof(session_keeper) <= 192);  // a few numbers and a mutex, whatever was learned
}

TEST_CASE("keeper: ping requests are built by ping_request_traits", "[keeper]") {
    STATIC_REQUIRE(ping_request_traits<mt::scripted_request>::available);
    CHECK(ping_request_traits<mt::scripted_request>::make().method == "ping");
    STATIC_REQUIRE_FALSE(ping_request_traits<std::string>::available);
    // Without one, the ping action acts as reinitialize.
    STATIC_REQUIRE(detail::effective_action<std::string>(keeper_action::ping) == keeper_action::reinitialize);
    STATIC_REQUIRE(detail::effective_action<mt::scripted_request>(keeper_action::ping) == keeper_action::ping);
}

namespace {
struct enabled_without_members {
    static constexpr bool enabled = true;
};
struct disabled_without_members {
    static constexpr bool enabled = false;
};
}  // namespace

TEST_CASE("keeper: the SessionKeeper requirements", "[keeper]") {
    STATIC_REQUIRE(is_session_keeper_v<no_session_keeper>);
    STATIC_REQUIRE(is_session_keeper_v<session_keeper>);
    STATIC_REQUIRE(is_session_keeper_v<disabled_without_members>);
    STATIC_REQUIRE_FALSE(is_session_keeper_v<enabled_without_members>);
    STATIC_REQUIRE_FALSE(is_session_keeper_v<int>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(session_keeper_policy<session_keeper>);
    STATIC_REQUIRE(session_keeper_policy<no_session_keeper>);
    STATIC_REQUIRE_FALSE(session_keeper_policy<enabled_without_members>);
#endif
    // The bundle names it; a bundle written without the member gets none.
    STATIC_REQUIRE(std::is_same_v<recovery_policies<>::session_keeper, no_session_keeper>);
    STATIC_REQUIRE(std::is_same_v<recovery_policies<>::with_session_keeper<session_keeper>::with_observer<
                                      counting_observer>::session_keeper,
                                  session_keeper>);
    STATIC_REQUIRE(std::is_same_v<basic_recovering_client<mt::scripted_transport>,
                                  recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff,
                                                    single_flight_reconnector<>, null_observer, steady_clock_source,
                                                    no_session_keeper>>);
}

// ---- the client with a keeper ----

TEST_CASE("keeper client, reinitialize: a session idle past the threshold is renewed before the call",
          "[keeper][client]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.session_keeper().set_options(keeper_options(keeper_action::reinitialize, 10s));

    REQUIRE(client.try_call(list_tools));  // activity at t0
    clock.advance(7s);                     // under the threshold (8 s): nothing happens
    REQUIRE(client.try_call(list_tools));
    CHECK(client.transport().reconnects() == 0);

    clock.advance(9s);                     // past it; the server forgot the session meanwhile
    client.transport().expire_session();
    auto r = client.try_call(list_tools);
    REQUIRE(r);
    CHECK(r->generation == 2);
    CHECK(client.transport().reconnects() == 1);
    CHECK(client.transport().sends() == 3);  // no failed first attempt
    CHECK(client.observer().failures() == 0);
    CHECK(client.observer().keeper_reinitializes() == 1);
    CHECK(client.observer().reconnects() == 1);
    // The new session's initialize is the last activity.
    CHECK(client.session_keeper().last_activity() == std::optional<time_point>(clock.now()));
}

TEST_CASE("keeper client, without a keeper: the same idle gap costs a failed first attempt", "[keeper][client]") {
    keeper_client<no_session_keeper> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    REQUIRE(client.try_call(list_tools));
    clock.advance(9s);
    client.transport().expire_session();
    REQUIRE(client.try_call(list_tools));
    CHECK(client.transport().reconnects() == 1);
    CHECK(client.transport().sends() == 3);  // the failed attempt and its retry
    CHECK(client.observer().failures(failure_kind::session_expired) == 1);
    STATIC_REQUIRE_FALSE(has_keep_alive<keeper_client<no_session_keeper>>::value);
    STATIC_REQUIRE(has_keep_alive<keeper_client<>>::value);
}

TEST_CASE("keeper client, ping: keep_alive(now) pings when due, and a lost session met by a ping is renewed",
          "[keeper][client]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.session_keeper().set_options(keeper_options(keeper_action::ping, 10s));
    method_log log;
    client.transport().on_send([&](const mt::scripted_request& r) -> std::optional<failure> {
        log.add(r.method);
        return std::nullopt;
    });

    CHECK(client.keep_alive(clock.now()) == keeper_step::nothing);  // no session activity yet
    REQUIRE(client.try_call(list_tools));
    const time_point t0 = clock.now();
    CHECK(client.keep_alive(t0 + 5s) == keeper_step::nothing);
    CHECK(log.count("ping") == 0);
    CHECK(client.keep_alive(t0 + 8s) == keeper_step::pinged);
    CHECK(log.count("ping") == 1);
    CHECK(client.observer().keeper_pings() == 1);
    CHECK(client.session_keeper().learned_lower() == 8s);  // the session survived 8 s
    CHECK(client.session_keeper().next_due() == t0 + 16s);
    CHECK(client.keep_alive(t0 + 9s) == keeper_step::nothing);

    // The server forgot the session: the ping meets it, learns T <= 8 s... (here: 8 s idle), and
    // renews it through the reconnector, before any call needs it.
    client.transport().expire_session();
    CHECK(client.keep_alive(t0 + 16s) == keeper_step::reinitialized);
    CHECK(client.transport().reconnects() == 1);
    CHECK(client.observer().keeper_pings_failed() == 1);
    CHECK(client.observer().keeper_reinitializes() == 1);
    CHECK(client.session_keeper().learned_upper() == std::optional<duration>(8s));
    clock.set(t0 + 16s);
    REQUIRE(client.try_call(list_tools));
    CHECK(client.observer().failures() == 0);  // no call ever met the dead session
    CHECK(client.transport().reconnects() == 1);
}

TEST_CASE("keeper client: never more than one keeper step in flight", "[keeper][client][concurrency]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.session_keeper().set_options(keeper_options(keeper_action::ping, 10s));
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> pings{0};
    client.transport().on_send([&](const mt::scripted_request& r) -> std::optional<failure> {
        if (r.method == "ping" && pings.fetch_add(1) == 0) {
            entered.set_value();
            released.wait();
        }
        return std::nullopt;
    });
    REQUIRE(client.try_call(list_tools));
    const time_point due = clock.now() + 8s;

    std::future<keeper_step> first = std::async(std::launch::async, [&] { return client.keep_alive(due); });
    REQUIRE(entered.get_future().wait_for(20s) == std::future_status::ready);
    // The ping on the wire is the session's activity: due again 8 s after it, but still in flight.
    CHECK(client.keep_alive(due + 1s) == keeper_step::nothing);
    CHECK(client.keep_alive(due + 8s) == keeper_step::busy);
    CHECK(client.keep_alive(due + 20s) == keeper_step::busy);
    release.set_value();
    CHECK(first.get() == keeper_step::pinged);
    CHECK(pings.load() == 1);
    CHECK(client.keep_alive(due + 1s) == keeper_step::nothing);  // the ping was the activity
    CHECK(client.keep_alive(due + 8s) == keeper_step::pinged);     // and the gate is open again
}

TEST_CASE("keeper client, reinitialize: concurrent callers after an idle gap share one initialize",
          "[keeper][client][concurrency]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.session_keeper().set_options(keeper_options(keeper_action::reinitialize, 10s));
    REQUIRE(client.try_call(list_tools));
    clock.advance(20s);
    client.transport().expire_session();
    client.transport().hold_reconnects();

    constexpr int callers = 8;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&] {
            if (client.try_call(list_tools)) ok.fetch_add(1);
        });
    // One leads the flight (held at the transport's gate), the others wait for it on the clock.
    REQUIRE(eventually([&] { return client.transport().reconnects_waiting() == 1 && clock.waiters() == callers - 1; }));
    client.transport().release_reconnects();
    for (auto& t : threads) t.join();
    CHECK(ok.load() == callers);
    CHECK(client.transport().reconnects() == 1);
    CHECK(client.observer().failures() == 0);  // nobody met the dead session
    CHECK(client.observer().keeper_reinitializes() == 1);  // reported once
}

TEST_CASE("keeper client: learns the timeout from a lost session, then renews before the next gap",
          "[keeper][client]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    client.session_keeper().set_options(keeper_options(keeper_action::reinitialize, std::nullopt));
    REQUIRE(client.try_call(list_tools));
    clock.advance(5s);
    client.transport().expire_session();  // the server's timeout is somewhere under 5 s
    REQUIRE(client.try_call(list_tools));  // no estimate yet: one failed first attempt, recovered
    CHECK(client.observer().failures(failure_kind::session_expired) == 1);
    CHECK(client.session_keeper().learned_upper() == std::optional<duration>(5s));

    clock.advance(4500ms);  // past 0.8 x 5 s
    client.transport().expire_session();
    REQUIRE(client.try_call(list_tools));
    CHECK(client.observer().failures(failure_kind::session_expired) == 1);  // no new one
    CHECK(client.observer().keeper_reinitializes() == 1);
    CHECK(client.transport().reconnects() == 2);
}

TEST_CASE("keeper client: the keeper's thread pings on the clock's time and is joined at destruction",
          "[keeper][client][concurrency]") {
    mt::manual_clock clock;
    std::promise<void> pinged;
    std::atomic<int> pings{0};
    {
        keeper_client<> client{std::in_place};
        client.clock() = clock;
        session_keeper_options o = keeper_options(keeper_action::ping, 10s);
        o.own_timer = true;
        client.session_keeper().set_options(o);
        client.transport().on_send([&](const mt::scripted_request& r) -> std::optional<failure> {
            if (r.method == "ping" && pings.fetch_add(1) == 0) pinged.set_value();
            return std::nullopt;
        });
        CHECK_FALSE(client.session_keeper_running());
        REQUIRE(client.try_call(list_tools));  // the first call starts the thread
        CHECK(client.session_keeper_running());
        // The thread waits on the clock until the threshold: moving time there wakes it.
        REQUIRE(eventually([&] { return clock.waiters() == 1; }));
        CHECK(pings.load() == 0);
        clock.advance(8s);
        REQUIRE(pinged.get_future().wait_for(20s) == std::future_status::ready);
        REQUIRE(eventually([&] { return client.observer().keeper_pings() == 1 && clock.waiters() == 1; }));
        CHECK(pings.load() == 1);  // one ping per threshold, no busy loop
    }  // the destructor wakes and joins the thread (it waits for the next threshold)
    CHECK(pings.load() == 1);
}

TEST_CASE("keeper client: without an estimate the thread sleeps until the end, and stop is final",
          "[keeper][client][concurrency]") {
    keeper_client<> client{std::in_place};
    mt::manual_clock clock;
    client.clock() = clock;
    session_keeper_options o = keeper_options(keeper_action::ping, std::nullopt);
    o.own_timer = true;
    client.session_keeper().set_options(o);
    REQUIRE(client.try_call(list_tools));
    REQUIRE(eventually([&] { return clock.waiters() == 1; }));
    clock.advance(24h);
    CHECK(client.transport().sends() == 1);
    client.stop_session_keeper();
    CHECK_FALSE(client.session_keeper_running());
    client.start_session_keeper();
    CHECK_FALSE(client.session_keeper_running());
    REQUIRE(client.try_call(list_tools));
}

TEST_CASE("keeper client: no_session_keeper adds no clock read and no allocation to the success path",
          "[keeper][client]") {
    using plain = recovering_client<mt::scripted_transport_without_auth, default_classifier, retry_once, no_backoff,
                                    single_flight_reconnector<>, null_observer, counting_clock>;
    using kept = basic_recovering_client<mt::scripted_transport_without_auth,
                                         plain::policies::with_session_keeper<session_keeper>>;
    STATIC_REQUIRE(std::is_same_v<plain, basic_recovering_client<mt::scripted_transport_without_auth,
                                                                 plain::policies::with_session_keeper<no_session_keeper>>>);
    STATIC_REQUIRE(std::is_empty_v<no_session_keeper>);

    plain a{std::in_place};
    kept b{std::in_place};
    b.session_keeper().set_options(keeper_options(keeper_action::reinitialize, 10s));
    const mt::scripted_request r{"tools/list", "k"};
    REQUIRE(a.try_call(r));  // warm-up: the transport's per-key counter
    REQUIRE(b.try_call(r));
    const int a_before = a.clock().reads->load();
    const int b_before = b.clock().reads->load();
    std::size_t allocations = allocations_in([&] {
        for (int i = 0; i < 100; ++i) {
            auto x = a.try_call(r);
            if (!x) throw std::runtime_error("call failed");
        }
    });
    CHECK(allocations == 0);
    CHECK(a.clock().reads->load() == a_before);  // not one read
    for (int i = 0; i < 100; ++i) REQUIRE(b.try_call(r));
    CHECK(b.clock().reads->load() >= b_before + 100);  // the keeper's one read per call: the check can fail
    allocations = allocations_in([&] {
        for (int i = 0; i < 100; ++i) {
            auto x = b.try_call(r);
            if (!x) throw std::runtime_error("call failed");
        }
    });
    CHECK(allocations == 0);  // the keeper allocates nothing either
}
