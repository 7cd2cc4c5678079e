// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_CONNECTION_HPP
#define MCP_RECOVERY_BEAST_DETAIL_CONNECTION_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/sync_resolver.hpp"
#include "mcp_recovery/beast/url.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
// The parts of Beast's HTTP we use, not the <boost/beast/http.hpp> umbrella (which adds file_body,
// dynamic_body and the rest: about 0.5 s of parsing in every file, docs/compile-time.md).
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#if defined(MCP_RECOVERY_BEAST_TLS)
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <cerrno>
#include <sys/socket.h>
#endif
#if defined(__linux__)
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

namespace mcp_recovery::beast::detail {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

/// `min(now + timeout, deadline)` as a duration from now, never negative.
inline duration budget(duration timeout, time_point deadline) {
    const time_point now = clock_type::now();
    if (deadline <= now) return duration::zero();
    if (deadline == time_point::max()) return timeout;
    return std::min(timeout, deadline - now);
}

/// Maps Beast/Asio codes to the portable ones the classifier knows.
inline std::error_code portable(const boost::system::error_code& ec) {
    if (ec == boost::beast::error::timeout) return std::make_error_code(std::errc::timed_out);
    if (ec == net::error::eof || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
        return make_error_code(transport_errc::stream_ended);
    if (ec == net::error::operation_aborted) return std::make_error_code(std::errc::operation_canceled);
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
        return make_error_code(transport_errc::response_too_large);
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category())
        return make_error_code(transport_errc::malformed_response);
#if defined(MCP_RECOVERY_BEAST_TLS)
    if (ec.category() == net::error::get_ssl_category() || ec.category() == net::ssl::error::get_stream_category())
        return make_error_code(transport_errc::tls_failed);
#endif
    return static_cast<std::error_code>(ec);  // system and generic errors keep their std category
}

/// Whether the peer closed an idle socket (a pending EOF or reset), without blocking. Unsolicited
/// bytes waiting on it are `connection_streams::unread_on_socket`'s to find, before this.
inline bool idle_socket_closed(tcp::socket& socket) {
    boost::system::error_code ec;
    char byte = 0;
    const bool was_non_blocking = socket.non_blocking();
    socket.non_blocking(true, ec);
    if (ec) return true;
    socket.receive(net::buffer(&byte, 1), tcp::socket::message_peek, ec);
    const bool open = ec == net::error::would_block || ec == net::error::try_again;
    boost::system::error_code ignored;
    socket.non_blocking(was_non_blocking, ignored);
    return !open;  // 0 bytes (EOF) or an error
}

/// `preamble` and `request` serialized one after the other, to go in one write (HTTP/1.1
/// pipelining: a server reads both at once and answers them in order); `ahead` is the size of
/// `preamble`'s part.
template <class Request>
std::string pipelined_bytes(const bhttp::request<bhttp::string_body>& preamble, const Request& request,
                            std::size_t& ahead) {
    std::ostringstream out;
    out << preamble;
    ahead = static_cast<std::size_t>(out.tellp());
    out << request;
    return std::move(out).str();
}

/// The streams of one HTTP/1.1 connection (plain TCP, or TLS over TCP) and its state, shared by
/// the blocking `connection` and the awaited `async_connection`.
class connection_streams {
public:
#if defined(MCP_RECOVERY_BEAST_TLS)
    using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
#endif

    /// Whether the peer closed this idle connection (a pending EOF or reset), without blocking.
    bool peer_closed() { return !open_ || idle_socket_closed(lowest().socket()); }

    void close() noexcept {
        open_ = false;
        if (!has_stream()) return;
        boost::system::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }

    bool is_open() const noexcept { return open_; }

    /// Bytes read from the socket that no response has consumed yet.
    std::size_t buffered() const noexcept { return buffer_.size(); }

    /// Whether bytes wait unread on the socket (checked without blocking; an error counts as yes).
    bool unread_on_socket() {
        if (!open_) return false;
        boost::system::error_code ec;
        const std::size_t available = lowest().socket().available(ec);
        return ec || available > 0;
    }

