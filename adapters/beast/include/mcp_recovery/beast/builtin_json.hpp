// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_BUILTIN_JSON_HPP
#define MCP_RECOVERY_BEAST_BUILTIN_JSON_HPP

/// `builtin_json`: the strict, bounded JSON reader shipped with the library, a `json_policy`.
/// Standard library only.

#include "mcp_recovery/beast/detail/json_reader.hpp"
#include "mcp_recovery/beast/json_policy.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace mcp_recovery::beast {

/// The JSON reader shipped with the library: strict RFC 8259, bounded, no DOM; a `json_policy`.
///
/// It validates the whole document (trailing characters, leading zeros, `+1`, bad escapes, lone
/// surrogates, unescaped control characters, a BOM, comments and non-JSON whitespace are all
/// rejected) and keeps only the envelope fields; other values are checked and skipped without
/// recursion and without allocation (nesting beyond 128 levels needs a few bytes, bounded by
/// `max_depth`). Strings must be well-formed UTF-8: invalid UTF-8 is rejected, never passed through.
/// Duplicate keys: the last one wins (a later `error` object replaces an earlier one entirely).
/// `"error": null` counts as no error (some servers send it beside a result).
/// A top-level array (batch) gives `batch_not_supported` once it is known to be valid JSON.
/// Not thread-safe (it remembers the last error); cheap to copy, so use one per thread.
class builtin_json {
public:
    builtin_json() = default;
    explicit builtin_json(json_limits limits) noexcept : limits_(limits) {}

    /// Reads `body` into `out`; on failure returns false, sets `ec` (a `json_error`) and leaves
    /// `out` partly filled, not to be used. `error_offset()` then says where the problem is.
    bool parse(std::string_view body, envelope& out, std::error_code& ec) {
        detail::json_reader reader(limits_, body, stack_);
        if (reader.parse(out)) {
            ec = {};
            error_ = {};
            error_offset_ = 0;
            error_detail_ = "";
            return true;
        }
        error_ = make_error_code(reader.error());
        ec = error_;
        error_offset_ = reader.error_offset();
        error_detail_ = reader.error_detail();
        return false;
    }

    /// As above, but throws `std::system_error` carrying `error_description()`.
    void parse(std::string_view body, envelope& out) {
        std::error_code ec;
        if (!parse(body, out, ec)) throw std::system_error(ec, error_description());
    }

    const json_limits& limits() const noexcept { return limits_; }

    /// The last `parse` error, or an empty code after a success.
    std::error_code error() const noexcept { return error_; }

    /// Byte offset in the document where the last error was found (0 after a success).
    std::size_t error_offset() const noexcept { return error_offset_; }

    /// A static phrase refining the last error, e.g. "expected ':'"; empty after a success.
    std::string_view error_detail() const noexcept { return error_detail_; }

    /// E.g. "JSON syntax error at offset 17: expected ':'"; empty after a success.
    std::string error_description() const {
        if (!error_) return {};
        std::string s = error_.message();
        s += " at offset ";
        s += std::to_string(error_offset_);
        if (*error_detail_ != '\0') {
            s += ": ";
            s += error_detail_;
        }
        return s;
    }

private:
    json_limits limits_{};
    detail::bit_stack stack_;
    std::error_code error_;
    std::size_t error_offset_ = 0;
    const char* error_detail_ = "";
};

}  // namespace mcp_recovery::beast

#endif
