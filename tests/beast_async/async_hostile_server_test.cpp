// Hostile HTTP servers (issue 11) against the awaitable transport: the cases of
// tests/support/hostile_cases.hpp (as tests/beast_net/hostile_server_test.cpp runs them against
// the synchronous one), on an io_context run by the test's thread and on one run by 4 threads;
// and read timeouts on a 4-thread io_context, which must always read as timeouts.
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include "mcp_recovery/beast/async_client.hpp"

#include "async_support.hpp"
#include "catch.hpp"
#include "hostile_cases.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace net = boost::asio;
namespace hostile = mcp_recovery_tests::hostile;
using namespace std::chrono_literals;

namespace {

/// Waits for the completion of `a` spawned on `ioc`, which other threads run.
template <class T>
T wait_on(net::io_context& ioc, net::awaitable<T> a) {
    std::promise<T> done;
    std::future<T> result = done.get_future();
    net::co_spawn(ioc, std::move(a), [&done](std::exception_ptr e, T v) {
        if (e) done.set_exception(e);
        else done.set_value(std::move(v));
    });
    // Every step of the transport has a timeout: this only keeps a broken build from hanging
    // (the handler still refers to `done`, so there is no returning without it).
    if (result.wait_for(120s) != std::future_status::ready) {
        std::fputs("an awaitable did not complete within 120 s\n", stderr);
        std::abort();
    }
    return result.get();
}

/// The awaitable transport, alone (`send`) and under an async recovering client (`call`), on an
/// io_context run by the calling thread (Threads == 0) or by `Threads` threads of its own.
template <int Threads>
class async_driver {
public:
    using client_type = mb::async_recovering_client<mb::async_streamable_http_transport>;

    explicit async_driver(mb::transport_options o)
        : client_(ioc_.get_executor(), std::in_place, ioc_.get_executor(), std::move(o)) {
        if constexpr (Threads > 0) {
            work_.emplace(ioc_.get_executor());
            for (int i = 0; i < Threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
        }
    }
    async_driver(const async_driver&) = delete;
    async_driver& operator=(const async_driver&) = delete;
    ~async_driver() {
        work_.reset();
        for (auto& t : threads_) t.join();
    }

    outcome<void> connect() { return await(client_.transport().async_connect()); }
    outcome<mb::response> send(const mb::request& r, time_point deadline = time_point::max()) {
        return await(client_.transport().async_send(r, deadline));
    }
    client_type::result_type call(const mb::request& r, const call_options& o = {}) { return await(client_.call(r, o)); }
    mb::http_diagnostics diagnostics() { return client_.transport().diagnostics(); }
    std::size_t connections_opened() { return client_.transport().connections_opened(); }

private:
    template <class T>
    T await(net::awaitable<T> a) {
        if constexpr (Threads == 0) return mcp_recovery_tests::run(ioc_, std::move(a));
        else return wait_on(ioc_, std::move(a));
    }

    net::io_context ioc_;
    client_type client_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
};

using one_thread = async_driver<0>;
using four_threads = async_driver<4>;

}  // namespace

TEST_CASE("async: bytes after a complete response close the connection, never the next answer",
          "[beast][hostile][async][framing]") {
    SECTION("one thread") { hostile::stray_crlf<one_thread>(); }
    SECTION("4 threads") { hostile::stray_crlf<four_threads>(); }
}

TEST_CASE("async: a Content-Length counted in characters is never read into the next answer",
          "[beast][hostile][async][framing]") {
    SECTION("one thread") { hostile::length_in_characters<one_thread>(); }
    SECTION("4 threads") { hostile::length_in_characters<four_threads>(); }
}

TEST_CASE("async: an unsolicited second response is never another call's answer",
          "[beast][hostile][async][framing]") {
    SECTION("one thread") { hostile::unsolicited_response<one_thread>(); }
    SECTION("4 threads") { hostile::unsolicited_response<four_threads>(); }
}

TEST_CASE("async: 1xx interim responses are skipped, bounded", "[beast][hostile][async][interim]") {
    SECTION("one thread") { hostile::interim_responses<one_thread>(); }
    SECTION("4 threads") { hostile::interim_responses<four_threads>(); }
}

TEST_CASE("async: a Content-Encoding other than identity is refused by name", "[beast][hostile][async][encoding]") {
    SECTION("one thread") { hostile::content_encoding<one_thread>(); }
    SECTION("4 threads") { hostile::content_encoding<four_threads>(); }
}

TEST_CASE("async: response_timeout bounds a response that only trickles", "[beast][hostile][async][timeout]") {
    SECTION("one thread") { hostile::response_timeout<one_thread>(); }
    SECTION("4 threads") { hostile::response_timeout<four_threads>(); }
}

TEST_CASE("async: servers that close idle connections cost no non-idempotent call",
          "[beast][hostile][async][keep_alive]") {
    SECTION("one thread") { hostile::idle_close<one_thread>(); }
    SECTION("4 threads") { hostile::idle_close<four_threads>(); }
}

TEST_CASE("async: on an io_context run by 4 threads a read timeout is always timed_out, never cancelled",
          "[beast][hostile][async][threads]") {
    using mcp_recovery_tests::raw_answer;
    mcp_recovery_tests::raw_http_server server(hostile::mcp_script([](const std::string&) {
        return raw_answer{"", /*hang=*/true};  // never answers
    }));
    auto o = hostile::options_for(server);
    o.read_timeout = 50ms;
    four_threads d(o);
    REQUIRE(d.connect());
    for (int i = 0; i < 12; ++i) {
        CAPTURE(i);
        auto r = d.send(hostile::marked_call("h-" + std::to_string(i)));
        REQUIRE_FALSE(r);
        INFO("failure: " << r.error().transport_error.message() << ": " << r.error().message.view());
        CHECK(r.error().transport_error == std::errc::timed_out);
        CHECK(r.error().transport_error != std::errc::operation_canceled);
        CHECK(r.error().delivered == delivery::unknown);
    }
}
