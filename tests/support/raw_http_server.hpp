// A loopback HTTP server that answers with whatever bytes a test scripts: malformed JSON, hostile
// headers, truncated streams, redirects, silence, bytes dripped over time, unsolicited responses,
// idle connections closed under a request. For bad-input and hostile-server tests of the transport.
#ifndef MCP_RECOVERY_TESTS_RAW_HTTP_SERVER_HPP
#define MCP_RECOVERY_TESTS_RAW_HTTP_SERVER_HPP

#include <utility>

#include <boost/asio.hpp>
#if defined(MCP_RECOVERY_BEAST_TLS)
#include <boost/asio/ssl.hpp>
#endif

#include <poll.h>
#include <sys/ioctl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mcp_recovery_tests {

/// What the server does with one request.
struct raw_answer {
    std::string bytes;           ///< Written as they are.
    bool hang = false;           ///< After writing, keep the connection open and silent until stop().
    bool keep_open = false;      ///< After writing, read the next request on the same connection.
    /// Written after `bytes`, one piece at a time, `every` apart (before hang / keep_open apply):
    /// keep-alive comments of an event stream, a body trickled byte by byte, a second response
    /// nobody asked for. Stops early when a write fails (the client left) or on stop().
    std::vector<std::string> later = {};
    std::chrono::milliseconds every{0};
    /// > 0 with keep_open: the connection stays open this long after the answer, then the server
    /// closes it whatever arrived meanwhile, never reading it (a request sent on it is lost unread
    /// and the kernel answers it with a reset): a server that keeps no connection alive but does
    /// not say so.
    std::chrono::milliseconds close_after{0};
};

/// How the server treats a connection kept open between requests.
struct raw_server_options {
    /// > 0: a short keep-alive timeout, never announced in a header. After each answer on a
    /// kept-open connection, a next request whose first byte arrives within this time is served;
    /// otherwise the server closes the connection at once (a request that arrives afterwards is
    /// never read: the kernel answers it with a reset after the FIN), as servers with short idle
    /// timeouts do, whether or not a request is on its way.
    std::chrono::milliseconds close_idle_after{0};
};

/// Serves one connection at a time on 127.0.0.1 (ephemeral port). Each request (headers and a
/// Content-Length body) is handed to the script, whose answer is written back. Stops on stop() or
/// destruction, closing any connection, hung ones included.
class raw_http_server {
public:
    using script = std::function<raw_answer(const std::string& request)>;

    raw_http_server(script s, raw_server_options options) : raw_http_server(std::move(s)) {
        std::lock_guard<std::mutex> lock(mutex_);
        options_ = options;
    }

#if defined(MCP_RECOVERY_BEAST_TLS)
    /// Serves over TLS with `tls` (certificate and key loaded); a failed handshake closes the connection.
    raw_http_server(script s, boost::asio::ssl::context& tls) : raw_http_server(std::move(s)) { tls_ = &tls; }
    std::size_t failed_handshakes() const { return failed_handshakes_.load(); }
#endif

    explicit raw_http_server(script s) : script_(std::move(s)) {
        namespace net = boost::asio;
        acceptor_.open(net::ip::tcp::v4());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this] { run(); });
    }
    raw_http_server(const raw_http_server&) = delete;
    raw_http_server& operator=(const raw_http_server&) = delete;
    ~raw_http_server() { stop(); }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
    std::uint16_t port() const noexcept { return port_; }
    std::size_t requests() const { return requests_.load(); }
    /// Connections accepted (the waker of stop() included, once stopped).
    std::size_t connections() const { return connections_.load(); }
    /// Pieces of `raw_answer::later` written so far.
    std::size_t later_written() const { return later_written_.load(); }
    /// Kept-open connections closed by `raw_server_options::close_idle_after`.
    std::size_t idle_closes() const { return idle_closes_.load(); }
    std::vector<std::string> received() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }

    void stop() {
        boost::system::error_code ignored;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_.exchange(true)) return;
            if (current_) current_->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        }
        stop_cv_.notify_all();
        // Closing a listening socket does not wake a blocking accept(): connect once to wake it.
        {
            boost::asio::io_context ioc;
            boost::asio::ip::tcp::socket waker(ioc);
            waker.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ignored);
        }
        if (thread_.joinable()) thread_.join();
        acceptor_.close(ignored);
    }

private:
    void run() {
        namespace net = boost::asio;
        while (!stopped_) {
            net::ip::tcp::socket socket(ioc_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec) return;
            connections_.fetch_add(1);
            // Each write goes out at once (no Nagle delay behind an unacknowledged answer): bytes
            // a script writes later are on the wire when later_written() counts them.
            socket.set_option(net::ip::tcp::no_delay(true), ec);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (stopped_) return;
                current_ = &socket;
            }
#if defined(MCP_RECOVERY_BEAST_TLS)
            if (tls_) {
                boost::asio::ssl::stream<net::ip::tcp::socket&> secure(socket, *tls_);
                secure.handshake(boost::asio::ssl::stream_base::server, ec);
                if (ec) failed_handshakes_.fetch_add(1);
                else serve(secure);
            } else {
                serve(socket);
            }
#else
            serve(socket);
#endif
            std::lock_guard<std::mutex> lock(mutex_);
            current_ = nullptr;
            socket.close(ec);
        }
    }

    static boost::asio::ip::tcp::socket& lowest_of(boost::asio::ip::tcp::socket& s) { return s; }
