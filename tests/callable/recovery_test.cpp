#include "mcp_recovery/callable.hpp"

#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/testing/manual_clock.hpp"

#include "catch.hpp"
#include "fakes.hpp"
#include "test_support.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace cb = mcp_recovery::callable;
namespace presets = mcp_recovery::callable::presets;
namespace mt = mcp_recovery::testing;
using callable_fakes::fake_client;
using callable_fakes::fake_server;
using callable_fakes::request;
using callable_fakes::response;
using mcp_recovery_tests::eventually;

namespace {

template <class Transport, class Clock = mt::manual_clock>
using client_over = recovering_client<Transport, cb::sdk_classifier, retry_once, no_backoff,
                                      single_flight_reconnector<no_backoff>, counting_observer, Clock>;

/// The user's side of a wrapped client: a server, the current client object, counters, and how
/// the SDK reports a lost session (`raise`) and how the wrapper translates it (`translate`).
struct wrapped {
    fake_server server;
    cb::client_slot<fake_client> slot{std::make_shared<fake_client>(server.open_session())};
    std::atomic<int> sends{0};
    std::atomic<int> reconnects{0};
    std::function<void()> raise;
    std::function<failure(std::exception_ptr)> translate;

    // The send callable: what a wrapper around an SDK client does.
    response send(const request& r) {
        sends.fetch_add(1);
        std::shared_ptr<fake_client> c = slot.get();
        if (!server.knows(c->session)) raise();
        return response{r.key, c->session, server.execute(r.key)};
    }
    // The reconnect callable: a new client, initialized (here: a new session).
    void reconnect() {
        reconnects.fetch_add(1);
        slot.reset(std::make_shared<fake_client>(server.open_session()));
    }
    auto transport() {
        return cb::make_transport<request, response>([this](const request& r) { return send(r); },
                                                     [this] { reconnect(); },
                                                     [this](std::exception_ptr e) { return translate(std::move(e)); });
    }
};

using wrapped_transport = decltype(std::declval<wrapped&>().transport());

/// A translator as a wrapper writes it: catch the SDK's exception type, copy its fields, ask the preset.
template <class Preset>
std::function<failure(std::exception_ptr)> bridged() {
    return [](std::exception_ptr e) -> failure {
        try {
            std::rethrow_exception(e);
        } catch (const callable_fakes::bridged_error& x) {
            return Preset{}(x.info);
        } catch (...) {
            return cb::default_translator{}(std::current_exception());
        }
    };
}

template <class E>
std::function<void()> throws(E e) {
    return [e] { throw e; };
}

cb::foreign_error err(std::string type, std::string message, std::optional<std::int64_t> code = std::nullopt,
                      std::string detail = {}) {
    return cb::foreign_error{std::move(type), std::move(message), code, std::move(detail)};
}

struct preset_case {
    const char* name;
    std::function<void()> raise;
    std::function<failure(std::exception_ptr)> translate;
};

std::vector<preset_case> preset_cases() {
    using callable_fakes::bridged_error;
    struct fastmcpp_transport_error : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    return {
        {"TypeScript SDK, 404", throws(bridged_error(err("StreamableHTTPError",
                                                         "Streamable HTTP error: Error POSTing to endpoint: "
                                                         R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})",
                                                         404))),
         bridged<presets::typescript_sdk>()},
        {"TypeScript SDK, 400", throws(bridged_error(err("StreamableHTTPError",
                                                         "Streamable HTTP error: Error POSTing to endpoint: "
                                                         R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})",
                                                         400))),
         bridged<presets::typescript_sdk>()},
        {"Python SDK", throws(bridged_error(err("McpError", "Session terminated", 32600))),
         bridged<presets::python_sdk>()},
        {"Go SDK", throws(bridged_error(err("ErrSessionMissing", "session not found"))), bridged<presets::go_sdk>()},
        {"C# SDK",
         throws(bridged_error(err("ClientTransportClosedException",
                                  "The server returned HTTP 404 for a request with an Mcp-Session-Id, indicating the "
                                  "session has expired. To continue, create a new client session or call "
                                  "ResumeSessionAsync with a new connection.",
                                  404))),
         bridged<presets::csharp_sdk>()},
        {"hkr04/cpp-mcp", throws(callable_fakes::coded_exception(-32600, "Session not initialized")),
         [](std::exception_ptr e) -> failure {
             try {
                 std::rethrow_exception(e);
             } catch (const callable_fakes::coded_exception& x) {
                 return presets::hkr04_cpp_mcp{}(cb::foreign_error{"mcp::mcp_exception", x.what(), x.code, {}});
             } catch (...) {
                 return cb::default_translator{}(std::current_exception());
             }
         }},
        {"fastmcpp", throws(fastmcpp_transport_error("StreamableHttp error: 404")), presets::fastmcpp{}},
        {"cxxmcp", throws(bridged_error(err("mcp::core::Error", "http transport session was terminated", -32600, "404"))),
         bridged<presets::cxxmcp>()},
        {"itcv cpp-mcp-sdk", throws(std::runtime_error("Unexpected HTTP status 404 (expected 200).")),
         presets::itcv_cpp_mcp_sdk{}},
    };
}

}  // namespace

