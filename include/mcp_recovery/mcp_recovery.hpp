// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_MCP_RECOVERY_HPP
#define MCP_RECOVERY_MCP_RECOVERY_HPP

/// Everything in the core, in one include. The testing kit (`mcp_recovery/testing/`) is separate.

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/call_options.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/recovery_policies.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/time.hpp"
#include "mcp_recovery/transport.hpp"

#endif
