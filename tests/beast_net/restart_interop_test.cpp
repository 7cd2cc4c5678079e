// Interop, kill and restart (threads): a real npm MCP server we did not write -- the official
// TypeScript SDK's (tests/interop/ts_sdk_server.mjs) and @modelcontextprotocol/server-everything --
// is killed with SIGKILL by PID, like a crash, and started again on the same port after 1 s of
// downtime, three times, while 16 threads call through ONE shared recovering_client
// (limited_time retry budget, per-call timeout) in a loop bounded in count and time.
//
// Checked: every replay-safe call (tools/list, an echo annotated idempotent) succeeds; a
// non-idempotent call (`count`, a unique key per call) never runs twice and fails only as
// not_replayable (it was on the wire at the kill); every count call that succeeded ran exactly
// once (the server's --executions-file, written synchronously, survives the kill); one initialize
// per restart (client: session flights; TypeScript server: SESSION lines); recovery time, from
// the restarted server's LISTENING to the first successful call, below 5 s, printed (WARN).
// The async twin: tests/beast_async/restart_interop_async_test.cpp.
#include "restart_interop.hpp"

#include "mcp_recovery/recovering_client.hpp"

using namespace mcp_recovery;
using namespace restart_interop;

namespace {

using client_type = recovering_client<mb::streamable_http_transport, default_classifier, limited_time, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;

constexpr int threads_count = 16;
constexpr int max_calls_per_thread = 20000;
constexpr auto max_run = 50s;  // the callers stop by then whatever happens

void run_with_threads(const server_kind& kind) {
    const run_settings settings;
    temp_file executions("mcpr-restart-sync");
    std::vector<std::string> extra;
    if (kind.ts_sdk) extra = {"--executions-file", executions.path(), "--require-initialized"};
    node_server server(kind.script, extra);

    mb::transport_options o;
    o.url = server.url();
    o.connect_timeout = 2s;
    o.read_timeout = 10s;
    o.max_idle_connections = threads_count;
    client_type client{std::in_place, o};
    client.retry_policy() = limited_time{settings.retry_budget};
    REQUIRE(client.transport().connect());

    call_log log;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    joiner join(stop, threads);
    const auto until = wall::now() + max_run;
    for (int t = 0; t < threads_count; ++t)
        threads.emplace_back([&, t] {
            const std::string worker = "s" + std::to_string(t);
            for (int i = 0; i < max_calls_per_thread && !stop && wall::now() < until; ++i) {
                planned_call p = plan_call(kind, worker, i, settings.call_timeout);
                const client_type::result_type r = client.try_call(p.request, p.options);
                log.add(record_of(p, r));
            }
        });
    const auto& observer = client.observer();
    const std::vector<restart_event> events = drive_restarts(server, log, settings, stop, [&] {
        return std::pair<std::uint64_t, std::uint64_t>{observer.reconnects(), observer.reconnects_succeeded()};
    });
    join.join();

    const std::vector<std::string> lines = executions.lines();
    check_run(kind, log.records(), events, settings, kind.ts_sdk ? &lines : nullptr);
    check_client_sessions(events, observer, kind.name + " (16 threads)");
}

}  // namespace

TEST_CASE("TypeScript SDK server killed (SIGKILL) and restarted on its port: 16 threads ride through",
          "[interop_restart][sync][ts_sdk]") {
    run_with_threads(server_kind::ts_sdk_server());
}

TEST_CASE("server-everything killed (SIGKILL) and restarted on its port: 16 threads ride through",
          "[interop_restart][sync][everything]") {
    run_with_threads(server_kind::everything());
}
