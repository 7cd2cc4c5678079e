// OUR FAKE of fastmcpp's client/transports.hpp (not SDK code; see fastmcpp/types.hpp):
// `StreamableHttpTransport` with the SDK's constructor and session members. Instead of HTTP it
// talks to the in-process scripted server registered for its base URL
// (fastmcpp_fake/server.hpp), which throws exactly the messages the SDK throws.
#ifndef MCP_RECOVERY_TESTS_FAKE_FASTMCPP_TRANSPORTS_HPP
#define MCP_RECOVERY_TESTS_FAKE_FASTMCPP_TRANSPORTS_HPP

#include "fastmcpp/client/client.hpp"
#include "fastmcpp/types.hpp"
#include "fastmcpp_fake/server.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace fastmcpp::client {

class StreamableHttpTransport : public ITransport, public IResettableTransport, public ISessionTransport {
public:
    explicit StreamableHttpTransport(std::string base_url, std::string mcp_path = "/mcp",
                                     std::unordered_map<std::string, std::string> headers = {},
                                     bool verify_ssl = true)
        : base_url_(std::move(base_url)), mcp_path_(std::move(mcp_path)), headers_(std::move(headers)),
          verify_ssl_(verify_ssl) {}

    fastmcpp::Json request(const std::string& route, const fastmcpp::Json& payload) override {
        const std::shared_ptr<fastmcpp_fake::server> server = fastmcpp_fake::find(base_url_);
        // Nothing listens at that address: the SDK's httplib::Result is empty.
        if (!server) throw fastmcpp::TransportError("StreamableHttp request failed: no response");
        std::string issued;
        fastmcpp::Json result = server->handle(mcp_path_, session_id(), route, payload, issued);
        if (!issued.empty()) {
            std::lock_guard<std::mutex> lock(session_mutex_);
            session_id_ = issued;
        }
        return result;
    }

    std::string session_id() const override {
        std::lock_guard<std::mutex> lock(session_mutex_);
        return session_id_;
    }
    bool has_session() const override {
        std::lock_guard<std::mutex> lock(session_mutex_);
        return !session_id_.empty();
    }
    void reset_session() { reset(true); }
    bool verify_ssl() const noexcept { return verify_ssl_; }
    void reset(bool /*full*/ = false) override {
        std::lock_guard<std::mutex> lock(session_mutex_);
        session_id_.clear();
    }

private:
    std::string base_url_;
    std::string mcp_path_;
    std::unordered_map<std::string, std::string> headers_;
    bool verify_ssl_ = true;
    mutable std::mutex session_mutex_;
    std::string session_id_;
};

}  // namespace fastmcpp::client

#endif
