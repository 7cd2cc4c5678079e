// Beast adapter benchmark, on loopback against flaky_server, in one run:
//  - a normal call's median latency;
//  - a call that meets an expired session and recovers, as a ratio to the normal call
//    (the floor is 4 round trips: the failed call, initialize, notifications/initialized, replay);
//  - 32 concurrent callers on an expired session: initializes (goal 1) and their median latency,
//    as a ratio to the same 32 concurrent callers without expiry and to a single normal call.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<>, counting_observer>;
using us = std::chrono::duration<double, std::micro>;

const mb::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"benchmark"}})"};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double timed(client_type& c, const mb::request& r, bool& ok) {
    const auto s = std::chrono::steady_clock::now();
    auto out = c.try_call(r);
    ok = out.has_value() && !out->is_error();
    return us(std::chrono::steady_clock::now() - s).count();
}

// Median latency of `callers` threads calling at once, after `prepare()`; also the initializes.
template <class Prepare>
std::pair<std::vector<double>, std::uint64_t> burst(client_type& c, mb::testing::flaky_server& server, int callers,
                                                     Prepare prepare, int& failures) {
    prepare();
    const auto init_before = server.initializes();
    std::vector<double> lat(static_cast<std::size_t>(callers));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (!go.load()) std::this_thread::yield();
            bool ok = false;
            lat[static_cast<std::size_t>(i)] = timed(c, echo, ok);
            if (!ok) ++failures;
        });
    while (ready.load() < callers) std::this_thread::yield();
    go.store(true);
    for (auto& t : threads) t.join();
    return {lat, server.initializes() - init_before};
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
    const int normal_calls = quick ? 200 : 3000;
    const int recoveries = quick ? 30 : 400;
    const int rounds = quick ? 5 : 40;
    constexpr int callers = 32;

    mb::testing::flaky_server server;
    mb::transport_options o;
    o.url = server.url();
    client_type client{std::in_place, o};
    if (!client.transport().connect()) {
        std::fprintf(stderr, "initialize failed\n");
        return 1;
    }
    int failures = 0;
    bool ok = false;
    for (int i = 0; i < 100; ++i) timed(client, echo, ok);  // warm-up

    // Interleave normal calls and recoveries so that both see the same machine state.
    std::vector<double> normal, recovery;
    const int per_round = normal_calls / recoveries;
    for (int r = 0; r < recoveries; ++r) {
        for (int i = 0; i < per_round; ++i) {
            normal.push_back(timed(client, echo, ok));
            if (!ok) ++failures;
        }
        server.expire_all_sessions();
        recovery.push_back(timed(client, echo, ok));
        if (!ok) ++failures;
    }
    const double normal_med = median(normal);
    const double recovery_med = median(recovery);

    std::vector<double> storm_lat, calm_lat;
    std::uint64_t storm_inits_min = ~0ULL, storm_inits_max = 0;
    for (int r = 0; r < rounds; ++r) {
        auto calm = burst(client, server, callers, [] {}, failures);
        calm_lat.insert(calm_lat.end(), calm.first.begin(), calm.first.end());
        auto storm = burst(client, server, callers, [&] { server.expire_all_sessions(); }, failures);
        storm_lat.insert(storm_lat.end(), storm.first.begin(), storm.first.end());
        storm_inits_min = std::min(storm_inits_min, storm.second);
        storm_inits_max = std::max(storm_inits_max, storm.second);
    }

    std::printf("# mcp-recovery Beast adapter benchmark (loopback, flaky_server, JSON responses)\n\n");
    std::printf("| measure | value |\n|---|---|\n");
    std::printf("| normal call, median (%zu calls) | %.1f us |\n", normal.size(), normal_med);
    std::printf("| normal call, p99 | %.1f us |\n", percentile(normal, 0.99));
    std::printf("| call meeting an expired session, recovered, median (%zu) | %.1f us |\n", recovery.size(),
                recovery_med);
    std::printf("| **recovery / normal (goal <= 4)** | **%.2f** |\n", recovery_med / normal_med);
    std::printf("| %d concurrent callers, no expiry: median latency (%d rounds) | %.1f us |\n", callers, rounds,
                median(calm_lat));
    std::printf("| %d concurrent callers on an expired session: median latency | %.1f us |\n", callers,
                median(storm_lat));
    std::printf("| %d concurrent callers on an expired session: p99 latency | %.1f us |\n", callers,
                percentile(storm_lat, 0.99));
    std::printf("| initializes per expired-session burst (goal 1), min..max over %d rounds | %llu..%llu |\n", rounds,
                static_cast<unsigned long long>(storm_inits_min), static_cast<unsigned long long>(storm_inits_max));
    std::printf("| burst median / normal call | %.1f |\n", median(storm_lat) / normal_med);
    std::printf("| burst median / same burst without expiry | %.2f |\n", median(storm_lat) / median(calm_lat));
    std::printf("| failed calls | %d |\n", failures);
    return failures == 0 && storm_inits_max == 1 ? 0 : 1;
}
