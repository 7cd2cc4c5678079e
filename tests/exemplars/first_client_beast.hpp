#pragma once
// Getting started: a recovering client over the Boost.Beast Streamable-HTTP transport.
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace app {

namespace mr = mcp_recovery;

// Every policy at its default: default_classifier, retry_once, no_backoff,
// single_flight_reconnector<>, null_observer, steady_clock_source.
using mcp_client = mr::recovering_client<mr::beast::streamable_http_transport>;

inline int first_call(const std::string& url) {
    mr::beast::transport_options options;
    options.url = url;                 // http://host:port/path; https: see docs/adapters.md
    options.client_name = "my-agent";  // sent with initialize, the same on every reconnect
    mcp_client client{std::in_place, options};

    // initialize + notifications/initialized. Optional: the first call would do it, but this way a
    // wrong URL shows up here, and the call keeps its retry for a session lost later.
    if (auto opened = client.transport().connect(); !opened) {
        std::cerr << "no session: HTTP " << opened.error().http_status << ' ' << opened.error().message.str() << '\n';
        return 1;
    }

    mr::call_options call;
    call.timeout = std::chrono::seconds(30);                           // the whole call, recovery included
    call.annotations = mr::tool_annotations{/*read_only_hint=*/true};  // from tools/list: echo only reads
    const mr::beast::request echo{"tools/call", R"({"name":"echo","arguments":{"text":"hello"}})"};

    auto result = client.try_call(echo, call);
    if (!result) {  // recovery could not help: see "Reading a call_error"
        std::cerr << "call failed: " << result.error().code.message() << '\n';
        return 1;
    }
    if (result->is_error()) {  // a JSON-RPC error is an answer, not a failure: never retried
        std::cerr << "server said: " << result->fields.error_message.value_or("?") << '\n';
        return 1;
    }
    std::cout << result->result() << '\n';  // {"content":[{"type":"text","text":"hello"}]}
    return 0;
}

}  // namespace app
