// Shared by restart_interop_test.cpp (threads, synchronous client) and
// ../beast_async/restart_interop_async_test.cpp (coroutines): a real npm MCP server that is killed
// with SIGKILL (by PID, like a crash) and started again on the same port while callers run; a
// record of every call; the checks and the figures printed for the report. POSIX only.
//
// Needs `npm ci` in tests/interop and MCP_RECOVERY_INTEROP_DIR (ctest sets it).
#ifndef MCP_RECOVERY_TESTS_RESTART_INTEROP_HPP
#define MCP_RECOVERY_TESTS_RESTART_INTEROP_HPP

#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovery_plan.hpp"

#include "catch.hpp"
#include "child_process.hpp"
#include "temp_file.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

namespace restart_interop {

namespace mr = mcp_recovery;
namespace mb = mcp_recovery::beast;
using mcp_recovery_tests::child_process;
using wall = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline double ms_between(wall::time_point from, wall::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

inline std::string interop_dir() {
    const char* dir = std::getenv("MCP_RECOVERY_INTEROP_DIR");
    if (!dir || !*dir) FAIL("MCP_RECOVERY_INTEROP_DIR is not set (ctest sets it; run `npm ci` in tests/interop)");
    return dir;
}

/// Which npm server, and what its tools look like.
struct server_kind {
    std::string name;    // for messages
    std::string script;  // in tests/interop
    bool ts_sdk = false;  // ts_sdk_server.mjs: `count` tool and --executions-file

    static server_kind ts_sdk_server() { return {"TypeScript SDK server", "ts_sdk_server.mjs", true}; }
    static server_kind everything() { return {"server-everything", "start_everything.mjs", false}; }

    mb::request echo(const std::string& text) const {
        const char* arg = ts_sdk ? "text" : "message";
        return {"tools/call", std::string(R"({"name":"echo","arguments":{")") + arg + R"(":")" + text + R"("}})"};
    }
};

inline mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}
inline const mb::request list_tools{"tools/list", "{}"};

using mcp_recovery_tests::temp_file;

/// A Node MCP server: started with `--port PORT`, ready when it prints `LISTENING <port>`.
class node_server {
public:
    node_server(std::string script, std::vector<std::string> extra) : script_(std::move(script)), extra_(std::move(extra)) {
        start(0);
    }

    void start(std::uint16_t port) {
        std::vector<std::string> argv{"node", interop_dir() + "/" + script_, "--port", std::to_string(port)};
        argv.insert(argv.end(), extra_.begin(), extra_.end());
        process_ = std::make_unique<child_process>(argv);
        auto line = process_->wait_for("LISTENING ", 30s);
        listening_at_ = wall::now();
        if (!line) FAIL("the server " << script_ << " did not report LISTENING within 30 s (port " << port << ")");
        port_ = static_cast<std::uint16_t>(std::stoi(*line));
    }

    /// Kills the process with SIGKILL, by PID (a crash: no shutdown code runs), and reaps it.
    void crash() {
        REQUIRE(process_);
        REQUIRE(::kill(process_->pid(), SIGKILL) == 0);
        process_->stop();  // reaps it (the SIGTERM it sends first finds a dead process)
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
    std::uint16_t port() const noexcept { return port_; }
    /// When the running process printed LISTENING (read by this process).
    wall::time_point listening_at() const noexcept { return listening_at_; }

private:
    std::string script_;
    std::vector<std::string> extra_;
    std::unique_ptr<child_process> process_;
    std::uint16_t port_ = 0;
    wall::time_point listening_at_{};
};

enum class call_kind { list, echo, count };
inline const char* name_of(call_kind k) {
    switch (k) {
    case call_kind::list: return "tools/list";
    case call_kind::echo: return "tools/call echo (idempotent)";
    case call_kind::count: return "tools/call count (not idempotent)";
    }
    return "?";
}

/// One finished call.
struct call_record {
    call_kind kind = call_kind::list;
    std::string key;  // count only
    bool ok = false;
    std::error_code code;  // when !ok
    std::string detail;    // when !ok: the last failure
    wall::time_point done{};
};

/// The call a worker makes as its `i`-th: tools/list, echo (annotated idempotent), count with a
/// key unique in the run (only on the TypeScript SDK server; else echo again).
struct planned_call {
    call_kind kind;
    std::string key;
    mb::request request;
    mr::call_options options;
};

inline planned_call plan_call(const server_kind& server, const std::string& worker, int i, std::chrono::seconds timeout) {
    planned_call p{call_kind::list, {}, list_tools, {}};
    p.options.timeout = timeout;
    switch (i % 3) {
    case 0: break;
    case 1:
        p.kind = call_kind::echo;
        p.request = server.echo(worker + "-" + std::to_string(i));
        p.options.annotations = mr::tool_annotations{true, true};
        break;
    default:
        if (server.ts_sdk) {
            p.kind = call_kind::count;
            p.key = worker + "-" + std::to_string(i);
            p.request = count_call(p.key);
        } else {
            p.kind = call_kind::echo;
            p.request = server.echo(worker + "-" + std::to_string(i));
            p.options.annotations = mr::tool_annotations{true, true};
        }
    }
    return p;
}

template <class Result>
call_record record_of(planned_call& p, const Result& r) {
    call_record c;
    c.kind = p.kind;
    c.key = std::move(p.key);
    c.done = wall::now();
    if (r && !r->is_error()) {
        c.ok = true;
    } else if (r) {
        c.detail = "tool error: " + std::string(r->result()).substr(0, 200);
    } else {
        c.code = r.error().code;
        if (r.error().last_failure) c.detail = r.error().last_failure->message.str();
    }
    return c;
}

/// Every finished call, thread-safe; wakes the driver on each success.
class call_log {
public:
    void add(call_record r) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (r.ok) {
                ++successes_;
                if (r.done > last_success_) last_success_ = r.done;
            }
            records_.push_back(std::move(r));
        }
        cv_.notify_all();
    }
    std::uint64_t successes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return successes_;
    }
    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_.size();
    }
    /// Waits (bounded) until at least `n` calls succeeded.
    bool wait_successes(std::uint64_t n, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return successes_ >= n; });
    }
    /// Waits (bounded) until a call succeeded after `t`.
    bool wait_success_after(wall::time_point t, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return last_success_ > t; });
    }
    std::vector<call_record> records() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<call_record> records_;
    std::uint64_t successes_ = 0;
    wall::time_point last_success_{};
};

