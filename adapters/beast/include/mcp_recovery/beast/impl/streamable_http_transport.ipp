// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_IMPL_STREAMABLE_HTTP_TRANSPORT_IPP
#define MCP_RECOVERY_BEAST_IMPL_STREAMABLE_HTTP_TRANSPORT_IPP

// The members of basic_streamable_http_transport in separate-compilation mode: each forwards to
// the implementation (detail/sync_transport_impl.hpp). Included by mcp_recovery/beast/src.hpp,
// which instantiates them for builtin_json; a program with another JsonPolicy includes this file
// in one of its files and instantiates the transport there (MCP_RECOVERY_BEAST_INSTANTIATE_SYNC,
// below).

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#error "mcp_recovery/beast/impl/streamable_http_transport.ipp is for MCP_RECOVERY_SEPARATE_COMPILATION only"
#endif

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/sync_transport_impl.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include <memory>
#include <type_traits>

namespace mcp_recovery::beast {

template <class JsonPolicy>
basic_streamable_http_transport<JsonPolicy>::basic_streamable_http_transport(transport_options options)
    : impl_(std::make_unique<detail::sync_transport_impl<JsonPolicy>>(std::move(options))) {}

template <class JsonPolicy>
basic_streamable_http_transport<JsonPolicy>::~basic_streamable_http_transport() = default;

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::connect() {
    return impl_->connect();
}

template <class JsonPolicy>
outcome<response> basic_streamable_http_transport<JsonPolicy>::send(const request& r) {
    return impl_->send(r);
}

template <class JsonPolicy>
outcome<response> basic_streamable_http_transport<JsonPolicy>::send(const request& r, time_point deadline) {
    return impl_->send(r, deadline);
}

template <class JsonPolicy>
void basic_streamable_http_transport<JsonPolicy>::session_restored() {
    impl_->session_restored();
}

template <class JsonPolicy>
void basic_streamable_http_transport<JsonPolicy>::stop_listening() noexcept {
    impl_->stop_listening();
}

template <class JsonPolicy>
bool basic_streamable_http_transport<JsonPolicy>::listening() const {
    return impl_->listening();
}

template <class JsonPolicy>
bool basic_streamable_http_transport<JsonPolicy>::wait_until_listening(time_point deadline) {
    return impl_->wait_until_listening(deadline);
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::notify(std::string_view method, std::string_view params,
                                                                  time_point deadline) {
    return impl_->notify(method, params, deadline);
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::reconnect() {
    return impl_->reconnect();
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::reconnect(time_point deadline) {
    return impl_->reconnect(deadline);
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::reopen(time_point deadline) {
    return impl_->reopen(deadline);
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::terminate() {
    return impl_->terminate();
}

template <class JsonPolicy>
outcome<void> basic_streamable_http_transport<JsonPolicy>::refresh_auth() {
    return impl_->refresh_auth();
}

template <class JsonPolicy>
std::uint64_t basic_streamable_http_transport<JsonPolicy>::generation() const noexcept {
    return impl_->generation();
}

template <class JsonPolicy>
std::string basic_streamable_http_transport<JsonPolicy>::session_id() const {
    return impl_->session_id();
}

template <class JsonPolicy>
std::string basic_streamable_http_transport<JsonPolicy>::protocol_version() const {
    return impl_->protocol_version();
}

template <class JsonPolicy>
bool basic_streamable_http_transport<JsonPolicy>::adopt_session_id(std::string id) {
    return impl_->adopt_session_id(std::move(id));
}

template <class JsonPolicy>
const endpoint_url& basic_streamable_http_transport<JsonPolicy>::url() const noexcept {
    return impl_->url();
}

template <class JsonPolicy>
const transport_options& basic_streamable_http_transport<JsonPolicy>::options() const noexcept {
    return impl_->options();
}

template <class JsonPolicy>
std::size_t basic_streamable_http_transport<JsonPolicy>::connections_opened() const noexcept {
    return impl_->connections_opened();
}

template <class JsonPolicy>
http_diagnostics basic_streamable_http_transport<JsonPolicy>::diagnostics() const noexcept {
    return impl_->diagnostics();
}

template <class JsonPolicy>
conversation_stats basic_streamable_http_transport<JsonPolicy>::conversation() const noexcept {
    return impl_->conversation();
}

// The declaration and the implementation agree where the recovering clients look (their traits).
static_assert(basic_streamable_http_transport<builtin_json>::session_outlives_connection ==
              detail::sync_transport_impl<builtin_json>::session_outlives_connection);
static_assert(std::is_same_v<basic_streamable_http_transport<builtin_json>::request_type,
                             detail::sync_transport_impl<builtin_json>::request_type>);
static_assert(std::is_same_v<basic_streamable_http_transport<builtin_json>::response_type,
                             detail::sync_transport_impl<builtin_json>::response_type>);

}  // namespace mcp_recovery::beast

/// Compiles the synchronous transport for `json_policy` (a JsonPolicy other than the default
/// `builtin_json`, which mcp_recovery/beast/src.hpp compiles): at namespace scope, in exactly one
/// file of the program, after including this file.
#define MCP_RECOVERY_BEAST_INSTANTIATE_SYNC(json_policy) \
    template class ::mcp_recovery::beast::basic_streamable_http_transport<json_policy>

#endif
