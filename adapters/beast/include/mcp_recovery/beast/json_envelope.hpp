// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_JSON_ENVELOPE_HPP
#define MCP_RECOVERY_BEAST_JSON_ENVELOPE_HPP

/// The JSON-RPC 2.0 envelope of an MCP message, a strict bounded reader for it, and the
/// `json_policy` concept that lets users plug in their own JSON library. Standard library only.

#include "mcp_recovery/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery::beast {

/// Why a JSON body was not accepted as a JSON-RPC envelope.
enum class json_error {
    syntax_error = 1,     ///< Not JSON: unexpected character, missing `,` `:` or key, trailing characters.
    unexpected_end,       ///< The document ends inside a value: a truncated body.
    invalid_number,       ///< A number breaks RFC 8259: leading zero, `+`, missing digits.
    invalid_escape,       ///< A string has an unknown escape, bad `\u` hex digits or a lone surrogate.
    invalid_utf8,         ///< A string holds bytes that are not well-formed UTF-8.
    control_character,    ///< A string holds an unescaped control character (U+0000..U+001F).
    too_deep,             ///< Arrays and objects nest deeper than `json_limits::max_depth`.
    document_too_large,   ///< The document is longer than `json_limits::max_document_size`.
    field_too_large,      ///< `jsonrpc`, `id`, `method` or `result.protocolVersion` exceeds `max_field_size`.
    not_an_object,        ///< Valid JSON, but the top-level value is not an object.
    batch_not_supported,  ///< Valid JSON, but a top-level array: a JSON-RPC batch.
    invalid_field_type,   ///< An envelope field has the wrong type (e.g. `id` is an object, `error.code` not an integer).
    number_out_of_range,  ///< `error.code` is an integer that does not fit `std::int64_t`.
};

}  // namespace mcp_recovery::beast

namespace std {
template <>
struct is_error_code_enum<mcp_recovery::beast::json_error> : true_type {};
}  // namespace std

namespace mcp_recovery::beast {

namespace detail {

class json_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.beast.json"; }

    std::string message(int ev) const override {
        switch (static_cast<json_error>(ev)) {
        case json_error::syntax_error: return "JSON syntax error";
        case json_error::unexpected_end: return "JSON document ends unexpectedly (truncated)";
        case json_error::invalid_number: return "invalid JSON number";
        case json_error::invalid_escape: return "invalid escape sequence in JSON string";
        case json_error::invalid_utf8: return "invalid UTF-8 in JSON string";
        case json_error::control_character: return "unescaped control character in JSON string";
        case json_error::too_deep: return "JSON nesting exceeds the depth limit";
        case json_error::document_too_large: return "JSON document exceeds the size limit";
        case json_error::field_too_large: return "JSON-RPC envelope field exceeds the field size limit";
        case json_error::not_an_object: return "JSON document is not an object";
        case json_error::batch_not_supported: return "JSON-RPC batches (top-level arrays) are not supported";
        case json_error::invalid_field_type: return "JSON-RPC envelope field has the wrong type";
        case json_error::number_out_of_range: return "JSON-RPC error code out of range";
        }
        return "unknown JSON error";
    }
};

}  // namespace detail

/// The category of `json_error` values. One instance per program.
inline const std::error_category& json_category() noexcept {
    static const detail::json_category_impl category;
    return category;
}

inline std::error_code make_error_code(json_error e) noexcept {
    return {static_cast<int>(e), json_category()};
}

/// The JSON type of an envelope's `id`.
enum class json_id_kind : unsigned char {
    absent,   ///< No `id` member: a notification, or an error response such as a 400 without an id.
    null,     ///< `"id": null`.
    string,   ///< A JSON string.
    integer,  ///< An integer that fits `std::int64_t`: see `envelope::id_integer`.
    number,   ///< Any other number (fraction, exponent, or too large): only the raw text is kept.
};

