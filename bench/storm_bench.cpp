// Storm benchmark (issue 6), in one run, against the in-process flaky_server over loopback:
//  1. reconnect storms: 1, 8, 64 and 256 concurrent callers (threads; coroutines on one
//     io_context where Asio has co_await) meet one expired session: initializes performed per
//     storm, median and p99 latency as ratios to a single normal call; the library's
//     single-flight reconnector against a NAIVE per-call reconnect (what ad-hoc fixes do), both
//     under the same recovering client, and the same callers without expiry for reference;
//  2. the default classifier's cost per failure, for messages of 0, 64, 256 and 1024 characters
//     (the bound of failure_message), matching and not matching;
//  3. how the cost of a recovery grows with the payload (params of 100 B .. 1 MB; ratio to a
//     normal call of the same size) and with the number of callers (part 1).
// Prints markdown tables; `--csv <dir>` also writes storm.csv, classifier.csv and payload.csv
// there (bench/plot.py turns them into the SVG figures). `--quick`: few rounds, for CI smoke runs.
// The exit code is non-zero only on a functional failure (a call failed, a classification was
// wrong, or the single flight did more than one initialize in a storm), never on timing.
#include <utility>

#include "bench_support.hpp"
#include "mcp_recovery/beast/async_client.hpp"  // defines MCP_RECOVERY_BEAST_HAS_ASYNC where Asio has co_await
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#endif

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using bench_clock = std::chrono::steady_clock;
using us = std::chrono::duration<double, std::micro>;

constexpr int max_threads = 256;  // the sync storms never start more threads than this
constexpr int storm_sizes[] = {1, 8, 64, 256};

// Hides from the optimizer where `p` points, so that a pure call on `*p` runs every time.
template <class T>
inline const T* opaque(const T* p) {
#if defined(__GNUC__) || defined(__clang__)
    asm volatile("" : "+r"(p) : : "memory");
    return p;
#else
    static const T* volatile slot;
    slot = p;
    return slot;
#endif
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}
double seconds_since(bench_clock::time_point t) {
    return std::chrono::duration<double>(bench_clock::now() - t).count();
}

// ---- the baseline: what ad-hoc fixes do ----

/// NAIVE per-call reconnect, the baseline to beat (not part of the library): every caller whose
/// request failed re-initializes the shared transport itself. No single flight, no generation
/// fencing (a caller whose session was already replaced by another caller reconnects anyway).
/// Concurrent reconnects are serialized by the Beast transport's own mutex (as the RWMutex of
/// gh-aw-mcpg does; opencode rebuilds a transport per failing call instead, which serializes
/// nothing), so N failing callers make N initializes one after the other.
struct naive_reconnector {
    template <class Transport, class Clock, class Observer, class Hook>
    reconnect_outcome reconnect(Transport& transport, std::uint64_t /*seen_generation: ignored*/,
                                time_point /*deadline*/, Clock&, Observer&, Hook&& on_reconnected) {
        outcome<void> r = transport.reconnect();
        if (!r) return call_error{make_error_code(errc::reconnect_failed), std::move(r).error(), {}};
        outcome<void> h = on_reconnected(transport);
        if (!h) return call_error{make_error_code(errc::reconnect_failed), std::move(h).error(), {}};
        return {};
    }
};

using ours_client = recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<no_backoff>>;
using naive_client =
    recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff, naive_reconnector>;

mb::request echo_request(std::size_t params_size) {
    // {"name":"echo","arguments":{"text":"xx...x"}}: the text fills the params to params_size bytes.
    const std::string head = R"({"name":"echo","arguments":{"text":")";
    const std::string tail = R"("}})";
    const std::size_t fixed = head.size() + tail.size();
    const std::size_t text = params_size > fixed ? params_size - fixed : 1;
    return mb::request{"tools/call", head + std::string(text, 'x') + tail};
}

mb::transport_options transport_settings(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    // Keep every storm's connections (256 callers use 256 at once), so that a storm does not pay
    // for connections the previous one closed.
    o.max_idle_connections = 2 * max_threads;
    o.max_idle = std::chrono::seconds(120);
    return o;
}

// Latencies (each caller's call, from its start to its answer) and initializes of one storm.
struct storm_sample {
    std::vector<double> latency_us;
    std::uint64_t initializes = 0;
    int failed = 0;
};

