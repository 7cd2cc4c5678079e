// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_HEADER_RULES_HPP
#define MCP_RECOVERY_BEAST_HEADER_RULES_HPP

/// What the Streamable-HTTP transports accept in HTTP header fields, from the server (session ids,
/// Retry-After in seconds or as an HTTP-date) and from the user (extra headers, tokens). Standard library only; fuzzed by
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

namespace detail {

/// `text` as a number when it is exactly `text.size()` ASCII digits (at most 9), else -1.
constexpr long long date_digits(std::string_view text) noexcept {
    if (text.empty() || text.size() > 9) return -1;
    long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

/// `v` without surrounding blanks (spaces and tabs).
constexpr std::string_view trim_blanks(std::string_view v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

/// Whether `text` is `lower` (lower case already), ignoring ASCII case in `text`.
constexpr bool equals_icase(std::string_view text, std::string_view lower) noexcept {
    if (text.size() != lower.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != lower[i]) return false;
    }
    return true;
}

/// 1..12 for "Jan".."Dec" (case-sensitive, as RFC 9110 says), else 0.
constexpr int month_number(std::string_view text) noexcept {
    constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (months[i] == text) return i + 1;
    return 0;
}

/// Whether `text` names a day of the week: "Mon".."Sun", or with `long_form` "Monday".."Sunday".
constexpr bool day_name(std::string_view text, bool long_form) noexcept {
    constexpr std::string_view days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    for (std::string_view d : days)
        if (text == (long_form ? d : d.substr(0, 3))) return true;
    return false;
}

constexpr bool leap_year(long long y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int days_in_month(long long y, int m) noexcept {
    constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/// Days from 1970-01-01 to the first day of year `y` (y >= 1), proleptic Gregorian calendar.
constexpr long long days_to_year(long long y) noexcept {
    // Days from 0001-01-01 to the first of year `y`: 365 a year plus one per leap year before it.
    auto from_year_one = [](long long year) {
        const long long before = year - 1;
        return 365 * before + before / 4 - before / 100 + before / 400;
    };
    return from_year_one(y) - from_year_one(1970);
}

/// Days from 1970-01-01 to the date y-m-d (already validated).
constexpr long long days_from_epoch(long long y, int m, int d) noexcept {
    long long days = days_to_year(y);
    for (int month = 1; month < m; ++month) days += days_in_month(y, month);
    return days + d - 1;
}

/// The calendar year of the day `days` after 1970-01-01 (0 <= days < 2^40).
constexpr long long year_of(long long days) noexcept {
    // 146097 days every 400 years: this estimate is off by at most one year either way.
    long long y = 1970 + days * 400 / 146097;
    for (int i = 0; i < 2 && days_to_year(y) > days; ++i) --y;
    for (int i = 0; i < 2 && days_to_year(y + 1) <= days; ++i) ++y;
    return y;
}

/// "HH:MM:SS" as seconds into the day (a leap second 60 is accepted), else -1.
constexpr long long time_of_day(std::string_view t) noexcept {
    if (t.size() != 8 || t[2] != ':' || t[5] != ':') return -1;
    const long long h = date_digits(t.substr(0, 2));
    const long long m = date_digits(t.substr(3, 2));
    const long long s = date_digits(t.substr(6, 2));
    if (h < 0 || m < 0 || s < 0 || h > 23 || m > 59 || s > 60) return -1;
    return h * 3600 + m * 60 + s;
}

/// Seconds since the Unix epoch of a validated date and time, or nothing.
constexpr std::optional<long long> date_time(long long y, int m, long long d, long long seconds_of_day) noexcept {
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) || seconds_of_day < 0) return std::nullopt;
    return days_from_epoch(y, m, static_cast<int>(d)) * 86400 + seconds_of_day;
}

}  // namespace detail

/// An HTTP-date (RFC 9110, section 5.6.7) as seconds since the Unix epoch; nothing for anything
/// else. Accepts the preferred IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete
/// forms, RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`),
/// exactly as the grammar spells them (names are case-sensitive; no surrounding blanks). A
/// two-digit RFC 850 year is the latest year with those digits that is at most 50 years after
/// `now` (RFC 9110's rule), which is the only use of `now`. Pure: no clock is read.
inline std::optional<std::chrono::seconds> parse_http_date(std::string_view v,
                                                           std::chrono::system_clock::time_point now) noexcept {
    using detail::date_digits;
    std::optional<long long> at;
    if (v.size() == 29 && v[3] == ',') {  // IMF-fixdate
        if (!detail::day_name(v.substr(0, 3), false) || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
            v[16] != ' ' || v[25] != ' ' || v.substr(26) != "GMT")
            return std::nullopt;
        const long long day = date_digits(v.substr(5, 2));
        const long long year = date_digits(v.substr(12, 4));
        at = detail::date_time(year, detail::month_number(v.substr(8, 3)), day, detail::time_of_day(v.substr(17, 8)));
    } else if (const auto comma = v.find(','); comma != std::string_view::npos) {  // RFC 850
        if (!detail::day_name(v.substr(0, comma), true)) return std::nullopt;
        const std::string_view r = v.substr(comma + 1);
        if (r.size() != 23 || r[0] != ' ' || r[3] != '-' || r[7] != '-' || r[10] != ' ' || r[19] != ' ' ||
            r.substr(20) != "GMT")
            return std::nullopt;
        const long long yy = date_digits(r.substr(8, 2));
        if (yy < 0) return std::nullopt;
        const auto now_days = std::chrono::floor<std::chrono::hours>(now.time_since_epoch()).count() / 24;
        const long long latest = (now_days > 0 ? detail::year_of(now_days) : 1970) + 50;
        const long long year = latest - (((latest - yy) % 100) + 100) % 100;
        at = detail::date_time(year, detail::month_number(r.substr(4, 3)), date_digits(r.substr(1, 2)),
                               detail::time_of_day(r.substr(11, 8)));
    } else if (v.size() == 24) {  // asctime: the day is 2 digits or a blank and 1 digit
        if (!detail::day_name(v.substr(0, 3), false) || v[3] != ' ' || v[7] != ' ' || v[10] != ' ' || v[19] != ' ')
            return std::nullopt;
        const long long day = v[8] == ' ' ? date_digits(v.substr(9, 1)) : date_digits(v.substr(8, 2));
        at = detail::date_time(date_digits(v.substr(20, 4)), detail::month_number(v.substr(4, 3)), day,
                               detail::time_of_day(v.substr(11, 8)));
    }
    if (!at) return std::nullopt;
    return std::chrono::seconds(*at);
}

/// The longest wait a Retry-After can ask for: 999,999,999 seconds (9 digits), about 31 years.
inline constexpr std::chrono::seconds max_retry_after{999'999'999};

/// A Retry-After value (RFC 9110, section 10.2.3) as a wait from `now`: delta-seconds (at most 9
/// digits), or an HTTP-date (see `parse_http_date`), whose wait is the time from `now` to it: zero
/// for a date in the past, at most `max_retry_after`. Surrounding blanks are allowed; anything else
/// gives no hint. Pure (the clock is a parameter), for tests; the transports use the overload below.
inline std::optional<duration> parse_retry_after(std::string_view v, std::chrono::system_clock::time_point now) {
    v = detail::trim_blanks(v);
    if (!v.empty() && v.front() >= '0' && v.front() <= '9') {
        const long long seconds = detail::date_digits(v);
        if (seconds < 0) return std::nullopt;
        return std::chrono::seconds(seconds);
    }
    const std::optional<std::chrono::seconds> date = parse_http_date(v, now);
    if (!date) return std::nullopt;
    const auto since_epoch = now.time_since_epoch();
    const auto now_seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
    if (*date <= now_seconds) return duration::zero();
    if (*date - now_seconds > max_retry_after) return std::chrono::duration_cast<duration>(max_retry_after);
    // Whole seconds to the date, less the part of the current second already gone.
    return std::chrono::duration_cast<duration>(*date - now_seconds) -
           std::chrono::duration_cast<duration>(since_epoch - now_seconds);
}

/// A Retry-After value as a wait from the current time (`std::chrono::system_clock`).
inline std::optional<duration> parse_retry_after(std::string_view v) {
    return parse_retry_after(v, std::chrono::system_clock::now());
}

/// The idle timeout a server announces in `Keep-Alive: timeout=N[, max=M]` (RFC 2068, section
/// 19.7.1.1; still sent by Node, Apache and others): N seconds, at most 9 digits. Parameter names
/// are case-insensitive and may come in any order; anything unreadable gives no hint.
inline std::optional<std::chrono::seconds> parse_keep_alive_timeout(std::string_view v) noexcept {
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view item = detail::trim_blanks(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        constexpr std::string_view name = "timeout=";
        if (item.size() <= name.size() || !detail::equals_icase(item.substr(0, name.size()), name)) continue;
        const long long seconds = detail::date_digits(item.substr(name.size()));
        if (seconds < 0 || item.size() - name.size() > 9) return std::nullopt;
        return std::chrono::seconds(seconds);
    }
    return std::nullopt;
}

/// Whether a `Content-Encoding` value leaves the body as it is: empty, or `identity` (any case,
/// surrounding blanks allowed). Anything else (gzip, br, deflate, a list) needs a decoder.
inline bool identity_content_encoding(std::string_view v) noexcept {
    v = detail::trim_blanks(v);
    return v.empty() || detail::equals_icase(v, "identity");
}

}  // namespace mcp_recovery::beast

#endif