/// The JSON-RPC 2.0 fields of one MCP message that a transport needs; plain data.
///
/// A message with `method` is a server request (with an id) or notification (without); one with
/// `result` or `error` is a response. The reader does not check these combinations, nor that
/// `jsonrpc` is "2.0": that is the transport's decision, made from these fields.
struct envelope {
    /// The `jsonrpc` member, decoded; "2.0" in a conforming message.
    std::optional<std::string> jsonrpc;
    json_id_kind id_kind = json_id_kind::absent;
    /// The id exactly as the document spelled it: a string with its quotes and escapes, the number's
    /// text, or `null`; empty when absent. Write it back verbatim to answer a server request.
    std::string id_raw;
    /// The id's value when `id_kind == json_id_kind::integer`, else 0.
    std::int64_t id_integer = 0;
    /// The `method` member, decoded.
    std::optional<std::string> method;
    /// Whether a `result` member is present (of any type).
    bool has_result = false;
    /// `result.protocolVersion` when `result` is an object holding that member as a string.
    std::optional<std::string> protocol_version;
    /// Whether an `error` member (an object) is present; `"error": null` counts as absent.
    bool has_error = false;
    /// `error.code`, when present.
    std::optional<std::int64_t> error_code;
    /// `error.message`, decoded, cut at a UTF-8 character boundary to `json_limits::max_message_size`.
    std::optional<std::string> error_message;
    /// Whether `error_message` was cut.
    bool error_message_truncated = false;
};

/// Whether the envelope's id is the integer `id`. A string id never matches, not even `"42"`.
inline bool id_equals(const envelope& e, std::int64_t id) noexcept {
    return e.id_kind == json_id_kind::integer && e.id_integer == id;
}

/// Bounds for `builtin_json`; each bounds time or memory, whatever the server sends.
struct json_limits {
    /// Longest document accepted, in bytes. Default 8 MiB (an MCP tool result may carry a file).
    std::size_t max_document_size = std::size_t{8} * 1024 * 1024;
    /// Deepest nesting of arrays and objects; the top-level object is depth 1. Default 64.
    std::size_t max_depth = 64;
    /// Longest `jsonrpc`, `method`, `result.protocolVersion` (decoded) and raw `id`. Default 1024.
    std::size_t max_field_size = 1024;
    /// Longest `error.message` kept (longer ones are cut, not rejected). Default 1024, as `failure_message`.
    std::size_t max_message_size = 1024;
};

/// Appends `text` to `out` as a JSON string literal, with its quotes.
///
/// Escapes `"`, `\` and every control character U+0000..U+001F, so text from anywhere can be put
/// into a request without changing its structure. Bytes >= 0x80 pass through unchanged: UTF-8 is
/// not validated, so invalid UTF-8 in yields invalid UTF-8 out (a strict peer will reject it).
inline void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(esc, sizeof esc);
        }
        }
    }
    out.append(text.data() + run, text.size() - run);
    out.push_back('"');
}

namespace detail {

// A stack of one bit per open container (object or array), allocation-free up to 128 levels;
// beyond that it grows, bounded by json_limits::max_depth.
class bit_stack {
public:
    bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept { size_ = 0; }

    void push(bool bit) {
        std::uint64_t& word = word_at(size_ / 64, true);
        const std::uint64_t mask = std::uint64_t{1} << (size_ % 64);
        word = bit ? (word | mask) : (word & ~mask);
        ++size_;
    }

    void pop() noexcept { --size_; }

    bool top() noexcept {
        const std::size_t i = size_ - 1;
        return ((word_at(i / 64, false) >> (i % 64)) & 1U) != 0;
    }

private:
    static constexpr std::size_t inline_words = 2;

    std::uint64_t& word_at(std::size_t w, bool grow) {
        if (w < inline_words) return inline_[w];
        const std::size_t h = w - inline_words;
        if (grow && h == heap_.size()) heap_.push_back(0);
        return heap_[h];
    }

    std::uint64_t inline_[inline_words] = {};
    std::vector<std::uint64_t> heap_;
    std::size_t size_ = 0;
};

// Destinations for decoded string contents. The reader hands them runs that end on UTF-8
// character boundaries, so cutting between two runs or at a lead byte never splits a character.
struct null_sink {
    void put(const char*, std::size_t) noexcept {}
};

// Holds a short object key for comparison with the few names the envelope cares about.
struct key_sink {
    char buf[16] = {};
    std::size_t len = 0;
    bool overflow = false;

    void put(const char* s, std::size_t n) noexcept {
        if (overflow) return;
        if (n > sizeof buf - len) {
            overflow = true;
            return;
        }
        if (n != 0) std::memcpy(buf + len, s, n);
        len += n;
    }

