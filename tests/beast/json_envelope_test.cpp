#include <mcp_recovery/beast/json_envelope.hpp>

#include "catch.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

using mcp_recovery::beast::append_json_string;
using mcp_recovery::beast::builtin_json;
using mcp_recovery::beast::envelope;
using mcp_recovery::beast::id_equals;
using mcp_recovery::beast::is_json_policy_v;
using mcp_recovery::beast::json_error;
using mcp_recovery::beast::json_id_kind;
using mcp_recovery::beast::json_limits;
using namespace std::string_literals;

namespace {

envelope parse_ok(std::string_view doc, json_limits limits = {}) {
    builtin_json json(limits);
    envelope env;
    std::error_code ec;
    const bool ok = json.parse(doc, env, ec);
    INFO(json.error_description());
    REQUIRE(ok);
    REQUIRE_FALSE(ec);
    return env;
}

std::error_code parse_error(std::string_view doc, json_limits limits = {}) {
    builtin_json json(limits);
    envelope env;
    std::error_code ec;
    const bool ok = json.parse(doc, env, ec);
    CHECK(ok == !ec);
    return ec;
}

bool same(const envelope& a, const envelope& b) {
    return std::tie(a.jsonrpc, a.id_kind, a.id_raw, a.id_integer, a.method, a.has_result, a.protocol_version,
                    a.has_error, a.error_code, a.error_message, a.error_message_truncated) ==
           std::tie(b.jsonrpc, b.id_kind, b.id_raw, b.id_integer, b.method, b.has_result, b.protocol_version,
                    b.has_error, b.error_code, b.error_message, b.error_message_truncated);
}

std::string nested(std::size_t levels, const std::string& open, const std::string& close, const std::string& inner) {
    std::string s;
    for (std::size_t i = 0; i < levels; ++i) s += open;
    s += inner;
    for (std::size_t i = 0; i < levels; ++i) s += close;
    return s;
}

}  // namespace

// ---- real server bodies (docs signals.md) ----------------------------------------------------------

TEST_CASE("builtin_json reads the TypeScript SDK session-not-found body", "[json]") {
    const envelope e = parse_ok(R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null})");
    CHECK(e.jsonrpc == "2.0");
    CHECK(e.id_kind == json_id_kind::null);
    CHECK(e.id_raw == "null");
    CHECK(e.has_error);
    CHECK_FALSE(e.has_result);
    CHECK_FALSE(e.method.has_value());
    CHECK(e.error_code == -32001);
    CHECK(e.error_message == "Session not found");
    CHECK_FALSE(e.error_message_truncated);
}

TEST_CASE("builtin_json reads the example router's 400 body without an id", "[json]") {
    const envelope e =
        parse_ok(R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}})");
    CHECK(e.id_kind == json_id_kind::absent);
    CHECK(e.id_raw.empty());
    CHECK(e.error_code == -32000);
    CHECK(e.error_message == "Bad Request: No valid session ID provided");
}

TEST_CASE("builtin_json reads the Python SDK body with a string id", "[json]") {
    const envelope e =
        parse_ok(R"({"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}})");
    CHECK(e.id_kind == json_id_kind::string);
    CHECK(e.id_raw == R"("server-error")");
    CHECK_FALSE(id_equals(e, 0));
    CHECK(e.error_code == -32600);
    CHECK(e.error_message == "Session not found");
}

TEST_CASE("builtin_json finds result.protocolVersion among other fields and arrays", "[json]") {
    const std::string body = R"({
      "result": {
        "capabilities": {"tools": {"listChanged": true}, "experimental": {"protocolVersion": "nested-decoy"}},
        "serverInfo": {"name": "everything", "version": "2026.8.31", "protocolVersion": 7},
        "instructions": "line1\nline2 \"quoted\" \u00e9",
        "list": [1, -2.5e+3, true, false, null, {"protocolVersion": "array-decoy"}, [[[]]], {}],
        "protocolVersion": "2025-06-18",
        "trailer": []
      },
      "jsonrpc": "2.0",
      "id": 1
    })";
    const envelope e = parse_ok(body);
    CHECK(e.has_result);
    CHECK(e.protocol_version == "2025-06-18");
    CHECK(e.id_kind == json_id_kind::integer);
    CHECK(id_equals(e, 1));
    CHECK_FALSE(id_equals(e, 2));
    CHECK_FALSE(e.has_error);
    CHECK_FALSE(e.error_code.has_value());
}

