// Outage benchmark (issue 10), against the in-process flaky_server over loopback:
//  1. outages: `go_down()` (the listener closes, connects are refused, every session is
//     forgotten, as when the server process is killed), then `come_back()` after 0.2, 0.5, 1, 2,
//     3, 5 and 10 s, while 16 threads call through ONE synchronous recovering_client (limited_time
//     retry, a per-call timeout longer than the outage) -- and 64 coroutines through one
//     async_recovering_client where Asio has co_await. Per outage: the time from `come_back()` to
//     the first successful call, initializes performed (expected 1), calls succeeded and failed
//     (replay-safe ones: expected 0 failures; non-idempotent ones may fail as not_replayable when
//     they were on the wire at `go_down()`), the reopen flights, and the reconnector's backoff cap
//     (1 s) for comparison: the worst wait after the server is back should be about that cap;
//  2. a connection reset with the session intact (`fault::reset_before_execute()` on one call):
//     the time of that recovered call against a normal call (medians, ratio), and initializes
//     (expected 0: a new connection, the same session).
// Prints markdown tables; `--csv DIR` also writes DIR/outage.csv (bench/plot.py draws
// docs/img/recovery-vs-outage.svg from it). `--quick`: only the 0.2 s and 1 s outages and 20
// resets, for smoke runs.
// The exit code is non-zero only when an expectation fails (one initialize per outage, none per
// reset, every replay-safe call succeeded, no non-idempotent call ran twice), never on timing.
#include <utility>

#include "mcp_recovery/beast/async_client.hpp"  // defines MCP_RECOVERY_BEAST_HAS_ASYNC where Asio has co_await
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using bench_clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms(bench_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

constexpr int sync_callers = 16;
constexpr int async_callers = 64;
constexpr auto retry_budget = 40s;  // limited_time: longer than the longest outage
constexpr auto call_timeout = 45s;  // per call
constexpr std::uint64_t successes_between = 300;  // successful calls before each outage and after it
constexpr auto max_wait = 60s;                     // any wait of the driver for the callers

// ---- the callers' calls and what became of them ----

enum class call_kind { list, echo, count };

struct planned_call {
    call_kind kind = call_kind::list;
    std::string key;  // count only
    mb::request request;
    call_options options;
};

// The i-th call of a caller: tools/list, echo annotated idempotent, count (not idempotent) with a
// key unique in the run.
planned_call plan_call(const std::string& caller, std::uint64_t i) {
    planned_call p;
    p.options.timeout = call_timeout;
    const std::string id = caller + "-" + std::to_string(i);
    switch (i % 3) {
    case 0: p.request = {"tools/list", "{}"}; break;
    case 1:
        p.kind = call_kind::echo;
        p.request = {"tools/call", R"({"name":"echo","arguments":{"text":")" + id + R"("}})"};
        p.options.annotations = tool_annotations{true, true};
        break;
    default:
        p.kind = call_kind::count;
        p.key = id;
        p.request = {"tools/call", R"({"name":"count","arguments":{"key":")" + id + R"("}})"};
    }
    return p;
}

/// What the callers did, thread-safe; wakes the driver on each success.
class tally {
public:
    template <class Result>
    void add(planned_call& p, const Result& r) {
        const bool ok = r && !r->is_error();
        const auto now = bench_clock::now();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (ok) {
                ++ok_;
                last_ok_ = now;
                if (now > watch_from_ && first_after_ == bench_clock::time_point{}) first_after_ = now;
                if (p.kind == call_kind::count) ok_keys_.push_back(std::move(p.key));
            } else if (p.kind != call_kind::count) {
                ++safe_failed_;
                ++reasons_[reason(r)];
            } else {
                // A non-idempotent call may fail as "outcome unknown" (on the wire when the server
                // went down); anything else is unexpected.
                if (!r && r.error().code == errc::not_replayable) ++unsafe_unknown_;
                else {
                    ++unsafe_other_;
                    ++reasons_[reason(r)];
                }
                failed_keys_.push_back(std::move(p.key));
            }
        }
        cv_.notify_all();
    }

    struct counts {
        std::uint64_t ok = 0, safe_failed = 0, unsafe_unknown = 0, unsafe_other = 0;
    };
    counts now() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return {ok_, safe_failed_, unsafe_unknown_, unsafe_other_};
    }
    bool wait_successes(std::uint64_t more, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        const std::uint64_t target = ok_ + more;
        return cv_.wait_for(lock, timeout, [&] { return ok_ >= target; });
    }
    /// The first success after `t` (bounded wait), or nothing.
    bool wait_success_after(bench_clock::time_point t, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return last_ok_ > t; });
    }
    /// Records the time of the first success after `t` from now on.
    void watch_from(bench_clock::time_point t) {
        std::lock_guard<std::mutex> lock(mutex_);
        watch_from_ = t;
        first_after_ = bench_clock::time_point{};
    }
    bench_clock::time_point first_after() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return first_after_;
    }
    std::vector<std::string> ok_keys() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return ok_keys_;
    }
    std::vector<std::string> failed_keys() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return failed_keys_;
    }
    std::map<std::string, std::uint64_t> reasons() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return reasons_;
    }

