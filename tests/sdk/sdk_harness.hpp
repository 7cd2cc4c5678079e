// Shared by the SDK integration tests (tests/sdk/*_sdk_test.cpp): a real npm MCP server (or an
// SDK's own example server) started on 127.0.0.1, killed by PID and started again on the same
// port after a pause, and a temporary file for the TypeScript SDK server's --executions-file.
// POSIX only; needs `npm ci` in tests/interop and MCP_RECOVERY_INTEROP_DIR (ctest sets it).
#ifndef MCP_RECOVERY_TESTS_SDK_HARNESS_HPP
#define MCP_RECOVERY_TESTS_SDK_HARNESS_HPP

#include "catch.hpp"
#include "child_process.hpp"
#include "temp_file.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <signal.h>
#include <unistd.h>

namespace sdk_harness {

using mcp_recovery_tests::child_process;
using wall = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::string interop_dir() {
    const char* dir = std::getenv("MCP_RECOVERY_INTEROP_DIR");
    if (!dir || !*dir) FAIL("MCP_RECOVERY_INTEROP_DIR is not set (ctest sets it; run `npm ci` in tests/interop)");
    return dir;
}

using mcp_recovery_tests::temp_file;

/// A server process that prints `LISTENING <port>` on stdout once bound (tests/interop/*.mjs), started
/// with `--port N` appended to `argv` (0 the first time: an ephemeral port; its port on restarts).
class listening_server {
public:
    explicit listening_server(std::vector<std::string> argv) : argv_(std::move(argv)) { start(0); }

    /// A Node script in tests/interop, with extra arguments.
    static std::unique_ptr<listening_server> node(const std::string& script, std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{"node", interop_dir() + "/" + script};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<listening_server>(std::move(argv));
    }

    void start(std::uint16_t port) {
        std::vector<std::string> argv = argv_;
        argv.push_back("--port");
        argv.push_back(std::to_string(port));
        process_ = std::make_unique<child_process>(argv);
        const std::optional<std::string> line = process_->wait_for("LISTENING ", 30s);
        if (!line) FAIL("the server " << argv_.at(1) << " did not report LISTENING within 30 s (port " << port << ")");
        port_ = static_cast<std::uint16_t>(std::stoi(*line));
        started_ = wall::now();
    }

    /// Kills the process with SIGKILL, by PID (a crash: no shutdown code runs), and reaps it.
    void crash() {
        REQUIRE(process_);
        REQUIRE(::kill(process_->pid(), SIGKILL) == 0);
        process_->stop();
        process_.reset();
    }

    /// Crash, `downtime`, then the same program on the same port.
    void restart(std::chrono::milliseconds downtime) {
        crash();
        std::this_thread::sleep_for(downtime);  // the downtime is the scenario, not a synchronisation
        start(port_);
    }

    bool running() const noexcept { return process_ != nullptr; }
    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    wall::time_point started() const noexcept { return started_; }

private:
    std::vector<std::string> argv_;
    std::unique_ptr<child_process> process_;
    std::uint16_t port_ = 0;
    wall::time_point started_{};
};

/// How many times `count {key}` ran on the TypeScript SDK server (each run appends a line that is
/// exactly its key to the --executions-file; the file outlives a SIGKILL).
inline int executions_of(const temp_file& file, const std::string& key) {
    int n = 0;
    for (const std::string& line : file.lines())
        if (line == key) ++n;
    return n;
}

/// How many sessions the TypeScript SDK server opened (one `SESSION <id>` line per initialize).
inline int sessions_opened(const temp_file& file) {
    int n = 0;
    for (const std::string& line : file.lines())
        if (line.rfind("SESSION ", 0) == 0) ++n;
    return n;
}

}  // namespace sdk_harness

#endif
