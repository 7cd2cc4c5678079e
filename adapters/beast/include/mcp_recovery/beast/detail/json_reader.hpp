// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_JSON_READER_HPP
#define MCP_RECOVERY_BEAST_DETAIL_JSON_READER_HPP

/// The machinery of `builtin_json`: a strict, bounded, non-recursive tokenizer that fills an
/// `envelope` (`json_reader`), its container stack and the sinks for decoded strings.
/// Standard library only.

#include "mcp_recovery/beast/json_policy.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_recovery::beast {

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

}  // namespace mcp_recovery::beast

#endif
