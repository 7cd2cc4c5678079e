// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#include "mcp_recovery/backoff_policy.hpp"

#include "catch.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace mr = mcp_recovery;
using namespace std::chrono_literals;

namespace {

// A generator that always returns the same raw value: its maximum, or its minimum. With a
// non-power-of-two range it exercises both the scale-down and the compose-up paths.
template <class UInt, UInt Min, UInt Max, bool High>
struct constant_generator {
    using result_type = UInt;
    static constexpr result_type min() { return Min; }
    static constexpr result_type max() { return Max; }
    result_type operator()() const { return High ? Max : Min; }
};
using always_max32 = constant_generator<std::uint32_t, 0, 0xffffffffu, true>;
using always_min32 = constant_generator<std::uint32_t, 0, 0xffffffffu, false>;
using always_max_die = constant_generator<unsigned, 1, 6, true>;
using always_min_die = constant_generator<unsigned, 1, 6, false>;
using always_max64 = constant_generator<std::uint64_t, 0, std::numeric_limits<std::uint64_t>::max(), true>;

// Seven raw values [0, 6] from minstd_rand: far fewer than most delays need, so every draw is composed.
struct seven_values {
    using result_type = unsigned;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return 6; }
    result_type operator()() { return static_cast<result_type>(engine() % 7); }
    std::minstd_rand engine;
};

// A generator without a seed() member: reseed must leave it alone.
struct counter_generator {
    using result_type = std::uint32_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return 0xffffffffu; }
    result_type operator()() { return next += 0x9e3779b9u; }
    result_type next = 0;
};

template <class Backoff>
std::vector<mr::duration::rep> draws(Backoff& b, int n) {
    std::vector<mr::duration::rep> out;
    for (int i = 0; i < n; ++i) out.push_back(b.next_delay().count());
    return out;
}

constexpr mr::duration::rep ticks(mr::duration d) { return d.count(); }

// Models of BackoffPolicy, and types that must not be.
struct no_reset {
    mr::duration next_delay() { return 1s; }
};
struct no_next_delay {
    void reset() {}
};
struct int_delay {  // a bare count is not a duration: the unit would be a guess
    int next_delay() { return 1; }
    void reset() {}
};
struct millisecond_delay {  // converts to mr::duration without loss: fine
    std::chrono::milliseconds next_delay() { return 5ms; }
    void reset() {}
};
struct not_copyable_backoff {
    not_copyable_backoff() = default;
    not_copyable_backoff(const not_copyable_backoff&) = delete;
    mr::duration next_delay() { return 1s; }
    void reset() {}
};

}  // namespace

TEST_CASE("no_backoff never waits", "[backoff]") {
    mr::no_backoff b;
    for (int i = 0; i < 10; ++i) CHECK(b.next_delay() == mr::duration::zero());
    b.reset();
    CHECK(b.next_delay() == mr::duration::zero());
}

TEST_CASE("exponential_backoff defaults to 100 ms doubling up to 10 s with full jitter", "[backoff]") {
    const mr::exponential_backoff b;
    CHECK(b.initial() == 100ms);
    CHECK(b.multiplier() == 2.0);
    CHECK(b.cap() == 10s);
    CHECK(b.jitter_mode() == mr::jitter::full);
}

TEST_CASE("exponential_backoff without jitter multiplies from the initial delay up to its cap", "[backoff]") {
    SECTION("doubling from 100 ms, capped at 10 s") {
        mr::exponential_backoff b{100ms, 2.0, 10s, mr::jitter::none};
        const std::vector<mr::duration::rep> expected = {
            ticks(100ms),  ticks(200ms),  ticks(400ms),  ticks(800ms), ticks(1600ms), ticks(3200ms),
            ticks(6400ms), ticks(10s),    ticks(10s),    ticks(10s)};
        CHECK(draws(b, 10) == expected);
    }
    SECTION("a fractional multiplier") {
        mr::exponential_backoff b{1s, 1.5, 5s, mr::jitter::none};
        const std::vector<mr::duration::rep> expected = {ticks(1s), ticks(1500ms), ticks(2250ms), ticks(3375ms),
                                                         ticks(5s), ticks(5s)};
        CHECK(draws(b, 6) == expected);
    }
    SECTION("a multiplier of one waits the initial delay every time") {
        mr::exponential_backoff b{250ms, 1.0, 10s, mr::jitter::none};
        const std::vector<mr::duration::rep> expected(5, ticks(250ms));
        CHECK(draws(b, 5) == expected);
    }
    SECTION("an initial delay equal to the cap waits the cap every time") {
        mr::exponential_backoff b{3s, 2.0, 3s, mr::jitter::none};
        const std::vector<mr::duration::rep> expected(4, ticks(3s));
        CHECK(draws(b, 4) == expected);
    }
}

