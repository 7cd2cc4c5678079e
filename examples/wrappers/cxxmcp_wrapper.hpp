// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
//
// caomengxuan666/cxxmcp's HTTP client, wrapped for mcp_recovery::recovering_client with the
// callable adapter. This is the code docs/wrapping-clients.md shows; it is compiled in CI against
// a fake of cxxmcp's client interface (tests/sdk/fakes/cxxmcp) and run against the real SDK and
// real servers killed and restarted (tests/sdk/cxxmcp_sdk_test.cpp).
//
// What the SDK does (commit 43507d3, seen against real servers), and what the wrapper does about it:
//   - Every call returns mcp::core::Result<T> (a tl::expected<T, mcp::core::Error>): reconnect
//     returns it as it is; send turns an error into a failure itself, because only send knows
//     that the request carried a session id (presets::cxxmcp needs that for the 400 below).
//   - HTTP 404 (TypeScript SDK server): the SDK clears its session id, re-initializes once by
//     itself (without notifications/initialized) and sends the request again; only when that
//     fails does "http transport session was terminated" (-32600, detail "404") reach us. The 404
//     means the server did not run the request, so its resend cannot run a tools/call twice.
//   - HTTP 400 "No valid session ID provided" (server-everything): the SDK cannot read that body
//     (it has no "id") and returns "http transport request returned an error status" (-32603,
//     detail "400"), keeping the dead session id: only a new Client recovers. presets::cxxmcp
//     reads it as a lost session when the request carried a session id.
//   - Server down: "http transport request failed" (-32603, detail "Could not establish
//     connection"): presets::cxxmcp makes it a refused connection (never sent).
//   - The SDK's own re-initialize is per call, not shared: 8 callers on one dead session open 8
//     sessions (7 left to expire on the server). Ours runs once for all callers.
//   - It sends Content-Type twice on every POST; the TypeScript SDK 1.32.2 server answers 415 to
//     that, even to initialize (a bug of 43507d3, outside what a wrapper can fix).
// Needs the SDK built with CXXMCP_ENABLE_HTTP=ON (target mcp_client).
#ifndef MCP_RECOVERY_WRAPPERS_CXXMCP_WRAPPER_HPP
#define MCP_RECOVERY_WRAPPERS_CXXMCP_WRAPPER_HPP

#include <cxxmcp/client/client.hpp>
#include <cxxmcp/client/http_transport.hpp>
#include <cxxmcp/core/result.hpp>
#include <cxxmcp/protocol/serialization.hpp>
#include <cxxmcp/protocol/types.hpp>

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace mcp_recovery_wrappers::cxxmcp_sdk {

namespace cb = mcp_recovery::callable;

/// One MCP request: its method decides idempotency (tools/list may be replayed, tools/call not).
struct rpc_request {
    std::string method;
    mcp::protocol::Json params = mcp::protocol::Json::object();
};
/// The result object of the answer (`{"tools": [...]}`, `{"content": [...]}`, ...).
using rpc_response = mcp::protocol::Json;

/// What the callables share (they hold it, so it lives as long as the transport): the endpoint,
/// the initialize parameters and the current client.
struct connection {
    mcp::client::HttpTransportOptions options;  ///< uri = "http://127.0.0.1:8080/mcp"
    std::string client_name = "mcp-recovery";
    std::string client_version = "1.0";
    cb::client_slot<mcp::client::Client> slot;
    std::atomic<std::int64_t> next_id{1'000'000'000};  ///< our request ids; the Client numbers its own from 1
};

/// Reconnect: a new Client on a new HttpTransport (no stale session id), initialized, then made
/// the current one. On failure the old client stays in the slot.
inline mcp::core::Result<mcp::core::Unit> connect(connection& c) {
    auto client = std::make_shared<mcp::client::Client>(std::make_unique<mcp::client::HttpTransport>(c.options));
    auto init = client->initialize(c.client_name, c.client_version);
    if (!init) return mcp::core::unexpected(init.error());
    if (auto sent = client->notify_initialized(); !sent) return sent;  // initialize() does not send it
    c.slot.reset(std::move(client));  // the old client goes when its last sender returns
    return mcp::core::Unit{};
}

/// What send returns before the first successful connect.
inline constexpr const char* not_connected_message = "cxxmcp_sdk wrapper: not connected";

/// An SDK error as a failure. `had_session_id`: the request went out on an initialized client
/// (every request but `initialize` itself carries the session id).
inline mcp_recovery::failure translate(const mcp::core::Error& e, bool had_session_id) {
    cb::foreign_error fe{"mcp::core::Error", e.message, e.code, e.detail};
    fe.had_session_id = had_session_id;
    return cb::presets::cxxmcp{}(fe);
}

/// What send reports before the first successful connect: nothing was sent; reconnect first.
inline mcp_recovery::failure not_connected() {
    mcp_recovery::failure f;
    f.transport_error = mcp_recovery::transport_errc::not_connected;
    f.delivered = mcp_recovery::delivery::not_sent;
    f.message = not_connected_message;
    return f;
}

/// The callable transport over `c`, whose slot holds an initialized client (or none yet: the
/// first call then reconnects).
inline auto make_transport(std::shared_ptr<connection> c) {
    auto send = [c](const rpc_request& r) -> mcp_recovery::outcome<rpc_response> {
        const std::shared_ptr<mcp::client::Client> client = c->slot.get();  // alive until we return
        if (!client) return not_connected();
        auto result = client->request(mcp::protocol::make_request(r.method, c->next_id.fetch_add(1), r.params));
        if (!result) return translate(result.error(), /*had_session_id=*/true);
        return std::move(*result);
    };
    auto reconnect = [c] { return connect(*c); };  // one at a time, while others may still send
    // The translator reads what reconnect returns: an initialize carries no session id.
    auto translator = [](const mcp::core::Error& e) { return translate(e, /*had_session_id=*/false); };
    return cb::make_transport<rpc_request, rpc_response>(std::move(send), std::move(reconnect), translator);
}

/// Connects to `options.uri` and returns the transport; if that first connect fails, the first
/// call reconnects.
inline auto make_transport(mcp::client::HttpTransportOptions options) {
    auto c = std::make_shared<connection>();
    c->options = std::move(options);
    (void)connect(*c);
    return make_transport(std::move(c));
}

using transport = decltype(make_transport(std::shared_ptr<connection>{}));

template <class Observer = mcp_recovery::null_observer>
using client = mcp_recovery::recovering_client<transport, cb::sdk_classifier, mcp_recovery::retry_once,
                                               mcp_recovery::no_backoff,
                                               mcp_recovery::single_flight_reconnector<>, Observer>;

}  // namespace mcp_recovery_wrappers::cxxmcp_sdk

#endif
