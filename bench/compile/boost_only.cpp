// Compile-time benchmark TU (bench/compile_times.sh): the baseline. Only the Boost.Beast/Asio
// headers that the synchronous transport includes (detail/connection.hpp, detail/transport_base.hpp),
// plus one small synchronous HTTP exchange over them, so that the Boost share of beast_sync.cpp
// (parsing + the Beast/Asio templates any HTTP client instantiates) can be told from ours.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <string>

#if !defined(BOOST_ONLY_PARSE)
int main() {
    namespace net = boost::asio;
    namespace http = boost::beast::http;
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve("127.0.0.1", "3001"));
    http::request<http::string_body> req{http::verb::post, "/mcp", 11};
    req.set(http::field::content_type, "application/json");
    req.body() = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    http::read_header(stream, buffer, parser);
    http::read(stream, buffer, parser);
    return parser.get().result_int() == 200 ? 0 : 1;
}
#else
int main() { return 0; }
#endif
