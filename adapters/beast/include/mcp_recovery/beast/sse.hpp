// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_SSE_HPP
#define MCP_RECOVERY_BEAST_SSE_HPP

/// Incremental `text/event-stream` (server-sent events) parser; standard library only.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace mcp_recovery::beast {

/// Why an `sse_parser` stopped reading a stream.
enum class sse_error {
    line_too_long = 1,        ///< A line exceeded `sse_limits::max_line_size`.
    event_too_large,          ///< An event's data exceeded `sse_limits::max_event_size`.
    end_of_stream_mid_event,  ///< The stream ended while an event was partly read: it was cut short.
};

}  // namespace mcp_recovery::beast

namespace std {
template <>
struct is_error_code_enum<mcp_recovery::beast::sse_error> : true_type {};
}  // namespace std

namespace mcp_recovery::beast {

namespace detail {

class sse_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.beast.sse"; }

    std::string message(int ev) const override {
        switch (static_cast<sse_error>(ev)) {
        case sse_error::line_too_long: return "server-sent event line exceeds the line size limit";
        case sse_error::event_too_large: return "server-sent event data exceeds the event size limit";
        case sse_error::end_of_stream_mid_event:
            return "the event stream ended in the middle of an event (stream cut short)";
        }
        return "unknown server-sent events error";
    }
};

}  // namespace detail

/// The category of `sse_error` values. One instance per program.
inline const std::error_category& sse_category() noexcept {
    static const detail::sse_category_impl category;
    return category;
}

inline std::error_code make_error_code(sse_error e) noexcept {
    return {static_cast<int>(e), sse_category()};
}

/// One dispatched server-sent event.
///
/// The parser hands the handler a reference to its own event object; the handler may move the
/// strings out. Everything is reset before the next event is read.
struct sse_event {
    /// The `event:` field, or `"message"` when the event had none (as the WHATWG rules say).
    std::string type;
    /// The `data:` lines joined with `"\n"`. Bytes are passed through: UTF-8 is not validated.
    std::string data;
    /// The last event id at dispatch: the latest `id:` of this stream so far (persists across events).
    std::string id;
    /// The `retry:` value given inside this event, if any (the parser keeps the latest in `retry()`).
    std::optional<std::chrono::milliseconds> retry;
};

/// Bounds on what one `sse_parser` buffers. Both bound memory, whatever the server sends.
struct sse_limits {
    /// Longest line accepted, in bytes, without its line ending (a `data:` line carries a whole
    /// JSON-RPC message in MCP, so this also bounds one message on one line). Default 8 MiB.
    std::size_t max_line_size = std::size_t{8} * 1024 * 1024;
    /// Most data one event may accumulate, in bytes, joining newlines included. Default 8 MiB.
    std::size_t max_event_size = std::size_t{8} * 1024 * 1024;
};