private:
    template <class Result>
    static std::string reason(const Result& r) {
        if (r) return "tool error";
        std::string s = r.error().code.message();
        if (r.error().last_failure) s += " -- " + r.error().last_failure->message.str();
        return s;
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::uint64_t ok_ = 0, safe_failed_ = 0, unsafe_unknown_ = 0, unsafe_other_ = 0;
    bench_clock::time_point last_ok_{}, watch_from_ = bench_clock::time_point::max(), first_after_{};
    std::vector<std::string> ok_keys_, failed_keys_;
    std::map<std::string, std::uint64_t> reasons_;
};

// ---- outages ----

struct observer_counts {
    std::uint64_t session_flights = 0, reopens_ok = 0, reopens_failed = 0;
};

struct outage_row {
    std::chrono::milliseconds outage{};
    double back_to_first_ok_ms = -1;  // come_back() -> first successful call; -1: none
    double down_to_first_ok_ms = -1;  // go_down() -> first successful call
    std::uint64_t initializes = 0;
    std::uint64_t lost_session_answers_while_going_down = 0;  // 404s sent between go_down()'s call and return
    std::uint64_t session_flights = 0, reopens_ok = 0, reopens_failed = 0;
    tally::counts calls;
};

/// One outage of `d` while the callers run; `observed()` reads the client's observer.
outage_row one_outage(fs::flaky_server& server, tally& t, std::chrono::milliseconds d,
                      const std::function<observer_counts()>& observed, int& failures) {
    outage_row row;
    row.outage = d;
    if (!t.wait_successes(successes_between, max_wait)) {
        std::printf("FAILED: no progress before the %lld ms outage\n", static_cast<long long>(d.count()));
        ++failures;
        return row;
    }
    const tally::counts calls_before = t.now();
    const observer_counts obs_before = observed();
    const std::uint64_t init_before = server.initializes();

    const std::uint64_t lost_before = server.lost_session_answers();
    const auto down_at = bench_clock::now();
    server.go_down();
    row.lost_session_answers_while_going_down = server.lost_session_answers() - lost_before;
    std::this_thread::sleep_for(d);  // the outage itself
    const auto back_at = bench_clock::now();  // come_back() listens again within microseconds
    t.watch_from(back_at);
    server.come_back();
    if (!t.wait_success_after(back_at, d + max_wait)) {
        std::printf("FAILED: no successful call after the %lld ms outage\n", static_cast<long long>(d.count()));
        ++failures;
        return row;
    }
    const auto first = t.first_after();
    row.back_to_first_ok_ms = ms(first - back_at);
    row.down_to_first_ok_ms = ms(first - down_at);
    if (!t.wait_successes(successes_between, max_wait)) {
        std::printf("FAILED: no progress after the %lld ms outage\n", static_cast<long long>(d.count()));
        ++failures;
    }
    const tally::counts calls_after = t.now();
    const observer_counts obs_after = observed();
    row.initializes = server.initializes() - init_before;
    row.session_flights = obs_after.session_flights - obs_before.session_flights;
    row.reopens_ok = obs_after.reopens_ok - obs_before.reopens_ok;
    row.reopens_failed = obs_after.reopens_failed - obs_before.reopens_failed;
    row.calls.ok = calls_after.ok - calls_before.ok;
    row.calls.safe_failed = calls_after.safe_failed - calls_before.safe_failed;
    row.calls.unsafe_unknown = calls_after.unsafe_unknown - calls_before.unsafe_unknown;
    row.calls.unsafe_other = calls_after.unsafe_other - calls_before.unsafe_other;
    return row;
}

