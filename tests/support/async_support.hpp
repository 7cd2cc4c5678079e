// Test support for the asynchronous (C++20 coroutine) parts: running one awaitable to completion.
#ifndef MCP_RECOVERY_TESTS_ASYNC_SUPPORT_HPP
#define MCP_RECOVERY_TESTS_ASYNC_SUPPORT_HPP

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
namespace mcp_recovery_tests {

/// Runs one awaitable to completion on `ioc` and returns its value (exceptions are rethrown).
template <class T>
T run(boost::asio::io_context& ioc, boost::asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
        error = e;
        out = std::move(v);
    });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
}

}  // namespace mcp_recovery_tests
#endif

#endif
