#include "mcp_recovery/callable/transport.hpp"

#include "mcp_recovery/callable/client_slot.hpp"
#include "mcp_recovery/classifier.hpp"

#include "catch.hpp"
#include "fakes.hpp"
#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace cb = mcp_recovery::callable;
using callable_fakes::fake_expected;
using callable_fakes::fake_status;
using callable_fakes::request;
using callable_fakes::response;
using callable_fakes::sdk_error;

namespace {

const request list_tools{"tools/list", "list"};

auto echo_send = [](const request& r) { return response{r.key, 0, 1}; };
auto no_op = [] {};

using plain_transport = decltype(cb::make_transport<request, response>(echo_send, no_op));
using terminating_transport = decltype(cb::make_transport<request, response>(echo_send, no_op, cb::default_translator{}, no_op));
using refreshing_transport =
    decltype(cb::make_transport<request, response>(echo_send, no_op, cb::default_translator{}, cb::none{}, no_op));
using full_transport = decltype(cb::make_transport<request, response>(echo_send, no_op, cb::default_translator{}, no_op, no_op));

struct deadline_send {
    response operator()(const request& r, time_point) const { return response{r.key, 0, 1}; }
};
using deadline_transport = decltype(cb::make_transport<request, response>(deadline_send{}, no_op));

// A translator for `sdk_error` objects only: exceptions fall to default_translator.
struct sdk_error_translator {
    failure operator()(const sdk_error& e) const {
        failure f;
        f.jsonrpc_code = e.code;
        f.message = e.message;
        f.delivered = delivery::rejected;
        return f;
    }
};

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace

TEST_CASE("a callable transport models the transport concept, with optional members only when given",
          "[callable][concept]") {
    STATIC_REQUIRE(is_transport_v<plain_transport>);
    STATIC_REQUIRE_FALSE(has_terminate_v<plain_transport>);
    STATIC_REQUIRE_FALSE(has_refresh_auth_v<plain_transport>);
    STATIC_REQUIRE_FALSE(mcp_recovery::detail::has_deadline_send<plain_transport>::value);

    STATIC_REQUIRE(is_transport_v<terminating_transport>);
    STATIC_REQUIRE(has_terminate_v<terminating_transport>);
    STATIC_REQUIRE_FALSE(has_refresh_auth_v<terminating_transport>);

    STATIC_REQUIRE(is_transport_v<refreshing_transport>);
    STATIC_REQUIRE_FALSE(has_terminate_v<refreshing_transport>);
    STATIC_REQUIRE(has_refresh_auth_v<refreshing_transport>);

    STATIC_REQUIRE(has_terminate_v<full_transport>);
    STATIC_REQUIRE(has_refresh_auth_v<full_transport>);

    STATIC_REQUIRE(is_transport_v<deadline_transport>);
    STATIC_REQUIRE(mcp_recovery::detail::has_deadline_send<deadline_transport>::value);

    using erased = cb::transport<request, response>;
    STATIC_REQUIRE(is_transport_v<erased>);
    STATIC_REQUIRE(has_terminate_v<erased>);
    STATIC_REQUIRE(has_refresh_auth_v<erased>);

    STATIC_REQUIRE(std::is_same_v<plain_transport::request_type, request>);
    STATIC_REQUIRE(std::is_same_v<plain_transport::response_type, response>);
    STATIC_REQUIRE(noexcept(std::declval<plain_transport&>().send(list_tools)));
    STATIC_REQUIRE(noexcept(std::declval<plain_transport&>().reconnect()));
    STATIC_REQUIRE(noexcept(std::declval<full_transport&>().terminate()));
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mcp_recovery::transport<plain_transport>);
    STATIC_REQUIRE(mcp_recovery::transport<erased>);
#endif
}

