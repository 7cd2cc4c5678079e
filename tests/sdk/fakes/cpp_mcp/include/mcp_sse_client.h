// OUR FAKE of hkr04/cpp-mcp's include/mcp_sse_client.h (commit f1117d5): `mcp::sse_client` with
// only the members examples/wrappers/cpp_mcp_wrapper.hpp uses, same signatures. NOT SDK code.
// Standard library only. It talks to an in-process scripted server (fake_cpp_mcp_server.h, found
// by the base URL) and raises the messages the real client raises in the same situations
// (observed against real servers, docs/wrapping-clients.md):
//   - server down:                       -32603 "Could not establish connection"
//   - initialize() failed earlier:       -32603 "Message endpoint not set, SSE connection may not be established"
//   - a session the server forgot:       -32700 "Failed to parse JSON-RPC response: [json.exception.type_error.305] ..."
//                                        (hkr04's server answers 404 {"error":"Session not found"}), or
//                                        -32600 "Session not initialized" (once the SDK's SSE thread
//                                        re-attached to a new, never-initialized session)
//   - the connection broke after the POST: -32603 "Failed to read connection"
// Like the real one it runs one request at a time (a mutex held for the whole request), and a
// second initialize() on the same object ends the process (std::terminate).
#ifndef MCP_RECOVERY_FAKE_CPP_MCP_SSE_CLIENT_H
#define MCP_RECOVERY_FAKE_CPP_MCP_SSE_CLIENT_H

#include "fake_cpp_mcp_server.h"
#include "mcp_message.h"

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace mcp {

class sse_client {
public:
    sse_client(const std::string& scheme_host_port, const std::string& sse_endpoint = "/sse")
        : base_url_(scheme_host_port), sse_endpoint_(sse_endpoint) {}
    sse_client(const sse_client&) = delete;
    sse_client& operator=(const sse_client&) = delete;
    ~sse_client() = default;

    /// Opens the stream, gets the message endpoint, sends initialize and notifications/initialized.
    bool initialize(const std::string& client_name, const std::string& client_version) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (initialize_called_) std::terminate();  // the real one: a std::thread assigned over a joinable one
        initialize_called_ = true;
        (void)client_name;
        (void)client_version;
        std::shared_ptr<cpp_mcp_fake::server> s = cpp_mcp_fake::server::find(base_url_);
        if (!s || sse_endpoint_ != "/sse") return false;
        session_ = s->open_stream();  // nullopt when down: the real one waits 5 s for the endpoint, then false
        if (!session_) return false;
        // TypeScript SDK servers refuse `"capabilities": null` (the SDK's default).
        if (capabilities_.is_null() || !s->initialize(*session_)) {
            session_.reset();
            return false;
        }
        return true;
    }

    void set_timeout(int timeout_seconds) {
        std::lock_guard<std::mutex> lock(mutex_);
        timeout_seconds_ = timeout_seconds;
    }

    void set_capabilities(const json& capabilities) {
        std::lock_guard<std::mutex> lock(mutex_);
        capabilities_ = capabilities;
    }

    response send_request(const std::string& method, const json& params = json::object()) {
        std::lock_guard<std::mutex> lock(mutex_);  // as the real one: held for the whole request
        if (!session_)
            throw mcp_exception(error_code::internal_error,
                                "Message endpoint not set, SSE connection may not be established");
        std::shared_ptr<cpp_mcp_fake::server> s = cpp_mcp_fake::server::find(base_url_);
        if (!s) throw mcp_exception(error_code::internal_error, "Could not establish connection");
        response r;
        r.result = s->handle(*session_, method, params);
        return r;
    }

private:
    std::mutex mutex_;
    std::string base_url_;
    std::string sse_endpoint_;
    json capabilities_;
    int timeout_seconds_ = 30;
    bool initialize_called_ = false;
    std::optional<int> session_;  // the message endpoint's session id, once the server announced it
};

}  // namespace mcp

#endif
