#include <mcp_recovery/beast/sse.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using mcp_recovery::beast::sse_error;
using mcp_recovery::beast::sse_event;
using mcp_recovery::beast::sse_limits;
using mcp_recovery::beast::sse_parser;
using std::chrono::milliseconds;
using namespace std::string_literals;

namespace {

// Everything observable after parsing a stream, so runs can be compared as a whole.
struct run_result {
    std::vector<sse_event> events;
    std::error_code feed_error;
    std::error_code finish_error;
    std::string last_event_id;
    std::optional<milliseconds> retry;
};

bool same_events(const std::vector<sse_event>& a, const std::vector<sse_event>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id ||
            a[i].retry != b[i].retry)
            return false;
    }
    return true;
}

bool same(const run_result& a, const run_result& b) {
    return same_events(a.events, b.events) && a.feed_error == b.feed_error &&
           a.finish_error == b.finish_error && a.last_event_id == b.last_event_id && a.retry == b.retry;
}

// Feeds `chunks` in order (stopping at the first error), then finishes the stream.
run_result run(const std::vector<std::string_view>& chunks, sse_limits limits = {}) {
    sse_parser parser(limits);
    run_result r;
    for (const std::string_view chunk : chunks) {
        const std::size_t consumed =
            parser.feed(chunk, [&](sse_event& e) { r.events.push_back(e); }, r.feed_error);
        if (r.feed_error) break;
        REQUIRE(consumed == chunk.size());
    }
    parser.finish(r.finish_error);
    r.last_event_id = parser.last_event_id();
    r.retry = parser.retry();
    return r;
}

run_result run_whole(std::string_view stream, sse_limits limits = {}) { return run({stream}, limits); }

run_result run_bytewise(std::string_view stream, sse_limits limits = {}) {
    std::vector<std::string_view> chunks;
    for (std::size_t i = 0; i < stream.size(); ++i) chunks.push_back(stream.substr(i, 1));
    return run(chunks, limits);
}

std::vector<sse_event> events_of(std::string_view stream) {
    const run_result r = run_whole(stream);
    REQUIRE_FALSE(r.feed_error);
    return r.events;
}

}  // namespace

TEST_CASE("sse_parser dispatches an event when a blank line ends it", "[sse]") {
    sse_parser parser;
    std::vector<sse_event> events;
    std::error_code ec;
    const auto on_event = [&](sse_event& e) { events.push_back(e); };

    parser.feed("data: hello\n", on_event, ec);
    REQUIRE_FALSE(ec);
    CHECK(events.empty());  // not before the blank line

    parser.feed("\n", on_event, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == "message");
    CHECK(events[0].data == "hello");
    CHECK(events[0].id.empty());
    CHECK_FALSE(events[0].retry.has_value());
}

TEST_CASE("sse_parser treats LF, CRLF and lone CR line endings alike", "[sse]") {
    const std::string lf = "event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n";
    const std::string crlf = "event: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n";
    const std::string cr = "event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r";
    const std::string mixed = "event: a\rdata: 1\r\ndata: 2\n\r\ndata: 3\r\n\n";

    const run_result expected = run_whole(lf);
    REQUIRE(expected.events.size() == 2);
    CHECK(expected.events[0].type == "a");
    CHECK(expected.events[0].data == "1\n2");
    CHECK(expected.events[1].type == "message");
    CHECK(expected.events[1].data == "3");

    CHECK(same(run_whole(crlf), expected));
    CHECK(same(run_whole(cr), expected));
    CHECK(same(run_whole(mixed), expected));
}

TEST_CASE("sse_parser dispatches on a lone CR without waiting for a possible LF", "[sse]") {
    sse_parser parser;
    std::vector<sse_event> events;
    std::error_code ec;
    parser.feed("data: x\r\r", [&](sse_event& e) { events.push_back(e); }, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "x");
}

TEST_CASE("sse_parser joins a CRLF split across two chunks into one line ending", "[sse]") {
    // Were the LF taken as a blank line, "a" and "b" would be two events.
    const run_result r = run({"data: a\r", "\ndata: b\r\n\r\n"});
    REQUIRE_FALSE(r.feed_error);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].data == "a\nb");

    // A CR at the end of a chunk followed by another CR is a blank line.
    const run_result r2 = run({"data: a\r", "\rdata: b\r\n\r\n"});
    REQUIRE(r2.events.size() == 2);
    CHECK(r2.events[0].data == "a");
    CHECK(r2.events[1].data == "b");
}

