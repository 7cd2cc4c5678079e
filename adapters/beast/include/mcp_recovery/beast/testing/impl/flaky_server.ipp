// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_IMPL_FLAKY_SERVER_IPP
#define MCP_RECOVERY_BEAST_TESTING_IMPL_FLAKY_SERVER_IPP

// The members of flaky_server in separate-compilation mode, each forwarding to the implementation
// (detail/flaky_server_impl.hpp). Not inline: included by exactly one file of the program
// (mcp_recovery/beast/testing/src.hpp).

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#error "mcp_recovery/beast/testing/impl/flaky_server.ipp is for MCP_RECOVERY_SEPARATE_COMPILATION only"
#endif

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/testing/detail/flaky_server_impl.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"

#include <memory>

namespace mcp_recovery::beast::testing {

flaky_server::flaky_server(flaky_server_options options)
    : impl_(std::make_unique<detail::flaky_server_impl>(std::move(options))) {}

flaky_server::~flaky_server() = default;

std::uint16_t flaky_server::port() const noexcept {
    return impl_->port();
}

std::string flaky_server::url() const {
    return impl_->url();
}

void flaky_server::stop() noexcept {
    impl_->stop();
}

void flaky_server::restart() {
    impl_->restart();
}

void flaky_server::drop_connections() {
    impl_->drop_connections();
}

void flaky_server::go_down() {
    impl_->go_down();
}

void flaky_server::come_back() {
    impl_->come_back();
}

void flaky_server::outage(std::chrono::milliseconds how_long) {
    impl_->outage(how_long);
}

bool flaky_server::is_up() const noexcept {
    return impl_->is_up();
}

std::uint64_t flaky_server::outages() const noexcept {
    return impl_->outages();
}

void flaky_server::set_close_after_response(bool on) noexcept {
    impl_->set_close_after_response(on);
}

bool flaky_server::expire_session(std::string_view id) {
    return impl_->expire_session(id);
}

std::size_t flaky_server::expire_all_sessions() {
    return impl_->expire_all_sessions();
}

std::vector<std::string> flaky_server::session_ids() const {
    return impl_->session_ids();
}

void flaky_server::set_lost_session_style(lost_session_style style) {
    impl_->set_lost_session_style(style);
}

void flaky_server::set_response_mode(response_mode mode) {
    impl_->set_response_mode(mode);
}

void flaky_server::set_resumption(bool on) {
    impl_->set_resumption(on);
}

void flaky_server::inject(fault f, fault_match match, std::size_t times) {
    impl_->inject(std::move(f), std::move(match), times);
}

std::size_t flaky_server::pending_faults() const {
    return impl_->pending_faults();
}

void flaky_server::clear_faults() {
    impl_->clear_faults();
}

std::uint64_t flaky_server::initializes() const noexcept {
    return impl_->initializes();
}

std::uint64_t flaky_server::requests() const noexcept {
    return impl_->requests();
}

std::uint64_t flaky_server::executions(std::string_view key) const {
    return impl_->executions(key);
}

std::size_t flaky_server::sessions_alive() const noexcept {
    return impl_->sessions_alive();
}

std::uint64_t flaky_server::deletes() const noexcept {
    return impl_->deletes();
}

std::uint64_t flaky_server::lost_session_answers() const noexcept {
    return impl_->lost_session_answers();
}

std::uint64_t flaky_server::faults_applied() const noexcept {
    return impl_->faults_applied();
}

std::uint64_t flaky_server::resumption_requests() const noexcept {
    return impl_->resumption_requests();
}

std::uint64_t flaky_server::resumptions() const noexcept {
    return impl_->resumptions();
}

std::uint64_t flaky_server::connections_accepted() const noexcept {
    return impl_->connections_accepted();
}

std::size_t flaky_server::open_connections() const noexcept {
    return impl_->open_connections();
}

std::uint64_t flaky_server::seen(std::string_view method) const {
    return impl_->seen(method);
}

std::uint64_t flaky_server::tool_runs(std::string_view tool) const {
    return impl_->tool_runs(tool);
}

std::vector<std::string> flaky_server::subscriptions() const {
    return impl_->subscriptions();
}

std::vector<std::string> flaky_server::subscriptions(std::string_view session_id) const {
    return impl_->subscriptions(session_id);
}

std::optional<std::string> flaky_server::log_level(std::string_view session_id) const {
    return impl_->log_level(session_id);
}

std::uint64_t flaky_server::set_level_calls() const noexcept {
    return impl_->set_level_calls();
}

void flaky_server::set_listening_stream(bool on) {
    impl_->set_listening_stream(on);
}

std::size_t flaky_server::notify(std::string method, std::string params_json) {
    return impl_->notify(std::move(method), std::move(params_json));
}

std::size_t flaky_server::notify_session(std::string_view session_id, std::string method, std::string params_json) {
    return impl_->notify_session(session_id, std::move(method), std::move(params_json));
}

std::size_t flaky_server::resource_updated(std::string uri) {
    return impl_->resource_updated(std::move(uri));
}

std::size_t flaky_server::log(std::string level, std::string data) {
    return impl_->log(std::move(level), std::move(data));
}

std::optional<std::string> flaky_server::request_on_listen(
    std::string session_id, std::string method, std::string params_json) {
    return impl_->request_on_listen(std::move(session_id), std::move(method), std::move(params_json));
}

std::size_t flaky_server::drop_listening_streams() {
    return impl_->drop_listening_streams();
}

std::size_t flaky_server::listening_streams() const noexcept {
    return impl_->listening_streams();
}

std::uint64_t flaky_server::listening_streams_opened() const noexcept {
    return impl_->listening_streams_opened();
}

std::uint64_t flaky_server::listening_resumes() const noexcept {
    return impl_->listening_resumes();
}

std::vector<client_answer> flaky_server::client_answers() const {
    return impl_->client_answers();
}

std::uint64_t flaky_server::unexpected_answers() const noexcept {
    return impl_->unexpected_answers();
}

std::uint64_t flaky_server::idle_expirations() const noexcept {
    return impl_->idle_expirations();
}

std::uint64_t flaky_server::requests_before_initialized() const noexcept {
    return impl_->requests_before_initialized();
}

std::vector<cancellation> flaky_server::cancellations() const {
    return impl_->cancellations();
}

static_assert(flaky_server::max_records == detail::flaky_server_impl::max_records);
static_assert(flaky_server::max_recorded_message_size == detail::flaky_server_impl::max_recorded_message_size);

}  // namespace mcp_recovery::beast::testing

#endif
