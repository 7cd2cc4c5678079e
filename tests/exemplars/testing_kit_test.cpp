// Testing a policy of your own, and your recovery set-up, with no socket and no sleep.
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/manual_clock.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include "catch.hpp"                  // Catch2 (any test framework will do)
#include "retry_policy_exemplar.hpp"  // app::one_reconnect_then_patience: the policy under test

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

namespace mr = mcp_recovery;
namespace mt = mcp_recovery::testing;
using namespace std::chrono_literals;

using client_under_test =
    mr::recovering_client<mt::scripted_transport, mr::default_classifier, app::one_reconnect_then_patience,
                          mr::exponential_backoff, mr::single_flight_reconnector<mr::no_backoff>,
                          mr::counting_observer, mt::manual_clock>;

const mt::scripted_request list_tools{"tools/list", "list"};
const mt::scripted_request transfer{"tools/call", "transfer"};

}  // namespace

TEST_CASE("a throttling server is waited out for 20 s, and not a second longer", "[docs][testing-kit]") {
    client_under_test client{std::in_place};
    mt::manual_clock clock;  // copies share one time line: give one to the client, keep one
    client.clock() = clock;
    client.backoff_policy() = mr::exponential_backoff(1s, 2.0, 4s, mr::jitter::none);
    client.transport().fail_next(mt::failures::throttled(), 10);  // 429 without Retry-After, ten times

    auto result = client.try_call(list_tools);  // returns at once: every sleep only moves the clock

    REQUIRE_FALSE(result);
    CHECK(result.error().code == mr::errc::retries_exhausted);
    CHECK(clock.sleeps() == std::vector<mr::duration>{1s, 2s, 4s, 4s, 4s, 4s, 4s});
    CHECK(client.transport().sends() == 8);
}

TEST_CASE("a session lost twice in one call: the call reports it and the session is renewed", "[docs][testing-kit]") {
    client_under_test client{std::in_place};
    client.transport().fail_next(mt::failures::session_not_found(), 2);

    auto result = client.try_call(list_tools);

    REQUIRE_FALSE(result);
    CHECK(result.error().code == mr::errc::retries_exhausted);
    // One reconnect for the replay, one more to renew the session lost again, for the next call.
    CHECK(client.transport().reconnects() == 2);
    CHECK(client.try_call(list_tools));
}

TEST_CASE("16 threads on an expired session: one reconnect, every call answered", "[docs][testing-kit]") {
    client_under_test client{std::in_place};
    client.transport().expire_session();  // every send on this session fails until a reconnect

    std::atomic<int> answered{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < 16; ++i)
        callers.emplace_back([&] {
            if (client.try_call(list_tools)) ++answered;
        });
    for (auto& t : callers) t.join();

    CHECK(answered == 16);
    CHECK(client.transport().reconnects() == 1);
}

TEST_CASE("a write whose connection broke after it was sent is not sent again", "[docs][testing-kit]") {
    client_under_test client{std::in_place};
    client.transport().fail_next(mt::failures::reset_after_write());  // counts as executed

    auto result = client.try_call(transfer);

    REQUIRE_FALSE(result);
    CHECK(result.error().code == mr::errc::not_replayable);
    CHECK(client.transport().executions("transfer") == 1);
}
