#pragma once
// Getting started: a recovering client over the client you already have (callable adapter).
#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include "my_client.hpp"  // your client: connect_and_initialize(url), call(method, params), my_http_error

#include <exception>
#include <string>
#include <utility>

namespace app {

namespace mr = mcp_recovery;
namespace cb = mcp_recovery::callable;

struct my_request {
    std::string method;  // read by the recovering client: it decides what is safe to replay
    std::string params;
};

// What your client throws, as a failure the classifier can read. Delivery is the part that matters.
struct my_translator {
    mr::failure operator()(std::exception_ptr e) const {
        try {
            std::rethrow_exception(e);
        } catch (const my_http_error& x) {
            mr::failure f;
            f.http_status = x.status;
            f.message = x.what();
            f.had_session_id = true;
            f.delivered = mr::delivery::rejected;  // the server answered: it did not run the request
            return f;
        } catch (...) {
            return cb::default_translator{}(std::current_exception());  // delivery unknown: the safe answer
        }
    }
};

inline std::string call_through_my_client(const std::string& url) {
    cb::client_slot<my_client> slot{connect_and_initialize(url)};  // the current client object
    auto transport = cb::make_transport<my_request, std::string>(
        [&](const my_request& r) { return slot.get()->call(r.method, r.params); },  // one attempt
        [&] { slot.reset(connect_and_initialize(url)); },                         // a new session
        my_translator{});
    mr::recovering_client<decltype(transport), cb::sdk_classifier> client{std::move(transport)};

    auto result = client.try_call(my_request{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"});
    return result ? *result : "failed: " + result.error().code.message();
}

}  // namespace app