TEST_CASE("builtin_json leaves protocol_version empty when result has none or is not an object", "[json]") {
    CHECK_FALSE(parse_ok(R"({"jsonrpc":"2.0","id":3,"result":{}})").protocol_version.has_value());
    CHECK_FALSE(parse_ok(R"({"jsonrpc":"2.0","id":3,"result":{"protocolVersion":20250618}})").protocol_version.has_value());
    const envelope e = parse_ok(R"({"jsonrpc":"2.0","id":3,"result":["protocolVersion","x"]})");
    CHECK(e.has_result);
    CHECK_FALSE(e.protocol_version.has_value());
    CHECK(parse_ok(R"({"jsonrpc":"2.0","id":3,"result":null})").has_result);
}

TEST_CASE("builtin_json reads server requests and notifications by their method", "[json]") {
    const envelope req = parse_ok(R"({"jsonrpc":"2.0","id":"srv-1","method":"sampling/createMessage","params":{"x":[1]}})");
    CHECK(req.method == "sampling/createMessage");
    CHECK(req.id_kind == json_id_kind::string);
    CHECK(req.id_raw == R"("srv-1")");

    const envelope note = parse_ok(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":0.5}})");
    CHECK(note.method == "notifications/progress");
    CHECK(note.id_kind == json_id_kind::absent);
    CHECK_FALSE(note.has_result);
    CHECK_FALSE(note.has_error);
}

// ---- ids ----------------------------------------------------------------------------------------------

TEST_CASE("builtin_json keeps the id's type and raw text", "[json]") {
    const auto [doc, kind, raw, value] = GENERATE(table<std::string, json_id_kind, std::string, std::int64_t>({
        {R"({"id":0})", json_id_kind::integer, "0", 0},
        {R"({"id":-0})", json_id_kind::integer, "-0", 0},
        {R"({"id":42})", json_id_kind::integer, "42", 42},
        {R"({"id":-17})", json_id_kind::integer, "-17", -17},
        {R"({"id":9223372036854775807})", json_id_kind::integer, "9223372036854775807",
         std::numeric_limits<std::int64_t>::max()},
        {R"({"id":-9223372036854775808})", json_id_kind::integer, "-9223372036854775808",
         std::numeric_limits<std::int64_t>::min()},
        {R"({"id":9223372036854775808})", json_id_kind::number, "9223372036854775808", 0},
        {R"({"id":-9223372036854775809})", json_id_kind::number, "-9223372036854775809", 0},
        {R"({"id":18446744073709551617})", json_id_kind::number, "18446744073709551617", 0},  // 2^64 + 1
        {R"({"id":123456789012345678901234567890})", json_id_kind::number, "123456789012345678901234567890", 0},
        {R"({"id":1.0})", json_id_kind::number, "1.0", 0},
        {R"({"id":1e2})", json_id_kind::number, "1e2", 0},
        {R"({"id":"a\"b\u0041"})", json_id_kind::string, R"("a\"b\u0041")", 0},
        {R"({"id":""})", json_id_kind::string, R"("")", 0},
        {R"({"id" : null })", json_id_kind::null, "null", 0},
        {R"({})", json_id_kind::absent, "", 0},
    }));
    CAPTURE(doc);
    const envelope e = parse_ok(doc);
    CHECK(e.id_kind == kind);
    CHECK(e.id_raw == raw);
    CHECK(e.id_integer == value);
    CHECK(id_equals(e, value) == (kind == json_id_kind::integer));
}

TEST_CASE("id_equals never matches a string id that spells the number", "[json]") {
    const envelope e = parse_ok(R"({"jsonrpc":"2.0","id":"42","result":{}})");
    CHECK_FALSE(id_equals(e, 42));
    CHECK(id_equals(parse_ok(R"({"jsonrpc":"2.0","id":42,"result":{}})"), 42));
}

TEST_CASE("builtin_json rejects an id that is not a string, number or null", "[json]") {
    CHECK(parse_error(R"({"id":true})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"id":false})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"id":{}})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"id":[1]})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"id":x})") == json_error::syntax_error);
}