TEST_CASE("exponential_backoff reset restarts the sequence", "[backoff]") {
    SECTION("without jitter") {
        mr::exponential_backoff b{100ms, 2.0, 10s, mr::jitter::none};
        const auto first = draws(b, 12);
        b.reset();
        CHECK(draws(b, 12) == first);
        b.reset();
        CHECK(b.next_delay() == 100ms);
    }
    SECTION("with full jitter the bound starts small again") {
        mr::basic_exponential_backoff<always_max32> b{100ms, 2.0, 10s, mr::jitter::full};
        (void)draws(b, 20);
        b.reset();
        CHECK(b.next_delay() == 100ms);
        CHECK(b.next_delay() == 200ms);
    }
    SECTION("with decorrelated jitter the previous delay starts at the initial delay again") {
        mr::basic_exponential_backoff<always_max32> b{100ms, 2.0, 10s, mr::jitter::decorrelated};
        (void)draws(b, 20);
        b.reset();
        CHECK(b.next_delay() == 300ms);
    }
}

TEST_CASE("exponential_backoff with full jitter stays within [0, step] and covers the whole range", "[backoff]") {
    // Steps: 100, 200, 400, 800 ms, then the 1 s cap. The sequence restarts every 8 draws so that
    // every step, capped ones included, is drawn from many times.
    constexpr std::size_t steps = 8;
    const std::array<mr::duration, steps> bound = {100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s, 1s};
    mr::exponential_backoff b{100ms, 2.0, 1s, mr::jitter::full};
    b.reseed(42);

    std::array<double, steps> lowest{};
    std::array<double, steps> highest{};
    std::array<double, steps> sum{};
    lowest.fill(1.0);
    int n = 0;
    bool in_bounds = true;
    for (; n < 100000; ++n) {
        const std::size_t step = static_cast<std::size_t>(n) % steps;
        if (step == 0) b.reset();
        const mr::duration d = b.next_delay();
        if (d < mr::duration::zero() || d > bound[step]) {
            in_bounds = false;
            FAIL_CHECK("draw " << n << " (step " << step << ") is " << d.count() << " ns, outside [0, "
                               << bound[step].count() << "]");
        }
        const double fraction = static_cast<double>(d.count()) / static_cast<double>(bound[step].count());
        if (fraction < lowest[step]) lowest[step] = fraction;
        if (fraction > highest[step]) highest[step] = fraction;
        sum[step] += fraction;
    }
    CHECK(in_bounds);
    const double per_step = static_cast<double>(n) / static_cast<double>(steps);
    for (std::size_t step = 0; step < steps; ++step) {
        CAPTURE(step);
        // 12 500 uniform draws per step: missing the lowest or highest 1 % has probability ~1e-54,
        // and the mean strays from 1/2 by more than 0.02 with probability ~1e-17.
        CHECK(lowest[step] < 0.01);
        CHECK(highest[step] > 0.99);
        CHECK(sum[step] / per_step > 0.48);
        CHECK(sum[step] / per_step < 0.52);
    }
}

TEST_CASE("exponential_backoff with decorrelated jitter stays within [initial, min(cap, 3 * previous)]",
          "[backoff]") {
    const mr::duration initial = 10ms;
    const mr::duration cap = 1s;
    mr::exponential_backoff b{initial, 2.0, cap, mr::jitter::decorrelated};
    b.reseed(7);

    mr::duration previous = initial;
    mr::duration lowest = mr::duration::max();
    mr::duration highest = mr::duration::zero();
    bool in_bounds = true;
    for (int n = 0; n < 100000; ++n) {
        const mr::duration d = b.next_delay();
        const mr::duration upper = std::min(cap, previous * 3);
        if (d < initial || d > upper) {
            in_bounds = false;
            FAIL_CHECK("draw " << n << " is " << d.count() << " ns, outside [" << initial.count() << ", "
                               << upper.count() << "]");
        }
        lowest = std::min(lowest, d);
        highest = std::max(highest, d);
        previous = d;
    }
    CHECK(in_bounds);
    CHECK(lowest < initial + 1ms);
    CHECK(highest > cap - 10ms);
}

