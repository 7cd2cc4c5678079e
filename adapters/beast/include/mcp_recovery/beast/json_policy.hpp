// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_JSON_POLICY_HPP
#define MCP_RECOVERY_BEAST_JSON_POLICY_HPP

/// The JSON-RPC 2.0 envelope of an MCP message, what can go wrong reading one (`json_error`), the
/// bounds of a reader (`json_limits`), and the `json_policy` concept that lets users plug in their
/// own JSON library. Standard library only. The built-in reader is in `builtin_json.hpp`.

#include "mcp_recovery/config.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery::beast {

/// Why a JSON body was not accepted as a JSON-RPC envelope.
enum class json_error {
    syntax_error = 1,     ///< Not JSON: unexpected character, missing `,` `:` or key, trailing characters.
    unexpected_end,       ///< The document ends inside a value: a truncated body.
    invalid_number,       ///< A number breaks RFC 8259: leading zero, `+`, missing digits.
    invalid_escape,       ///< A string has an unknown escape, bad `\u` hex digits or a lone surrogate.
    invalid_utf8,         ///< A string holds bytes that are not well-formed UTF-8.
    control_character,    ///< A string holds an unescaped control character (U+0000..U+001F).
    too_deep,             ///< Arrays and objects nest deeper than `json_limits::max_depth`.
    document_too_large,   ///< The document is longer than `json_limits::max_document_size`.
    field_too_large,      ///< `jsonrpc`, `id`, `method` or `result.protocolVersion` exceeds `max_field_size`.
    not_an_object,        ///< Valid JSON, but the top-level value is not an object.
    batch_not_supported,  ///< Valid JSON, but a top-level array: a JSON-RPC batch.
    invalid_field_type,   ///< An envelope field has the wrong type (e.g. `id` is an object, `error.code` not an integer).
    number_out_of_range,  ///< `error.code` is an integer that does not fit `std::int64_t`.
};

}  // namespace mcp_recovery::beast

namespace std {
template <>
struct is_error_code_enum<mcp_recovery::beast::json_error> : true_type {};
}  // namespace std

namespace mcp_recovery::beast {

namespace detail {

class json_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.beast.json"; }

    std::string message(int ev) const override {
        switch (static_cast<json_error>(ev)) {
        case json_error::syntax_error: return "JSON syntax error";
        case json_error::unexpected_end: return "JSON document ends unexpectedly (truncated)";
        case json_error::invalid_number: return "invalid JSON number";
        case json_error::invalid_escape: return "invalid escape sequence in JSON string";
        case json_error::invalid_utf8: return "invalid UTF-8 in JSON string";
        case json_error::control_character: return "unescaped control character in JSON string";
        case json_error::too_deep: return "JSON nesting exceeds the depth limit";
        case json_error::document_too_large: return "JSON document exceeds the size limit";
        case json_error::field_too_large: return "JSON-RPC envelope field exceeds the field size limit";
        case json_error::not_an_object: return "JSON document is not an object";
        case json_error::batch_not_supported: return "JSON-RPC batches (top-level arrays) are not supported";
        case json_error::invalid_field_type: return "JSON-RPC envelope field has the wrong type";
        case json_error::number_out_of_range: return "JSON-RPC error code out of range";
        }
        return "unknown JSON error";
    }
};

}  // namespace detail

/// The category of `json_error` values. One instance per program.
inline const std::error_category& json_category() noexcept {
    static const detail::json_category_impl category;
    return category;
}

inline std::error_code make_error_code(json_error e) noexcept {
    return {static_cast<int>(e), json_category()};
}

/// The JSON type of an envelope's `id`.
enum class json_id_kind : unsigned char {
    absent,   ///< No `id` member: a notification, or an error response such as a 400 without an id.
    null,     ///< `"id": null`.
    string,   ///< A JSON string.
    integer,  ///< An integer that fits `std::int64_t`: see `envelope::id_integer`.
    number,   ///< Any other number (fraction, exponent, or too large): only the raw text is kept.
};

