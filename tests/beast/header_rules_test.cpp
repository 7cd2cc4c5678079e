// The std-only header rules of the Beast transports: Retry-After in seconds and as an HTTP-date
// (with the current time a parameter, so no clock is read), and URLs shown without credentials.
#include <mcp_recovery/beast/header_rules.hpp>
#include <mcp_recovery/beast/url.hpp>

#include "catch.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mb = mcp_recovery::beast;
using mcp_recovery::duration;
using namespace std::chrono_literals;

namespace {

using sys_time = std::chrono::system_clock::time_point;

/// A system_clock time `s` seconds (and `extra` more) after the Unix epoch.
sys_time at(long long s, std::chrono::milliseconds extra = 0ms) {
    return sys_time(std::chrono::duration_cast<sys_time::duration>(std::chrono::seconds(s) + extra));
}

constexpr long long nov_6_1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr long long jan_1_2025 = 1735689600;  // Wed, 01 Jan 2025 00:00:00 GMT

std::optional<long long> date(std::string_view text, sys_time now = at(jan_1_2025)) {
    const auto d = mb::parse_http_date(text, now);
    if (!d) return std::nullopt;
    return d->count();
}

}  // namespace

TEST_CASE("HTTP-dates in the three forms of RFC 9110 read as seconds since the epoch", "[beast][header_rules]") {
    CHECK(date("Sun, 06 Nov 1994 08:49:37 GMT") == nov_6_1994);   // IMF-fixdate
    CHECK(date("Sunday, 06-Nov-94 08:49:37 GMT") == nov_6_1994);  // RFC 850
    CHECK(date("Sun Nov  6 08:49:37 1994") == nov_6_1994);        // asctime, one-digit day
    CHECK(date("Wed, 01 Jan 2025 00:00:00 GMT") == jan_1_2025);
    CHECK(date("Tue, 29 Feb 2000 23:59:59 GMT") == 951868799);    // a leap day of a leap century
    CHECK(date("Thu, 29 Feb 2024 12:00:00 GMT") == 1709208000);
    CHECK(date("Fri, 31 Dec 9999 23:59:59 GMT") == 253402300799);
    CHECK(date("Thu Feb 29 12:00:00 2024") == 1709208000);        // asctime, two-digit day
    CHECK(date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    CHECK(date("Thu, 31 Dec 1969 23:59:59 GMT") == -1);
    CHECK(date("Thu, 01 Jan 1970 00:00:60 GMT") == 60);            // a leap second is accepted
}

TEST_CASE("an RFC 850 two-digit year is at most 50 years after now", "[beast][header_rules]") {
    CHECK(date("Sunday, 06-Nov-94 08:49:37 GMT", at(jan_1_2025)) == nov_6_1994);
    // 2075 is 50 years after 2025: still in the future; 2076 would be more, so it is 1976.
    CHECK(date("Tuesday, 01-Jan-75 00:00:00 GMT", at(jan_1_2025)) == 3313526400);
    CHECK(date("Thursday, 01-Jan-76 00:00:00 GMT", at(jan_1_2025)) == 189302400);
    CHECK(date("Tuesday, 01-Jan-30 00:00:00 GMT", at(jan_1_2025)) == 1893456000);
}

TEST_CASE("malformed HTTP-dates give nothing", "[beast][header_rules]") {
    for (const char* bad : {
             "",
             "Sun, 06 Nov 1994 08:49:37 UTC",   // only GMT
             "sun, 06 Nov 1994 08:49:37 GMT",   // names are case-sensitive
             "Sun, 06 nov 1994 08:49:37 GMT",
             "Xyz, 06 Nov 1994 08:49:37 GMT",
             "Sun, 31 Nov 1994 08:49:37 GMT",   // no 31st of November
             "Sun, 29 Feb 1900 08:49:37 GMT",   // 1900 was not a leap year
             "Sun, 00 Nov 1994 08:49:37 GMT",
             "Sun, 06 Nov 1994 24:00:00 GMT",
             "Sun, 06 Nov 1994 08:60:00 GMT",
             "Sun, 06 Nov 1994 08:49:61 GMT",
             "Sun, 06 Nov 0000 08:49:37 GMT",
             "Sun, 6 Nov 1994 08:49:37 GMT",    // IMF-fixdate has two digits
             "Sun, 06 Nov 1994 08:49:37 GMT ",  // no blanks around (parse_retry_after trims them)
             "Sun,  06 Nov 1994 08:49:37 GMT",
             "Sun, 06 Nov 1994 8:49:37 GMT",
             "Sun, 06 Nov +994 08:49:37 GMT",
             "Sun, 06 Nov 1994 08:49:3 GMT",
             "Sunday, 06-Nov-1994 08:49:37 GMT",
             "Sun, 06-Nov-94 08:49:37 GMT",      // RFC 850 has the long day name
             "Sunday, 06 Nov 94 08:49:37 GMT",
             "Sun Nov 6 08:49:37 1994",          // asctime pads the day with a blank
             "Sun Nov 06 08:49:37 94",
             "Sun Nov  6 08:49:37 1994 GMT",
             "Sun Nov x6 08:49:37 1994",
             "\xff\xfe, 06 Nov 1994 08:49:37 GMT",
             ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
         }) {
        CAPTURE(bad);
        CHECK_FALSE(mb::parse_http_date(bad, at(jan_1_2025)));
    }
}

TEST_CASE("Retry-After: delta-seconds, or an HTTP-date as the time from now", "[beast][header_rules]") {
    const sys_time now = at(jan_1_2025);
    CHECK(mb::parse_retry_after("120", now) == std::optional<duration>(120s));
    CHECK(mb::parse_retry_after(" 0\t", now) == std::optional<duration>(0s));
    CHECK(mb::parse_retry_after("999999999", now) == std::optional<duration>(999999999s));
    CHECK_FALSE(mb::parse_retry_after("1000000000", now));  // 10 digits
    CHECK_FALSE(mb::parse_retry_after("-1", now));
    CHECK_FALSE(mb::parse_retry_after("1.5", now));
    CHECK_FALSE(mb::parse_retry_after("12abc", now));
    CHECK_FALSE(mb::parse_retry_after("", now));
    CHECK_FALSE(mb::parse_retry_after("soon", now));

    // A date 90 seconds ahead, in each form and with blanks around.
    CHECK(mb::parse_retry_after("Wed, 01 Jan 2025 00:01:30 GMT", now) == std::optional<duration>(90s));
    CHECK(mb::parse_retry_after("  Wed, 01 Jan 2025 00:01:30 GMT ", now) == std::optional<duration>(90s));
    CHECK(mb::parse_retry_after("Wednesday, 01-Jan-25 00:01:30 GMT", now) == std::optional<duration>(90s));
    CHECK(mb::parse_retry_after("Wed Jan  1 00:01:30 2025", now) == std::optional<duration>(90s));
    // Part of the current second has gone by: the wait is that much shorter.
    CHECK(mb::parse_retry_after("Wed, 01 Jan 2025 00:01:30 GMT", at(jan_1_2025, 250ms)) ==
          std::optional<duration>(89750ms));
    // A date in the past, or now: no wait.
    CHECK(mb::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == std::optional<duration>(duration::zero()));
    CHECK(mb::parse_retry_after("Wed, 01 Jan 2025 00:00:00 GMT", at(jan_1_2025, 999ms)) ==
          std::optional<duration>(duration::zero()));
    // Far in the future: at most max_retry_after, never an overflow.
    CHECK(mb::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) ==
          std::optional<duration>(std::chrono::duration_cast<duration>(mb::max_retry_after)));
    // Garbage: no hint.
    CHECK_FALSE(mb::parse_retry_after("Wed, 01 Jan 2025 00:01:30", now));
    CHECK_FALSE(mb::parse_retry_after("Wed, 32 Jan 2025 00:01:30 GMT", now));
    // The overload without a clock reads system_clock: a date long past is no wait.
    CHECK(mb::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == std::optional<duration>(duration::zero()));
    CHECK(mb::parse_retry_after("7") == std::optional<duration>(7s));
}

