#pragma once
// An AsyncTransport: the echo transport of the Transport page, behind a real suspension.
#include <mcp_recovery/beast/async_client.hpp>

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)  // C++20 where Asio has co_await (g++)
#include "transport_exemplar.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <utility>

namespace app {

class async_echo_transport {
public:
    using request_type = echo_request;
    using response_type = echo_response;

    explicit async_echo_transport(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}

    // One attempt, bounded by `deadline` (this one never waits, so it has nothing to bound).
    boost::asio::awaitable<mcp_recovery::outcome<echo_response>> async_send(const echo_request& r,
                                                                            mcp_recovery::time_point) {
        co_await boost::asio::post(ex_, boost::asio::use_awaitable);  // where a network round trip would be
        co_return inner_.send(r);
    }

    boost::asio::awaitable<mcp_recovery::outcome<void>> async_reconnect() {
        co_await boost::asio::post(ex_, boost::asio::use_awaitable);
        co_return inner_.reconnect();
    }

    std::uint64_t generation() const noexcept { return inner_.generation(); }

    void lose_session() { inner_.lose_session(); }

private:
    boost::asio::any_io_executor ex_;
    echo_transport inner_;
};

}  // namespace app
#endif
