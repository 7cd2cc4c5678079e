// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_ASYNC_EVENT_HPP
#define MCP_RECOVERY_BEAST_ASYNC_EVENT_HPP

/// `async_event`: the one-shot event with a deadline that the asynchronous reconnector, credential
/// refresh and waits suspend on (C++20, where Asio has `co_await`).

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/detail/async_config.hpp"

#if defined(BOOST_ASIO_HAS_CO_AWAIT)

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mcp_recovery/failure.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace mcp_recovery::beast {

namespace net = boost::asio;

/// A one-shot event that coroutines wait for with a deadline, from any thread of an io pool.
///
/// `set()` may be called from any thread, before or after the wait started: the flag and the
/// timer are only touched on the event's strand, so no wake-up is lost and no timer is raced.
class async_event : public std::enable_shared_from_this<async_event> {
public:
    explicit async_event(const net::any_io_executor& ex) : strand_(net::make_strand(ex)), timer_(strand_) {}

    void set() {
        net::post(strand_, [self = shared_from_this()] {
            self->set_.store(true);
            self->timer_.cancel();
        });
    }

    /// True when set, false when `deadline` passed first.
    net::awaitable<bool> wait_until(time_point deadline) {
        co_await net::post(strand_, net::use_awaitable);  // continue on the strand: check and wait as one step
        if (set_.load()) co_return true;
#if MCP_RECOVERY_BEAST_HAS_CANCELLATION_SLOTS
        // A cancellation emitted before the timer's wait is installed on the slot would be lost
        // (the slot had no handler yet): the state remembers it, so look before waiting.
        const net::cancellation_state state = co_await net::this_coro::cancellation_state;
        if (state.cancelled() != net::cancellation_type::none) co_return set_.load();
#endif
        timer_.expires_at(deadline == time_point::max() ? clock_type::now() + std::chrono::hours(24 * 365) : deadline);
        boost::system::error_code ec;
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        co_return set_.load();
    }

    bool is_set() const noexcept { return set_.load(); }

private:
    net::strand<net::any_io_executor> strand_;
    net::steady_timer timer_;
    std::atomic<bool> set_{false};
};

namespace detail {

/// Removes `event` from `list` (guarded by `mutex`) when the scope ends, even by an exception (a
/// cancelled coroutine under Asio's throw_if_cancelled): a waiter never stays registered.
struct scoped_waiter {
    std::mutex& mutex;
    std::vector<std::shared_ptr<async_event>>& list;
    const std::shared_ptr<async_event>& event;
    ~scoped_waiter() {
        std::lock_guard<std::mutex> lock(mutex);
        list.erase(std::remove(list.begin(), list.end(), event), list.end());
    }
};

}  // namespace detail

}  // namespace mcp_recovery::beast

#endif  // BOOST_ASIO_HAS_CO_AWAIT
#endif
