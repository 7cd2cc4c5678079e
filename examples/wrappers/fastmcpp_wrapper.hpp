// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
//
// 0xeb/fastmcpp's Streamable HTTP client (`fastmcpp::client::Client` over a
// `StreamableHttpTransport`), wrapped as a callable transport, so that a `recovering_client`
// recovers it from a lost session (server restart, expired session) and from a server that is
// down for a while. This is the code docs/wrapping-clients.md shows; use it as it is, or copy it.
//
//     #include "fastmcpp_wrapper.hpp"
//     namespace fw = mcp_recovery_wrappers::fastmcpp_sdk;
//
//     fw::client<> client{fw::make_transport({"http://127.0.0.1:8080", "/mcp"})};
//     auto tools = client.try_call({"tools/list", fastmcpp::Json::object()});  // outcome<Json, call_error>
//     if (!tools) std::cerr << tools.error().code.message() << '\n';
//
// Compiled in CI against a fake of the SDK's interface (tests/sdk/fakes/fastmcpp), and against
// the real SDK (fastmcpp 1cd32e0) with -DMCP_RECOVERY_SDK_FASTMCPP_DIR (tests/sdk/fastmcpp_sdk_test.cpp).
//
// What the SDK does that shapes this code:
// - `Client::call(method, params)` returns the JSON-RPC `result` and throws
//   `fastmcpp::TransportError` (a `std::runtime_error`) for everything else; the HTTP body of an
//   error answer is thrown away, only "StreamableHttp error: <status>" remains. A 404 is the
//   server's "unknown session"; some servers (server-everything) answer 400 instead, which
//   `presets::fastmcpp` counts as a lost session only when the request carried a session id:
//   so `send` asks the transport `has_session()` before the call.
// - The transport keeps the session id it was given by `initialize`, also after the server
//   forgot it. Reconnect therefore builds a NEW `Client` and a NEW transport. Reusing the old
//   `Client` would need `client.disconnect(true)` (which clears the session id) before
//   `initialize()`; but other threads may still be sending on that client, and between the two
//   they would send without a session id (a 400 that is not a lost session: permanent). A new
//   client leaves the old one untouched until its last sender returns (`client_slot`).
// - `initialize()` never sends `notifications/initialized`, and the SDK cannot send a
//   notification at all (`call` always adds an id). The servers tested answer without it.
// - Every call blocks in the SDK (30 s connect timeout, 300 s read timeout, not settable through
//   `StreamableHttpTransport`); a `call_options` deadline cannot interrupt a call in progress,
//   only stop the recovery from starting another attempt.
// - fastmcpp 1cd32e0 sends `Content-Type` twice; TypeScript SDK servers (1.32.2) answer that
//   with 415 to every request, `initialize` included. See docs/wrapping-clients.md.
#ifndef MCP_RECOVERY_WRAPPERS_FASTMCPP_WRAPPER_HPP
#define MCP_RECOVERY_WRAPPERS_FASTMCPP_WRAPPER_HPP

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <fastmcpp/client/client.hpp>
#include <fastmcpp/client/transports.hpp>

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace mcp_recovery_wrappers::fastmcpp_sdk {

namespace cb = mcp_recovery::callable;

/// One request: the JSON-RPC method and its params. The `method` member tells the recovering
/// client whether the request may be replayed when it may have run (`tools/list` yes, `tools/call` no).
struct rpc_request {
    std::string method;
    fastmcpp::Json params = fastmcpp::Json::object();
};

/// Where the server is: `StreamableHttpTransport(base_url, mcp_path)`.
struct endpoint {
    std::string base_url;  ///< "http://127.0.0.1:8080"
    std::string mcp_path = "/mcp";
};

/// One initialized SDK client, and its transport (owned by the client) to ask for the session id.
struct connection {
    std::shared_ptr<fastmcpp::client::Client> client;
    fastmcpp::client::StreamableHttpTransport* transport = nullptr;
};

using slot_type = cb::client_slot<connection>;

/// A new `Client` on a new transport, initialized (new session). Throws what the SDK throws.
inline std::shared_ptr<connection> connect(const endpoint& where) {
    auto transport = std::make_unique<fastmcpp::client::StreamableHttpTransport>(where.base_url, where.mcp_path);
    auto c = std::make_shared<connection>();
    c->transport = transport.get();
    c->client = std::make_shared<fastmcpp::client::Client>(std::move(transport));
    c->client->initialize();
    return c;
}

/// What `send` reports when there is no client: the first connect failed. `not_connected`
/// makes the recovering client connect (reconnect) before sending; nothing was sent.
inline mcp_recovery::failure not_connected() {
    mcp_recovery::failure f;
    f.transport_error = mcp_recovery::transport_errc::not_connected;
    f.delivered = mcp_recovery::delivery::not_sent;
    f.message = "fastmcpp: not connected (the last connect failed)";
    return f;
}

/// The callable transport over `slot` (which `make_transport` fills). The callables share the
/// slot (a `shared_ptr`), so the transport may be moved and outlive the caller's scope.
inline auto make_transport(endpoint where, std::shared_ptr<slot_type> slot) {
    auto send = [slot](const rpc_request& r) -> mcp_recovery::outcome<fastmcpp::Json> {
        const std::shared_ptr<connection> c = slot->get();  // keeps this client alive during the call
        if (!c) return not_connected();
        const bool had_session = c->transport->has_session();
        try {
            return c->client->call(r.method, r.params);
        } catch (...) {
            return cb::presets::fastmcpp{}(std::current_exception(), had_session);
        }
    };
    // Runs one at a time, while other threads may still send on the old client. A throw (the
    // new client's initialize failed) goes to the translator: the old client stays in the slot.
    auto reconnect = [slot, where = std::move(where)] { slot->reset(connect(where)); };
    return cb::make_transport<rpc_request, fastmcpp::Json>(std::move(send), std::move(reconnect),
                                                           cb::presets::fastmcpp{});
}

/// The callable transport, connected: the first `initialize` runs here. If it fails the
/// transport starts without a client and the first call connects (and reports that failure).
inline auto make_transport(endpoint where) {
    auto slot = std::make_shared<slot_type>();
    try {
        slot->reset(connect(where));
    } catch (...) {
        // Left empty: `send` answers not_connected, and the recovering client reconnects.
    }
    return make_transport(std::move(where), std::move(slot));
}

using transport = decltype(make_transport(std::declval<endpoint>()));

/// The recovering client for it: the SDKs' session-loss rules, one replay after one reconnect.
/// The reconnector's defaults suit a server that restarts (a failed reconnect backs off 50 ms
/// doubling to 1 s; the circuit opens only after 5 failures spanning 15 s).
template <class Observer = mcp_recovery::null_observer>
using client = mcp_recovery::recovering_client<transport, cb::sdk_classifier, mcp_recovery::retry_once,
                                               mcp_recovery::no_backoff, mcp_recovery::single_flight_reconnector<>,
                                               Observer>;

}  // namespace mcp_recovery_wrappers::fastmcpp_sdk

#endif
