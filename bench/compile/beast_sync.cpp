// Compile-time benchmark TU (bench/compile_times.sh): a user file that calls the synchronous
// Beast transport through a recovering client (the issue-15 case).
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <chrono>
#include <utility>

int main(int argc, char** argv) {
    namespace mr = mcp_recovery;
    mr::beast::transport_options transport;
    transport.url = argc > 1 ? argv[1] : "http://127.0.0.1:3001/mcp";
    mr::recovering_client<mr::beast::streamable_http_transport> client{std::in_place, std::move(transport)};
    mr::call_options options;
    options.timeout = std::chrono::seconds(10);
    auto r = client.try_call(mr::beast::request{"tools/list", "{}"}, options);
    return r && !r->is_error() ? 0 : 1;
}