TEST_CASE("URLs are shown without user information", "[beast][header_rules][url]") {
    CHECK(mb::redact_url("http://user:s3cret@example.com/mcp") == "http://***@example.com/mcp");
    CHECK(mb::redact_url("https://s3cret@example.com:8443/mcp") == "https://***@example.com:8443/mcp");
    // A password with '@', '/' or '#' in it, unencoded: everything up to the last '@' goes.
    CHECK(mb::redact_url("http://user:p@ss/w#rd@example.com/mcp") == "http://***@example.com/mcp");
    CHECK(mb::redact_url("user:s3cret@example.com/mcp") == "***@example.com/mcp");
    CHECK(mb::redact_url("us:s3cret@x://example.com/") == "***@x://example.com/");
    CHECK(mb::redact_url("http://example.com/mcp") == "http://example.com/mcp");
    CHECK(mb::redact_url("") == "");

    std::string why;
    CHECK_FALSE(mb::parse_url("http://user:s3cret@example.com/mcp", why));
    CHECK(why.find("user information") != std::string::npos);
    CHECK(why.find("s3cret") == std::string::npos);
    // A "scheme" that is not one is not echoed either (it may be credentials).
    CHECK_FALSE(mb::parse_url("us:s3cret@x://example.com/", why));
    CHECK(why.find("s3cret") == std::string::npos);
    CHECK(why.find("scheme") != std::string::npos);
    CHECK_FALSE(mb::parse_url("ftp://example.com/", why));
    CHECK(why == "unsupported URL scheme 'ftp'; only http and https are supported");
}

