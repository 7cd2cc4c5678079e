#include "mcp_recovery/recovering_client.hpp"

#include "mcp_recovery/testing/manual_clock.hpp"
#include "mcp_recovery/testing/scripted_transport.hpp"

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <thread>
#include <vector>

using namespace mcp_recovery;
using namespace std::chrono_literals;
namespace mt = mcp_recovery::testing;
using mcp_recovery_tests::eventually;

namespace {

template <class Clock>
using threaded_client = recovering_client<mt::scripted_transport, default_classifier, retry_once, no_backoff,
                                          single_flight_reconnector<no_backoff>, counting_observer, Clock>;

const mt::scripted_request list_tools{"tools/list", "list"};

// Joins on scope exit so that a failed REQUIRE cannot leave threads running.
struct thread_group {
    std::vector<std::thread> threads;
    template <class F>
    void spawn(F f) { threads.emplace_back(std::move(f)); }
    void join() {
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
    ~thread_group() { join(); }
};

}  // namespace

TEST_CASE("64 callers that fail on one expired session share exactly one reconnect", "[concurrency]") {
    mt::manual_clock clock;
    threaded_client<mt::manual_clock> c{std::in_place};
    c.clock() = clock;
    const auto g0 = c.transport().generation();
    c.transport().expire_session();
    c.transport().hold_reconnects();

    constexpr int callers = 64;
    std::atomic<int> succeeded{0};
    std::atomic<int> on_new_session{0};
    thread_group group;
    for (int i = 0; i < callers; ++i) {
        group.spawn([&] {
            auto r = c.try_call(list_tools);
            if (r) {
                succeeded.fetch_add(1);
                if (r->generation == g0 + 1) on_new_session.fetch_add(1);
            }
        });
    }
    // Every caller has failed on the old session: one leads the flight (held at the gate) and the
    // other 63 wait for it.
    REQUIRE(eventually([&] { return c.transport().reconnects_waiting() == 1 && clock.waiters() == callers - 1; }));
    c.transport().release_reconnects();
    group.join();

    CHECK(succeeded.load() == callers);
    CHECK(on_new_session.load() == callers);
    CHECK(c.transport().reconnects() == 1);
    CHECK(c.observer().reconnects() == 1);
    CHECK(c.transport().sends() == 2 * callers);
}

TEST_CASE("free-running callers on an expired session never reconnect more than once", "[concurrency]") {
    for (int round = 0; round < 20; ++round) {
        threaded_client<steady_clock_source> c{std::in_place};
        c.transport().expire_session();
        std::atomic<int> succeeded{0};
        std::atomic<bool> go{false};
        thread_group group;
        for (int i = 0; i < 16; ++i) {
            group.spawn([&] {
                while (!go.load()) std::this_thread::yield();
                if (c.try_call(list_tools)) succeeded.fetch_add(1);
            });
        }
        go.store(true);
        group.join();
        CAPTURE(round);
        REQUIRE(succeeded.load() == 16);
        REQUIRE(c.transport().reconnects() == 1);
    }
}

TEST_CASE("a waiter with a short deadline gives up while the flight succeeds for the others", "[concurrency]") {
    mt::manual_clock clock;
    threaded_client<mt::manual_clock> c{std::in_place};
    c.clock() = clock;
    c.transport().expire_session();
    c.transport().hold_reconnects();

    constexpr int patient = 8;
    std::atomic<int> succeeded{0};
    thread_group group;
    for (int i = 0; i < patient; ++i)
        group.spawn([&] {
            if (c.try_call(list_tools)) succeeded.fetch_add(1);
        });
    REQUIRE(eventually([&] { return c.transport().reconnects_waiting() == 1 && clock.waiters() == patient - 1; }));

    std::optional<call_error> impatient_error;
    std::thread impatient([&] {
        call_options o;
        o.deadline = clock.now() + 1s;
        auto r = c.try_call(list_tools, o);
        if (!r) impatient_error = r.error();
    });
    REQUIRE(eventually([&] { return clock.waiters() == patient; }));
    clock.advance(2s);
    impatient.join();
    REQUIRE(impatient_error);
    CHECK(impatient_error->code == errc::deadline_exceeded);
    REQUIRE(impatient_error->last_failure);
    CHECK(impatient_error->last_failure->http_status == 404);
    CHECK(clock.waiters() == patient - 1);  // the others still wait: the flight was not cancelled

    c.transport().release_reconnects();
    group.join();
    CHECK(succeeded.load() == patient);
    CHECK(c.transport().reconnects() == 1);
}

TEST_CASE("every waiter of a failed flight gets its failure instead of flying again", "[concurrency]") {
    mt::manual_clock clock;
    threaded_client<mt::manual_clock> c{std::in_place};
    c.clock() = clock;
    c.transport().expire_session();
    c.transport().fail_next_reconnect(mt::failures::connection_refused());
    c.transport().hold_reconnects();

    constexpr int callers = 16;
    std::atomic<int> reconnect_failed{0};
    thread_group group;
    for (int i = 0; i < callers; ++i)
        group.spawn([&] {
            auto r = c.try_call(list_tools);
            if (!r && r.error().code == errc::reconnect_failed && r.error().last_failure &&
                r.error().last_failure->transport_error == std::errc::connection_refused)
                reconnect_failed.fetch_add(1);
        });
    REQUIRE(eventually([&] { return c.transport().reconnects_waiting() == 1 && clock.waiters() == callers - 1; }));
    c.transport().release_reconnects();
    group.join();
    CHECK(reconnect_failed.load() == callers);
    CHECK(c.transport().reconnects() == 1);
}

TEST_CASE("concurrent stale failures cause no reconnect", "[concurrency]") {
    threaded_client<steady_clock_source> c{std::in_place};
    // All callers send on generation 1; before any failure comes back, someone else re-initializes
    // (generation 2). Their lost-session failures are then stale: the reconnector must not fly.
    constexpr int callers = 32;
    std::atomic<int> arrived{0};
    std::atomic<bool> bumped{false};
    std::atomic<bool> stuck{false};
    c.transport().on_send([&](const mt::scripted_request&) -> std::optional<failure> {
        const int n = arrived.fetch_add(1);
        if (n >= callers) return std::nullopt;  // a replay
        if (!eventually([&] { return arrived.load() >= callers; })) stuck.store(true);
        if (n == 0) {
            if (!c.transport().reconnect()) stuck.store(true);
            bumped.store(true);
        }
        if (!eventually([&] { return bumped.load(); })) stuck.store(true);
        return mt::failures::session_not_found();  // the answer to a request sent on generation 1
    });
    std::atomic<int> succeeded{0};
    thread_group group;
    for (int i = 0; i < callers; ++i)
        group.spawn([&] {
            if (c.try_call(list_tools)) succeeded.fetch_add(1);
        });
    group.join();
    REQUIRE_FALSE(stuck.load());
    CHECK(succeeded.load() == callers);
    CHECK(c.observer().failures(failure_kind::session_expired) == callers);
    CHECK(c.observer().reconnects() == 0);
    CHECK(c.transport().reconnects() == 1);
}

namespace {

// Answers 401 until the credentials were refreshed once; the refresh waits until `callers` sends
// have failed, so that every caller's request fails with the old credentials first.
class auth_transport {
public:
    using request_type = mt::scripted_request;
    using response_type = mt::scripted_response;