/// Incremental parser for one `text/event-stream`, fed chunks of any size and split.
///
/// Follows the WHATWG "event stream interpretation" rules: LF, CRLF and lone CR line endings
/// (a CRLF may be split across chunks), one leading UTF-8 BOM ignored, `:` comment lines ignored,
/// fields `data` / `event` / `id` / `retry` (others ignored, names case-sensitive), a line without a
/// colon is a field with an empty value, one optional space after the colon is removed, an event is
/// dispatched on a blank line and only when it had at least one `data` line. An `id` containing NUL
/// is ignored; the last event id persists across events and is committed on each blank line
/// (even when no event is dispatched). `retry` takes ASCII digits only; anything else is ignored.
///
/// Memory is bounded by `sse_limits`: the parser holds the current line, the event's data and
/// type, and ids, each within those limits. Exceeding a limit is an error (`sse_error`) that
/// sticks until `finish()` or `reset()`. The parser never validates UTF-8 and never blocks. Not
/// thread-safe, and not to be fed again from inside its own handler: one parser per stream. It
/// never throws except from the throwing overloads, from the handler, and `std::bad_alloc`.
class sse_parser {
public:
    /// Largest `retry` value: larger values saturate here, so converting it to nanoseconds cannot overflow.
    static constexpr std::chrono::milliseconds max_retry =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds::max());

    sse_parser() = default;
    explicit sse_parser(sse_limits limits) noexcept : limits_(limits) {}

    /// Parses `chunk`, calling `handler(sse_event&)` for each complete event.
    ///
    /// The handler returns `void`, or something convertible to `bool` where `false` stops parsing
    /// right after that event (feed the rest of the chunk later). Returns the number of bytes of
    /// `chunk` consumed: all of them unless the handler stopped or an error occurred. On error `ec`
    /// is set and the error sticks: later calls return it at once. If the handler throws, the
    /// exception propagates and the rest of the chunk is not parsed (that event counts as consumed).
    template <class Handler>
    std::size_t feed(std::string_view chunk, Handler&& handler, std::error_code& ec);

    /// As above, but throws `std::system_error` on error.
    template <class Handler>
    std::size_t feed(std::string_view chunk, Handler&& handler) {
        std::error_code ec;
        const std::size_t n = feed(chunk, std::forward<Handler>(handler), ec);
        if (ec) throw std::system_error(ec);
        return n;
    }

    /// Ends the stream: reports `end_of_stream_mid_event` if an event was partly read.
    ///
    /// "Partly read" means an unterminated line, or a field line since the last blank line (comment
    /// lines do not count). The partial event is discarded, never dispatched. A sticky error from
    /// `feed` is reported instead. Either way the parser is then ready for a new stream (a resumed
    /// one): the BOM check is re-armed, `last_event_id()` and `retry()` are kept.
    void finish(std::error_code& ec) noexcept {
        if (failed_) {
            ec = error_;
        } else if (!line_.empty() || event_pending_ || bom_matched_ != 0) {
            ec = make_error_code(sse_error::end_of_stream_mid_event);
        } else {
            ec = {};
        }
        clear_stream();
    }

    /// As above, but throws `std::system_error` on error (the parser is reset first).
    void finish() {
        std::error_code ec;
        finish(ec);
        if (ec) throw std::system_error(ec);
    }

    /// Forgets everything, including `last_event_id()`, `retry()` and any sticky error.
    void reset() noexcept {
        clear_stream();
        last_event_id_.clear();
        retry_.reset();
    }

    /// The id of the last blank-line-terminated event (empty if none): send it as `Last-Event-ID`.
    const std::string& last_event_id() const noexcept { return last_event_id_; }

    /// The latest reconnection time the server asked for with `retry:`, if any.
    std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }

    const sse_limits& limits() const noexcept { return limits_; }

    /// Whether a limit was exceeded; cleared by `finish()` and `reset()`.
    bool failed() const noexcept { return failed_; }

private:
    static constexpr unsigned char bom_[3] = {0xEF, 0xBB, 0xBF};

    void clear_stream() noexcept {
        line_.clear();
        event_.type.clear();
        event_.data.clear();
        event_.id.clear();
        event_.retry.reset();
        id_pending_ = false;
        has_data_ = false;
        event_pending_ = false;
        skip_lf_ = false;
        bom_done_ = false;
        bom_matched_ = 0;
        failed_ = false;
        error_ = {};
    }

    std::size_t fail(sse_error e, std::error_code& ec, std::size_t consumed) noexcept {
        failed_ = true;
        error_ = make_error_code(e);
        ec = error_;
        line_.clear();
        event_.data.clear();
        return consumed;
    }

    // Returns false when the handler asked to stop; sets ec on error.
    template <class Handler>
    bool process_line(std::string_view line, Handler& handler, std::error_code& ec);

    template <class Handler>
    bool dispatch(Handler& handler);

    void process_retry(std::string_view value) noexcept {
        if (value.empty()) return;
        std::chrono::milliseconds::rep ms = 0;
        constexpr auto cap = max_retry.count();
        for (const char c : value) {
            if (c < '0' || c > '9') return;
            const auto digit = static_cast<std::chrono::milliseconds::rep>(c - '0');
            ms = ms > (cap - digit) / 10 ? cap : ms * 10 + digit;
        }
        retry_ = std::chrono::milliseconds(ms);
        event_.retry = retry_;
    }

    sse_limits limits_{};
    std::string line_;           // the unterminated line carried over from the previous chunk
    sse_event event_;            // the event being built: type and data accumulate here
    std::string id_buffer_;      // latest valid `id:` value when id_pending_; committed on a blank line
    std::string last_event_id_;  // committed id
    std::optional<std::chrono::milliseconds> retry_;
    std::error_code error_;
    unsigned char bom_matched_ = 0;  // bytes of a possible leading BOM seen so far
    bool bom_done_ = false;          // past the point where a BOM may appear
    bool skip_lf_ = false;           // the last line ended with CR: an LF right after belongs to it
    bool id_pending_ = false;        // id_buffer_ holds an id not yet committed
    bool has_data_ = false;          // at least one `data` line in the current event
    bool event_pending_ = false;     // a field line was read since the last blank line
    bool failed_ = false;
};

