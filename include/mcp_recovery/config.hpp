// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CONFIG_HPP
#define MCP_RECOVERY_CONFIG_HPP

/// Compiler and language-level switches shared by every header.

#if defined(__has_cpp_attribute)
#if __has_cpp_attribute(no_unique_address) && !defined(_MSC_VER)
#define MCP_RECOVERY_NO_UNIQUE_ADDRESS [[no_unique_address]]
#endif
#endif
#ifndef MCP_RECOVERY_NO_UNIQUE_ADDRESS
#define MCP_RECOVERY_NO_UNIQUE_ADDRESS
#endif

// Named concepts are offered next to the C++17 traits when the compiler has them.
#if defined(__cpp_concepts) && __cpp_concepts >= 201907L && __cplusplus >= 202002L
#define MCP_RECOVERY_HAS_CONCEPTS 1
#else
#define MCP_RECOVERY_HAS_CONCEPTS 0
#endif

// The recovery path is kept out of line so that the success path stays small.
#if defined(__GNUC__) || defined(__clang__)
#define MCP_RECOVERY_NOINLINE __attribute__((noinline))
#define MCP_RECOVERY_COLD __attribute__((cold))
#define MCP_RECOVERY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER)
#define MCP_RECOVERY_NOINLINE __declspec(noinline)
#define MCP_RECOVERY_COLD
#define MCP_RECOVERY_UNLIKELY(x) (x)
#else
#define MCP_RECOVERY_NOINLINE
#define MCP_RECOVERY_COLD
#define MCP_RECOVERY_UNLIKELY(x) (x)
#endif

#define MCP_RECOVERY_VERSION_MAJOR 0
#define MCP_RECOVERY_VERSION_MINOR 1
#define MCP_RECOVERY_VERSION_PATCH 0

#endif
