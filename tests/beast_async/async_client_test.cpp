// The asynchronous recovering client on Asio coroutines: storms of coroutines on one expired
// session (one thread and a 4-thread pool), cancellation mid-wait, deadlines during backoff,
// completion tokens. The transport is the scripted one behind real suspensions.
#include "mcp_recovery/beast/async_client.hpp"

#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"
#include "test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <thread>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace mt = mcp_recovery::testing;
namespace net = boost::asio;
using mcp_recovery_tests::eventually;
using namespace std::chrono_literals;

namespace {

/// The scripted transport behind coroutine suspensions; reconnects can be held at a gate.
class async_scripted_transport {
public:
    using request_type = mt::scripted_request;
    using response_type = mt::scripted_response;

    explicit async_scripted_transport(net::any_io_executor ex) : ex_(std::move(ex)) {}

    net::awaitable<outcome<response_type>> async_send(const request_type& r, time_point) {
        co_await net::post(ex_, net::use_awaitable);  // a real suspension, as a network round trip
        co_return inner_.send(r);
    }
    net::awaitable<outcome<void>> async_reconnect() {
        at_gate_.fetch_add(1);
        std::shared_ptr<mb::async_event> gate;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            gate = gate_;
        }
        if (gate) co_await gate->wait_until(time_point::max());
        at_gate_.fetch_sub(1);
        co_await net::post(ex_, net::use_awaitable);
        co_return inner_.reconnect();
    }
    std::uint64_t generation() const noexcept { return inner_.generation(); }

    void hold_reconnects() {
        std::lock_guard<std::mutex> lock(mutex_);
        gate_ = std::make_shared<mb::async_event>(ex_);
    }
    void release_reconnects() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (gate_) gate_->set();
        gate_.reset();
    }
    std::size_t at_gate() const noexcept { return at_gate_.load(); }
    mt::scripted_transport& inner() noexcept { return inner_; }

private:
    net::any_io_executor ex_;
    mt::scripted_transport inner_;
    std::mutex mutex_;
    std::shared_ptr<mb::async_event> gate_;
    std::atomic<std::size_t> at_gate_{0};
};

template <class Backoff = no_backoff, class Retry = retry_once>
using client_type = mb::async_recovering_client<async_scripted_transport, default_classifier, Retry, Backoff,
                                                mb::async_single_flight_reconnector<no_backoff>, counting_observer>;

const mt::scripted_request list_tools{"tools/list", "list"};

template <class Client, class Executor>
void storm(Client& client, Executor ex, int callers, std::atomic<int>& ok, std::atomic<int>& done) {
    for (int i = 0; i < callers; ++i)
        net::co_spawn(ex, client.call(list_tools), [&](std::exception_ptr e, typename Client::result_type r) {
            if (!e && r) ok.fetch_add(1);
            done.fetch_add(1);
        });
}

}  // namespace

TEST_CASE("200 coroutines on one io_context hit an expired session: one initialize, all succeed", "[async]") {
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = client.transport();
    t.inner().expire_session();
    t.hold_reconnects();
    std::atomic<int> ok{0}, done{0};
    storm(client, ioc.get_executor(), 200, ok, done);
    std::thread runner([&] { ioc.run(); });
    // The flight runs on its own; every call, the one that started it included, waits for it.
    const bool gathered = eventually([&] { return t.at_gate() == 1 && client.reconnector().waiters() == 200; });
    t.release_reconnects();
    runner.join();
    REQUIRE(gathered);
    CHECK(done.load() == 200);
    CHECK(ok.load() == 200);
    CHECK(t.inner().reconnects() == 1);
    CHECK(client.observer().reconnects() == 1);
}

TEST_CASE("200 coroutines on a 4-thread pool hit an expired session: one initialize, all succeed", "[async]") {
    for (int round = 0; round < 5; ++round) {
        net::thread_pool pool(4);
        client_type<> client(pool.get_executor(), std::in_place, pool.get_executor());
        auto& t = client.transport();
        t.inner().expire_session();
        std::atomic<int> ok{0}, done{0};
        storm(client, pool.get_executor(), 200, ok, done);
        pool.join();
        CAPTURE(round);
        CHECK(done.load() == 200);
        CHECK(ok.load() == 200);
        CHECK(t.inner().reconnects() == 1);
    }
}

TEST_CASE("cancel() ends a call sleeping in a backoff at once, and it is not retried", "[async][cancel]") {
    net::io_context ioc;
    client_type<basic_exponential_backoff<>, limited_attempts> client(ioc.get_executor(), std::in_place,
                                                                      ioc.get_executor());
    client.backoff_policy() = basic_exponential_backoff<>(std::chrono::hours(1), 2.0, std::chrono::hours(2), jitter::none);
    client.retry_policy() = limited_attempts(5);
    client.transport().inner().fail_next(mt::failures::server_error(503));
    std::optional<errc> outcome_code;
    net::co_spawn(ioc, client.call(list_tools), [&](std::exception_ptr, client_type<>::result_type r) {
        outcome_code = r ? errc{} : static_cast<errc>(r.error().code.value());
    });
    std::thread runner([&] { ioc.run(); });
    const bool sleeping = eventually([&] { return client.sleepers() == 1; });
    client.cancel();
    runner.join();  // would take an hour if the cancel did not end the wait
    REQUIRE(sleeping);
    REQUIRE(outcome_code);
    CHECK(*outcome_code == errc::cancelled);
    CHECK(client.transport().inner().sends() == 1);
}