// ---- envelope field types -------------------------------------------------------------------------

TEST_CASE("builtin_json rejects envelope fields of the wrong type", "[json]") {
    CHECK(parse_error(R"({"jsonrpc":2.0})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"method":null})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":"boom"})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":[]})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":{"code":"-32001"}})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":{"code":-32001.5}})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":{"code":-3.2e4}})") == json_error::invalid_field_type);
    CHECK(parse_error(R"({"error":{"code":1,"message":7}})") == json_error::invalid_field_type);
}

TEST_CASE("builtin_json reads error.code over the whole int64 range and refuses beyond it", "[json]") {
    CHECK(parse_ok(R"({"error":{"code":9223372036854775807}})").error_code == std::numeric_limits<std::int64_t>::max());
    CHECK(parse_ok(R"({"error":{"code":-9223372036854775808}})").error_code == std::numeric_limits<std::int64_t>::min());
    CHECK(parse_ok(R"({"error":{"code":32600}})").error_code == 32600);
    CHECK(parse_error(R"({"error":{"code":9223372036854775808}})") == json_error::number_out_of_range);
    CHECK(parse_error(R"({"error":{"code":-9223372036854775809}})") == json_error::number_out_of_range);
    CHECK(parse_error(R"({"error":{"code":99999999999999999999999999999999}})") == json_error::number_out_of_range);
    CHECK(parse_error(R"({"error":{"code":18446744073709551617}})") == json_error::number_out_of_range);
}

TEST_CASE("builtin_json treats error null as no error", "[json]") {
    const envelope e = parse_ok(R"({"jsonrpc":"2.0","id":1,"result":{},"error":null})");
    CHECK_FALSE(e.has_error);
    CHECK(e.has_result);
    const envelope e2 = parse_ok(R"({"error":{"code":1,"message":"m"},"error":null})");
    CHECK_FALSE(e2.has_error);
    CHECK_FALSE(e2.error_code.has_value());
    CHECK_FALSE(e2.error_message.has_value());
}

// ---- strings ------------------------------------------------------------------------------------------

TEST_CASE("builtin_json decodes every escape in error.message, surrogate pairs included", "[json]") {
    const envelope e = parse_ok(
        R"({"error":{"code":1,"message":"q\" b\\ s\/ \b\f\n\r\t \u0041\u00e9\u20AC\ud83d\ude00 \u0000end"}})");
    CHECK(e.error_message == "q\" b\\ s/ \b\f\n\r\t A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 \0end"s);
}

TEST_CASE("builtin_json passes well-formed UTF-8 through and rejects ill-formed UTF-8", "[json]") {
    const envelope e = parse_ok("{\"error\":{\"code\":1,\"message\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"}}");
    CHECK(e.error_message == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");

    const std::string bad = GENERATE(std::string("\xC0\x80"),      // overlong NUL
                                     std::string("\xE0\x80\xAF"),  // overlong '/'
                                     std::string("\xED\xA0\x80"),  // UTF-16 surrogate
                                     std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
                                     std::string("\xF5\x80\x80\x80"),
                                     std::string("\x80"),  // stray continuation
                                     std::string("\xC3" "A"),  // missing continuation
                                     std::string("\xFF"));
    CAPTURE(bad);
    CHECK(parse_error("{\"x\":\"" + bad + "\"}") == json_error::invalid_utf8);
    CHECK(parse_error("{\"error\":{\"message\":\"" + bad + "\"}}") == json_error::invalid_utf8);
}

