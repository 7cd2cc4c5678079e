#pragma once
// Getting started: the asynchronous client on Asio coroutines (C++20, g++).
#include <mcp_recovery/beast/async_client.hpp>
#include <mcp_recovery/beast/async_streamable_http_transport.hpp>

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

namespace app {

namespace mr = mcp_recovery;
namespace net = boost::asio;

using async_mcp_client = mr::beast::async_recovering_client<mr::beast::async_streamable_http_transport>;

inline net::awaitable<void> call_echo(async_mcp_client& client, std::string& out) {
    if (auto opened = co_await client.transport().async_connect(); !opened) {
        out = "no session";
        co_return;
    }
    // Named, not built inside the co_await expression: g++ 12 destroys such temporaries twice.
    const mr::beast::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};
    mr::call_options options;
    options.timeout = std::chrono::seconds(30);
    auto result = co_await client.call(echo, options);
    out = result ? std::string(result->result()) : "failed: " + result.error().code.message();
}

inline std::string call_echo_async(const std::string& url) {
    net::io_context io;
    mr::beast::transport_options options;
    options.url = url;
    async_mcp_client client{io.get_executor(), std::in_place, io.get_executor(), options};
    std::string out;
    net::co_spawn(io, call_echo(client, out), net::detached);
    io.run();  // until the call, and any reconnect it started, is done: the client outlives both
    return out;
}

}  // namespace app
#endif
