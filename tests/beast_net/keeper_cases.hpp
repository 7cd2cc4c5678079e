// The session keeper against a real server (issue 15), written once for both flavours: the
// synchronous client (session_keeper_net_test.cpp) and the awaitable one
// (beast_async/session_keeper_async_test.cpp) run the same cases with a driver each.
//
// flaky_server forgets a session idle for longer than T; a workload of one call, then one call
// after each idle gap of 0.5T, 1.5T and 3T, meets the lost session once per gap longer than T
// without a keeper, and never with one (ping, or reinitialize). Real time is the workload here
// (the gaps); the assertions are counts, never timings.
//
// A driver `D` offers
//   template <class Keeper> static void run(const std::string& url,
//                                           std::optional<mcp_recovery::session_keeper_options>,
//                                           outcome_counts& out);
// which makes a client with that keeper (the options set when it is enabled), connects, runs
// `workload_gaps` with `echo_call()` through the client, and fills the client's side of `out`:
// calls_ok, client_lost_sessions, and for an enabled keeper keeper_ran (its timer ran after the
// calls) and keeper_ended (stop_session_keeper() ended it).
#ifndef MCP_RECOVERY_TESTS_KEEPER_CASES_HPP
#define MCP_RECOVERY_TESTS_KEEPER_CASES_HPP

#include <utility>

#include "mcp_recovery/beast/messages.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/beast/transport_options.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include "catch.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mcp_recovery_tests::keeper {

namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds server_timeout{300};  // T
/// 0.5T, 1.5T, 3T: two gaps longer than T.
inline const std::vector<std::chrono::milliseconds> workload_gaps{150ms, 450ms, 900ms};
constexpr int gaps_longer_than_timeout = 2;
constexpr int workload_calls = 4;  // one before the gaps, one after each

inline fs::flaky_server_options server_options() {
    fs::flaky_server_options o;
    o.session_idle_timeout = server_timeout;
    return o;
}

inline mb::transport_options transport_options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = 2s;
    return o;
}

inline const mb::request& echo_call() {
    static const mb::request r{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
    return r;
}

inline mcp_recovery::session_keeper_options keeper(mcp_recovery::keeper_action action,
                                                   std::optional<mcp_recovery::duration> hint) {
    mcp_recovery::session_keeper_options o;
    o.action = action;
    o.idle_timeout_hint = hint;
    o.margin = 0.7;  // act at 189 .. 210 ms: ~100 ms of slack for a loaded machine
    o.jitter = 0.1;
    o.min_interval = 20ms;
    return o;
}

struct outcome_counts {
    int calls_ok = 0;
    std::uint64_t client_lost_sessions = 0;
    bool keeper_ran = false;
    bool keeper_ended = false;
    // the server's side
    std::uint64_t lost_session_answers = 0;
    std::uint64_t idle_expirations = 0;
    std::uint64_t initializes = 0;
    std::uint64_t pings = 0;
};

template <class D, class Keeper>
outcome_counts run_workload(std::optional<mcp_recovery::session_keeper_options> settings) {
    fs::flaky_server server(server_options());
    outcome_counts out;
    D::template run<Keeper>(server.url(), settings, out);  // the client (and its keeper) are gone after it
    out.lost_session_answers = server.lost_session_answers();
    out.idle_expirations = server.idle_expirations();
    out.initializes = server.initializes();
    out.pings = server.seen("ping");
    return out;
}

/// Without a keeper: one failed first attempt (a lost session, recovered) per gap longer than T.
template <class D>
void without_keeper() {
    const outcome_counts c = run_workload<D, mcp_recovery::no_session_keeper>(std::nullopt);
    CHECK(c.calls_ok == workload_calls);  // recovered, every one
    // One lost session per gap longer than T (a loaded machine may stretch the short gap too).
    CHECK(c.lost_session_answers >= gaps_longer_than_timeout);
    CHECK(c.lost_session_answers <= gaps_longer_than_timeout + 1);
    CHECK(c.idle_expirations == c.lost_session_answers);
    CHECK(c.client_lost_sessions == c.lost_session_answers);
    CHECK(c.pings == 0);
}

/// Ping: the session never expires; no call meets a lost session; the first session lives
/// throughout; the keeper's timer ran and stop_session_keeper() ended it.
template <class D>
void with_ping() {
    const outcome_counts c = run_workload<D, mcp_recovery::session_keeper>(
        keeper(mcp_recovery::keeper_action::ping, mcp_recovery::duration(server_timeout)));
    CHECK(c.calls_ok == workload_calls);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1);
    CHECK(c.pings >= 3);  // the long gaps were bridged by pings (450 ms: 2, 900 ms: 4 or so)
    CHECK(c.keeper_ran);
    CHECK(c.keeper_ended);
}

/// Reinitialize: a new session before each call after a long gap; the old sessions are never
/// spoken to again (so the server expires none of them in front of a call).
template <class D>
void with_reinitialize() {
    const outcome_counts c = run_workload<D, mcp_recovery::session_keeper>(
        keeper(mcp_recovery::keeper_action::reinitialize, mcp_recovery::duration(server_timeout)));
    CHECK(c.calls_ok == workload_calls);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1 + gaps_longer_than_timeout);
    CHECK(c.pings == 0);
}

}  // namespace mcp_recovery_tests::keeper

#endif  // MCP_RECOVERY_TESTS_KEEPER_CASES_HPP
