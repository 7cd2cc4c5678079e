#include "mcp_recovery/callable/presets.hpp"

#include "mcp_recovery/classifier.hpp"

#include "catch.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

using namespace mcp_recovery;
namespace cb = mcp_recovery::callable;
namespace presets = mcp_recovery::callable::presets;

namespace {

enum class sdk { typescript, python, go, csharp, hkr04, fastmcpp, cxxmcp, itcv };

const char* name_of(sdk s) {
    switch (s) {
    case sdk::typescript: return "typescript_sdk";
    case sdk::python: return "python_sdk";
    case sdk::go: return "go_sdk";
    case sdk::csharp: return "csharp_sdk";
    case sdk::hkr04: return "hkr04_cpp_mcp";
    case sdk::fastmcpp: return "fastmcpp";
    case sdk::cxxmcp: return "cxxmcp";
    case sdk::itcv: return "itcv_cpp_mcp_sdk";
    }
    return "?";
}

failure translate(sdk s, const cb::foreign_error& e) {
    switch (s) {
    case sdk::typescript: return presets::typescript_sdk{}(e);
    case sdk::python: return presets::python_sdk{}(e);
    case sdk::go: return presets::go_sdk{}(e);
    case sdk::csharp: return presets::csharp_sdk{}(e);
    case sdk::hkr04: return presets::hkr04_cpp_mcp{}(e);
    case sdk::fastmcpp: return presets::fastmcpp{}(e);
    case sdk::cxxmcp: return presets::cxxmcp{}(e);
    case sdk::itcv: return presets::itcv_cpp_mcp_sdk{}(e);
    }
    return {};
}

bool is_session_loss(sdk s, const cb::foreign_error& e) {
    switch (s) {
    case sdk::typescript: return presets::typescript_sdk::is_session_loss(e);
    case sdk::python: return presets::python_sdk::is_session_loss(e);
    case sdk::go: return presets::go_sdk::is_session_loss(e);
    case sdk::csharp: return presets::csharp_sdk::is_session_loss(e);
    case sdk::hkr04: return presets::hkr04_cpp_mcp::is_session_loss(e);
    case sdk::fastmcpp: return presets::fastmcpp::is_session_loss(e);
    case sdk::cxxmcp: return presets::cxxmcp::is_session_loss(e);
    case sdk::itcv: return presets::itcv_cpp_mcp_sdk::is_session_loss(e);
    }
    return false;
}

struct loss_row {
    sdk from;
    cb::foreign_error error;
    int http_status;
    std::optional<std::int64_t> jsonrpc_code;
};

struct miss_row {
    sdk from;
    cb::foreign_error error;
    failure_kind kind;
    delivery delivered;
};

cb::foreign_error err(std::string type, std::string message, std::optional<std::int64_t> code = std::nullopt,
                      std::string detail = {}) {
    return cb::foreign_error{std::move(type), std::move(message), code, std::move(detail)};
}

const std::string ts_404_body =
    "Streamable HTTP error: Error POSTing to endpoint: "
    R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})";
const std::string ts_400_body =
    "Streamable HTTP error: Error POSTing to endpoint: "
    R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})";
const std::string csharp_expired =
    "The server returned HTTP 404 for a request with an Mcp-Session-Id, indicating the session has expired. "
    "To continue, create a new client session or call ResumeSessionAsync with a new connection.";
const std::string itcv_400_body =
    R"(HTTP 400: {"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})";

}  // namespace