TEST_CASE("a recovering client over a callable transport recovers from each SDK's session loss with one reconnect",
          "[callable][recovery]") {
    const std::vector<preset_case> cases = preset_cases();
    const auto index = GENERATE_COPY(range(std::size_t{0}, cases.size()));
    const preset_case& c = cases[index];
    INFO(c.name);

    wrapped w;
    w.raise = c.raise;
    w.translate = c.translate;
    client_over<wrapped_transport> client{w.transport()};
    const std::uint64_t first_session = w.slot.get()->session;
    w.server.expire();

    // A tools/call is not idempotent: it is replayed only because the server refused it unexecuted.
    const request write{"tools/call", "write"};
    auto r = client.try_call(write);
    REQUIRE(r);
    CHECK(r->session != first_session);
    CHECK(r->executions == 1);
    CHECK(w.server.executions("write") == 1);
    CHECK(w.reconnects.load() == 1);
    CHECK(w.sends.load() == 2);
    CHECK(client.transport().generation() == 2);
    CHECK(client.observer().failures(failure_kind::session_expired) == 1);
    CHECK(client.observer().retries() == 1);

    // The next call goes straight through on the new session.
    auto again = client.try_call(write);
    REQUIRE(again);
    CHECK(w.reconnects.load() == 1);
    CHECK(w.sends.load() == 3);
}

