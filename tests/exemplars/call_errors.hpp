#pragma once
// Reading a call_error: why the call stopped, what the server said last, what to do next.
#include <mcp_recovery/error.hpp>
#include <mcp_recovery/recovery_plan.hpp>

#include <chrono>
#include <string>
#include <system_error>

namespace app {

inline std::string explain(const mcp_recovery::call_error& e) {
    namespace mr = mcp_recovery;
    std::string s = e.code.message();  // e.code compares equal to an mr::errc value
    if (e.last_failure) {              // absent when the call gave up before any attempt failed
        const mr::failure& f = *e.last_failure;
        if (f.http_status != 0) s += "; HTTP " + std::to_string(f.http_status);
        if (f.jsonrpc_code) s += "; JSON-RPC " + std::to_string(*f.jsonrpc_code);
        if (f.transport_error) s += "; " + f.transport_error.message();
        if (!f.message.empty()) s += "; \"" + f.message.str() + '"';
    }
    if (e.code == mr::errc::not_replayable) {
        s += " -> it may have run: check before you do it again";
    } else if (e.code == mr::errc::circuit_open) {
        const auto wait = std::chrono::duration_cast<std::chrono::seconds>(e.retry_after);
        s += " -> reconnects keep failing; next try in " + std::to_string(wait.count()) + " s";
    } else if (e.code == mr::errc::unauthorized) {
        s += " -> new credentials needed";
    }
    return s;
}

// The same call, three ways of hearing about a failure.
template <class Client>
std::string call_three_ways(Client& client, const typename Client::request_type& request) {
    auto result = client.try_call(request);  // 1. outcome<response, call_error>: never throws for failures
    if (!result) return explain(result.error());

    std::error_code ec;
    client.call(request, mcp_recovery::call_options{}, ec);  // 2. sets ec to the errc (the reason only)
    if (ec) return ec.message();

    try {
        client.call(request);  // 3. throws recovery_error, a std::system_error
    } catch (const mcp_recovery::recovery_error& e) {
        return explain(e.error());  // e.what() also describes the last failure
    }
    return "ok";
}

}  // namespace app