TEST_CASE("builtin_json rejects bad escapes and lone surrogates", "[json]") {
    const auto [doc, expected] = GENERATE(table<std::string, json_error>({
        {R"({"x":"\x41"})", json_error::invalid_escape},
        {R"({"x":"\U0041"})", json_error::invalid_escape},
        {R"({"x":"\u12G4"})", json_error::invalid_escape},
        {R"({"x":"\u12"})", json_error::invalid_escape},
        {R"({"x":"\'"})", json_error::invalid_escape},
        {R"({"x":"\ud83d"})", json_error::invalid_escape},
        {R"({"x":"\ud83dx"})", json_error::invalid_escape},
        {R"({"x":"\ud83d\n"})", json_error::invalid_escape},
        {R"({"x":"\ud83d\u0041"})", json_error::invalid_escape},
        {R"({"x":"\ud83dxude00"})", json_error::invalid_escape},
        {R"({"x":"\ud83d\ud83d"})", json_error::invalid_escape},
        {R"({"x":"\ude00"})", json_error::invalid_escape},
        {R"({"error":{"message":"\udfff"}})", json_error::invalid_escape},
        {R"({"method":"\ud800"})", json_error::invalid_escape},
    }));
    CAPTURE(doc);
    CHECK(parse_error(doc) == expected);
}

TEST_CASE("builtin_json rejects unescaped control characters in strings", "[json]") {
    for (int c = 0; c < 0x20; ++c) {
        std::string doc = "{\"x\":\"a";
        doc += static_cast<char>(c);
        doc += "b\"}";
        CAPTURE(c);
        CHECK(parse_error(doc) == json_error::control_character);
    }
    CHECK(parse_ok("{\"x\":\"\x7F\"}").id_kind == json_id_kind::absent);  // DEL is not a control char in JSON
}

TEST_CASE("builtin_json cuts a long error.message at a character boundary and says so", "[json]") {
    json_limits limits;
    limits.max_message_size = 5;
    SECTION("ASCII") {
        const envelope e = parse_ok(R"({"error":{"code":1,"message":"abcdefgh"}})", limits);
        CHECK(e.error_message == "abcde");
        CHECK(e.error_message_truncated);
    }
    SECTION("exactly at the limit is not cut") {
        const envelope e = parse_ok(R"({"error":{"code":1,"message":"abcde"}})", limits);
        CHECK(e.error_message == "abcde");
        CHECK_FALSE(e.error_message_truncated);
    }
    SECTION("a multi-byte character straddling the limit is dropped whole") {
        const envelope e = parse_ok("{\"error\":{\"code\":1,\"message\":\"abcd\xC3\xA9z\"}}", limits);
        CHECK(e.error_message == "abcd");
        CHECK(e.error_message_truncated);
    }
    SECTION("an escaped character straddling the limit is dropped whole") {
        const envelope e = parse_ok(R"({"error":{"code":1,"message":"abc\ud83d\ude00z"}})", limits);
        CHECK(e.error_message == "abc");
        CHECK(e.error_message_truncated);
    }
    SECTION("nothing after the cut is appended, even if it would fit") {
        const envelope e = parse_ok(R"({"error":{"code":1,"message":"abcd\u20ACz"}})", limits);
        CHECK(e.error_message == "abcd");
    }
}

TEST_CASE("builtin_json refuses envelope fields longer than max_field_size", "[json]") {
    json_limits limits;
    limits.max_field_size = 8;
    CHECK(parse_ok(R"({"method":"12345678"})", limits).method == "12345678");
    CHECK(parse_error(R"({"method":"123456789"})", limits) == json_error::field_too_large);
    CHECK(parse_ok(R"({"id":"123456"})", limits).id_raw == R"("123456")");  // 8 bytes with quotes
    CHECK(parse_error(R"({"id":"1234567"})", limits) == json_error::field_too_large);
    CHECK(parse_error(R"({"id":123456789})", limits) == json_error::field_too_large);
    CHECK(parse_error(R"({"jsonrpc":"2.0000000"})", limits) == json_error::field_too_large);
    CHECK(parse_error(R"({"result":{"protocolVersion":"2025-06-18"}})", limits) == json_error::field_too_large);
    // Other strings are not limited by it.
    CHECK(parse_ok(R"({"params":"a very long string indeed"})", limits).id_kind == json_id_kind::absent);
}

// ---- document structure -----------------------------------------------------------------------------

TEST_CASE("builtin_json gives the same envelope whatever the member order", "[json]") {
    std::vector<std::string> members = {
        R"("jsonrpc":"2.0")",
        R"("id":7)",
        R"("result":{"protocolVersion":"2025-11-25","x":[{}]})",
        R"("error":{"message":"m","data":{"a":[1,2]},"code":-1})",
    };
    std::sort(members.begin(), members.end());
    const auto join = [&] {
        std::string s = "{";
        for (std::size_t i = 0; i < members.size(); ++i) s += (i ? "," : "") + members[i];
        return s + "}";
    };
    const envelope first = parse_ok(join());
    CHECK(first.jsonrpc == "2.0");
    CHECK(id_equals(first, 7));
    CHECK(first.protocol_version == "2025-11-25");
    CHECK(first.error_code == -1);
    CHECK(first.error_message == "m");
    int permutations = 0;
    do {
        CAPTURE(join());
        CHECK(same(parse_ok(join()), first));
        ++permutations;
    } while (std::next_permutation(members.begin(), members.end()));
    CHECK(permutations == 24);
}

TEST_CASE("builtin_json lets the last duplicate key win", "[json]") {
    const envelope e = parse_ok(
        R"({"id":1,"id":"two","method":"a","method":"b","error":{"code":1,"message":"first"},)"
        R"("error":{"code":2},"result":{"protocolVersion":"v1","protocolVersion":"v2"}})");
    CHECK(e.id_kind == json_id_kind::string);
    CHECK(e.id_raw == R"("two")");
    CHECK(e.id_integer == 0);
    CHECK(e.method == "b");
    CHECK(e.error_code == 2);
    CHECK_FALSE(e.error_message.has_value());  // the second error object replaced the first entirely
    CHECK(e.protocol_version == "v2");

    const envelope e2 = parse_ok(R"({"result":{"protocolVersion":"v1"},"result":{}})");
    CHECK_FALSE(e2.protocol_version.has_value());
    const envelope e3 = parse_ok(R"({"result":{"protocolVersion":"v1","protocolVersion":1}})");
    CHECK_FALSE(e3.protocol_version.has_value());
}

TEST_CASE("builtin_json compares keys after decoding escapes", "[json]") {
    const envelope e = parse_ok(R"({"\u006dethod":"m","i\u0064":5,"errorX":{"code":"not checked"}})");
    CHECK(e.method == "m");
    CHECK(id_equals(e, 5));
    CHECK_FALSE(e.has_error);

    // A long key that starts with a known name is another key.
    const envelope long_key =
        parse_ok(R"({"\u006d\u0065\u0074\u0068\u006f\u0064AAAAAAAAAAAAAAAAAAAA":"x","methodAAAAAAAAAAAAAAAAAAAAA":"y"})");
    CHECK_FALSE(long_key.method.has_value());
}

TEST_CASE("builtin_json accepts JSON whitespace everywhere and nothing else as whitespace", "[json]") {
    const envelope e = parse_ok(" \t\r\n{ \t\r\n\"id\" \t\r\n: \t\r\n1 \t\r\n, \"error\" : { \"code\" : 3 } } \t\r\n");
    CHECK(id_equals(e, 1));
    CHECK(e.error_code == 3);
    CHECK(parse_error("{\f\"id\":1}") == json_error::syntax_error);
    CHECK(parse_error("{\"id\":1}\v") == json_error::syntax_error);
    CHECK(parse_error("\xEF\xBB\xBF{\"id\":1}") == json_error::syntax_error);  // a BOM is refused
    CHECK(parse_error("{\"id\":1}\xC2\xA0") == json_error::syntax_error);
}

TEST_CASE("builtin_json rejects malformed documents with the matching error", "[json]") {
    const auto [doc, expected] = GENERATE(table<std::string, json_error>({
        {"", json_error::unexpected_end},
        {"   ", json_error::unexpected_end},
        {R"({"id":1,})", json_error::syntax_error},
        {R"({"x":[1,2,]})", json_error::syntax_error},
        {R"({"x":[,1]})", json_error::syntax_error},
        {R"({,"id":1})", json_error::syntax_error},
        {R"({"id":1}})", json_error::syntax_error},
        {R"({"id":1} x)", json_error::syntax_error},
        {R"({"id":1}{"id":2})", json_error::syntax_error},
        {R"({"id" 1})", json_error::syntax_error},
        {R"({"id":1 "x":2})", json_error::syntax_error},
        {R"({id:1})", json_error::syntax_error},
        {R"({'id':1})", json_error::syntax_error},
        {R"({"x":[1}})", json_error::syntax_error},
        {R"({"x":{"a":1]})", json_error::syntax_error},
        {R"({"x":tru})", json_error::syntax_error},
        {R"({"x":True})", json_error::syntax_error},
        {R"({"x":nul})", json_error::syntax_error},
        {R"({"x":NaN})", json_error::syntax_error},
        {R"({"x":Infinity})", json_error::syntax_error},
        {R"({"x":undefined})", json_error::syntax_error},
        {R"({"x":1 /* c */})", json_error::syntax_error},
        {R"({"x":"a"  // c
        })", json_error::syntax_error},
        {R"({"x":01})", json_error::invalid_number},
        {R"({"x":-01})", json_error::invalid_number},
        {R"({"x":00})", json_error::invalid_number},
        {R"({"id":007})", json_error::invalid_number},
        {R"({"error":{"code":-032001}})", json_error::invalid_number},
        {R"({"x":+1})", json_error::syntax_error},
        {R"({"x":.5})", json_error::syntax_error},
        {R"({"x":-})", json_error::invalid_number},
        {R"({"x":-a})", json_error::invalid_number},
        {R"({"x":1.})", json_error::invalid_number},
        {R"({"x":1.e5})", json_error::invalid_number},
        {R"({"x":1e})", json_error::invalid_number},
        {R"({"x":1e+})", json_error::invalid_number},
        {R"({"x":0x1F})", json_error::syntax_error},
        {R"({"x":1)", json_error::unexpected_end},
        {R"({"x":"abc)", json_error::unexpected_end},
        {R"({"x":[)", json_error::unexpected_end},
    }));
    CAPTURE(doc);
    CHECK(parse_error(doc) == expected);
}

