// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#include "mcp_recovery/classifier.hpp"

#include "catch.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

// Allocations, counted: the test program's global operator new is replaced here (one
// translation unit may do it) by one that counts, on the thread that asked, while that thread
// counts. Catch2 and the other tests allocate as before, uncounted.
namespace allocation_counter {
thread_local bool counting = false;
thread_local std::size_t count = 0;
void* volatile sink = nullptr;  // what a counted construction built escapes here: it cannot be elided

/// The allocations that `f()` makes on this thread.
template <class F>
std::size_t allocations_in(F&& f) {
    count = 0;
    counting = true;
    f();
    counting = false;
    return count;
}
}  // namespace allocation_counter

void* operator new(std::size_t size) {
    if (allocation_counter::counting) ++allocation_counter::count;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    if (allocation_counter::counting) ++allocation_counter::count;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); }
// Every form of delete that pairs with the forms of new above (an unreplaced nothrow new, e.g.
// Catch2's, would hand memory from another allocator to this free: AddressSanitizer catches that).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace mcp_recovery;

namespace {

constexpr bool with_session = true;
constexpr bool no_session = false;
const std::optional<std::int64_t> no_code = std::nullopt;

/// An answer from the server: status, JSON-RPC code (if the body had one), message text.
failure answer(int status, std::optional<std::int64_t> code, std::string_view message, bool had_session_id) {
    failure f;
    f.http_status = status;
    f.jsonrpc_code = code;
    f.message = message;
    f.had_session_id = had_session_id;
    f.delivered = delivery::rejected;
    return f;
}

/// No answer (or a broken one): a transport error, optionally after a status.
failure broken(std::error_code ec, int status = 0, std::string_view message = {}) {
    failure f;
    f.transport_error = ec;
    f.http_status = status;
    f.message = message;
    f.had_session_id = true;
    return f;
}

failure with_www_authenticate(failure f) {
    f.www_authenticate = true;
    return f;
}

failure with_retry_after(failure f) {
    f.retry_after = std::chrono::seconds(2);
    return f;
}

failure with_transport_error(failure f, std::error_code ec) {
    f.transport_error = ec;
    return f;
}

std::error_code cancelled_ec() { return std::make_error_code(std::errc::operation_canceled); }

/// Stands in for Asio's `misc_errors::eof`: any non-cancellation category counts as a broken connection.
class eof_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "test.misc"; }
    std::string message(int) const override { return "End of file"; }
};

std::error_code eof_ec() {
    static const eof_category_impl category;
    return {2, category};
}

std::string describe(failure_kind k) { return std::string(to_string(k)); }

std::string describe(classification c) { return describe(c.kind); }

std::string describe(std::optional<classification> c) { return c ? describe(c->kind) : std::string("no opinion"); }

std::string describe(const failure& f) {
    std::string s = "status " + std::to_string(f.http_status);
    if (f.jsonrpc_code) s += ", code " + std::to_string(*f.jsonrpc_code);
    s += ", message \"" + f.message.str() + "\"";
    s += f.had_session_id ? ", with session id" : ", without session id";
    if (f.www_authenticate) s += ", WWW-Authenticate";
    if (f.retry_after) s += ", Retry-After";
    if (f.transport_error) s += ", transport error " + f.transport_error.message();
    return s;
}

struct row {
    const char* source;
    failure f;
    failure_kind expected;
};