TEST_CASE("exponential_backoff never exceeds its cap nor goes negative, however many calls", "[backoff]") {
    const mr::duration cap = mr::duration::max() / 2;
    const auto mode = GENERATE(mr::jitter::none, mr::jitter::full, mr::jitter::decorrelated);
    CAPTURE(static_cast<int>(mode));

    SECTION("multiplier 10, a million calls") {
        mr::exponential_backoff b{1ms, 10.0, cap, mode};
        b.reseed(3);
        mr::duration highest = mr::duration::zero();
        bool in_bounds = true;
        for (int n = 0; n < 1000000; ++n) {
            const mr::duration d = b.next_delay();
            if (d < mr::duration::zero() || d > cap) in_bounds = false;
            highest = std::max(highest, d);
        }
        CHECK(in_bounds);
        // It did grow to the cap's order of magnitude (not stuck at a small or wrapped value).
        CHECK(highest > cap / 2);
        if (mode == mr::jitter::none) CHECK(b.next_delay() == cap);
    }
    SECTION("a huge multiplier and a cap of duration::max()") {
        mr::exponential_backoff b{1ns, 1e300, mr::duration::max(), mode};
        b.reseed(4);
        bool in_bounds = true;
        for (int n = 0; n < 1000; ++n) {
            const mr::duration d = b.next_delay();
            if (d < mr::duration::zero()) in_bounds = false;
        }
        CHECK(in_bounds);
        if (mode == mr::jitter::none) {
            b.reset();
            CHECK(b.next_delay() == 1ns);
            CHECK(b.next_delay() == mr::duration::max());
            CHECK(b.next_delay() == mr::duration::max());
        }
    }
}

TEST_CASE("exponential_backoff with a generator stuck at its maximum waits exactly the upper bound",
          "[backoff]") {
    SECTION("full jitter: the step itself") {
        mr::basic_exponential_backoff<always_max32> b{100ms, 2.0, 1s, mr::jitter::full};
        const std::vector<mr::duration::rep> expected = {ticks(100ms), ticks(200ms), ticks(400ms),
                                                         ticks(800ms), ticks(1s),    ticks(1s)};
        CHECK(draws(b, 6) == expected);
    }
    SECTION("full jitter, a six-valued generator that must be composed") {
        mr::basic_exponential_backoff<always_max_die> b{100ms, 2.0, 1s, mr::jitter::full};
        const std::vector<mr::duration::rep> expected = {ticks(100ms), ticks(200ms), ticks(400ms),
                                                         ticks(800ms), ticks(1s),    ticks(1s)};
        CHECK(draws(b, 6) == expected);
    }
    SECTION("full jitter, a 64-bit generator and a cap of duration::max()") {
        mr::basic_exponential_backoff<always_max64> b{1s, 1e6, mr::duration::max(), mr::jitter::full};
        CHECK(b.next_delay() == 1s);
        CHECK(b.next_delay() == 1000000s);
        (void)draws(b, 10);
        CHECK(b.next_delay() == mr::duration::max());
    }
    SECTION("decorrelated jitter: three times the previous delay, up to the cap") {
        mr::basic_exponential_backoff<always_max_die> b{100ms, 2.0, 5s, mr::jitter::decorrelated};
        const std::vector<mr::duration::rep> expected = {ticks(300ms),  ticks(900ms), ticks(2700ms),
                                                         ticks(5s),     ticks(5s)};
        CHECK(draws(b, 5) == expected);
    }
}

TEST_CASE("exponential_backoff with a generator stuck at its minimum waits exactly the lower bound",
          "[backoff]") {
    SECTION("full jitter: zero") {
        mr::basic_exponential_backoff<always_min32> b{100ms, 2.0, 1s, mr::jitter::full};
        CHECK(draws(b, 6) == std::vector<mr::duration::rep>(6, 0));
    }
    SECTION("full jitter, a six-valued generator: zero") {
        mr::basic_exponential_backoff<always_min_die> b{100ms, 2.0, 1s, mr::jitter::full};
        CHECK(draws(b, 6) == std::vector<mr::duration::rep>(6, 0));
    }
    SECTION("decorrelated jitter: the initial delay") {
        mr::basic_exponential_backoff<always_min_die> b{100ms, 2.0, 5s, mr::jitter::decorrelated};
        CHECK(draws(b, 6) == std::vector<mr::duration::rep>(6, ticks(100ms)));
    }
}