TEST_CASE("builtin_json rejects every truncation of a valid document as unexpected_end", "[json]") {
    const std::string doc =
        R"({"jsonrpc":"2.0","id":-12,"result":{"protocolVersion":"2025-06-18","a":[true,false,null,1.5e-3,{}],)"
        "\"s\":\"\\ud83d\\ude00 \xE2\x82\xAC\\n\"},\"error\":{\"code\":0,\"message\":\"x\"}}";
    REQUIRE(parse_ok(doc).protocol_version == "2025-06-18");
    for (std::size_t n = 0; n < doc.size(); ++n) {
        CAPTURE(n, doc.substr(0, n));
        CHECK(parse_error(doc.substr(0, n)) == json_error::unexpected_end);
    }
}

TEST_CASE("builtin_json reports where the error is", "[json]") {
    builtin_json json;
    envelope env;
    std::error_code ec;
    REQUIRE_FALSE(json.parse(R"({"a":1,})", env, ec));
    CHECK(ec == json_error::syntax_error);
    CHECK(json.error() == ec);
    CHECK(json.error_offset() == 7);
    CHECK(json.error_detail() == "expected a string key");
    CHECK(json.error_description() == "JSON syntax error at offset 7: expected a string key");

    REQUIRE_FALSE(json.parse(R"({"x":"ab\q"})", env, ec));
    CHECK(json.error_offset() == 9);

    REQUIRE(json.parse(R"({"id":1})", env, ec));
    CHECK(json.error_offset() == 0);
    CHECK(json.error_description().empty());
    CHECK_FALSE(json.error());
}

