#include "mcp_recovery/error.hpp"

#include "mcp_recovery/outcome.hpp"

#include "catch.hpp"

#include <set>
#include <string>

using namespace mcp_recovery;

TEST_CASE("every errc has its own readable message in the mcp_recovery category", "[error]") {
    std::set<std::string> messages;
    for (errc e : {errc::retries_exhausted, errc::not_replayable, errc::reconnect_failed, errc::circuit_open,
                   errc::deadline_exceeded, errc::cancelled, errc::permanent_failure, errc::unauthorized}) {
        std::error_code ec = e;  // implicit through is_error_code_enum
        CHECK(ec.category().name() == std::string("mcp_recovery"));
        CHECK(&ec.category() == &error_category());
        CHECK(ec.message().find("unknown mcp_recovery error") == std::string::npos);
        messages.insert(ec.message());
    }
    CHECK(messages.size() == 8);
    CHECK(std::error_code(999, error_category()).message() == "unknown mcp_recovery error");
}

TEST_CASE("recovery_error carries the reason and describes the last failure", "[error]") {
    failure f;
    f.http_status = 404;
    f.jsonrpc_code = -32001;
    f.message = "Session not found";
    f.delivered = delivery::rejected;
    recovery_error e(call_error{make_error_code(errc::reconnect_failed), f, {}});
    CHECK(e.code() == errc::reconnect_failed);
    const std::string what = e.what();
    CHECK(what.find("HTTP 404") != std::string::npos);
    CHECK(what.find("JSON-RPC -32001") != std::string::npos);
    CHECK(what.find("Session not found") != std::string::npos);
    CHECK(what.find("delivery rejected") != std::string::npos);
}

TEST_CASE("a failure message is bounded", "[error]") {
    std::string huge(100000, 'x');
    failure f;
    f.message = huge;
    CHECK(f.message.size() == failure_message::max_size);
    failure_message m{std::string_view("short")};
    CHECK(m == "short");
}

TEST_CASE("outcome holds a value or an error", "[outcome]") {
    outcome<int> ok = 5;
    REQUIRE(ok);
    CHECK(*ok == 5);
    CHECK(ok.value() == 5);

    failure f;
    f.http_status = 500;
    outcome<int> bad = f;
    REQUIRE_FALSE(bad);
    CHECK(bad.error().http_status == 500);
    CHECK_THROWS_AS(bad.value(), bad_outcome_access);

    outcome<void> v;
    CHECK(v.has_value());
    outcome<void> verr{f};
    CHECK_FALSE(verr.has_value());
    CHECK_THROWS_AS(verr.value(), bad_outcome_access);

    outcome<std::string, call_error> s{error_tag, call_error{make_error_code(errc::cancelled), std::nullopt, duration{}}};
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::cancelled);
}
