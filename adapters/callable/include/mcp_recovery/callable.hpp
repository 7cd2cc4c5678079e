// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALLABLE_HPP
#define MCP_RECOVERY_CALLABLE_HPP

/// The callable adapter in one include: any MCP client as a transport (`callable::make_transport`,
/// `callable::transport`), error translators, presets for the errors of known SDKs, and
/// `callable::client_slot`. See docs/wrapping-clients.md.

#include "mcp_recovery/callable/client_slot.hpp"
#include "mcp_recovery/callable/presets.hpp"
#include "mcp_recovery/callable/translator.hpp"
#include "mcp_recovery/callable/transport.hpp"

#endif