    explicit auth_transport(int callers) : callers_(callers) {}

    outcome<response_type> send(const request_type& r) {
        if (token_.load() == 0) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++rejected_;
            }
            cv_.notify_all();
            return mt::failures::unauthorized();
        }
        return response_type{r.key};
    }
    outcome<void> reconnect() { return {}; }
    std::uint64_t generation() const noexcept { return 1; }
    outcome<void> refresh_auth() {
        refreshes_.fetch_add(1);
        std::unique_lock<std::mutex> lock(mutex_);
        const bool all_failed = cv_.wait_for(lock, 20s, [&] { return rejected_ >= callers_; });
        if (!all_failed) gate_timed_out_ = true;
        token_.fetch_add(1);
        return {};
    }
    int refreshes() const { return refreshes_.load(); }
    bool gate_timed_out() const { return gate_timed_out_; }

private:
    const int callers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    int rejected_ = 0;
    bool gate_timed_out_ = false;
    std::atomic<int> token_{0};
    std::atomic<int> refreshes_{0};
};

}  // namespace

TEST_CASE("16 callers rejected with 401 at once share one credential refresh", "[concurrency][auth]") {
    constexpr int callers = 16;
    recovering_client<auth_transport, default_classifier, retry_once, no_backoff> client{std::in_place, callers};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&] {
            if (client.try_call(mt::scripted_request{"tools/list", "k"})) ok.fetch_add(1);
        });
    for (auto& t : threads) t.join();
    CHECK_FALSE(client.transport().gate_timed_out());
    CHECK(ok.load() == callers);
    CHECK(client.transport().refreshes() == 1);
}