/// Settings of one run.
struct run_settings {
    int restarts = 3;
    std::chrono::milliseconds downtime = 1000ms;  // between the kill and the start of the new process
    std::uint64_t successes_between = 150;        // successful calls before each kill and after the last start
    std::chrono::seconds call_timeout = 20s;      // per-call deadline
    std::chrono::seconds retry_budget = 15s;      // limited_time
    std::chrono::milliseconds max_wait = 15000ms;  // any wait of the driver for the callers
    double recovery_bound_ms = 5000;               // from LISTENING to the first successful call
};

/// Sets `stop` and joins the threads when the scope ends, a failed REQUIRE included.
class joiner {
public:
    joiner(std::atomic<bool>& stop, std::vector<std::thread>& threads) : stop_(stop), threads_(threads) {}
    ~joiner() { join(); }
    joiner(const joiner&) = delete;
    joiner& operator=(const joiner&) = delete;
    void join() {
        stop_ = true;
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }

private:
    std::atomic<bool>& stop_;
    std::vector<std::thread>& threads_;
};

/// One kill-and-restart, as the driver saw it, plus what the observer and the server counted.
struct restart_event {
    wall::time_point killed{};
    wall::time_point listening{};
    std::uint64_t client_reconnects_before = 0;  // observer counters when the old process was killed
    std::uint64_t client_sessions_before = 0;
};

