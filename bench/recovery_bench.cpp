// Recovery at the floor (issue 15): what a call that meets an expired session costs, as a ratio
// to a normal call, for both flavours (the synchronous client over `streamable_http_transport`,
// the awaitable client over `async_streamable_http_transport`), with `notifications/initialized`
// pipelined with the replay (`transport_options::pipeline_initialized`, the default) and without
// it, all in one run against one `flaky_server` that enforces the lifecycle order as the Python
// SDK's server does (`require_initialized`). The four clients take turns, so that machine noise
// hits them alike.
//
// Round trips: normal call 1; recovery 4 without pipelining (the failed call, initialize, the
// notification, the replay) and 3 with it (the notification travels with the replay).
//
// `--latency-us N`: the clients talk to the server through a proxy on 127.0.0.1 that holds every
// chunk of bytes N microseconds in each direction (order kept), i.e. a network with a round trip
// of 2N: on bare loopback a round trip is mostly CPU (both ends' processing), which pipelining
// cannot remove; over a network it is mostly latency, which it does.
//
// C++17 (or a compiler for which Asio has no co_await): the synchronous half only.
//
// Exits non-zero when a call failed, when the server refused a request for arriving before the
// notification, or when a recovery took more or fewer than one initialize: `--quick` is CI's
// functional smoke run.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)  // the awaitable half: C++20 where Asio has co_await
#define MCPR_BENCH_ASYNC 1
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#else
#define MCPR_BENCH_ASYNC 0
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace net = boost::asio;
using bench_clock = std::chrono::steady_clock;
using us = std::chrono::duration<double, std::micro>;

using sync_client = recovering_client<mb::streamable_http_transport>;

const mb::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"benchmark"}})"};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

