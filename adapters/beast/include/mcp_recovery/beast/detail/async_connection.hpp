// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_ASYNC_CONNECTION_HPP
#define MCP_RECOVERY_BEAST_DETAIL_ASYNC_CONNECTION_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_config.hpp"
#include "mcp_recovery/beast/detail/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <memory>
#include <string>
#include <system_error>

namespace mcp_recovery::beast::detail {

/// One HTTP/1.1 connection on the caller's executor, for coroutines. Every step is bounded by
/// Beast's `expires_after` (resolve by a timer of its own), each also by the call's deadline.
/// Where Asio has per-operation cancellation (Boost >= 1.80), the awaiting coroutine's
/// cancellation slot reaches every operation: a cancelled step ends with `operation_canceled`.
/// Used by one coroutine at a time; the transport pools them.
class async_connection : public connection_streams {
public:
    template <class T>
    using awaitable = net::awaitable<T>;

    explicit async_connection(net::any_io_executor ex) : ex_(std::move(ex)) {}
    async_connection(const async_connection&) = delete;

    /// The executor every operation of this connection runs on (a strand, from the transport).
    const net::any_io_executor& get_executor() const noexcept { return ex_; }
    async_connection& operator=(const async_connection&) = delete;

    /// Resolves, connects and (for https) handshakes; failures are `delivery::not_sent`.
    template <class TlsContext>
    awaitable<std::error_code> open(const endpoint_url& url, TlsContext* tls_context, duration timeout,
                                    time_point deadline) {
        boost::system::error_code ec;
        tcp::resolver::results_type endpoints;
        if (auto literal = literal_endpoint(url)) {
            endpoints = std::move(*literal);
        } else {
            // The resolver has no timeout of its own: a timer cancels it. Both handlers only hold
            // the shared state, which outlives whichever finishes last.
            struct resolve_state {
                explicit resolve_state(const net::any_io_executor& e) : resolver(e), timer(e) {}
                tcp::resolver resolver;
                net::steady_timer timer;
                bool timed_out = false;
            };
            auto state = std::make_shared<resolve_state>(ex_);
            state->timer.expires_after(budget(timeout, deadline));
            state->timer.async_wait([state](const boost::system::error_code& e) {
                if (!e) {
                    state->timed_out = true;
                    state->resolver.cancel();
                }
            });
            endpoints = co_await state->resolver.async_resolve(url.host, std::to_string(url.port),
                                                               net::redirect_error(net::use_awaitable, ec));
            state->timer.cancel();
            if (state->timed_out) co_return std::make_error_code(std::errc::timed_out);
            if (ec) co_return portable(ec);
        }

        auto& tcp_layer = make_stream(ex_, tls_context);
        tcp_layer.expires_after(budget(timeout, deadline));
        co_await tcp_layer.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return portable(ec);
        if (std::error_code e = after_connect(url)) co_return e;
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) {
            tcp_layer.expires_after(budget(timeout, deadline));
            co_await tls_->async_handshake(net::ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
            if (std::error_code e = handshake_result(ec)) co_return e;
        }
#endif
        open_ = true;
        co_return std::error_code{};
    }

    /// Writes a whole request, after `preamble` when given (pipelined: both before either answer
    /// is read). `written` reports whether any byte of `request` left, for the delivery decision.
    template <class Request>
    awaitable<std::error_code> write(Request& request, duration timeout, time_point deadline, bool& written,
                                     bhttp::request<bhttp::string_body>* preamble = nullptr) {
        boost::system::error_code ec;
        lowest().expires_after(budget(timeout, deadline));
        std::size_t n = 0;
        written = false;
        if (preamble) {
            std::size_t ahead = 0;
            const std::string bytes = pipelined_bytes(*preamble, request, ahead);
            if (plain_) n = co_await net::async_write(*plain_, net::buffer(bytes), net::redirect_error(net::use_awaitable, ec));
#if defined(MCP_RECOVERY_BEAST_TLS)
            else n = co_await net::async_write(*tls_, net::buffer(bytes), net::redirect_error(net::use_awaitable, ec));
#endif
            written = n > ahead;
            co_return finish(ec);
        }
        if (plain_) n = co_await bhttp::async_write(*plain_, request, net::redirect_error(net::use_awaitable, ec));
#if defined(MCP_RECOVERY_BEAST_TLS)
        else n = co_await bhttp::async_write(*tls_, request, net::redirect_error(net::use_awaitable, ec));
#endif
        written = n > 0 || !ec;
        co_return finish(ec);
    }

    template <class Parser>
    awaitable<std::error_code> read_header(Parser& parser, duration timeout, time_point deadline) {
        boost::system::error_code ec;
        lowest().expires_after(budget(timeout, deadline));
        if (plain_) co_await bhttp::async_read_header(*plain_, buffer_, parser, net::redirect_error(net::use_awaitable, ec));
#if defined(MCP_RECOVERY_BEAST_TLS)
        else co_await bhttp::async_read_header(*tls_, buffer_, parser, net::redirect_error(net::use_awaitable, ec));
#endif
        co_return finish(ec);
    }

    /// Reads some of a `buffer_body` message into `out`; `got` is the number of bytes placed there.
    template <class Parser>
    awaitable<std::error_code> read_some(Parser& parser, char* out, std::size_t size, std::size_t& got,
                                         duration timeout, time_point deadline) {
        boost::system::error_code ec;
        parser.get().body().data = out;
        parser.get().body().size = size;
        lowest().expires_after(budget(timeout, deadline));
        if (plain_) co_await bhttp::async_read_some(*plain_, buffer_, parser, net::redirect_error(net::use_awaitable, ec));
#if defined(MCP_RECOVERY_BEAST_TLS)
        else co_await bhttp::async_read_some(*tls_, buffer_, parser, net::redirect_error(net::use_awaitable, ec));
#endif
        got = size - parser.get().body().size;
        if (ec == bhttp::error::need_buffer) ec = {};
        co_return finish(ec);
    }

private:
    net::any_io_executor ex_;
};

}  // namespace mcp_recovery::beast::detail

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
