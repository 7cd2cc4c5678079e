// The recovery demo: what mcp-recovery does when an MCP server forgets the session of a client
// used by many threads at once, and what it refuses to do (replay a write whose outcome is
// unknown). Runs against the in-memory scripted transport; prints a report and exits 0 when
// every expectation held.
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
using client_type = recovering_client<testing::scripted_transport, default_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;
int failures = 0;

void expect(bool ok, const char* what) {
    std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
    if (!ok) ++failures;
}

}  // namespace

int main() {
    std::printf("mcp-recovery demo: session loss under concurrent callers\n\n");

    {
        std::printf("1. The server forgets the session (404 -32001 \"Session not found\") while 64 threads call\n");
        client_type client{std::in_place};
        client.transport().expire_session();
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < 64; ++i)
            threads.emplace_back([&] {
                if (client.try_call({"tools/list", "list"})) ok.fetch_add(1);
            });
        for (auto& t : threads) t.join();
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("  calls succeeded: %d/64, initialize performed: %zu, wall time %.2f ms\n", ok.load(),
                    client.transport().reconnects(), ms);
        expect(ok.load() == 64, "every caller got its answer");
        expect(client.transport().reconnects() == 1, "exactly one re-initialize for all 64 callers");
    }
    {
        std::printf("\n2. A tools/call loses its connection after it was written (delivery unknown)\n");
        client_type client{std::in_place};
        client.transport().fail_next(testing::failures::reset_after_write());
        auto r = client.try_call({"tools/call", "transfer-funds"});
        std::printf("  outcome: %s\n", r ? "replayed" : r.error().code.message().c_str());
        expect(!r && r.error().code == errc::not_replayable, "not replayed: the application learns 'outcome unknown'");
        expect(client.transport().executions("transfer-funds") == 1, "executed at most once");
    }
    {
        std::printf("\n3. The same failure on an idempotent tools/list\n");
        client_type client{std::in_place};
        client.transport().fail_next(testing::failures::reset_after_write());
        auto r = client.try_call({"tools/list", "list"});
        expect(r.has_value(), "replayed after a reconnect, and succeeded");
    }
    {
        std::printf("\n4. A server that answers 400 \"Bad Request: No valid session ID provided\" (server-everything)\n");
        client_type client{std::in_place};
        failure f;
        f.http_status = 400;
        f.jsonrpc_code = -32000;
        f.message = "Bad Request: No valid session ID provided";
        f.had_session_id = true;
        f.delivered = delivery::rejected;
        client.transport().expire_session(f);
        auto r = client.try_call({"tools/call", "write"});
        expect(r.has_value() && client.transport().reconnects() == 1, "recognised as session loss and recovered");
    }

    std::printf("\nverdict: %s\n", failures == 0 ? "recovery works" : "RECOVERY FAILED");
    return failures == 0 ? 0 : 1;
}