TEST_CASE("exponential_backoff draws every tick count of a small range equally often", "[backoff]") {
    // A step of 5 ticks (6 outcomes); and a step of 100 ticks from a generator of only 7 values,
    // so that each delay is composed from several draws.
    SECTION("scaled down from minstd_rand") {
        mr::exponential_backoff b{mr::duration(5), 1.0, mr::duration(5), mr::jitter::full};
        b.reseed(11);
        std::array<int, 6> count{};
        for (int n = 0; n < 60000; ++n) {
            const auto t = b.next_delay().count();
            REQUIRE(t >= 0);
            REQUIRE(t <= 5);
            ++count[static_cast<std::size_t>(t)];
        }
        for (int c : count) {  // expected 10 000 each, standard deviation ~91
            CHECK(c > 9500);
            CHECK(c < 10500);
        }
    }
    SECTION("composed from a seven-valued generator") {
        mr::basic_exponential_backoff<seven_values> b{mr::duration(100), 1.0, mr::duration(100), mr::jitter::full};
        std::array<int, 101> count{};
        for (int n = 0; n < 101000; ++n) {
            const auto t = b.next_delay().count();
            REQUIRE(t >= 0);
            REQUIRE(t <= 100);
            ++count[static_cast<std::size_t>(t)];
        }
        for (int c : count) {  // expected 1 000 each, standard deviation ~31
            CHECK(c > 820);
            CHECK(c < 1180);
        }
    }
}

TEST_CASE("copies of an exponential_backoff reseeded differently jitter differently", "[backoff]") {
    const mr::exponential_backoff prototype{100ms, 2.0, 10s, mr::jitter::full};
    SECTION("different seeds, different sequences") {
        mr::exponential_backoff a = prototype;
        mr::exponential_backoff b = prototype;
        a.reseed(1);
        b.reseed(2);
        CHECK(draws(a, 20) != draws(b, 20));
    }
    SECTION("the same seed, the same sequence") {
        mr::exponential_backoff a = prototype;
        mr::exponential_backoff b = prototype;
        a.reseed(5);
        b.reseed(5);
        CHECK(draws(a, 20) == draws(b, 20));
    }
    SECTION("seeds that differ only in their high bits still differ") {
        mr::exponential_backoff a = prototype;
        mr::exponential_backoff b = prototype;
        a.reseed(1);
        b.reseed(1 + (std::uint64_t{1} << 40));
        CHECK(draws(a, 20) != draws(b, 20));
    }
    SECTION("reseed_backoff reseeds a policy that can be reseeded") {
        mr::exponential_backoff a = prototype;
        mr::exponential_backoff b = prototype;
        a.reseed(9);
        mr::reseed_backoff(b, 9);
        CHECK(draws(a, 20) == draws(b, 20));
        mr::exponential_backoff c = prototype;
        mr::reseed_backoff(c, 10);
        mr::exponential_backoff d = prototype;
        CHECK(draws(c, 20) != draws(d, 20));
    }
    SECTION("reseed does nothing to a generator that cannot be seeded") {
        mr::basic_exponential_backoff<counter_generator> a{100ms, 2.0, 10s, mr::jitter::full, counter_generator{}};
        mr::basic_exponential_backoff<counter_generator> b = a;
        a.reseed(1);
        b.reseed(2);
        CHECK(draws(a, 20) == draws(b, 20));
        mr::no_backoff none;
        mr::reseed_backoff(none, 3);
        CHECK(none.next_delay() == mr::duration::zero());
    }
}

TEST_CASE("a copy of an exponential_backoff carries on independently of the original", "[backoff]") {
    mr::exponential_backoff a{100ms, 2.0, 10s, mr::jitter::none};
    CHECK(a.next_delay() == 100ms);
    CHECK(a.next_delay() == 200ms);
    mr::exponential_backoff b = a;
    CHECK(a.next_delay() == 400ms);
    CHECK(a.next_delay() == 800ms);
    CHECK(b.next_delay() == 400ms);
    b.reset();
    CHECK(b.next_delay() == 100ms);
    CHECK(a.next_delay() == 1600ms);
}

TEST_CASE("exponential_backoff uses an injected random source", "[backoff]") {
    std::mt19937_64 engine{123};
    mr::basic_exponential_backoff<std::mt19937_64> a{100ms, 2.0, 10s, mr::jitter::full, engine};
    mr::basic_exponential_backoff<std::mt19937_64> b{100ms, 2.0, 10s, mr::jitter::full, std::mt19937_64{123}};
    mr::basic_exponential_backoff<std::mt19937_64> c{100ms, 2.0, 10s, mr::jitter::full, std::mt19937_64{124}};
    const auto from_a = draws(a, 20);
    CHECK(from_a == draws(b, 20));
    CHECK(from_a != draws(c, 20));
}