TEST_CASE("each preset turns its SDK's session-loss signal into a rejected, session-expired failure",
          "[callable][presets]") {
    const loss_row row = GENERATE_COPY(values<loss_row>({
        {sdk::typescript, err("StreamableHTTPError", ts_404_body, 404), 404, std::nullopt},
        {sdk::typescript, err("StreamableHTTPError", ts_400_body, 400), 400, std::nullopt},
        {sdk::python, err("McpError", "Session terminated", 32600), 0, 32600},
        {sdk::go, err("ErrSessionMissing", "session not found"), 0, std::nullopt},
        {sdk::go, err("", "session not found"), 0, std::nullopt},
        {sdk::csharp, err("ClientTransportClosedException", csharp_expired, 404), 404, std::nullopt},
        {sdk::csharp, err("ClientTransportClosedException", csharp_expired), 0, std::nullopt},
        {sdk::csharp, err("HttpRequestException", "Response status code does not indicate success: 404 (Not Found).", 404),
         404, std::nullopt},
        {sdk::hkr04, err("mcp::mcp_exception", "Session not initialized", -32600), 0, -32600},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "StreamableHttp error: 404"), 404, std::nullopt},
        {sdk::cxxmcp, err("mcp::core::Error", "http transport session was terminated", -32600, "404"), 404, -32600},
        {sdk::itcv, err("std::runtime_error", "Unexpected HTTP status 404 (expected 200)."), 404, std::nullopt},
        {sdk::itcv, err("std::runtime_error", itcv_400_body), 400, std::nullopt},
    }));
    INFO(name_of(row.from) << ": " << row.error.type << " " << row.error.message);

    CHECK(is_session_loss(row.from, row.error));
    const failure f = translate(row.from, row.error);
    CHECK(f.http_status == row.http_status);
    CHECK(f.jsonrpc_code == row.jsonrpc_code);
    CHECK(f.message == row.error.message);
    CHECK(f.had_session_id);
    CHECK(f.delivered == delivery::rejected);
    CHECK_FALSE(f.transport_error);

    CHECK(cb::sdk_classifier{}.classify(f) == failure_kind::session_expired);
    // Only hkr04's phrase is unknown to the core: there the SDK rules are what recognises it.
    const failure_kind by_core = default_classifier{}.classify(f);
    if (row.from == sdk::hkr04)
        CHECK(by_core == failure_kind::permanent);
    else
        CHECK(by_core == failure_kind::session_expired);
}

