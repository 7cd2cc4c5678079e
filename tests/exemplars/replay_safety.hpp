#pragma once
// Replay safety: telling the library a request's method, and deciding idempotency per call.
#include <mcp_recovery/idempotency.hpp>
#include <mcp_recovery/recovery_plan.hpp>

#include <string>
#include <string_view>

namespace app {

// A request type that keeps its JSON-RPC method under another name.
struct rpc_call {
    std::string rpc_name;
    std::string params;
};

}  // namespace app

// Without this, an rpc_call has no method, and counts as not idempotent unless a call says so.
template <>
struct mcp_recovery::request_traits<app::rpc_call> {
    static std::string_view method(const app::rpc_call& r) noexcept { return r.rpc_name; }
};

namespace app {

// A tools/call of a tool that tools/list annotated readOnlyHint or idempotentHint.
inline mcp_recovery::call_options with_annotations(const mcp_recovery::tool_annotations& hints) {
    mcp_recovery::call_options o;
    o.annotations = hints;
    return o;
}

// A write you made safe to repeat (say, with a request key the server deduplicates).
inline mcp_recovery::call_options safe_to_repeat() {
    mcp_recovery::call_options o;
    o.idempotency = mcp_recovery::idempotency::idempotent;
    return o;
}

// A request never to be sent twice once it may have arrived, whatever its method says.
inline mcp_recovery::call_options never_repeat() {
    mcp_recovery::call_options o;
    o.idempotency = mcp_recovery::idempotency::non_idempotent;
    return o;
}

}  // namespace app
