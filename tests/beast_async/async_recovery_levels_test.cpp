// The cases of tests/unit/recovery_levels_test.cpp for the asynchronous client (issue 10): a lost
// connection is not a lost session, a lost session is renewed even when the call is not replayed,
// lost-session answers are replayable, deadlines reach the flight and no attempt starts after
// them, flights are bounded on their own, one credential refresh serves every caller.
// The transport is the scripted HTTP one behind real coroutine suspensions; waits are real but
// short, and every assertion has a wide margin.
#include "mcp_recovery/beast/async_client.hpp"

#include "mcp_recovery/testing/scripted_transport.hpp"

#include "async_support.hpp"
#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <optional>
#include <string>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace mt = mcp_recovery::testing;
namespace fail = mcp_recovery::testing::failures;
namespace net = boost::asio;
using namespace std::chrono_literals;
using mcp_recovery_tests::run;

namespace {

/// `mt::scripted_http_transport` behind coroutine suspensions, with the optional async operations:
/// `async_reconnect(deadline)`, `async_reopen(deadline)`, `async_refresh_auth()`. A stalled
/// reconnect waits until its deadline (as a server that never answers `initialize`).
class async_http_transport {
public:
    using request_type = mt::scripted_request;
    using response_type = mt::scripted_response;
    static constexpr bool session_outlives_connection = true;

    explicit async_http_transport(net::any_io_executor ex) : ex_(std::move(ex)) {}

    net::awaitable<outcome<response_type>> async_send(const request_type& r, time_point) {
        co_await net::post(ex_, net::use_awaitable);
        co_return inner_.send(r);
    }
    net::awaitable<outcome<void>> async_reconnect() { co_return co_await async_reconnect(time_point::max()); }
    net::awaitable<outcome<void>> async_reconnect(time_point deadline) {
        last_deadline_ = deadline;
        if (stall_reconnects_) {
            net::steady_timer t(ex_, deadline == time_point::max() ? clock_type::now() + 1h : deadline);
            boost::system::error_code ec;
            co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
            failure f;
            f.transport_error = make_error_code(std::errc::timed_out);
            f.method = "notifications/initialized";
            f.delivered = delivery::unknown;
            co_return f;
        }
        co_await net::post(ex_, net::use_awaitable);
        co_return inner_.reconnect(deadline);
    }
    net::awaitable<outcome<void>> async_reopen(time_point deadline) {
        co_await net::post(ex_, net::use_awaitable);
        co_return inner_.reopen(deadline);
    }
    net::awaitable<outcome<void>> async_refresh_auth() {
        // Suspends first, so that concurrent callers really overlap with the refresh.
        net::steady_timer t(ex_, 20ms);
        co_await t.async_wait(net::use_awaitable);
        co_return inner_.refresh_auth();
    }
    std::uint64_t generation() const noexcept { return inner_.generation(); }

    mt::scripted_http_transport& inner() noexcept { return inner_; }
    time_point last_deadline() const noexcept { return last_deadline_; }
    void stall_reconnects(bool on) noexcept { stall_reconnects_ = on; }

private:
    net::any_io_executor ex_;
    mt::scripted_http_transport inner_;
    time_point last_deadline_ = time_point::max();
    bool stall_reconnects_ = false;
};

template <class Retry = retry_once, class Classifier = default_classifier>
using client_type = mb::async_recovering_client<async_http_transport, Classifier, Retry, no_backoff,
                                                mb::async_single_flight_reconnector<>, counting_observer>;
using result = client_type<>::result_type;

const mt::scripted_request list_tools{"tools/list", "list"};
const mt::scripted_request write_file{"tools/call", "write"};

struct blunt_classifier {
    classification classify(const failure& f) const {
        if (f.message == "gone") return failure_kind::session_expired;
        return spec_classifier{}.classify(f);
    }
};

template <class Client>
typename Client::result_type call(net::io_context& ioc, Client& c, const mt::scripted_request& r,
                                  std::optional<duration> timeout = std::nullopt) {
    call_options o;
    o.timeout = timeout;
    return run(ioc, c.call(r, o));
}

}  // namespace

TEST_CASE("async: a reset connection is reopened on the same session: 0 initializes", "[async][levels]") {
    net::io_context ioc;
    client_type<> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    const auto g0 = t.generation();

    SECTION("an idempotent request whose delivery is unknown is sent again on a new connection") {
        t.fail_next(fail::reset_after_write());
        auto r = call(ioc, c, list_tools);
        REQUIRE(r);
        CHECK(r->generation == g0);
        CHECK(t.reopens() == 1);
        CHECK(t.reconnects() == 0);
        CHECK(c.observer().reopens_succeeded() == 1);
    }
    SECTION("a refused connection never carried the request: even a tools/call is sent again") {
        t.fail_next(fail::connection_refused());
        auto r = call(ioc, c, write_file);
        REQUIRE(r);
        CHECK(t.executions("write") == 1);
        CHECK(t.reconnects() == 0);
    }
    SECTION("a tools/call that may have run is not sent again") {
        t.fail_next(fail::reset_after_write());
        auto r = call(ioc, c, write_file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(t.reopens() == 0);
        CHECK(t.reconnects() == 0);
    }
}

TEST_CASE("async: after a reopen, a lost session costs one initialize within one recovery", "[async][levels]") {
    net::io_context ioc;
    client_type<> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    const auto g0 = t.generation();
    t.on_send([&t, n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (++n == 1) {
            t.expire_session();
            return fail::reset_after_write();
        }
        return std::nullopt;
    });
    auto r = call(ioc, c, list_tools);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);
    CHECK(t.reopens() == 1);
    CHECK(t.reconnects() == 1);
    CHECK(t.sends() == 3);
}

