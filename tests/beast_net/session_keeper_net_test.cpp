// The session keeper against a real server (issue 15), synchronous flavour: flaky_server forgets
// a session idle for longer than T; a workload with idle gaps of 0.5T .. 3T meets the lost session
// once per gap longer than T without a keeper, and never with one (ping, or reinitialize). Real
// time is the workload here (the gaps); the assertions are counts, never timings. The awaitable
// flavour: tests/beast_async/session_keeper_async_test.cpp, with the same cases.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include "catch.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds server_timeout{300};  // T
// 0.5T, 1.5T, 3T: two gaps longer than T.
const std::vector<std::chrono::milliseconds> gaps{150ms, 450ms, 900ms};
constexpr int gaps_longer_than_timeout = 2;

template <class Keeper>
using client_type = basic_recovering_client<
    mb::streamable_http_transport,
    recovery_policies<>::with_observer<counting_observer>::with_session_keeper<Keeper>>;

fs::flaky_server_options server_options() {
    fs::flaky_server_options o;
    o.session_idle_timeout = server_timeout;
    return o;
}

mb::transport_options transport_options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = 2s;
    return o;
}

const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};

session_keeper_options keeper(keeper_action action, std::optional<duration> hint) {
    session_keeper_options o;
    o.action = action;
    o.idle_timeout_hint = hint;
    o.margin = 0.7;  // act at 189 .. 210 ms: ~100 ms of slack for a loaded machine
    o.jitter = 0.1;
    o.min_interval = 20ms;
    return o;
}

struct outcome_counts {
    int calls_ok = 0;
    std::uint64_t lost_session_answers = 0;
    std::uint64_t idle_expirations = 0;
    std::uint64_t initializes = 0;
    std::uint64_t pings = 0;
    std::uint64_t client_lost_sessions = 0;
};

// One call, then one per gap after sleeping it (the sleeps are the workload's idle time).
template <class Keeper>
outcome_counts run_workload(std::optional<session_keeper_options> keeper_settings) {
    fs::flaky_server server(server_options());
    outcome_counts out;
    {
        client_type<Keeper> client(std::in_place, transport_options_for(server.url()));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(*keeper_settings);
        REQUIRE(client.transport().connect());
        if (client.try_call(echo_call)) ++out.calls_ok;
        for (const auto gap : gaps) {
            std::this_thread::sleep_for(gap);
            if (client.try_call(echo_call)) ++out.calls_ok;
        }
        out.client_lost_sessions = client.observer().failures(failure_kind::session_expired);
    }  // the keeper's thread (if any) is joined here
    out.lost_session_answers = server.lost_session_answers();
    out.idle_expirations = server.idle_expirations();
    out.initializes = server.initializes();
    out.pings = server.seen("ping");
    return out;
}

}  // namespace

TEST_CASE("sync session keeper vs flaky_server's idle timeout: without it one failed first attempt per long gap",
          "[beast][keeper]") {
    const outcome_counts c = run_workload<no_session_keeper>(std::nullopt);
    CHECK(c.calls_ok == 4);  // recovered, every one
    // One lost session per gap longer than T (a loaded machine may stretch the short gap too).
    CHECK(c.lost_session_answers >= gaps_longer_than_timeout);
    CHECK(c.lost_session_answers <= gaps_longer_than_timeout + 1);
    CHECK(c.idle_expirations == c.lost_session_answers);
    CHECK(c.client_lost_sessions == c.lost_session_answers);
    CHECK(c.pings == 0);
}

TEST_CASE("sync session keeper, ping: the session never expires, no call meets a lost session", "[beast][keeper]") {
    const outcome_counts c = run_workload<session_keeper>(keeper(keeper_action::ping, duration(server_timeout)));
    CHECK(c.calls_ok == 4);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1);  // the first session lives throughout
    CHECK(c.pings >= 3);        // the long gaps were bridged by pings (450 ms: 2, 900 ms: 4 or so)
}

TEST_CASE("sync session keeper, reinitialize: a new session before each call after a long gap", "[beast][keeper]") {
    const outcome_counts c =
        run_workload<session_keeper>(keeper(keeper_action::reinitialize, duration(server_timeout)));
    CHECK(c.calls_ok == 4);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);  // the old sessions are never spoken to again
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1 + gaps_longer_than_timeout);
    CHECK(c.pings == 0);
}