    bool is(std::string_view name) const noexcept { return !overflow && std::string_view(buf, len) == name; }
};

// Appends to a string up to `max` bytes; beyond that sets `overflow` and, with `cut`, keeps the
// longest prefix that ends on a character boundary.
struct bounded_sink {
    std::string& out;
    std::size_t max;
    bool cut;
    bool overflow = false;

    void put(const char* s, std::size_t n) {
        if (overflow) return;
        const std::size_t room = max - out.size();
        if (n <= room) {
            out.append(s, n);
            return;
        }
        overflow = true;
        if (!cut) return;
        std::size_t keep = room;
        while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
        out.append(s, keep);
    }
};

struct number_info {
    bool integer = false;  // no fraction, no exponent
    bool fits = false;     // integer and within std::int64_t
    std::int64_t value = 0;
};

inline bool is_json_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// One strict pass over one document. Recursion is fixed (top-level object -> `result` or
// `error` object -> skip); everything deeper is skipped iteratively with a bit_stack.
class json_reader {
public:
    json_reader(const json_limits& limits, std::string_view doc, bit_stack& stack) noexcept
        : limits_(limits),
          begin_(doc.data()),
          p_(doc.data()),
          end_(doc.data() + doc.size()),
          stack_(stack) {}

    bool parse(envelope& out) {
        out = envelope{};
        if (static_cast<std::size_t>(end_ - begin_) > limits_.max_document_size) {
            p_ = begin_ + limits_.max_document_size;
            return fail(json_error::document_too_large, "document longer than max_document_size");
        }
        skip_ws();
        if (p_ == end_) return fail(json_error::unexpected_end, "empty document");
        const char* const start = p_;
        if (*p_ == '{') {
            if (!parse_envelope(out)) return false;
        } else {
            if (!skip_value(0)) return false;
            if (!at_document_end()) return false;
            p_ = start;
            if (*start == '[') return fail(json_error::batch_not_supported, "top-level array");
            return fail(json_error::not_an_object, "top-level value is not an object");
        }
        return at_document_end();
    }

    json_error error() const noexcept { return error_; }
    std::size_t error_offset() const noexcept { return error_offset_; }
    const char* error_detail() const noexcept { return detail_; }

private:
    bool fail(json_error e, const char* what) noexcept {
        error_ = e;
        detail_ = what;
        error_offset_ = static_cast<std::size_t>(p_ - begin_);
        return false;
    }

    bool fail_at(const char* where, json_error e, const char* what) noexcept {
        p_ = where;
        return fail(e, what);
    }

    void skip_ws() noexcept {
        while (p_ != end_ && is_json_ws(*p_)) ++p_;
    }

    bool at_document_end() noexcept {
        skip_ws();
        if (p_ != end_) return fail(json_error::syntax_error, "unexpected characters after the JSON value");
        return true;
    }

    bool more(const char* what) noexcept {
        if (p_ == end_) return fail(json_error::unexpected_end, what);
        return true;
    }

    static bool is_value_start(char c) noexcept {
        return c == '{' || c == '[' || c == '"' || c == '-' || is_digit(c) || c == 't' || c == 'f' ||
               c == 'n';
    }

    // A value of the wrong type for an envelope field; a character that starts no value at all
    // is a syntax error, so that malformed documents report as such.
    bool wrong_type(const char* what) noexcept {
        if (!is_value_start(*p_)) return fail(json_error::syntax_error, "expected a value");
        return fail(json_error::invalid_field_type, what);
    }

    // --- objects -------------------------------------------------------------------------------

    // Reads `{ "key": value, ... }` at depth `depth`; `on_member(key)` must read the value.
    template <class OnMember>
    bool read_members(std::size_t depth, OnMember&& on_member) {
        if (depth > limits_.max_depth) return fail(json_error::too_deep, "nesting deeper than max_depth");
        ++p_;  // '{'
        skip_ws();
        if (!more("unterminated object")) return false;
        if (*p_ == '}') {
            ++p_;
            return true;
        }
        for (;;) {
            key_sink key;
            if (!read_key(key)) return false;
            skip_ws();
            if (!more("expected a value")) return false;
            if (!on_member(key)) return false;
            skip_ws();
            if (!more("unterminated object")) return false;
            if (*p_ == '}') {
                ++p_;
                return true;
            }
            if (*p_ != ',') return fail(json_error::syntax_error, "expected ',' or '}'");
            ++p_;
        }
    }