TEST_CASE("send passes on every return shape of the send callable", "[callable][send]") {
    SECTION("a response is a success") {
        auto t = cb::make_transport<request, response>(echo_send, no_op);
        auto r = t.send(list_tools);
        REQUIRE(r);
        CHECK(r->key == "list");
    }
    SECTION("an outcome holding a failure passes unchanged, delivery included") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> outcome<response> {
                failure f;
                f.http_status = 404;
                f.had_session_id = true;
                f.delivered = delivery::rejected;
                return f;
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 404);
        CHECK(r.error().had_session_id);
        CHECK(r.error().delivered == delivery::rejected);
    }
    SECTION("an expected-like value is a success") {
        auto t = cb::make_transport<request, response>(
            [](const request& q) { return fake_expected<response, sdk_error>(response{q.key, 7, 1}); }, no_op,
            sdk_error_translator{});
        auto r = t.send(list_tools);
        REQUIRE(r);
        CHECK(r->session == 7);
    }
    SECTION("an expected-like error object goes through the translator") {
        auto t = cb::make_transport<request, response>(
            [](const request&) {
                return fake_expected<response, sdk_error>::failed(sdk_error{-32600, "Session not initialized", ""});
            },
            no_op, sdk_error_translator{});
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().jsonrpc_code == -32600);
        CHECK(r.error().message == "Session not initialized");
        CHECK(r.error().delivered == delivery::rejected);
    }
    SECTION("an expected-like holding a failure needs no translator") {
        auto t = cb::make_transport<request, response>(
            [](const request&) {
                failure f;
                f.http_status = 429;
                return fake_expected<response, failure>::failed(f);
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 429);
    }
    SECTION("an expected-like std::error_code uses the default translator") {
        auto t = cb::make_transport<request, std::string>(
            [](const request&) {
                return fake_expected<std::string, std::error_code>::failed(
                    std::make_error_code(std::errc::connection_refused));
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::connection_refused);
        CHECK(r.error().delivered == delivery::not_sent);
    }
    SECTION("a value convertible to the response is a success") {
        auto t = cb::make_transport<request, std::string>([](const request&) { return "text"; }, no_op);
        auto r = t.send(list_tools);
        REQUIRE(r);
        CHECK(*r == "text");
    }
}

TEST_CASE("exceptions from the send callable never escape and become failures", "[callable][send][exceptions]") {
    const default_classifier classify;

    SECTION("a std::exception keeps its message; delivery stays unknown; the core reads it as permanent") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response { throw std::runtime_error("tool exploded"); }, no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "tool exploded");
        CHECK(r.error().delivered == delivery::unknown);
        CHECK_FALSE(r.error().transport_error);
        CHECK(classify.classify(r.error()) == failure_kind::permanent);
    }
    SECTION("a std::system_error becomes the transport error: a lost connection") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response {
                throw std::system_error(std::make_error_code(std::errc::connection_reset), "read");
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == std::errc::connection_reset);
        CHECK(r.error().delivered == delivery::unknown);
        CHECK(classify.classify(r.error()) == failure_kind::connection_lost);
    }
    SECTION("a refused connection is known not to have been sent") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response {
                throw std::system_error(std::make_error_code(std::errc::connection_refused), "connect");
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().delivered == delivery::not_sent);
    }
    SECTION("a cancellation stays a cancellation") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response {
                throw std::system_error(std::make_error_code(std::errc::operation_canceled));
            },
            no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(classify.classify(r.error()) == failure_kind::cancelled);
    }
    SECTION("an exception of any other type is reported as such") {
        auto t = cb::make_transport<request, response>([](const request&) -> response { throw 42; }, no_op);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message.view(), "not derived from std::exception"));
    }
    SECTION("a translator that takes exceptions sees the thrown one and decides delivery") {
        auto translate = [](std::exception_ptr e) {
            failure f;
            try {
                std::rethrow_exception(e);
            } catch (const callable_fakes::coded_exception& x) {
                f.jsonrpc_code = x.code;
                f.message = x.what();
                f.delivered = delivery::rejected;
            } catch (...) {
            }
            return f;
        };
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response { throw callable_fakes::coded_exception(-32001, "Session not found"); },
            no_op, translate);
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().jsonrpc_code == -32001);
        CHECK(r.error().delivered == delivery::rejected);
        CHECK(classify.classify(r.error()) == failure_kind::session_expired);
    }
    SECTION("a translator without an exception overload leaves exceptions to the default translator") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response { throw std::runtime_error("Session not found"); }, no_op,
            sdk_error_translator{});
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "Session not found");
        CHECK(r.error().delivered == delivery::unknown);
    }
    SECTION("a translator that throws yields a failure that says so") {
        auto t = cb::make_transport<request, response>(
            [](const request&) -> response { throw std::runtime_error("first"); }, no_op,
            [](std::exception_ptr) -> failure { throw std::logic_error("translator bug"); });
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "mcp_recovery::callable: the error translator threw: translator bug");
        CHECK(r.error().delivered == delivery::unknown);
        CHECK(classify.classify(r.error()) == failure_kind::permanent);
    }
    SECTION("a translator that throws something odd for an error object is contained too") {
        auto t = cb::make_transport<request, response>(
            [](const request&) { return fake_expected<response, sdk_error>::failed(sdk_error{1, "x", ""}); }, no_op,
            [](const sdk_error&) -> failure { throw 7; });
        auto r = t.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message.view(), "the error translator threw"));
    }
}

