// Fuzz target for mcp_recovery::beast::builtin_json and append_json_string.
//
// Build and run (libFuzzer):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iadapters/beast/include -Iinclude \
//       tests/fuzz/fuzz_json_envelope.cpp -o /tmp/fuzz_json && /tmp/fuzz_json -dict=tests/fuzz/json.dict -max_total_time=60
//
// Besides "no crash, no leak, no UB, no stack overflow", it checks: the result is deterministic
// and the reader reusable; errors carry a json_error and an offset inside the document; accepted
// envelopes respect every limit; raising limits never rejects what tighter limits accepted (and
// keeps the same fields); accepted documents stay accepted with JSON whitespace around them and
// are rejected with garbage after them or when cut short; and append_json_string output reads
// back to the very bytes it was given, exactly when they are valid UTF-8 (checked against an
// independent UTF-8 decoder).
#include <mcp_recovery/beast/json_envelope.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using mcp_recovery::beast::append_json_string;
using mcp_recovery::beast::builtin_json;
using mcp_recovery::beast::envelope;
using mcp_recovery::beast::json_error;
using mcp_recovery::beast::json_id_kind;
using mcp_recovery::beast::json_limits;

bool same_except_message(const envelope& a, const envelope& b) {
    return a.jsonrpc == b.jsonrpc && a.id_kind == b.id_kind && a.id_raw == b.id_raw &&
           a.id_integer == b.id_integer && a.method == b.method && a.has_result == b.has_result &&
           a.protocol_version == b.protocol_version && a.has_error == b.has_error &&
           a.error_code == b.error_code && a.error_message.has_value() == b.error_message.has_value();
}

bool same(const envelope& a, const envelope& b) {
    return same_except_message(a, b) && a.error_message == b.error_message &&
           a.error_message_truncated == b.error_message_truncated;
}