TEST_CASE("without the SDK rules, hkr04's session loss is not recognised", "[callable][recovery]") {
    wrapped w;
    w.raise = throws(callable_fakes::coded_exception(-32600, "Session not initialized"));
    w.translate = [](std::exception_ptr e) -> failure {
        try {
            std::rethrow_exception(e);
        } catch (const callable_fakes::coded_exception& x) {
            return presets::hkr04_cpp_mcp{}(cb::foreign_error{"mcp::mcp_exception", x.what(), x.code, {}});
        } catch (...) {
            return cb::default_translator{}(std::current_exception());
        }
    };
    recovering_client<wrapped_transport, default_classifier, retry_once, no_backoff, single_flight_reconnector<no_backoff>,
                      counting_observer, mt::manual_clock>
        client{w.transport()};
    w.server.expire();
    auto r = client.try_call({"tools/list", "list"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    CHECK(w.reconnects.load() == 0);
}

TEST_CASE("a request that may have run is not replayed unless idempotent", "[callable][recovery][replay]") {
    // The C# SDK after a stdio server died mid-request: the transport closed, delivery unknown.
    wrapped w;
    w.translate = bridged<presets::csharp_sdk>();
    bool crash = true;
    auto t = cb::make_transport<request, response>(
        [&](const request& r) -> response {
            w.sends.fetch_add(1);
            if (crash) {
                crash = false;
                w.server.execute(r.key);  // it ran, then the connection went
                throw callable_fakes::bridged_error(err("ClientTransportClosedException", "The transport was closed."));
            }
            return response{r.key, w.slot.get()->session, w.server.execute(r.key)};
        },
        [&] { w.reconnect(); }, [&](std::exception_ptr e) { return w.translate(std::move(e)); });
    client_over<decltype(t)> client{std::move(t)};

    SECTION("a tools/call is not replayed: outcome unknown") {
        auto r = client.try_call({"tools/call", "write"});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->delivered == delivery::unknown);
        CHECK(r.error().last_failure->transport_error == std::errc::connection_aborted);
        CHECK(w.server.executions("write") == 1);
        CHECK(w.sends.load() == 1);
        CHECK(w.reconnects.load() == 0);
    }
    SECTION("a tools/list is replayed once after one reconnect") {
        auto r = client.try_call({"tools/list", "list"});
        REQUIRE(r);
        CHECK(w.server.executions("list") == 2);
        CHECK(w.sends.load() == 2);
        CHECK(w.reconnects.load() == 1);
    }
    SECTION("a tool the caller marks idempotent is replayed") {
        call_options o;
        o.idempotency = idempotency::idempotent;
        auto r = client.try_call({"tools/call", "write"}, o);
        REQUIRE(r);
        CHECK(w.server.executions("write") == 2);
        CHECK(w.reconnects.load() == 1);
    }
}

TEST_CASE("an error object returned by the send callable drives recovery like an exception",
          "[callable][recovery][expected]") {
    using result = callable_fakes::fake_expected<response, callable_fakes::sdk_error>;
    fake_server server;
    cb::client_slot<fake_client> slot{std::make_shared<fake_client>(server.open_session())};
    int sends = 0;
    int reconnects = 0;
    // cxxmcp style: the client returns Result<T> with an Error{code, message, detail}.
    auto to_failure = [](const callable_fakes::sdk_error& e) {
        return presets::cxxmcp{}(cb::foreign_error{"mcp::core::Error", e.message, e.code, e.detail});
    };
    auto t = cb::make_transport<request, response>(
        [&](const request& r) {
            ++sends;
            auto c = slot.get();
            if (!server.knows(c->session))
                return result::failed(callable_fakes::sdk_error{-32600, "http transport session was terminated", "404"});
            return result(response{r.key, c->session, server.execute(r.key)});
        },
        [&] {
            ++reconnects;
            slot.reset(std::make_shared<fake_client>(server.open_session()));
            return callable_fakes::fake_status<callable_fakes::sdk_error>{};
        },
        to_failure);
    client_over<decltype(t)> client{std::move(t)};
    server.expire();
    auto r = client.try_call({"tools/call", "write"});
    REQUIRE(r);
    CHECK(server.executions("write") == 1);
    CHECK(sends == 2);
    CHECK(reconnects == 1);
}

TEST_CASE("a failed reconnect callable ends the call with reconnect_failed and its failure",
          "[callable][recovery]") {
    wrapped w;
    w.raise = throws(std::runtime_error("Unexpected HTTP status 404 (expected 200)."));
    w.translate = presets::itcv_cpp_mcp_sdk{};
    auto t = cb::make_transport<request, response>([&](const request& r) { return w.send(r); },
                                                   [&] {
                                                       w.reconnects.fetch_add(1);
                                                       throw std::runtime_error("connection refused by server");
                                                   },
                                                   presets::itcv_cpp_mcp_sdk{});
    client_over<decltype(t)> client{std::move(t)};
    w.server.expire();
    auto r = client.try_call({"tools/list", "list"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::reconnect_failed);
    REQUIRE(r.error().last_failure);
    CHECK(r.error().last_failure->message == "connection refused by server");
    CHECK(w.reconnects.load() == 1);
    CHECK(client.transport().generation() == 1);
}

TEST_CASE("the caller's deadline reaches a send callable that takes one", "[callable][recovery][deadline]") {
    std::vector<time_point> seen;
    auto t = cb::make_transport<request, response>(
        [&](const request& r, time_point deadline) {
            seen.push_back(deadline);
            return response{r.key, 1, 1};
        },
        [] {});
    client_over<decltype(t)> client{std::move(t)};
    call_options o;
    o.deadline = client.clock().now() + std::chrono::seconds(30);
    REQUIRE(client.try_call({"tools/list", "list"}, o));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] == o.deadline);
}

TEST_CASE("a recovering client reaches terminate and refresh_auth of a callable transport",
          "[callable][recovery][optional]") {
    int terminated = 0;
    int refreshed = 0;
    int sends = 0;
    auto t = cb::make_transport<request, response>(
                 [&](const request& r) -> outcome<response> {
                     if (++sends == 1) {
                         failure f;
                         f.http_status = 401;
                         f.www_authenticate = true;
                         f.delivered = delivery::rejected;
                         return f;
                     }
                     return response{r.key, 1, 1};
                 },
                 [] {})
                 .with_terminate([&] { ++terminated; })
                 .with_refresh_auth([&] { ++refreshed; });
    client_over<decltype(t)> client{std::move(t)};
    REQUIRE(client.try_call({"tools/call", "write"}));
    CHECK(refreshed == 1);
    CHECK(sends == 2);
    REQUIRE(client.terminate());
    CHECK(terminated == 1);
}