TEST_CASE("exponential_backoff rejects invalid parameters", "[backoff]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(mr::exponential_backoff(-1ns, 2.0, 10s), std::invalid_argument);
    CHECK_THROWS_AS(mr::exponential_backoff(1s, 2.0, 999ms), std::invalid_argument);
    CHECK_THROWS_AS(mr::exponential_backoff(100ms, 0.5, 10s), std::invalid_argument);
    CHECK_THROWS_AS(mr::exponential_backoff(100ms, -2.0, 10s), std::invalid_argument);
    CHECK_THROWS_AS(mr::exponential_backoff(100ms, nan, 10s), std::invalid_argument);
    CHECK_THROWS_AS(mr::exponential_backoff(100ms, inf, 10s), std::invalid_argument);
    CHECK_THROWS_AS(mr::basic_exponential_backoff<always_max32>(100ms, 0.9, 10s, mr::jitter::none, always_max32{}),
                    std::invalid_argument);

    SECTION("the message names the parameter") {
        std::string message;
        try {
            mr::exponential_backoff b(1s, 2.0, 10ms);
            (void)b;
        } catch (const std::invalid_argument& e) {
            message = e.what();
        }
        CHECK(message.find("cap") != std::string::npos);
    }
    SECTION("the boundaries are valid") {
        CHECK_NOTHROW(mr::exponential_backoff(0ns, 1.0, 0ns));
        CHECK_NOTHROW(mr::exponential_backoff(1s, 1.0, 1s));
        mr::exponential_backoff zero{0ns, 2.0, 1s, mr::jitter::decorrelated};
        CHECK(draws(zero, 5) == std::vector<mr::duration::rep>(5, 0));
    }
}

TEST_CASE("clamp_server_hint bounds a server's wait hint to [0, max_wait]", "[backoff]") {
    CHECK(mr::clamp_server_hint(3s, 10s) == 3s);
    CHECK(mr::clamp_server_hint(0s, 10s) == 0s);
    CHECK(mr::clamp_server_hint(10s, 10s) == 10s);
    CHECK(mr::clamp_server_hint(11s, 10s) == 10s);
    CHECK(mr::clamp_server_hint(mr::duration::max(), 10s) == 10s);
    CHECK(mr::clamp_server_hint(-5s, 10s) == 0s);
    CHECK(mr::clamp_server_hint(mr::duration::min(), 10s) == 0s);
    CHECK(mr::clamp_server_hint(5s, -1s) == 0s);
    STATIC_REQUIRE(mr::clamp_server_hint(20s, 10s) == 10s);
}

TEST_CASE("backoff_policy is modelled by the policies and not by look-alikes", "[backoff]") {
    STATIC_REQUIRE(mr::is_backoff_policy_v<mr::no_backoff>);
    STATIC_REQUIRE(mr::is_backoff_policy_v<mr::exponential_backoff>);
    STATIC_REQUIRE(mr::is_backoff_policy_v<mr::basic_exponential_backoff<std::mt19937_64>>);
    STATIC_REQUIRE(mr::is_backoff_policy_v<mr::basic_exponential_backoff<counter_generator>>);
    STATIC_REQUIRE(mr::is_backoff_policy_v<millisecond_delay>);
    STATIC_REQUIRE_FALSE(mr::is_backoff_policy_v<no_reset>);
    STATIC_REQUIRE_FALSE(mr::is_backoff_policy_v<no_next_delay>);
    STATIC_REQUIRE_FALSE(mr::is_backoff_policy_v<int_delay>);
    STATIC_REQUIRE_FALSE(mr::is_backoff_policy_v<not_copyable_backoff>);
    STATIC_REQUIRE_FALSE(mr::is_backoff_policy_v<int>);

    STATIC_REQUIRE(mr::has_reseed_v<mr::exponential_backoff>);
    STATIC_REQUIRE(mr::has_reseed_v<mr::basic_exponential_backoff<counter_generator>>);
    STATIC_REQUIRE_FALSE(mr::has_reseed_v<mr::no_backoff>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mr::backoff_policy<mr::no_backoff>);
    STATIC_REQUIRE(mr::backoff_policy<mr::exponential_backoff>);
    STATIC_REQUIRE(mr::backoff_policy<mr::basic_exponential_backoff<std::mt19937_64>>);
    STATIC_REQUIRE(mr::backoff_policy<millisecond_delay>);
    STATIC_REQUIRE_FALSE(mr::backoff_policy<no_reset>);
    STATIC_REQUIRE_FALSE(mr::backoff_policy<no_next_delay>);
    STATIC_REQUIRE_FALSE(mr::backoff_policy<int_delay>);
    STATIC_REQUIRE_FALSE(mr::backoff_policy<not_copyable_backoff>);
    STATIC_REQUIRE_FALSE(mr::backoff_policy<int>);
#endif
}
