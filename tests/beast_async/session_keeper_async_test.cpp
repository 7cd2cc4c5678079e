// The session keeper against a real server (issue 15), awaitable flavour: the cases of
// tests/beast_net/keeper_cases.hpp with async_recovering_client over the awaitable transport (the
// synchronous flavour: tests/beast_net/session_keeper_net_test.cpp). The idle gaps are timer waits.
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include "../beast_net/keeper_cases.hpp"
#include "async_support.hpp"
#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <string>

namespace {

namespace kc = mcp_recovery_tests::keeper;
namespace net = boost::asio;

template <class Client>
net::awaitable<int> workload(Client& client) {
    int ok = 0;
    auto first = co_await client.call(kc::echo_call());
    ok += first ? 1 : 0;
    net::steady_timer timer(co_await net::this_coro::executor);
    for (const auto gap : kc::workload_gaps) {
        timer.expires_after(gap);
        co_await timer.async_wait(net::use_awaitable);
        auto r = co_await client.call(kc::echo_call());
        ok += r ? 1 : 0;
    }
    co_return ok;
}

struct async_driver {
    template <class Keeper>
    using client_type = kc::mb::basic_async_recovering_client<
        kc::mb::async_streamable_http_transport,
        kc::mb::async_recovery_policies::with_observer<mcp_recovery::counting_observer>::with_session_keeper<Keeper>>;

    template <class Keeper>
    static void run(const std::string& url, std::optional<mcp_recovery::session_keeper_options> settings,
                    kc::outcome_counts& out) {
        net::io_context ioc;
        client_type<Keeper> client(ioc.get_executor(), std::in_place, ioc.get_executor(),
                                   kc::transport_options_for(url));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(*settings);
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
        out.client_lost_sessions = client.observer().failures(mcp_recovery::failure_kind::session_expired);
    }
};

}  // namespace

TEST_CASE("async session keeper vs flaky_server's idle timeout: without it one failed first attempt per long gap",
          "[async][keeper]") {
    kc::without_keeper<async_driver>();
}

TEST_CASE("async session keeper, ping: the session never expires, no call meets a lost session", "[async][keeper]") {
    kc::with_ping<async_driver>();
}

TEST_CASE("async session keeper, reinitialize: a new session before each call after a long gap", "[async][keeper]") {
    kc::with_reinitialize<async_driver>();
}
