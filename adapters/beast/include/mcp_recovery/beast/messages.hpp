// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_MESSAGES_HPP
#define MCP_RECOVERY_BEAST_MESSAGES_HPP

/// What the Beast transports send and return: `request` and `response`. Standard library only.

#include "mcp_recovery/beast/conversation.hpp"
#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast {

/// A JSON-RPC request to send: the method and its `params` as JSON text (an object, or empty for
/// none). The transport adds `jsonrpc` and the `id`, which it assigns itself (a replay gets a new one).
struct request {
    std::string method;
    std::string params;
    /// Progress of this call: when set, the request carries `_meta.progressToken` (its own id,
    /// unless `params` has a `_meta` of its own) and each `notifications/progress` the server sends
    /// for it is passed here, on the thread that reads the call's stream. A replay keeps it.
    std::function<void(const progress_update&)> on_progress = {};
};

/// The server's JSON-RPC response to one request: the message text and its envelope fields.
///
/// A JSON-RPC error response is a response, not a failure: check `is_error()`.
struct response {
    std::string message;  ///< The whole JSON-RPC response object as the server sent it.
    envelope fields;      ///< id, error code and message, result.protocolVersion, ...

    bool is_error() const noexcept { return fields.has_error; }
    /// The raw JSON text of `result` (empty when the response is an error).
    std::string_view result() const {
        auto r = find_member(message, "result");
        return r ? *r : std::string_view{};
    }
};

}  // namespace mcp_recovery::beast

#endif
