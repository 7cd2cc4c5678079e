// The policy concepts (traits and C++20 concepts agree), the Observer and Reconnector checks, and
// the policy bundle: one policy swapped without restating the others.
#include "mcp_recovery/recovering_client.hpp"

#include "mcp_recovery/testing/manual_clock.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

using namespace mcp_recovery;
namespace mt = mcp_recovery::testing;

namespace {

// Observers: one with every hook, written out; one that misses a hook; one built on null_observer.
struct full_observer {
    void on_failure(const failure&, failure_kind, int) noexcept {}
    void on_reconnect_start(std::uint64_t) noexcept {}
    void on_reconnect_done(std::uint64_t, std::error_code, duration) noexcept {}
    void on_retry(failure_kind, int, duration) noexcept {}
    void on_recovered(int, duration) noexcept {}
    void on_give_up(std::error_code, const failure*) noexcept {}
};
struct observer_without_give_up {
    void on_failure(const failure&, failure_kind, int) noexcept {}
    void on_reconnect_start(std::uint64_t) noexcept {}
    void on_reconnect_done(std::uint64_t, std::error_code, duration) noexcept {}
    void on_retry(failure_kind, int, duration) noexcept {}
    void on_recovered(int, duration) noexcept {}
};
struct observer_with_wrong_give_up : full_observer {
    void on_give_up(const std::string&) noexcept {}  // hides the base's: not callable as the client calls it
};
struct counting_give_ups : null_observer {
    int give_ups = 0;
    void on_give_up(std::error_code, const failure*) noexcept { ++give_ups; }
};

// Reconnectors: a generic one, one for one transport only, one without reconnect.
struct any_reconnector {
    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(Transport& t, std::uint64_t, time_point, Clock&, Observer&, Hook&& hook) {
        if (auto r = t.reconnect(); !r) return call_error{make_error_code(errc::reconnect_failed), r.error(), {}};
        if (auto h = hook(t); !h) return call_error{make_error_code(errc::reconnect_failed), h.error(), {}};
        return {};
    }
};
struct scripted_only_reconnector {
    template <class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(mt::scripted_transport&, std::uint64_t, time_point, Clock&, Observer&, Hook&&) {
        return {};
    }
};
struct reconnector_without_reconnect {
    reconnect_outcome renew() { return {}; }
};
struct reconnector_with_wrong_result {
    template <class Transport, class Clock, class Observer, class Hook>
    bool reconnect(Transport&, std::uint64_t, time_point, Clock&, Observer&, Hook&&) {
        return true;
    }
};

// A clock without wait_until, a classifier that returns an int, policies that cannot be copied.
struct clock_without_wait {
    time_point now() const noexcept { return {}; }
    void sleep_until(time_point) const {}
};
struct int_classifier {
    int classify(const failure&) const noexcept { return 0; }
};
struct move_only_retry {
    move_only_retry() = default;
    move_only_retry(move_only_retry&&) = default;
    bool on_failure(const retry_context&) { return false; }
};

using scripted = mt::scripted_transport;

}  // namespace

