// The documented fastmcpp wrapper (examples/wrappers/fastmcpp_wrapper.hpp), compiled against our
// fake of fastmcpp's client interface (tests/sdk/fakes/fastmcpp) and driven through a scripted
// in-process server that fails with the SDK's real messages: restarts in both stale-session
// dialects (404, 400), concurrent callers, non-idempotent calls, a server that is down, and the
// answers that must not make the client reconnect (a 400 without a session, 415).
#include "fastmcpp_wrapper.hpp"

#include "catch.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fw = mcp_recovery_wrappers::fastmcpp_sdk;
using mcp_recovery::errc;
using mcp_recovery::failure_kind;

namespace {

using test_client = fw::client<mcp_recovery::counting_observer>;

/// A fake server at an address of its own, and the recovering client over the wrapper.
struct rig {
    explicit rig(fastmcpp_fake::dialect d = fastmcpp_fake::dialect::not_found_404, bool media_type_refused = false)
        : url(next_url()), server(listen(url, d, media_type_refused)), client(fw::make_transport({url, "/mcp"})) {}
    ~rig() { fastmcpp_fake::unlisten(url); }
    rig(const rig&) = delete;
    rig& operator=(const rig&) = delete;

    static std::string next_url() {
        static std::atomic<int> n{0};
        return "http://fake-fastmcpp-" + std::to_string(n.fetch_add(1));
    }
    static std::shared_ptr<fastmcpp_fake::server> listen(const std::string& url, fastmcpp_fake::dialect d,
                                                         bool media_type_refused) {
        auto s = fastmcpp_fake::listen(url, d);
        s->unsupported_media_type(media_type_refused);
        return s;
    }

    std::uint64_t reconnects() { return client.observer().reconnects(); }

