// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
//
// hkr04/cpp-mcp's `mcp::sse_client` behind a recovering client: the wrapper that
// docs/wrapping-clients.md shows, usable as it is. Compiled in CI against a fake of the SDK's
// interface (tests/sdk/fakes/cpp_mcp) and, with -DMCP_RECOVERY_SDK_CPP_MCP_DIR, against the real
// SDK (commit f1117d5) and real servers killed and restarted (tests/sdk/cpp_mcp_sdk_test.cpp).
//
//     auto client = mcp_recovery_wrappers::cpp_mcp_sdk::make_client({"http://127.0.0.1:8888"});
//     auto tools = client.try_call(mcp_recovery_wrappers::cpp_mcp_sdk::rpc_request{"tools/list", mcp::json::object()});
//     auto r = client.try_call(mcp_recovery_wrappers::cpp_mcp_sdk::tool_call("count", {{"key", "k"}}));  // not replayed unless safe
//
// What the SDK imposes (f1117d5):
// - Only the legacy HTTP+SSE transport (GET <sse endpoint>, POSTs to the endpoint the server
//   announces); no Streamable HTTP client.
// - Reconnect = a NEW sse_client: `initialize()` a second time on the same object aborts the
//   process (it assigns a new std::thread over one still joinable).
// - `set_capabilities(mcp::json::object())` before `initialize()`: otherwise it sends
//   `"capabilities": null`, which TypeScript SDK servers refuse (initialize returns false).
// - `initialize()` sends `notifications/initialized` itself, and waits up to a hard 5 s for the
//   server's `endpoint` event: a reconnect while the server is down costs about 5.5 s.
// - `send_request` holds the client's mutex for the whole request (one request at a time per
//   sse_client: concurrent callers queue), and its POST read timeout is 30 s, not settable
//   (`set_timeout` sets the connect and write timeouts and the wait for the answer on the stream).
// - Errors are `mcp::mcp_exception` (a std::runtime_error with a JSON-RPC `code()`), transport
//   failures included (-32603 with httplib's message); `presets::hkr04_cpp_mcp` reads them.
// - Destroying an sse_client can block for minutes (see `destroy_elsewhere`).
#ifndef MCP_RECOVERY_EXAMPLES_WRAPPERS_CPP_MCP_WRAPPER_HPP
#define MCP_RECOVERY_EXAMPLES_WRAPPERS_CPP_MCP_WRAPPER_HPP

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/observer.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include "mcp_sse_client.h"  // hkr04/cpp-mcp: include/ (and common/ for httplib.h, json.hpp)

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace mcp_recovery_wrappers::cpp_mcp_sdk {

namespace cb = mcp_recovery::callable;

/// One JSON-RPC request. The recovering client reads `method`: `tools/list` may be replayed after
/// an unknown delivery, `tools/call` only when the failure proves it did not run (or the call
/// says it is idempotent, `call_options`).
struct rpc_request {
    std::string method;
    mcp::json params = mcp::json::object();
};

/// `tools/call` of `name` with `arguments`.
inline rpc_request tool_call(const std::string& name, mcp::json arguments = mcp::json::object()) {
    return rpc_request{"tools/call", mcp::json{{"name", name}, {"arguments", std::move(arguments)}}};
}

/// Where the server is and who we are.
struct options {
    std::string base_url;                  ///< "http://127.0.0.1:8888" (scheme, host, port)
    std::string sse_endpoint = "/sse";     ///< the GET that opens the stream
    std::string client_name = "mcp-recovery";
    std::string client_version = "1.0";
    int timeout_seconds = 0;               ///< > 0: `sse_client::set_timeout` (connect, write, wait on the stream); 0: the SDK's 30 s
};

/// The translator: `mcp::mcp_exception` through `presets::hkr04_cpp_mcp`, anything else through
/// `default_translator`.
struct translator {
    mcp_recovery::failure operator()(std::exception_ptr e) const {
        try {
            std::rethrow_exception(e);
        } catch (const mcp::mcp_exception& x) {
            return cb::presets::hkr04_cpp_mcp{}(
                cb::foreign_error{"mcp::mcp_exception", x.what(), static_cast<std::int64_t>(x.code()), {}, false});
        } catch (...) {
            return cb::default_translator{}(std::current_exception());
        }
    }
};

using slot_type = cb::client_slot<mcp::sse_client>;

/// The deleter of every sse_client: destroys it on a thread of its own. Its destructor sleeps
/// 500 ms, then joins its SSE thread, which only notices when data arrives: on an open stream
/// that stays silent (TypeScript SDK servers send nothing on an idle one; the stream's read
/// timeout is httplib's 300 s) that is a wait of minutes. Whoever drops the last reference (the
/// reconnect, or a sender on its way out) must not wait for it.
struct destroy_elsewhere {
    void operator()(mcp::sse_client* c) const noexcept {
        try {
            std::thread([c] { delete c; }).detach();
        } catch (...) {
            delete c;  // no thread to be had: here, then
        }
    }
};

/// A new sse_client, initialized, made the current one; false when `initialize()` failed.
///
/// The client goes into the slot even when its initialize failed: it has no message endpoint, so
/// a send on it throws -32603 "Message endpoint not set, ..." at once (not sent: the next call
/// asks for a reconnect) instead of POSTing to the dead session's endpoint, which some servers
/// never answer (30 s each, callers queued one after the other on the old client's mutex).
inline bool connect(slot_type& slot, const options& o) {
    std::shared_ptr<mcp::sse_client> c(new mcp::sse_client(o.base_url, o.sse_endpoint), destroy_elsewhere{});
    c->set_capabilities(mcp::json::object());
    if (o.timeout_seconds > 0) c->set_timeout(o.timeout_seconds);
    const bool ok = c->initialize(o.client_name, o.client_version);  // sends notifications/initialized too
    slot.reset(std::move(c));  // the old client goes when its last sender returns (destroy_elsewhere)
    return ok;
}

/// The transport: send = one `send_request` on the current client (its `result`), reconnect =
/// `connect` (false: a failed reconnect), the preset's translator. Connects once before it
/// returns; if that fails, the first call fails "not sent" and the recovering client reconnects.
/// The callables share the slot (a shared_ptr each): the transport may be moved freely.
inline auto make_transport(const options& o) {
    auto slot = std::make_shared<slot_type>();
    (void)connect(*slot, o);
    return cb::make_transport<rpc_request, mcp::json>(
        [slot](const rpc_request& r) { return slot->get()->send_request(r.method, r.params).result; },
        [slot, o] { return connect(*slot, o); },
        translator{});
}

using transport_type = decltype(make_transport(std::declval<const options&>()));

/// The recovering client over that transport: `sdk_classifier` (hkr04's "Session not
/// initialized" and -32700 "Failed to parse JSON-RPC response" are its rules), one retry, one
/// reconnect flight for all callers, counters.
template <class Observer = mcp_recovery::counting_observer>
using client_type = mcp_recovery::recovering_client<transport_type, cb::sdk_classifier, mcp_recovery::retry_once,
                                                    mcp_recovery::no_backoff,
                                                    mcp_recovery::single_flight_reconnector<>, Observer>;

/// A recovering client connected to `o.base_url` (see `make_transport`).
inline client_type<> make_client(const options& o) { return client_type<>(make_transport(o)); }

}  // namespace mcp_recovery_wrappers::cpp_mcp_sdk

#endif