TEST_CASE("Keep-Alive timeouts are read from any position, in any case, or give no hint", "[beast][header_rules]") {
    using secs = std::optional<std::chrono::seconds>;
    CHECK(mb::parse_keep_alive_timeout("timeout=5") == secs(5s));
    CHECK(mb::parse_keep_alive_timeout("timeout=5, max=1000") == secs(5s));
    CHECK(mb::parse_keep_alive_timeout("max=100,  Timeout=15 ") == secs(15s));
    CHECK(mb::parse_keep_alive_timeout("\ttimeout=0") == secs(0s));
    CHECK(mb::parse_keep_alive_timeout("timeout=999999999") == secs(999999999s));
    // No hint: absent, empty, signed, fractional, too long, another parameter's name.
    CHECK_FALSE(mb::parse_keep_alive_timeout(""));
    CHECK_FALSE(mb::parse_keep_alive_timeout("max=5"));
    CHECK_FALSE(mb::parse_keep_alive_timeout("timeout="));
    CHECK_FALSE(mb::parse_keep_alive_timeout("timeout=-1"));
    CHECK_FALSE(mb::parse_keep_alive_timeout("timeout=1.5"));
    CHECK_FALSE(mb::parse_keep_alive_timeout("timeout=1000000000"));
    CHECK_FALSE(mb::parse_keep_alive_timeout("xtimeout=5"));
    CHECK_FALSE(mb::parse_keep_alive_timeout(",,,"));
}

TEST_CASE("only an absent or identity Content-Encoding leaves a body readable", "[beast][header_rules]") {
    CHECK(mb::identity_content_encoding(""));
    CHECK(mb::identity_content_encoding("identity"));
    CHECK(mb::identity_content_encoding(" IDENTITY\t"));
    CHECK_FALSE(mb::identity_content_encoding("gzip"));
    CHECK_FALSE(mb::identity_content_encoding("br"));
    CHECK_FALSE(mb::identity_content_encoding("deflate"));
    CHECK_FALSE(mb::identity_content_encoding("identity, gzip"));
    CHECK_FALSE(mb::identity_content_encoding("identit"));
    CHECK_FALSE(mb::identity_content_encoding("x-identity"));
}
