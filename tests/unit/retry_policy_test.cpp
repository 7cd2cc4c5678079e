// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#include "mcp_recovery/retry_policy.hpp"

#include "catch.hpp"

#include <chrono>
#include <stdexcept>
#include <tuple>

namespace mr = mcp_recovery;
using namespace std::chrono_literals;

namespace {

const mr::time_point t0 = mr::time_point{} + 1h;

mr::retry_context failed(int attempt, mr::failure_kind kind = mr::failure_kind::session_expired) {
    return mr::retry_context{kind, attempt, t0, t0};
}

mr::retry_context failed_after(mr::duration elapsed) {
    return mr::retry_context{mr::failure_kind::transient, 1, t0, t0 + elapsed};
}

// Runs a call the way the client does: a fresh copy of the prototype, one attempt, then ask the
// policy after every failure. Every attempt fails. Returns the number of attempts made.
template <class Policy>
int attempts_of_failing_call(const Policy& prototype, int give_up_after = 100) {
    Policy policy = prototype;
    int attempt = 1;
    while (attempt < give_up_after && policy.on_failure(failed(attempt))) ++attempt;
    return attempt;
}

// Models of RetryPolicy, and types that must not be.
struct counting_policy {  // a stateful model: on_failure may be non-const
    int asked = 0;
    bool on_failure(const mr::retry_context&) { return ++asked < 3; }
};
struct no_on_failure {
    bool should_retry(const mr::retry_context&) const { return true; }
};
struct void_on_failure {
    void on_failure(const mr::retry_context&) const {}
};
struct wrong_argument {
    bool on_failure(int) const { return true; }
};
struct not_copyable {
    not_copyable() = default;
    not_copyable(const not_copyable&) = delete;
    bool on_failure(const mr::retry_context&) const { return true; }
};

}  // namespace

TEST_CASE("retry_once allows exactly one more attempt per call", "[retry]") {
    const auto kind = GENERATE(mr::failure_kind::session_expired, mr::failure_kind::connection_lost,
                               mr::failure_kind::throttled, mr::failure_kind::transient,
                               mr::failure_kind::unauthorized);
    CAPTURE(mr::to_string(kind));
    mr::retry_once policy;
    CHECK(policy.on_failure(failed(1, kind)));
    CHECK_FALSE(policy.on_failure(failed(2, kind)));
    CHECK_FALSE(policy.on_failure(failed(3, kind)));
    CHECK(attempts_of_failing_call(mr::retry_once{}) == 2);
}

TEST_CASE("never_retry never allows another attempt", "[retry]") {
    mr::never_retry policy;
    CHECK_FALSE(policy.on_failure(failed(1)));
    CHECK_FALSE(policy.on_failure(failed(2)));
    CHECK_FALSE(policy.on_failure(failed_after(0ns)));
    CHECK(attempts_of_failing_call(mr::never_retry{}) == 1);
}

TEST_CASE("limited_attempts allows attempts up to its total, the first one included", "[retry]") {
    int max_attempts = 0;
    int attempt = 0;
    bool allowed = false;
    std::tie(max_attempts, attempt, allowed) = GENERATE(table<int, int, bool>({
        {1, 1, false},
        {1, 2, false},
        {2, 1, true},
        {2, 2, false},
        {3, 1, true},
        {3, 2, true},
        {3, 3, false},
        {3, 4, false},
        {1000, 999, true},
        {1000, 1000, false},
    }));
    CAPTURE(max_attempts, attempt);
    mr::limited_attempts policy{max_attempts};
    CHECK(policy.max_attempts() == max_attempts);
    CHECK(policy.on_failure(failed(attempt)) == allowed);
}

TEST_CASE("a call under limited_attempts makes exactly that many attempts", "[retry]") {
    CHECK(attempts_of_failing_call(mr::limited_attempts{1}) == 1);
    CHECK(attempts_of_failing_call(mr::limited_attempts{2}) == 2);
    CHECK(attempts_of_failing_call(mr::limited_attempts{5}) == 5);
}

TEST_CASE("limited_attempts rejects a total below one", "[retry]") {
    CHECK_THROWS_AS(mr::limited_attempts{0}, std::invalid_argument);
    CHECK_THROWS_AS(mr::limited_attempts{-3}, std::invalid_argument);
    CHECK_NOTHROW(mr::limited_attempts{1});
}

TEST_CASE("default-constructed limited policies allow three attempts and 30 seconds", "[retry]") {
    const mr::limited_attempts attempts;
    CHECK(attempts.max_attempts() == 3);
    CHECK(attempts_of_failing_call(attempts) == 3);
    const mr::limited_time time;
    CHECK(time.budget() == 30s);
    mr::limited_time copy = time;
    CHECK(copy.on_failure(failed_after(29s)));
    CHECK_FALSE(copy.on_failure(failed_after(30s)));
}

