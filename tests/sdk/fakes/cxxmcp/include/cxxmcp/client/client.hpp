// OUR FAKE of caomengxuan666/cxxmcp's <cxxmcp/client/client.hpp> (mcp-recovery tests; not SDK code).
// Only what examples/wrappers/cxxmcp_wrapper.hpp uses: Transport, Client(unique_ptr<Transport>),
// initialize, notify_initialized, request. It behaves as the real Client (commit 43507d3) was seen
// to behave against real servers (tests/sdk/cxxmcp_sdk_test.cpp):
//   - "http transport session was terminated" (-32600, detail "404") from the transport on a
//     request other than initialize: re-initialize once with the last initialize parameters
//     (no notifications/initialized) and send the request again; the error comes out only when
//     that fails;
//   - a JSON-RPC error answer (also in a 400 body) becomes Error{code, message, "", "protocol"}.
#ifndef MCPR_FAKE_CXXMCP_CLIENT_CLIENT_HPP
#define MCPR_FAKE_CXXMCP_CLIENT_CLIENT_HPP

#include "cxxmcp/core/result.hpp"
#include "cxxmcp/protocol/serialization.hpp"
#include "cxxmcp/protocol/types.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace mcp::client {

/// A JSON-RPC answer: a result, or a JSON-RPC error (code, message).
struct FakeResponse {
    std::optional<protocol::Json> result;
    int error_code = 0;
    std::string error_message;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual core::Result<FakeResponse> send(const protocol::JsonRpcRequest& request) = 0;
    virtual core::Result<core::Unit> send_notification(const std::string& method) = 0;
};

class Client {
public:
    explicit Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    core::Result<protocol::Json> initialize(std::string client_name = "cxxmcp", std::string client_version = "0") {
        protocol::Json params = protocol::Json::object();
        params["clientName"] = std::move(client_name);
        params["clientVersion"] = std::move(client_version);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            last_initialize_params_ = params;
        }
        return payload(send_rpc_request(protocol::make_request("initialize", next_id(), std::move(params))));
    }

    core::Result<core::Unit> notify_initialized() { return transport_->send_notification("notifications/initialized"); }

    core::Result<protocol::Json> request(const protocol::JsonRpcRequest& request) {
        return payload(send_rpc_request(request));
    }

private:
    static bool is_session_terminated_error(const core::Error& e) {
        return e.code == -32600 && e.message == "http transport session was terminated";
    }

    static core::Result<protocol::Json> payload(core::Result<FakeResponse> r) {
        if (!r) return core::unexpected(std::move(r).error());
        if (!r->result) return core::unexpected(core::Error{r->error_code, r->error_message, {}, "protocol"});
        return *r->result;
    }

    core::Result<FakeResponse> send_rpc_request(const protocol::JsonRpcRequest& request) {
        bool retried_after_session_reset = false;
        for (;;) {
            core::Result<FakeResponse> response = transport_->send(request);
            if (response || retried_after_session_reset || !is_session_terminated_error(response.error()))
                return response;
            retried_after_session_reset = true;
            if (request.method != "initialize") {
                std::optional<protocol::Json> params;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    params = last_initialize_params_;
                }
                if (!params) return response;
                core::Result<protocol::Json> init = payload(transport_->send(protocol::make_request("initialize", next_id(), *params)));
                if (!init) return core::unexpected(std::move(init).error());
            }
        }
    }

    std::int64_t next_id() { return next_id_.fetch_add(1); }

    std::unique_ptr<Transport> transport_;
    std::atomic<std::int64_t> next_id_{1};
    std::mutex mutex_;
    std::optional<protocol::Json> last_initialize_params_;
};

}  // namespace mcp::client

#endif
