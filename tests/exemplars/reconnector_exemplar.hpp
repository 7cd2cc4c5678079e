#pragma once
// A Reconnector: one reconnect at a time, fenced by generation; no shared failure, no breaker.
#include <mcp_recovery/error.hpp>
#include <mcp_recovery/reconnector.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

namespace app {

class serial_reconnector {
public:
    template <class Transport, class Clock, class Observer, class Hook>
    mcp_recovery::reconnect_outcome reconnect(Transport& transport, std::uint64_t seen_generation,
                                              mcp_recovery::time_point deadline, Clock& clock, Observer& observer,
                                              Hook&& on_reconnected) {
        std::unique_lock<std::mutex> lock(mutex_);
        // Wait for a reconnect under way, through the clock (a manual clock can steer it), bounded
        // by this caller's deadline.
        if (!clock.wait_until(lock, done_, deadline, [&] { return !busy_; }))
            return mcp_recovery::call_error{make_error_code(mcp_recovery::errc::deadline_exceeded), std::nullopt, {}};
        if (transport.generation() > seen_generation) return {};  // someone else already did it
        busy_ = true;
        lock.unlock();

        struct release {  // wakes the waiters however this ends, exceptions included
            serial_reconnector& self;
            ~release() {
                std::lock_guard<std::mutex> l(self.mutex_);
                self.busy_ = false;
                self.done_.notify_all();
            }
        } guard{*this};

        observer.on_reconnect_start(transport.generation());
        const mcp_recovery::time_point began = clock.now();
        mcp_recovery::outcome<void> r = transport.reconnect();
        if (r) r = on_reconnected(transport);  // restore per-session state before anyone goes on
        const std::error_code ec = r ? std::error_code{} : make_error_code(mcp_recovery::errc::reconnect_failed);
        observer.on_reconnect_done(transport.generation(), ec, clock.now() - began);
        if (!r) return mcp_recovery::call_error{ec, std::move(r).error(), {}};
        return {};
    }

private:
    std::mutex mutex_;
    std::condition_variable done_;
    bool busy_ = false;
};

}  // namespace app
