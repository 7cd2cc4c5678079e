#include "mcp_recovery/testing/manual_clock.hpp"

#include "catch.hpp"
#include "test_support.hpp"

#include <thread>

using namespace mcp_recovery;
using namespace std::chrono_literals;
using mcp_recovery::testing::manual_clock;
using mcp_recovery_tests::eventually;

TEST_CASE("manual_clock moves only when told and records sleeps", "[clock]") {
    manual_clock clock;
    const time_point t0 = clock.now();
    CHECK(clock.now() == t0);
    clock.sleep_until(t0 + 3s);
    CHECK(clock.now() == t0 + 3s);
    clock.advance(2s);
    CHECK(clock.now() == t0 + 5s);
    clock.set(t0);  // never backwards
    CHECK(clock.now() == t0 + 5s);
    CHECK(clock.sleeps() == std::vector<duration>{3s});
    CHECK(clock.total_slept() == 3s);

    manual_clock copy = clock;
    copy.advance(1s);
    CHECK(clock.now() == t0 + 6s);  // copies share one time line
}

TEST_CASE("manual_clock wait_until returns on its predicate or when time passes its deadline", "[clock]") {
    manual_clock clock;
    std::mutex m;
    std::condition_variable cv;
    bool flag = false;

    SECTION("deadline") {
        bool result = true;
        std::thread waiter([&] {
            std::unique_lock<std::mutex> lock(m);
            result = clock.wait_until(lock, cv, clock.now() + 5s, [&] { return flag; });
        });
        REQUIRE(eventually([&] { return clock.waiters() == 1; }));
        clock.advance(4s);
        CHECK(clock.waiters() == 1);  // not yet
        clock.advance(1s);
        waiter.join();
        CHECK_FALSE(result);
        CHECK(clock.waiters() == 0);
    }
    SECTION("predicate") {
        bool result = false;
        std::thread waiter([&] {
            std::unique_lock<std::mutex> lock(m);
            result = clock.wait_until(lock, cv, clock.now() + 5s, [&] { return flag; });
        });
        REQUIRE(eventually([&] { return clock.waiters() == 1; }));
        {
            std::lock_guard<std::mutex> lock(m);
            flag = true;
        }
        cv.notify_all();
        waiter.join();
        CHECK(result);
    }
}

TEST_CASE("manual_clock without auto-advance blocks sleepers until time moves", "[clock]") {
    manual_clock clock;
    clock.auto_advance(false);
    const time_point t0 = clock.now();
    std::thread sleeper([&] { clock.sleep_until(t0 + 2s); });
    REQUIRE(eventually([&] { return clock.sleepers() == 1; }));
    clock.advance(1s);
    CHECK(clock.sleepers() == 1);
    clock.advance(1s);
    sleeper.join();
    CHECK(clock.sleepers() == 0);
}