/// The expectations of a whole run: one initialize per outage, every replay-safe call succeeded,
/// non-idempotent calls failed only as not_replayable and never ran twice, every successful one
/// ran exactly once.
void check_outages(const char* who, const std::vector<outage_row>& rows, const tally& t, const fs::flaky_server& server,
                   int& failures) {
    for (const auto& r : rows) {
        if (r.initializes != 1) {
            std::printf("FAILED (%s): %llu initializes for the %lld ms outage, expected 1\n", who,
                        static_cast<unsigned long long>(r.initializes), static_cast<long long>(r.outage.count()));
            ++failures;
        }
    }
    const tally::counts c = t.now();
    if (c.safe_failed != 0 || c.unsafe_other != 0) {
        std::printf("FAILED (%s): %llu replay-safe calls failed, %llu non-idempotent calls failed other than "
                    "not_replayable:\n",
                    who, static_cast<unsigned long long>(c.safe_failed), static_cast<unsigned long long>(c.unsafe_other));
        for (const auto& [why, n] : t.reasons()) std::printf("  %llu x %s\n", static_cast<unsigned long long>(n), why.c_str());
        ++failures;
    }
    std::uint64_t wrong = 0, failed_ran = 0;
    for (const auto& key : t.ok_keys())
        if (server.executions(key) != 1) ++wrong;
    for (const auto& key : t.failed_keys()) {
        const auto n = server.executions(key);
        if (n > 1) ++wrong;
        failed_ran += n;
    }
    if (wrong != 0) {
        std::printf("FAILED (%s): %llu non-idempotent calls ran a wrong number of times\n", who,
                    static_cast<unsigned long long>(wrong));
        ++failures;
    }
    std::printf("\n%s: %zu non-idempotent calls succeeded, each ran exactly once: %s; %zu failed as not_replayable "
                "(%llu of them had run)\n",
                who, t.ok_keys().size(), wrong == 0 ? "yes" : "NO", t.failed_keys().size(),
                static_cast<unsigned long long>(failed_ran));
}