// `callers` threads call at once through `client`; `expire` ends the sessions first.
template <class Client>
storm_sample sync_storm(Client& client, mb::testing::flaky_server& server, int callers, bool expire,
                        const mb::request& request) {
    callers = std::min(callers, max_threads);
    storm_sample s;
    s.latency_us.assign(static_cast<std::size_t>(callers), 0.0);
    std::mutex m;
    std::condition_variable cv_ready, cv_go;
    int ready = 0;
    bool go = false;
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(callers));
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            {
                std::unique_lock<std::mutex> lock(m);
                if (++ready == callers) cv_ready.notify_one();
                cv_go.wait(lock, [&] { return go; });
            }
            const auto t0 = bench_clock::now();
            auto r = client.try_call(request);
            const double t = us(bench_clock::now() - t0).count();
            if (!r || r->is_error()) failed.fetch_add(1);
            s.latency_us[static_cast<std::size_t>(i)] = t;
        });
    {
        std::unique_lock<std::mutex> lock(m);
        cv_ready.wait(lock, [&] { return ready == callers; });
        if (expire) server.expire_all_sessions();
        s.initializes = server.initializes();
        go = true;
    }
    cv_go.notify_all();
    for (auto& t : threads) t.join();
    s.initializes = server.initializes() - s.initializes;
    s.failed = failed.load();
    return s;
}

// One policy at one storm size, over all rounds.
struct storm_stats {
    std::vector<double> latency_us;  // every call of every storm
    std::vector<double> storm_p99;   // the p99 latency within each storm
    std::vector<double> inits;       // per storm
    std::uint64_t init_min = ~std::uint64_t{0};
    std::uint64_t init_max = 0;
    int storms = 0;
    int failed = 0;
    void add(const storm_sample& s) {
        latency_us.insert(latency_us.end(), s.latency_us.begin(), s.latency_us.end());
        storm_p99.push_back(percentile(s.latency_us, 0.99));
        inits.push_back(static_cast<double>(s.initializes));
        init_min = std::min(init_min, s.initializes);
        init_max = std::max(init_max, s.initializes);
        ++storms;
        failed += s.failed;
    }
    double median_us() const { return median(latency_us); }
    // The tail of a typical storm: p99 within each storm, median over the storms (robust to a
    // storm that another process on the machine slowed down as a whole).
    double p99_us() const { return median(storm_p99); }
    // The p99 of all calls of all storms together (in the CSV only: it follows the noisiest storms).
    double p99_pooled_us() const { return percentile(latency_us, 0.99); }
};

struct storm_row {
    std::string mode;    // sync | async
    std::string policy;  // single_flight | naive | no_expiry
    int callers = 0;
    storm_stats stats;
};

struct storm_table {
    std::string mode;
    double single_call_us = 0;  // median of normal (no expiry) single calls
    std::size_t single_calls = 0;
    std::vector<storm_row> rows;
};

int rounds_for(int callers, bool quick) {
    if (quick) return 2;
    switch (callers) {
    case 1: return 300;
    case 8: return 200;
    case 64: return 60;
    default: return 30;
    }
}
double seconds_for(bool quick) { return quick ? 5.0 : 30.0; }

storm_table sync_storms(mb::testing::flaky_server& server, bool quick, int& failures) {
    storm_table table;
    table.mode = "sync";
    ours_client ours{std::in_place, transport_settings(server.url())};
    naive_client naive{std::in_place, transport_settings(server.url())};
    if (!ours.transport().connect() || !naive.transport().connect()) {
        std::fprintf(stderr, "initialize failed\n");
        ++failures;
        return table;
    }
    const mb::request echo = echo_request(100);
    std::vector<double> single;
    auto single_calls = [&](int n) {
        for (int i = 0; i < n; ++i) {
            const auto t0 = bench_clock::now();
            auto r = ours.try_call(echo);
            single.push_back(us(bench_clock::now() - t0).count());
            if (!r || r->is_error()) ++failures;
        }
    };
    single_calls(50);  // warm-up
    single.clear();
    for (int callers : storm_sizes) {
        storm_row s{"sync", "single_flight", callers, {}}, n{"sync", "naive", callers, {}},
            calm{"sync", "no_expiry", callers, {}};
        const auto began = bench_clock::now();
        for (int r = 0; r < rounds_for(callers, quick) && (r < 2 || seconds_since(began) < seconds_for(quick)); ++r) {
            // Interleaved, so that the machine's noise hits every policy alike. Each storm expires
            // every session (the other client's too) just before it starts.
            s.stats.add(sync_storm(ours, server, callers, true, echo));
            single_calls(5);  // ours is live again
            calm.stats.add(sync_storm(ours, server, callers, false, echo));
            n.stats.add(sync_storm(naive, server, callers, true, echo));
        }
        table.rows.push_back(std::move(s));
        table.rows.push_back(std::move(n));
        table.rows.push_back(std::move(calm));
    }
    table.single_call_us = median(single);
    table.single_calls = single.size();
    return table;
}

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)