    // Reads `"key" :` (with surrounding whitespace).
    template <class Sink>
    bool read_key(Sink& key) {
        skip_ws();
        if (!more("expected a string key")) return false;
        if (*p_ != '"') return fail(json_error::syntax_error, "expected a string key");
        if (!read_string(key)) return false;
        skip_ws();
        if (!more("expected ':'")) return false;
        if (*p_ != ':') return fail(json_error::syntax_error, "expected ':'");
        ++p_;
        return true;
    }

    bool parse_envelope(envelope& out) {
        return read_members(1, [&](const key_sink& key) {
            if (key.is("jsonrpc")) return read_field_string(out.jsonrpc, "\"jsonrpc\" must be a string");
            if (key.is("id")) return read_id(out);
            if (key.is("method")) return read_field_string(out.method, "\"method\" must be a string");
            if (key.is("result")) return read_result(out);
            if (key.is("error")) return read_error(out);
            return skip_value(1);
        });
    }

    bool read_field_string(std::optional<std::string>& field, const char* type_error) {
        if (*p_ != '"') return wrong_type(type_error);
        const char* const start = p_;
        bounded_sink sink{field.emplace(), limits_.max_field_size, false};
        if (!read_string(sink)) return false;
        if (sink.overflow) return fail_at(start, json_error::field_too_large, "field longer than max_field_size");
        return true;
    }

    bool read_id(envelope& out) {
        const char* const start = p_;
        out.id_integer = 0;
        if (*p_ == '"') {
            null_sink sink;
            if (!read_string(sink)) return false;
            out.id_kind = json_id_kind::string;
        } else if (*p_ == '-' || is_digit(*p_)) {
            number_info n;
            if (!read_number(&n)) return false;
            out.id_kind = n.fits ? json_id_kind::integer : json_id_kind::number;
            if (n.fits) out.id_integer = n.value;
        } else if (*p_ == 'n') {
            if (!read_literal("null")) return false;
            out.id_kind = json_id_kind::null;
        } else {
            return wrong_type("\"id\" must be a string, a number or null");
        }
        const auto size = static_cast<std::size_t>(p_ - start);
        if (size > limits_.max_field_size) return fail_at(start, json_error::field_too_large, "id longer than max_field_size");
        out.id_raw.assign(start, size);
        return true;
    }

    bool read_result(envelope& out) {
        out.has_result = true;
        out.protocol_version.reset();
        if (*p_ != '{') return skip_value(1);
        return read_members(2, [&](const key_sink& key) {
            if (!key.is("protocolVersion")) return skip_value(2);
            out.protocol_version.reset();
            // Only the initialize result defines it; another shape is skipped, not an error.
            if (*p_ != '"') return skip_value(2);
            return read_field_string(out.protocol_version, "");
        });
    }

    bool read_error(envelope& out) {
        out.has_error = false;
        out.error_code.reset();
        out.error_message.reset();
        out.error_message_truncated = false;
        if (*p_ == 'n') return read_literal("null");  // sloppy servers send "error": null on success
        if (*p_ != '{') return wrong_type("\"error\" must be an object or null");
        out.has_error = true;
        return read_members(2, [&](const key_sink& key) {
            if (key.is("code")) {
                if (*p_ != '-' && !is_digit(*p_)) return wrong_type("\"error.code\" must be an integer");
                const char* const start = p_;
                number_info n;
                if (!read_number(&n)) return false;
                if (!n.integer) return fail_at(start, json_error::invalid_field_type, "\"error.code\" must be an integer");
                if (!n.fits) return fail_at(start, json_error::number_out_of_range, "\"error.code\" does not fit in 64 bits");
                out.error_code = n.value;
                return true;
            }
            if (key.is("message")) {
                if (*p_ != '"') return wrong_type("\"error.message\" must be a string");
                bounded_sink sink{out.error_message.emplace(), limits_.max_message_size, true};
                if (!read_string(sink)) return false;
                out.error_message_truncated = sink.overflow;
                return true;
            }
            return skip_value(2);
        });
    }

    // --- any value, skipped ----------------------------------------------------------------------

