// Async benchmark (C++20 coroutines on Asio), in one run:
//  - success-path overhead of async_recovering_client::call over co_awaiting the transport's
//    async_send directly (in-memory transport, no I/O): ns/call both ways and their ratio;
//  - 200 coroutines on one io_context meeting an expired session: initializes, and the storm's
//    median latency as a ratio to a single call and to the same 200 coroutines without expiry;
//  - the same two over real loopback HTTP: the awaitable Beast transport against flaky_server
//    (client / bare transport per call, the synchronous transport for reference; a 200-coroutine
//    storm on an expired session).
#include <utility>

#include "bench_support.hpp"
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/version.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>


namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace net = boost::asio;
using bench_clock = std::chrono::steady_clock;

struct memory_request {
    std::string_view method;
    std::uint64_t id;
};
struct memory_response {
    std::uint64_t id;
};

// Answers at once, without suspending: what is measured is the client's own cost.
class memory_async_transport {
public:
    using request_type = memory_request;
    using response_type = memory_response;
    net::awaitable<outcome<memory_response>> async_send(const memory_request& r, time_point) {
        co_return memory_response{r.id};
    }
    net::awaitable<outcome<void>> async_reconnect() {
        ++generation_;
        co_return outcome<void>{};
    }
    std::uint64_t generation() const noexcept { return generation_; }

private:
    std::uint64_t generation_ = 1;
};

// The scripted transport behind one real suspension per send and per reconnect.
class suspending_transport {
public:
    using request_type = testing::scripted_request;
    using response_type = testing::scripted_response;
    explicit suspending_transport(net::any_io_executor ex) : ex_(std::move(ex)) {}
    net::awaitable<outcome<response_type>> async_send(const request_type& r, time_point) {
        co_await net::post(ex_, net::use_awaitable);
        co_return inner.send(r);
    }
    net::awaitable<outcome<void>> async_reconnect() {
        co_await net::post(ex_, net::use_awaitable);
        co_return inner.reconnect();
    }
    std::uint64_t generation() const noexcept { return inner.generation(); }
    testing::scripted_transport inner;

private:
    net::any_io_executor ex_;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class F>
double run_ns_per_call(F body, std::uint64_t n) {
    net::io_context ioc;
    double ns = 0;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        const auto start = bench_clock::now();
        for (std::uint64_t i = 0; i < n; ++i) co_await body(i);
        ns = std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() / static_cast<double>(n);
    }, net::detached);
    ioc.run();
    return ns;
}

// Latencies of `callers` coroutines started together on one io_context.
template <class Client>
std::vector<double> storm(Client& client, net::io_context& ioc, int callers) {
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(callers));
    const auto start = bench_clock::now();
    for (int i = 0; i < callers; ++i)
        net::co_spawn(ioc, client.call(testing::scripted_request{"tools/list", "k"}),
                      [&](std::exception_ptr, typename Client::result_type) {
                          lat.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
                      });
    ioc.restart();
    ioc.run();
    return lat;
}


// ---- over real loopback HTTP ----

using http_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, retry_once,
                                                no_backoff, mb::async_single_flight_reconnector<no_backoff>>;

const mb::request echo_request{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};

// Mean per-call time of `n` sequential calls made by `body`, in microseconds.
template <class F>
double http_us_per_call(net::io_context& ioc, F body, int n) {
    double us = 0;
    bool ok = true;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        const auto start = bench_clock::now();
        for (int i = 0; i < n; ++i) ok = co_await body() && ok;
        us = std::chrono::duration<double, std::micro>(bench_clock::now() - start).count() / n;
    }, net::detached);
    ioc.restart();
    ioc.run();
    if (!ok) std::abort();
    return us;
}

// Latencies of `callers` coroutines started together, in microseconds.
std::vector<double> http_storm(http_client& client, net::io_context& ioc, int callers, bool& all_ok) {
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(callers));
    const auto start = bench_clock::now();
    for (int i = 0; i < callers; ++i)
        net::co_spawn(ioc, client.call(echo_request), [&](std::exception_ptr e, http_client::result_type r) {
            all_ok = all_ok && !e && r;
            lat.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count());
        });
    ioc.restart();
    ioc.run();
    return lat;
}

