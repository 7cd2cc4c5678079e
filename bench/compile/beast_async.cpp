// Compile-time benchmark TU (bench/compile_times.sh, C++20): a user file that co_awaits
// async_recovering_client over the awaitable Beast transport.
#include <utility>  // first: Boost 1.74's Asio needs it with g++ 12 in C++20

#include <mcp_recovery/beast/async_client.hpp>
#include <mcp_recovery/beast/async_streamable_http_transport.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

int main(int argc, char** argv) {
    namespace mr = mcp_recovery;
    namespace mb = mcp_recovery::beast;
    namespace net = boost::asio;
    net::io_context ioc;
    mb::transport_options o;
    o.url = argc > 1 ? argv[1] : "http://127.0.0.1:3001/mcp";
    mb::async_recovering_client<mb::async_streamable_http_transport> client(ioc.get_executor(), std::in_place,
                                                                           ioc.get_executor(), o);
    bool ok = false;
    net::co_spawn(ioc, [&]() -> net::awaitable<void> {
        auto r = co_await client.call(mb::request{"tools/list", "{}"});
        ok = r && !r->is_error();
    }, net::detached);
    ioc.run();
    return ok ? 0 : 1;
}