void print_outages(const char* title, int callers, const std::vector<outage_row>& rows, duration backoff_cap) {
    std::printf("\n### %s (%d callers)\n\n", title, callers);
    std::printf("| outage | come_back -> first successful call | go_down -> first successful call | backoff cap | "
                "initializes | calls ok | replay-safe failed | not idempotent, failed (not_replayable) | "
                "reopen flights failed / ok | session flights | 404s during go_down() |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows)
        std::printf("| %.1f s | %.0f ms | %.0f ms | %.0f ms | %llu | %llu | %llu | %llu | %llu / %llu | %llu | %llu |\n",
                    static_cast<double>(r.outage.count()) / 1000.0, r.back_to_first_ok_ms, r.down_to_first_ok_ms,
                    ms(backoff_cap), static_cast<unsigned long long>(r.initializes),
                    static_cast<unsigned long long>(r.calls.ok), static_cast<unsigned long long>(r.calls.safe_failed),
                    static_cast<unsigned long long>(r.calls.unsafe_unknown),
                    static_cast<unsigned long long>(r.reopens_failed), static_cast<unsigned long long>(r.reopens_ok),
                    static_cast<unsigned long long>(r.session_flights),
                    static_cast<unsigned long long>(r.lost_session_answers_while_going_down));
}

mb::transport_options options_for(const fs::flaky_server& server, std::size_t pool) {
    mb::transport_options o;
    o.url = server.url();
    o.connect_timeout = 2s;
    o.read_timeout = 10s;
    o.max_idle_connections = pool;
    return o;
}

fs::flaky_server_options server_options() {
    fs::flaky_server_options so;
    so.max_connections = 1024;
    so.idle_timeout = 120s;
    return so;
}


using sync_client = recovering_client<mb::streamable_http_transport, default_classifier, limited_time, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;

// Every outage in turn, reading the client's observer before and after each.
template <class Observer>
std::vector<outage_row> all_outages(fs::flaky_server& server, tally& t,
                                    const std::vector<std::chrono::milliseconds>& outages, const Observer& o,
                                    int& failures) {
    const std::function<observer_counts()> observed = [&] {
        return observer_counts{o.reconnects(), o.reopens_succeeded(), o.reopens_failed()};
    };
    std::vector<outage_row> rows;
    for (const auto d : outages) rows.push_back(one_outage(server, t, d, observed, failures));
    return rows;
}

std::vector<outage_row> sync_outages(const std::vector<std::chrono::milliseconds>& outages, int& failures) {
    fs::flaky_server server(server_options());
    sync_client client{std::in_place, options_for(server, sync_callers)};
    client.retry_policy() = limited_time{retry_budget};
    if (!client.transport().connect()) {
        std::printf("FAILED: cannot connect to flaky_server\n");
        ++failures;
        return {};
    }
    tally t;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const std::uint64_t max_calls = 5'000'000;  // per thread; the driver stops them long before
    for (int c = 0; c < sync_callers; ++c)
        threads.emplace_back([&, c] {
            const std::string caller = "s" + std::to_string(c);
            for (std::uint64_t i = 0; i < max_calls && !stop; ++i) {
                planned_call p = plan_call(caller, i);
                const sync_client::result_type r = client.try_call(p.request, p.options);
                t.add(p, r);
            }
        });
    std::vector<outage_row> rows = all_outages(server, t, outages, client.observer(), failures);
    stop = true;
    for (auto& th : threads) th.join();
    check_outages("sync, 16 threads", rows, t, server, failures);
    return rows;
}

// ---- a connection reset, the session intact ----

struct reset_row {
    int resets = 0;
    double normal_us = 0, reset_us = 0;
    std::uint64_t initializes = 0, failed = 0, reopens_ok = 0, faults_applied = 0;
};

// The counters a reset run reads before it starts and turns into the row's figures at its end.
struct reset_baseline {
    std::uint64_t initializes = 0, faults_applied = 0, reopens_ok = 0;

    template <class Observer>
    static reset_baseline take(const fs::flaky_server& server, const Observer& o) {
        return {server.initializes(), server.faults_applied(), o.reopens_succeeded()};
    }
    template <class Observer>
    void finish(reset_row& row, const fs::flaky_server& server, const Observer& o, std::vector<double> normal,
                std::vector<double> reset) const {
        row.normal_us = median(std::move(normal));
        row.reset_us = median(std::move(reset));
        row.initializes = server.initializes() - initializes;
        row.faults_applied = server.faults_applied() - faults_applied;
        row.reopens_ok = o.reopens_succeeded() - reopens_ok;
    }
};

const mb::request echo_request{"tools/call", R"({"name":"echo","arguments":{"text":"reset"}})"};
call_options echo_options() {
    call_options o;
    o.timeout = call_timeout;
    o.annotations = tool_annotations{true, true};
    return o;
}

reset_row sync_resets(int n, int& failures) {
    fs::flaky_server server(server_options());
    sync_client client{std::in_place, options_for(server, 4)};
    client.retry_policy() = limited_time{retry_budget};
    reset_row row;
    row.resets = n;
    if (!client.transport().connect()) {
        std::printf("FAILED: cannot connect to flaky_server\n");
        ++failures;
        return row;
    }
    const call_options opts = echo_options();
    for (int i = 0; i < 50; ++i) (void)client.try_call(echo_request, opts);  // warm up
    const reset_baseline before = reset_baseline::take(server, client.observer());
    std::vector<double> normal, reset;
    for (int i = 0; i < n; ++i) {
        auto start = bench_clock::now();
        auto a = client.try_call(echo_request, opts);
        normal.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
        server.inject(fs::fault::reset_before_execute(), fs::fault_match::tool_call("echo"));
        start = bench_clock::now();
        auto b = client.try_call(echo_request, opts);
        reset.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
        if (!a || !b) ++row.failed;
    }
    before.finish(row, server, client.observer(), std::move(normal), std::move(reset));
    return row;
}

void check_resets(const char* who, const reset_row& r, int& failures) {
    if (r.initializes != 0 || r.failed != 0 || r.faults_applied != static_cast<std::uint64_t>(r.resets)) {
        std::printf("FAILED (%s): %llu initializes (expected 0), %llu calls failed (expected 0), %llu resets applied "
                    "(expected %d)\n",
                    who, static_cast<unsigned long long>(r.initializes), static_cast<unsigned long long>(r.failed),
                    static_cast<unsigned long long>(r.faults_applied), r.resets);
        ++failures;
    }
}

void print_resets(const std::vector<std::pair<const char*, reset_row>>& rows) {
    std::printf("\n## 2. A connection reset, the session intact (`fault::reset_before_execute()` on one idempotent call)\n\n");
    std::printf("| client | resets | normal call (median) | recovered call (median) | ratio | initializes | "
                "reopen flights ok | calls failed |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& [who, r] : rows)
        std::printf("| %s | %d | %.0f us | %.0f us | %.2f | %llu | %llu | %llu |\n", who, r.resets, r.normal_us,
                    r.reset_us, r.normal_us > 0 ? r.reset_us / r.normal_us : 0.0,
                    static_cast<unsigned long long>(r.initializes), static_cast<unsigned long long>(r.reopens_ok),
                    static_cast<unsigned long long>(r.failed));
}

// ---- the same on coroutines ----

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
namespace net = boost::asio;

using async_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, limited_time,
                                                 no_backoff, mb::async_single_flight_reconnector<>, counting_observer>;

net::awaitable<void> async_caller(async_client& client, tally& t, std::atomic<bool>& stop, int id) {
    const std::string caller = "a" + std::to_string(id);
    for (std::uint64_t i = 0; i < 5'000'000 && !stop; ++i) {
        planned_call p = plan_call(caller, i);
        async_client::result_type r = co_await client.call(p.request, p.options);
        t.add(p, r);
    }
}

bool async_connect(net::io_context& ioc, async_client& client) {
    bool connected = false;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        connected = static_cast<bool>(co_await client.transport().async_connect());
    }, net::detached);
    ioc.restart();
    ioc.run();
    return connected;
}

