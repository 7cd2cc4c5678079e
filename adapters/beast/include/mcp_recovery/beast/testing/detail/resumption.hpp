// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_RESUMPTION_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_RESUMPTION_HPP

/// Event ids and resumable streams of `flaky_server`: the streams cut by
/// `fault::cut_stream_after_priming` kept for replay, the numeric and listening-stream
/// (`L<session>-<sequence>`) event ids, and what a resuming GET gets.

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/testing/detail/messages.hpp"
#include "mcp_recovery/beast/testing/detail/wire.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_recovery::beast::testing::detail {

// One event of a resumable stream: the priming event has no data.
struct stored_event {
    std::uint64_t id = 0;
    std::string data;
};

// A stream cut by `cut_stream_after_priming`, kept for resumption: the priming event,
// notifications, the response last.
struct stored_stream {
    std::vector<stored_event> events;
    std::optional<std::chrono::milliseconds> retry;
    std::size_t cuts_left = 0;  // resumptions still to cut
};

inline void append_stored_event(std::string& out, const stored_stream& stream, const stored_event& event) {
    if (!event.data.empty()) return append_sse_event(out, event.id, event.data);
    append_priming_event(out, std::to_string(event.id), stream.retry);
}

inline std::string stream_notification(std::size_t n, std::size_t total) {
    std::string s = R"({"jsonrpc":"2.0","method":"notifications/message",)"
                    R"("params":{"level":"info","logger":"flaky_server","data":"stream event )";
    s += std::to_string(n);
    s += " of ";
    s += std::to_string(total);
    s += R"("}})";
    return s;
}

// A `Last-Event-ID` as this server issues them: 1 to 19 ASCII digits.
inline std::optional<std::uint64_t> parse_event_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// A listening-stream event id: `L<session number>-<sequence>`, both 1 to 19 digits.
struct listen_event_id {
    std::uint64_t session_number = 0;
    std::uint64_t sequence = 0;
};

inline std::optional<listen_event_id> parse_listen_event_id(std::string_view text) noexcept {
    if (text.size() < 4 || text.front() != 'L') return std::nullopt;
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto number = parse_event_id(text.substr(1, dash - 1));
    const auto sequence = parse_event_id(text.substr(dash + 1));
    if (!number || !sequence) return std::nullopt;
    return listen_event_id{*number, *sequence};
}

inline std::string listen_event_name(std::uint64_t session_number, std::uint64_t sequence) {
    return "L" + std::to_string(session_number) + "-" + std::to_string(sequence);
}

/// What a GET gets: an HTTP answer, or a resumed stream (its events, and whether to cut it).
struct resumption_answer {
    std::optional<reply> refusal;
    std::string events;
    bool cut = false;
};

}  // namespace mcp_recovery::beast::testing::detail

#endif