TEST_CASE("sse_parser gives the same result however the stream is split", "[sse]") {
    const std::string stream = GENERATE(
        std::string("\xEF\xBB\xBF: comment\r\nretry: 1500\r\nid: 7\r\nevent: message\r\n"
                    "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n"
                    "data\rdata:x\r\rid\n:\ndata:  spaced\n\n"),
        "id: a\nid: b\0c\ndata:1\n\nretry: x\nretry: 20\ndata\ndata\n\nevent: e\n\n"s,
        std::string("data: a\r\n\r\ndata: b\r\rdata: c\n\r\n:only\r\n\r\ndata: tail"),
        std::string("\xEF\xBB\xBF\xEF\xBB\xBF" "data: second BOM is content\n\ndata: \xEF\xBB\xBF\n\n"),
        std::string("\xEF\xBB" "data: not a BOM\n\ndata: y\n\n"));

    const run_result whole = run_whole(stream);
    REQUIRE_FALSE(whole.feed_error);
    CAPTURE(stream, whole.events.size());

    for (std::size_t i = 0; i <= stream.size(); ++i) {
        const std::string_view s(stream);
        CAPTURE(i);
        REQUIRE(same(run({s.substr(0, i), s.substr(i)}), whole));
    }
    for (std::size_t i = 0; i <= stream.size(); i += 3) {
        for (std::size_t j = i; j <= stream.size(); j += 2) {
            const std::string_view s(stream);
            CAPTURE(i, j);
            REQUIRE(same(run({s.substr(0, i), s.substr(i, j - i), s.substr(j)}), whole));
        }
    }
    CHECK(same(run_bytewise(stream), whole));
}

TEST_CASE("sse_parser split-invariance holds for a representative stream with known events", "[sse]") {
    const std::string stream =
        "\xEF\xBB\xBF: keep-alive\r\nid: 42\r\nretry: 3000\r\nevent: message\r\n"
        "data: {\"a\":1}\r\ndata: {\"b\":2}\r\n\r\n"
        "data:last\r\r";
    const run_result whole = run_whole(stream);
    REQUIRE(whole.events.size() == 2);
    CHECK(whole.events[0].data == "{\"a\":1}\n{\"b\":2}");
    CHECK(whole.events[0].id == "42");
    CHECK(whole.events[0].retry == milliseconds(3000));
    CHECK(whole.events[1].data == "last");
    CHECK(whole.events[1].id == "42");
    CHECK_FALSE(whole.events[1].retry.has_value());
    CHECK(same(run_bytewise(stream), whole));
}