// Every row of "What servers actually answer for an unknown or expired session", plus the
// client-side messages of SDKs that the default rules recognise by message.
std::vector<row> lost_session_rows() {
    const failure_kind expired = failure_kind::session_expired;
    return {
        {"TypeScript SDK transport", answer(404, -32001, "Session not found", with_session), expired},
        {"TypeScript SDK example router / server-everything",
         answer(400, -32000, "Bad Request: No valid session ID provided", with_session), expired},
        {"Python SDK >= 1.26 / FastMCP", answer(404, -32600, "Session not found", with_session), expired},
        {"Python SDK <= 1.25 (text/plain)", answer(400, no_code, "Bad Request: No valid session ID provided", with_session),
         expired},
        {"Python SDK transport internals",
         answer(404, no_code, "Not Found: Invalid or expired session ID", with_session), expired},
        {"Python SDK transport internals", answer(404, no_code, "Not Found: Session has been terminated", with_session),
         expired},
        {"Go SDK (text/plain)", answer(404, no_code, "session not found", with_session), expired},
        {"Go SDK (text/plain)", answer(404, no_code, "session is closing", with_session), expired},
        {"C# SDK", answer(404, -32001, "Session not found", with_session), expired},
        {"hosted server, 404", answer(404, no_code, "Invalid or expired session", with_session), expired},
        {"hosted server, 400", answer(400, no_code, "Invalid or expired session", with_session), expired},
        {"hosted server, 404", answer(404, no_code, "Session expired", with_session), expired},
        {"hosted server, 400", answer(400, no_code, "Session expired", with_session), expired},
        {"hosted server, 404", answer(404, no_code, "Unknown session", with_session), expired},
        {"hosted server, 400", answer(400, no_code, "Unknown session", with_session), expired},
        {"hosted server (legacy SSE), 404", answer(404, no_code, "Invalid session id", with_session), expired},
        {"hosted server (legacy SSE), 400", answer(400, no_code, "Invalid session id", with_session), expired},
        // Client-side: what an adapter sees when the SDK already swallowed the HTTP status.
        {"Python SDK v1.x client", answer(0, 32600, "Session terminated", with_session), expired},
        {"Go SDK client ErrSessionMissing", answer(0, no_code, "session not found", with_session), expired},
        {"C# SDK client", answer(0, no_code, "The session has expired; the transport was closed.", with_session),
         expired},
        {"TypeScript SDK client StreamableHTTPError (404)",
         answer(404, no_code,
                R"(Streamable HTTP error: Error POSTing to endpoint: {"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})",
                with_session),
         expired},
        {"TypeScript SDK client StreamableHTTPError (400)",
         answer(400, no_code,
                R"(Streamable HTTP error: Error POSTing to endpoint: {"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})",
                with_session),
         expired},
        // A 404 on a request with a session id is a lost session by the spec, whatever the text.
        {"spec: 404 with a session id", answer(404, no_code, "Not Found", with_session), expired},
    };
}

// Every row of "Not a lost session", plus the neighbouring cases that must keep their kind.
std::vector<row> not_lost_session_rows() {
    const failure_kind permanent = failure_kind::permanent;
    return {
        {"missing session id on a first request",
         answer(400, -32000, "Bad Request: Mcp-Session-Id header is required", no_session), permanent},
        {"missing session id on a first request (text/plain)",
         answer(400, no_code, "Bad Request: Mcp-Session-Id header is required", no_session), permanent},
        {"missing session id on a first request", answer(400, -32000, "Bad Request: Server not initialized", no_session),
         permanent},
        {"missing session id on a first request", answer(400, no_code, "Server not initialized", no_session), permanent},
        {"wrong protocol version",
         answer(400, -32000, "Bad Request: Unsupported protocol version: 2099-01-01 (supported versions: 2025-06-18)",
                with_session),
         permanent},
        {"client did not accept both content types",
         answer(406, -32000, "Not Acceptable: Client must accept both application/json and text/event-stream",
                with_session),
         permanent},
        {"wrong endpoint path, no session id", answer(404, no_code, "Not Found", no_session), permanent},
        {"wrong endpoint path, no session id", answer(404, no_code, "404 page not found", no_session), permanent},
        {"wrong endpoint path, no session id", answer(404, no_code, "Cannot POST /mcpx", no_session), permanent},
        {"wrong endpoint path, no session id", answer(404, no_code, "", no_session), permanent},
        {"wrong endpoint path, no session id", answer(404, -32601, "Resource not found", no_session), permanent},
        {"Go SDK session user mismatch", answer(403, no_code, "session user mismatch", with_session), permanent},
        {"Go SDK session user mismatch, with WWW-Authenticate",
         with_www_authenticate(answer(403, no_code, "session user mismatch", with_session)), failure_kind::unauthorized},
        {"a tool that failed", answer(200, -32603, "Tool 'query' failed: table not found", with_session), permanent},
        {"a tool that failed", answer(200, -32602, "Unknown tool: fetch", with_session), permanent},
        {"a tool error about its own sessions", answer(200, -32603, "Browser session not found", with_session),
         permanent},
        {"a tool result with isError", answer(200, no_code, "Error: database session expired", with_session), permanent},
        {"the user cancelled", broken(cancelled_ec()), failure_kind::cancelled},
        {"the user cancelled (mcp_recovery::errc)", broken(make_error_code(errc::cancelled)), failure_kind::cancelled},
        {"TypeScript -32001 RequestTimeout, no HTTP status", answer(0, -32001, "Request timed out", with_session),
         permanent},
        {"TypeScript -32001 RequestTimeout at 200", answer(200, -32001, "Request timed out", with_session), permanent},
        {"-32001 with no message at all", answer(0, -32001, "", with_session), permanent},
        {"401 whose text says the session expired", answer(401, no_code, "Session expired", with_session),
         failure_kind::unauthorized},
        {"429 whose text names the session", answer(429, no_code, "Too many requests for session not found", with_session),
         failure_kind::throttled},
    };
}