    // Validates one value whose parent container is at `depth`, without recursion.
    bool skip_value(std::size_t depth) {
        stack_.clear();
        for (;;) {
            skip_ws();
            if (!more("expected a value")) return false;
            const char c = *p_;
            if (c == '{' || c == '[') {
                if (depth >= limits_.max_depth) return fail(json_error::too_deep, "nesting deeper than max_depth");
                ++depth;
                ++p_;
                skip_ws();
                if (!more(c == '{' ? "unterminated object" : "unterminated array")) return false;
                if (*p_ != (c == '{' ? '}' : ']')) {
                    stack_.push(c == '{');
                    if (c == '{') {
                        null_sink key;
                        if (!read_key(key)) return false;
                    }
                    continue;  // to the first member's value
                }
                ++p_;  // empty container
                --depth;
            } else if (c == '"') {
                null_sink sink;
                if (!read_string(sink)) return false;
            } else if (c == '-' || is_digit(c)) {
                if (!read_number(nullptr)) return false;
            } else if (c == 't') {
                if (!read_literal("true")) return false;
            } else if (c == 'f') {
                if (!read_literal("false")) return false;
            } else if (c == 'n') {
                if (!read_literal("null")) return false;
            } else {
                return fail(json_error::syntax_error, "expected a value");
            }
            // A value is complete: close finished containers, or move to the next element.
            for (;;) {
                if (stack_.empty()) return true;
                const bool in_object = stack_.top();
                skip_ws();
                if (!more(in_object ? "unterminated object" : "unterminated array")) return false;
                if (*p_ == (in_object ? '}' : ']')) {
                    ++p_;
                    stack_.pop();
                    --depth;
                    continue;
                }
                if (*p_ != ',') return fail(json_error::syntax_error, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
                ++p_;
                if (in_object) {
                    null_sink key;
                    if (!read_key(key)) return false;
                }
                break;
            }
        }
    }

    // --- scalars -----------------------------------------------------------------------------------

    bool read_literal(std::string_view literal) noexcept {
        for (const char expected : literal) {
            if (p_ == end_) return fail(json_error::unexpected_end, "truncated literal");
            if (*p_ != expected) return fail(json_error::syntax_error, "invalid literal");
            ++p_;
        }
        return true;
    }

    bool read_number(number_info* info) noexcept {
        bool negative = false;
        if (*p_ == '-') {
            negative = true;
            ++p_;
            if (!more("truncated number")) return false;
        }
        std::uint64_t magnitude = 0;
        bool overflow = false;
        if (*p_ == '0') {
            ++p_;
            if (p_ != end_ && is_digit(*p_)) return fail(json_error::invalid_number, "leading zero");
        } else if (is_digit(*p_)) {
            while (p_ != end_ && is_digit(*p_)) {
                const auto d = static_cast<std::uint64_t>(*p_ - '0');
                if (magnitude > (std::numeric_limits<std::uint64_t>::max() - d) / 10) overflow = true;
                else magnitude = magnitude * 10 + d;
                ++p_;
            }
        } else {
            return fail(json_error::invalid_number, "expected a digit");
        }
        bool integer = true;
        if (p_ != end_ && *p_ == '.') {
            integer = false;
            ++p_;
            if (!more("truncated number")) return false;
            if (!is_digit(*p_)) return fail(json_error::invalid_number, "expected a digit after '.'");
            while (p_ != end_ && is_digit(*p_)) ++p_;
        }
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            integer = false;
            ++p_;
            if (!more("truncated number")) return false;
            if (*p_ == '+' || *p_ == '-') {
                ++p_;
                if (!more("truncated number")) return false;
            }
            if (!is_digit(*p_)) return fail(json_error::invalid_number, "expected a digit in the exponent");
            while (p_ != end_ && is_digit(*p_)) ++p_;
        }
        if (info != nullptr) {
            constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
            info->integer = integer;
            info->fits = integer && !overflow && magnitude <= max + (negative ? 1U : 0U);
            if (info->fits) {
                // Negated as -(m - 1) - 1 so that INT64_MIN does not overflow on the way.
                info->value = !negative || magnitude == 0 ? static_cast<std::int64_t>(magnitude)
                                                          : -static_cast<std::int64_t>(magnitude - 1) - 1;
            }
        }
        return true;
    }

