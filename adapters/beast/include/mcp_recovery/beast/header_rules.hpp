// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_HEADER_RULES_HPP
#define MCP_RECOVERY_BEAST_HEADER_RULES_HPP

/// What the Streamable-HTTP transports accept in HTTP header fields, from the server (session ids,
/// Retry-After) and from the user (extra headers, tokens). Standard library only; fuzzed by
/// tests/fuzz/fuzz_headers.cpp.

#include "mcp_recovery/failure.hpp"  // duration

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace mcp_recovery::beast {

/// Whether a session id is acceptable: 1 to `max` characters, each visible ASCII (0x21-0x7E).
/// Anything else could inject headers or break the request line, so it is refused.
inline bool valid_session_id(std::string_view id, std::size_t max) noexcept {
    if (id.empty() || id.size() > max) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x21 && u <= 0x7e;
    });
}

/// Whether `name` may be sent as a header name: letters, digits, '-' and '_' only.
inline bool valid_header_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

/// Whether `value` may be sent as a header value: tab and visible characters (obs-text included),
/// never CR, LF, NUL or another control character.
inline bool valid_header_value(std::string_view value) noexcept {
    return std::all_of(value.begin(), value.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

/// A Retry-After value in delta-seconds (at most 9 digits, surrounding blanks allowed); an
/// HTTP-date, rare from MCP servers, or anything else gives no hint.
inline std::optional<duration> parse_retry_after(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty() || v.size() > 9) return std::nullopt;
    long long seconds = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        seconds = seconds * 10 + (c - '0');
    }
    return std::chrono::seconds(seconds);
}

}  // namespace mcp_recovery::beast

#endif