// Shapes of the spec classifier's decision order; none of them needs a message.
std::vector<row> spec_rows() {
    return {
        {"401", answer(401, no_code, "", with_session), failure_kind::unauthorized},
        {"401 without a session id", answer(401, no_code, "", no_session), failure_kind::unauthorized},
        {"403 with WWW-Authenticate", with_www_authenticate(answer(403, no_code, "", with_session)),
         failure_kind::unauthorized},
        {"403 without WWW-Authenticate", answer(403, no_code, "Forbidden", with_session), failure_kind::permanent},
        {"429", answer(429, no_code, "", with_session), failure_kind::throttled},
        {"429 with Retry-After", with_retry_after(answer(429, no_code, "", with_session)), failure_kind::throttled},
        {"503 with Retry-After", with_retry_after(answer(503, no_code, "", with_session)), failure_kind::throttled},
        {"503 without Retry-After", answer(503, no_code, "Service Unavailable", with_session), failure_kind::transient},
        {"500", answer(500, no_code, "Internal Server Error", with_session), failure_kind::transient},
        {"502", answer(502, no_code, "Bad Gateway", with_session), failure_kind::transient},
        {"504", answer(504, no_code, "Gateway Timeout", with_session), failure_kind::transient},
        {"408", answer(408, no_code, "", with_session), failure_kind::transient},
        {"404 with a session id", answer(404, no_code, "", with_session), failure_kind::session_expired},
        {"404 without a session id", answer(404, no_code, "", no_session), failure_kind::permanent},
        {"400", answer(400, no_code, "Bad Request", with_session), failure_kind::permanent},
        {"406", answer(406, no_code, "", with_session), failure_kind::permanent},
        {"405", answer(405, no_code, "", with_session), failure_kind::permanent},
        {"200 with a JSON-RPC error code", answer(200, -32601, "Method not found", with_session), failure_kind::permanent},
        {"no status, only a JSON-RPC code", answer(0, -32603, "", with_session), failure_kind::permanent},
        {"nothing at all", failure{}, failure_kind::permanent},
        {"connection refused", broken(std::make_error_code(std::errc::connection_refused)),
         failure_kind::connection_lost},
        {"connection reset", broken(std::make_error_code(std::errc::connection_reset)), failure_kind::connection_lost},
        {"end of file", broken(eof_ec()), failure_kind::connection_lost},
        {"timed out", broken(std::make_error_code(std::errc::timed_out)), failure_kind::connection_lost},
        {"broken pipe", broken(std::make_error_code(std::errc::broken_pipe)), failure_kind::connection_lost},
        {"stream broke after 200", broken(eof_ec(), 200), failure_kind::connection_lost},
        {"stream broke after 202", broken(std::make_error_code(std::errc::connection_reset), 202),
         failure_kind::connection_lost},
        {"error status and a transport error: the status decides",
         with_transport_error(answer(502, no_code, "", with_session), eof_ec()), failure_kind::transient},
        {"400 and a transport error: the status decides",
         with_transport_error(answer(400, no_code, "", with_session), eof_ec()), failure_kind::permanent},
    };
}

// Test-only models and non-models of the two concepts.
struct fixed_rule {
    explicit fixed_rule(std::optional<failure_kind> k) : kind(k) {}
    std::optional<failure_kind> match(const failure&) const noexcept { return kind; }
    std::optional<failure_kind> kind;
};

struct fixed_classifier {
    failure_kind kind = failure_kind::transient;
    failure_kind classify(const failure&) const noexcept { return kind; }
};

struct counting_rule {
    int* calls = nullptr;
    std::optional<failure_kind> match(const failure&) const {
        ++*calls;
        return std::nullopt;
    }
};

struct status_418_rule {
    std::optional<failure_kind> match(const failure& f) const noexcept {
        if (f.http_status == 418) return failure_kind::throttled;
        return std::nullopt;
    }
};

struct non_const_classify {
    failure_kind classify(const failure&) { return failure_kind::permanent; }
};
struct classify_returns_int {
    int classify(const failure&) const { return 0; }
};
struct classify_takes_mutable_failure {
    failure_kind classify(failure&) const { return failure_kind::permanent; }
};
struct non_const_match {
    std::optional<failure_kind> match(const failure&) { return std::nullopt; }
};
struct match_returns_bool {
    bool match(const failure&) const { return false; }
};
struct match_returns_kind {
    failure_kind match(const failure&) const { return failure_kind::permanent; }
};
struct both_rule_and_classifier {
    std::optional<failure_kind> match(const failure&) const noexcept { return std::nullopt; }
    failure_kind classify(const failure&) const noexcept { return failure_kind::transient; }
};