TEST_CASE("async: a server that is down is probed by one flight at a time until it is back", "[async][levels]") {
    net::io_context ioc;
    client_type<limited_time> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    const auto g0 = t.generation();
    t.on_send([n = 0](const mt::scripted_request&) mutable -> std::optional<failure> {
        if (++n == 1) return fail::connection_refused();
        return std::nullopt;
    });
    t.fail_next_reopen(fail::connection_refused(), 3);
    t.expire_session();
    const auto started = clock_type::now();
    auto r = call(ioc, c, write_file, 20s);
    REQUIRE(r);
    CHECK(r->generation == g0 + 1);
    CHECK(t.reconnects() == 1);
    CHECK(t.reopens() == 4);
    CHECK(t.executions("write") == 1);
    CHECK(c.observer().reopens_failed() == 3);
    // Backoff steps 50, 100, 200 ms with full jitter: at most 350 ms of waiting (10 s is a wide margin).
    CHECK(clock_type::now() - started < 10s);
}

TEST_CASE("async: a recognised lost session is renewed even when the call is not replayed", "[async][levels]") {
    net::io_context ioc;
    client_type<retry_once, blunt_classifier> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    failure gone;
    gone.message = "gone";
    gone.delivered = delivery::unknown;
    t.fail_next(gone);
    auto r = call(ioc, c, write_file);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_replayable);
    CHECK(t.reconnects() == 1);
    REQUIRE(call(ioc, c, write_file));
    CHECK(t.reconnects() == 1);
    CHECK(t.sends() == 2);
}

TEST_CASE("async: the server's lost-session answers are replayable", "[async][levels]") {
    for (const failure& lost : {fail::session_not_found(), fail::session_lost_in_band()}) {
        net::io_context ioc;
        client_type<> c(ioc.get_executor(), std::in_place, ioc.get_executor());
        auto& t = c.transport().inner();
        failure unknown = lost;
        unknown.delivered = delivery::unknown;
        t.expire_session(unknown);
        auto r = call(ioc, c, write_file);
        REQUIRE(r);
        CHECK(t.executions("write") == 1);
        CHECK(t.reconnects() == 1);
    }
}

TEST_CASE("async: deadlines reach the flight, and no attempt starts after them", "[async][levels][deadline]") {
    net::io_context ioc;
    client_type<> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();

    SECTION("the flight runs on its own, bounded by reconnect_timeout") {
        t.expire_session();
        const auto before = clock_type::now();
        REQUIRE(call(ioc, c, list_tools, 2s));
        const auto d = c.transport().last_deadline();
        CHECK(d >= before + 10s);
        CHECK(d <= clock_type::now() + 10s);
    }
    SECTION("a slow hook: the caller returns at its deadline and the request is not sent again") {
        t.expire_session();
        c.on_reconnected([](async_http_transport&) -> net::awaitable<outcome<void>> {
            net::steady_timer slow(co_await net::this_coro::executor, 300ms);
            co_await slow.async_wait(net::use_awaitable);
            co_return outcome<void>{};
        });
        auto r = call(ioc, c, list_tools, 50ms);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
        CHECK(t.sends() == 1);
    }
    SECTION("a stalled initialize cannot keep the flight beyond reconnect_timeout") {
        reconnect_options o;
        o.reconnect_timeout = 200ms;
        c.reconnector().set_options(o);
        c.transport().stall_reconnects(true);
        t.expire_session();
        const auto before = clock_type::now();
        auto r = call(ioc, c, list_tools);  // no deadline of its own
        const auto took = clock_type::now() - before;
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->method == "notifications/initialized");
        CHECK(took < 5s);  // bounded by 200 ms; a flight without a bound would run for an hour
        CHECK_FALSE(c.reconnector().in_flight());
    }
}

TEST_CASE("async: a wrong endpoint is a permanent failure at once", "[async][levels]") {
    net::io_context ioc;
    client_type<limited_attempts> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    t.expire_session();
    failure not_found;
    not_found.http_status = 404;
    not_found.method = "initialize";
    not_found.delivered = delivery::rejected;
    t.fail_next_reconnect(not_found, 10);
    auto r = call(ioc, c, list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    CHECK(t.reconnects() == 1);
}

TEST_CASE("async: 16 coroutines rejected with 401 at once share one credential refresh", "[async][levels][auth]") {
    net::io_context ioc;
    client_type<> c(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = c.transport().inner();
    t.fail_next(fail::unauthorized(), 16);
    std::atomic<int> ok{0}, done{0};
    for (int i = 0; i < 16; ++i)
        net::co_spawn(ioc, c.call(list_tools), [&](std::exception_ptr e, result r) {
            if (!e && r) ok.fetch_add(1);
            done.fetch_add(1);
        });
    ioc.run();
    CHECK(done.load() == 16);
    CHECK(ok.load() == 16);
    CHECK(t.refreshes() == 1);

    SECTION("a failed refresh keeps both the 401 and the refresh's failure, for every caller") {
        ioc.restart();
        t.fail_next(fail::unauthorized(), 4);
        failure idp_down = fail::connection_refused();
        idp_down.message = "token endpoint unreachable";
        t.fail_next_refresh(idp_down);
        std::atomic<int> both{0};
        for (int i = 0; i < 4; ++i)
            net::co_spawn(ioc, c.call(list_tools), [&](std::exception_ptr e, result r) {
                if (!e && !r && r.error().code == errc::unauthorized && r.error().last_failure &&
                    r.error().last_failure->message == "token endpoint unreachable" && r.error().request_failure &&
                    r.error().request_failure->http_status == 401)
                    both.fetch_add(1);
            });
        ioc.run();
        CHECK(both.load() == 4);
        CHECK(t.refreshes() == 2);
    }
}
