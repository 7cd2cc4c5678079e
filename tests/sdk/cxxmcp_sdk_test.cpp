// caomengxuan666/cxxmcp's real HTTP client, wrapped as examples/wrappers/cxxmcp_wrapper.hpp does,
// against real npm servers killed (SIGKILL) and restarted on the same port:
//   - ts_sdk_server.mjs (TypeScript SDK server): a stale session id gets 404 "Session not found";
//   - server-everything: a stale session id gets 400 "Bad Request: No valid session ID provided".
// Built only with -DMCP_RECOVERY_SDK_CXXMCP_DIR=<cxxmcp source>. Prints one result line per
// scenario: SDK, commit, server, scenario, reconnects (ours), calls ok.
#include "cxxmcp_wrapper.hpp"

#include "catch.hpp"
#include "sdk_harness.hpp"

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#ifndef MCPR_CXXMCP_COMMIT
#define MCPR_CXXMCP_COMMIT "unknown"
#endif

using namespace std::chrono_literals;
using namespace mcp_recovery;
using sdk_harness::listening_server;
using sdk_harness::temp_file;
namespace wrap = mcp_recovery_wrappers::cxxmcp_sdk;

namespace {

// Failed reconnect flights back off 50 ms doubling to 1 s; every call is bounded by a timeout,
// every HTTP exchange of the SDK by HttpTransportOptions::timeout.
using client_t = wrap::client<counting_observer>;

mcp::client::HttpTransportOptions endpoint(const listening_server& server) {
    mcp::client::HttpTransportOptions o;
    o.uri = server.base_url() + "/mcp";
    o.timeout = std::chrono::seconds(10);
    return o;
}

struct server_kind {
    const char* name;     // for the result lines
    const char* script;   // tests/interop/<script>
    bool executions_file; // ts_sdk_server.mjs --executions-file
};

constexpr server_kind ts_sdk{"ts_sdk_server", "ts_sdk_server.mjs", true};
constexpr server_kind everything{"server-everything", "start_everything.mjs", false};

call_options bounded(std::chrono::seconds s = 20s) {
    call_options o;
    o.timeout = s;
    return o;
}

std::string describe(const mcp::core::Error& e) {
    std::ostringstream s;
    s << "code " << e.code << ", message \"" << e.message << "\", detail \"" << e.detail << "\", category \""
      << e.category << "\"";
    return s.str();
}

/// What presets::cxxmcp with sdk_classifier makes of an SDK error: without a session id (as from
/// initialize), and as the wrapper's send translates it (the request carried a session id).
std::string translated(const mcp::core::Error& e) {
    const failure p = wrap::translate(e, false);
    const failure w = wrap::translate(e, true);
    const classification pk = callable::sdk_classifier{}.classify(p);
    const classification wk = callable::sdk_classifier{}.classify(w);
    std::ostringstream s;
    s << "preset: http " << p.http_status << ", jsonrpc "
      << (p.jsonrpc_code ? std::to_string(*p.jsonrpc_code) : std::string("-")) << ", " << to_string(pk.kind) << ", "
      << to_string(pk.delivery_of(p)) << "; wrapper: " << to_string(wk.kind) << ", " << to_string(wk.delivery_of(w))
      << ", transport_error \"" << w.transport_error.message() << "\"";
    return s.str();
}

std::string describe(const call_error& e) {
    std::ostringstream s;
    s << e.code.message();
    if (e.last_failure) {
        const failure& f = *e.last_failure;
        s << " (last failure: http " << f.http_status << ", jsonrpc "
          << (f.jsonrpc_code ? std::to_string(*f.jsonrpc_code) : std::string("-")) << ", \"" << f.message.view()
          << "\", delivered " << to_string(f.delivered) << ", transport_error " << f.transport_error.message() << ")";
    }
    return s.str();
}

void result_line(const server_kind& server, const std::string& scenario, std::uint64_t reconnects, int ok, int of) {
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    std::cout << "RESULT | cxxmcp | " << MCPR_CXXMCP_COMMIT << " | " << server.name << " | " << scenario << " | "
              << reconnects << " | " << ok << "/" << of << std::endl;
}

wrap::rpc_request tools_list() { return {"tools/list", mcp::protocol::Json::object()}; }

wrap::rpc_request count(const std::string& key) {
    return {"tools/call", mcp::protocol::Json{{"name", "count"}, {"arguments", {{"key", key}}}}};
}

// server-everything has no `count`: its `echo`, a tools/call all the same (not idempotent by default).
wrap::rpc_request echo(const std::string& text) {
    return {"tools/call", mcp::protocol::Json{{"name", "echo"}, {"arguments", {{"message", text}}}}};
}

/// cxxmcp 43507d3 sends Content-Type twice on every POST (its own header, and cpp-httplib's for the
/// body: "Content-Type: application/json" x 2). The TypeScript SDK's server transport (1.32, used by
/// both servers) sees "application/json, application/json" and answers 415 "Unsupported Media
/// Type: Content-Type must be application/json": not even initialize succeeds (see the
/// "[content-type]" test case). To exercise recovery at all, the servers run with this preload,
/// which drops the second Content-Type header of each request before the SDK reads it; nothing
/// else of the server changes.
class content_type_shim {
public:
    content_type_shim()
        : path_((std::filesystem::temp_directory_path() /
                 ("mcpr-cxxmcp-content-type-" + std::to_string(::getpid()) + ".mjs"))
                    .string()) {
        std::ofstream out(path_);
        out << R"js(import http from 'node:http';
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, ...rest) {
    if (event === 'request' && req && Array.isArray(req.rawHeaders)) {
        let seen = false;
        const raw = [];
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
            if (req.rawHeaders[i].toLowerCase() === 'content-type') {
                if (seen) continue;
                seen = true;
            }
            raw.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
        }
        Object.defineProperty(req, 'rawHeaders', { value: raw, configurable: true, writable: true });
    }
    return emit.call(this, event, req, ...rest);
};
)js";
        REQUIRE(out.good());
    }
    ~content_type_shim() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    content_type_shim(const content_type_shim&) = delete;
    content_type_shim& operator=(const content_type_shim&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

std::unique_ptr<listening_server> start(const server_kind& kind, const temp_file& executions,
                                        const content_type_shim* shim) {
    std::vector<std::string> argv{"node"};
    if (shim) argv.push_back("--import=" + shim->path());
    argv.push_back(sdk_harness::interop_dir() + "/" + kind.script);
    if (kind.executions_file) {
        argv.push_back("--executions-file");
        argv.push_back(executions.path());
    }
    return std::make_unique<listening_server>(std::move(argv));
}

/// The whole story against one server: initialize + tools/list, crash, a call while down, restart
/// after ~1 s, 8 threads x tools/list, restart, a tools/call that must run exactly once.
void run_story(const server_kind& kind) {
    temp_file executions("cxxmcp-executions");
    content_type_shim shim;
    std::unique_ptr<listening_server> server = start(kind, executions, &shim);

    client_t client{wrap::make_transport(endpoint(*server))};
    counting_observer& seen = client.observer();

    {
        auto r = client.try_call(tools_list(), bounded());
        INFO((r ? std::string() : describe(r.error())));
        REQUIRE(r);
        CHECK(r->contains("tools"));
        CHECK(seen.reconnects() == 0);  // make_transport's initialize worked
        result_line(kind, "initialize + tools/list", seen.reconnects_succeeded(), 1, 1);
    }

    // Crash; a call while the server is down fails (bounded), and says why.
    server->crash();
    {
        const std::uint64_t before = seen.reconnects_succeeded();
        const std::uint64_t failed_before = seen.reconnects_failed();
        auto r = client.try_call(tools_list(), bounded(5s));
        CHECK_FALSE(r);
        if (!r) std::cout << "cxxmcp while down: " << describe(r.error()) << std::endl;
        result_line(kind,
                    "tools/list while down (failed reconnects: " +
                        std::to_string(seen.reconnects_failed() - failed_before) + ")",
                    seen.reconnects_succeeded() - before, r ? 1 : 0, 1);
    }
    std::this_thread::sleep_for(1s);  // the downtime is the scenario, not a synchronisation
    server->start(server->port());

    // 8 threads at once on the dead session: one reconnect for all (when the SDK does not absorb it).
    {
        const std::uint64_t before = seen.reconnects_succeeded();
        const int sessions_before = kind.executions_file ? sdk_harness::sessions_opened(executions) : 0;
        std::atomic<int> ok{0};
        std::vector<std::string> errors(8);
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                auto r = client.try_call(tools_list(), bounded());
                if (r) ok.fetch_add(1);
                else errors[static_cast<std::size_t>(i)] = describe(r.error());
            });
        for (std::thread& t : threads) t.join();
        for (const std::string& e : errors)
            if (!e.empty()) std::cout << "cxxmcp 8 threads error: " << e << std::endl;
        const std::uint64_t reconnects = seen.reconnects_succeeded() - before;
        result_line(kind, "restart + 8 threads x tools/list", reconnects, ok.load(), 8);
        if (kind.executions_file)
            std::cout << "cxxmcp sessions opened on ts_sdk_server by the 8 threads: "
                      << sdk_harness::sessions_opened(executions) - sessions_before << std::endl;
        CHECK(ok.load() == 8);
        CHECK(reconnects <= 1);
        if (!kind.executions_file) CHECK(reconnects == 1);  // the 400 reaches us: exactly one reconnect
    }

    // Another restart; a non-idempotent tools/call runs exactly once.
    server->restart(1000ms);
    {
        const std::uint64_t before = seen.reconnects_succeeded();
        const std::string key = std::string("cxxmcp-") + kind.name + "-" + std::to_string(::getpid());
        auto r = client.try_call(kind.executions_file ? count(key) : echo(key), bounded());
        if (!r) std::cout << "cxxmcp tools/call error: " << describe(r.error()) << std::endl;
        const std::uint64_t reconnects = seen.reconnects_succeeded() - before;
        result_line(kind,
                    kind.executions_file ? "restart + tools/call count (non-idempotent)"
                                         : "restart + tools/call echo (non-idempotent)",
                    reconnects, r ? 1 : 0, 1);
        REQUIRE(r);
        INFO(r->dump());
        CHECK(r->dump().find(key) != std::string::npos);
        if (kind.executions_file) {
            CHECK(sdk_harness::executions_of(executions, key) == 1);
            std::cout << "cxxmcp executions of " << key << ": " << sdk_harness::executions_of(executions, key)
                      << std::endl;
        } else {
            CHECK(reconnects == 1);
        }
    }
}

}  // namespace