constexpr bool all_lower_case(const std::array<std::string_view, session_message_rules::default_phrases().size()>& a) {
    for (std::string_view p : a) {
        if (p.empty()) return false;
        for (char c : p)
            if (c >= 'A' && c <= 'Z') return false;
    }
    return true;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace

TEST_CASE("default_classifier recognises every lost-session answer of real servers and SDKs",
          "[classifier][signals]") {
    const default_classifier classifier;
    const session_message_rules rules;
    for (const row& r : lost_session_rows()) {
        INFO(r.source << ": " << describe(r.f));
        CHECK(describe(classifier.classify(r.f)) == describe(r.expected));
        if (r.f.message.empty() || r.f.message == "Not Found") continue;
        // The message alone is enough: an adapter that does not know the status still recovers.
        failure without_status = r.f;
        without_status.http_status = 0;
        without_status.had_session_id = false;
        CHECK(describe(rules.match(r.f)) == "session_expired");
        CHECK(describe(classifier.classify(without_status)) == "session_expired");
    }
}

TEST_CASE("default_classifier never re-initializes for answers that are not a lost session",
          "[classifier][signals]") {
    const default_classifier classifier;
    const session_message_rules rules;
    for (const row& r : not_lost_session_rows()) {
        INFO(r.source << ": " << describe(r.f));
        const failure_kind kind = classifier.classify(r.f);
        CHECK(kind != failure_kind::session_expired);
        CHECK(describe(kind) == describe(r.expected));
        CHECK(describe(rules.match(r.f)) == "no opinion");
    }
}

TEST_CASE("spec_classifier follows the HTTP semantics of the Streamable HTTP spec", "[classifier][spec]") {
    const spec_classifier spec;
    const default_classifier classifier;
    for (const row& r : spec_rows()) {
        INFO(r.source << ": " << describe(r.f));
        CHECK(describe(spec.classify(r.f)) == describe(r.expected));
        // None of these carries a session phrase, so the default classifier agrees with the spec.
        CHECK(describe(classifier.classify(r.f)) == describe(r.expected));
    }
}

TEST_CASE("spec_classifier alone does not read messages", "[classifier][spec]") {
    const spec_classifier spec;
    CHECK(spec.classify(answer(400, -32000, "Bad Request: No valid session ID provided", with_session)) ==
          failure_kind::permanent);
    CHECK(spec.classify(answer(0, 32600, "Session terminated", with_session)) == failure_kind::permanent);
    STATIC_REQUIRE(noexcept(spec.classify(std::declval<const failure&>())));
}

TEST_CASE("transport errors: a lost stream is connection_lost, an unusable answer is permanent",
          "[classifier][spec]") {
    const default_classifier classifier;
    auto with = [](std::error_code ec, int status) {
        failure f;
        f.transport_error = ec;
        f.http_status = status;
        f.had_session_id = true;
        f.delivered = delivery::unknown;
        return f;
    };
    CHECK(classifier.classify(with(transport_errc::stream_ended, 200)) == failure_kind::connection_lost);
    CHECK(classifier.classify(with(transport_errc::not_connected, 0)) == failure_kind::connection_lost);
    for (transport_errc e : {transport_errc::malformed_response, transport_errc::response_too_large,
                             transport_errc::invalid_session_id, transport_errc::unsupported_protocol_version,
                             transport_errc::redirect_refused, transport_errc::tls_failed}) {
        CAPTURE(static_cast<int>(e));
        CHECK(classifier.classify(with(e, 200)) == failure_kind::permanent);
        CHECK(classifier.classify(with(e, 0)) == failure_kind::permanent);
        CHECK(make_error_code(e).message().find("unknown") == std::string::npos);
    }
}

TEST_CASE("a cancellation is classified cancelled whatever else the failure says", "[classifier][cancel]") {
    const spec_classifier spec;
    const default_classifier classifier;
    const session_message_rules rules;
    const std::error_code cancellations[] = {
        cancelled_ec(),
        make_error_code(errc::cancelled),
#if defined(ECANCELED) && !defined(_WIN32)
        std::error_code(ECANCELED, std::system_category()),
#endif
    };
    for (const std::error_code& ec : cancellations) {
        const failure cases[] = {
            broken(ec),
            broken(ec, 0, "session not found"),
            with_transport_error(answer(404, -32001, "Session not found", with_session), ec),
            with_transport_error(answer(400, -32000, "Bad Request: No valid session ID provided", with_session), ec),
            with_transport_error(answer(401, no_code, "Session expired", with_session), ec),
            with_transport_error(with_retry_after(answer(503, no_code, "", with_session)), ec),
            with_transport_error(answer(500, no_code, "", with_session), ec),
        };
        for (const failure& f : cases) {
            INFO(ec.category().name() << ':' << ec.value() << ", " << describe(f));
            CHECK(spec.classify(f) == failure_kind::cancelled);
            CHECK(classifier.classify(f) == failure_kind::cancelled);
            CHECK_FALSE(rules.match(f).has_value());
        }
    }
}

TEST_CASE("is_cancellation accepts operation_canceled and errc::cancelled only", "[classifier][cancel]") {
    CHECK(is_cancellation(std::make_error_code(std::errc::operation_canceled)));
    CHECK(is_cancellation(make_error_code(errc::cancelled)));
#if defined(ECANCELED) && !defined(_WIN32)
    CHECK(is_cancellation(std::error_code(ECANCELED, std::system_category())));
#endif
    CHECK_FALSE(is_cancellation(std::error_code()));
    CHECK_FALSE(is_cancellation(std::make_error_code(std::errc::connection_reset)));
    CHECK_FALSE(is_cancellation(std::make_error_code(std::errc::timed_out)));
    CHECK_FALSE(is_cancellation(make_error_code(errc::deadline_exceeded)));
    CHECK_FALSE(is_cancellation(eof_ec()));
}

TEST_CASE("session_message_rules has no opinion on auth, throttling and 2xx answers", "[classifier][rules]") {
    const session_message_rules rules;
    const char* const message = "Session not found";
    CHECK(describe(rules.match(answer(400, no_code, message, with_session))) == "session_expired");
    CHECK(describe(rules.match(answer(401, no_code, message, with_session))) == "no opinion");
    CHECK(describe(rules.match(answer(403, no_code, message, with_session))) == "no opinion");
    CHECK(describe(rules.match(with_www_authenticate(answer(403, no_code, message, with_session)))) == "no opinion");
    CHECK(describe(rules.match(answer(429, no_code, message, with_session))) == "no opinion");
    CHECK(describe(rules.match(answer(200, -32603, message, with_session))) == "no opinion");
    CHECK(describe(rules.match(answer(204, no_code, message, with_session))) == "no opinion");
    CHECK(describe(rules.match(broken(cancelled_ec(), 0, message))) == "no opinion");
    // Outside that scope the text decides, for other statuses too.
    CHECK(describe(rules.match(answer(500, no_code, message, with_session))) == "session_expired");
    CHECK(describe(rules.match(broken(eof_ec(), 0, message))) == "session_expired");

    const default_classifier classifier;
    CHECK(classifier.classify(answer(401, no_code, "Session expired", with_session)) == failure_kind::unauthorized);
    CHECK(classifier.classify(with_www_authenticate(answer(403, no_code, "Invalid session id", with_session))) ==
          failure_kind::unauthorized);
    CHECK(classifier.classify(with_retry_after(answer(429, no_code, "Unknown session", with_session))) ==
          failure_kind::throttled);
}

TEST_CASE("the default phrases cover every lost-session message and nothing nearby", "[classifier][rules]") {
    const auto& phrases = session_message_rules::default_phrases();
    const std::string_view required[] = {
        "session not found", "no valid session id", "invalid or expired session", "session has been terminated",
        "session terminated", "session is closing", "session expired", "unknown session", "invalid session id",
    };
    for (std::string_view p : required) {
        INFO(p);
        CHECK(std::find(phrases.begin(), phrases.end(), p) != phrases.end());
    }
    STATIC_REQUIRE(all_lower_case(session_message_rules::default_phrases()));

    const session_message_rules rules;
    const char* const unrelated[] = {
        "not found",
        "Not Found",
        "Resource not found",
        "404 page not found",
        "Server not initialized",
        "Bad Request: Server not initialized",
        "Mcp-Session-Id header is required",
        "Bad Request: Mcp-Session-Id header is required",
        "Unsupported protocol version",
        "Bad Request: Unsupported protocol version: 2099-01-01",
        "Not Acceptable",
        "Not Acceptable: Client must accept both application/json and text/event-stream",
        "session user mismatch",
        "Request timed out",
        "Method not found",
        "Invalid session",  // opencode's phrase: too broad (would also match "invalid session user")
        "session",
        "expired",
        "",
    };
    for (const char* text : unrelated) {
        INFO('"' << text << '"');
        CHECK_FALSE(rules.contains_phrase(text));
        CHECK(describe(rules.match(answer(400, no_code, text, with_session))) == "no opinion");
    }
}

TEST_CASE("session_message_rules ignores ASCII case in the message", "[classifier][rules]") {
    const session_message_rules rules;
    for (std::string_view p : session_message_rules::default_phrases()) {
        INFO(p);
        CHECK(rules.contains_phrase(p));
        CHECK(rules.contains_phrase(upper(p)));
        CHECK(rules.contains_phrase("error: " + upper(p) + " (code 7)"));
    }
    CHECK(rules.contains_phrase("SeSsIoN nOt FoUnD"));
    CHECK(describe(rules.match(answer(404, no_code, "SESSION NOT FOUND", no_session))) == "session_expired");
}

TEST_CASE("a phrase added with add() matches case-insensitively", "[classifier][rules][extend]") {
    session_message_rules rules;
    CHECK_FALSE(rules.contains_phrase("error: LEASE REVOKED by gateway"));
    rules.add("Lease Revoked");
    REQUIRE(rules.extra_phrases().size() == 1);
    CHECK(rules.extra_phrases()[0] == "lease revoked");
    CHECK(rules.contains_phrase("error: LEASE REVOKED by gateway"));
    CHECK(rules.contains_phrase("lease revoked"));
    CHECK(rules.contains_phrase("Session not found"));  // the defaults stay

    default_classifier classifier;
    const failure f = answer(400, no_code, "Sitzung abgelaufen", with_session);
    CHECK(classifier.classify(f) == failure_kind::permanent);
    classifier.session_rules().add("SITZUNG ABGELAUFEN");
    CHECK(classifier.classify(f) == failure_kind::session_expired);
}

TEST_CASE("add() ignores an empty phrase", "[classifier][rules][extend]") {
    session_message_rules rules;
    rules.add("");
    CHECK(rules.extra_phrases().empty());
    CHECK_FALSE(rules.contains_phrase("anything at all"));
}

TEST_CASE("clear() drops the default phrases too", "[classifier][rules][extend]") {
    const failure lost = answer(400, no_code, "Session not found", with_session);
    default_classifier classifier;
    REQUIRE(classifier.classify(lost) == failure_kind::session_expired);

    classifier.session_rules().add("gone away").clear();
    CHECK_FALSE(classifier.session_rules().uses_defaults());
    CHECK(classifier.session_rules().extra_phrases().empty());
    CHECK(describe(classifier.session_rules().match(lost)) == "no opinion");
    CHECK(classifier.classify(lost) == failure_kind::permanent);
    CHECK(classifier.classify(answer(400, no_code, "gone away", with_session)) == failure_kind::permanent);
    // The spec still applies: a 404 on a request with a session id is a lost session.
    CHECK(classifier.classify(answer(404, no_code, "whatever", with_session)) == failure_kind::session_expired);

    classifier.session_rules().add("my server lost it");
    CHECK(classifier.classify(answer(400, no_code, "My Server Lost It", with_session)) == failure_kind::session_expired);
    CHECK(classifier.classify(lost) == failure_kind::permanent);
}

TEST_CASE("use_defaults() switches the defaults and keeps added phrases", "[classifier][rules][extend]") {
    session_message_rules rules;
    rules.add("lease revoked");
    rules.use_defaults(false);
    CHECK_FALSE(rules.contains_phrase("Session not found"));
    CHECK(rules.contains_phrase("Lease revoked"));
    rules.use_defaults(true);
    CHECK(rules.contains_phrase("Session not found"));
    CHECK(rules.contains_phrase("Lease revoked"));

    default_classifier replaced{session_message_rules{}.use_defaults(false).add("lease revoked")};
    CHECK(replaced.classify(answer(400, no_code, "Session not found", with_session)) == failure_kind::permanent);
    CHECK(replaced.classify(answer(400, no_code, "LEASE REVOKED", with_session)) == failure_kind::session_expired);
}

TEST_CASE("default construction of the rules and the default classifier does not allocate",
          "[classifier][rules][cost]") {
    using allocation_counter::allocations_in;
    using allocation_counter::sink;
    std::optional<session_message_rules> rules;
    std::optional<default_classifier> classifier;
    std::optional<session_message_rules> with_phrase;

    // Counted around the constructions only (Catch2's own allocations are not).
    const std::size_t control = allocations_in([&] {
        sink = ::operator new(16);
        ::operator delete(sink);
        with_phrase.emplace().add("a phrase of my server, longer than the short-string buffer");
        sink = &*with_phrase;
    });
    const std::size_t constructing = allocations_in([&] {
        rules.emplace();
        sink = &*rules;
        classifier.emplace();
        sink = &*classifier;
    });
    CHECK(control >= 3);  // the counter sees allocations: the explicit one, the phrase, the vector
    CHECK(constructing == 0);
    CHECK(rules->uses_defaults());
    CHECK(rules->extra_phrases().capacity() == 0);

    // Classifying does not allocate either, even a message at the size limit.
    const failure lost = answer(400, no_code, "Bad Request: No valid session ID provided", with_session);
    const failure long_text = answer(400, no_code, std::string(failure_message::max_size, 'x'), with_session);
    failure_kind kinds[2]{};
    const std::size_t classifying = allocations_in([&] {
        kinds[0] = classifier->classify(lost);
        kinds[1] = classifier->classify(long_text);
    });
    CHECK(classifying == 0);
    CHECK(kinds[0] == failure_kind::session_expired);
    CHECK(kinds[1] == failure_kind::permanent);
    STATIC_REQUIRE(noexcept(classifier->classify(std::declval<const failure&>())));
    STATIC_REQUIRE(noexcept(rules->match(std::declval<const failure&>())));
}

TEST_CASE("a phrase beyond failure_message::max_size is cut off and does not match", "[classifier][rules][bound]") {
    constexpr std::size_t bound = failure_message::max_size;
    const std::string phrase = "session not found";
    const session_message_rules rules;

    SECTION("a phrase that ends exactly at the bound matches") {
        const failure f = answer(400, no_code, std::string(bound - phrase.size(), 'x') + phrase, with_session);
        REQUIRE(f.message.size() == bound);
        CHECK(describe(rules.match(f)) == "session_expired");
    }
    SECTION("a phrase that crosses the bound is cut and does not match") {
        const failure f =
            answer(400, no_code, std::string(bound - phrase.size() + 1, 'x') + phrase + " and more text", with_session);
        REQUIRE(f.message.size() == bound);
        CHECK(describe(rules.match(f)) == "no opinion");
    }
    SECTION("a phrase wholly beyond the bound does not match") {
        const failure f = answer(400, no_code, std::string(bound + 10, 'x') + phrase, with_session);
        REQUIRE(f.message.size() == bound);
        CHECK(describe(rules.match(f)) == "no opinion");
        CHECK(default_classifier{}.classify(f) == failure_kind::permanent);
    }
    SECTION("contains_phrase itself reads unbounded text") {
        // The bound belongs to failure_message; the rule trusts the failure it is given.
        CHECK(rules.contains_phrase(std::string(bound + 10, 'x') + phrase));
    }
}

TEST_CASE("first_match lets the first member that decides win", "[classifier][first_match]") {
    const failure teapot = answer(418, no_code, "I'm a teapot", with_session);

    SECTION("a custom rule placed first overrides the members after it") {
        const first_match<status_418_rule, default_classifier> custom;
        CHECK(custom.classify(teapot) == failure_kind::throttled);
        CHECK(custom.classify(answer(400, no_code, "Session not found", with_session)) ==
              failure_kind::session_expired);
        CHECK(custom.classify(answer(502, no_code, "", with_session)) == failure_kind::transient);

        const first_match<fixed_rule, spec_classifier> overriding{fixed_rule{failure_kind::transient},
                                                                  spec_classifier{}};
        CHECK(overriding.classify(answer(404, no_code, "", with_session)) == failure_kind::transient);
    }
    SECTION("a rule placed after a classifier is never consulted") {
        int calls = 0;
        const first_match<spec_classifier, counting_rule> late{spec_classifier{}, counting_rule{&calls}};
        CHECK(late.classify(teapot) == failure_kind::permanent);
        CHECK(calls == 0);
        const first_match<status_418_rule, spec_classifier> early;
        CHECK(early.classify(teapot) == failure_kind::throttled);
    }
    SECTION("a rule with no opinion passes on") {
        int calls = 0;
        const first_match<counting_rule, fixed_classifier> passing{counting_rule{&calls},
                                                                   fixed_classifier{failure_kind::throttled}};
        CHECK(passing.classify(teapot) == failure_kind::throttled);
        CHECK(calls == 1);
    }
    SECTION("when only rules are present and none decides, the result is permanent") {
        const first_match<session_message_rules, status_418_rule> only_rules;
        CHECK(only_rules.classify(teapot) == failure_kind::throttled);
        CHECK(only_rules.classify(answer(400, no_code, "Unknown session", with_session)) ==
              failure_kind::session_expired);
        CHECK(only_rules.classify(answer(503, no_code, "", with_session)) == failure_kind::permanent);
        CHECK(only_rules.classify(broken(std::make_error_code(std::errc::connection_reset))) ==
              failure_kind::permanent);
        const first_match<> nothing;
        CHECK(nothing.classify(teapot) == failure_kind::permanent);
    }
    SECTION("a member that is both a rule and a classifier is used as a rule") {
        const first_match<both_rule_and_classifier, fixed_classifier> both{both_rule_and_classifier{},
                                                                           fixed_classifier{failure_kind::throttled}};
        CHECK(both.classify(teapot) == failure_kind::throttled);
    }
}

TEST_CASE("first_match exposes its members and is built from them", "[classifier][first_match]") {
    using rules_then_spec = first_match<session_message_rules, spec_classifier>;
    rules_then_spec fm;
    STATIC_REQUIRE(std::is_same_v<decltype(fm.get<0>()), session_message_rules&>);
    STATIC_REQUIRE(std::is_same_v<decltype(fm.get<1>()), spec_classifier&>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::as_const(fm).get<0>()), const session_message_rules&>);

    fm.get<0>().add("lease revoked");
    const rules_then_spec& view = fm;
    REQUIRE(view.get<0>().extra_phrases().size() == 1);
    CHECK(view.classify(answer(400, no_code, "Lease Revoked", with_session)) == failure_kind::session_expired);

    default_classifier classifier;
    classifier.session_rules().add("lease revoked");
    CHECK(&classifier.session_rules() == &classifier.get<0>());
    CHECK(std::as_const(classifier).session_rules().extra_phrases().size() == 1);

    STATIC_REQUIRE(std::is_default_constructible_v<rules_then_spec>);
    STATIC_REQUIRE_FALSE(std::is_default_constructible_v<first_match<fixed_rule, spec_classifier>>);
    STATIC_REQUIRE(std::is_constructible_v<first_match<fixed_rule, spec_classifier>, fixed_rule, spec_classifier>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<first_match<fixed_rule, spec_classifier>, fixed_rule>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<fixed_rule, first_match<fixed_rule>>);  // explicit
    STATIC_REQUIRE(std::is_copy_constructible_v<default_classifier>);

    const first_match<fixed_rule> single{fixed_rule{failure_kind::unauthorized}};
    const first_match<fixed_rule> copy = single;  // copies, not a member built from a first_match
    CHECK(copy.classify(failure{}) == failure_kind::unauthorized);
}