TEST_CASE("sse_parser joins multiple data lines with LF and keeps empty ones", "[sse]") {
    const auto events = events_of("data: one\ndata\ndata:\ndata: four\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "one\n\n\nfour");
}

TEST_CASE("sse_parser removes exactly one space after the colon", "[sse]") {
    const auto events = events_of("data:no-space\n\ndata:  two spaces\n\ndata:\tTab\n\n");
    REQUIRE(events.size() == 3);
    CHECK(events[0].data == "no-space");
    CHECK(events[1].data == " two spaces");
    CHECK(events[2].data == "\tTab");
}

TEST_CASE("sse_parser dispatches an event whose only data line is empty", "[sse]") {
    // The 2025-11-25 priming event: an id and an empty data field.
    const auto events = events_of("id: prime-1\ndata:\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data.empty());
    CHECK(events[0].id == "prime-1");
}

TEST_CASE("sse_parser does not dispatch an event without data lines", "[sse]") {
    const run_result r = run_whole("event: ping\n\nid: 5\n\nretry: 10\n\n");
    CHECK(r.events.empty());
    CHECK_FALSE(r.feed_error);
    CHECK_FALSE(r.finish_error);
    CHECK(r.last_event_id == "5");  // committed by the blank line even without dispatch
    CHECK(r.retry == milliseconds(10));

    // The event type does not leak into the next event.
    const auto events = events_of("event: ping\n\ndata: x\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == "message");
}

TEST_CASE("sse_parser ignores comments, unknown fields and wrong-case field names", "[sse]") {
    const auto events = events_of(": comment\n:\nfoo: bar\nData: no\nDATA: no\ndata: yes\n: between\n\n: lone\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "yes");
    CHECK(events[0].type == "message");
}

TEST_CASE("sse_parser sets the event type from the event field, else message", "[sse]") {
    const auto events = events_of("event: endpoint\ndata: /m\n\nevent:\ndata: y\n\nevent: a\nevent: b\ndata: z\n\n");
    REQUIRE(events.size() == 3);
    CHECK(events[0].type == "endpoint");
    CHECK(events[1].type == "message");
    CHECK(events[2].type == "b");
}

TEST_CASE("sse_parser keeps the last event id across events and ignores ids containing NUL", "[sse]") {
    const std::string stream = "id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n"s;
    REQUIRE(stream.find('\0') != std::string::npos);
    const run_result r = run_whole(stream);
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[0].id == "1");
    CHECK(r.events[1].id == "1");  // persists
    CHECK(r.events[2].id == "1");  // the NUL id was ignored
    CHECK(r.events[3].id.empty());  // an empty id resets it
    CHECK(r.last_event_id.empty());
}

TEST_CASE("sse_parser commits an id only when its event ends", "[sse]") {
    sse_parser parser;
    std::error_code ec;
    const auto ignore = [](sse_event&) {};
    parser.feed("id: 1\ndata: a\n\n", ignore, ec);
    REQUIRE(parser.last_event_id() == "1");
    parser.feed("id: 2\ndata: b\n", ignore, ec);
    CHECK(parser.last_event_id() == "1");
    parser.finish(ec);  // cut before the blank line: id 2 never arrived as far as resumption goes
    CHECK(ec == sse_error::end_of_stream_mid_event);
    CHECK(parser.last_event_id() == "1");
    // A resumed stream starts from the committed id.
    parser.feed("data: c\n\n", ignore, ec);
    CHECK(parser.last_event_id() == "1");
}

TEST_CASE("sse_parser accepts retry with ASCII digits only", "[sse]") {
    const run_result r =
        run_whole("retry: 1000\ndata: a\n\nretry: 10a\ndata: b\n\nretry: -5\nretry:  7\nretry:\n"
                  "retry: +3\nretry: 1.5\ndata: c\n\nretry: 0250\ndata: d\n\n");
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[0].retry == milliseconds(1000));
    CHECK_FALSE(r.events[1].retry.has_value());
    CHECK_FALSE(r.events[2].retry.has_value());
    CHECK(r.events[3].retry == milliseconds(250));
    CHECK(r.retry == milliseconds(250));

    const run_result only_bad = run_whole("retry: soon\ndata: a\n\n");
    CHECK_FALSE(only_bad.retry.has_value());
}

TEST_CASE("sse_parser keeps the latest retry as parser state", "[sse]") {
    const run_result r = run_whole("retry: 5\ndata: a\n\ndata: b\n\n");
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0].retry == milliseconds(5));
    CHECK_FALSE(r.events[1].retry.has_value());  // on the event only where it was sent
    CHECK(r.retry == milliseconds(5));
}

TEST_CASE("sse_parser saturates a huge retry so that it converts to nanoseconds safely", "[sse]") {
    const run_result r = run_whole("retry: 99999999999999999999999999999999\ndata: a\n\n");
    REQUIRE(r.retry.has_value());
    CHECK(*r.retry == sse_parser::max_retry);
    CHECK(std::chrono::duration_cast<std::chrono::nanoseconds>(*r.retry).count() > 0);
}

TEST_CASE("sse_parser ignores one leading BOM, only at the start of the stream", "[sse]") {
    const auto with_bom = events_of("\xEF\xBB\xBF" "data: x\n\n");
    REQUIRE(with_bom.size() == 1);
    CHECK(with_bom[0].data == "x");

    // A second BOM is content: it makes the field name "\xEF\xBB\xBF" "data", an unknown field.
    CHECK(events_of("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n").empty());

    // Later in the stream a BOM is just data.
    const auto mid = events_of("data: a\n\ndata: \xEF\xBB\xBF\n\n");
    REQUIRE(mid.size() == 2);
    CHECK(mid[1].data == "\xEF\xBB\xBF");

    // A BOM split over three chunks is still recognised.
    const run_result split = run({"\xEF", "\xBB", "\xBF" "data: y\n\n"});
    REQUIRE(split.events.size() == 1);
    CHECK(split.events[0].data == "y");
}