TEST_CASE("builtin_json throwing parse carries the description", "[json]") {
    builtin_json json;
    envelope env;
    try {
        json.parse(R"({"id":01})", env);
        FAIL("parse did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == json_error::invalid_number);
        CHECK(std::string(e.what()).find("invalid JSON number at offset 7: leading zero") != std::string::npos);
    }
    CHECK_NOTHROW(json.parse(R"({"id":1})", env));
}

// ---- limits --------------------------------------------------------------------------------------------

TEST_CASE("builtin_json refuses 10000 levels of nesting cleanly", "[json]") {
    CHECK(parse_error(nested(10000, "[", "]", "")) == json_error::too_deep);
    CHECK(parse_error(R"({"result":)" + nested(10000, "[", "]", "") + "}") == json_error::too_deep);
    CHECK(parse_error(R"({"result":{"x":)" + nested(10000, "{\"a\":", "}", "1") + "}}") == json_error::too_deep);
    CHECK(parse_error(R"({"error":{"data":)" + nested(10000, "[", "]", "") + "}}") == json_error::too_deep);
    // Unclosed deep nesting is still reported as too deep, without reading to the end.
    CHECK(parse_error(std::string(100000, '[')) == json_error::too_deep);
}

TEST_CASE("builtin_json accepts nesting up to max_depth and not one more", "[json]") {
    // The top-level object is depth 1, so 63 more levels fit in the default 64.
    CHECK(parse_ok(R"({"x":)" + nested(63, "[", "]", "") + "}").id_kind == json_id_kind::absent);
    CHECK(parse_error(R"({"x":)" + nested(64, "[", "]", "") + "}") == json_error::too_deep);
    CHECK(parse_ok(R"({"result":{"x":)" + nested(62, "{\"a\":", "}", "1") + "}}").has_result);
    CHECK(parse_error(R"({"result":{"x":)" + nested(63, "{\"a\":", "}", "1") + "}}") == json_error::too_deep);

    json_limits deep;
    deep.max_depth = 1000;  // past the bit_stack's inline capacity
    CHECK(parse_ok(R"({"x":)" + nested(999, "[", "]", "") + "}", deep).id_kind == json_id_kind::absent);
    CHECK(parse_ok(R"({"x":)" + nested(400, "[{\"k\":", "}]", "0") + "}", deep).id_kind == json_id_kind::absent);
    CHECK(parse_error(R"({"x":)" + nested(1000, "[", "]", "") + "}", deep) == json_error::too_deep);

    json_limits flat;
    flat.max_depth = 1;
    CHECK(parse_ok(R"({"id":1,"x":2})", flat).id_kind == json_id_kind::integer);
    CHECK(parse_error(R"({"result":{}})", flat) == json_error::too_deep);
    CHECK(parse_error(R"({"x":[]})", flat) == json_error::too_deep);
}

TEST_CASE("builtin_json closes containers of mixed kinds in the right order", "[json]") {
    json_limits deep;
    deep.max_depth = 300;
    // Mixed object/array nesting across the inline/heap boundary of the container stack.
    std::string open, close;
    for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) {
            open += "{\"k\":";
            close = "}" + close;
        } else {
            open += "[";
            close = "]" + close;
        }
    }
    CHECK(parse_ok(R"({"x":)" + open + "1" + close + "}", deep).id_kind == json_id_kind::absent);
    std::string wrong = close;
    std::swap(wrong[0], wrong[wrong.find('}')]);  // a '}' where a ']' belongs
    CHECK(parse_error(R"({"x":)" + open + "1" + wrong + "}", deep) == json_error::syntax_error);
}