    template <class Sink>
    bool read_string(Sink& sink) {
        ++p_;  // '"'
        const char* run = p_;
        for (;;) {
            if (p_ == end_) return fail(json_error::unexpected_end, "unterminated string");
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                sink.put(run, static_cast<std::size_t>(p_ - run));
                ++p_;
                return true;
            }
            if (c == '\\') {
                sink.put(run, static_cast<std::size_t>(p_ - run));
                if (!read_escape(sink)) return false;
                run = p_;
            } else if (c < 0x20) {
                return fail(json_error::control_character, "unescaped control character in string");
            } else if (c < 0x80) {
                ++p_;
            } else if (!skip_utf8()) {
                return false;
            }
        }
    }

    // RFC 3629 well-formed sequences only: no overlongs, no surrogates, nothing above U+10FFFF.
    bool skip_utf8() noexcept {
        const auto c = static_cast<unsigned char>(*p_);
        std::size_t trail = 2;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) trail = 1;
        else if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) trail = 2;
        else if (c == 0xF0) { trail = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) trail = 3;
        else if (c == 0xF4) { trail = 3; hi = 0x8F; }
        else return fail(json_error::invalid_utf8, "invalid UTF-8 lead byte");
        for (std::size_t i = 1; i <= trail; ++i) {
            if (static_cast<std::size_t>(end_ - p_) <= i) {
                p_ = end_;
                return fail(json_error::unexpected_end, "truncated UTF-8 sequence");
            }
            const auto b = static_cast<unsigned char>(p_[i]);
            if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) {
                return fail(json_error::invalid_utf8, "invalid UTF-8 sequence");
            }
        }
        p_ += trail + 1;
        return true;
    }

    template <class Sink>
    bool read_escape(Sink& sink) {
        ++p_;  // '\'
        if (!more("truncated escape")) return false;
        char decoded;
        switch (*p_) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u': return read_unicode_escape(sink);
        default: return fail(json_error::invalid_escape, "unknown escape");
        }
        ++p_;
        sink.put(&decoded, 1);
        return true;
    }

    bool read_hex4(std::uint32_t& value) noexcept {
        value = 0;
        for (int i = 0; i < 4; ++i) {
            if (!more("truncated \\u escape")) return false;
            const char c = *p_;
            std::uint32_t digit;
            if (c >= '0' && c <= '9') digit = static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
            else return fail(json_error::invalid_escape, "expected four hex digits after \\u");
            value = value * 16 + digit;
            ++p_;
        }
        return true;
    }

    template <class Sink>
    bool read_unicode_escape(Sink& sink) {
        ++p_;  // 'u'
        std::uint32_t cp;
        if (!read_hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(json_error::invalid_escape, "lone low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!more("truncated surrogate pair")) return false;
            if (*p_ != '\\') return fail(json_error::invalid_escape, "lone high surrogate");
            ++p_;
            if (!more("truncated surrogate pair")) return false;
            if (*p_ != 'u') return fail(json_error::invalid_escape, "lone high surrogate");
            ++p_;
            std::uint32_t low;
            if (!read_hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail(json_error::invalid_escape, "high surrogate without a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        char utf8[4];
        std::size_t n;
        if (cp < 0x80) {
            utf8[0] = static_cast<char>(cp);
            n = 1;
        } else if (cp < 0x800) {
            utf8[0] = static_cast<char>(0xC0 | (cp >> 6));
            utf8[1] = static_cast<char>(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            utf8[0] = static_cast<char>(0xE0 | (cp >> 12));
            utf8[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            utf8[2] = static_cast<char>(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            utf8[0] = static_cast<char>(0xF0 | (cp >> 18));
            utf8[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            utf8[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            utf8[3] = static_cast<char>(0x80 | (cp & 0x3F));
            n = 4;
        }
        sink.put(utf8, n);
        return true;
    }

    const json_limits& limits_;
    const char* const begin_;
    const char* p_;
    const char* const end_;
    bit_stack& stack_;
    json_error error_{};
    const char* detail_ = "";
    std::size_t error_offset_ = 0;
};

}  // namespace detail

/// The JSON reader shipped with the library: strict RFC 8259, bounded, no DOM; a `json_policy`.
///
/// It validates the whole document (trailing characters, leading zeros, `+1`, bad escapes, lone
/// surrogates, unescaped control characters, a BOM, comments and non-JSON whitespace are all
/// rejected) and keeps only the envelope fields; other values are checked and skipped without
/// recursion and without allocation (nesting beyond 128 levels needs a few bytes, bounded by
/// `max_depth`). Strings must be well-formed UTF-8: invalid UTF-8 is rejected, never passed through.
/// Duplicate keys: the last one wins (a later `error` object replaces an earlier one entirely).
/// `"error": null` counts as no error (some servers send it beside a result).
/// A top-level array (batch) gives `batch_not_supported` once it is known to be valid JSON.
/// Not thread-safe (it remembers the last error); cheap to copy, so use one per thread.
class builtin_json {
public:
    builtin_json() = default;
    explicit builtin_json(json_limits limits) noexcept : limits_(limits) {}

    /// Reads `body` into `out`; on failure returns false, sets `ec` (a `json_error`) and leaves
    /// `out` partly filled, not to be used. `error_offset()` then says where the problem is.
    bool parse(std::string_view body, envelope& out, std::error_code& ec) {
        detail::json_reader reader(limits_, body, stack_);
        if (reader.parse(out)) {
            ec = {};
            error_ = {};
            error_offset_ = 0;
            error_detail_ = "";
            return true;
        }
        error_ = make_error_code(reader.error());
        ec = error_;
        error_offset_ = reader.error_offset();
        error_detail_ = reader.error_detail();
        return false;
    }

    /// As above, but throws `std::system_error` carrying `error_description()`.
    void parse(std::string_view body, envelope& out) {
        std::error_code ec;
        if (!parse(body, out, ec)) throw std::system_error(ec, error_description());
    }

    const json_limits& limits() const noexcept { return limits_; }

    /// The last `parse` error, or an empty code after a success.
    std::error_code error() const noexcept { return error_; }

    /// Byte offset in the document where the last error was found (0 after a success).
    std::size_t error_offset() const noexcept { return error_offset_; }

    /// A static phrase refining the last error, e.g. "expected ':'"; empty after a success.
    std::string_view error_detail() const noexcept { return error_detail_; }

    /// E.g. "JSON syntax error at offset 17: expected ':'"; empty after a success.
    std::string error_description() const {
        if (!error_) return {};
        std::string s = error_.message();
        s += " at offset ";
        s += std::to_string(error_offset_);
        if (*error_detail_ != '\0') {
            s += ": ";
            s += error_detail_;
        }
        return s;
    }

private:
    json_limits limits_{};
    detail::bit_stack stack_;
    std::error_code error_;
    std::size_t error_offset_ = 0;
    const char* error_detail_ = "";
};

/// Requirements of a JSON policy `P` (how the transport reads response bodies):
///
/// | Expression                  | Type                  | Semantics                                      |
/// |-----------------------------|-----------------------|------------------------------------------------|
/// | `p.parse(body, env, ec)`    | convertible to `bool` | Fill `env` from the JSON document `body`; on   |
/// |                             |                       | failure return false and set `ec` (non-empty). |
///
/// `p` is a `P&`, `body` a `std::string_view`, `env` an `envelope&`, `ec` a `std::error_code&`.
/// A static member function satisfies it. The policy must not throw for malformed input, must
/// bound its own time and memory, and must reset `env` (every field) before filling it; a
/// top-level array should be refused (e.g. with `json_error::batch_not_supported`).
/// Models: `builtin_json`. For nlohmann::json, parse with `allow_exceptions = false` and a depth
/// limit, then copy the fields into `env`.
template <class P, class = void>
struct is_json_policy : std::false_type {};

template <class P>
struct is_json_policy<P, std::void_t<decltype(static_cast<bool>(std::declval<P&>().parse(
                             std::declval<std::string_view>(), std::declval<envelope&>(),
                             std::declval<std::error_code&>())))>> : std::true_type {};

template <class P>
inline constexpr bool is_json_policy_v = is_json_policy<P>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// C++20 spelling of `is_json_policy`.
template <class P>
concept json_policy = requires(P& p, std::string_view body, envelope& env, std::error_code& ec) {
    { p.parse(body, env, ec) } -> std::convertible_to<bool>;
};
#endif

}  // namespace mcp_recovery::beast

#endif
