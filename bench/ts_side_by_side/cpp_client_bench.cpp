// Side-by-side benchmark, C++ side (issue 6): mcp-recovery's synchronous Streamable-HTTP transport
// under recovering_client, against one MCP server URL, with the same measurements and the same JSON
// lines as ts_client_bench.mjs (the official TypeScript SDK client). run.sh runs both, interleaved,
// against tests/interop/ts_sdk_server.mjs.
//
// Usage: mcp_recovery_bench_ts_side --url URL [--calls N] [--concurrency K] [--recoveries R]
//                                   [--warmup W] [--protocol-version V]
//   (a) N sequential `tools/call echo {text}` after W warm-up calls: per-call latency (median,
//       p99), throughput, client CPU per call; then the same N calls with K threads calling at once
//       through the one client (K calls in flight), throughput and latency.
//   (b) R recovery rounds: a normal call (timed, for the ratio), the server loses the session (an
//       HTTP DELETE with the client's session id, the same request the TypeScript side sends raw;
//       the client is then handed the deleted id back, as if it had not noticed), then the call:
//       recovered automatically inside `try_call` (404 -> re-initialize -> replay). Timed from
//       the call's start to its successful result.
// The protocol version asked defaults to the TypeScript SDK client's (2025-11-25).
// stdout: JSON lines, one per measure. Exit 0 when every call succeeded and every round recovered
// with exactly one reconnect; 1 otherwise; 2 for bad arguments.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;
using ms = std::chrono::duration<double, std::milli>;

constexpr std::string_view text = "benchmark";
const mb::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"benchmark"}})"};

struct options {
    std::string url;
    int calls = 2000;
    int concurrency = 8;
    int recoveries = 100;
    int warmup = 300;
    std::string protocol_version = "2025-11-25";
};

[[noreturn]] void usage(const char* error) {
    if (error) std::fprintf(stderr, "cpp_client_bench: %s\n", error);
    std::fprintf(stderr,
                 "usage: mcp_recovery_bench_ts_side --url URL [--calls N] [--concurrency K] [--recoveries R] "
                 "[--warmup W] [--protocol-version V]\n");
    std::exit(error ? 2 : 0);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("an option needs a value");
            return argv[++i];
        };
        auto count = [&]() {
            const std::string v = value();
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || n < 1 || n > 10'000'000) usage("bad count");
            return static_cast<int>(n);
        };
        if (a == "--url") o.url = value();
        else if (a == "--calls") o.calls = count();
        else if (a == "--concurrency") o.concurrency = count();
        else if (a == "--recoveries") o.recoveries = count();
        else if (a == "--warmup") o.warmup = count();
        else if (a == "--protocol-version") o.protocol_version = value();
        else if (a == "-h" || a == "--help") usage(nullptr);
        else usage("unknown argument");
    }
    if (o.url.empty()) usage("--url is required");
    return o;
}

double cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Same definitions as ts_client_bench.mjs: sorted[min(n-1, floor(p*n))], rounded to 0.1 us.
struct summary {
    double median_us, p99_us, mean_us;
};
double round1(double x) { return static_cast<double>(static_cast<long long>(x * 10.0 + 0.5)) / 10.0; }
summary stats(std::vector<double> lat_ms) {
    std::sort(lat_ms.begin(), lat_ms.end());
    auto at = [&](double p) {
        const auto i = std::min(lat_ms.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat_ms.size())));
        return lat_ms[i] * 1000.0;
    };
    double sum = 0;
    for (double x : lat_ms) sum += x;
    return {round1(at(0.5)), round1(at(0.99)), round1(sum * 1000.0 / static_cast<double>(lat_ms.size()))};
}

bool call_ok(const client_type::result_type& r) {
    if (!r || r->is_error()) return false;
    const auto content = mb::find_member(r->result(), "content");
    return content && content->find("\"" + std::string(text) + "\"") != std::string_view::npos;
}