/// The JSON-RPC 2.0 fields of one MCP message that a transport needs; plain data.
///
/// A message with `method` is a server request (with an id) or notification (without); one with
/// `result` or `error` is a response. The reader does not check these combinations, nor that
/// `jsonrpc` is "2.0": that is the transport's decision, made from these fields.
struct envelope {
    /// The `jsonrpc` member, decoded; "2.0" in a conforming message.
    std::optional<std::string> jsonrpc;
    json_id_kind id_kind = json_id_kind::absent;
    /// The id exactly as the document spelled it: a string with its quotes and escapes, the number's
    /// text, or `null`; empty when absent. Write it back verbatim to answer a server request.
    std::string id_raw;
    /// The id's value when `id_kind == json_id_kind::integer`, else 0.
    std::int64_t id_integer = 0;
    /// The `method` member, decoded.
    std::optional<std::string> method;
    /// Whether a `result` member is present (of any type).
    bool has_result = false;
    /// `result.protocolVersion` when `result` is an object holding that member as a string.
    std::optional<std::string> protocol_version;
    /// Whether an `error` member (an object) is present; `"error": null` counts as absent.
    bool has_error = false;
    /// `error.code`, when present.
    std::optional<std::int64_t> error_code;
    /// `error.message`, decoded, cut at a UTF-8 character boundary to `json_limits::max_message_size`.
    std::optional<std::string> error_message;
    /// Whether `error_message` was cut.
    bool error_message_truncated = false;
};

/// Whether the envelope's id is the integer `id`. A string id never matches, not even `"42"`.
inline bool id_equals(const envelope& e, std::int64_t id) noexcept {
    return e.id_kind == json_id_kind::integer && e.id_integer == id;
}

/// Bounds for `builtin_json`; each bounds time or memory, whatever the server sends.
struct json_limits {
    /// Longest document accepted, in bytes. Default 8 MiB (an MCP tool result may carry a file).
    std::size_t max_document_size = std::size_t{8} * 1024 * 1024;
    /// Deepest nesting of arrays and objects; the top-level object is depth 1. Default 64.
    std::size_t max_depth = 64;
    /// Longest `jsonrpc`, `method`, `result.protocolVersion` (decoded) and raw `id`. Default 1024.
    std::size_t max_field_size = 1024;
    /// Longest `error.message` kept (longer ones are cut, not rejected). Default 1024, as `failure_message`.
    std::size_t max_message_size = 1024;
};

/// Requirements of a JSON policy `P` (how the transport reads response bodies):
///
/// | Expression                  | Type                  | Semantics                                      |
/// |-----------------------------|-----------------------|------------------------------------------------|
/// | `p.parse(body, env, ec)`    | convertible to `bool` | Fill `env` from the JSON document `body`; on   |
/// |                             |                       | failure return false and set `ec` (non-empty). |
///
/// `p` is a `P&`, `body` a `std::string_view`, `env` an `envelope&`, `ec` a `std::error_code&`.
/// A static member function satisfies it. The policy must not throw for malformed input, must
/// bound its own time and memory, and must reset `env` (every field) before filling it; a
/// top-level array should be refused (e.g. with `json_error::batch_not_supported`).
/// Models: `builtin_json`. For nlohmann::json, parse with `allow_exceptions = false` and a depth
/// limit, then copy the fields into `env`.
template <class P, class = void>
struct is_json_policy : std::false_type {};

template <class P>
struct is_json_policy<P, std::void_t<decltype(static_cast<bool>(std::declval<P&>().parse(
                             std::declval<std::string_view>(), std::declval<envelope&>(),
                             std::declval<std::error_code&>())))>> : std::true_type {};

template <class P>
inline constexpr bool is_json_policy_v = is_json_policy<P>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// C++20 spelling of `is_json_policy`.
template <class P>
concept json_policy = requires(P& p, std::string_view body, envelope& env, std::error_code& ec) {
    { p.parse(body, env, ec) } -> std::convertible_to<bool>;
};
#endif

}  // namespace mcp_recovery::beast

#endif