TEST_CASE("16 callers that hit one lost session share exactly one reconnect of the wrapped client",
          "[callable][recovery][concurrency]") {
    mt::manual_clock clock;
    wrapped w;
    w.raise = throws(std::runtime_error("StreamableHttp error: 404"));
    w.translate = presets::fastmcpp{};

    std::mutex gate_mutex;
    std::condition_variable gate;
    bool open = false;
    std::atomic<int> at_gate{0};
    auto t = cb::make_transport<request, response>(
        [&](const request& r) { return w.send(r); },
        [&] {
            at_gate.fetch_add(1);
            {
                std::unique_lock<std::mutex> lock(gate_mutex);
                gate.wait(lock, [&] { return open; });
            }
            w.reconnect();
        },
        presets::fastmcpp{});
    client_over<decltype(t)> client{std::move(t)};
    client.clock() = clock;
    w.server.expire();

    constexpr int callers = 16;
    std::atomic<int> succeeded{0};
    std::atomic<int> on_new_session{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&, i] {
            auto r = client.try_call({"tools/call", "write-" + std::to_string(i)});
            if (r) {
                succeeded.fetch_add(1);
                if (r->session == 2) on_new_session.fetch_add(1);
            }
        });
    }
    // Every caller failed on the lost session: one leads the reconnect (held at the gate), the
    // other 15 wait for it.
    const bool all_failed = eventually([&] { return at_gate.load() == 1 && clock.waiters() == callers - 1; });
    {
        std::lock_guard<std::mutex> lock(gate_mutex);
        open = true;
    }
    gate.notify_all();
    for (auto& th : threads) th.join();
    REQUIRE(all_failed);

    CHECK(succeeded.load() == callers);
    CHECK(on_new_session.load() == callers);
    CHECK(w.reconnects.load() == 1);
    CHECK(w.sends.load() == 2 * callers);
    CHECK(client.transport().generation() == 2);
    for (int i = 0; i < callers; ++i) CHECK(w.server.executions("write-" + std::to_string(i)) == 1);
}

TEST_CASE("free-running callers on a lost session never reconnect the wrapped client more than once",
          "[callable][recovery][concurrency]") {
    for (int round = 0; round < 10; ++round) {
        wrapped w;
        w.raise = throws(callable_fakes::bridged_error(err("McpError", "Session terminated", 32600)));
        w.translate = bridged<presets::python_sdk>();
        client_over<wrapped_transport, steady_clock_source> client{w.transport()};
        w.server.expire();

        constexpr int callers = 16;
        std::atomic<int> succeeded{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int i = 0; i < callers; ++i) {
            threads.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                if (client.try_call({"tools/list", "list"})) succeeded.fetch_add(1);
            });
        }
        go.store(true);
        for (auto& th : threads) th.join();
        INFO("round " << round);
        CHECK(succeeded.load() == callers);
        CHECK(w.reconnects.load() == 1);
        CHECK(client.transport().generation() == 2);
    }
}

TEST_CASE("a wrapped client's 'Session not found' on a tools/call is replayed after one reconnect",
          "[callable][recovery][issue10]") {
    // Issue 10: with the default translator and classifier, this ended with not_replayable and no
    // reconnect, so every later call failed the same way. The lost-session answer means the
    // server refused the request: it is replayed, and it runs once.
    wrapped w;
    w.raise = [] { throw std::runtime_error("Session not found"); };
    w.translate = [](std::exception_ptr e) { return cb::default_translator{}(std::move(e)); };
    recovering_client<wrapped_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<no_backoff>, counting_observer, mt::manual_clock>
        client{w.transport()};
    w.server.expire();
    auto r = client.try_call({"tools/call", "write"});
    REQUIRE(r);
    CHECK(w.server.executions("write") == 1);
    CHECK(w.reconnects.load() == 1);
    REQUIRE(client.try_call({"tools/call", "write"}));
    CHECK(w.reconnects.load() == 1);
    CHECK(w.server.executions("write") == 2);
}
