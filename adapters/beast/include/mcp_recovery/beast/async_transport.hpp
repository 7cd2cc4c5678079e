// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_TRANSPORT_HPP
#define MCP_RECOVERY_BEAST_ASYNC_TRANSPORT_HPP

/// The async transport requirements (`is_async_transport_v`, and the `async_transport` concept):
/// what `async_recovering_client` and `async_single_flight_reconnector` need of a transport.

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_config.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <boost/asio/awaitable.hpp>

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <cstdint>
#include <type_traits>

namespace mcp_recovery::beast {

namespace net = boost::asio;

namespace detail {

template <class T, class = void>
struct is_async_transport_impl : std::false_type {};

template <class T>
struct is_async_transport_impl<
    T, std::void_t<typename T::request_type, typename T::response_type,
                   decltype(std::declval<T&>().async_send(std::declval<const typename T::request_type&>(),
                                                          std::declval<time_point>())),
                   decltype(std::declval<T&>().async_reconnect()), decltype(std::declval<const T&>().generation())>>
    : std::bool_constant<
          std::is_same_v<decltype(std::declval<T&>().async_send(std::declval<const typename T::request_type&>(),
                                                                std::declval<time_point>())),
                         net::awaitable<outcome<typename T::response_type>>> &&
          std::is_same_v<decltype(std::declval<T&>().async_reconnect()), net::awaitable<outcome<void>>>> {};

template <class T, class = void>
struct has_async_deadline_reconnect : std::false_type {};
template <class T>
struct has_async_deadline_reconnect<T, std::void_t<decltype(std::declval<T&>().async_reconnect(std::declval<time_point>()))>>
    : std::is_same<decltype(std::declval<T&>().async_reconnect(std::declval<time_point>())), net::awaitable<outcome<void>>> {};

template <class T, class = void>
struct has_async_reopen : std::false_type {};
template <class T>
struct has_async_reopen<T, std::void_t<decltype(std::declval<T&>().async_reopen(std::declval<time_point>()))>>
    : std::is_same<decltype(std::declval<T&>().async_reopen(std::declval<time_point>())), net::awaitable<outcome<void>>> {};

template <class T, class = void>
struct has_async_refresh_auth : std::false_type {};
template <class T>
struct has_async_refresh_auth<T, std::void_t<decltype(std::declval<T&>().async_refresh_auth())>>
    : std::is_same<decltype(std::declval<T&>().async_refresh_auth()), net::awaitable<outcome<void>>> {};

template <class T, class = void>
struct has_async_terminate : std::false_type {};
template <class T>
struct has_async_terminate<T, std::void_t<decltype(std::declval<T&>().async_terminate())>>
    : std::is_same<decltype(std::declval<T&>().async_terminate()), net::awaitable<outcome<void>>> {};

}  // namespace detail

/// Async transport requirements:
///
/// | Expression | Type | Semantics |
/// |---|---|---|
/// | `t.async_send(req, deadline)` | `awaitable<outcome<response_type>>` | one attempt, failures as `failure` with the right delivery |
/// | `t.async_reconnect()` | `awaitable<outcome<void>>` | a new session; `generation()` grows on success |
/// | `ct.generation()` | `std::uint64_t` | thread-safe read |
/// | `t.async_refresh_auth()` (optional) | `awaitable<outcome<void>>` | new credentials after a 401 |
/// | `t.async_reconnect(deadline)` (optional) | `awaitable<outcome<void>>` | as `async_reconnect()`, every step bounded by `deadline` |
/// | `T::session_outlives_connection` (optional) | `static constexpr bool` | as for the sync Transport: a lost connection is recovered on the same session |
/// | `t.async_reopen(deadline)` (optional) | `awaitable<outcome<void>>` | a new connection, the session untouched |
/// | `t.async_terminate()` (optional) | `awaitable<outcome<void>>` | ends the session (HTTP DELETE) |
template <class T>
inline constexpr bool is_async_transport_v = detail::is_async_transport_impl<T>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The async transport requirements as a C++20 concept.
template <class T>
concept async_transport = is_async_transport_v<T>;
#endif

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