TEST_CASE("the generation grows by one on each successful reconnect, and only then", "[callable][reconnect]") {
    SECTION("a void reconnect succeeds unless it throws") {
        int calls = 0;
        bool fail = false;
        auto t = cb::make_transport<request, response>(echo_send, [&] {
            ++calls;
            if (fail) throw std::runtime_error("initialize failed: 500");
        });
        CHECK(t.generation() == 1);
        REQUIRE(t.reconnect());
        CHECK(t.generation() == 2);
        REQUIRE(t.reconnect());
        CHECK(t.generation() == 3);
        fail = true;
        auto r = t.reconnect();
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "initialize failed: 500");
        CHECK(t.generation() == 3);
        CHECK(calls == 3);
    }
    SECTION("a bool reconnect fails on false") {
        bool ok = false;
        auto t = cb::make_transport<request, response>(echo_send, [&] { return ok; });
        auto r = t.reconnect();
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "mcp_recovery::callable: the reconnect callable returned false");
        CHECK(t.generation() == 1);
        ok = true;
        CHECK(t.reconnect());
        CHECK(t.generation() == 2);
    }
    SECTION("an outcome<void> failure passes unchanged") {
        auto t = cb::make_transport<request, response>(echo_send, []() -> outcome<void> {
            failure f;
            f.http_status = 503;
            return f;
        });
        auto r = t.reconnect();
        REQUIRE_FALSE(r);
        CHECK(r.error().http_status == 503);
        CHECK(t.generation() == 1);
    }
    SECTION("an expected-like error goes through the translator; its value is ignored") {
        bool ok = false;
        auto t = cb::make_transport<request, response>(
            echo_send,
            [&] {
                return ok ? fake_expected<std::string, sdk_error>(std::string("{\"protocolVersion\":\"2025-06-18\"}"))
                          : fake_expected<std::string, sdk_error>::failed(sdk_error{-32603, "no server", ""});
            },
            sdk_error_translator{});
        auto r = t.reconnect();
        REQUIRE_FALSE(r);
        CHECK(r.error().jsonrpc_code == -32603);
        CHECK(t.generation() == 1);
        ok = true;
        CHECK(t.reconnect());
        CHECK(t.generation() == 2);
    }
    SECTION("an expected without a value works as well") {
        auto t = cb::make_transport<request, response>(
            echo_send, [] { return fake_status<sdk_error>(sdk_error{-32000, "refused", ""}); }, sdk_error_translator{});
        auto r = t.reconnect();
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "refused");
    }
}

TEST_CASE("terminate and refresh_auth run their callables and translate their errors", "[callable][optional]") {
    int terminated = 0;
    int refreshed = 0;
    auto t = cb::make_transport<request, response>(echo_send, no_op)
                 .with_terminate([&] { ++terminated; })
                 .with_refresh_auth([&]() -> bool {
                     ++refreshed;
                     throw std::runtime_error("token endpoint unreachable");
                 });
    STATIC_REQUIRE(has_terminate_v<decltype(t)>);
    STATIC_REQUIRE(has_refresh_auth_v<decltype(t)>);
    CHECK(t.terminate());
    CHECK(terminated == 1);
    auto r = t.refresh_auth();
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "token endpoint unreachable");
    CHECK(refreshed == 1);
    CHECK(t.generation() == 1);
}

TEST_CASE("the with_ builders keep the generation and replace only what they name", "[callable][optional]") {
    auto t = cb::make_transport<request, response>([](const request&) -> response { throw std::runtime_error("x"); },
                                                   no_op);
    REQUIRE(t.reconnect());
    REQUIRE(t.reconnect());
    auto u = std::move(t).with_translator([](std::exception_ptr) {
        failure f;
        f.message = "mine";
        return f;
    });
    CHECK(u.generation() == 3);
    CHECK(u.send(list_tools).error().message == "mine");
    auto v = std::move(u).with_terminate(no_op);
    CHECK(v.generation() == 3);
    CHECK(v.send(list_tools).error().message == "mine");
}

TEST_CASE("a send callable that takes a deadline receives the caller's", "[callable][deadline]") {
    std::vector<time_point> seen;
    auto t = cb::make_transport<request, response>(
        [&](const request& r, time_point deadline) {
            seen.push_back(deadline);
            return response{r.key, 0, 1};
        },
        no_op);
    const time_point d = clock_type::now() + std::chrono::seconds(5);
    REQUIRE(t.send(list_tools, d));
    REQUIRE(t.send(list_tools));
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == d);
    CHECK(seen[1] == time_point::max());
}

