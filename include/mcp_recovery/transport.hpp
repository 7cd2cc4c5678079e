// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_TRANSPORT_HPP
#define MCP_RECOVERY_TRANSPORT_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <cstdint>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

/// Transport requirements: what the recovering client needs from whatever carries requests.
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `T::request_type` | | what `send` takes |
/// | `T::response_type` | | what `send` produces |
/// | `t.send(req)` | `outcome<response_type>` | one attempt; I/O errors come back as a `failure` with the right `delivery`, not as exceptions |
/// | `t.reconnect()` | `outcome<void>` | tear down and open a new session (`initialize` with the first parameters, then `notifications/initialized`); on success `generation()` grows |
/// | `ct.generation()` | `std::uint64_t` | bumped by every successful (re)connect; safe to read while other threads call `send` |
///
/// Optional, used when present:
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `t.send(req, deadline)` | `outcome<response_type>` | as `send(req)`, bounded by `deadline` |
/// | `t.reconnect(deadline)` | `outcome<void>` | as `reconnect()`, and every step of it (`initialize`, `notifications/initialized`) bounded by `deadline` |
/// | `T::session_outlives_connection` | `static constexpr bool` | true: the session is not tied to a connection (Streamable HTTP), so a lost connection is recovered by opening a new one on the **same** session; false or absent: the session lives and dies with the connection or process (stdio, most wrapped clients) |
/// | `t.reopen(deadline)` | `outcome<void>` | with `session_outlives_connection`: open a connection to the server without touching the session (success: the server accepts connections again); `generation()` unchanged |
/// | `t.refresh_auth()` | `outcome<void>` | obtain new credentials after a 401 |
/// | `t.terminate()` | `outcome<void>` | end the session (HTTP DELETE) |
///
/// `send` and `generation` are called concurrently by every caller of one client; `reconnect` and
/// `refresh_auth` are called by one thread at a time per client (`recovering_client` serializes
/// them, and callers rejected with the same credentials share one refresh).
namespace detail {

// One trait per requirement, so that a diagnostic can name the one that is not met.
template <class T, class = void>
struct has_transport_types : std::false_type {};
template <class T>
struct has_transport_types<T, std::void_t<typename T::request_type, typename T::response_type>> : std::true_type {};

template <class T, class = void>
struct has_send : std::false_type {};
template <class T>
struct has_send<T, std::void_t<decltype(std::declval<T&>().send(std::declval<const typename T::request_type&>()))>>
    : std::is_convertible<decltype(std::declval<T&>().send(std::declval<const typename T::request_type&>())),
                          outcome<typename T::response_type>> {};

template <class T, class = void>
struct has_plain_reconnect : std::false_type {};
template <class T>
struct has_plain_reconnect<T, std::void_t<decltype(std::declval<T&>().reconnect())>>
    : std::is_convertible<decltype(std::declval<T&>().reconnect()), outcome<void>> {};

template <class T, class = void>
struct has_generation : std::false_type {};
template <class T>
struct has_generation<T, std::void_t<decltype(std::declval<const T&>().generation())>>
    : std::is_convertible<decltype(std::declval<const T&>().generation()), std::uint64_t> {};

template <class T>
struct is_transport_impl : std::bool_constant<has_transport_types<T>::value && has_send<T>::value &&
                                              has_plain_reconnect<T>::value && has_generation<T>::value> {};

/// `value` is `is_transport_v<T>`; instantiating it names the first requirement `T` misses in a
/// static_assert of its own (the C++17 diagnostics of `recovering_client`).
template <class T>
struct transport_requirements {
    static_assert(has_transport_types<T>::value, "Transport: needs member types request_type and response_type");
    static_assert(!has_transport_types<T>::value || has_send<T>::value,
                  "Transport: needs outcome<response_type> send(const request_type&)");
    static_assert(has_plain_reconnect<T>::value, "Transport: needs outcome<void> reconnect()");
    static_assert(has_generation<T>::value, "Transport: needs std::uint64_t generation() const");
    static constexpr bool value = is_transport_impl<T>::value;
};

template <class T, class = void>
struct has_deadline_send : std::false_type {};
template <class T>
struct has_deadline_send<T, std::void_t<decltype(std::declval<T&>().send(
                                std::declval<const typename T::request_type&>(), std::declval<time_point>()))>>
    : std::true_type {};

template <class T, class = void>
struct has_deadline_reconnect : std::false_type {};
template <class T>
struct has_deadline_reconnect<T, std::void_t<decltype(std::declval<T&>().reconnect(std::declval<time_point>()))>>
    : std::is_convertible<decltype(std::declval<T&>().reconnect(std::declval<time_point>())), outcome<void>> {};

/// Optional: `t.session_restored()`, called by a reconnector after the `on_reconnected` hook
/// succeeded on a new session (a transport that keeps a listening stream opens it then).
template <class T, class = void>
struct has_session_restored : std::false_type {};
template <class T>
struct has_session_restored<T, std::void_t<decltype(std::declval<T&>().session_restored())>> : std::true_type {};

/// Tells `t` that the application's state is restored on its new session, when it wants to know.
template <class T>
void notify_session_restored(T& t) {
    if constexpr (has_session_restored<T>::value) t.session_restored();
    else (void)t;
}

template <class T, class = void>
struct has_reopen : std::false_type {};
template <class T>
struct has_reopen<T, std::void_t<decltype(std::declval<T&>().reopen(std::declval<time_point>()))>>
    : std::is_convertible<decltype(std::declval<T&>().reopen(std::declval<time_point>())), outcome<void>> {};

template <class T, class = void>
struct session_outlives_connection : std::false_type {};
template <class T>
struct session_outlives_connection<T, std::void_t<decltype(T::session_outlives_connection)>>
    : std::bool_constant<static_cast<bool>(T::session_outlives_connection)> {};

template <class T, class = void>
struct has_refresh_auth : std::false_type {};
template <class T>
struct has_refresh_auth<T, std::void_t<decltype(std::declval<T&>().refresh_auth())>>
    : std::is_convertible<decltype(std::declval<T&>().refresh_auth()), outcome<void>> {};

template <class T, class = void>
struct has_terminate : std::false_type {};
template <class T>
struct has_terminate<T, std::void_t<decltype(std::declval<T&>().terminate())>>
    : std::is_convertible<decltype(std::declval<T&>().terminate()), outcome<void>> {};

}  // namespace detail

