// Host-name resolution of the synchronous transport: no thread per pooled connection (one
// process-wide lookup service, detail/sync_resolver.hpp), and a lookup that does not finish in time
// ends by the caller's budget, never blocking it, a destructor or the process's exit.
#include <utility>

#include "mcp_recovery/beast/detail/sync_resolver.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"

#include "catch.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char** environ;
#endif

namespace {

namespace mb = mcp_recovery::beast;
namespace net = boost::asio;
using mb::detail::sync_resolver;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// A lookup that blocks until `open()`, counting its calls.
struct gate {
    std::mutex m;
    std::condition_variable cv;
    bool is_open = false;
    std::atomic<int> calls{0};
    void open() {
        {
            std::lock_guard<std::mutex> lock(m);
            is_open = true;
        }
        cv.notify_all();
    }
    /// The lookup owns the gate: a worker may still be in it when the test ends.
    static sync_resolver::resolve_function function(std::shared_ptr<gate> self) {
        return [self](const std::string& host, const std::string& service, boost::system::error_code& ec) {
            self->calls.fetch_add(1);
            std::unique_lock<std::mutex> lock(self->m);
            self->cv.wait(lock, [&] { return self->is_open; });
            ec = {};
            return sync_resolver::results_type::create(tcp::endpoint(net::ip::make_address("127.0.0.1"), 1), host, service);
        };
    }
};

/// An injected lookup that answers at once.
sync_resolver::results_type loopback(const std::string& host, const std::string& service, boost::system::error_code& ec) {
    ec = {};
    return sync_resolver::results_type::create(tcp::endpoint(net::ip::make_address("127.0.0.1"), 1), host, service);
}

template <class F>
bool eventually(F f, std::chrono::milliseconds within = 5s) {
    const auto end = steady::now() + within;
    while (!f()) {
        if (steady::now() > end) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

#if defined(__linux__)
int entries(const char* dir) {
    DIR* d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    while (const dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}
int threads_of_process() { return entries("/proc/self/task"); }
#endif

}  // namespace

TEST_CASE("sync_resolver: answers, and passes the lookup's error on", "[beast][sync_resolver]") {
    sync_resolver r(loopback);
    net::io_context waiter{1};
    sync_resolver::results_type out;
    REQUIRE_FALSE(r.resolve("example.test", "80", waiter, 1s, out));
    REQUIRE(out.size() == 1);
    CHECK(out.begin()->endpoint().port() == 1);

    sync_resolver failing([](const std::string&, const std::string&, boost::system::error_code& ec) {
        ec = net::error::host_not_found;
        return sync_resolver::results_type{};
    });
    CHECK(failing.resolve("nowhere.test", "80", waiter, 1s, out) == net::error::host_not_found);
    CHECK(failing.resolve("nowhere.test", "80", waiter, 0s, out) == net::error::timed_out);  // no budget left
}

TEST_CASE("sync_resolver: a lookup that does not finish in time ends by the timeout", "[beast][sync_resolver]") {
    auto g = std::make_shared<gate>();
    auto r = std::make_unique<sync_resolver>(gate::function(g));
    net::io_context waiter{1};
    sync_resolver::results_type out;

    const auto start = steady::now();
    CHECK(r->resolve("hung.test", "80", waiter, 200ms, out) == net::error::timed_out);
    const auto took = steady::now() - start;
    CHECK(took >= 200ms);
    CHECK(took < 2s);
    CHECK(out.empty());

    // The io_context is usable for the connection's next steps: no work left on it.
    waiter.restart();
    waiter.run();

    // Destroying the service while its thread is stuck in the lookup does not wait for it.
    const auto before = steady::now();
    r.reset();
    CHECK(steady::now() - before < 100ms);
    g->open();  // the worker returns, finds nobody waiting, and ends (it owns what it uses)
}

TEST_CASE("sync_resolver: a stopped waiter (connection::interrupt) ends the wait", "[beast][sync_resolver]") {
    auto g = std::make_shared<gate>();
    sync_resolver r(gate::function(g));
    net::io_context waiter{1};
    sync_resolver::results_type out;
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        waiter.stop();
    });
    const auto start = steady::now();
    CHECK(r.resolve("hung.test", "80", waiter, 10s, out) == net::error::operation_aborted);
    CHECK(steady::now() - start < 5s);
    stopper.join();
    g->open();
}

TEST_CASE("sync_resolver: callers of one name share its lookup; threads are bounded and end when idle",
          "[beast][sync_resolver]") {
    auto g = std::make_shared<gate>();
    sync_resolver r(gate::function(g), /*max_threads=*/2, /*linger=*/100ms);
    constexpr int callers = 8;
    std::atomic<int> started{0};
    std::atomic<int> answered{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < callers; ++i) {
        ts.emplace_back([&] {
            net::io_context waiter{1};
            sync_resolver::results_type out;
            started.fetch_add(1);
            if (!r.resolve("same.test", "443", waiter, 10s, out) && out.size() == 1) answered.fetch_add(1);
        });
    }
    REQUIRE(eventually([&] { return started.load() == callers; }));
    std::this_thread::sleep_for(100ms);
    CHECK(g->calls.load() == 1);
    CHECK(r.threads() == 1);

    // Other names take the second thread; a third waits for a free one (and times out meanwhile).
    std::thread other([&] {
        net::io_context waiter{1};
        sync_resolver::results_type out;
        CHECK_FALSE(r.resolve("other.test", "443", waiter, 10s, out));
    });
    REQUIRE(eventually([&] { return g->calls.load() == 2; }));
    net::io_context waiter{1};
    sync_resolver::results_type out;
    CHECK(r.resolve("third.test", "443", waiter, 100ms, out) == net::error::timed_out);
    CHECK(r.threads() == 2);

    g->open();
    for (auto& t : ts) t.join();
    other.join();
    CHECK(answered.load() == callers);
    // Nobody waits for "third.test" any more: it is dropped, not looked up. Then, idle, both end.
    CHECK(eventually([&] { return r.threads() == 0; }));
    CHECK(g->calls.load() == 2);
}

TEST_CASE("sync_resolver: many threads, many names (for ThreadSanitizer)", "[beast][sync_resolver]") {
    sync_resolver r(loopback, 3, 20ms);
    std::vector<std::thread> ts;
    std::atomic<int> ok{0};
    for (int i = 0; i < 6; ++i) {
        ts.emplace_back([&, i] {
            net::io_context waiter{1};
            for (int k = 0; k < 50; ++k) {
                sync_resolver::results_type out;
                const auto ec = r.resolve("h" + std::to_string((i + k) % 4) + ".test", "80", waiter,
                                          k % 7 == 0 ? 1ms : 5s, out);
                if (!ec || ec == net::error::timed_out) ok.fetch_add(1);
                waiter.restart();
                waiter.run();  // a wake-up posted after a timeout is a no-op
            }
        });
    }
    for (auto& t : ts) t.join();
    CHECK(ok.load() == 6 * 50);
}

#if defined(__linux__)
TEST_CASE("sync transport: pooled connections to a host name hold no thread each", "[beast][sync_resolver]") {
    mb::testing::flaky_server server;  // its thread runs before the count
    const int threads_before = threads_of_process();
    REQUIRE(threads_before > 0);

    mb::transport_options o;
    o.url = "http://localhost:" + std::to_string(server.port()) + "/mcp";
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());

