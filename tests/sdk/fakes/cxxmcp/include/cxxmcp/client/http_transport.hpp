// OUR FAKE of caomengxuan666/cxxmcp's <cxxmcp/client/http_transport.hpp> (mcp-recovery tests; not
// SDK code). The "network" is cxxmcp_fake::network: the URI names an in-process fake server. What
// it returns is what the real HttpTransport (commit 43507d3) was seen to return:
//   - server down: Error{-32603, "http transport request failed", "Could not establish connection", "transport"}
//     ("http transport notification failed" for a notification);
//   - HTTP 404: the session id is cleared; an initialize is sent once more; otherwise
//     Error{-32600, "http transport session was terminated", "404", "transport"};
//   - HTTP 400 with a JSON-RPC error body that has an "id": that error as the answer; without an "id"
//     (server-everything): Error{-32603, "http transport request returned an error status", "400",
//     "transport"}. The session id is kept either way.
#ifndef MCPR_FAKE_CXXMCP_CLIENT_HTTP_TRANSPORT_HPP
#define MCPR_FAKE_CXXMCP_CLIENT_HTTP_TRANSPORT_HPP

#include "cxxmcp/client/client.hpp"
#include "cxxmcp_fake/server.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace mcp::client {

struct HttpTransportOptions {
    std::string uri;
    std::chrono::milliseconds timeout{30000};
};

class HttpTransport final : public Transport {
public:
    explicit HttpTransport(HttpTransportOptions options) : options_(std::move(options)) {}

    core::Result<FakeResponse> send(const protocol::JsonRpcRequest& request) override {
        bool retried_after_session_reset = false;
        for (;;) {
            const cxxmcp_fake::answer a = post(request);
            switch (a.what) {
            case cxxmcp_fake::answer::status::unreachable:
                return core::unexpected(core::Error{-32603, "http transport request failed", "Could not establish connection", "transport"});
            case cxxmcp_fake::answer::status::http_404:
                reset_session();
                if (request.method == "initialize" && !retried_after_session_reset) {
                    retried_after_session_reset = true;
                    continue;
                }
                return core::unexpected(core::Error{-32600, "http transport session was terminated", "404", "transport"});
            case cxxmcp_fake::answer::status::http_400: {
                if (!a.body_has_id)
                    return core::unexpected(core::Error{-32603, "http transport request returned an error status", "400", "transport"});
                FakeResponse r;
                r.error_code = a.jsonrpc_code;
                r.error_message = a.error_message;
                return r;
            }
            case cxxmcp_fake::answer::status::ok: {
                if (!a.session.empty()) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    session_ = a.session;
                }
                FakeResponse r;
                r.result = a.result;
                return r;
            }
            }
        }
    }

    core::Result<core::Unit> send_notification(const std::string& method) override {
        const cxxmcp_fake::answer a = post(protocol::make_request(method, std::int64_t{0}));
        if (a.what == cxxmcp_fake::answer::status::unreachable)
            return core::unexpected(core::Error{-32603, "http transport notification failed", "Could not establish connection", "transport"});
        if (a.what == cxxmcp_fake::answer::status::http_404) {
            reset_session();
            return core::unexpected(core::Error{-32600, "http transport session was terminated", "404", "transport"});
        }
        return core::Unit{};
    }

private:
    cxxmcp_fake::answer post(const protocol::JsonRpcRequest& request) {
        std::string session;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            session = session_;
        }
        std::shared_ptr<cxxmcp_fake::server> server = cxxmcp_fake::network::at(options_.uri);
        if (!server) {
            cxxmcp_fake::answer a;
            a.what = cxxmcp_fake::answer::status::unreachable;
            return a;
        }
        return server->post(session, request);
    }

    void reset_session() {
        std::lock_guard<std::mutex> lock(mutex_);
        session_.clear();
    }

    HttpTransportOptions options_;
    std::mutex mutex_;
    std::string session_;
};

}  // namespace mcp::client

#endif
