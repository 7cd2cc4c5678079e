// Session keeper benchmark (issue 15), against the in-process flaky_server over loopback.
//
// flaky_server forgets a session that heard nothing for longer than T (`session_idle_timeout`).
// One client makes a call, then one call after each idle gap; the gaps are spread over 0.5T .. 3T
// (a fixed shuffled order). Per configuration -- keeper off, ping with the timeout as a hint,
// reinitialize with the hint, and both again learning the timeout without a hint -- and per
// flavour (the synchronous recovering_client over the blocking transport; the awaitable client
// over the awaitable transport where Asio has co_await):
//   - failed first attempts: calls whose first attempt met the lost-session answer;
//   - lost-session answers the server sent (the keeper's own pings that met one included);
//   - pings and initializes sent by the keeper, per hour of idle time at this T, and per T of idle
//     time (scale-free: the same figure for a server whose T is 30 minutes).
// Prints a markdown table. `--quick`: 4 gaps instead of 12, for smoke runs.
// Exit code non-zero when a run with the keeper on and a hint saw a failed first attempt, when a
// learning run saw as many as the keeper-off run, or a call failed; never on timing.
#include <utility>

#include "mcp_recovery/beast/async_client.hpp"  // defines MCP_RECOVERY_BEAST_HAS_ASYNC where Asio has co_await
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/session_keeper.hpp"

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds server_timeout{200};  // T

struct config {
    const char* name;
    bool keeper_on;
    keeper_action action;
    bool hint;
};

struct result {
    int calls = 0;
    int calls_ok = 0;
    std::uint64_t failed_first_attempts = 0;
    std::uint64_t lost_session_answers = 0;
    std::uint64_t pings = 0;
    std::uint64_t keeper_initializes = 0;  // sessions opened after the first one
    double idle_seconds = 0;
};

session_keeper_options keeper_settings(const config& c) {
    session_keeper_options o;
    o.action = c.action;
    if (c.hint) o.idle_timeout_hint = duration(server_timeout);
    o.margin = 0.8;
    o.jitter = 0.1;
    o.min_interval = 20ms;
    return o;
}

mb::transport_options transport_options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = 2s;
    return o;
}

fs::flaky_server_options server_options() {
    fs::flaky_server_options o;
    o.session_idle_timeout = server_timeout;
    return o;
}

std::vector<std::chrono::milliseconds> make_gaps(bool quick) {
    std::vector<std::chrono::milliseconds> gaps;
    if (quick) {
        for (double f : {0.5, 1.25, 2.0, 3.0})
            gaps.emplace_back(static_cast<std::int64_t>(f * static_cast<double>(server_timeout.count())));
        return gaps;
    }
    const int n = 12;
    for (int i = 0; i < n; ++i) {
        const double f = 0.5 + 2.5 * i / (n - 1);  // 0.5T .. 3T, evenly
        gaps.emplace_back(static_cast<std::int64_t>(f * static_cast<double>(server_timeout.count())));
    }
    std::mt19937 rng(15);
    std::shuffle(gaps.begin(), gaps.end(), rng);
    return gaps;
}

const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};

template <class Keeper>
using sync_client = basic_recovering_client<
    mb::streamable_http_transport, recovery_policies<>::with_observer<counting_observer>::with_session_keeper<Keeper>>;

template <class Keeper>
result run_sync(const config& c, const std::vector<std::chrono::milliseconds>& gaps) {
    fs::flaky_server server(server_options());
    result r;
    {
        sync_client<Keeper> client(std::in_place, transport_options_for(server.url()));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(keeper_settings(c));
        if (!client.transport().connect()) return r;
        ++r.calls;
        if (client.try_call(echo_call)) ++r.calls_ok;
        for (const auto gap : gaps) {
            std::this_thread::sleep_for(gap);
            r.idle_seconds += std::chrono::duration<double>(gap).count();
            ++r.calls;
            if (client.try_call(echo_call)) ++r.calls_ok;
        }
        r.failed_first_attempts = client.observer().failures(failure_kind::session_expired);
    }
    r.lost_session_answers = server.lost_session_answers();
    r.pings = server.seen("ping");
    r.keeper_initializes = server.initializes() - 1;
    return r;
}

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
namespace net = boost::asio;

template <class Keeper>
using async_client = mb::basic_async_recovering_client<
    mb::async_streamable_http_transport,
    mb::async_recovery_policies::with_observer<counting_observer>::with_session_keeper<Keeper>>;