namespace net = boost::asio;

/// The NAIVE per-call reconnect for coroutines: every failing caller re-initializes the transport
/// itself. The awaitable transport refuses a second concurrent `async_reconnect`
/// (`operation_in_progress`), so the callers queue on a lock (one io thread: a flag and a queue of
/// timers), which is what an ad-hoc fix that "re-initializes under a mutex" does.
class naive_async_reconnector {
public:
    template <class Transport, class Clock, class Observer, class Hook, class Cancelled>
    net::awaitable<reconnect_outcome> reconnect(Transport& transport, std::uint64_t /*ignored*/, time_point, Clock&,
                                                Observer&, Hook on_reconnected, Cancelled) {
        co_await lock();
        struct unlock_at_exit {
            naive_async_reconnector& self;
            ~unlock_at_exit() { self.unlock(); }
        } guard{*this};
        outcome<void> r = co_await transport.async_reconnect();
        if (!r) co_return call_error{make_error_code(errc::reconnect_failed), std::move(r).error(), {}};
        outcome<void> h = co_await on_reconnected(transport);
        if (!h) co_return call_error{make_error_code(errc::reconnect_failed), std::move(h).error(), {}};
        co_return reconnect_outcome{};
    }

    /// The bench never cancels: nothing to wake.
    void wake_all() noexcept {}

private:
    net::awaitable<void> lock() {
        if (!busy_) {
            busy_ = true;
            co_return;
        }
        auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor,
                                                         bench_clock::now() + std::chrono::hours(1));
        waiters_.push_back(timer);
        boost::system::error_code ec;
        co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
        // unlock() handed the lock over: busy_ stayed true.
    }
    void unlock() {
        if (waiters_.empty()) {
            busy_ = false;
            return;
        }
        auto next = std::move(waiters_.front());
        waiters_.pop_front();
        next->cancel();
    }

    bool busy_ = false;
    std::deque<std::shared_ptr<net::steady_timer>> waiters_;
};

using async_ours_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier,
                                                      retry_once, no_backoff, mb::async_single_flight_reconnector<no_backoff>>;
using async_naive_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier,
                                                       retry_once, no_backoff, naive_async_reconnector>;

// `callers` coroutines started together on one io_context; each times its own call.
template <class Client>
storm_sample async_storm(Client& client, net::io_context& ioc, mb::testing::flaky_server& server, int callers,
                         bool expire, const mb::request& request) {
    storm_sample s;
    s.latency_us.assign(static_cast<std::size_t>(callers), 0.0);
    if (expire) server.expire_all_sessions();
    s.initializes = server.initializes();
    for (int i = 0; i < callers; ++i)
        net::co_spawn(
            ioc,
            [&client, &request, &s, i]() -> net::awaitable<void> {
                const auto t0 = bench_clock::now();
                typename Client::result_type r = co_await client.call(request);
                s.latency_us[static_cast<std::size_t>(i)] = us(bench_clock::now() - t0).count();
                if (!r || r->is_error()) ++s.failed;
            },
            [&s](std::exception_ptr e) {
                if (e) ++s.failed;
            });
    ioc.restart();
    ioc.run();
    s.initializes = server.initializes() - s.initializes;
    return s;
}