/// Whether `T` meets the Transport requirements (the first table above).
///
/// Models: `beast::streamable_http_transport`, `callable::basic_transport<...>`,
/// `callable::transport<Request, Response>`, `testing::scripted_transport`,
/// `testing::scripted_transport_without_auth`. Checked by `is_transport<T>` and, in C++20,
/// `concept transport<T>`.
template <class T>
struct is_transport : detail::is_transport_impl<T> {};
template <class T>
inline constexpr bool is_transport_v = is_transport<T>::value;

/// Whether the transport can refresh credentials (`refresh_auth()`).
template <class T>
inline constexpr bool has_refresh_auth_v = detail::has_refresh_auth<T>::value;
/// Whether the transport can end its session (`terminate()`).
template <class T>
inline constexpr bool has_terminate_v = detail::has_terminate<T>::value;
/// Whether the transport's session outlives its connections (`T::session_outlives_connection`):
/// then a lost connection is recovered on the same session, and a new session is opened only when
/// the server says the old one is gone. False when the member is absent.
template <class T>
inline constexpr bool session_outlives_connection_v = detail::session_outlives_connection<T>::value;
/// Whether the transport can open a connection without touching its session (`reopen(deadline)`).
template <class T>
inline constexpr bool has_reopen_v = detail::has_reopen<T>::value;
/// Whether the transport's reconnect takes a deadline (`reconnect(deadline)`).
template <class T>
inline constexpr bool has_deadline_reconnect_v = detail::has_deadline_reconnect<T>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The Transport requirements as a concept; same requirements as `is_transport`. A type that does
/// not model it makes the compiler name the expression it misses.
template <class T>
concept transport = requires {
    typename T::request_type;
    typename T::response_type;
} && requires(T& t, const T& ct, const typename T::request_type& req) {
    { t.send(req) } -> std::convertible_to<outcome<typename T::response_type>>;
    { t.reconnect() } -> std::convertible_to<outcome<void>>;
    { ct.generation() } -> std::convertible_to<std::uint64_t>;
};
#endif

}  // namespace mcp_recovery

#endif