TEST_CASE("builtin_json skips huge numbers and long strings it does not need", "[json]") {
    const std::string digits(5000, '7');
    CHECK(parse_ok(R"({"x":)" + digits + "}").id_kind == json_id_kind::absent);
    CHECK(parse_ok(R"({"x":-)" + digits + "." + digits + "e-" + digits + "}").id_kind == json_id_kind::absent);
    CHECK(parse_ok(R"({"x":1e999999,"y":-1E+999999})").id_kind == json_id_kind::absent);
    CHECK(parse_ok(R"({"x":")" + std::string(100000, 'a') + "\"}").id_kind == json_id_kind::absent);
}

TEST_CASE("builtin_json refuses a document longer than max_document_size", "[json]") {
    json_limits limits;
    limits.max_document_size = 16;
    CHECK(parse_ok(R"({"id":1234567})", limits).id_integer == 1234567);  // 14 bytes
    CHECK(parse_ok(R"({"id":123456789})", limits).id_integer == 123456789);  // exactly 16
    CHECK(parse_error(R"({"id":1234567890})", limits) == json_error::document_too_large);
    CHECK(parse_error(R"({"id":1}                )", limits) == json_error::document_too_large);
}

TEST_CASE("builtin_json refuses batches and non-object documents", "[json]") {
    CHECK(parse_error(R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}])") ==
          json_error::batch_not_supported);
    CHECK(parse_error("[]") == json_error::batch_not_supported);
    CHECK(parse_error(R"([{"id":1},])") == json_error::syntax_error);  // a malformed batch is malformed
    CHECK(parse_error(R"([1] x)") == json_error::syntax_error);
    CHECK(parse_error("1") == json_error::not_an_object);
    CHECK(parse_error(R"("Session not found")") == json_error::not_an_object);
    CHECK(parse_error("null") == json_error::not_an_object);
    CHECK(parse_error("Bad Request: No valid session ID provided") == json_error::syntax_error);
    CHECK(parse_error("session not found") == json_error::syntax_error);
}