storm_table async_storms(mb::testing::flaky_server& server, bool quick, int& failures) {
    storm_table table;
    table.mode = "async";
    net::io_context ioc;
    async_ours_client ours(ioc.get_executor(), std::in_place, ioc.get_executor(), transport_settings(server.url()));
    async_naive_client naive(ioc.get_executor(), std::in_place, ioc.get_executor(), transport_settings(server.url()));
    bool connected = false;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        const bool a = static_cast<bool>(co_await ours.transport().async_connect());
        const bool b = static_cast<bool>(co_await naive.transport().async_connect());
        connected = a && b;
    }, net::detached);
    ioc.run();
    if (!connected) {
        std::fprintf(stderr, "async initialize failed\n");
        ++failures;
        return table;
    }
    const mb::request echo = echo_request(100);
    std::vector<double> single;
    auto single_calls = [&](int n) {
        for (int i = 0; i < n; ++i) {
            storm_sample one = async_storm(ours, ioc, server, 1, false, echo);
            single.push_back(one.latency_us[0]);
            failures += one.failed;
        }
    };
    single_calls(50);  // warm-up
    single.clear();
    for (int callers : storm_sizes) {
        storm_row s{"async", "single_flight", callers, {}}, n{"async", "naive", callers, {}},
            calm{"async", "no_expiry", callers, {}};
        const auto began = bench_clock::now();
        for (int r = 0; r < rounds_for(callers, quick) && (r < 2 || seconds_since(began) < seconds_for(quick)); ++r) {
            s.stats.add(async_storm(ours, ioc, server, callers, true, echo));
            single_calls(5);
            calm.stats.add(async_storm(ours, ioc, server, callers, false, echo));
            n.stats.add(async_storm(naive, ioc, server, callers, true, echo));
        }
        table.rows.push_back(std::move(s));
        table.rows.push_back(std::move(n));
        table.rows.push_back(std::move(calm));
    }
    table.single_call_us = median(single);
    table.single_calls = single.size();
    return table;
}

#endif  // MCP_RECOVERY_BEAST_HAS_ASYNC

// ---- part 2: the classifier's cost per failure ----

struct classifier_row {
    std::string name;  // non_matching | matching | a real server's answer
    std::size_t chars = 0;
    bool matching = false;
    double ns = 0;
};

// Filler text that names no lost session (mixed case, as servers write).
std::string filler(std::size_t n) {
    static const std::string text =
        "Upstream Handler failed: the Tool returned status 500 (Internal Server Error) while processing "
        "request 42; Retry later or see the server Logs for details. ";
    std::string s;
    while (s.size() < n) s += text;
    s.resize(n);
    return s;
}

// This thread's CPU time in ns where the system has it (time spent descheduled by other processes
// is not counted: the classifier figures hold on a busy machine), else wall time.
double thread_cpu_ns() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
#endif
    return std::chrono::duration<double, std::nano>(bench_clock::now().time_since_epoch()).count();
}

MCP_RECOVERY_NOINLINE double classify_ns(const default_classifier& c, const failure& f, std::uint64_t n,
                                         failure_kind expected, bool& ok) {
    std::uint64_t wrong = 0;
    const double start = thread_cpu_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
        const failure_kind k = c.classify(*opaque(&f));
        wrong += k != expected;
        mcp_recovery_bench::keep(k);
    }
    const double ns = thread_cpu_ns() - start;
    if (wrong != 0) ok = false;
    return ns / static_cast<double>(n);
}

