// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_WIRE_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_WIRE_HPP

/// Writing HTTP/1.1 and SSE by hand, as `flaky_server` frames its answers: status lines, header
/// fields (no header injection), chunks, `text/event-stream` heads, events and priming events.

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

// Also first: Boost 1.74's http/status.ipp writes to a std::ostream without including <ostream>.
#include <ostream>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast::testing::detail {

namespace http = ::boost::beast::http;

inline std::string_view to_std(::boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

inline void append_status_line(std::string& out, unsigned status) {
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    const auto reason = http::obsolete_reason(http::int_to_status(status));
    out.append(reason.data(), reason.size());
    out += "\r\n";
}

inline void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    for (const char c : value) out += (c == '\r' || c == '\n') ? ' ' : c;  // no header injection
    out += "\r\n";
}

inline void append_chunk(std::string& out, std::string_view data) {
    static constexpr char hex[] = "0123456789abcdef";
    char size[2 * sizeof(std::size_t)];
    std::size_t n = 0;
    std::size_t v = data.size();
    do {
        size[n++] = hex[v & 0xF];
        v >>= 4;
    } while (v != 0);
    while (n != 0) out += size[--n];
    out += "\r\n";
    out += data;
    out += "\r\n";
}

inline void append_sse_event(std::string& out, std::string_view event_id, std::string_view json) {
    out += "event: message\nid: ";
    out += event_id;
    out += '\n';
    // One data line per line of the payload, so that a newline cannot end the event early.
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = json.find('\n', start);
        out += "data: ";
        out += json.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        out += '\n';
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    out += '\n';
}

inline void append_sse_event(std::string& out, std::uint64_t event_id, std::string_view json) {
    append_sse_event(out, std::to_string(event_id), json);
}

// A priming event: an id and empty data (no event type), so that a client can resume from it.
inline void append_priming_event(std::string& out, std::string_view event_id,
                                 std::optional<std::chrono::milliseconds> retry) {
    out += "id: ";
    out += event_id;
    out += '\n';
    if (retry) {
        out += "retry: ";
        out += std::to_string(std::max<std::chrono::milliseconds::rep>(0, retry->count()));
        out += '\n';
    }
    out += "data:\n\n";
}

inline void append_sse_head(std::string& out, bool http11, bool keep_alive, std::string_view session_id = {}) {
    append_status_line(out, 200);
    if (!session_id.empty()) append_field(out, "Mcp-Session-Id", session_id);
    append_field(out, "Content-Type", "text/event-stream");
    append_field(out, "Cache-Control", "no-cache");
    if (http11) {
        append_field(out, "Transfer-Encoding", "chunked");
        if (!keep_alive) append_field(out, "Connection", "close");
    } else {
        append_field(out, "Connection", "close");
    }
    out += "\r\n";
}

}  // namespace mcp_recovery::beast::testing::detail

#endif