TEST_CASE("is_observer_v accepts every hook set the client can call and rejects a missing hook", "[concepts][observer]") {
    STATIC_REQUIRE(is_observer_v<null_observer>);
    STATIC_REQUIRE(is_observer_v<counting_observer>);
    STATIC_REQUIRE(is_observer_v<full_observer>);
    STATIC_REQUIRE(is_observer_v<counting_give_ups>);
    STATIC_REQUIRE_FALSE(is_observer_v<observer_without_give_up>);
    STATIC_REQUIRE_FALSE(is_observer_v<observer_with_wrong_give_up>);
    STATIC_REQUIRE_FALSE(is_observer_v<int>);
    // on_reopen_done is optional.
    STATIC_REQUIRE(has_on_reopen_done_v<null_observer>);
    STATIC_REQUIRE_FALSE(has_on_reopen_done_v<full_observer>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(observer<counting_observer>);
    STATIC_REQUIRE(observer<full_observer>);
    STATIC_REQUIRE_FALSE(observer<observer_without_give_up>);
    STATIC_REQUIRE_FALSE(observer<observer_with_wrong_give_up>);
#endif
}

TEST_CASE("is_reconnector_v checks reconnect as the client calls it", "[concepts][reconnector]") {
    STATIC_REQUIRE(is_reconnector_v<single_flight_reconnector<>, scripted>);
    STATIC_REQUIRE(is_reconnector_v<single_flight_reconnector<no_backoff>, scripted, mt::manual_clock, counting_observer>);
    STATIC_REQUIRE(is_reconnector_v<any_reconnector, scripted, mt::manual_clock, full_observer>);
    STATIC_REQUIRE(is_reconnector_v<scripted_only_reconnector, scripted>);
    STATIC_REQUIRE_FALSE(is_reconnector_v<scripted_only_reconnector, mt::scripted_transport_without_auth>);
    STATIC_REQUIRE_FALSE(is_reconnector_v<reconnector_without_reconnect, scripted>);
    STATIC_REQUIRE_FALSE(is_reconnector_v<reconnector_with_wrong_result, scripted>);
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(reconnector<single_flight_reconnector<>, scripted, steady_clock_source, null_observer>);
    STATIC_REQUIRE(reconnector<any_reconnector, scripted, mt::manual_clock, full_observer>);
    STATIC_REQUIRE_FALSE(reconnector<reconnector_without_reconnect, scripted, steady_clock_source, null_observer>);
    STATIC_REQUIRE_FALSE(reconnector<reconnector_with_wrong_result, scripted, steady_clock_source, null_observer>);
#endif
}

#if MCP_RECOVERY_HAS_CONCEPTS
namespace {
// The C++17 trait and the C++20 concept of each requirement say the same of `T`.
template <class T>
constexpr bool traits_agree_with_concepts() {
    return is_transport_v<T> == transport<T> && is_classifier_v<T> == classifier<T> &&
           is_classifier_rule_v<T> == classifier_rule<T> && is_retry_policy_v<T> == retry_policy<T> &&
           is_backoff_policy_v<T> == backoff_policy<T> && is_observer_v<T> == observer<T> &&
           is_clock_v<T> == mcp_recovery::clock<T> &&  // unqualified, `clock` is also <ctime>'s
           is_reconnector_v<T, scripted, steady_clock_source, null_observer> ==
               reconnector<T, scripted, steady_clock_source, null_observer>;
}

template <class... Ts>
constexpr bool all_agree() {
    return (traits_agree_with_concepts<Ts>() && ...);
}

template <class T>
concept nameable_client = requires { typename recovering_client<T>; };
}  // namespace

TEST_CASE("each C++17 trait and its C++20 concept agree, on models and on look-alikes", "[concepts]") {
    STATIC_REQUIRE(all_agree<scripted, mt::scripted_transport_without_auth, default_classifier, spec_classifier,
                             session_message_rules, int_classifier, retry_once, limited_time, move_only_retry,
                             no_backoff, exponential_backoff, null_observer, counting_observer, full_observer,
                             observer_without_give_up, observer_with_wrong_give_up, steady_clock_source,
                             mt::manual_clock, clock_without_wait, single_flight_reconnector<>, any_reconnector,
                             reconnector_without_reconnect, reconnector_with_wrong_result, int, std::string>());
}

TEST_CASE("in C++20 whether a client type can be named is a constraint, not a hard error", "[concepts][client]") {
    STATIC_REQUIRE(nameable_client<scripted>);
    STATIC_REQUIRE_FALSE(nameable_client<int>);
    STATIC_REQUIRE_FALSE(nameable_client<full_observer>);
}
#endif

TEST_CASE("the concepts' traits reject what the client cannot use", "[concepts]") {
    STATIC_REQUIRE_FALSE(is_clock_v<clock_without_wait>);
    STATIC_REQUIRE_FALSE(is_classifier_v<int_classifier>);
    STATIC_REQUIRE_FALSE(is_retry_policy_v<move_only_retry>);
}

TEST_CASE("recovery_policies: each with_ swaps one policy and keeps the others", "[policies][bundle]") {
    using defaults = recovery_policies<>;
    STATIC_REQUIRE(std::is_same_v<defaults::classifier, default_classifier>);
    STATIC_REQUIRE(std::is_same_v<defaults::retry_policy, retry_once>);
    STATIC_REQUIRE(std::is_same_v<defaults::backoff_policy, no_backoff>);
    STATIC_REQUIRE(std::is_same_v<defaults::reconnector, single_flight_reconnector<>>);
    STATIC_REQUIRE(std::is_same_v<defaults::observer, null_observer>);
    STATIC_REQUIRE(std::is_same_v<defaults::clock, steady_clock_source>);

    STATIC_REQUIRE(std::is_same_v<defaults::with_classifier<spec_classifier>,
                                  recovery_policies<spec_classifier>>);
    STATIC_REQUIRE(std::is_same_v<defaults::with_retry_policy<limited_attempts>,
                                  recovery_policies<default_classifier, limited_attempts>>);
    STATIC_REQUIRE(std::is_same_v<defaults::with_backoff_policy<exponential_backoff>,
                                  recovery_policies<default_classifier, retry_once, exponential_backoff>>);
    STATIC_REQUIRE(std::is_same_v<defaults::with_reconnector<any_reconnector>,
                                  recovery_policies<default_classifier, retry_once, no_backoff, any_reconnector>>);
    STATIC_REQUIRE(std::is_same_v<defaults::with_observer<counting_observer>,
                                  recovery_policies<default_classifier, retry_once, no_backoff,
                                                    single_flight_reconnector<>, counting_observer>>);
    STATIC_REQUIRE(std::is_same_v<defaults::with_clock<mt::manual_clock>,
                                  recovery_policies<default_classifier, retry_once, no_backoff,
                                                    single_flight_reconnector<>, null_observer, mt::manual_clock>>);
    // Swaps chain, and a later swap of the same policy wins.
    using chained = defaults::with_observer<counting_observer>::with_retry_policy<never_retry>::with_retry_policy<
        limited_time>;
    STATIC_REQUIRE(std::is_same_v<chained, recovery_policies<default_classifier, limited_time, no_backoff,
                                                             single_flight_reconnector<>, counting_observer>>);
}

TEST_CASE("basic_recovering_client is the positional client, and its policies round-trip", "[policies][bundle]") {
    STATIC_REQUIRE(std::is_same_v<basic_recovering_client<scripted>, recovering_client<scripted>>);
    using counted = basic_recovering_client<scripted, recovery_policies<>::with_observer<counting_observer>>;
    STATIC_REQUIRE(std::is_same_v<counted, recovering_client<scripted, default_classifier, retry_once, no_backoff,
                                                             single_flight_reconnector<>, counting_observer>>);
    using positional = recovering_client<scripted, spec_classifier, limited_attempts, exponential_backoff,
                                         any_reconnector, full_observer, mt::manual_clock>;
    STATIC_REQUIRE(std::is_same_v<basic_recovering_client<scripted, positional::policies>, positional>);
    // A client type that differs from an existing one in one policy.
    using quieter = basic_recovering_client<scripted, positional::policies::with_observer<null_observer>>;
    STATIC_REQUIRE(std::is_same_v<quieter, recovering_client<scripted, spec_classifier, limited_attempts,
                                                             exponential_backoff, any_reconnector, null_observer,
                                                             mt::manual_clock>>);
}

TEST_CASE("a client from a policy bundle recovers with the swapped policies", "[policies][bundle][client]") {
    using policies = recovery_policies<>::with_retry_policy<limited_attempts>::with_observer<counting_observer>::with_clock<
        mt::manual_clock>::with_reconnector<single_flight_reconnector<no_backoff>>;
    basic_recovering_client<scripted, policies> client{std::in_place};
    STATIC_REQUIRE(std::is_same_v<decltype(client.retry_policy()), limited_attempts&>);
    STATIC_REQUIRE(std::is_same_v<decltype(client.observer()), counting_observer&>);

    // limited_attempts (3 attempts) rides out a session lost twice; retry_once would not.
    const auto g0 = client.transport().generation();
    client.transport().expire_session();
    client.transport().fail_next(mt::failures::session_not_found());
    auto r = client.try_call(mt::scripted_request{"tools/list", "list"});
    REQUIRE(r);
    CHECK(r->generation == g0 + 2);
    CHECK(client.transport().reconnects() == 2);
    CHECK(client.observer().reconnects() == 2);
    CHECK(client.observer().recovered() == 1);

    // The same with the defaults' retry_once gives up.
    basic_recovering_client<scripted, policies::with_retry_policy<retry_once>> once{std::in_place};
    once.transport().expire_session();
    once.transport().fail_next(mt::failures::session_not_found());
    auto r1 = once.try_call(mt::scripted_request{"tools/list", "list"});
    REQUIRE_FALSE(r1);
    CHECK(r1.error().code == errc::retries_exhausted);
    CHECK(once.observer().give_ups(errc::retries_exhausted) == 1);
}

TEST_CASE("an observer built on null_observer is told only what it overrides", "[policies][observer]") {
    basic_recovering_client<scripted, recovery_policies<>::with_observer<counting_give_ups>> client{std::in_place};
    client.transport().fail_next(mt::failures::reset_after_write());
    auto r = client.try_call(mt::scripted_request{"tools/call", "write"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
    CHECK(client.observer().give_ups == 1);
}