TEST_CASE("sse_parser keeps the bytes of a BOM prefix that turns out not to be a BOM", "[sse]") {
    // The bytes stay in the field name, so these "data" lines are unknown fields.
    CHECK(events_of("\xEF\xBB" "data: x\n\n").empty());
    CHECK(events_of("\xEF" "data: x\n\n").empty());
    CHECK(run({"\xEF\xBB", "data: x\n\n"}).events.empty());
    const auto after = events_of("\xEF\xBB\n\ndata: y\n\n");
    REQUIRE(after.size() == 1);
    CHECK(after[0].data == "y");

    sse_parser parser;
    std::error_code ec;
    const auto ignore = [](sse_event&) {};
    parser.feed("\xEF\xBB", ignore, ec);
    REQUIRE_FALSE(ec);
    parser.finish(ec);
    CHECK(ec == sse_error::end_of_stream_mid_event);  // those bytes started a line

    parser.feed("\xEF\xBB\xBF", ignore, ec);
    parser.finish(ec);
    CHECK_FALSE(ec);  // a BOM alone is no event

    sse_limits one_byte_lines;
    one_byte_lines.max_line_size = 1;
    sse_parser tight(one_byte_lines);
    tight.feed("\xEF\xBBX", ignore, ec);
    CHECK(ec == sse_error::line_too_long);
}

TEST_CASE("sse_parser rejects a line longer than max_line_size, and only then", "[sse]") {
    sse_limits limits;
    limits.max_line_size = 10;

    const run_result at_limit = run_whole("data: 1234\n\n", limits);  // 10 bytes
    CHECK_FALSE(at_limit.feed_error);
    REQUIRE(at_limit.events.size() == 1);

    const run_result over = run_whole("data: 12345\n\n", limits);  // 11 bytes
    CHECK(over.feed_error == sse_error::line_too_long);
    CHECK(over.events.empty());

    // Comments count too: a server cannot make the parser buffer an endless comment.
    CHECK(run_whole(": 0123456789\n\n", limits).feed_error == sse_error::line_too_long);

    // Detected across chunks, before the line ends: nothing unbounded is buffered.
    sse_parser parser(limits);
    std::error_code ec;
    const auto ignore = [](sse_event&) {};
    parser.feed("data: ", ignore, ec);
    REQUIRE_FALSE(ec);
    parser.feed("1234", ignore, ec);
    REQUIRE_FALSE(ec);
    parser.feed("5", ignore, ec);
    CHECK(ec == sse_error::line_too_long);
}

TEST_CASE("sse_parser rejects an event whose data exceeds max_event_size, and only then", "[sse]") {
    sse_limits limits;
    limits.max_event_size = 5;

    const run_result at_limit = run_whole("data: ab\ndata: cd\n\n", limits);  // "ab\ncd" = 5
    CHECK_FALSE(at_limit.feed_error);
    REQUIRE(at_limit.events.size() == 1);
    CHECK(at_limit.events[0].data == "ab\ncd");

    const run_result over = run_whole("data: ab\ndata: cde\n\n", limits);
    CHECK(over.feed_error == sse_error::event_too_large);
    CHECK(over.events.empty());

    // The limit is per event: many small events are fine.
    std::string many;
    for (int i = 0; i < 100; ++i) many += "data: abcde\n\n";
    const run_result r = run_whole(many, limits);
    CHECK_FALSE(r.feed_error);
    CHECK(r.events.size() == 100);

    // Many empty data lines grow the event by their newlines and are caught as well.
    std::string empties;
    for (int i = 0; i < 10; ++i) empties += "data\n";
    CHECK(run_whole(empties + "\n", limits).feed_error == sse_error::event_too_large);
}

TEST_CASE("sse_parser keeps an error until finish or reset", "[sse]") {
    sse_limits limits;
    limits.max_line_size = 4;
    sse_parser parser(limits);
    std::vector<sse_event> events;
    std::error_code ec;
    const auto on_event = [&](sse_event& e) { events.push_back(e); };

    parser.feed("data: too long\n\n", on_event, ec);
    REQUIRE(ec == sse_error::line_too_long);
    CHECK(parser.failed());

    const std::size_t consumed = parser.feed("\n\n", on_event, ec);
    CHECK(ec == sse_error::line_too_long);
    CHECK(consumed == 0);

    parser.finish(ec);
    CHECK(ec == sse_error::line_too_long);  // finish reports it too...
    CHECK_FALSE(parser.failed());           // ...and starts a new stream

    parser.feed("id:1\n", on_event, ec);
    CHECK_FALSE(ec);
    parser.reset();
    parser.feed("data\n\n", on_event, ec);
    CHECK_FALSE(ec);
    CHECK(events.size() == 1);
}

