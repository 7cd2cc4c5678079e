// Fuzz target for what the Beast transports accept in header fields and URLs: session ids from
// servers, Retry-After values, user-supplied header names and values, endpoint URLs.
//
// Build and run: bash scripts/fuzz.sh SECONDS (or see fuzz_json_envelope.cpp for a manual build).
//
// Invariants: a session id is accepted exactly when it is 1..max visible ASCII characters (so it
// can never carry CR, LF, NUL or a space into a request); an accepted header name is a token and
// an accepted header value has no CR, LF or NUL; Retry-After gives a hint exactly for 1-9 digits
// between blanks, with that value; an accepted URL has a non-empty host and a target starting with
// '/', neither with whitespace or control characters, a non-zero port, and it reads back the same
// from its own parts; every function is deterministic.
#include <mcp_recovery/beast/header_rules.hpp>
#include <mcp_recovery/beast/url.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace mb = mcp_recovery::beast;

bool has_control_or_blank(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return true;
    }
    return false;
}

bool has_line_break_or_nul(std::string_view s) {
    return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos ||
           s.find('\0') != std::string_view::npos;
}

void check_session_id(std::string_view s, std::size_t max) {
    const bool ok = mb::valid_session_id(s, max);
    bool expected = !s.empty() && s.size() <= max;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) expected = false;
    }
    FUZZ_CHECK(ok == expected);
    if (ok) FUZZ_CHECK(!has_control_or_blank(s));
    FUZZ_CHECK(ok == mb::valid_session_id(s, max));
}

void check_header(std::string_view s) {
    if (mb::valid_header_name(s)) {
        FUZZ_CHECK(!s.empty());
        FUZZ_CHECK(!has_control_or_blank(s));
        FUZZ_CHECK(s.find(':') == std::string_view::npos);
    }
    if (mb::valid_header_value(s)) FUZZ_CHECK(!has_line_break_or_nul(s));
}

void check_retry_after(std::string_view s) {
    const auto hint = mb::parse_retry_after(s);
    std::string_view core = s;
    while (!core.empty() && (core.front() == ' ' || core.front() == '\t')) core.remove_prefix(1);
    while (!core.empty() && (core.back() == ' ' || core.back() == '\t')) core.remove_suffix(1);
    bool digits = !core.empty() && core.size() <= 9;
    long long value = 0;
    for (char c : core) {
        if (c < '0' || c > '9') digits = false;
        else if (digits) value = value * 10 + (c - '0');
    }
    FUZZ_CHECK(hint.has_value() == digits);
    if (hint) {
        FUZZ_CHECK(*hint == std::chrono::seconds(value));
        FUZZ_CHECK(*hint >= mcp_recovery::duration::zero());
    }
}

void check_url(std::string_view s) {
    std::string why;
    const auto url = mb::parse_url(s, why);
    std::string why_again;
    const auto again = mb::parse_url(s, why_again);
    FUZZ_CHECK(url.has_value() == again.has_value());
    if (!url) {
        FUZZ_CHECK(!why.empty());
        FUZZ_CHECK(why == why_again);
        return;
    }
    FUZZ_CHECK(!url->host.empty());
    FUZZ_CHECK(!has_control_or_blank(url->host));
    FUZZ_CHECK(!url->target.empty() && url->target.front() == '/');
    FUZZ_CHECK(!has_control_or_blank(url->target));
    FUZZ_CHECK(url->port != 0);
    const std::string host_header = url->host_header();
    FUZZ_CHECK(!has_control_or_blank(host_header));
    // The URL rebuilt from its parts reads back the same.
    const std::string rebuilt = std::string(url->tls ? "https://" : "http://") + host_header + url->target;
    std::string why_rebuilt;
    const auto back = mb::parse_url(rebuilt, why_rebuilt);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->tls == url->tls && back->host == url->host && back->port == url->port &&
               back->target == url->target);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    // The first byte picks the session-id limit (0..255); the whole input is every other field.
    const std::size_t max = size > 0 ? static_cast<std::size_t>(data[0]) : 0;
    const std::string_view rest = size > 0 ? all.substr(1) : all;
    check_session_id(rest, max);
    check_session_id(rest, 1024);
    check_header(rest);
    check_retry_after(rest);
    check_url(rest);
    return 0;
}