double timed_call(client_type& c, std::atomic<int>& errors) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = c.try_call(echo);
    const double dt = ms(std::chrono::steady_clock::now() - t0).count();
    if (!call_ok(r)) {
        errors.fetch_add(1);
        if (!r) std::fprintf(stderr, "[cpp_client_bench] call failed: %s\n", r.error().code.message().c_str());
    }
    return dt;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    mb::transport_options t;
    t.url = o.url;
    t.protocol_version = o.protocol_version;
    t.connect_timeout = std::chrono::seconds(10);
    t.read_timeout = std::chrono::seconds(20);
    client_type client{std::in_place, t};
    if (auto c = client.transport().connect(); !c) {
        std::fprintf(stderr, "[cpp_client_bench] initialize failed: %s\n", c.error().message.str().c_str());
        return 1;
    }
    std::fprintf(stderr, "[cpp_client_bench] connected: protocolVersion=%s session=%s\n",
                 client.transport().protocol_version().c_str(), client.transport().session_id().c_str());
    bool failed = false;
    std::atomic<int> errors{0};
    for (int i = 0; i < o.warmup; ++i) timed_call(client, errors);
    errors = 0;

    // (a) sequential
    {
        std::vector<double> lat;
        lat.reserve(static_cast<std::size_t>(o.calls));
        const double cpu0 = cpu_us();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.calls; ++i) lat.push_back(timed_call(client, errors));
        const double wall = ms(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_us() - cpu0;
        const summary s = stats(lat);
        std::printf("{\"client\":\"cpp\",\"measure\":\"sequential\",\"calls\":%d,\"median_us\":%.1f,\"p99_us\":%.1f,"
                    "\"mean_us\":%.1f,\"calls_per_s\":%.1f,\"cpu_us_per_call\":%.1f,\"errors\":%d}\n",
                    o.calls, s.median_us, s.p99_us, s.mean_us, o.calls * 1000.0 / wall, cpu / o.calls, errors.load());
        failed |= errors.load() != 0;
    }

    // (a') K calls in flight: K threads share the calls, each waits for its previous call.
    {
        errors = 0;
        const int k = std::min(o.concurrency, o.calls);
        std::vector<std::vector<double>> per(static_cast<std::size_t>(k));
        std::atomic<int> ready{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int w = 0; w < k; ++w)
            threads.emplace_back([&, w] {
                const int share = o.calls / k + (w < o.calls % k ? 1 : 0);
                auto& mine = per[static_cast<std::size_t>(w)];
                mine.reserve(static_cast<std::size_t>(share));
                ready.fetch_add(1);
                while (!go.load()) std::this_thread::yield();
                for (int i = 0; i < share; ++i) mine.push_back(timed_call(client, errors));
            });
        while (ready.load() < k) std::this_thread::yield();
        const double cpu0 = cpu_us();
        const auto t0 = std::chrono::steady_clock::now();
        go.store(true);
        for (auto& th : threads) th.join();
        const double wall = ms(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_us() - cpu0;
        std::vector<double> lat;
        for (auto& v : per) lat.insert(lat.end(), v.begin(), v.end());
        const summary s = stats(lat);
        const auto n = static_cast<double>(lat.size());
        std::printf("{\"client\":\"cpp\",\"measure\":\"concurrent\",\"concurrency\":%d,\"calls\":%zu,\"median_us\":%.1f,"
                    "\"p99_us\":%.1f,\"mean_us\":%.1f,\"calls_per_s\":%.1f,\"cpu_us_per_call\":%.1f,\"errors\":%d}\n",
                    k, lat.size(), s.median_us, s.p99_us, s.mean_us, n * 1000.0 / wall, cpu / n, errors.load());
        failed |= errors.load() != 0;
    }

    // (b) recovery after the server lost the session: automatic, inside try_call.
    {
        errors = 0;
        std::vector<double> normal, recovery;
        int recovered = 0, not_lost = 0, extra_reconnects = 0;
        const std::uint64_t reconnects_before = client.observer().reconnects();
        for (int r = 0; r < o.recoveries; ++r) {
            normal.push_back(timed_call(client, errors));
            auto& tr = client.transport();
            const std::string old = tr.session_id();
            // DELETE /mcp with the session id: the server forgets the session. The client is given
            // the old id back, so it calls with it as a client that did not see the DELETE would.
            if (!tr.terminate() || !tr.adopt_session_id(old)) {
                std::fprintf(stderr, "[cpp_client_bench] DELETE of the session failed\n");
                return 1;
            }
            const std::uint64_t before = client.observer().reconnects();
            const int errors_before = errors.load();
            recovery.push_back(timed_call(client, errors));
            const std::uint64_t flights = client.observer().reconnects() - before;
            if (flights == 0) ++not_lost;
            if (flights > 1) extra_reconnects += static_cast<int>(flights - 1);
            if (flights == 1 && errors.load() == errors_before) ++recovered;
        }
        const summary s = stats(recovery);
        const summary n = stats(normal);
        std::printf("{\"client\":\"cpp\",\"measure\":\"recovery\",\"rounds\":%d,\"median_us\":%.1f,\"p99_us\":%.1f,"
                    "\"mean_us\":%.1f,\"normal_median_us\":%.1f,\"recovered\":%d,\"reconnects\":%llu,\"not_lost\":%d,"
                    "\"errors\":%d}\n",
                    o.recoveries, s.median_us, s.p99_us, s.mean_us, n.median_us, recovered,
                    static_cast<unsigned long long>(client.observer().reconnects() - reconnects_before), not_lost,
                    errors.load());
        failed |= errors.load() != 0 || recovered != o.recoveries || extra_reconnects != 0;
    }

    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
#if defined(__clang__)
    const char* compiler = "clang++ " __clang_version__;
#elif defined(__GNUC__)
    const char* compiler = "g++ " __VERSION__;
#else
    const char* compiler = "C++";
#endif
    std::printf("{\"client\":\"cpp\",\"measure\":\"process\",\"runtime\":\"%s, C++%ld\",\"library\":\"mcp-recovery "
                "streamable_http_transport + recovering_client\",\"protocol_version\":\"%s\",\"max_rss_kb\":%ld,"
                "\"connections_opened\":%zu}\n",
                compiler, static_cast<long>(__cplusplus / 100 % 100), client.transport().protocol_version().c_str(),
                static_cast<long>(ru.ru_maxrss), client.transport().connections_opened());
    std::fflush(stdout);
    (void)client.terminate();  // end the last session, as a well-behaved client does
    return failed ? 1 : 0;
}
