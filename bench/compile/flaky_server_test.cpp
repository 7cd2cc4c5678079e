// Compile-time benchmark TU (bench/compile_times.sh): a test file of the kind the project's own
// tests are, the test server flaky_server with the synchronous transport and a recovering client.
#include <utility>  // first: Boost 1.74's Asio needs it with g++ 12 in C++20

#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/beast/testing/flaky_server.hpp>
#include <mcp_recovery/recovering_client.hpp>

int main() {
    namespace mr = mcp_recovery;
    mr::beast::testing::flaky_server server;
    mr::beast::transport_options transport;
    transport.url = server.url();
    mr::recovering_client<mr::beast::streamable_http_transport> client{std::in_place, std::move(transport)};
    auto r = client.try_call(mr::beast::request{"tools/list", "{}"}, mr::call_options{});
    return r && !r->is_error() ? 0 : 1;
}
