// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_ASYNC_CONFIG_HPP
#define MCP_RECOVERY_BEAST_DETAIL_ASYNC_CONFIG_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include <boost/asio/this_coro.hpp>
#include <boost/version.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
/// The asynchronous parts (C++20 coroutines) are available.
#define MCP_RECOVERY_BEAST_HAS_ASYNC 1

/// Asio per-operation cancellation reaching Beast's operations (Boost >= 1.80): a call is
/// cancelled through the cancellation slot of the coroutine that awaits it, as well as by `cancel()`.
#if BOOST_VERSION >= 108000
#define MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS 1
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#else
#define MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS 0
#endif
#endif

#endif
