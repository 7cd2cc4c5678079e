#pragma once
// An async Reconnector: the library's single flight, behind a decorator that counts the flights
// callers asked for and how many of them gave a caller a session (for a dashboard).
#include <mcp_recovery/beast/async_reconnector.hpp>

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)  // C++20 where Asio has co_await (g++)
#include <atomic>
#include <cstdint>
#include <utility>

namespace app {

class counting_async_reconnector {
public:
    // A session newer than `seen`: the single flight decides, this one only counts.
    template <class Transport, class Clock, class Observer, class Hook, class Cancelled>
    boost::asio::awaitable<mcp_recovery::reconnect_outcome> reconnect(Transport& t, std::uint64_t seen,
                                                                      mcp_recovery::time_point deadline, Clock& c,
                                                                      Observer& o, Hook hook, Cancelled cancelled) {
        asked_.fetch_add(1);
        mcp_recovery::reconnect_outcome r =
            co_await inner_.reconnect(t, seen, deadline, c, o, std::move(hook), std::move(cancelled));
        if (r) served_.fetch_add(1);
        co_return r;
    }

    // `cancel()` of the client: wake every waiter so that it looks at its call again.
    void wake_all() { inner_.wake_all(); }

    std::uint64_t asked() const noexcept { return asked_.load(); }
    std::uint64_t served() const noexcept { return served_.load(); }
    // The client must outlive a flight it started: it asks this before it is destroyed.
    bool in_flight() const { return inner_.in_flight(); }

private:
    mcp_recovery::beast::async_single_flight_reconnector<> inner_;
    std::atomic<std::uint64_t> asked_{0};
    std::atomic<std::uint64_t> served_{0};
};

}  // namespace app

#endif
