// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_SRC_HPP
#define MCP_RECOVERY_BEAST_SRC_HPP

/// Separate compilation of the Beast transports (docs/compile-time.md), as Boost.Beast's and
/// Asio's own `src.hpp`: with `MCP_RECOVERY_SEPARATE_COMPILATION` defined for every file of the
/// program, exactly one file includes this header; it compiles the out-of-line part of
/// `basic_streamable_http_transport<builtin_json>` and, where Asio has `co_await` (C++20),
/// `basic_async_streamable_http_transport<builtin_json>`. The file may be C++17 (synchronous
/// transport only) or C++20. With `MCP_RECOVERY_BEAST_TLS` defined (and OpenSSL linked), https is
/// compiled in; the transports' headers are the same either way. The CMake library
/// `mcp_recovery::beast_compiled` (`mcp_recovery::beast_tls_compiled`) is this file, compiled.
///
/// Another JsonPolicy: include `mcp_recovery/beast/impl/streamable_http_transport.ipp` (and
/// `impl/async_streamable_http_transport.ipp`) in one file and write
/// `MCP_RECOVERY_BEAST_INSTANTIATE_SYNC(my_json);` (`MCP_RECOVERY_BEAST_INSTANTIATE_ASYNC(my_json);`)
/// at namespace scope there.

#if !defined(MCP_RECOVERY_SEPARATE_COMPILATION)
#error "mcp_recovery/beast/src.hpp: define MCP_RECOVERY_SEPARATE_COMPILATION for every file of the program"
#endif

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/impl/async_streamable_http_transport.ipp"
#include "mcp_recovery/beast/impl/streamable_http_transport.ipp"

MCP_RECOVERY_BEAST_INSTANTIATE_SYNC(::mcp_recovery::beast::builtin_json);

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
MCP_RECOVERY_BEAST_INSTANTIATE_ASYNC(::mcp_recovery::beast::builtin_json);
#endif

#endif
