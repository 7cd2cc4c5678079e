// Core benchmark: success-path overhead of recovering_client over calling the transport directly,
// heap allocations per call, and reconnects performed when 1, 8 or 64 callers meet one expired
// session. Figures are ratios taken in one run; see docs/benchmarks.md.
#include "bench_support.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>
#include <thread>
#include <vector>


namespace {

using namespace mcp_recovery;
using bench_clock = std::chrono::steady_clock;

// An in-memory transport as cheap as a transport can be: answers every request at once.
struct memory_request {
    std::string_view method;
    std::uint64_t id;
};
struct memory_response {
    std::uint64_t id;
    std::uint64_t generation;
};
class memory_transport {
public:
    using request_type = memory_request;
    using response_type = memory_response;
    MCP_RECOVERY_NOINLINE outcome<memory_response> send(const memory_request& r) {
        ++served_;
        return memory_response{r.id, generation_};
    }
    outcome<void> reconnect() {
        ++generation_;
        return {};
    }
    std::uint64_t generation() const noexcept { return generation_; }
    std::uint64_t served() const noexcept { return served_; }

private:
    std::uint64_t generation_ = 1;
    std::uint64_t served_ = 0;
};

MCP_RECOVERY_NOINLINE double ns_per_call_direct(memory_transport& t, std::uint64_t n) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = t.send(memory_request{"tools/call", i});
        mcp_recovery_bench::keep(r->id);
    }
    return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() / static_cast<double>(n);
}

template <class Client>
__attribute__((noinline)) MCP_RECOVERY_NOINLINE double ns_per_call_client(Client& c, std::uint64_t n) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = c.try_call(memory_request{"tools/call", i});
        mcp_recovery_bench::keep(r->id);
    }
    return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() / static_cast<double>(n);
}

// Loops for the callgrind instruction count (bench/instructions.sh): no clock reads inside.
MCP_RECOVERY_NOINLINE void instr_direct(memory_transport& t, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) mcp_recovery_bench::keep(t.send(memory_request{"tools/call", i})->id);
}
template <class Client>
MCP_RECOVERY_NOINLINE void instr_client(Client& c, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) mcp_recovery_bench::keep(c.try_call(memory_request{"tools/call", i})->id);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2 && std::string_view(argv[1]) == "--instructions") {
        const auto count = std::strtoull(argv[2], nullptr, 10);
        memory_transport t;
        recovering_client<memory_transport> c{std::in_place};
        instr_direct(t, count);
        instr_client(c, count);
        return 0;
    }
    const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
    const std::uint64_t n = quick ? 200000 : 5000000;
    const int rounds = quick ? 3 : 15;

    std::printf("# mcp-recovery core benchmark\n\n");
    std::printf("## Success-path overhead (in-memory transport, %llu calls per round, %d rounds, interleaved)\n\n",
                static_cast<unsigned long long>(n), rounds);

    memory_transport direct;
    recovering_client<memory_transport> client{std::in_place};
    std::vector<double> d_ns, c_ns, diffs;
    for (int r = 0; r < rounds; ++r) {
        const double d = ns_per_call_direct(direct, n);
        const double c = ns_per_call_client(client, n);
        d_ns.push_back(d);
        c_ns.push_back(c);
        diffs.push_back(c - d);
    }
    const double d_med = median(d_ns), c_med = median(c_ns);
    std::printf("| path | ns/call (median of rounds) |\n|---|---|\n");
    std::printf("| transport.send directly | %.2f |\n", d_med);
    std::printf("| recovering_client::try_call | %.2f |\n", c_med);
    std::printf("| extra per call (median of per-round differences) | %.2f |\n", median(diffs));
    std::printf("| ratio client/direct | %.3f |\n\n", c_med / d_med);

    const std::uint64_t before = mcp_recovery_bench::allocations.load();
    for (std::uint64_t i = 0; i < 100000; ++i) mcp_recovery_bench::keep(client.try_call(memory_request{"tools/call", i})->id);
    const std::uint64_t allocs = mcp_recovery_bench::allocations.load() - before;
    std::printf("Heap allocations on the success path: %llu in 100000 calls (%.4f per call)\n\n",
                static_cast<unsigned long long>(allocs), static_cast<double>(allocs) / 100000.0);

    std::printf("## Recovery of one scripted session expiry with concurrent callers\n\n");
    std::printf("| callers | reconnects | all succeeded | wall time (ms) |\n|---|---|---|---|\n");
    bool all_one = true;
    for (int callers : {1, 8, 64}) {
        recovering_client<testing::scripted_transport, default_classifier, retry_once, no_backoff,
                          single_flight_reconnector<>, counting_observer>
            c{std::in_place};
        c.transport().expire_session();
        std::atomic<int> ok{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int i = 0; i < callers; ++i)
            threads.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                if (c.try_call(testing::scripted_request{"tools/list", "k"})) ok.fetch_add(1);
            });
        const auto start = bench_clock::now();
        go.store(true);
        for (auto& t : threads) t.join();
        const double ms = std::chrono::duration<double, std::milli>(bench_clock::now() - start).count();
        std::printf("| %d | %zu | %s | %.2f |\n", callers, c.transport().reconnects(), ok.load() == callers ? "yes" : "NO",
                    ms);
        all_one = all_one && c.transport().reconnects() == 1 && ok.load() == callers;
    }
    std::printf("\n%s\n", all_one ? "exactly one reconnect in every case" : "MORE THAN ONE RECONNECT or a failed call");
    return all_one && allocs == 0 ? 0 : 1;
}
