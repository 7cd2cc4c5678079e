// The documented fastmcpp wrapper (examples/wrappers/fastmcpp_wrapper.hpp) around the REAL
// 0xeb/fastmcpp client, against real npm MCP servers on 127.0.0.1 that are killed (SIGKILL) and
// restarted on the same port (tests/sdk/sdk_harness.hpp):
//   - server-everything (start_everything.mjs): answers a stale session id with 400;
//   - ts_sdk_server.mjs (TypeScript SDK): answers it with 404, and records every execution of its
//     non-idempotent `count` tool in --executions-file.
// Built twice by tests/sdk/fastmcpp.cmake: against a copy of the SDK's transports.cpp without its
// duplicate Content-Type header (MCPR_FASTMCPP_AS_SHIPPED=0: the recovery scenarios), and against
// transports.cpp as shipped (=1: every request gets 415, which must end calls at once).
// Each scenario prints a results line: "RESULT | SDK | commit | server | scenario | reconnects | calls ok |".
#include "fastmcpp_wrapper.hpp"

#include "sdk_harness.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifndef MCPR_FASTMCPP_AS_SHIPPED
#define MCPR_FASTMCPP_AS_SHIPPED 0
#endif
#ifndef MCPR_FASTMCPP_VERSION
#define MCPR_FASTMCPP_VERSION "?"
#endif
#ifndef MCPR_FASTMCPP_COMMIT
#define MCPR_FASTMCPP_COMMIT "unknown"
#endif

namespace fw = mcp_recovery_wrappers::fastmcpp_sdk;
using mcp_recovery::errc;
using mcp_recovery::failure_kind;
using sdk_harness::listening_server;
using sdk_harness::temp_file;
using namespace std::chrono_literals;