bool http_section(bool quick) {
    mb::testing::flaky_server server;
    net::io_context ioc;
    mb::transport_options o;
    o.url = server.url();
    o.max_idle_connections = 256;
    http_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), o);
    mb::async_streamable_http_transport bare(ioc.get_executor(), o);
    mb::streamable_http_transport sync(o);
    bool connected = true;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        connected = static_cast<bool>(co_await client.transport().async_connect()) &&
                    static_cast<bool>(co_await bare.async_connect());
    }, net::detached);
    ioc.run();
    if (!connected || !sync.connect()) {
        std::printf("cannot connect to flaky_server\n");
        return false;
    }
    const int n = quick ? 200 : 2000;
    const int rounds = quick ? 3 : 11;
    std::vector<double> via_bare, via_client, via_sync;
    for (int r = 0; r < rounds; ++r) {  // interleaved, so that machine noise hits all three alike
        via_bare.push_back(http_us_per_call(ioc, [&]() -> net::awaitable<bool> {
            co_return static_cast<bool>(co_await bare.async_send(echo_request));
        }, n));
        via_client.push_back(http_us_per_call(ioc, [&]() -> net::awaitable<bool> {
            co_return static_cast<bool>(co_await client.call(echo_request));
        }, n));
        const auto start = bench_clock::now();
        for (int i = 0; i < n; ++i)
            if (!sync.send(echo_request)) std::abort();
        via_sync.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - start).count() / n);
    }
    const double b = median(via_bare), c = median(via_client), y = median(via_sync);
    std::printf("\n## Over loopback HTTP (flaky_server, JSON answers, one io thread)\n\n");
    std::printf("| measure | value |\n|---|---|\n");
    std::printf("| co_await async_streamable_http_transport::async_send, median of %d rounds x %d calls | %.1f us/call |\n",
                rounds, n, b);
    std::printf("| co_await async_recovering_client::call over it | %.1f us/call |\n", c);
    std::printf("| **ratio client / bare transport** | **%.3f** |\n", c / b);
    std::printf("| synchronous streamable_http_transport::send, for reference | %.1f us/call |\n", y);

    std::vector<double> single, calm, stormy;
    std::uint64_t inits_max = 0;
    bool all_ok = true;
    for (int r = 0; r < (quick ? 3 : 20); ++r) {
        auto one = http_storm(client, ioc, 1, all_ok);
        single.insert(single.end(), one.begin(), one.end());
        auto quiet = http_storm(client, ioc, 200, all_ok);
        calm.insert(calm.end(), quiet.begin(), quiet.end());
        const auto before = server.initializes();
        server.expire_all_sessions();
        auto s = http_storm(client, ioc, 200, all_ok);
        stormy.insert(stormy.end(), s.begin(), s.end());
        inits_max = std::max<std::uint64_t>(inits_max, server.initializes() - before);
    }
    std::sort(stormy.begin(), stormy.end());
    const double p99 = stormy[stormy.size() * 99 / 100];
    std::printf("| single call, median | %.1f us |\n", median(single));
    std::printf("| 200 coroutines, no expiry: median latency | %.1f us |\n", median(calm));
    std::printf("| 200 coroutines on an expired session: median / p99 latency | %.1f / %.1f us |\n", median(stormy), p99);
    std::printf("| initializes per storm (goal 1), max over the rounds | %llu |\n",
                static_cast<unsigned long long>(inits_max));
    std::printf("| storm median / single call | %.1f |\n", median(stormy) / median(single));
    std::printf("| storm median / same 200 coroutines without expiry | %.2f |\n", median(stormy) / median(calm));
    std::printf("| every call succeeded | %s |\n", all_ok ? "yes" : "NO");
    return all_ok && inits_max == 1;
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
    const std::uint64_t n = quick ? 100000 : 2000000;
    const int rounds = quick ? 3 : 11;

    memory_async_transport bare;
    net::io_context unused;
    mb::async_recovering_client<memory_async_transport> client(unused.get_executor(), std::in_place);
    std::vector<double> direct, wrapped;
    for (int r = 0; r < rounds; ++r) {
        direct.push_back(run_ns_per_call([&](std::uint64_t i) { return bare.async_send(memory_request{"tools/call", i}, time_point::max()); }, n));
        wrapped.push_back(run_ns_per_call([&](std::uint64_t i) -> net::awaitable<void> {
            auto res = co_await client.call(memory_request{"tools/call", i});
            if (!res) std::abort();
        }, n));
    }
    // Heap allocations per call, each way (one more round; the io_context and the spawn of the
    // loop itself are a handful, spread over n calls).
    auto allocations_per_call = [&](auto run_round) {
        const std::uint64_t before = mcp_recovery_bench::allocations.load();
        run_round();
        return static_cast<double>(mcp_recovery_bench::allocations.load() - before) / static_cast<double>(n);
    };
    // Both from a coroutine of the caller's, as an application awaits them.
    const double direct_allocs = allocations_per_call([&] {
        run_ns_per_call([&](std::uint64_t i) -> net::awaitable<void> {
            auto res = co_await bare.async_send(memory_request{"tools/call", i}, time_point::max());
            if (!res) std::abort();
        }, n);
    });
    const double wrapped_allocs = allocations_per_call([&] {
        run_ns_per_call([&](std::uint64_t i) -> net::awaitable<void> {
            auto res = co_await client.call(memory_request{"tools/call", i});
            if (!res) std::abort();
        }, n);
    });
    const double d = median(direct), w = median(wrapped);
    std::printf("# mcp-recovery async benchmark (Asio coroutines, one thread)\n\n");
    std::printf("| measure | value |\n|---|---|\n");
    std::printf("| co_await transport.async_send directly (in-memory, no I/O), median of %d rounds | %.1f ns/call |\n",
                rounds, d);
    std::printf("| co_await async_recovering_client::call | %.1f ns/call |\n", w);
    std::printf("| **ratio client / bare transport** | **%.2f** |\n", w / d);
    std::printf("| heap allocations per call, from a coroutine: awaiting the transport / the client (Boost %d.%d) | %.2f / %.2f |\n",
                BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, direct_allocs, wrapped_allocs);

    net::io_context ioc;
    using storm_client = mb::async_recovering_client<suspending_transport, default_classifier, retry_once, no_backoff,
                                                     mb::async_single_flight_reconnector<no_backoff>>;
    storm_client sc(ioc.get_executor(), std::in_place, ioc.get_executor());
    std::vector<double> single, calm, stormy;
    std::uint64_t inits_max = 0;
    for (int r = 0; r < (quick ? 5 : 30); ++r) {
        auto one = storm(sc, ioc, 1);
        single.insert(single.end(), one.begin(), one.end());
        auto c = storm(sc, ioc, 200);
        calm.insert(calm.end(), c.begin(), c.end());
        const auto before = sc.transport().inner.reconnects();
        sc.transport().inner.expire_session();
        auto s = storm(sc, ioc, 200);
        stormy.insert(stormy.end(), s.begin(), s.end());
        inits_max = std::max<std::uint64_t>(inits_max, sc.transport().inner.reconnects() - before);
    }
    std::printf("| single call through the client (one suspension per send), median | %.2f us |\n", median(single));
    std::printf("| 200 coroutines, no expiry: median latency | %.2f us |\n", median(calm));
    std::printf("| 200 coroutines on an expired session: median latency | %.2f us |\n", median(stormy));
    std::printf("| initializes per storm (goal 1), max over the rounds | %llu |\n",
                static_cast<unsigned long long>(inits_max));
    std::printf("| storm median / single call | %.1f |\n", median(stormy) / median(single));
    std::printf("| storm median / same 200 coroutines without expiry | %.2f |\n", median(stormy) / median(calm));
    const bool http_ok = http_section(quick);
    // One more coroutine frame than awaiting the transport: at most one more allocation per call
    // (Asio recycles frames through a small per-thread cache: 1 slot in Boost 1.74).
    const bool allocations_ok = wrapped_allocs <= direct_allocs + 1.01;
    if (!allocations_ok) std::printf("\nFAILED: the client allocates on the success path\n");
    return inits_max == 1 && http_ok && allocations_ok ? 0 : 1;
}
