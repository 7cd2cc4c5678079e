#include "mcp_recovery/error.hpp"

#include "mcp_recovery/outcome.hpp"

#include "catch.hpp"

#include <cerrno>
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

TEST_CASE("condition: error codes of every category compare equal to what they mean", "[error][condition]") {
    using std::make_error_code;
    const std::error_code cancelled_codes[] = {make_error_code(std::errc::operation_canceled),
                                               std::error_code(ECANCELED, std::system_category()),
                                               make_error_code(errc::cancelled)};
    for (const std::error_code& ec : cancelled_codes) {
        CHECK(ec == condition::cancelled);
        CHECK(is_cancellation(ec));
        CHECK(ec != condition::retryable);
    }

    CHECK(make_error_code(transport_errc::session_lost) == condition::session_lost);
    CHECK(make_error_code(transport_errc::session_lost) != condition::unusable_answer);
    CHECK(make_error_code(transport_errc::session_lost) != condition::connection_lost);

    for (transport_errc e : {transport_errc::not_connected, transport_errc::stream_ended}) {
        CHECK(make_error_code(e) == condition::connection_lost);
        CHECK(make_error_code(e) != condition::unusable_answer);
        CHECK_FALSE(is_unusable_answer(make_error_code(e)));
    }
    for (std::errc e : {std::errc::connection_refused, std::errc::connection_reset, std::errc::connection_aborted,
                        std::errc::broken_pipe, std::errc::not_connected, std::errc::network_down,
                        std::errc::network_reset, std::errc::network_unreachable, std::errc::host_unreachable}) {
        CHECK(make_error_code(e) == condition::connection_lost);
        CHECK(std::error_code(static_cast<int>(e), std::system_category()) == condition::connection_lost);
    }
    CHECK(make_error_code(std::errc::timed_out) != condition::connection_lost);
    CHECK(make_error_code(std::errc::operation_canceled) != condition::connection_lost);

    for (transport_errc e :
         {transport_errc::malformed_response, transport_errc::response_too_large, transport_errc::invalid_session_id,
          transport_errc::unsupported_protocol_version, transport_errc::redirect_refused, transport_errc::tls_failed,
          transport_errc::unsupported_content_encoding}) {
        CHECK(make_error_code(e) == condition::unusable_answer);
        CHECK(is_unusable_answer(make_error_code(e)));
        CHECK(make_error_code(e) != condition::connection_lost);
    }
    CHECK_FALSE(is_unusable_answer(make_error_code(std::errc::connection_reset)));
    CHECK_FALSE(is_unusable_answer(std::error_code()));

    for (errc e : {errc::retries_exhausted, errc::reconnect_failed, errc::circuit_open, errc::deadline_exceeded})
        CHECK(make_error_code(e) == condition::retryable);
    for (errc e : {errc::not_replayable, errc::cancelled, errc::permanent_failure, errc::unauthorized})
        CHECK(make_error_code(e) != condition::retryable);

    // No condition holds for success, nor for a code of another library.
    for (condition c : {condition::cancelled, condition::session_lost, condition::connection_lost,
                        condition::unusable_answer, condition::retryable}) {
        CHECK(std::error_code() != c);
        CHECK(make_error_code(std::errc::invalid_argument) != c);
        const std::error_condition cond = c;
        CHECK(&cond.category() == &condition_category());
        CHECK(cond.message().find("unknown") == std::string::npos);
    }
    CHECK(std::string(condition_category().name()) == "mcp_recovery.condition");
}

TEST_CASE("recovery_error states not_replayable's reason once", "[error][message]") {
    failure f;
    f.transport_error = std::make_error_code(std::errc::connection_reset);
    f.had_session_id = true;
    f.delivered = delivery::unknown;
    const recovery_error e(call_error{make_error_code(errc::not_replayable), f, {}});
    const std::string what = e.what();
    const std::string reason = make_error_code(errc::not_replayable).message();
    // The details, then the reason, once; the delivery is the reason and is not said again.
    CHECK(what == "last failure: " + std::make_error_code(std::errc::connection_reset).message() + ": " + reason);
    CHECK(what.find("delivery") == std::string::npos);
    CHECK(what.find("outcome unknown") == what.rfind("outcome unknown"));

    // Other reasons keep the delivery of the failure, which they do not say themselves.
    failure rejected = f;
    rejected.delivered = delivery::rejected;
    const std::string other = recovery_error(call_error{make_error_code(errc::retries_exhausted), rejected, {}}).what();
    CHECK(other.find("(delivery rejected)") != std::string::npos);
}

TEST_CASE("recovery_error without details is the reason alone", "[error][message]") {
    const recovery_error bare(call_error{make_error_code(errc::deadline_exceeded), std::nullopt, {}});
    CHECK(std::string(bare.what()) == make_error_code(errc::deadline_exceeded).message());
    // A failure that says nothing but its delivery adds nothing to not_replayable's reason.
    failure silent;
    silent.delivered = delivery::unknown;
    const recovery_error quiet(call_error{make_error_code(errc::not_replayable), silent, {}});
    CHECK(std::string(quiet.what()) == make_error_code(errc::not_replayable).message());
}