TEST_CASE("near misses are not taken for a lost session", "[callable][presets]") {
    const miss_row row = GENERATE_COPY(values<miss_row>({
        // TypeScript: -32001 is also RequestTimeout; protocol and content-type errors; a tool named *session*.
        {sdk::typescript, err("McpError", "MCP error -32001: Request timed out", -32001), failure_kind::permanent,
         delivery::unknown},
        {sdk::typescript,
         err("StreamableHTTPError",
             "Streamable HTTP error: Error POSTing to endpoint: Bad Request: Unsupported protocol version: 2099-01-01", 400),
         failure_kind::permanent, delivery::rejected},
        {sdk::typescript,
         err("StreamableHTTPError",
             "Streamable HTTP error: Error POSTing to endpoint: Not Acceptable: Client must accept both "
             "application/json and text/event-stream",
             406),
         failure_kind::permanent, delivery::rejected},
        {sdk::typescript, err("McpError", "MCP error -32601: Tool session_stats not found", -32601),
         failure_kind::permanent, delivery::unknown},
        {sdk::typescript, err("StreamableHTTPError", "Streamable HTTP error: Error POSTing to endpoint: Bad Gateway", 502),
         failure_kind::transient, delivery::unknown},
        // Python: the negative -32600 is an ordinary invalid request.
        {sdk::python, err("McpError", "Invalid request parameters", -32600), failure_kind::permanent, delivery::unknown},
        {sdk::python, err("McpError", "Method not found", -32601), failure_kind::permanent, delivery::unknown},
        // Go: an auth mismatch, and a tool whose name is "session".
        {sdk::go, err("", "session user mismatch"), failure_kind::permanent, delivery::unknown},
        {sdk::go, err("", "tool \"session\" not found"), failure_kind::permanent, delivery::unknown},
        // C#: a closed transport is a lost connection, not a lost session; a 400; an unknown tool.
        {sdk::csharp, err("ClientTransportClosedException", "The transport was closed."), failure_kind::connection_lost,
         delivery::unknown},
        {sdk::csharp,
         err("HttpRequestException", "Response status code does not indicate success: 400 (Bad Request).", 400),
         failure_kind::permanent, delivery::rejected},
        {sdk::csharp, err("McpProtocolException", "Unknown tool: 'session_info'", -32602), failure_kind::permanent,
         delivery::unknown},
        // hkr04/cpp-mcp: method not found, a plain invalid request, the phrase under another code, a server's
        // own JSON-RPC parse error.
        {sdk::hkr04, err("mcp::mcp_exception", "Method not found: tools/frobnicate", -32601), failure_kind::permanent,
         delivery::unknown},
        {sdk::hkr04, err("mcp::mcp_exception", "Invalid Request", -32600), failure_kind::permanent, delivery::unknown},
        {sdk::hkr04, err("mcp::mcp_exception", "Tool 'close_session' failed: session not initialized yet", -32603),
         failure_kind::permanent, delivery::unknown},
        {sdk::hkr04, err("mcp::mcp_exception", "Parse error", -32700), failure_kind::permanent, delivery::unknown},
        // fastmcpp: a 400 on a request without a session id, a 5xx, a redirect loop, a lost JSON-RPC code, a tool timeout.
        {sdk::fastmcpp, err("fastmcpp::TransportError", "StreamableHttp error: 400"), failure_kind::permanent,
         delivery::rejected},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "StreamableHttp error: 500"), failure_kind::transient,
         delivery::unknown},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "StreamableHttp error: 4040"), failure_kind::permanent,
         delivery::unknown},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "StreamableHttp redirect limit exceeded"),
         failure_kind::permanent, delivery::unknown},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "JSON-RPC error: Method not found"), failure_kind::permanent,
         delivery::unknown},
        {sdk::fastmcpp, err("fastmcpp::TransportError", "tools/call timed out"), failure_kind::permanent,
         delivery::unknown},
        // cxxmcp: an unreadable 400 on a request without a session id, method not found.
        {sdk::cxxmcp, err("mcp::core::Error", "http transport request returned an error status", -32603, "400"),
         failure_kind::permanent, delivery::rejected},
        {sdk::cxxmcp, err("mcp::core::Error", "method not found", -32601), failure_kind::permanent, delivery::unknown},
        // itcv cpp-mcp-sdk: 400 status line, a 400 validation error, a 503, a broken stream.
        {sdk::itcv, err("std::runtime_error", "Unexpected HTTP status 400 (expected 200)."), failure_kind::permanent,
         delivery::rejected},
        {sdk::itcv,
         err("std::runtime_error", R"(HTTP 400: {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"}})"),
         failure_kind::permanent, delivery::rejected},
        {sdk::itcv, err("std::runtime_error", "Unexpected HTTP status 503 (expected 200)."), failure_kind::transient,
         delivery::unknown},
        {sdk::itcv, err("std::runtime_error", "SSE stream terminated before delivering the JSON-RPC response."),
         failure_kind::permanent, delivery::unknown},
    }));
    INFO(name_of(row.from) << ": " << row.error.type << " " << row.error.message);

    CHECK_FALSE(is_session_loss(row.from, row.error));
    const failure f = translate(row.from, row.error);
    CHECK_FALSE(f.had_session_id);
    CHECK(f.delivered == row.delivered);
    CHECK(f.message == row.error.message);
    const failure_kind kind = cb::sdk_classifier{}.classify(f);
    CHECK(kind != failure_kind::session_expired);
    CHECK(kind == row.kind);
}