// Independent of the reader's table-driven check: decode, then reject overlongs, surrogates and
// values above U+10FFFF.
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t j = 1; j < len; ++j) {
            const auto b = static_cast<unsigned char>(s[i + j]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

void check_limits(const envelope& e, const json_limits& limits) {
    if (e.jsonrpc) FUZZ_CHECK(e.jsonrpc->size() <= limits.max_field_size);
    if (e.method) FUZZ_CHECK(e.method->size() <= limits.max_field_size);
    if (e.protocol_version) FUZZ_CHECK(e.protocol_version->size() <= limits.max_field_size);
    FUZZ_CHECK(e.id_raw.size() <= limits.max_field_size);
    FUZZ_CHECK((e.id_kind == json_id_kind::absent) == e.id_raw.empty());
    if (e.id_kind == json_id_kind::null) FUZZ_CHECK(e.id_raw == "null");
    if (e.id_kind == json_id_kind::string) FUZZ_CHECK(e.id_raw.size() >= 2 && e.id_raw.front() == '"');
    if (e.id_kind == json_id_kind::integer) {
        char* end = nullptr;
        const long long v = std::strtoll(e.id_raw.c_str(), &end, 10);
        FUZZ_CHECK(*end == '\0');
        FUZZ_CHECK(v == e.id_integer);
    } else {
        FUZZ_CHECK(e.id_integer == 0);
    }
    if (e.error_message) {
        FUZZ_CHECK(e.error_message->size() <= limits.max_message_size);
        FUZZ_CHECK(valid_utf8(*e.error_message));  // cut on a character boundary
        FUZZ_CHECK(e.has_error);
    } else {
        FUZZ_CHECK(!e.error_message_truncated);
    }
    if (e.error_code) FUZZ_CHECK(e.has_error);
}

// Parses and checks what holds for every result; returns whether the document was accepted.
bool parse_checked(builtin_json& json, std::string_view doc, envelope& env) {
    std::error_code ec;
    const bool ok = json.parse(doc, env, ec);
    FUZZ_CHECK(ok == !ec);
    FUZZ_CHECK(json.error() == ec);
    if (ok) {
        check_limits(env, json.limits());
        FUZZ_CHECK(json.error_description().empty());
    } else {
        FUZZ_CHECK(ec.category() == mcp_recovery::beast::json_category());
        FUZZ_CHECK(ec.value() >= static_cast<int>(json_error::syntax_error) &&
                   ec.value() <= static_cast<int>(json_error::number_out_of_range));
        FUZZ_CHECK(json.error_offset() <= doc.size());
        FUZZ_CHECK(!json.error_description().empty());
        if (ec == json_error::document_too_large) FUZZ_CHECK(doc.size() > json.limits().max_document_size);
    }
    return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const unsigned knobs = data[0];
    const unsigned cut_choice = data[1];
    const std::string_view doc(reinterpret_cast<const char*>(data + 2), size - 2);

    // Default limits, twice on one reader: deterministic and reusable.
    builtin_json loose;
    envelope e1;
    envelope e2;
    const bool ok = parse_checked(loose, doc, e1);
    const std::size_t offset = loose.error_offset();
    const std::error_code ec = loose.error();
    FUZZ_CHECK(parse_checked(loose, doc, e2) == ok);
    FUZZ_CHECK(loose.error() == ec && loose.error_offset() == offset);
    if (ok) FUZZ_CHECK(same(e1, e2));

    // Tight limits taken from the data: whatever they accept, the defaults accept too, alike.
    json_limits tight;
    tight.max_depth = 1 + knobs % 8;
    tight.max_field_size = knobs % 32;
    tight.max_message_size = (knobs / 8) % 32;
    tight.max_document_size = doc.size() + (knobs & 1);
    builtin_json strict(tight);
    envelope et;
    if (parse_checked(strict, doc, et)) {
        FUZZ_CHECK(ok);
        FUZZ_CHECK(same_except_message(et, e1));
        if (et.error_message) FUZZ_CHECK(e1.error_message->compare(0, et.error_message->size(), *et.error_message) == 0);
    }

    if (ok) {
        // JSON whitespace around an accepted document changes nothing.
        envelope spaced;
        FUZZ_CHECK(parse_checked(loose, " \t\r\n" + std::string(doc) + "\n\r\t ", spaced));
        FUZZ_CHECK(same(spaced, e1));
        // Garbage after it is refused.
        envelope trailing;
        FUZZ_CHECK(!parse_checked(loose, std::string(doc) + "x", trailing));
        FUZZ_CHECK(loose.error() == json_error::syntax_error);
        // A cut before its closing brace is refused as a truncation.
        std::size_t last = doc.find_last_not_of(" \t\r\n");
        FUZZ_CHECK(last != std::string_view::npos && doc[last] == '}');
        envelope cut;
        FUZZ_CHECK(!parse_checked(loose, doc.substr(0, cut_choice % (last + 1)), cut));
        FUZZ_CHECK(loose.error() == json_error::unexpected_end);
    }

    // append_json_string reads back to the same bytes exactly when they are valid UTF-8.
    const std::string_view text = doc.substr(0, 4096);
    std::string request = R"({"jsonrpc":"2.0","id":1,"method":)";
    append_json_string(request, text);
    request += R"(,"error":{"code":-32000,"message":)";
    append_json_string(request, text);
    request += "}}";
    json_limits roomy;
    roomy.max_field_size = text.size() + 8;  // room for "2.0" too
    roomy.max_message_size = text.size();
    builtin_json reader(roomy);
    envelope back;
    const bool back_ok = parse_checked(reader, request, back);
    FUZZ_CHECK(back_ok == valid_utf8(text));
    if (back_ok) {
        FUZZ_CHECK(back.method && *back.method == text);
        FUZZ_CHECK(back.error_message && *back.error_message == text);
        FUZZ_CHECK(!back.error_message_truncated);
    } else {
        FUZZ_CHECK(reader.error() == json_error::invalid_utf8);
    }
    return 0;
}