TEST_CASE("first_match::classify is noexcept exactly when its members are", "[classifier][first_match]") {
    const failure f;
    STATIC_REQUIRE(noexcept(std::declval<const first_match<status_418_rule, spec_classifier>&>().classify(f)));
    STATIC_REQUIRE(noexcept(std::declval<const first_match<>&>().classify(f)));
    STATIC_REQUIRE_FALSE(noexcept(std::declval<const first_match<counting_rule, spec_classifier>&>().classify(f)));
    STATIC_REQUIRE_FALSE(noexcept(std::declval<const first_match<spec_classifier, counting_rule>&>().classify(f)));
    CHECK(first_match<>{}.classify(f) == failure_kind::permanent);
}

TEST_CASE("the classifier and rule traits accept models and reject near misses", "[classifier][concepts]") {
    STATIC_REQUIRE(is_classifier_v<spec_classifier>);
    STATIC_REQUIRE(is_classifier_v<default_classifier>);
    STATIC_REQUIRE(is_classifier_v<first_match<session_message_rules, spec_classifier>>);
    STATIC_REQUIRE(is_classifier_v<first_match<status_418_rule>>);
    STATIC_REQUIRE(is_classifier_v<fixed_classifier>);
    STATIC_REQUIRE(is_classifier<spec_classifier>::value);
    STATIC_REQUIRE(is_classifier_rule<session_message_rules>::value);
    STATIC_REQUIRE(is_classifier_rule_v<session_message_rules>);
    STATIC_REQUIRE(is_classifier_rule_v<fixed_rule>);
    STATIC_REQUIRE(is_classifier_rule_v<counting_rule>);

    STATIC_REQUIRE_FALSE(is_classifier_v<session_message_rules>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<spec_classifier>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<default_classifier>);
    STATIC_REQUIRE_FALSE(is_classifier_v<non_const_classify>);
    STATIC_REQUIRE_FALSE(is_classifier_v<classify_returns_int>);
    STATIC_REQUIRE_FALSE(is_classifier_v<classify_takes_mutable_failure>);
    STATIC_REQUIRE_FALSE(is_classifier_v<int>);
    STATIC_REQUIRE_FALSE(is_classifier_v<void>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<non_const_match>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<match_returns_bool>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<match_returns_kind>);
    STATIC_REQUIRE_FALSE(is_classifier_rule_v<int>);

#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(classifier<spec_classifier>);
    STATIC_REQUIRE(classifier<default_classifier>);
    STATIC_REQUIRE(classifier<first_match<session_message_rules, spec_classifier>>);
    STATIC_REQUIRE(classifier_rule<session_message_rules>);
    STATIC_REQUIRE(classifier_rule<fixed_rule>);
    STATIC_REQUIRE_FALSE(classifier<session_message_rules>);
    STATIC_REQUIRE_FALSE(classifier_rule<spec_classifier>);
    STATIC_REQUIRE_FALSE(classifier<non_const_classify>);
    STATIC_REQUIRE_FALSE(classifier<classify_returns_int>);
    STATIC_REQUIRE_FALSE(classifier<classify_takes_mutable_failure>);
    STATIC_REQUIRE_FALSE(classifier<int>);
    STATIC_REQUIRE_FALSE(classifier_rule<non_const_match>);
    STATIC_REQUIRE_FALSE(classifier_rule<match_returns_bool>);
    STATIC_REQUIRE_FALSE(classifier_rule<match_returns_kind>);
    // The concepts and the traits agree.
    STATIC_REQUIRE(classifier<both_rule_and_classifier> == is_classifier_v<both_rule_and_classifier>);
    STATIC_REQUIRE(classifier_rule<both_rule_and_classifier> == is_classifier_rule_v<both_rule_and_classifier>);
#endif
}