// The exact errors the real SDKs raised, run against real servers (server-everything 2026.8.31 and
// the TypeScript SDK 1.32.2 server from tests/interop, hkr04's own example server), with the server
// up, killed, and restarted on its port; docs/wrapping-clients.md has the runs. TypeScript SDK
// client 1.32.2 (the same package, tests/interop/sdk_reference_client.mjs). fastmcpp 1cd32e0
// (StreamableHttpTransport), hkr04/cpp-mcp f1117d5 (sse_client), cxxmcp 43507d3 (HttpTransport).
namespace {

struct observed_row {
    const char* scenario;
    sdk from;
    cb::foreign_error error;
    failure_kind kind;
    delivery delivered;
    std::error_code transport_error;
    int http_status;
    bool signal_in_text = true;  // the lost-session signal is in the message alone (no detail needed)
    bool core_knows = true;      // default_classifier alone classifies it so (else only sdk_session_rules)
};

cb::foreign_error with_session(cb::foreign_error e) {
    e.had_session_id = true;
    return e;
}

}  // namespace

TEST_CASE("the SDKs' real messages, as observed, classify for recovery", "[callable][presets][observed]") {
    const std::string type_error_305 =
        "Failed to parse JSON-RPC response: [json.exception.type_error.305] cannot use operator[] with a string "
        "argument with string";
    const observed_row row = GENERATE_COPY(values<observed_row>({
        // The TypeScript SDK's own client (tests/interop/sdk_reference_client.mjs --probe-session-loss),
        // as a bridge would carry its StreamableHTTPError over: type, code, message.
        {"TypeScript SDK client, TypeScript SDK server forgot the session", sdk::typescript,
         err("StreamableHTTPError", ts_404_body, 404), failure_kind::session_expired, delivery::rejected, {}, 404, false},
        {"TypeScript SDK client, server-everything forgot the session", sdk::typescript,
         err("StreamableHTTPError", ts_400_body, 400), failure_kind::session_expired, delivery::rejected, {}, 400, false},
        {"fastmcpp, TypeScript SDK server restarted: stale session", sdk::fastmcpp,
         with_session(err("fastmcpp::TransportError", "StreamableHttp error: 404")), failure_kind::session_expired,
         delivery::rejected, {}, 404},
        {"fastmcpp, server-everything restarted: stale session (body 'Bad Request: No valid session ID provided' "
         "thrown away by the SDK)",
         sdk::fastmcpp, with_session(err("fastmcpp::TransportError", "StreamableHttp error: 400")),
         failure_kind::session_expired, delivery::rejected, {}, 400, true, false},
        {"fastmcpp, a 400 on a request without a session id (initialize, stateless server)", sdk::fastmcpp,
         err("fastmcpp::TransportError", "StreamableHttp error: 400"), failure_kind::permanent, delivery::rejected, {},
         400},
        {"fastmcpp, server down (connection refused; also its 300 s read timeout)", sdk::fastmcpp,
         with_session(err("fastmcpp::TransportError", "StreamableHttp request failed: no response")),
         failure_kind::connection_lost, delivery::unknown, std::make_error_code(std::errc::connection_aborted), 0},
        {"fastmcpp against a TypeScript SDK server: its duplicate Content-Type refused", sdk::fastmcpp,
         err("fastmcpp::TransportError", "StreamableHttp error: 415"), failure_kind::permanent, delivery::rejected, {},
         415},
        {"hkr04, its own server restarted: 404 {\"error\":\"Session not found\"} mis-parsed by the SDK", sdk::hkr04,
         err("mcp::mcp_exception", type_error_305, -32700), failure_kind::session_expired, delivery::rejected, {}, 0,
         true, false},
        {"hkr04, TypeScript SDK SSE server restarted: 404 text/plain 'Session not found' mis-parsed by the SDK",
         sdk::hkr04,
         err("mcp::mcp_exception",
             "Failed to parse JSON-RPC response: [json.exception.parse_error.101] parse error at line 1, column 1: "
             "syntax error while parsing value - invalid literal; last read: 'S'",
             -32700),
         failure_kind::session_expired, delivery::rejected, {}, 0, true, false},
        {"hkr04, its own server restarted, SSE stream re-attached to a new session", sdk::hkr04,
         err("mcp::mcp_exception", "Session not initialized", -32600), failure_kind::session_expired, delivery::rejected,
         {}, 0, true, false},
        {"hkr04, server down", sdk::hkr04, err("mcp::mcp_exception", "Could not establish connection", -32603),
         failure_kind::connection_lost, delivery::not_sent, std::make_error_code(std::errc::connection_refused), 0},
        {"hkr04, server-everything restarted: the POST to the dead endpoint is never answered (30 s)", sdk::hkr04,
         err("mcp::mcp_exception", "Failed to read connection", -32603), failure_kind::connection_lost,
         delivery::unknown, std::make_error_code(std::errc::connection_aborted), 0},
        {"hkr04, the answer never came on the SSE stream", sdk::hkr04,
         err("mcp::mcp_exception", "Timeout waiting for SSE response", -32603), failure_kind::connection_lost,
         delivery::unknown, std::make_error_code(std::errc::timed_out), 0},
        {"hkr04, the SSE stream never got its endpoint (initialize failed)", sdk::hkr04,
         err("mcp::mcp_exception", "Message endpoint not set, SSE connection may not be established", -32603),
         failure_kind::connection_lost, delivery::not_sent, std::make_error_code(std::errc::not_connected), 0},
        {"cxxmcp, server-everything restarted: its 400 body has no id, which the SDK cannot read", sdk::cxxmcp,
         with_session(err("mcp::core::Error", "http transport request returned an error status", -32603, "400")),
         failure_kind::session_expired, delivery::rejected, {}, 400, false, false},
        {"cxxmcp, its own re-initialize after a 404 failed as well", sdk::cxxmcp,
         err("mcp::core::Error", "http transport session was terminated", -32600, "404"), failure_kind::session_expired,
         delivery::rejected, {}, 404},
        {"cxxmcp, server down", sdk::cxxmcp,
         err("mcp::core::Error", "http transport request failed", -32603, "Could not establish connection"),
         failure_kind::connection_lost, delivery::not_sent, std::make_error_code(std::errc::connection_refused), 0},
        {"cxxmcp, the connection broke during the request", sdk::cxxmcp,
         err("mcp::core::Error", "http transport request failed", -32603, "Failed to read connection"),
         failure_kind::connection_lost, delivery::unknown, std::make_error_code(std::errc::connection_aborted), 0},
        {"cxxmcp, its request timeout", sdk::cxxmcp, err("mcp::core::Error", "http transport request timed out", -32603),
         failure_kind::connection_lost, delivery::unknown, std::make_error_code(std::errc::timed_out), 0},
    }));
    INFO(row.scenario << ": " << row.error.message);

    const failure f = translate(row.from, row.error);
    CHECK(f.message == row.error.message);
    CHECK(f.delivered == row.delivered);
    CHECK(f.transport_error == row.transport_error);
    CHECK(f.http_status == row.http_status);
    CHECK(f.had_session_id == (row.kind == failure_kind::session_expired));
    CHECK(is_session_loss(row.from, row.error) == (row.kind == failure_kind::session_expired));
    CHECK(cb::sdk_classifier{}.classify(f) == row.kind);
    // The core's classifier alone agrees, except on the signals only the SDK rules know (there it
    // says permanent: without sdk_classifier these SDKs do not recover).
    CHECK(default_classifier{}.classify(f) == (row.core_knows ? row.kind : failure_kind::permanent));

    // The same message with nothing but the text (a wrapper that only rethrows what()):
    // sdk_session_rules still finds the lost session when the signal is in the text.
    failure raw;
    raw.message = row.error.message;
    raw.jsonrpc_code = row.error.code;
    raw.had_session_id = row.error.had_session_id;
    if (row.kind == failure_kind::session_expired && row.signal_in_text)
        CHECK(cb::sdk_session_rules{}.match(raw) == failure_kind::session_expired);
}