TEST_CASE("a cancelled call leaves the session usable for others", "[async][cancel]") {
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = client.transport();
    t.inner().expire_session();
    t.hold_reconnects();
    std::atomic<int> ok{0}, done{0};
    storm(client, ioc.get_executor(), 10, ok, done);
    std::thread runner([&] { ioc.run(); });
    const bool gathered = eventually([&] { return t.at_gate() == 1 && client.reconnector().waiters() == 10; });
    client.cancel();  // every call in progress ends, the one that started the flight included
    const bool all_done = eventually([&] { return done.load() == 10; });
    const bool still_flying = client.reconnector().in_flight();
    t.release_reconnects();  // the flight goes on without them
    runner.join();
    REQUIRE(gathered);
    REQUIRE(all_done);
    CHECK(still_flying);
    CHECK(ok.load() == 0);
    CHECK(t.inner().reconnects() == 1);
    // a new call finds the new session: no second initialize
    net::io_context ioc2;
    std::optional<bool> later;
    net::co_spawn(ioc.get_executor(), client.call(list_tools), [&](std::exception_ptr, client_type<>::result_type r) {
        later = r.has_value();
    });
    ioc.restart();
    ioc.run();
    REQUIRE(later);
    CHECK(*later);
    CHECK(t.inner().reconnects() == 1);
}

TEST_CASE("a deadline that falls inside a backoff ends the call at once, without sleeping", "[async][deadline]") {
    net::io_context ioc;
    client_type<basic_exponential_backoff<>, limited_attempts> client(ioc.get_executor(), std::in_place,
                                                                      ioc.get_executor());
    client.backoff_policy() = basic_exponential_backoff<>(10s, 2.0, 60s, jitter::none);
    client.retry_policy() = limited_attempts(5);
    client.transport().inner().fail_next(mt::failures::server_error(503));
    call_options o;
    o.timeout = 1s;
    std::optional<std::error_code> code;
    const auto start = std::chrono::steady_clock::now();
    net::co_spawn(ioc, client.call(list_tools, o), [&](std::exception_ptr, client_type<>::result_type r) {
        code = r ? std::error_code{} : r.error().code;
    });
    ioc.run();
    REQUIRE(code);
    CHECK(*code == errc::deadline_exceeded);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("async_call completes through use_awaitable and through a callback", "[async][tokens]") {
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    client.transport().inner().expire_session();
    std::optional<std::string> via_awaitable;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        auto r = co_await client.async_call(list_tools, {}, net::use_awaitable);
        if (r) via_awaitable = r->key;
    }, net::detached);
    std::optional<std::string> via_callback;
    client.async_call(mt::scripted_request{"tools/call", "write"}, {},
                      [&](std::exception_ptr e, client_type<>::result_type r) {
                          if (!e && r) via_callback = r->key;
                      });
    ioc.run();
    CHECK(via_awaitable == std::optional<std::string>("list"));
    CHECK(via_callback == std::optional<std::string>("write"));
    CHECK(client.transport().inner().reconnects() == 1);
}

TEST_CASE("async replay safety: a non-idempotent call with unknown delivery is not replayed", "[async][replay]") {
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    client.transport().inner().fail_next(mt::failures::reset_after_write());
    std::optional<std::error_code> code;
    client.async_call(mt::scripted_request{"tools/call", "transfer"}, {},
                      [&](std::exception_ptr, client_type<>::result_type r) {
                          code = r ? std::error_code{} : r.error().code;
                      });
    ioc.run();
    REQUIRE(code);
    CHECK(*code == errc::not_replayable);
    CHECK(client.transport().inner().executions("transfer") == 1);
}

#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
// Per-operation cancellation (Boost >= 1.80): a terminal cancellation of one call's slot ends that
// call only; the flight it waited for goes on for the others.

namespace {

struct slot_call {
    net::cancellation_signal signal;
    std::optional<std::error_code> code;  // the call's error ({} for success)
    bool threw = false;                   // ended by system_error(operation_aborted)
};

// Runs client.call(request) with throw_if_cancelled as given, bound to `c.signal`.
template <class Client>
void spawn_with_slot(Client& client, net::any_io_executor ex, slot_call& c, bool throw_if_cancelled) {
    net::co_spawn(
        ex,
        [&client, &c, throw_if_cancelled]() -> net::awaitable<void> {
            co_await net::this_coro::throw_if_cancelled(throw_if_cancelled);
            auto r = co_await client.call(list_tools);
            c.code = r ? std::error_code{} : r.error().code;
        },
        net::bind_cancellation_slot(c.signal.slot(), [&c](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const boost::system::system_error& se) {
                c.threw = se.code() == net::error::operation_aborted;
            }
        }));
}

}  // namespace