namespace {

using test_client = fw::client<mcp_recovery::counting_observer>;

/// Bounds the recovery of every call (the SDK's own blocking call cannot be interrupted; against
/// a local server that is up or down it returns at once).
mcp_recovery::call_options bounded() {
    mcp_recovery::call_options o;
    o.timeout = std::chrono::seconds(20);
    return o;
}

fw::rpc_request list_tools() { return {"tools/list", fastmcpp::Json::object()}; }

std::string describe(const test_client::result_type& r) {
    if (r) return "ok";
    std::string s = r.error().code.message();
    if (r.error().last_failure) s += "; last failure: " + r.error().last_failure->message.str();
    return s;
}

std::string last_message(const test_client::result_type& r) {
    if (r || !r.error().last_failure) return {};
    return r.error().last_failure->message.str();
}

void result_line(const std::string& server, const std::string& scenario, std::uint64_t reconnects, int ok,
                 int calls) {
    std::cout << "RESULT | fastmcpp " MCPR_FASTMCPP_VERSION " | " MCPR_FASTMCPP_COMMIT
              << (MCPR_FASTMCPP_AS_SHIPPED ? " (as shipped)" : " (duplicate Content-Type removed)") << " | " << server
              << " | " << scenario << " | " << reconnects << " | " << ok << "/" << calls << " |" << std::endl;
}

#if !MCPR_FASTMCPP_AS_SHIPPED

fw::rpc_request call_tool(const std::string& name, const std::string& argument, const std::string& value) {
    fw::rpc_request r{"tools/call", fastmcpp::Json::object()};
    r.params["name"] = name;
    r.params["arguments"][argument] = value;
    return r;
}

long long ms_since(std::chrono::steady_clock::time_point t0) {
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
}

/// Holds `n` threads until all have arrived (std::latch is C++20).
class start_line {
public:
    explicit start_line(std::size_t n) : waiting_(n) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (--waiting_ == 0) cv_.notify_all();
        else cv_.wait(lock, [this] { return waiting_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t waiting_;
};

/// `threads` callers, each one `request` through `client` at the same time; how many succeeded.
int concurrent_calls(test_client& client, const fw::rpc_request& request, int threads) {
    start_line line(static_cast<std::size_t>(threads));
    std::atomic<int> ok{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> callers;
    for (int i = 0; i < threads; ++i)
        callers.emplace_back([&] {
            line.arrive_and_wait();
            auto r = client.try_call(request, bounded());
            if (r) {
                ok.fetch_add(1);
            } else {
                std::lock_guard<std::mutex> lock(failures_mutex);
                failures.push_back(describe(r));
            }
        });
    for (std::thread& t : callers) t.join();
    for (const std::string& f : failures) std::cout << "  a caller failed: " << f << std::endl;
    return ok.load();
}

/// initialize + tools/list, crash, one call while down, restart after 1 s, 8 threads x tools/list,
/// then a restart and one `tool` call (not idempotent: replayed only because it was refused).
void restart_scenario(listening_server& server, const std::string& name, const fw::rpc_request& tool) {
    test_client client{fw::make_transport({server.base_url(), "/mcp"})};
    auto& seen = client.observer();

    auto first = client.try_call(list_tools(), bounded());
    INFO("first tools/list: " << describe(first));
    REQUIRE(first);
    CHECK(seen.reconnects() == 0);  // make_transport's initialize succeeded
    result_line(name, "initialize + tools/list", seen.reconnects(), 1, 1);

    // Down: the call fails as a lost connection; its one reconnect fails too.
    server.crash();
    auto t0 = std::chrono::steady_clock::now();
    auto down = client.try_call(list_tools(), bounded());
    std::cout << "server down, tools/list: " << describe(down) << " (took " << ms_since(t0) << " ms)" << std::endl;
    REQUIRE_FALSE(down);
    CHECK(down.error().code == errc::reconnect_failed);
    CHECK(last_message(down) == "StreamableHttp request failed: no response");
    CHECK(seen.failures(failure_kind::connection_lost) == 1);
    CHECK(seen.reconnects() == 1);
    CHECK(seen.reconnects_failed() == 1);
    result_line(name, "server down: tools/list (" + down.error().code.message() + ")", seen.reconnects(), 0, 1);

    // Back on the same port after 1 s; 8 callers find the stale session together.
    std::this_thread::sleep_for(1s);  // the downtime is the scenario, not a synchronisation
    server.start(server.port());
    const std::uint64_t before = seen.reconnects();
    t0 = std::chrono::steady_clock::now();
    const int ok = concurrent_calls(client, list_tools(), 8);
    const std::uint64_t during = seen.reconnects() - before;
    std::cout << "after the restart, 8 threads x tools/list took " << ms_since(t0) << " ms" << std::endl;
    CHECK(ok == 8);
    CHECK(during == 1);
    CHECK(seen.failures(failure_kind::session_expired) >= 1);
    result_line(name, "restart after 1 s, 8 threads x tools/list", during, ok, 8);

    // Another restart, then a call that is not idempotent.
    server.restart(1000ms);
    const std::uint64_t before_tool = seen.reconnects();
    auto once = client.try_call(tool, bounded());
    std::cout << "after a restart, tools/call: " << describe(once) << std::endl;
    CHECK(once);
    CHECK(seen.reconnects() - before_tool == 1);
    result_line(name, "restart, tools/call (not idempotent)", seen.reconnects() - before_tool, once ? 1 : 0, 1);
}

}  // namespace

TEST_CASE("fastmcpp (real SDK) recovers from restarts of server-everything (stale session: 400)",
          "[sdk][fastmcpp][real]") {
    auto server = listening_server::node("start_everything.mjs");
    restart_scenario(*server, "server-everything (400 dialect)", call_tool("echo", "message", "after a restart"));
}

TEST_CASE("fastmcpp (real SDK) recovers from restarts of the TypeScript SDK server (stale session: 404); "
          "a refused tools/call runs once",
          "[sdk][fastmcpp][real]") {
    temp_file executions("fastmcpp-executions");
    auto server = listening_server::node("ts_sdk_server.mjs", {"--executions-file", executions.path()});
    const std::string key = "fastmcpp-" + std::to_string(::getpid()) + "-" +
                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    restart_scenario(*server, "ts_sdk_server (404 dialect)", call_tool("count", "key", key));
    const int runs = sdk_harness::executions_of(executions, key);
    std::cout << "count {" << key << "} ran " << runs << " time(s); sessions opened: "
              << sdk_harness::sessions_opened(executions) << std::endl;
    CHECK(runs == 1);
    result_line("ts_sdk_server (404 dialect)", "executions of that tools/call (executions file)", 0, runs, 1);
}

#else  // MCPR_FASTMCPP_AS_SHIPPED

/// fastmcpp as shipped sends Content-Type twice: TypeScript SDK 1.32.2 servers answer 415 to the
/// first initialize. Each call reports it after one connect attempt: no reconnect loop.
void as_shipped_scenario(listening_server& server, const std::string& name) {
    test_client client{fw::make_transport({server.base_url(), "/mcp"})};  // its initialize got 415
    auto& seen = client.observer();
    for (int call = 1; call <= 2; ++call) {
        auto r = client.try_call(list_tools(), bounded());
        std::cout << "as shipped, tools/list #" << call << ": " << describe(r) << std::endl;
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        CHECK(last_message(r) == "StreamableHttp error: 415");
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->http_status == 415);
        CHECK(seen.reconnects() == static_cast<std::uint64_t>(call));
    }
    result_line(name, "as shipped: 2 x tools/list, each initialize refused with 415", seen.reconnects(), 0, 2);
}

}  // namespace

TEST_CASE("fastmcpp (real SDK) as shipped: server-everything refuses every request with 415",
          "[sdk][fastmcpp][real][as-shipped]") {
    auto server = listening_server::node("start_everything.mjs");
    as_shipped_scenario(*server, "server-everything (400 dialect)");
}

TEST_CASE("fastmcpp (real SDK) as shipped: the TypeScript SDK server refuses every request with 415",
          "[sdk][fastmcpp][real][as-shipped]") {
    temp_file executions("fastmcpp-executions");
    auto server = listening_server::node("ts_sdk_server.mjs", {"--executions-file", executions.path()});
    as_shipped_scenario(*server, "ts_sdk_server (404 dialect)");
    CHECK(sdk_harness::sessions_opened(executions) == 0);
}

#endif
