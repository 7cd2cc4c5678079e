// The session keeper against a real server (issue 15), synchronous flavour: the cases of
// keeper_cases.hpp with recovering_client over the synchronous transport (the awaitable flavour:
// tests/beast_async/session_keeper_async_test.cpp).
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "keeper_cases.hpp"

#include <optional>
#include <string>
#include <thread>

namespace {

namespace kc = mcp_recovery_tests::keeper;

struct sync_driver {
    template <class Keeper>
    using client_type = mcp_recovery::basic_recovering_client<
        kc::mb::streamable_http_transport,
        mcp_recovery::recovery_policies<>::with_observer<mcp_recovery::counting_observer>::with_session_keeper<Keeper>>;

    template <class Keeper>
    static void run(const std::string& url, std::optional<mcp_recovery::session_keeper_options> settings,
                    kc::outcome_counts& out) {
        client_type<Keeper> client(std::in_place, kc::transport_options_for(url));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(*settings);
        REQUIRE(client.transport().connect());
        if (client.try_call(kc::echo_call())) ++out.calls_ok;
        for (const auto gap : kc::workload_gaps) {
            std::this_thread::sleep_for(gap);  // the workload's idle time
            if (client.try_call(kc::echo_call())) ++out.calls_ok;
        }
        if constexpr (Keeper::enabled) {
            out.keeper_ran = client.session_keeper_running();
            client.stop_session_keeper();  // joins the keeper's thread
            out.keeper_ended = !client.session_keeper_running();
        }
        out.client_lost_sessions = client.observer().failures(mcp_recovery::failure_kind::session_expired);
    }
};

}  // namespace

TEST_CASE("sync session keeper vs flaky_server's idle timeout: without it one failed first attempt per long gap",
          "[beast][keeper]") {
    kc::without_keeper<sync_driver>();
}

TEST_CASE("sync session keeper, ping: the session never expires, no call meets a lost session", "[beast][keeper]") {
    kc::with_ping<sync_driver>();
}

TEST_CASE("sync session keeper, reinitialize: a new session before each call after a long gap", "[beast][keeper]") {
    kc::with_reinitialize<sync_driver>();
}