std::vector<classifier_row> classifier_costs(bool quick, int& failures) {
    const default_classifier c;
    const int rounds = quick ? 3 : 15;
    const double round_ns = quick ? 2e6 : 2e7;  // about 2 ms / 20 ms of classifications per round
    std::vector<classifier_row> rows;
    auto measure = [&](std::string name, const failure& f, bool matching) {
        const failure_kind expected = matching ? failure_kind::session_expired : failure_kind::permanent;
        bool ok = true;
        const double pilot = classify_ns(c, f, 1000, expected, ok);
        const auto n = static_cast<std::uint64_t>(std::max(1000.0, round_ns / std::max(pilot, 0.1)));
        std::vector<double> ns;
        for (int r = 0; r < rounds; ++r) ns.push_back(classify_ns(c, f, n, expected, ok));
        if (!ok) ++failures;
        rows.push_back({std::move(name), f.message.size(), matching, median(ns)});
    };
    // HTTP 400 with a message, as server-everything and the Python SDK <= 1.25 answer a lost
    // session: only the message can tell. A match puts the last default phrase at the very end, so
    // that the scan meets every other phrase over the whole text first (the worst case of a match).
    const std::string_view last_phrase = session_message_rules::default_phrases().back();
    for (std::size_t chars : {std::size_t{0}, std::size_t{64}, std::size_t{256}, failure_message::max_size}) {
        for (bool matching : {false, true}) {
            if (matching && chars < last_phrase.size()) continue;
            failure f;
            f.http_status = 400;
            f.had_session_id = true;
            f.delivered = delivery::rejected;
            f.message = matching ? filler(chars - last_phrase.size()) + std::string(last_phrase) : filler(chars);
            if (f.message.size() != chars) ++failures;
            measure(matching ? "matching" : "non_matching", f, matching);
        }
    }
    // Real answers (flaky_server reproduces them byte for byte; the transport keeps error.message).
    for (auto style : {mb::testing::lost_session_style::typescript_404, mb::testing::lost_session_style::everything_400}) {
        const auto answer = mb::testing::lost_session_answer(style);
        failure f;
        f.http_status = static_cast<int>(answer.status);
        f.had_session_id = true;
        f.delivered = delivery::rejected;
        f.message = style == mb::testing::lost_session_style::typescript_404
                        ? std::string_view("Session not found")
                        : std::string_view("Bad Request: No valid session ID provided");
        measure(std::string(mb::testing::to_string(style)), f, true);
    }
    return rows;
}

// ---- part 3: recovery vs payload size ----

struct payload_row {
    std::size_t bytes = 0;
    int rounds = 0;
    double normal_us = 0;
    double recovery_us = 0;
};

std::vector<payload_row> payload_costs(mb::testing::flaky_server& server, bool quick, int& failures) {
    std::vector<payload_row> rows;
    ours_client client{std::in_place, transport_settings(server.url())};
    if (!client.transport().connect()) {
        ++failures;
        return rows;
    }
    const std::size_t sizes[] = {100, 1000, 10000, 100000, 1000000};
    std::vector<mb::request> requests;
    for (std::size_t b : sizes) requests.push_back(echo_request(b));
    auto timed = [&](const mb::request& r) {
        const auto t0 = bench_clock::now();
        auto out = client.try_call(r);
        const double t = us(bench_clock::now() - t0).count();
        if (!out || out->is_error() || out->message.size() < r.params.size() - 40) ++failures;
        return t;
    };
    for (const auto& r : requests)
        for (int i = 0; i < 5; ++i) timed(r);  // warm-up
    std::vector<std::vector<double>> normal(requests.size()), recovery(requests.size());
    const int rounds = quick ? 3 : 40;
    const auto began = bench_clock::now();
    int done = 0;
    for (; done < rounds && (done < 2 || seconds_since(began) < (quick ? 10.0 : 90.0)); ++done) {
        for (std::size_t k = 0; k < requests.size(); ++k) {  // sizes interleaved within each round
            for (int i = 0; i < 5; ++i) normal[k].push_back(timed(requests[k]));
            server.expire_all_sessions();
            const auto before = server.initializes();
            recovery[k].push_back(timed(requests[k]));
            if (server.initializes() - before != 1) ++failures;
        }
    }
    for (std::size_t k = 0; k < requests.size(); ++k)
        rows.push_back({sizes[k], done, median(normal[k]), median(recovery[k])});
    return rows;
}

// ---- output ----

std::string human_bytes(std::size_t b) {
    if (b >= 1000000) return std::to_string(b / 1000000) + " MB";
    if (b >= 1000) return std::to_string(b / 1000) + " KB";
    return std::to_string(b) + " B";
}

const char* policy_label(const std::string& p) {
    if (p == "single_flight") return "single flight (ours)";
    if (p == "naive") return "naive per-call reconnect";
    return "no expiry (reference)";
}