/// Kills and restarts `server` `settings.restarts` times while callers run; stops them by
/// `stop` at the end. `counters()` reads the client's observer: {reconnects started, succeeded}.
template <class Counters>
std::vector<restart_event> drive_restarts(node_server& server, call_log& log, const run_settings& settings,
                                          std::atomic<bool>& stop, Counters counters) {
    std::vector<restart_event> events;
    for (int k = 0; k < settings.restarts; ++k) {
        INFO("restart " << k + 1);
        const bool flowing = log.wait_successes(log.successes() + settings.successes_between, settings.max_wait);
        if (!flowing) {
            stop = true;
            FAIL("the callers made no progress for " << settings.max_wait.count() << " ms before restart " << k + 1);
        }
        restart_event e;
        const auto c = counters();
        e.client_reconnects_before = c.first;
        e.client_sessions_before = c.second;
        e.killed = wall::now();
        server.crash();
        std::this_thread::sleep_for(settings.downtime);  // the downtime itself, not a synchronisation
        server.start(server.port());
        e.listening = server.listening_at();
        events.push_back(e);
        if (!log.wait_success_after(e.listening, settings.max_wait)) {
            stop = true;
            FAIL("no call succeeded within " << settings.max_wait.count() << " ms of restart " << k + 1);
        }
    }
    const bool flowing = log.wait_successes(log.successes() + settings.successes_between, settings.max_wait);
    stop = true;
    if (!flowing) FAIL("the callers made no progress after the last restart");
    return events;
}

/// What the checks found, for the summary line.
struct run_report {
    std::vector<double> recovery_ms;    // LISTENING -> first successful call, per restart
    std::vector<double> outage_ms;      // last success before the kill -> first success after
    std::size_t calls = 0, failed = 0;
};