std::vector<outage_row> async_outages(const std::vector<std::chrono::milliseconds>& outages, int& failures) {
    fs::flaky_server server(server_options());
    net::io_context ioc;
    async_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), options_for(server, async_callers));
    client.retry_policy() = limited_time{retry_budget};
    if (!async_connect(ioc, client)) {
        std::printf("FAILED: cannot connect to flaky_server (async)\n");
        ++failures;
        return {};
    }
    tally t;
    std::atomic<bool> stop{false};
    for (int c = 0; c < async_callers; ++c) net::co_spawn(ioc, async_caller(client, t, stop, c), net::detached);
    ioc.restart();
    std::thread io([&] { ioc.run(); });
    std::vector<outage_row> rows = all_outages(server, t, outages, client.observer(), failures);
    stop = true;
    io.join();  // every caller ends after its current call
    check_outages("async, 64 coroutines", rows, t, server, failures);
    return rows;
}

reset_row async_resets(int n, int& failures) {
    fs::flaky_server server(server_options());
    net::io_context ioc;
    async_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), options_for(server, 4));
    client.retry_policy() = limited_time{retry_budget};
    reset_row row;
    row.resets = n;
    if (!async_connect(ioc, client)) {
        std::printf("FAILED: cannot connect to flaky_server (async)\n");
        ++failures;
        return row;
    }
    std::vector<double> normal, reset;
    reset_baseline before;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        const call_options opts = echo_options();
        for (int i = 0; i < 50; ++i) (void)co_await client.call(echo_request, opts);  // warm up
        before = reset_baseline::take(server, client.observer());
        for (int i = 0; i < n; ++i) {
            auto start = bench_clock::now();
            async_client::result_type a = co_await client.call(echo_request, opts);
            normal.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
            server.inject(fs::fault::reset_before_execute(), fs::fault_match::tool_call("echo"));
            start = bench_clock::now();
            async_client::result_type b = co_await client.call(echo_request, opts);
            reset.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
            if (!a || !b) ++row.failed;
        }
    }, net::detached);
    ioc.restart();
    ioc.run();
    before.finish(row, server, client.observer(), std::move(normal), std::move(reset));
    return row;
}
#endif

/// `--csv DIR`: the outage rows as DIR/outage.csv (one line per flavour and outage), for
/// bench/plot.py's recovery-vs-outage figure.
/// The outages of one flavour.
struct outage_run {
    const char* flavour;
    int callers;
    std::vector<outage_row> rows;
};