/// A TCP proxy on 127.0.0.1 that delays every chunk `one_way` in each direction, in order: an
/// emulated network in front of the server. One I/O thread; bounded by the connections it serves.
class delay_proxy {
public:
    delay_proxy(std::uint16_t upstream, std::chrono::microseconds one_way)
        : upstream_(upstream), delay_(one_way), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~delay_proxy() {
        ioc_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/mcp"; }

private:
    using tcp = net::ip::tcp;
    struct link;
    /// One direction: read from `from`, hold, write to `to`.
    struct direction {
        tcp::socket* from;
        tcp::socket* to;
        net::steady_timer timer;
        std::deque<std::pair<bench_clock::time_point, std::string>> queue;
        bool writing = false;
        std::array<char, 16384> buffer{};
        explicit direction(net::io_context& ioc) : timer(ioc) {}
    };
    struct link : std::enable_shared_from_this<link> {
        tcp::socket client, server;
        direction up, down;
        std::chrono::microseconds delay;
        link(net::io_context& ioc, std::chrono::microseconds d) : client(ioc), server(ioc), up(ioc), down(ioc), delay(d) {
            up.from = &client;
            up.to = &server;
            down.from = &server;
            down.to = &client;
        }
        void close() {
            boost::system::error_code ignored;
            client.close(ignored);
            server.close(ignored);
        }
        void read(direction& d) {
            auto self = shared_from_this();
            d.from->async_read_some(net::buffer(d.buffer), [self, &d](const boost::system::error_code& ec, std::size_t n) {
                if (ec) return self->close();
                d.queue.emplace_back(bench_clock::now() + self->delay, std::string(d.buffer.data(), n));
                if (!d.writing) self->write(d);
                self->read(d);
            });
        }
        void write(direction& d) {
            if (d.queue.empty()) {
                d.writing = false;
                return;
            }
            d.writing = true;
            auto self = shared_from_this();
            d.timer.expires_at(d.queue.front().first);
            d.timer.async_wait([self, &d](const boost::system::error_code& ec) {
                if (ec) return self->close();
                net::async_write(*d.to, net::buffer(d.queue.front().second),
                                 [self, &d](const boost::system::error_code& e, std::size_t) {
                                     if (e) return self->close();
                                     d.queue.pop_front();
                                     self->write(d);
                                 });
            });
        }
    };

    void accept() {
        auto l = std::make_shared<link>(ioc_, delay_);
        acceptor_.async_accept(l->client, [this, l](const boost::system::error_code& ec) {
            if (ec) return;
            boost::system::error_code e;
            l->server.connect({net::ip::make_address("127.0.0.1"), upstream_}, e);
            if (!e) {
                l->client.set_option(tcp::no_delay(true), e);
                l->server.set_option(tcp::no_delay(true), e);
                l->read(l->up);
                l->read(l->down);
            }
            accept();
        });
    }

    std::uint16_t upstream_;
    std::chrono::microseconds delay_;
    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

struct series {
    std::vector<double> normal, recovery;
    int failures = 0;
    int wrong_initializes = 0;
};

/// One of the four clients: `call()` makes one call and returns its latency in microseconds.
class contender {
public:
    virtual ~contender() = default;
    virtual double call(bool& ok) = 0;
    virtual const mb::conversation_stats stats() const = 0;
    series data;
};

class sync_contender final : public contender {
public:
    explicit sync_contender(const mb::transport_options& o) : client_(std::in_place, o) {
        if (!client_.transport().connect()) throw std::runtime_error("connect failed");
    }
    double call(bool& ok) override {
        const auto s = bench_clock::now();
        auto r = client_.try_call(echo);
        ok = r.has_value() && !r->is_error();
        return us(bench_clock::now() - s).count();
    }
    const mb::conversation_stats stats() const override { return client_.transport().conversation(); }

private:
    sync_client client_;
};

#if MCPR_BENCH_ASYNC
using async_client = mb::async_recovering_client<mb::async_streamable_http_transport>;

class async_contender final : public contender {
public:
    async_contender(net::io_context& ioc, const mb::transport_options& o)
        : ioc_(ioc), client_(ioc.get_executor(), std::in_place, ioc.get_executor(), o) {
        bool connected = false;
        net::co_spawn(ioc_, [&]() -> net::awaitable<void> {
            connected = static_cast<bool>(co_await client_.transport().async_connect());
        }, net::detached);
        ioc_.restart();
        ioc_.run();
        if (!connected) throw std::runtime_error("connect failed");
    }
    double call(bool& ok) override {
        double latency = 0;
        bool good = false;
        net::co_spawn(ioc_, [&]() -> net::awaitable<void> {
            const auto s = bench_clock::now();
            auto r = co_await client_.call(echo);
            latency = us(bench_clock::now() - s).count();
            good = r.has_value() && !r->is_error();
        }, net::detached);
        ioc_.restart();
        ioc_.run();
        ok = good;
        return latency;
    }
    const mb::conversation_stats stats() const override { return client_.transport().conversation(); }

private:
    net::io_context& ioc_;
    async_client client_;
};
#endif

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    long latency_us = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--latency-us" && i + 1 < argc) latency_us = std::strtol(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: %s [--quick] [--latency-us N]\n", argv[0]);
            return 2;
        }
    }
    if (latency_us < 0 || latency_us > 100000) {
        std::fprintf(stderr, "--latency-us: 0 .. 100000\n");
        return 2;
    }
    const int recoveries = quick ? 20 : 300;
    const int normals_per_recovery = 5;

    mb::testing::flaky_server_options so;
    so.require_initialized = true;
    mb::testing::flaky_server server(so);
    net::io_context ioc;

    mb::transport_options piped;
    std::unique_ptr<delay_proxy> proxy;
    if (latency_us > 0) proxy = std::make_unique<delay_proxy>(server.port(), std::chrono::microseconds(latency_us));
    piped.url = proxy ? proxy->url() : server.url();
    piped.pipeline_initialized = true;
    mb::transport_options plain = piped;
    plain.pipeline_initialized = false;

    struct entry {
        const char* name;
        std::unique_ptr<contender> c;
    };
    std::vector<entry> all;
    try {
        all.push_back({"sync, pipelined", std::make_unique<sync_contender>(piped)});
        all.push_back({"sync, not pipelined", std::make_unique<sync_contender>(plain)});
#if MCPR_BENCH_ASYNC
        all.push_back({"async, pipelined", std::make_unique<async_contender>(ioc, piped)});
        all.push_back({"async, not pipelined", std::make_unique<async_contender>(ioc, plain)});
#else
        (void)ioc;
        std::printf("(built without co_await: the awaitable client is not measured)\n\n");
#endif
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cannot connect to flaky_server: %s\n", e.what());
        return 1;
    }
    bool ok = false;
    for (auto& e : all)
        for (int i = 0; i < 50; ++i) e.c->call(ok);  // warm-up

    for (int r = 0; r < recoveries; ++r) {
        for (auto& e : all) {
            // Every session ends (the other clients' too: each meets that on its own turn, first).
            server.expire_all_sessions();
            const auto before = server.initializes();
            e.c->data.recovery.push_back(e.c->call(ok));
            if (!ok) ++e.c->data.failures;
            if (server.initializes() - before != 1) ++e.c->data.wrong_initializes;
            for (int i = 0; i < normals_per_recovery; ++i) {
                e.c->data.normal.push_back(e.c->call(ok));
                if (!ok) ++e.c->data.failures;
            }
        }
    }

    std::printf("# Recovery / normal call (flaky_server with require_initialized, JSON answers, one run%s)\n\n",
                latency_us > 0 ? (", through a proxy adding " + std::to_string(latency_us) + " us each way").c_str() : "");
    std::printf("| client | normal call, median | recovery, median | **recovery / normal** | pipelined notifications | failed calls |\n");
    std::printf("|---|---|---|---|---|---|\n");
    int failures = 0;
    int wrong = 0;
    for (auto& e : all) {
        const double n = median(e.c->data.normal), rec = median(e.c->data.recovery);
        std::printf("| %s | %.1f us | %.1f us | **%.2f** | %llu | %d |\n", e.name, n, rec, rec / n,
                    static_cast<unsigned long long>(e.c->stats().initialized_pipelined), e.c->data.failures);
        failures += e.c->data.failures;
        wrong += e.c->data.wrong_initializes;
    }
    std::printf("\n%d recoveries per client (%d normal calls each before each); requests refused as arriving "
                "before notifications/initialized: %llu; recoveries without exactly one initialize: %d\n",
                recoveries, normals_per_recovery,
                static_cast<unsigned long long>(server.requests_before_initialized()), wrong);
    return failures == 0 && wrong == 0 && server.requests_before_initialized() == 0 ? 0 : 1;
}
