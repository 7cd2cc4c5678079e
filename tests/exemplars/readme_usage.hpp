#include <mcp_recovery/beast/streamable_http_transport.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <chrono>
#include <string>

inline std::string call_echo(const std::string& url) {  // url: "http://127.0.0.1:3000/mcp"
    namespace mr = mcp_recovery;
    mr::beast::transport_options transport;
    transport.url = url;
    mr::recovering_client<mr::beast::streamable_http_transport,  // the connection; then the policies:
                          mr::default_classifier,                // what a failure means
                          mr::retry_once,                        // whether to try again
                          mr::exponential_backoff,               // how long to wait when throttled
                          mr::single_flight_reconnector<>,       // one reconnect for all callers
                          mr::counting_observer>                 // what recovery did
        client{std::in_place, transport};
    client.transport().connect();  // initialize now; if it fails, the first call tries again

    mr::call_options options;
    options.timeout = std::chrono::seconds(30);  // one deadline for the whole call, waits included
    auto result = client.try_call({"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"}, options);
    if (!result && result.error().code == mr::errc::not_replayable)
        return "outcome unknown: the server may have run it";  // never replayed behind your back
    if (!result) return "failed: " + result.error().code.message();
    return std::string(result->result());  // the JSON-RPC result
}
