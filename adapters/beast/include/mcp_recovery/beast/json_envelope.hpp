// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_JSON_ENVELOPE_HPP
#define MCP_RECOVERY_BEAST_JSON_ENVELOPE_HPP

/// The JSON-RPC 2.0 envelope of an MCP message, a strict bounded reader for it, and the
/// `json_policy` concept that lets users plug in their own JSON library. Standard library only.
///
/// Includes the parts, each usable on its own:
/// - `json_policy.hpp`: `envelope`, `json_error`, `json_limits`, the `json_policy` concept;
/// - `builtin_json.hpp`: `builtin_json`, the reader shipped with the library;
/// - `json_string.hpp`: `append_json_string`, for writing JSON strings.

#include "mcp_recovery/beast/builtin_json.hpp"
#include "mcp_recovery/beast/json_policy.hpp"
#include "mcp_recovery/beast/json_string.hpp"

#endif
