// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_IDEMPOTENCY_HPP
#define MCP_RECOVERY_IDEMPOTENCY_HPP

#include "mcp_recovery/failure.hpp"

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace mcp_recovery {

/// Whether running a request twice has the same effect as running it once.
///
/// Only idempotent requests may be replayed when a failure leaves it unknown whether the server
/// executed them (`delivery::unknown`). `automatic` derives it from the method and the tool's
/// annotations; the other two are a caller's override, which always wins.
enum class idempotency : unsigned char {
    automatic,
    idempotent,
    non_idempotent,
};

/// A tool's behaviour hints, as the server announced them in `tools/list` (`annotations`).
///
/// Either hint set to true makes a `tools/call` of that tool idempotent. Hints come from the
/// server: trust them only as far as you trust the server.
struct tool_annotations {
    bool read_only_hint = false;   ///< `readOnlyHint`: the tool does not modify its environment.
    bool idempotent_hint = false;  ///< `idempotentHint`: repeated calls have no additional effect.
};

/// Whether an MCP method is idempotent by nature (a `tools/call` is not: see `tool_annotations`).
///
/// `initialize`, `ping`, every `*/list`, `resources/read`, `prompts/get`, `completion/complete`
/// and `logging/setLevel` (it sets a value) are. Unknown methods are not.
constexpr bool is_idempotent_method(std::string_view method) noexcept {
    constexpr std::string_view list_suffix = "/list";
    if (method.size() > list_suffix.size() &&
        method.substr(method.size() - list_suffix.size()) == list_suffix)
        return true;
    return method == "initialize" || method == "ping" || method == "resources/read" ||
           method == "prompts/get" || method == "completion/complete" || method == "logging/setLevel";
}

/// Resolve a request's idempotency: an explicit override wins; else the method decides, and for
/// `tools/call` the tool's annotations (when known) do.
constexpr bool resolve_idempotency(idempotency override_value, std::optional<std::string_view> method,
                                   const std::optional<tool_annotations>& annotations) noexcept {
    if (override_value == idempotency::idempotent) return true;
    if (override_value == idempotency::non_idempotent) return false;
    if (!method) return false;
    if (*method == "tools/call")
        return annotations && (annotations->read_only_hint || annotations->idempotent_hint);
    return is_idempotent_method(*method);
}

/// The replay rule: a request may be sent again only if it cannot run twice.
constexpr bool is_replay_safe(delivery d, bool idempotent) noexcept {
    return d == delivery::not_sent || d == delivery::rejected || idempotent;
}

/// Customization point that tells the library a request's JSON-RPC method.
///
/// The primary template finds a data member `method` or a member function `method()` convertible
/// to `std::string_view`. Specialize it for request types that keep the method elsewhere:
///
///     template <> struct mcp_recovery::request_traits<my_request> {
///         static std::string_view method(const my_request& r) { return r.rpc_name(); }
///     };
///
/// Without a method, a request counts as non-idempotent unless a call says otherwise.
template <class Request, class = void>
struct request_traits {};

template <class Request>
struct request_traits<Request, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Request&>().method),
                                                                          std::string_view>>> {
    static std::string_view method(const Request& r) noexcept { return r.method; }
};

template <class Request>
struct request_traits<Request, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Request&>().method()),
                                                                          std::string_view>>> {
    static std::string_view method(const Request& r) noexcept(noexcept(r.method())) { return r.method(); }
};

namespace detail {
template <class Request, class = void>
struct has_request_method : std::false_type {};
template <class Request>
struct has_request_method<Request, std::void_t<decltype(request_traits<Request>::method(std::declval<const Request&>()))>>
    : std::true_type {};
}  // namespace detail

/// The request's method through `request_traits`, or nothing when the type does not tell it.
template <class Request>
std::optional<std::string_view> method_of(const Request& r) {
    if constexpr (detail::has_request_method<Request>::value)
        return std::string_view(request_traits<Request>::method(r));
    else
        return std::nullopt;
}

}  // namespace mcp_recovery

#endif