#if defined(MCP_RECOVERY_BEAST_TLS)
    static boost::asio::ip::tcp::socket& lowest_of(boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>& s) {
        return s.next_layer();
    }
#endif

    /// Waits up to `d`; false when stopped meanwhile.
    bool wait_unless_stopped(std::chrono::milliseconds d) {
        std::unique_lock<std::mutex> lock(mutex_);
        return !stop_cv_.wait_for(lock, d, [this] { return stopped_.load(); });
    }

    /// After an answer on a kept-open connection: false when the server closes it now (its idle
    /// timeout), true when a next request is to be read. `pending`: bytes already read.
    template <class Stream>
    bool survives_idle(Stream& socket, const std::string& pending) {
        const raw_server_options o = [&] {
            std::lock_guard<std::mutex> lock(mutex_);
            return options_;
        }();
        if (o.close_idle_after <= std::chrono::milliseconds::zero() || !pending.empty()) return true;
        const int fd = lowest_of(socket).native_handle();
        pollfd p{};
        p.fd = fd;
        p.events = POLLIN;
        if (::poll(&p, 1, static_cast<int>(o.close_idle_after.count())) > 0) return true;  // a request (or EOF)
        int unread = 0;
        if (::ioctl(fd, FIONREAD, &unread) == 0 && unread > 0) return true;  // arrived as the timer fired
        // The idle timeout, at once: a FIN, and a reset for whatever arrives from now on.
        boost::system::error_code ignored;
        lowest_of(socket).close(ignored);
        idle_closes_.fetch_add(1);
        return false;
    }

    template <class Stream>
    void serve(Stream& socket) {
        namespace net = boost::asio;
        std::string buffer;
        for (std::size_t served = 0; served < 100000; ++served) {
            boost::system::error_code ec;
            std::string request;
            // headers
            std::size_t header_end;
            while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
                char chunk[4096];
                const std::size_t n = socket.read_some(net::buffer(chunk), ec);
                if (ec || buffer.size() > (1 << 20)) return;
                buffer.append(chunk, n);
            }
            std::size_t length = 0;
            const std::string head = buffer.substr(0, header_end);
            for (const char* name : {"Content-Length: ", "content-length: "}) {
                const auto p = head.find(name);
                if (p != std::string::npos) length = std::stoul(head.substr(p + std::strlen(name)));
            }
            while (buffer.size() < header_end + 4 + length) {
                char chunk[4096];
                const std::size_t n = socket.read_some(net::buffer(chunk), ec);
                if (ec) return;
                buffer.append(chunk, n);
            }
            request = buffer.substr(0, header_end + 4 + length);
            buffer.erase(0, header_end + 4 + length);
            requests_.fetch_add(1);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                received_.push_back(request);
            }
            raw_answer a = script_(request);
            net::write(socket, net::buffer(a.bytes), ec);
            if (ec) return;
            for (const std::string& piece : a.later) {
                if (!wait_unless_stopped(a.every)) return;
                net::write(socket, net::buffer(piece), ec);
                if (ec) return;
                later_written_.fetch_add(1);
            }
            if (a.hang) {
                char byte;
                socket.read_some(net::buffer(&byte, 1), ec);  // returns when stop() closes it, or the client does
                return;
            }
            if (!a.keep_open) return;
            if (a.close_after > std::chrono::milliseconds::zero()) {
                wait_unless_stopped(a.close_after);
                return;  // run() closes it, whatever arrived
            }
            if (!survives_idle(socket, buffer)) return;
        }
    }

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_{ioc_};
    script script_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopped_{false};
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> later_written_{0};
    std::atomic<std::size_t> idle_closes_{0};
    mutable std::mutex mutex_;
    std::condition_variable stop_cv_;
    raw_server_options options_;
    boost::asio::ip::tcp::socket* current_ = nullptr;
#if defined(MCP_RECOVERY_BEAST_TLS)
    boost::asio::ssl::context* tls_ = nullptr;
    std::atomic<std::size_t> failed_handshakes_{0};
#endif
    std::vector<std::string> received_;
};

/// An HTTP/1.1 response with a Content-Length body.
inline std::string http_response(int status, const std::string& content_type, const std::string& body,
                                 const std::string& extra_headers = {}) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
    r += extra_headers;
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
}

/// The request's JSON-RPC id (the transport assigns integers), or -1.
inline long long request_id(const std::string& request) {
    const auto p = request.find("\"id\":");
    if (p == std::string::npos) return -1;
    return std::stoll(request.substr(p + 5));
}

/// A valid initialize answer for `request` with the given session id header value.
inline std::string initialize_answer(const std::string& request, const std::string& session_header_value,
                                     const std::string& version = "2025-06-18") {
    const std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(request_id(request)) +
                             R"(,"result":{"protocolVersion":")" + version +
                             R"(","capabilities":{},"serverInfo":{"name":"raw","version":"1"}}})";
    return http_response(200, "application/json", body, "Mcp-Session-Id: " + session_header_value + "\r\n");
}

inline bool is_method(const std::string& request, const std::string& method) {
    return request.find("\"method\":\"" + method + "\"") != std::string::npos;
}

}  // namespace mcp_recovery_tests

#endif