template <class Keeper>
result run_async(const config& c, const std::vector<std::chrono::milliseconds>& gaps) {
    fs::flaky_server server(server_options());
    result r;
    {
        net::io_context ioc;
        async_client<Keeper> client(ioc.get_executor(), std::in_place, ioc.get_executor(),
                                    transport_options_for(server.url()));
        if constexpr (Keeper::enabled) client.session_keeper().set_options(keeper_settings(c));
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                const mb::request echo = echo_call;
                auto connected = co_await client.transport().async_connect();
                if (connected) {
                    ++r.calls;
                    auto first = co_await client.call(echo);
                    if (first) ++r.calls_ok;
                    net::steady_timer timer(co_await net::this_coro::executor);
                    for (const auto gap : gaps) {
                        timer.expires_after(gap);
                        co_await timer.async_wait(net::use_awaitable);
                        r.idle_seconds += std::chrono::duration<double>(gap).count();
                        ++r.calls;
                        auto next = co_await client.call(echo);
                        if (next) ++r.calls_ok;
                    }
                }
                // The keeper's loop ends with it, so that run() returns.
                if constexpr (Keeper::enabled) client.stop_session_keeper();
            },
            net::detached);
        ioc.run();
        r.failed_first_attempts = client.observer().failures(failure_kind::session_expired);
    }
    r.lost_session_answers = server.lost_session_answers();
    r.pings = server.seen("ping");
    r.keeper_initializes = server.initializes() - 1;
    return r;
}
#endif

void print_row(const char* flavour, const config& c, const result& r) {
    const double hours = r.idle_seconds / 3600.0;
    const double pings = static_cast<double>(r.pings);
    const double inits = static_cast<double>(r.keeper_initializes);
    const double idle_in_t = r.idle_seconds / std::chrono::duration<double>(server_timeout).count();
    std::printf("| %s | %s | %d/%d | %llu | %llu | %llu | %llu | %.0f | %.0f | %.2f | %.2f |\n", flavour, c.name,
                r.calls_ok, r.calls, static_cast<unsigned long long>(r.failed_first_attempts),
                static_cast<unsigned long long>(r.lost_session_answers), static_cast<unsigned long long>(r.pings),
                static_cast<unsigned long long>(r.keeper_initializes), hours > 0 ? pings / hours : 0.0,
                hours > 0 ? inits / hours : 0.0, idle_in_t > 0 ? pings / idle_in_t : 0.0,
                idle_in_t > 0 ? inits / idle_in_t : 0.0);
    std::fflush(stdout);
}

// The functional checks: keeper on with a hint, no failed first attempt; learning, fewer than off.
bool check(const char* flavour, const config& c, const result& r, const result& off) {
    bool ok = true;
    if (r.calls_ok != r.calls) {
        std::printf("FAILED (%s, %s): %d of %d calls failed\n", flavour, c.name, r.calls - r.calls_ok, r.calls);
        ok = false;
    }
    if (c.keeper_on && c.hint && r.failed_first_attempts != 0) {
        std::printf("FAILED (%s, %s): %llu failed first attempts with the keeper on\n", flavour, c.name,
                    static_cast<unsigned long long>(r.failed_first_attempts));
        ok = false;
    }
    if (c.keeper_on && !c.hint && r.failed_first_attempts >= off.failed_first_attempts) {
        std::printf("FAILED (%s, %s): learning saw %llu failed first attempts, as many as without a keeper (%llu)\n",
                    flavour, c.name, static_cast<unsigned long long>(r.failed_first_attempts),
                    static_cast<unsigned long long>(off.failed_first_attempts));
        ok = false;
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        else {
            std::fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    const std::vector<std::chrono::milliseconds> gaps = make_gaps(quick);
    int longer = 0;
    for (const auto g : gaps) longer += g > server_timeout ? 1 : 0;
    std::printf("Session keeper: flaky_server with session_idle_timeout T = %lld ms; %zu idle gaps of 0.5T .. 3T "
                "(%d longer than T); keeper margin 0.8, jitter 0.1\n\n",
                static_cast<long long>(server_timeout.count()), gaps.size(), longer);
    std::printf("| flavour | keeper | calls ok | failed first attempts | lost-session answers | pings | "
                "initializes | pings / h idle | initializes / h idle | pings / T idle | initializes / T idle |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");

    const config configs[] = {
        {"off", false, keeper_action::ping, false},
        {"ping, hint T", true, keeper_action::ping, true},
        {"reinitialize, hint T", true, keeper_action::reinitialize, true},
        {"ping, learned (no hint)", true, keeper_action::ping, false},
        {"reinitialize, learned (no hint)", true, keeper_action::reinitialize, false},
    };
    bool ok = true;
    {
        result off;
        for (const config& c : configs) {
            const result r = c.keeper_on ? run_sync<session_keeper>(c, gaps) : run_sync<no_session_keeper>(c, gaps);
            if (!c.keeper_on) off = r;
            print_row("sync", c, r);
            ok = check("sync", c, r, off) && ok;
        }
    }
#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
    {
        result off;
        for (const config& c : configs) {
            const result r = c.keeper_on ? run_async<session_keeper>(c, gaps) : run_async<no_session_keeper>(c, gaps);
            if (!c.keeper_on) off = r;
            print_row("async", c, r);
            ok = check("async", c, r, off) && ok;
        }
    }
#else
    std::printf("\n(async flavour not built: needs C++20 and Asio's co_await)\n");
#endif
    std::printf("\n%s\n", ok ? "all keeper checks passed" : "KEEPER CHECKS FAILED");
    return ok ? 0 : 1;
}
