// Fuzz target for mcp_recovery::beast::sse_parser.
//
// Build and run (libFuzzer):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iadapters/beast/include -Iinclude \
//       tests/fuzz/fuzz_sse.cpp -o /tmp/fuzz_sse && /tmp/fuzz_sse -dict=tests/fuzz/sse.dict -max_total_time=60
//
// Besides "no crash, no leak, no UB", it checks that chunking never changes the outcome: the
// input fed whole, split in two at a data-derived point, split into many small chunks, one byte
// at a time, and with a handler that stops after every event must all give identical events,
// errors, last event id and retry; and that every event respects the limits.
#include <mcp_recovery/beast/sse.hpp>

#include <chrono>
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mcp_recovery::beast::sse_error;
using mcp_recovery::beast::sse_event;
using mcp_recovery::beast::sse_limits;
using mcp_recovery::beast::sse_parser;

struct outcome {
    std::vector<sse_event> events;
    std::error_code feed_error;
    std::error_code finish_error;
    std::string last_event_id;
    std::optional<std::chrono::milliseconds> retry;
};

bool same_event(const sse_event& a, const sse_event& b) {
    return a.type == b.type && a.data == b.data && a.id == b.id && a.retry == b.retry;
}

bool operator==(const outcome& a, const outcome& b) {
    if (a.events.size() != b.events.size()) return false;
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        if (!same_event(a.events[i], b.events[i])) return false;
    }
    return a.feed_error == b.feed_error && a.finish_error == b.finish_error &&
           a.last_event_id == b.last_event_id && a.retry == b.retry;
}

void check_event(const sse_event& e, const sse_limits& limits) {
    FUZZ_CHECK(!e.type.empty());
    FUZZ_CHECK(e.type == "message" || e.type.size() <= limits.max_line_size);  // "message" is the default
    FUZZ_CHECK(e.id.size() <= limits.max_line_size);
    FUZZ_CHECK(e.data.size() <= limits.max_event_size);
    FUZZ_CHECK(e.id.find('\0') == std::string::npos);
    if (e.retry) {
        FUZZ_CHECK(e.retry->count() >= 0);
        FUZZ_CHECK(*e.retry <= sse_parser::max_retry);
    }
}

// Feeds the chunks in order; with `stop_each`, the handler stops after every event and the rest
// of the chunk is fed again, as a transport that pauses between events would.
outcome run(std::string_view input, const std::vector<std::size_t>& cuts, const sse_limits& limits,
            bool stop_each) {
    sse_parser parser(limits);
    outcome out;
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= cuts.size() && !out.feed_error; ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
        std::string_view chunk = input.substr(begin, end - begin);
        begin = end;
        for (;;) {
            std::size_t events_before = out.events.size();
            const std::size_t consumed = parser.feed(
                chunk,
                [&](sse_event& e) {
                    check_event(e, limits);
                    out.events.push_back(e);
                    return !stop_each;
                },
                out.feed_error);
            FUZZ_CHECK(consumed <= chunk.size());
            if (out.feed_error) {
                FUZZ_CHECK(out.feed_error == sse_error::line_too_long ||
                           out.feed_error == sse_error::event_too_large);
                FUZZ_CHECK(parser.failed());
                break;
            }
            if (!stop_each) FUZZ_CHECK(consumed == chunk.size());
            if (consumed < chunk.size()) FUZZ_CHECK(out.events.size() == events_before + 1);
            if (consumed == chunk.size()) break;
            chunk.remove_prefix(consumed);
        }
    }
    const std::error_code sticky = out.feed_error;
    parser.finish(out.finish_error);
    if (sticky) FUZZ_CHECK(out.finish_error == sticky);
    else if (out.finish_error) FUZZ_CHECK(out.finish_error == sse_error::end_of_stream_mid_event);
    FUZZ_CHECK(!parser.failed());
    out.last_event_id = parser.last_event_id();
    out.retry = parser.retry();
    FUZZ_CHECK(out.last_event_id.size() <= limits.max_line_size);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    // Three bytes of configuration, then the stream.
    const unsigned line_choice = data[0];
    const unsigned event_choice = data[1];
    const unsigned split_choice = data[2];
    const std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

    sse_limits limits;
    if (line_choice < 128) limits.max_line_size = line_choice % 64;  // tiny limits hit the error paths
    if (event_choice < 128) limits.max_event_size = event_choice % 64;

    const outcome whole = run(input, {}, limits, false);

    const std::size_t k = input.empty() ? 0 : (split_choice * 257u + input.size() / 2) % (input.size() + 1);
    FUZZ_CHECK(run(input, {k}, limits, false) == whole);

    std::vector<std::size_t> small;  // chunks of 1..7 bytes, sizes taken from the data itself
    for (std::size_t at = 0, i = 0; at < input.size(); ++i) {
        at += 1 + static_cast<unsigned char>(input[i % input.size()]) % 7;
        if (at < input.size()) small.push_back(at);
    }
    FUZZ_CHECK(run(input, small, limits, false) == whole);
    FUZZ_CHECK(run(input, small, limits, true) == whole);

    if (input.size() <= 512) {
        std::vector<std::size_t> bytes;
        for (std::size_t i = 1; i < input.size(); ++i) bytes.push_back(i);
        FUZZ_CHECK(run(input, bytes, limits, false) == whole);
    }

    // A fresh parser after reset() behaves like a new one.
    sse_parser reused(limits);
    std::error_code ec;
    reused.feed(input, [](sse_event&) {}, ec);
    reused.reset();
    outcome again;
    reused.feed(input, [&](sse_event& e) { again.events.push_back(e); }, again.feed_error);
    reused.finish(again.finish_error);
    again.last_event_id = reused.last_event_id();
    again.retry = reused.retry();
    FUZZ_CHECK(again == whole);
    return 0;
}
