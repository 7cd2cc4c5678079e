// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
//
// The test server flaky_server compiled once (mcp_recovery/beast/testing/src.hpp), as a file of its
// own in mcp_recovery::beast_compiled and beast_tls_compiled: a program that does not use the
// server does not link it.
#include <mcp_recovery/beast/testing/src.hpp>
