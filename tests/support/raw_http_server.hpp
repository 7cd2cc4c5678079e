// A loopback HTTP server that answers with whatever bytes a test scripts: malformed JSON, hostile
// headers, truncated streams, redirects, silence. For bad-input tests of the transport.
#ifndef MCP_RECOVERY_TESTS_RAW_HTTP_SERVER_HPP
#define MCP_RECOVERY_TESTS_RAW_HTTP_SERVER_HPP

#include <utility>

#include <boost/asio.hpp>
#if defined(MCP_RECOVERY_BEAST_TLS)
#include <boost/asio/ssl.hpp>
#endif

#include <atomic>
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
};

/// Serves one connection at a time on 127.0.0.1 (ephemeral port). Each request (headers and a
/// Content-Length body) is handed to the script, whose answer is written back. Stops on stop() or
/// destruction, closing any connection, hung ones included.
class raw_http_server {
public:
    using script = std::function<raw_answer(const std::string& request)>;

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
    std::vector<std::string> received() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }

    void stop() {
        if (stopped_.exchange(true)) return;
        boost::system::error_code ignored;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (current_) current_->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        }
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

    template <class Stream>
    void serve(Stream& socket) {
        namespace net = boost::asio;
        std::string buffer;
        for (;;) {
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
            if (a.hang) {
                char byte;
                socket.read_some(net::buffer(&byte, 1), ec);  // returns when stop() closes it, or the client does
                return;
            }
            if (!a.keep_open) return;
        }
    }

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_{ioc_};
    script script_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopped_{false};
    std::atomic<std::size_t> requests_{0};
    mutable std::mutex mutex_;
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
