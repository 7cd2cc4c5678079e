// Protocol revision 2026-07-28 has no sessions and no initialize: the transport never sends a
// session id, reconnect() only renews connections, and a broken stream means re-issuing the
// request with a new id, which replay safety allows or refuses.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"

#include <string>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

namespace {

std::string ok_answer(const std::string& req) {
    return http_response(200, "application/json",
                         R"({"jsonrpc":"2.0","id":)" + std::to_string(request_id(req)) + R"(,"result":{}})",
                         "Mcp-Session-Id: ignored-by-sessionless-clients\r\n");
}

mb::transport_options sessionless(const raw_http_server& s) {
    mb::transport_options o;
    o.url = s.url();
    o.protocol_version = "2026-07-28";
    o.read_timeout = 5s;
    return o;
}

}  // namespace

TEST_CASE("which revisions have sessions", "[beast][sessionless]") {
    CHECK(mb::revision_has_sessions("2025-03-26"));
    CHECK(mb::revision_has_sessions("2025-06-18"));
    CHECK(mb::revision_has_sessions("2025-11-25"));
    CHECK_FALSE(mb::revision_has_sessions("2026-07-28"));
    CHECK_FALSE(mb::revision_has_sessions("2027-01-01"));
}

TEST_CASE("sessionless: no initialize, no session id, the revision header on every request", "[beast][sessionless]") {
    raw_http_server server([](const std::string& req) { return raw_answer{ok_answer(req), false, true}; });
    mb::streamable_http_transport t(sessionless(server));
    REQUIRE(t.connect());
    CHECK(server.requests() == 0);  // nothing to negotiate
    CHECK(t.generation() == 1);
    auto r = t.send({"tools/list", "{}"});
    REQUIRE(r);
    REQUIRE(t.send({"tools/list", "{}"}));
    CHECK(t.session_id().empty());  // the server's header is not taken up
    for (const auto& req : server.received()) {
        CHECK(req.find("Mcp-Session-Id") == std::string::npos);
        CHECK(req.find("MCP-Protocol-Version: 2026-07-28") != std::string::npos);
        CHECK_FALSE(is_method(req, "initialize"));
    }
}

TEST_CASE("sessionless: a broken stream is re-issued with a new id only when replay-safe", "[beast][sessionless]") {
    int calls = 0;
    raw_http_server server([&](const std::string& req) -> raw_answer {
        if (++calls == 1)  // the first answer breaks before the response
            return {"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nid: 1\ndata: {"};
        return {ok_answer(req), false, true};
    });
    recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                      single_flight_reconnector<>, counting_observer>
        client{std::in_place, sessionless(server)};
    REQUIRE(client.transport().connect());

    SECTION("idempotent: re-issued as a new request, no initialize") {
        auto r = client.try_call({"tools/list", "{}"});
        REQUIRE(r);
        const auto received = server.received();
        REQUIRE(received.size() == 2);
        CHECK(request_id(received[0]) != request_id(received[1]));
        for (const auto& req : received) CHECK_FALSE(is_method(req, "initialize"));
        CHECK(client.observer().failures(failure_kind::connection_lost) == 1);
        // A new connection (reopen), not a new "session": the generation stays.
        CHECK(client.observer().reopens_succeeded() == 1);
        CHECK(client.observer().reconnects() == 0);
        CHECK(client.transport().generation() == 1);
    }
    SECTION("non-idempotent: not replayed, outcome unknown") {
        auto r = client.try_call({"tools/call", R"({"name":"write","arguments":{}})"});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::not_replayable);
        CHECK(server.requests() == 1);
    }
}

TEST_CASE("sessionless: a 404 is not a lost session (there is none to lose)", "[beast][sessionless]") {
    raw_http_server server([](const std::string&) {
        return raw_answer{http_response(404, "application/json",
                                        R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Not found"},"id":null})"),
                          false, true};
    });
    recovering_client<mb::streamable_http_transport> client{std::in_place, sessionless(server)};
    REQUIRE(client.transport().connect());
    auto r = client.try_call({"tools/list", "{}"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::permanent_failure);
    REQUIRE(r.error().last_failure);
    CHECK_FALSE(r.error().last_failure->had_session_id);
    CHECK(server.requests() == 1);
}