TEST_CASE("the type-erased transport runs its functions and reports the ones not given", "[callable][erased]") {
    int reconnects = 0;
    cb::functions<request, response> f;
    f.send = [](const request& r) -> outcome<response> {
        if (r.key == "boom") throw std::runtime_error("boom");
        return response{r.key, 0, 1};
    };
    f.reconnect = [&]() -> outcome<void> {
        ++reconnects;
        return {};
    };
    cb::transport<request, response> t(std::move(f));

    REQUIRE(t.send(list_tools));
    CHECK(t.send({"tools/call", "boom"}).error().message == "boom");
    REQUIRE(t.reconnect());
    CHECK(reconnects == 1);
    CHECK(t.generation() == 2);

    auto term = t.terminate();
    REQUIRE_FALSE(term);
    CHECK(term.error().message == "mcp_recovery::callable: no terminate function was given");
    auto refresh = t.refresh_auth();
    REQUIRE_FALSE(refresh);
    CHECK(refresh.error().message == "mcp_recovery::callable: no refresh_auth function was given");

    SECTION("an empty send function is a failure, not an exception") {
        cb::transport<request, response> empty(cb::functions<request, response>{});
        auto r = empty.send(list_tools);
        REQUIRE_FALSE(r);
        CHECK_FALSE(r.error().message.empty());
        CHECK_FALSE(empty.reconnect());
        CHECK(empty.generation() == 1);
    }
    SECTION("a given translator is used") {
        cb::functions<request, response> g;
        g.send = [](const request&) -> outcome<response> { throw std::runtime_error("x"); };
        g.translate = [](std::exception_ptr) {
            failure out;
            out.http_status = 404;
            return out;
        };
        cb::transport<request, response> custom(std::move(g));
        CHECK(custom.send(list_tools).error().http_status == 404);
    }
}

TEST_CASE("reconnect, terminate and refresh_auth never overlap; sends never wait for them",
          "[callable][concurrency]") {
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    auto guarded = [&] {
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        inside.fetch_sub(1);
    };
    auto t = cb::make_transport<request, response>(echo_send, guarded).with_terminate(guarded).with_refresh_auth(guarded);

    constexpr int rounds = 300;
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) (void)t.reconnect();
    });
    threads.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) (void)t.terminate();
    });
    threads.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) (void)t.refresh_auth();
    });
    for (auto& th : threads) th.join();
    CHECK(most.load() == 1);
    CHECK(t.generation() == 1 + rounds);
}

TEST_CASE("a send completes while a reconnect is in progress", "[callable][concurrency]") {
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::atomic<bool> reconnecting{false};
    auto t = cb::make_transport<request, response>(echo_send, [&] {
        reconnecting.store(true);
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return release; });
    });
    std::thread r([&] { (void)t.reconnect(); });
    REQUIRE(mcp_recovery_tests::eventually([&] { return reconnecting.load(); }));
    auto sent = t.send(list_tools);  // would deadlock here if send waited for the reconnect
    CHECK(sent);
    CHECK(t.generation() == 1);
    {
        std::lock_guard<std::mutex> lock(m);
        release = true;
    }
    cv.notify_all();
    r.join();
    CHECK(t.generation() == 2);
}

TEST_CASE("client_slot hands out the current client and keeps a replaced one alive for its holders",
          "[callable][client_slot]") {
    cb::client_slot<callable_fakes::fake_client> slot(std::make_shared<callable_fakes::fake_client>(1));
    std::shared_ptr<callable_fakes::fake_client> held = slot.get();
    std::weak_ptr<callable_fakes::fake_client> old = held;
    REQUIRE(held);
    CHECK(held->session == 1);

    slot.reset(std::make_shared<callable_fakes::fake_client>(2));
    CHECK(slot.get()->session == 2);
    CHECK_FALSE(old.expired());  // a sender still holds it
    CHECK(held->session == 1);
    held.reset();
    CHECK(old.expired());

    auto previous = slot.exchange(nullptr);
    REQUIRE(previous);
    CHECK(previous->session == 2);
    CHECK_FALSE(slot.get());
}

TEST_CASE("a failure passed through a callable is the same failure", "[callable][send]") {
    failure f;
    f.http_status = 401;
    f.www_authenticate = true;
    f.retry_after = std::chrono::seconds(3);
    f.delivered = delivery::rejected;
    auto t = cb::make_transport<request, response>([&](const request&) -> outcome<response> { return f; },
                                                   no_op);
    auto r = t.send(list_tools);
    REQUIRE_FALSE(r);
    CHECK(r.error().www_authenticate);
    CHECK(r.error().retry_after == std::chrono::seconds(3));
    CHECK(r.error().delivered == delivery::rejected);
}