bool write_outage_csv(const std::string& dir, const std::vector<outage_run>& runs, duration backoff_cap) {
    const std::string path = dir + "/outage.csv";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) {
        std::printf("FAILED: cannot write %s (does the directory exist?)\n", path.c_str());
        return false;
    }
    std::fprintf(f, "flavour,callers,outage_s,back_to_first_ok_ms,down_to_first_ok_ms,backoff_cap_ms,initializes\n");
    for (const auto& run : runs)
        for (const auto& r : run.rows)
            std::fprintf(f, "%s,%d,%.3f,%.1f,%.1f,%.0f,%llu\n", run.flavour, run.callers,
                         static_cast<double>(r.outage.count()) / 1000.0, r.back_to_first_ok_ms, r.down_to_first_ok_ms,
                         ms(backoff_cap), static_cast<unsigned long long>(r.initializes));
    const bool ok = std::fclose(f) == 0;
    if (ok) std::printf("\nwrote %s\n", path.c_str());
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    std::string csv_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick") {
            quick = true;
        } else if (a == "--csv" && i + 1 < argc) {
            csv_dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--csv DIR]\n", argv[0]);
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when piped
    int failures = 0;
    // Outage lengths: below, at and well above the reconnectors' backoff cap (1 s).
    std::vector<std::chrono::milliseconds> outages{200ms, 1000ms};
    if (!quick) {
        for (auto d : {500ms, 2000ms, 3000ms, 5000ms, 10000ms}) outages.push_back(d);
        std::sort(outages.begin(), outages.end());
    }
    const int resets = quick ? 20 : 200;
    const duration cap = default_flight_backoff().cap();  // of the reconnectors' failed flights

    std::printf("# mcp-recovery outage benchmark (issue 10)%s\n", quick ? " -- quick run" : "");
    std::printf("\nflaky_server on loopback (JSON answers, `typescript_404` lost-session answer). Callers loop over "
                "tools/list, echo (annotated idempotent) and count (not idempotent, a key per call) through one "
                "client: `limited_time{%llds}`, per-call timeout %llds, `single_flight_reconnector` defaults "
                "(failed flights back off 50 ms doubling to 1 s, full jitter; the circuit opens after 15 s of "
                "failures).\n",
                static_cast<long long>(retry_budget.count()), static_cast<long long>(call_timeout.count()));
    std::printf("\n## 1. Outages: `go_down()` (connects refused, sessions forgotten), `come_back()` after the outage\n");
    std::printf("\n`come_back -> first successful call`: from the return of `come_back()` (listening again) to the "
                "first call that succeeded after it; at most about the backoff cap plus a reopen, a lost-session "
                "answer and one initialize. Calls and flights counted from just before `go_down()` to %llu "
                "successful calls after the recovery. Session flights: initializes tried by the client (1 when "
                "nothing answered a lost session before the listener closed: the last column counts such "
                "answers; `go_down()` closes before it forgets, as a killed process).\n",
                static_cast<unsigned long long>(successes_between));

    std::vector<outage_run> outage_runs;
    outage_runs.push_back({"sync", sync_callers, sync_outages(outages, failures)});
    print_outages("Synchronous `recovering_client`, threads", sync_callers, outage_runs.back().rows, cap);
#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
    outage_runs.push_back({"async", async_callers, async_outages(outages, failures)});
    print_outages("`async_recovering_client`, coroutines on one io_context", async_callers, outage_runs.back().rows,
                  cap);
#endif
    if (!csv_dir.empty() && !write_outage_csv(csv_dir, outage_runs, cap)) ++failures;

    std::vector<std::pair<const char*, reset_row>> reset_rows;
    reset_rows.emplace_back("sync", sync_resets(resets, failures));
    check_resets("sync resets", reset_rows.back().second, failures);
#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
    reset_rows.emplace_back("async", async_resets(resets, failures));
    check_resets("async resets", reset_rows.back().second, failures);
#endif
    print_resets(reset_rows);

    std::printf("\n%s\n", failures == 0 ? "All expectations met (1 initialize per outage, none per reset, every "
                                          "replay-safe call succeeded, nothing ran twice)."
                                        : "EXPECTATIONS FAILED (see FAILED lines above).");
    return failures == 0 ? 0 : 1;
}