TEST_CASE("fastmcpp's exception overload takes whether the request carried a session id", "[callable][presets]") {
    struct transport_error : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    const auto e = std::make_exception_ptr(transport_error("StreamableHttp error: 400"));
    CHECK(cb::sdk_classifier{}.classify(presets::fastmcpp{}(e)) == failure_kind::permanent);
    const failure with = presets::fastmcpp{}(e, true);
    CHECK(with.had_session_id);
    CHECK(cb::sdk_classifier{}.classify(with) == failure_kind::session_expired);
    // A 404 is a lost session either way; a 500 is not one even with a session.
    CHECK(cb::sdk_classifier{}.classify(presets::fastmcpp{}(std::make_exception_ptr(transport_error("StreamableHttp error: 404")))) ==
          failure_kind::session_expired);
    CHECK(cb::sdk_classifier{}.classify(presets::fastmcpp{}(std::make_exception_ptr(transport_error("StreamableHttp error: 500")), true)) ==
          failure_kind::transient);
}

TEST_CASE("sdk_session_rules recognises the SDKs' raw messages and codes, within scope", "[callable][presets][rules]") {
    std::string message;
    std::optional<std::int64_t> code;
    int status = 0;
    bool expected = false;
    std::tie(message, code, status, expected) =
        GENERATE(table<std::string, std::optional<std::int64_t>, int, bool>({
            {"Session terminated", 32600, 0, true},
            {"anything at all", 32600, 0, true},  // +32600 is the Python SDK's code for nothing else
            {"Session not initialized", -32600, 0, true},
            {"Session not initialized", std::nullopt, 0, true},
            {"session NOT initialized", std::nullopt, 400, true},
            {"Session not initialized", -32601, 0, false},
            {"http transport session was terminated", -32600, 0, true},
            {"http transport session was terminated", -32603, 0, false},
            {"StreamableHttp error: 404", std::nullopt, 0, true},
            {"StreamableHttp error: 4041", std::nullopt, 0, false},
            {"StreamableHttp error: 400", std::nullopt, 0, false},
            {"Failed to parse JSON-RPC response: [json.exception.type_error.305] cannot use operator[] with a string "
             "argument with string",
             -32700, 0, true},
            {"Failed to parse JSON-RPC response: [json.exception.type_error.305] cannot use operator[] with a string "
             "argument with string",
             std::nullopt, 0, true},
            {"Failed to parse JSON-RPC response: [json.exception.parse_error.101] parse error", -32700, 0, true},
            {"Parse error", -32700, 0, false},
            {"Failed to parse JSON-RPC response: [json.exception.type_error.305]", -32603, 0, false},
            {"Unexpected HTTP status 404 (expected 200).", std::nullopt, 0, true},
            {"unexpected http status 404 (expected 202 or 200).", std::nullopt, 0, true},
            {"Unexpected HTTP status 500 (expected 200).", std::nullopt, 0, false},
            {"Bad Request: Server not initialized", std::nullopt, 400, false},
            {"Tool 'close_session' failed: not found", -32603, 0, false},
            {"Invalid Request", -32600, 0, false},
            {"", std::nullopt, 0, false},
            // Out of scope: accepted (2xx), auth and throttling answers decide on their own.
            {"Session not initialized", -32600, 200, false},
            {"Session not initialized", -32600, 401, false},
            {"StreamableHttp error: 404", std::nullopt, 403, false},
            {"Session terminated", 32600, 429, false},
        }));
    INFO(message << " code " << (code ? std::to_string(*code) : "-") << " status " << status);

    failure f;
    f.message = message;
    f.jsonrpc_code = code;
    f.http_status = status;
    const std::optional<failure_kind> m = cb::sdk_session_rules{}.match(f);
    CHECK(m.has_value() == expected);
    if (m) CHECK(*m == failure_kind::session_expired);
}