TEST_CASE("cxxmcp, ts_sdk_server (404): crash, call while down, restart, 8 threads, tools/call once",
          "[sdk][cxxmcp][real]") {
    run_story(ts_sdk);
}

TEST_CASE("cxxmcp, server-everything (400): crash, call while down, restart, 8 threads, tools/call",
          "[sdk][cxxmcp][real]") {
    run_story(everything);
}

// What the SDK itself does, unwrapped: the errors it returns, and whether it recovers by itself.
TEST_CASE("cxxmcp unwrapped: what a Client returns when the server is down and after a restart",
          "[sdk][cxxmcp][real][probe]") {
    for (const server_kind* kind : {&ts_sdk, &everything}) {
        temp_file executions("cxxmcp-probe");
        content_type_shim shim;
        std::unique_ptr<listening_server> server = start(*kind, executions, &shim);
        mcp::client::Client c(std::make_unique<mcp::client::HttpTransport>(endpoint(*server)));
        auto init = c.initialize("probe", "1.0");
        if (!init) FAIL("initialize: " << describe(init.error()));
        REQUIRE(c.notify_initialized());
        REQUIRE(c.list_tools());

        server->crash();
        auto down = c.list_tools();
        REQUIRE_FALSE(down);
        std::cout << "PROBE " << kind->name << " down: " << describe(down.error()) << std::endl;
        std::cout << "PROBE " << kind->name << " down translated: " << translated(down.error()) << std::endl;
        std::this_thread::sleep_for(1s);
        server->start(server->port());

        for (int i = 1; i <= 2; ++i) {
            auto after = c.list_tools();
            std::cout << "PROBE " << kind->name << " after restart, same Client, call " << i << ": "
                      << (after ? std::string("ok") : describe(after.error())) << std::endl;
            if (!after) std::cout << "PROBE " << kind->name << " translated: " << translated(after.error()) << std::endl;
        }
        if (kind->executions_file)
            std::cout << "PROBE " << kind->name << " sessions opened: " << sdk_harness::sessions_opened(executions)
                      << std::endl;
        // The same for a tools/call (non-idempotent) after another restart.
        server->restart(1000ms);
        const std::string key = "probe-" + std::string(kind->name) + "-" + std::to_string(::getpid());
        mcp::protocol::ToolCall call;
        call.name = "count";
        call.arguments = mcp::protocol::Json{{"key", key}};
        auto called = c.call_tool(call);
        std::cout << "PROBE " << kind->name << " tools/call after restart, same Client: "
                  << (called ? std::string("ok") : describe(called.error()));
        if (kind->executions_file) std::cout << ", executions " << sdk_harness::executions_of(executions, key);
        std::cout << std::endl;
        if (!called) std::cout << "PROBE " << kind->name << " translated: " << translated(called.error()) << std::endl;
    }
}

// The bug the shim works around: without it, initialize fails. When this fails, cxxmcp sends one
// Content-Type: drop the shim.
TEST_CASE("cxxmcp 43507d3 sends Content-Type twice: TypeScript SDK servers answer 415 to initialize",
          "[sdk][cxxmcp][real][content-type]") {
    temp_file executions("cxxmcp-ct");
    std::unique_ptr<listening_server> server = start(ts_sdk, executions, nullptr);
    mcp::client::Client c(std::make_unique<mcp::client::HttpTransport>(endpoint(*server)));
    auto init = c.initialize("probe", "1.0");
    REQUIRE_FALSE(init);
    std::cout << "PROBE without the shim, initialize: " << describe(init.error()) << std::endl;
    CHECK(init.error().message == "Unsupported Media Type: Content-Type must be application/json");
}
