// OUR FAKE of fastmcpp's client/client.hpp (not SDK code; see fastmcpp/types.hpp): the transport
// interfaces and the `Client` members the wrapper uses, with the SDK's signatures and behaviour
// (`call` forwards to the transport; `initialize` sends "initialize" and nothing else;
// `disconnect(true)` clears the transport's session id).
#ifndef MCP_RECOVERY_TESTS_FAKE_FASTMCPP_CLIENT_HPP
#define MCP_RECOVERY_TESTS_FAKE_FASTMCPP_CLIENT_HPP

#include "fastmcpp/exceptions.hpp"
#include "fastmcpp/types.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace fastmcpp::client {

class ITransport {
public:
    virtual ~ITransport() = default;
    virtual fastmcpp::Json request(const std::string& route, const fastmcpp::Json& payload) = 0;
};

class IResettableTransport {
public:
    virtual ~IResettableTransport() = default;
    virtual void reset(bool full = false) = 0;
};

class ISessionTransport {
public:
    virtual ~ISessionTransport() = default;
    virtual std::string session_id() const = 0;
    virtual bool has_session() const = 0;
};

struct InitializeResult {
    std::string protocolVersion;
};

class Client {
public:
    Client() = default;
    explicit Client(std::unique_ptr<ITransport> t) : transport_(std::shared_ptr<ITransport>(std::move(t))) {}

    fastmcpp::Json call(const std::string& route, const fastmcpp::Json& payload) {
        return transport_->request(route, payload);
    }

    InitializeResult initialize(std::chrono::milliseconds /*timeout*/ = std::chrono::milliseconds{0}) {
        fastmcpp::Json payload = fastmcpp::Json::object();
        payload["protocolVersion"] = "2024-11-05";
        payload["capabilities"] = fastmcpp::Json::object();
        payload["clientInfo"]["name"] = "fastmcpp";
        const fastmcpp::Json response = call("initialize", payload);
        return InitializeResult{response.at("protocolVersion").get<std::string>()};
    }

    void disconnect(bool full = false) {
        if (!transport_) return;
        if (auto* resettable = dynamic_cast<IResettableTransport*>(transport_.get())) resettable->reset(full);
    }

private:
    std::shared_ptr<ITransport> transport_;
};

}  // namespace fastmcpp::client

#endif
