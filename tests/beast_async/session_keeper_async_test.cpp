// The session keeper against a real server (issue 15), awaitable flavour: the same cases as
// tests/beast_net/session_keeper_net_test.cpp with async_recovering_client over the awaitable
// transport. flaky_server forgets a session idle for longer than T; the workload's idle gaps are
// 0.5T .. 3T (timer waits: real time is the workload); the assertions are counts, not timings.
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include "async_support.hpp"
#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds server_timeout{300};  // T
const std::vector<std::chrono::milliseconds> gaps{150ms, 450ms, 900ms};  // 0.5T, 1.5T, 3T
constexpr int gaps_longer_than_timeout = 2;

template <class Keeper>
using client_type = mb::basic_async_recovering_client<
    mb::async_streamable_http_transport,
    mb::async_recovery_policies::with_observer<counting_observer>::with_session_keeper<Keeper>>;

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

session_keeper_options keeper(keeper_action action, std::optional<duration> hint) {
    session_keeper_options o;
    o.action = action;
    o.idle_timeout_hint = hint;
    o.margin = 0.7;
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
    bool keeper_ran = false;
    bool keeper_ended = false;
};

template <class Client>
net::awaitable<int> workload(Client& client) {
    const mb::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
    int ok = 0;
    auto first = co_await client.call(echo);
    ok += first ? 1 : 0;
    net::steady_timer timer(co_await net::this_coro::executor);
    for (const auto gap : gaps) {
        timer.expires_after(gap);
        co_await timer.async_wait(net::use_awaitable);
        auto r = co_await client.call(echo);
        ok += r ? 1 : 0;
    }
    co_return ok;
}

template <class Keeper>
outcome_counts run_workload(std::optional<session_keeper_options> keeper_settings) {
    fs::flaky_server server(server_options());
    outcome_counts out;
    {
        net::io_context ioc;
        client_type<Keeper> client(ioc.get_executor(), std::in_place, ioc.get_executor(),
                                   transport_options_for(server.url()));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(*keeper_settings);
        REQUIRE(mcp_recovery_tests::run(ioc, client.transport().async_connect()));
        // The calls, then the keeper stopped from inside the io_context: run() returns once the
        // keeper's loop ended (nothing of it outlives the client).
        out.calls_ok = mcp_recovery_tests::run(ioc, [&]() -> net::awaitable<int> {
            const int ok = co_await workload(client);
            if constexpr (Keeper::enabled) {
                out.keeper_ran = client.session_keeper_running();
                client.stop_session_keeper();
            }
            co_return ok;
        }());
        if constexpr (Keeper::enabled) out.keeper_ended = !client.session_keeper_running();
        out.client_lost_sessions = client.observer().failures(failure_kind::session_expired);
    }
    out.lost_session_answers = server.lost_session_answers();
    out.idle_expirations = server.idle_expirations();
    out.initializes = server.initializes();
    out.pings = server.seen("ping");
    return out;
}

}  // namespace

TEST_CASE("async session keeper vs flaky_server's idle timeout: without it one failed first attempt per long gap",
          "[async][keeper]") {
    const outcome_counts c = run_workload<no_session_keeper>(std::nullopt);
    CHECK(c.calls_ok == 4);
    CHECK(c.lost_session_answers >= gaps_longer_than_timeout);
    CHECK(c.lost_session_answers <= gaps_longer_than_timeout + 1);
    CHECK(c.idle_expirations == c.lost_session_answers);
    CHECK(c.client_lost_sessions == c.lost_session_answers);
    CHECK(c.pings == 0);
}

TEST_CASE("async session keeper, ping: the session never expires, no call meets a lost session", "[async][keeper]") {
    const outcome_counts c = run_workload<session_keeper>(keeper(keeper_action::ping, duration(server_timeout)));
    CHECK(c.calls_ok == 4);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1);
    CHECK(c.pings >= 3);
    CHECK(c.keeper_ran);
    CHECK(c.keeper_ended);
}

TEST_CASE("async session keeper, reinitialize: a new session before each call after a long gap", "[async][keeper]") {
    const outcome_counts c =
        run_workload<session_keeper>(keeper(keeper_action::reinitialize, duration(server_timeout)));
    CHECK(c.calls_ok == 4);
    CHECK(c.lost_session_answers == 0);
    CHECK(c.idle_expirations == 0);
    CHECK(c.client_lost_sessions == 0);
    CHECK(c.initializes == 1 + gaps_longer_than_timeout);
    CHECK(c.pings == 0);
}
