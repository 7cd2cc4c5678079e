// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
//
// The one source of the libraries mcp_recovery::beast_compiled and mcp_recovery::beast_tls_compiled
// (adapters/beast/CMakeLists.txt): the Beast transports compiled once, for every file of a program
// that links them (MCP_RECOVERY_SEPARATE_COMPILATION, a PUBLIC definition of those targets).
#include <mcp_recovery/beast/src.hpp>