TEST_CASE("sse_parser reports a stream cut in the middle of an event", "[sse]") {
    SECTION("inside a line") {
        const run_result r = run_whole("data: a\n\ndata: b");
        CHECK_FALSE(r.feed_error);
        CHECK(r.finish_error == sse_error::end_of_stream_mid_event);
        CHECK(r.events.size() == 1);  // the partial event is never dispatched
    }
    SECTION("after a field line, before the blank line") {
        const run_result r = run_whole("data: a\n\ndata: b\n");
        CHECK(r.finish_error == sse_error::end_of_stream_mid_event);
        CHECK(r.events.size() == 1);
    }
    SECTION("after an unknown field") {
        CHECK(run_whole("data: a\n\nfoo\n").finish_error == sse_error::end_of_stream_mid_event);
    }
    SECTION("not after a complete event or after comments only") {
        CHECK_FALSE(run_whole("data: a\n\n").finish_error);
        CHECK_FALSE(run_whole("data: a\r\n\r\n").finish_error);
        CHECK_FALSE(run_whole("data: a\n\n: keep-alive\n").finish_error);
        CHECK_FALSE(run_whole("").finish_error);
    }
}

TEST_CASE("sse_parser can read a resumed stream after finish, keeping id and retry", "[sse]") {
    sse_parser parser;
    std::vector<sse_event> events;
    std::error_code ec;
    const auto on_event = [&](sse_event& e) { events.push_back(e); };
    parser.feed("id: 9\nretry: 100\ndata: a\n\ndata: partial", on_event, ec);
    parser.finish(ec);
    CHECK(ec == sse_error::end_of_stream_mid_event);
    CHECK(parser.last_event_id() == "9");
    CHECK(parser.retry() == milliseconds(100));

    // The new stream may start with a BOM again, and the partial line is gone.
    parser.feed("\xEF\xBB\xBF" "data: b\n\n", on_event, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(events.size() == 2);
    CHECK(events[1].data == "b");
    CHECK(events[1].id == "9");

    parser.reset();
    CHECK(parser.last_event_id().empty());
    CHECK_FALSE(parser.retry().has_value());
}

TEST_CASE("sse_parser stops after an event when the handler returns false", "[sse]") {
    sse_parser parser;
    std::vector<std::string> seen;
    std::error_code ec;
    const std::string_view stream = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    const auto first_only = [&](sse_event& e) {
        seen.push_back(std::move(e.data));
        return false;
    };
    const std::size_t consumed = parser.feed(stream, first_only, ec);
    REQUIRE_FALSE(ec);
    CHECK(consumed == 9);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] == "1");

    // The rest can be fed later; the moved-from data does not leak into the next event.
    const std::size_t rest = parser.feed(stream.substr(consumed), [&](sse_event& e) {
        seen.push_back(e.data);
        return true;
    }, ec);
    CHECK(rest == stream.size() - consumed);
    CHECK(seen == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("sse_parser starts the next event clean when the handler throws", "[sse]") {
    sse_parser parser;
    std::error_code ec;
    CHECK_THROWS_AS(parser.feed("data: a\n\n", [](sse_event&) { throw 42; }, ec), int);
    std::vector<sse_event> events;
    parser.feed("data: b\n\n", [&](sse_event& e) { events.push_back(e); }, ec);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "b");
}

TEST_CASE("sse_parser throwing overloads throw system_error with the sse_error", "[sse]") {
    sse_limits limits;
    limits.max_line_size = 2;
    sse_parser parser(limits);
    try {
        parser.feed("data: x\n", [](const sse_event&) {});
        FAIL("feed did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == sse_error::line_too_long);
    }
    sse_parser p2;
    p2.feed("data: x", [](const sse_event&) {});
    CHECK_THROWS_AS(p2.finish(), std::system_error);
    CHECK_NOTHROW(p2.finish());  // the first finish started a new stream
}

TEST_CASE("sse_error values have a named category and distinct messages", "[sse]") {
    const std::error_code a = sse_error::line_too_long;
    const std::error_code b = sse_error::event_too_large;
    const std::error_code c = sse_error::end_of_stream_mid_event;
    CHECK(std::string(a.category().name()) == "mcp_recovery.beast.sse");
    CHECK(a.category() == mcp_recovery::beast::sse_category());
    CHECK(a.message().find("line") != std::string::npos);
    CHECK(b.message().find("event") != std::string::npos);
    CHECK(c.message().find("ended") != std::string::npos);
    CHECK(a.message() != b.message());
    CHECK(b.message() != c.message());
    CHECK(static_cast<bool>(a));
}