    // Calls at once, each long enough (3 x 100 ms) to hold its connection while the others open.
    constexpr int callers = 6;
    std::atomic<int> ready{0};
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < callers; ++i) {
        ts.emplace_back([&] {
            ready.fetch_add(1);
            while (ready.load() < callers) std::this_thread::yield();
            if (t.send({"tools/call", R"({"name":"progress","arguments":{"steps":3,"interval_ms":100}})"})) ok.fetch_add(1);
        });
    }
    for (auto& x : ts) x.join();
    CHECK(ok.load() == callers);
    const int threads_after = threads_of_process();
    const std::size_t opened = t.connections_opened();
    INFO("threads before " << threads_before << ", after " << threads_after << ", connections opened " << opened);
    CHECK(opened >= 4);  // several connections are pooled, each opened through the resolver
    // Before: one resolver thread per connection. Now: at most the process's lookup thread (it may
    // have been started by an earlier test, then it is in both counts).
    CHECK(threads_after - threads_before <= 1);
    CHECK(sync_resolver::shared().threads() <= 1);
}

TEST_CASE("sync_resolver: child exits with a hung lookup", "[.][sync_resolver_child]") {
    // Run in a child process by the next test: a detached lookup thread that never returns, the
    // service never destroyed, then exit(), which runs the static destructors and ends the threads.
    auto g = std::make_shared<gate>();  // never opened
    auto* r = new sync_resolver(gate::function(g));
    net::io_context waiter{1};
    sync_resolver::results_type out;
    const auto ec = r->resolve("hung.test", "80", waiter, 20ms, out);
    std::exit(ec == net::error::timed_out && r->threads() == 1 ? 0 : 3);
}

TEST_CASE("sync_resolver: the process exits while a lookup hangs", "[beast][sync_resolver]") {
    char self[] = "/proc/self/exe";
    char name[] = "sync_resolver: child exits with a hung lookup";
    char* argv[] = {self, name, nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, self, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    int status = 0;
    const bool exited = eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 20s);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    REQUIRE(exited);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