TEST_CASE("limited_time allows another attempt only while its budget has not passed", "[retry]") {
    mr::limited_time policy{2s};
    CHECK(policy.budget() == 2s);
    CHECK(policy.on_failure(failed_after(0ns)));
    CHECK(policy.on_failure(failed_after(1999ms)));
    CHECK(policy.on_failure(failed_after(2s - 1ns)));
    CHECK_FALSE(policy.on_failure(failed_after(2s)));
    CHECK_FALSE(policy.on_failure(failed_after(1h)));

    SECTION("the attempt count does not matter, only the elapsed time") {
        CHECK(policy.on_failure(mr::retry_context{mr::failure_kind::throttled, 50, t0, t0 + 1s}));
        CHECK_FALSE(policy.on_failure(mr::retry_context{mr::failure_kind::throttled, 1, t0, t0 + 3s}));
    }
    SECTION("time is measured from the call's start, not from the clock's epoch") {
        const mr::time_point late_start = t0 + 24h;
        CHECK(policy.on_failure(mr::retry_context{mr::failure_kind::transient, 1, late_start, late_start + 1s}));
        CHECK_FALSE(
            policy.on_failure(mr::retry_context{mr::failure_kind::transient, 1, late_start, late_start + 2s}));
    }
}

TEST_CASE("limited_time with a zero budget never retries and a negative budget is rejected", "[retry]") {
    mr::limited_time zero{0s};
    CHECK_FALSE(zero.on_failure(failed_after(0ns)));
    CHECK_FALSE(zero.on_failure(failed_after(1ms)));
    CHECK_THROWS_AS(mr::limited_time{-1ms}, std::invalid_argument);
}

TEST_CASE("a per-call copy decides the same however much the prototype was used", "[retry]") {
    // A policy that kept its decision in shared or mutated state would answer the second call
    // differently from the first.
    const mr::retry_once once;
    const mr::limited_attempts three{3};
    const mr::limited_time budget{5s};
    for (int call = 0; call < 3; ++call) {
        CAPTURE(call);
        CHECK(attempts_of_failing_call(once) == 2);
        CHECK(attempts_of_failing_call(three) == 3);
        mr::limited_time copy = budget;
        CHECK(copy.on_failure(failed_after(4s)));
        CHECK_FALSE(copy.on_failure(failed_after(5s)));
    }
}

TEST_CASE("retry_policy is modelled by the policies and not by look-alikes", "[retry]") {
    STATIC_REQUIRE(mr::is_retry_policy_v<mr::never_retry>);
    STATIC_REQUIRE(mr::is_retry_policy_v<mr::retry_once>);
    STATIC_REQUIRE(mr::is_retry_policy_v<mr::limited_attempts>);
    STATIC_REQUIRE(mr::is_retry_policy_v<mr::limited_time>);
    STATIC_REQUIRE(mr::is_retry_policy_v<counting_policy>);
    STATIC_REQUIRE_FALSE(mr::is_retry_policy_v<no_on_failure>);
    STATIC_REQUIRE_FALSE(mr::is_retry_policy_v<void_on_failure>);
    STATIC_REQUIRE_FALSE(mr::is_retry_policy_v<wrong_argument>);
    STATIC_REQUIRE_FALSE(mr::is_retry_policy_v<not_copyable>);
    STATIC_REQUIRE_FALSE(mr::is_retry_policy_v<int>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mr::retry_policy<mr::never_retry>);
    STATIC_REQUIRE(mr::retry_policy<mr::retry_once>);
    STATIC_REQUIRE(mr::retry_policy<mr::limited_attempts>);
    STATIC_REQUIRE(mr::retry_policy<mr::limited_time>);
    STATIC_REQUIRE(mr::retry_policy<counting_policy>);
    STATIC_REQUIRE_FALSE(mr::retry_policy<no_on_failure>);
    STATIC_REQUIRE_FALSE(mr::retry_policy<void_on_failure>);
    STATIC_REQUIRE_FALSE(mr::retry_policy<wrong_argument>);
    STATIC_REQUIRE_FALSE(mr::retry_policy<not_copyable>);
    STATIC_REQUIRE_FALSE(mr::retry_policy<int>);
#endif
}

TEST_CASE("the stateless retry policies can decide at compile time", "[retry]") {
    STATIC_REQUIRE(mr::retry_once{}.on_failure(mr::retry_context{mr::failure_kind::transient, 1, {}, {}}));
    STATIC_REQUIRE_FALSE(mr::retry_once{}.on_failure(mr::retry_context{mr::failure_kind::transient, 2, {}, {}}));
    STATIC_REQUIRE(mr::limited_attempts{3}.on_failure(mr::retry_context{mr::failure_kind::transient, 2, {}, {}}));
    STATIC_REQUIRE_FALSE(mr::never_retry{}.on_failure(mr::retry_context{}));
}
