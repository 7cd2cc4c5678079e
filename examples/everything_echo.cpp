// Calls the echo tool of server-everything, the MCP reference server, through a recovering client:
//   node tests/interop/start_everything.mjs --port 3001 &
//   everything_echo http://127.0.0.1:3001/mcp "hi"            -> Echo: hi
#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/beast/tools.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
    namespace mr = mcp_recovery;
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: everything_echo URL [TEXT]\n";
        return 2;
    }
    mr::beast::transport_options transport;
    transport.url = argv[1];
    // The policies: the defaults (default_classifier, retry_once, single_flight_reconnector<>...),
    // then only what differs from them.
    using policies = mr::recovery_policies<>::with_backoff_policy<mr::exponential_backoff>  // wait when throttled
                                            ::with_observer<mr::counting_observer>;        // count what recovery did
    mr::basic_recovering_client<mr::beast::streamable_http_transport, policies> client{std::in_place, transport};

    mr::call_options options;
    options.timeout = std::chrono::seconds(30);  // one deadline for the whole call, waits included

    // The server's tools and their annotations (readOnlyHint...): what makes a tools/call safe to
    // send again. The first call opens the session (initialize).
    auto tools = mr::beast::list_tools(client, options);
    if (!tools) {
        std::cerr << "tools/list failed: " << tools.error().message() << '\n';
        return 1;
    }
    // From now on every tools/call is replayed after a failure exactly when its tool is
    // read-only or idempotent (asked only after a failure: the success path does not pay).
    client.use_tool_annotations(mr::beast::annotations_from(std::make_shared<const mr::beast::tool_catalogue>(*tools)));

    std::string params = R"({"name":"echo","arguments":{"message":)";  // server-everything's echo takes "message"
    mr::beast::append_json_string(params, argc > 2 ? argv[2] : "hello from mcp-recovery");
    params += "}}";
    const mr::beast::request echo{"tools/call", params};
    auto result = client.try_call(echo, options);  // echo is read-only: replayable
    if (!result && result.error().code == mr::errc::not_replayable) {
        std::cerr << "outcome unknown: the server may have run it\n";  // never replayed behind your back
        return 1;
    }
    if (!result) {
        std::cerr << "failed: " << mr::recovery_error(result.error()).what() << '\n';
        return 1;
    }
    if (result->is_error()) {  // a JSON-RPC error: an unknown method, malformed params
        std::cerr << "JSON-RPC error: " << result->fields.error_message.value_or("?") << '\n';
        return 1;
    }
    if (mr::beast::is_tool_error(*result)) {  // the tool failed or refused its arguments: a result, isError true
        std::cerr << "tool error: " << mr::beast::tool_result_text(*result) << '\n';
        return 1;
    }
    std::cout << mr::beast::tool_result_text(*result) << '\n';  // "Echo: hi"
    return 0;
}