TEST_CASE("sdk_session_rules never turns a cancellation into a lost session", "[callable][presets][rules]") {
    failure f;
    f.message = "Session not initialized";
    f.transport_error = std::make_error_code(std::errc::operation_canceled);
    CHECK_FALSE(cb::sdk_session_rules{}.match(f));
    CHECK(cb::sdk_classifier{}.classify(f) == failure_kind::cancelled);
}

TEST_CASE("sdk_classifier takes extra phrases through the core's rules", "[callable][presets][rules]") {
    cb::sdk_classifier c;
    failure f;
    f.http_status = 400;
    f.message = "Bad Request: conversation evicted";
    CHECK(c.classify(f) == failure_kind::permanent);
    c.session_rules().add("Conversation Evicted");
    CHECK(c.classify(f) == failure_kind::session_expired);
}

TEMPLATE_TEST_CASE("every preset translates exceptions and unrelated errors conservatively", "[callable][presets]",
                   presets::typescript_sdk, presets::python_sdk, presets::go_sdk, presets::csharp_sdk,
                   presets::hkr04_cpp_mcp, presets::fastmcpp, presets::cxxmcp, presets::itcv_cpp_mcp_sdk) {
    STATIC_REQUIRE(std::is_invocable_r_v<failure, const TestType&, std::exception_ptr>);
    STATIC_REQUIRE(std::is_invocable_r_v<failure, const TestType&, const cb::foreign_error&>);
    CHECK_FALSE(TestType::name.empty());
    const TestType preset{};

    SECTION("an unrelated error keeps its message and an unknown delivery") {
        const cb::foreign_error e = err("Error", "disk full");
        CHECK_FALSE(TestType::is_session_loss(e));
        const failure f = preset(e);
        CHECK(f.message == "disk full");
        CHECK(f.delivered == delivery::unknown);
        CHECK_FALSE(f.had_session_id);
    }
    SECTION("a std::exception is read through its what()") {
        const failure f = preset(std::make_exception_ptr(std::runtime_error("disk full")));
        CHECK(f.message == "disk full");
        CHECK(f.delivered == delivery::unknown);
    }
    SECTION("a std::system_error keeps its error code") {
        const failure f =
            preset(std::make_exception_ptr(std::system_error(std::make_error_code(std::errc::connection_reset))));
        CHECK(f.transport_error == std::errc::connection_reset);
    }
    SECTION("an exception of another type and a null exception_ptr are reported, not rethrown") {
        CHECK_FALSE(preset(std::make_exception_ptr(42)).message.empty());
        CHECK_FALSE(preset(std::exception_ptr{}).message.empty());
    }
}

TEST_CASE("presets for SDKs that signal in the text work straight from the thrown exception", "[callable][presets]") {
    struct transport_error : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    SECTION("itcv cpp-mcp-sdk") {
        const failure f = presets::itcv_cpp_mcp_sdk{}(
            std::make_exception_ptr(std::runtime_error("Unexpected HTTP status 404 (expected 200).")));
        CHECK(f.http_status == 404);
        CHECK(f.had_session_id);
        CHECK(f.delivered == delivery::rejected);
        CHECK(default_classifier{}.classify(f) == failure_kind::session_expired);
    }
    SECTION("fastmcpp") {
        const failure f =
            presets::fastmcpp{}(std::make_exception_ptr(transport_error("StreamableHttp error: 404")));
        CHECK(f.http_status == 404);
        CHECK(f.delivered == delivery::rejected);
        CHECK(default_classifier{}.classify(f) == failure_kind::session_expired);
    }
    SECTION("hkr04 without its code: the message alone") {
        const failure f =
            presets::hkr04_cpp_mcp{}(std::make_exception_ptr(std::runtime_error("Session not initialized")));
        CHECK(f.delivered == delivery::rejected);
        CHECK(cb::sdk_classifier{}.classify(f) == failure_kind::session_expired);
    }
}
