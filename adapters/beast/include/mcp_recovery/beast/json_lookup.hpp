// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_JSON_LOOKUP_HPP
#define MCP_RECOVERY_BEAST_JSON_LOOKUP_HPP

/// Small strict look-ups on JSON text (one member of an object, a string, an integer), for code
/// that needs a field or two beyond the JSON-RPC envelope: the test server, tests, tools.
/// Standard library only.
///
/// Every function validates its whole input with the strict reader of `json_envelope.hpp`
/// (`builtin_json`: RFC 8259, well-formed UTF-8, bounded depth, no recursion) before it looks
/// inside, so malformed input gives `std::nullopt`, never a crash, an exception other than
/// `std::bad_alloc`, or a partial answer. Each call copies its input once (to validate it as a
/// member of a small wrapper document) and is linear in its size: meant for messages, not for
/// hot loops over large documents; parse once with a JSON library there.

#include "mcp_recovery/beast/json_envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace mcp_recovery::beast {

/// Deepest nesting of arrays and objects the look-ups accept; the looked-in object is depth 1.
inline constexpr std::size_t json_lookup_max_depth = 64;

namespace detail {

inline std::string_view trim_json_ws(std::string_view s) noexcept {
    while (!s.empty() && is_json_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_json_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Validates `{"<field>":<value>}` with builtin_json; `field` names the envelope member whose
// decoded value the caller wants (or an unknown name, to validate and skip any value). The caller
// must still check that `value` is one value: `1,"x":2` makes a valid wrapper too.
inline bool parse_wrapped(std::string_view field, std::string_view value, std::size_t max_depth,
                          envelope& out) {
    std::string doc;
    doc.reserve(field.size() + value.size() + 5);
    doc += "{\"";
    doc += field;
    doc += "\":";
    doc += value;
    doc += '}';
    json_limits limits;
    limits.max_document_size = doc.size();
    limits.max_depth = max_depth + 1;  // the wrapper object is one level
    limits.max_field_size = value.size();
    builtin_json json(limits);
    std::error_code ec;
    return json.parse(doc, out, ec);
}

// The following scanners run only on text already validated: they rely on its grammar to find
// where a value ends, and check bounds anyway so that a misuse cannot read out of range.

// `p` at an opening quote; returns the position just past the closing quote.
inline std::size_t scan_string_end(std::string_view s, std::size_t p) noexcept {
    ++p;
    while (p < s.size()) {
        const char c = s[p];
        if (c == '"') return p + 1;
        p += (c == '\\') ? 2 : 1;
    }
    return s.size();
}

// `p` at the first character of a value; returns the position just past it. Iterative.
inline std::size_t scan_value_end(std::string_view s, std::size_t p) noexcept {
    if (p >= s.size()) return s.size();
    const char first = s[p];
    if (first == '"') return scan_string_end(s, p);
    if (first == '{' || first == '[') {
        std::size_t depth = 0;
        while (p < s.size()) {
            const char c = s[p];
            if (c == '"') {
                p = scan_string_end(s, p);
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            ++p;
        }
        return s.size();
    }
    while (p < s.size()) {  // number or literal
        const char c = s[p];
        if (c == ',' || c == '}' || c == ']' || is_json_ws(c)) break;
        ++p;
    }
    return p;
}

inline std::size_t skip_ws_at(std::string_view s, std::size_t p) noexcept {
    while (p < s.size() && is_json_ws(s[p])) ++p;
    return p;
}

// Whether the validated JSON text `s` (no surrounding whitespace) is exactly one value.
inline bool is_single_value(std::string_view s) noexcept {
    return !s.empty() && scan_value_end(s, 0) == s.size();
}

}  // namespace detail

/// Decodes a JSON string literal (with its quotes, as `find_member` returns it) to UTF-8.
///
/// Surrounding JSON whitespace is allowed; anything else around the literal, an invalid escape, a
/// lone surrogate, invalid UTF-8 or an unescaped control character gives `std::nullopt`.
inline std::optional<std::string> decode_string(std::string_view raw_json_string) {
    const std::string_view raw = detail::trim_json_ws(raw_json_string);
    if (raw.size() < 2 || raw.front() != '"' || !detail::is_single_value(raw)) return std::nullopt;
    envelope env;
    if (!detail::parse_wrapped("method", raw, 1, env) || !env.method) return std::nullopt;
    return std::move(env.method);
}

/// Decodes a JSON integer (`-?(0|[1-9][0-9]*)`, surrounding JSON whitespace allowed) that fits
/// `std::int64_t`. Fractions and exponents (`1.0`, `1e2`), out-of-range values, quoted numbers
/// and anything malformed give `std::nullopt`.
inline std::optional<std::int64_t> decode_integer(std::string_view raw) {
    const std::string_view text = detail::trim_json_ws(raw);
    if (text.empty()) return std::nullopt;
    for (const char c : text) {
        if (c != '-' && !detail::is_digit(c)) return std::nullopt;
    }
    envelope env;
    if (!detail::parse_wrapped("id", text, 1, env) || env.id_kind != json_id_kind::integer) return std::nullopt;
    return env.id_integer;
}

/// Whether `text` is exactly one valid JSON value (surrounding JSON whitespace allowed), nested
/// at most `max_depth` levels deep.
inline bool is_valid_json(std::string_view text, std::size_t max_depth = json_lookup_max_depth) {
    const std::string_view value = detail::trim_json_ws(text);
    if (value.empty()) return false;
    envelope env;
    // "x" is no envelope member: the reader validates the value and skips it.
    return detail::parse_wrapped("x", value, max_depth, env) && detail::is_single_value(value);
}

/// The raw text of member `key` of the JSON object `object_json`, or `std::nullopt` when the
/// text is not one valid JSON object (nested at most `max_depth` levels), or has no such member.
///
/// Only the object's own members are looked at, never nested ones. The span points into
/// `object_json`, has no surrounding whitespace, and is itself valid JSON: pass it to
/// `find_member` again for a nested object, or to `decode_string` / `decode_integer`. Keys are
/// compared after decoding their escapes (`"m\u0065thod"` is `method`). With duplicate keys the
/// last one wins, as in `builtin_json`.
inline std::optional<std::string_view> find_member(std::string_view object_json, std::string_view key,
                                                    std::size_t max_depth = json_lookup_max_depth) {
    const std::string_view obj = detail::trim_json_ws(object_json);
    if (obj.empty() || obj.front() != '{' || !is_valid_json(obj, max_depth)) return std::nullopt;
    std::optional<std::string_view> found;
    std::size_t p = detail::skip_ws_at(obj, 1);
    if (p < obj.size() && obj[p] == '}') return std::nullopt;
    while (p < obj.size() && obj[p] == '"') {
        const std::size_t key_end = detail::scan_string_end(obj, p);
        const std::string_view raw_key = obj.substr(p, key_end - p);
        bool match;
        if (raw_key.find('\\') == std::string_view::npos) {
            match = raw_key.size() >= 2 && raw_key.substr(1, raw_key.size() - 2) == key;
        } else {
            const std::optional<std::string> decoded = decode_string(raw_key);
            match = decoded && *decoded == key;
        }
        p = detail::skip_ws_at(obj, key_end);
        if (p >= obj.size() || obj[p] != ':') return std::nullopt;  // unreachable after validation
        p = detail::skip_ws_at(obj, p + 1);
        const std::size_t value_end = detail::scan_value_end(obj, p);
        if (match) found = obj.substr(p, value_end - p);
        p = detail::skip_ws_at(obj, value_end);
        if (p >= obj.size() || obj[p] != ',') break;
        p = detail::skip_ws_at(obj, p + 1);
    }
    return found;
}

}  // namespace mcp_recovery::beast

#endif