TEST_CASE("builtin_json resets the envelope before each parse", "[json]") {
    builtin_json json;
    envelope env;
    std::error_code ec;
    REQUIRE(json.parse(R"({"jsonrpc":"2.0","id":"a","method":"m","result":{"protocolVersion":"p"},"error":{"code":1,"message":"x"}})", env, ec));
    REQUIRE(env.method.has_value());
    REQUIRE(json.parse("{}", env, ec));
    CHECK(same(env, envelope{}));
}

// ---- append_json_string ----------------------------------------------------------------------------

TEST_CASE("append_json_string escapes quotes, backslashes and control characters", "[json]") {
    std::string out = "prefix:";
    append_json_string(out, "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f" "\xC3\xA9"s + '\0' + "z");
    CHECK(out == R"(prefix:"a\"b\\c/d\b\f\n\r\t\u0001\u001f)" "\x7f\xC3\xA9" R"(\u0000z")");

    std::string empty;
    append_json_string(empty, "");
    CHECK(empty == "\"\"");
}

TEST_CASE("append_json_string output reads back to the same text", "[json]") {
    std::string text;
    for (int c = 0; c < 0x80; ++c) text += static_cast<char>(c);
    text += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 \\u0041 \"}";
    std::string doc = R"({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":)";
    append_json_string(doc, text);
    doc += R"(},"method":)";
    append_json_string(doc, "tools/call\"}");
    doc += "}";
    json_limits limits;
    limits.max_message_size = 4096;
    const envelope e = parse_ok(doc, limits);
    CHECK(e.error_message == text);
    CHECK_FALSE(e.error_message_truncated);
    CHECK(e.method == "tools/call\"}");
}

// ---- the policy concept -----------------------------------------------------------------------------

namespace {

struct static_policy {
    static bool parse(std::string_view, envelope& env, std::error_code& ec) {
        env = envelope{};
        ec = {};
        return true;
    }
};
struct no_parse {};
struct wrong_signature {
    bool parse(const std::string&, int&) { return false; }
};
struct void_result {
    void parse(std::string_view, envelope&, std::error_code&) {}
};

}  // namespace

TEST_CASE("json_policy is met by builtin_json and static parse functions, not by others", "[json]") {
    STATIC_REQUIRE(is_json_policy_v<builtin_json>);
    STATIC_REQUIRE(is_json_policy_v<static_policy>);
    STATIC_REQUIRE_FALSE(is_json_policy_v<no_parse>);
    STATIC_REQUIRE_FALSE(is_json_policy_v<wrong_signature>);
    STATIC_REQUIRE_FALSE(is_json_policy_v<void_result>);
    STATIC_REQUIRE_FALSE(is_json_policy_v<const builtin_json>);  // parse remembers the last error
#if MCP_RECOVERY_HAS_CONCEPTS
    STATIC_REQUIRE(mcp_recovery::beast::json_policy<builtin_json>);
    STATIC_REQUIRE(mcp_recovery::beast::json_policy<static_policy>);
    STATIC_REQUIRE_FALSE(mcp_recovery::beast::json_policy<no_parse>);
    STATIC_REQUIRE_FALSE(mcp_recovery::beast::json_policy<void_result>);
#endif
}

TEST_CASE("json_error values have a named category and distinct messages", "[json]") {
    const std::error_code a = json_error::syntax_error;
    CHECK(std::string(a.category().name()) == "mcp_recovery.beast.json");
    CHECK(a.category() == mcp_recovery::beast::json_category());
    std::vector<std::string> messages;
    for (int v = static_cast<int>(json_error::syntax_error); v <= static_cast<int>(json_error::number_out_of_range); ++v) {
        const std::string m = std::error_code(v, mcp_recovery::beast::json_category()).message();
        CHECK(m.find("unknown") == std::string::npos);
        messages.push_back(m);
    }
    std::sort(messages.begin(), messages.end());
    CHECK(std::adjacent_find(messages.begin(), messages.end()) == messages.end());
}
