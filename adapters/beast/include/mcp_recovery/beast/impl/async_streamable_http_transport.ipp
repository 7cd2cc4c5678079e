// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_IMPL_ASYNC_STREAMABLE_HTTP_TRANSPORT_IPP
#define MCP_RECOVERY_BEAST_IMPL_ASYNC_STREAMABLE_HTTP_TRANSPORT_IPP

// The members of basic_async_streamable_http_transport in separate-compilation mode: each forwards
// to the implementation (detail/async_transport_impl.hpp), and those that return an awaitable
// return the implementation's own (lazy: it starts when awaited; the implementation outlives it
// as the transport must). Included by mcp_recovery/beast/src.hpp, which instantiates them for
// builtin_json where Asio has co_await; a program with another JsonPolicy includes this file in
// one of its files and instantiates the transport there (MCP_RECOVERY_BEAST_INSTANTIATE_ASYNC).

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#error "mcp_recovery/beast/impl/async_streamable_http_transport.ipp is for MCP_RECOVERY_SEPARATE_COMPILATION only"
#endif

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "mcp_recovery/beast/detail/async_transport_impl.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <memory>
#include <type_traits>

namespace mcp_recovery::beast {

template <class JsonPolicy>
basic_async_streamable_http_transport<JsonPolicy>::basic_async_streamable_http_transport(
    boost::asio::any_io_executor ex, transport_options options, async_server_request_handlers async_handlers)
    : impl_(std::make_unique<detail::async_transport_impl<JsonPolicy>>(std::move(ex), std::move(options),
                                                                        std::move(async_handlers))) {}

template <class JsonPolicy>
basic_async_streamable_http_transport<JsonPolicy>::~basic_async_streamable_http_transport() = default;

template <class JsonPolicy>
const boost::asio::any_io_executor& basic_async_streamable_http_transport<JsonPolicy>::get_executor() const noexcept {
    return impl_->get_executor();
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_connect() {
    return impl_->async_connect();
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<response>> basic_async_streamable_http_transport<JsonPolicy>::async_send(
    const request& r, time_point deadline) {
    return impl_->async_send(r, deadline);
}

template <class JsonPolicy>
void basic_async_streamable_http_transport<JsonPolicy>::session_restored() {
    impl_->session_restored();
}

template <class JsonPolicy>
boost::asio::awaitable<void> basic_async_streamable_http_transport<JsonPolicy>::async_listen() {
    return impl_->async_listen();
}

template <class JsonPolicy>
void basic_async_streamable_http_transport<JsonPolicy>::stop_listening() noexcept {
    impl_->stop_listening();
}

template <class JsonPolicy>
bool basic_async_streamable_http_transport<JsonPolicy>::listening() const noexcept {
    return impl_->listening();
}

template <class JsonPolicy>
boost::asio::awaitable<bool> basic_async_streamable_http_transport<JsonPolicy>::async_wait_until_listening(
    time_point deadline) {
    return impl_->async_wait_until_listening(deadline);
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_notify(
    std::string method, std::string params, time_point deadline) {
    return impl_->async_notify(std::move(method), std::move(params), deadline);
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_reconnect() {
    return impl_->async_reconnect();
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_reconnect(
    time_point deadline) {
    return impl_->async_reconnect(deadline);
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_reopen(
    time_point deadline) {
    return impl_->async_reopen(deadline);
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_terminate() {
    return impl_->async_terminate();
}

template <class JsonPolicy>
boost::asio::awaitable<outcome<void>> basic_async_streamable_http_transport<JsonPolicy>::async_refresh_auth() {
    return impl_->async_refresh_auth();
}

template <class JsonPolicy>
outcome<void> basic_async_streamable_http_transport<JsonPolicy>::refresh_auth() {
    return impl_->refresh_auth();
}

template <class JsonPolicy>
std::uint64_t basic_async_streamable_http_transport<JsonPolicy>::generation() const noexcept {
    return impl_->generation();
}

template <class JsonPolicy>
std::string basic_async_streamable_http_transport<JsonPolicy>::session_id() const {
    return impl_->session_id();
}

template <class JsonPolicy>
std::string basic_async_streamable_http_transport<JsonPolicy>::protocol_version() const {
    return impl_->protocol_version();
}

template <class JsonPolicy>
bool basic_async_streamable_http_transport<JsonPolicy>::adopt_session_id(std::string id) {
    return impl_->adopt_session_id(std::move(id));
}

template <class JsonPolicy>
const endpoint_url& basic_async_streamable_http_transport<JsonPolicy>::url() const noexcept {
    return impl_->url();
}

template <class JsonPolicy>
const transport_options& basic_async_streamable_http_transport<JsonPolicy>::options() const noexcept {
    return impl_->options();
}

template <class JsonPolicy>
std::size_t basic_async_streamable_http_transport<JsonPolicy>::connections_opened() const noexcept {
    return impl_->connections_opened();
}

template <class JsonPolicy>
http_diagnostics basic_async_streamable_http_transport<JsonPolicy>::diagnostics() const noexcept {
    return impl_->diagnostics();
}

template <class JsonPolicy>
conversation_stats basic_async_streamable_http_transport<JsonPolicy>::conversation() const noexcept {
    return impl_->conversation();
}

// The declaration and the implementation agree where the recovering clients look (their traits).
static_assert(basic_async_streamable_http_transport<builtin_json>::session_outlives_connection ==
              detail::async_transport_impl<builtin_json>::session_outlives_connection);
static_assert(std::is_same_v<basic_async_streamable_http_transport<builtin_json>::request_type,
                             detail::async_transport_impl<builtin_json>::request_type>);
static_assert(std::is_same_v<basic_async_streamable_http_transport<builtin_json>::response_type,
                             detail::async_transport_impl<builtin_json>::response_type>);
static_assert(std::is_same_v<basic_async_streamable_http_transport<builtin_json>::async_server_request_handlers,
                             detail::async_transport_impl<builtin_json>::async_server_request_handlers>);

}  // namespace mcp_recovery::beast

/// Compiles the awaitable transport for `json_policy` (a JsonPolicy other than the default
/// `builtin_json`, which mcp_recovery/beast/src.hpp compiles): at namespace scope, in exactly one
/// file of the program, after including this file.
#define MCP_RECOVERY_BEAST_INSTANTIATE_ASYNC(json_policy) \
    template class ::mcp_recovery::beast::basic_async_streamable_http_transport<json_policy>

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
