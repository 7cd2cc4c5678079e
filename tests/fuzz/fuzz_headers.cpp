// Fuzz target for what the Beast transports accept in header fields and URLs: session ids from
// servers, Retry-After values, user-supplied header names and values, endpoint URLs.
//
// Build and run: bash scripts/fuzz.sh SECONDS (or see fuzz_json_envelope.cpp for a manual build).
//
// Invariants: a session id is accepted exactly when it is 1..max visible ASCII characters (so it
// can never carry CR, LF, NUL or a space into a request); an accepted header name is a token and
// an accepted header value has no CR, LF or NUL; Retry-After gives a hint for 1-9 digits between
// blanks, with that value, and otherwise exactly when the trimmed text is an HTTP-date, with a wait
// from 0 to max_retry_after that never grows as "now" moves on (an IMF-fixdate rebuilt from its
// parts reads back the same); an accepted URL has a non-empty host and a target starting with
// '/', neither with whitespace or control characters, a non-zero port, and it reads back the same
// from its own parts; a redacted URL holds nothing of the text before its last '@' but a scheme;
// every function is deterministic.
#include <mcp_recovery/beast/header_rules.hpp>
#include <mcp_recovery/beast/url.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
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

// 2025-01-01T00:00:00Z, and a second "now" 40 years and a bit later (past an RFC 850 year turn).
const std::chrono::system_clock::time_point now_a{std::chrono::seconds(1735689600)};
const std::chrono::system_clock::time_point now_b = now_a + std::chrono::hours(24 * 365 * 40) + std::chrono::milliseconds(1);

void check_retry_after(std::string_view s) {
    const auto hint = mb::parse_retry_after(s, now_a);
    FUZZ_CHECK(hint == mb::parse_retry_after(s, now_a));
    std::string_view core = s;
    while (!core.empty() && (core.front() == ' ' || core.front() == '\t')) core.remove_prefix(1);
    while (!core.empty() && (core.back() == ' ' || core.back() == '\t')) core.remove_suffix(1);
    bool digits = !core.empty() && core.size() <= 9;
    long long value = 0;
    for (char c : core) {
        if (c < '0' || c > '9') digits = false;
        else if (digits) value = value * 10 + (c - '0');
    }
    if (digits) {
        FUZZ_CHECK(hint.has_value());
        FUZZ_CHECK(*hint == std::chrono::seconds(value));
        return;
    }
    const auto date = mb::parse_http_date(core, now_a);
    FUZZ_CHECK(hint.has_value() == date.has_value());
    if (!hint) return;
    FUZZ_CHECK(*hint >= mcp_recovery::duration::zero());
    FUZZ_CHECK(*hint <= mb::max_retry_after);
    // An IMF-fixdate or asctime date means the same whenever it is read: later, the wait is no longer.
    if (core.size() != 29 && core.size() != 24) return;
    const auto later = mb::parse_retry_after(s, now_b);
    FUZZ_CHECK(later.has_value());
    FUZZ_CHECK(*later <= *hint);
    // Rebuilt as an IMF-fixdate from its parts, it reads back the same (years 1..9999 only).
    const long long t = date->count();
    const long long days = (t >= 0 ? t : t - 86399) / 86400;
    const long long second_of_day = t - days * 86400;
    if (days < 0) return;  // before 1970: skip the rebuild (the calendar helpers count from 1970)
    const long long year = mb::detail::year_of(days);
    long long day_of_year = days - mb::detail::days_to_year(year);
    int month = 1;
    while (month < 12 && day_of_year >= mb::detail::days_in_month(year, month)) day_of_year -= mb::detail::days_in_month(year, month++);
    static constexpr const char* names[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01: Thursday
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02lld %s %04lld %02lld:%02lld:%02lld GMT", names[days % 7],
                  day_of_year + 1, months[month - 1], year, second_of_day / 3600, second_of_day / 60 % 60,
                  second_of_day % 60);
    const auto back = mb::parse_http_date(text, now_a);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(*back == *date);
}

void check_redaction(std::string_view s) {
    const std::string shown = mb::redact_url(s);
    FUZZ_CHECK(shown == mb::redact_url(s));
    const auto at = s.rfind('@');
    if (at == std::string_view::npos) {
        FUZZ_CHECK(shown == s);
        return;
    }
    // What follows the last '@' is kept; before it, at most a scheme and "://", then "***@".
    const std::string_view tail = s.substr(at + 1);
    FUZZ_CHECK(shown.size() >= tail.size() + 4);
    FUZZ_CHECK(std::string_view(shown).substr(shown.size() - tail.size()) == tail);
    const std::string_view head = std::string_view(shown).substr(0, shown.size() - tail.size());
    FUZZ_CHECK(head.size() >= 4 && head.substr(head.size() - 4) == "***@");
    const std::string_view scheme = head.substr(0, head.size() - 4);
    if (scheme.empty()) return;
    FUZZ_CHECK(scheme.size() >= 3 && scheme.substr(scheme.size() - 3) == "://");
    const std::string_view name = scheme.substr(0, scheme.size() - 3);
    FUZZ_CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") ==
               std::string_view::npos);
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
    check_redaction(rest);
    return 0;
}
