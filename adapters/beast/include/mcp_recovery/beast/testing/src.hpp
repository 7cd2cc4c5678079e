// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_SRC_HPP
#define MCP_RECOVERY_BEAST_TESTING_SRC_HPP

/// Separate compilation of the test server `flaky_server` (docs/compile-time.md): with
/// `MCP_RECOVERY_SEPARATE_COMPILATION` defined for every file of the program, exactly one file of
/// a program that uses `flaky_server` includes this header (the library
/// `mcp_recovery::beast_compiled` has it, as a file of its own). Independent of
/// mcp_recovery/beast/src.hpp: a program may include both in one file or in two.

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#error "mcp_recovery/beast/testing/src.hpp: define MCP_RECOVERY_SEPARATE_COMPILATION for every file of the program"
#endif

#include "mcp_recovery/beast/testing/impl/flaky_server.ipp"

#endif