void print_storm_table(const storm_table& t) {
    std::printf("\n### %s: %s\n\n", t.mode == "sync" ? "Synchronous transport, one thread per caller"
                                                        : "Awaitable transport, coroutines on one io_context",
                t.mode.c_str());
    std::printf("Single normal call (no expiry), median of %zu: %.1f us.\n\n", t.single_calls, t.single_call_us);
    std::printf("| callers | policy | storms | initializes per storm: median (min..max) | median latency | "
                "p99 latency | median / single call | p99 / single call |\n|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : t.rows) {
        const double med = r.stats.median_us(), p99 = r.stats.p99_us();
        std::printf("| %d | %s | %d | %.0f (%llu..%llu) | %.0f us | %.0f us | %.1f | %.1f |\n", r.callers,
                    policy_label(r.policy), r.stats.storms, median(r.stats.inits),
                    static_cast<unsigned long long>(r.stats.init_min),
                    static_cast<unsigned long long>(r.stats.init_max), med, p99, med / t.single_call_us,
                    p99 / t.single_call_us);
    }
}

const storm_row* find_row(const storm_table& t, const std::string& policy, int callers) {
    for (const auto& r : t.rows)
        if (r.policy == policy && r.callers == callers) return &r;
    return nullptr;
}

void print_growth(const std::vector<storm_table>& tables) {
    std::printf("\n### Growth with the number of callers (p99 latency / single call)\n\n");
    std::printf("| callers |");
    for (const auto& t : tables) std::printf(" %s ours | %s naive | %s naive / ours |", t.mode.c_str(), t.mode.c_str(),
                                              t.mode.c_str());
    std::printf("\n|---|");
    for (std::size_t i = 0; i < tables.size(); ++i) std::printf("---|---|---|");
    std::printf("\n");
    for (int callers : storm_sizes) {
        std::printf("| %d |", callers);
        for (const auto& t : tables) {
            const storm_row* o = find_row(t, "single_flight", callers);
            const storm_row* n = find_row(t, "naive", callers);
            if (!o || !n) {
                std::printf(" - | - | - |");
                continue;
            }
            const double po = o->stats.p99_us(), pn = n->stats.p99_us();
            std::printf(" %.1f | %.1f | %.2f |", po / t.single_call_us, pn / t.single_call_us, pn / po);
        }
        std::printf("\n");
    }
}

bool write_csvs(const std::string& dir, const std::vector<storm_table>& tables,
                const std::vector<classifier_row>& classifier, const std::vector<payload_row>& payload) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return false;
    const std::string sep = dir.empty() || dir.back() == '/' ? "" : "/";
    if (FILE* f = std::fopen((dir + sep + "storm.csv").c_str(), "w")) {
        std::fprintf(f, "mode,policy,callers,storms,initializes_median,initializes_min,initializes_max,median_us,p99_us,"
                        "p99_pooled_us,single_call_us,"
                        "median_ratio,p99_ratio,failed\n");
        for (const auto& t : tables)
            for (const auto& r : t.rows) {
                const double med = r.stats.median_us(), p99 = r.stats.p99_us();
                std::fprintf(f, "%s,%s,%d,%d,%.0f,%llu,%llu,%.1f,%.1f,%.1f,%.2f,%.3f,%.3f,%d\n", r.mode.c_str(),
                             r.policy.c_str(), r.callers, r.stats.storms, median(r.stats.inits),
                             static_cast<unsigned long long>(r.stats.init_min),
                             static_cast<unsigned long long>(r.stats.init_max), med, p99, r.stats.p99_pooled_us(),
                             t.single_call_us,
                             med / t.single_call_us, p99 / t.single_call_us, r.stats.failed);
            }
        std::fclose(f);
    } else {
        return false;
    }
    if (FILE* f = std::fopen((dir + sep + "classifier.csv").c_str(), "w")) {
        std::fprintf(f, "message_chars,case,session_expired,ns_per_classification\n");
        for (const auto& r : classifier)
            std::fprintf(f, "%zu,%s,%d,%.2f\n", r.chars, r.name.c_str(), r.matching ? 1 : 0, r.ns);
        std::fclose(f);
    } else {
        return false;
    }
    if (FILE* f = std::fopen((dir + sep + "payload.csv").c_str(), "w")) {
        std::fprintf(f, "params_bytes,rounds,normal_median_us,recovery_median_us,ratio\n");
        for (const auto& r : payload)
            std::fprintf(f, "%zu,%d,%.1f,%.1f,%.3f\n", r.bytes, r.rounds, r.normal_us, r.recovery_us,
                         r.recovery_us / r.normal_us);
        std::fclose(f);
    } else {
        return false;
    }
    return true;
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
            std::fprintf(stderr, "usage: %s [--quick] [--csv <dir>]\n", argv[0]);
            return 2;
        }
    }
    int failures = 0;

    mb::testing::flaky_server_options so;
    so.max_connections = 4 * max_threads;  // two clients keep up to 256 connections each
    so.max_body_size = 4 * 1024 * 1024;    // the 1 MB payload with its envelope
    so.idle_timeout = std::chrono::seconds(120);
    mb::testing::flaky_server server(so);

    std::printf("# mcp-recovery storm benchmark (issue 6)%s\n", quick ? " -- quick run" : "");
    std::printf("\nflaky_server on loopback, JSON answers (`typescript_404` lost-session answer), `retry_once`, "
                "`no_backoff`; echo tool, params of 100 bytes unless said.\n");

    // Part 2 first: no server traffic, the quietest moment of the run.
    const std::vector<classifier_row> classifier = classifier_costs(quick, failures);

    std::vector<storm_table> tables;
    tables.push_back(sync_storms(server, quick, failures));
    const std::vector<payload_row> payload = payload_costs(server, quick, failures);