TEST_CASE("a cancellation slot ends one waiting call; the flight goes on for the others", "[async][cancel][slot]") {
    const bool throw_if_cancelled = GENERATE(false, true);
    CAPTURE(throw_if_cancelled);
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    auto& t = client.transport();
    t.inner().expire_session();
    t.hold_reconnects();
    std::vector<slot_call> calls(8);
    for (auto& c : calls) spawn_with_slot(client, ioc.get_executor(), c, throw_if_cancelled);
    std::thread runner([&] { ioc.run(); });
    const bool gathered = eventually([&] { return t.at_gate() == 1 && client.reconnector().waiters() == 8; });
    // The first call started the flight; cancel it and one other, from the io thread.
    net::post(ioc, [&] {
        calls[0].signal.emit(net::cancellation_type::terminal);
        calls[5].signal.emit(net::cancellation_type::terminal);
    });
    const bool two_left = eventually([&] { return client.reconnector().waiters() == 6; });
    t.release_reconnects();
    runner.join();
    REQUIRE(gathered);
    REQUIRE(two_left);
    for (int i : {0, 5}) {
        CAPTURE(i);
        if (throw_if_cancelled) CHECK((calls[i].threw || calls[i].code == std::error_code(errc::cancelled)));
        else CHECK(calls[i].code == std::error_code(errc::cancelled));
    }
    for (int i : {1, 2, 3, 4, 6, 7}) {
        CAPTURE(i);
        CHECK(calls[i].code == std::error_code{});
    }
    CHECK(t.inner().reconnects() == 1);
    CHECK(t.inner().sends() == 8 + 6);  // the cancelled calls were not retried
}

TEST_CASE("a cancellation slot ends a call sleeping in a backoff at once; it is not retried", "[async][cancel][slot]") {
    net::io_context ioc;
    client_type<basic_exponential_backoff<>, limited_attempts> client(ioc.get_executor(), std::in_place,
                                                                      ioc.get_executor());
    client.backoff_policy() = basic_exponential_backoff<>(std::chrono::hours(1), 2.0, std::chrono::hours(2), jitter::none);
    client.retry_policy() = limited_attempts(5);
    client.transport().inner().fail_next(mt::failures::server_error(503));
    slot_call c;
    spawn_with_slot(client, ioc.get_executor(), c, false);
    std::thread runner([&] { ioc.run(); });
    const bool sleeping = eventually([&] { return client.sleepers() == 1; });
    net::post(ioc, [&] { c.signal.emit(net::cancellation_type::terminal); });
    runner.join();  // an hour if the slot did not end the wait
    REQUIRE(sleeping);
    CHECK(c.code == std::error_code(errc::cancelled));
    CHECK(client.sleepers() == 0);
    CHECK(client.transport().inner().sends() == 1);
}
#endif

TEST_CASE("the async client's tool annotation source decides the replay of a tools/call, as the sync one's",
          "[async][replay][annotations]") {
    net::io_context ioc;
    client_type<> client(ioc.get_executor(), std::in_place, ioc.get_executor());
    int asked = 0;
    client.use_tool_annotations([&](const mt::scripted_request& r) -> std::optional<tool_annotations> {
        ++asked;
        if (r.key == "write") return tool_annotations{false, true};  // idempotent
        return std::nullopt;                                           // unknown tool
    });
    auto run = [&](const mt::scripted_request& request) {
        std::optional<client_type<>::result_type> out;
        net::co_spawn(ioc, client.call(request), [&](std::exception_ptr e, client_type<>::result_type r) {
            if (!e) out = std::move(r);
        });
        ioc.restart();
        ioc.run();
        REQUIRE(out);
        return std::move(*out);
    };
    auto& t = client.transport().inner();

    t.fail_next(mt::failures::reset_after_write());
    auto known = run({"tools/call", "write"});
    REQUIRE(known);
    CHECK(t.executions("write") == 2);
    CHECK(asked == 1);

    t.fail_next(mt::failures::reset_after_write());
    auto unknown = run({"tools/call", "launch"});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == errc::not_replayable);
    CHECK(t.executions("launch") == 1);
    CHECK(asked == 2);

    REQUIRE(run({"tools/call", "write"}));  // success path: not asked
    CHECK(asked == 2);
}

TEST_CASE("the async client names its policies as a bundle, and a bundle names the same client", "[async][policies]") {
    using bundled = mb::basic_async_recovering_client<
        async_scripted_transport,
        mb::async_recovery_policies::with_reconnector<mb::async_single_flight_reconnector<no_backoff>>::with_observer<
            counting_observer>>;
    STATIC_REQUIRE(std::is_same_v<bundled, client_type<>>);
    STATIC_REQUIRE(std::is_same_v<client_type<>::policies::observer, counting_observer>);
    STATIC_REQUIRE(std::is_same_v<mb::basic_async_recovering_client<async_scripted_transport>,
                                  mb::async_recovering_client<async_scripted_transport>>);
}