    /// After an EOF: whether the peer has reset the connection (RST) since, checked without
    /// blocking. This tells a peer that got our data after it had closed from one that read
    /// everything and closed gracefully. After a FIN a read only ever says EOF, so the reset is read
    /// from the socket's pending error (SO_ERROR; Linux reports a reset that follows the peer's FIN
    /// as EPIPE); that clears it, which does not matter on a connection that is over. Elsewhere
    /// than POSIX: false (unknown, the safe answer).
    bool reset_by_peer() {
#if defined(__unix__) || defined(__APPLE__)
        if (!has_stream() || !lowest().socket().is_open()) return false;
        int pending = 0;
        socklen_t size = sizeof pending;
        return ::getsockopt(lowest().socket().native_handle(), SOL_SOCKET, SO_ERROR, &pending, &size) == 0 &&
               (pending == EPIPE || pending == ECONNRESET);
#else
        return false;
#endif
    }

    /// The kernel's smoothed round-trip time of this TCP connection (Linux: TCP_INFO), if known.
    std::optional<duration> smoothed_rtt() {
#if defined(__linux__)
        if (!has_stream() || !lowest().socket().is_open()) return std::nullopt;
        tcp_info info{};
        socklen_t size = sizeof info;
        if (::getsockopt(lowest().socket().native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return std::nullopt;
        return std::chrono::duration_cast<duration>(std::chrono::microseconds(info.tcpi_rtt));
#else
        return std::nullopt;
#endif
    }

    time_point idle_since{};
    /// Not to be reused after this (the server's announced keep-alive timeout, less a margin).
    time_point reuse_until = time_point::max();
    bool reused = false;
    const std::string& last_tls_error() const noexcept { return last_tls_error_; }

protected:
    connection_streams() = default;
    ~connection_streams() = default;

    /// Creates the stream on `context` (an io_context or an executor): TLS over TCP when
    /// `tls_context` is given. Returns the TCP layer, for connecting.
    template <class ContextOrExecutor, class TlsContext>
    boost::beast::tcp_stream& make_stream(ContextOrExecutor& context, TlsContext* tls_context) {
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_context) {
            tls_ = std::make_unique<tls_stream>(context, *tls_context);
            return tls_->next_layer();
        }
#else
        (void)tls_context;
#endif
        plain_ = std::make_unique<boost::beast::tcp_stream>(context);
        return *plain_;
    }

    boost::beast::tcp_stream& lowest() {
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) return tls_->next_layer();
#endif
        return *plain_;
    }

    bool has_stream() const noexcept {
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) return true;
#endif
        return plain_ != nullptr;
    }

    /// Calls `f` with the stream to read and write (the TLS stream, or the TCP one).
    template <class F>
    decltype(auto) with_stream(F&& f) {
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) return f(*tls_);
#endif
        return f(*plain_);
    }

    /// The endpoint of a URL whose host is an IP address (no resolver needed), else nothing.
    static std::optional<tcp::resolver::results_type> literal_endpoint(const endpoint_url& url) {
        boost::system::error_code ec;
        const auto address = net::ip::make_address(url.host, ec);
        if (ec) return std::nullopt;
        return tcp::resolver::results_type::create(tcp::endpoint(address, url.port), url.host, std::to_string(url.port));
    }

    /// After connecting: no Nagle delay; for TLS, SNI and host name verification set up for the
    /// handshake. An error is `tls_failed`.
    std::error_code after_connect(const endpoint_url& url) {
        boost::system::error_code ignored;
        lowest().socket().set_option(tcp::no_delay(true), ignored);
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) {
            if (!SSL_set_tlsext_host_name(tls_->native_handle(), url.host.c_str()))
                return make_error_code(transport_errc::tls_failed);
            tls_->set_verify_callback(net::ssl::host_name_verification(url.host));
        }
#else
        (void)url;
#endif
        return {};
    }

    /// The outcome of a TLS handshake: `tls_failed`, keeping OpenSSL's reason for the message.
    std::error_code handshake_result(const boost::system::error_code& ec) {
        if (!ec) return {};
        last_tls_error_ = ec.message();
        return make_error_code(transport_errc::tls_failed);
    }

    /// `ec` as the portable code, marking the connection broken on any error.
    std::error_code finish(const boost::system::error_code& ec) {
        if (!ec) return {};
        open_ = false;
        return portable(ec);
    }

    std::unique_ptr<boost::beast::tcp_stream> plain_;
#if defined(MCP_RECOVERY_BEAST_TLS)
    std::unique_ptr<tls_stream> tls_;
#endif
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
    std::string last_tls_error_;
};

/// The private io_context of a blocking connection. A base class declared before
/// `connection_streams`, so that it is built before the streams and destroyed after them.
struct private_io_context {
    net::io_context ioc_{1};
};