#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
    tables.push_back(async_storms(server, quick, failures));
#endif

    std::printf("\n## 1. Reconnect storms: single flight vs naive per-call reconnect\n");
    std::printf("\nEach caller's latency is its own call, from its start to its answer. Median: over every call of "
                "every storm; p99: within each storm, median over the storms. Ratios are to the median single "
                "normal call of the same transport.\n");
    for (const auto& t : tables) print_storm_table(t);
#if !defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
    std::printf("\n(async part not built: Asio has no co_await support with this compiler and standard)\n");
#endif

    std::printf("\n## 2. Classifier cost per failure (`default_classifier::classify`, HTTP 400 with a message; "
                "thread CPU time, median of rounds)\n\n");
    std::printf("| message chars | not matching (every phrase scanned) | matching (last default phrase at the end) |\n"
                "|---|---|---|\n");
    for (std::size_t chars : {std::size_t{0}, std::size_t{64}, std::size_t{256}, failure_message::max_size}) {
        double no = 0, yes = -1;
        for (const auto& r : classifier)
            if (r.chars == chars && (r.name == "matching" || r.name == "non_matching")) (r.matching ? yes : no) = r.ns;
        if (yes < 0) std::printf("| %zu | %.1f ns | - |\n", chars, no);
        else std::printf("| %zu | %.1f ns | %.1f ns |\n", chars, no, yes);
    }
    std::printf("\nReal lost-session answers:\n\n| answer | message | ns |\n|---|---|---|\n");
    for (const auto& r : classifier)
        if (r.name != "matching" && r.name != "non_matching")
            std::printf("| %s | %zu chars | %.1f ns |\n", r.name.c_str(), r.chars, r.ns);

    std::printf("\n## 3. How the cost grows\n\n### With the payload (synchronous, one caller)\n\n");
    std::printf("| params size | normal call, median | recovery, median | recovery / normal |\n|---|---|---|---|\n");
    for (const auto& r : payload)
        std::printf("| %s | %.0f us | %.0f us | %.2f |\n", human_bytes(r.bytes).c_str(), r.normal_us, r.recovery_us,
                    r.recovery_us / r.normal_us);
    if (!payload.empty()) std::printf("\n(%d rounds; each size: 5 normal calls, then one recovery)\n", payload.front().rounds);
    print_growth(tables);

    // Functional checks: every call succeeded; the single flight did exactly one initialize per storm.
    bool one_init = true;
    for (const auto& t : tables)
        for (const auto& r : t.rows) {
            failures += r.stats.failed;
            if (r.policy == "single_flight" && (r.stats.init_max != 1 || r.stats.init_min != 1)) one_init = false;
        }
    if (!csv_dir.empty()) {
        if (write_csvs(csv_dir, tables, classifier, payload)) {
            std::printf("\nCSV written to %s (storm.csv, classifier.csv, payload.csv)\n", csv_dir.c_str());
        } else {
            std::fprintf(stderr, "cannot write the CSV files to %s\n", csv_dir.c_str());
            ++failures;
        }
    }
    std::printf("\nfunctional: %d failed calls or checks; single flight: %s\n", failures,
                one_init ? "exactly 1 initialize per storm" : "MORE THAN ONE INITIALIZE in a storm");
    return failures == 0 && one_init ? 0 : 1;
}