    std::string url;
    std::shared_ptr<fastmcpp_fake::server> server;
    test_client client;
};

fw::rpc_request list_tools() { return {"tools/list", fastmcpp::Json::object()}; }

fw::rpc_request count(const std::string& key) {
    fw::rpc_request r{"tools/call", fastmcpp::Json::object()};
    r.params["name"] = "count";
    r.params["arguments"]["key"] = key;
    return r;
}

std::string message_of(const test_client::result_type& r) {
    if (r || !r.error().last_failure) return {};
    return r.error().last_failure->message.str();
}

/// Holds `n` threads until all have arrived (std::latch is C++20).
class start_line {
public:
    explicit start_line(std::size_t n) : waiting_(n) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (--waiting_ == 0) cv_.notify_all();
        else cv_.wait(lock, [this] { return waiting_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t waiting_;
};

#define ANY_DIALECT GENERATE(fastmcpp_fake::dialect::not_found_404, fastmcpp_fake::dialect::bad_request_400)
const char* name_of(fastmcpp_fake::dialect d) {
    return d == fastmcpp_fake::dialect::not_found_404 ? "404 dialect" : "400 dialect";
}

}  // namespace

TEST_CASE("fastmcpp wrapper: the next call after a restart recovers with one reconnect", "[sdk][fastmcpp][fake]") {
    const fastmcpp_fake::dialect d = ANY_DIALECT;
    INFO(name_of(d));
    rig r(d);
    REQUIRE(r.client.try_call(list_tools()));
    REQUIRE(r.server->sessions_opened() == 1);

    r.server->restart();
    auto after = r.client.try_call(list_tools());
    REQUIRE(after);
    CHECK(after->at("session").get<std::string>() == "session-2");
    CHECK(r.reconnects() == 1);
    CHECK(r.client.observer().failures(failure_kind::session_expired) == 1);
    CHECK(r.server->sessions_opened() == 2);
    CHECK(r.server->attempts("tools/list") == 3);  // before, the refused one, its replay

    // The next call goes straight through on the new session.
    REQUIRE(r.client.try_call(list_tools()));
    CHECK(r.reconnects() == 1);
}

TEST_CASE("fastmcpp wrapper: 8 threads after a restart share one reconnect", "[sdk][fastmcpp][fake]") {
    const fastmcpp_fake::dialect d = ANY_DIALECT;
    INFO(name_of(d));
    rig r(d);
    REQUIRE(r.client.try_call(list_tools()));
    r.server->restart();

    constexpr int threads = 8;
    start_line line(threads);
    std::atomic<int> ok{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < threads; ++i)
        callers.emplace_back([&] {
            line.arrive_and_wait();
            if (r.client.try_call(list_tools())) ok.fetch_add(1);
        });
    for (std::thread& t : callers) t.join();

    CHECK(ok.load() == threads);
    CHECK(r.reconnects() == 1);
    CHECK(r.client.observer().reconnects_succeeded() == 1);
    CHECK(r.server->sessions_opened() == 2);
}

TEST_CASE("fastmcpp wrapper: a tools/call refused on a lost session runs exactly once", "[sdk][fastmcpp][fake]") {
    const fastmcpp_fake::dialect d = ANY_DIALECT;
    INFO(name_of(d));
    rig r(d);
    REQUIRE(r.client.try_call(list_tools()));
    r.server->restart();

    auto result = r.client.try_call(count("write-once"));
    REQUIRE(result);
    CHECK(result->at("count").get<std::string>() == "1");
    CHECK(r.server->executions("write-once") == 1);
    CHECK(r.server->attempts("tools/call") == 2);  // refused unexecuted, then replayed once
    CHECK(r.reconnects() == 1);
}

TEST_CASE("fastmcpp wrapper: a server that is down is a lost connection; recovery once it is back",
          "[sdk][fastmcpp][fake]") {
    const fastmcpp_fake::dialect d = ANY_DIALECT;
    INFO(name_of(d));
    rig r(d);
    REQUIRE(r.client.try_call(list_tools()));
    r.server->crash();

    SECTION("a tools/call that may have run is not replayed") {
        auto down = r.client.try_call(count("down"));
        REQUIRE_FALSE(down);
        CHECK(down.error().code == errc::not_replayable);
        CHECK(message_of(down) == "StreamableHttp request failed: no response");
        CHECK(r.client.observer().failures(failure_kind::connection_lost) == 1);
        CHECK(r.server->attempts("tools/call") == 1);
        CHECK(r.server->executions("down") == 0);
        CHECK(r.reconnects() == 0);
    }
    SECTION("a tools/list reconnects once, which fails while the server is down") {
        auto down = r.client.try_call(list_tools());
        REQUIRE_FALSE(down);
        CHECK(down.error().code == errc::reconnect_failed);
        CHECK(message_of(down) == "StreamableHttp request failed: no response");
        CHECK(r.client.observer().failures(failure_kind::connection_lost) == 1);
        CHECK(r.reconnects() == 1);
        CHECK(r.client.observer().reconnects_failed() == 1);
        CHECK(r.server->attempts("tools/list") == 2);  // before, and the one while down
        CHECK(r.server->attempts("initialize") == 2);  // the first connect, the failed reconnect
    }

    r.server->start();
    const std::uint64_t before = r.reconnects();
    auto back = r.client.try_call(count("back"));
    REQUIRE(back);
    CHECK(r.server->executions("back") == 1);
    CHECK(r.reconnects() == before + 1);
    CHECK(r.server->sessions_opened() == 2);
}

TEST_CASE("fastmcpp wrapper: a tools/call whose reply was lost is not replayed", "[sdk][fastmcpp][fake]") {
    rig r;
    REQUIRE(r.client.try_call(list_tools()));
    r.server->drop_next_reply();
    auto lost = r.client.try_call(count("lost-reply"));
    REQUIRE_FALSE(lost);
    CHECK(lost.error().code == errc::not_replayable);
    CHECK(r.server->executions("lost-reply") == 1);  // it ran; the caller is told the outcome is unknown
    CHECK(r.reconnects() == 0);
}

TEST_CASE("fastmcpp wrapper: a 400 on a request without a session id is permanent: no reconnect",
          "[sdk][fastmcpp][fake]") {
    SECTION("initialize refused after a restart: one failed reconnect per call, no loop") {
        rig r(fastmcpp_fake::dialect::bad_request_400);
        REQUIRE(r.client.try_call(list_tools()));
        r.server->reject_initialize(400);
        r.server->restart();
        for (int call = 1; call <= 2; ++call) {
            auto failed = r.client.try_call(list_tools());
            REQUIRE_FALSE(failed);
            CHECK(failed.error().code == errc::reconnect_failed);
            CHECK(message_of(failed) == "StreamableHttp error: 400");
            REQUIRE(failed.error().last_failure);
            CHECK(failed.error().last_failure->http_status == 400);
            CHECK_FALSE(failed.error().last_failure->had_session_id);
            CHECK(mcp_recovery::callable::sdk_classifier{}.classify(*failed.error().last_failure).kind ==
                  failure_kind::permanent);
            CHECK(r.reconnects() == static_cast<std::uint64_t>(call));
        }
        CHECK(r.server->attempts("initialize") == 3);
    }
    SECTION("a server that issues no session id: every call gets 400, permanent at once") {
        // A server that opens no session: the wrapper's calls carry none.
        const std::string url = rig::next_url();
        auto server = fastmcpp_fake::listen(url, fastmcpp_fake::dialect::bad_request_400);
        server->issue_session_ids(false);
        test_client client(fw::make_transport({url, "/mcp"}));
        auto failed = client.try_call(list_tools());
        REQUIRE_FALSE(failed);
        CHECK(failed.error().code == errc::permanent_failure);
        CHECK(message_of(failed) == "StreamableHttp error: 400");
        CHECK(client.observer().reconnects() == 0);
        CHECK(server->attempts("tools/list") == 1);
        fastmcpp_fake::unlisten(url);
    }
}

TEST_CASE("fastmcpp wrapper: 415 (the SDK's duplicate Content-Type) is permanent and bounded",
          "[sdk][fastmcpp][fake]") {
    rig r(fastmcpp_fake::dialect::not_found_404, /*media_type_refused=*/true);
    // The first connect failed in make_transport: the client starts without one.
    CHECK(r.server->attempts("initialize") == 1);
    for (int call = 1; call <= 2; ++call) {
        auto failed = r.client.try_call(list_tools());
        REQUIRE_FALSE(failed);
        CHECK(failed.error().code == errc::reconnect_failed);
        CHECK(message_of(failed) == "StreamableHttp error: 415");
        REQUIRE(failed.error().last_failure);
        CHECK(failed.error().last_failure->http_status == 415);
        CHECK(r.reconnects() == static_cast<std::uint64_t>(call));  // one connect attempt per call
    }
    CHECK(r.server->attempts("initialize") == 3);
    CHECK(r.server->attempts("tools/list") == 0);
}