/// One HTTP/1.1 connection with its own io_context, so that every blocking step is an async
/// operation bounded by a real timer (Beast's `expires_after` does not apply to blocking calls).
/// Used by one thread at a time; the transport pools them.
class connection : private private_io_context, public connection_streams {
public:
    connection() = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Resolves, connects and (for https) handshakes. Nothing of a request has been sent yet, so
    /// every failure here is `delivery::not_sent`.
    template <class TlsContext>
    std::error_code open(const endpoint_url& url, TlsContext* tls_context, duration timeout, time_point deadline) {
        boost::system::error_code ec;
        tcp::resolver::results_type endpoints;
        if (auto literal = literal_endpoint(url)) {
            endpoints = std::move(*literal);
        } else {
            // Not Asio's async_resolve on `ioc_`: it would start a thread for this io_context and
            // keep it as long as the connection lives. The process-wide service's threads look it
            // up; this waits at most the budget (and ends on `interrupt()`), see sync_resolver.hpp.
            ec = sync_resolver::shared().resolve(url.host, std::to_string(url.port), ioc_, budget(timeout, deadline),
                                                 endpoints);
            if (ec == net::error::timed_out) return std::make_error_code(std::errc::timed_out);
            if (ec) return portable(ec);
        }

        auto& tcp_layer = make_stream(ioc_, tls_context);
        tcp_layer.expires_after(budget(timeout, deadline));
        tcp_layer.async_connect(endpoints, [&](const boost::system::error_code& e, const tcp::endpoint&) { ec = e; });
        run();
        if (ec) return portable(ec);
        if (std::error_code e = after_connect(url)) return e;
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (tls_) {
            tcp_layer.expires_after(budget(timeout, deadline));
            tls_->async_handshake(net::ssl::stream_base::client, [&](const boost::system::error_code& e) { ec = e; });
            run();
            if (std::error_code e = handshake_result(ec)) return e;
        }
#endif
        open_ = true;
        return {};
    }

    /// Writes a whole request, after `preamble` when given (pipelined: both before either answer
    /// is read). `written` reports whether any byte of `request` left, for the delivery decision.
    template <class Request>
    std::error_code write(Request& request, duration timeout, time_point deadline, bool& written,
                          bhttp::request<bhttp::string_body>* preamble = nullptr) {
        boost::system::error_code ec;
        std::size_t n = 0;
        written = false;
        lowest().expires_after(budget(timeout, deadline));
        if (preamble) {
            std::size_t ahead = 0;
            const std::string bytes = pipelined_bytes(*preamble, request, ahead);
            with_stream([&](auto& s) {
                net::async_write(s, net::buffer(bytes), [&](const boost::system::error_code& e, std::size_t b) {
                    ec = e;
                    n = b;
                });
            });
            run();
            written = n > ahead;
            return finish(ec);
        }
        with_stream([&](auto& s) {
            bhttp::async_write(s, request, [&](const boost::system::error_code& e, std::size_t b) {
                ec = e;
                n = b;
            });
        });
        run();
        written = n > 0 || !ec;
        return finish(ec);
    }

    template <class Parser>
    std::error_code read_header(Parser& parser, duration timeout, time_point deadline) {
        boost::system::error_code ec;
        lowest().expires_after(budget(timeout, deadline));
        with_stream([&](auto& s) {
            bhttp::async_read_header(s, buffer_, parser, [&](const boost::system::error_code& e, std::size_t) { ec = e; });
        });
        run();
        return finish(ec);
    }

    /// Reads some of a `buffer_body` message into `out`; returns bytes placed there.
    template <class Parser>
    std::error_code read_some(Parser& parser, char* out, std::size_t size, std::size_t& got, duration timeout,
                              time_point deadline) {
        boost::system::error_code ec;
        parser.get().body().data = out;
        parser.get().body().size = size;
        lowest().expires_after(budget(timeout, deadline));
        with_stream([&](auto& s) {
            bhttp::async_read_some(s, buffer_, parser, [&](const boost::system::error_code& e, std::size_t) { ec = e; });
        });
        run();
        got = size - parser.get().body().size;
        if (ec == bhttp::error::need_buffer) ec = {};
        return finish(ec);
    }

    /// From another thread: ends the blocking step in progress at once (its result is then
    /// meaningless: the caller must abandon the connection, never run another step on it).
    /// Thread-safe; a step that starts just after it is not ended: call again until the user stops.
    void interrupt() noexcept { ioc_.stop(); }

private:
    void run() {
        ioc_.restart();
        ioc_.run();
    }
};

}  // namespace mcp_recovery::beast::detail

#endif