/// The client-independent checks: every replay-safe call succeeded, non-idempotent calls failed
/// only as `not_replayable`, recovery within the bound (printed). `executions`: the lines of the
/// TypeScript server's --executions-file, or null for server-everything.
inline run_report check_run(const server_kind& server, const std::vector<call_record>& records,
                            const std::vector<restart_event>& events, const run_settings& settings,
                            const std::vector<std::string>* executions) {
    run_report report;
    report.calls = records.size();
    std::map<std::string, int> failures_by_reason;
    std::size_t replay_safe = 0, replay_safe_failed = 0, counts = 0, counts_failed = 0;
    for (const auto& r : records) {
        const bool safe = r.kind != call_kind::count;
        (safe ? replay_safe : counts) += 1;
        if (r.ok) continue;
        ++report.failed;
        (safe ? replay_safe_failed : counts_failed) += 1;
        std::ostringstream why;
        why << name_of(r.kind) << ": " << (r.code ? r.code.message() : std::string("(no error code)")) << " -- "
            << r.detail;
        ++failures_by_reason[why.str()];
    }
    std::ostringstream summary;
    for (const auto& [why, n] : failures_by_reason) summary << "\n  " << n << " x " << why;
    if (!failures_by_reason.empty()) WARN(server.name << ": failed calls:" << summary.str());
    CHECK(replay_safe > 0);
    {
        INFO("failed calls:" << summary.str());
        CHECK(replay_safe_failed == 0);  // every replay-safe call rides through the restarts
    }
    // A non-idempotent call may only fail as "outcome unknown" (it was on the wire at the kill).
    for (const auto& r : records)
        if (r.kind == call_kind::count && !r.ok) {
            INFO(r.key << ": " << r.code.message() << " -- " << r.detail);
            CHECK(r.code == mr::errc::not_replayable);
        }

    // Recovery: from the restarted server's LISTENING to the first call that succeeded after it.
    for (std::size_t k = 0; k < events.size(); ++k) {
        const auto& e = events[k];
        std::optional<wall::time_point> first_after, last_before;
        for (const auto& r : records) {
            if (!r.ok) continue;
            if (r.done > e.listening && (!first_after || r.done < *first_after)) first_after = r.done;
            if (r.done <= e.killed && (!last_before || r.done > *last_before)) last_before = r.done;
        }
        INFO("restart " << k + 1);
        REQUIRE(first_after);
        const double recovery = ms_between(e.listening, *first_after);
        report.recovery_ms.push_back(recovery);
        report.outage_ms.push_back(last_before ? ms_between(*last_before, *first_after) : 0.0);
        CHECK(recovery < settings.recovery_bound_ms);
    }

    if (executions) {
        // Every key ran at most once; every count call that returned success ran exactly once; one
        // session per process (the first one: connect; then one per restart).
        // The server enforces the lifecycle order (--require-initialized): `EARLY <method>` is a
        // request that reached a session before its notifications/initialized.
        std::map<std::string, int> ran;
        std::size_t sessions = 0, early = 0;
        for (const auto& line : *executions) {
            if (line.rfind("SESSION ", 0) == 0) ++sessions;
            else if (line.rfind("EARLY ", 0) == 0) ++early;
            else if (!line.empty()) ++ran[line];
        }
        CHECK(early == 0);
        std::size_t twice = 0;
        for (const auto& [key, n] : ran)
            if (n > 1) {
                ++twice;
                INFO("key " << key << " ran " << n << " times");
                CHECK(n == 1);
            }
        CHECK(twice == 0);
        std::size_t ok_missing = 0, failed_ran = 0;
        for (const auto& r : records) {
            if (r.kind != call_kind::count) continue;
            const auto it = ran.find(r.key);
            const int n = it == ran.end() ? 0 : it->second;
            if (r.ok && n != 1) {
                ++ok_missing;
                INFO("successful call " << r.key << " ran " << n << " times");
                CHECK(n == 1);
            }
            if (!r.ok && n == 1) ++failed_ran;
        }
        CHECK(ok_missing == 0);
        CHECK(sessions == events.size() + 1);
        WARN(server.name << ": " << counts << " count calls, " << counts_failed << " failed (not_replayable; "
                         << failed_ran << " of them had run before the kill), " << ran.size()
                         << " keys executed, none twice: " << (twice == 0 ? "yes" : "NO") << "; sessions opened "
                         << "on the server: " << sessions << " (expected " << events.size() + 1 << ")");
    }

    std::ostringstream figures;
    figures.setf(std::ios::fixed);
    figures.precision(0);
    for (std::size_t k = 0; k < report.recovery_ms.size(); ++k)
        figures << (k ? ", " : "") << report.recovery_ms[k] << " ms (callers saw no success for "
                << report.outage_ms[k] << " ms)";
    WARN(server.name << ": recovery time, LISTENING of the restarted server -> first successful call, per restart "
                     << "(downtime " << settings.downtime.count() << " ms + process start): " << figures.str()
                     << "; " << report.calls << " calls, " << report.failed << " failed (" << replay_safe
                     << " replay-safe, " << replay_safe_failed << " of them failed)");
    return report;
}

/// Client-side initializes: one session flight per restart, each succeeded. `observer`: the
/// client's counting_observer, read after every call returned.
template <class Observer>
void check_client_sessions(const std::vector<restart_event>& events, const Observer& observer, const std::string& name) {
    const std::uint64_t started = observer.reconnects(), succeeded = observer.reconnects_succeeded();
    std::ostringstream per;
    for (std::size_t k = 0; k < events.size(); ++k) {
        const std::uint64_t next = k + 1 < events.size() ? events[k + 1].client_sessions_before : succeeded;
        per << (k ? ", " : "") << next - events[k].client_sessions_before;
    }
    WARN(name << ": client session flights (initialize) started " << started << ", succeeded " << succeeded
              << " (per restart: " << per.str() << "; expected 1 each); reopen flights succeeded "
              << observer.reopens_succeeded() << ", failed " << observer.reopens_failed() << "; failures seen: "
              << observer.failures(mr::failure_kind::connection_lost) << " connection_lost, "
              << observer.failures(mr::failure_kind::session_expired) << " session_expired, "
              << observer.failures() << " in all; retries " << observer.retries() << ", recovered calls "
              << observer.recovered());
    CHECK(succeeded == events.size());
    CHECK(started == events.size());
}

}  // namespace restart_interop

#endif
