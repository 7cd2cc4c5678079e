// Interop, kill and restart (coroutines): the async twin of
// tests/beast_net/restart_interop_test.cpp. The same npm servers are killed with SIGKILL by PID
// and started again on the same port after 1 s of downtime, three times, while 64 coroutines on
// ONE io_context (one thread) call through one async_recovering_client over the awaitable
// Streamable-HTTP transport, in loops bounded in count and time. Same checks: every replay-safe
// call succeeds, nothing runs twice, one initialize per restart, recovery below 5 s (printed).
// C++20 with g++ only (Asio's co_await), like the other async tests.
#include <utility>

#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "restart_interop.hpp"

#include "async_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

using namespace mcp_recovery;
using namespace restart_interop;
namespace net = boost::asio;

namespace {

using async_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, limited_time,
                                                 no_backoff, mb::async_single_flight_reconnector<>, counting_observer>;

constexpr int coroutines = 64;
constexpr int max_calls_per_coroutine = 5000;
constexpr auto max_run = 50s;  // the callers stop by then whatever happens

net::awaitable<void> caller(async_client& client, const server_kind& kind, call_log& log, std::atomic<bool>& stop,
                            wall::time_point until, const run_settings& settings, int id) {
    const std::string worker = "c" + std::to_string(id);
    for (int i = 0; i < max_calls_per_coroutine && !stop && wall::now() < until; ++i) {
        planned_call p = plan_call(kind, worker, i, settings.call_timeout);
        async_client::result_type r = co_await client.call(p.request, p.options);
        log.add(record_of(p, r));
    }
}

void run_with_coroutines(const server_kind& kind) {
    const run_settings settings;
    temp_file executions("mcpr-restart-async");
    std::vector<std::string> extra;
    if (kind.ts_sdk) extra = {"--executions-file", executions.path(), "--require-initialized"};
    node_server server(kind.script, extra);

    net::io_context ioc;
    mb::transport_options o;
    o.url = server.url();
    o.connect_timeout = 2s;
    o.read_timeout = 10s;
    o.max_idle_connections = coroutines;
    async_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), o);
    client.retry_policy() = limited_time{settings.retry_budget};
    REQUIRE(mcp_recovery_tests::run(ioc, client.transport().async_connect()));

    call_log log;
    std::atomic<bool> stop{false};
    std::atomic<int> exceptions{0};
    std::atomic<int> finished{0};
    const auto until = wall::now() + max_run;
    for (int i = 0; i < coroutines; ++i)
        net::co_spawn(ioc, caller(client, kind, log, stop, until, settings, i), [&](std::exception_ptr e) {
            if (e) exceptions.fetch_add(1);
            finished.fetch_add(1);
        });
    ioc.restart();
    std::vector<std::thread> threads;
    joiner join(stop, threads);  // the io thread returns when every caller has finished
    threads.emplace_back([&] { ioc.run(); });

    const auto& observer = client.observer();
    const std::vector<restart_event> events = drive_restarts(server, log, settings, stop, [&] {
        return std::pair<std::uint64_t, std::uint64_t>{observer.reconnects(), observer.reconnects_succeeded()};
    });
    join.join();
    CHECK(finished.load() == coroutines);
    CHECK(exceptions.load() == 0);
    CHECK_FALSE(client.reconnector().in_flight());

    const std::vector<std::string> lines = executions.lines();
    check_run(kind, log.records(), events, settings, kind.ts_sdk ? &lines : nullptr);
    check_client_sessions(events, observer, kind.name + " (64 coroutines)");
}

}  // namespace

TEST_CASE("TypeScript SDK server killed (SIGKILL) and restarted on its port: 64 coroutines ride through",
          "[interop_restart][async][ts_sdk]") {
    run_with_coroutines(server_kind::ts_sdk_server());
}

TEST_CASE("server-everything killed (SIGKILL) and restarted on its port: 64 coroutines ride through",
          "[interop_restart][async][everything]") {
    run_with_coroutines(server_kind::everything());
}