template <class Handler>
std::size_t sse_parser::feed(std::string_view chunk, Handler&& handler, std::error_code& ec) {
    static_assert(std::is_invocable_v<Handler&, sse_event&>,
                  "sse_parser::feed: the handler must be callable as handler(sse_event&)");
    if (failed_) {
        ec = error_;
        return 0;
    }
    ec = {};
    const std::size_t n = chunk.size();
    std::size_t pos = 0;

    // Only one BOM, only at the very start; it may arrive split across chunks. A prefix of a BOM
    // followed by something else was content: it becomes the start of the first line.
    while (!bom_done_ && pos < n) {
        if (static_cast<unsigned char>(chunk[pos]) == bom_[bom_matched_]) {
            ++pos;
            if (++bom_matched_ == sizeof bom_) {
                bom_done_ = true;
                bom_matched_ = 0;
            }
        } else {
            bom_done_ = true;
            if (bom_matched_ != 0) {
                if (bom_matched_ > limits_.max_line_size) return fail(sse_error::line_too_long, ec, pos);
                line_.assign(reinterpret_cast<const char*>(bom_), bom_matched_);
                bom_matched_ = 0;
            }
        }
    }

    while (pos < n) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (chunk[pos] == '\n') {
                ++pos;
                continue;
            }
        }
        std::size_t end = pos;
        while (end < n && chunk[end] != '\n' && chunk[end] != '\r') ++end;
        const std::size_t len = end - pos;
        if (len > limits_.max_line_size - line_.size()) return fail(sse_error::line_too_long, ec, pos);
        if (end == n) {
            line_.append(chunk.data() + pos, len);
            return n;
        }
        skip_lf_ = chunk[end] == '\r';
        std::string_view line = chunk.substr(pos, len);
        if (!line_.empty()) {
            line_.append(line.data(), line.size());
            line = line_;
        }
        pos = end + 1;
        const bool keep_going = process_line(line, handler, ec);
        line_.clear();
        if (ec) return fail(static_cast<sse_error>(ec.value()), ec, pos);
        if (!keep_going) return pos;
    }
    return n;
}

template <class Handler>
bool sse_parser::process_line(std::string_view line, Handler& handler, std::error_code& ec) {
    if (line.empty()) return dispatch(handler);
    if (line.front() == ':') return true;

    std::string_view name = line;
    std::string_view value;
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        name = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    event_pending_ = true;

    if (name == "data") {
        std::string& data = event_.data;
        const std::size_t extra = value.size() + (has_data_ ? 1 : 0);
        if (extra > limits_.max_event_size - data.size()) {
            ec = make_error_code(sse_error::event_too_large);
            return false;
        }
        if (has_data_) data.push_back('\n');
        data.append(value.data(), value.size());
        has_data_ = true;
    } else if (name == "event") {
        event_.type.assign(value.data(), value.size());
    } else if (name == "id") {
        if (value.find('\0') == std::string_view::npos) {
            id_buffer_.assign(value.data(), value.size());
            id_pending_ = true;
        }
    } else if (name == "retry") {
        process_retry(value);
    }
    return true;
}

template <class Handler>
bool sse_parser::dispatch(Handler& handler) {
    if (id_pending_) {
        last_event_id_.swap(id_buffer_);
        id_pending_ = false;
    }
    event_pending_ = false;
    if (!has_data_) {
        event_.type.clear();
        event_.data.clear();
        event_.retry.reset();
        return true;
    }
    has_data_ = false;
    if (event_.type.empty()) event_.type = "message";
    event_.id = last_event_id_;

    // Runs even if the handler throws, so that the next event starts empty. The handler may have
    // moved from the strings: clear() makes them empty and reusable.
    struct clear_event {
        sse_event& e;
        ~clear_event() {
            e.type.clear();
            e.data.clear();
            e.retry.reset();
        }
    } guard{event_};
    if constexpr (std::is_void_v<std::invoke_result_t<Handler&, sse_event&>>) {
        handler(event_);
        return true;
    } else {
        return static_cast<bool>(handler(event_));
    }
}

}  // namespace mcp_recovery::beast

#endif
