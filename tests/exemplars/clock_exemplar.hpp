#pragma once
// A Clock: real time, and a meter of how long recovery slept (backoff and Retry-After waits).
#include <mcp_recovery/clock.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace app {

class metered_clock {
public:
    mcp_recovery::time_point now() const noexcept { return real_.now(); }

    void sleep_until(mcp_recovery::time_point t) {
        const mcp_recovery::time_point from = real_.now();
        real_.sleep_until(t);
        slept_.fetch_add((real_.now() - from).count());
    }

    // A reconnect waiter: like cv.wait_until(lock, t, pred).
    template <class Predicate>
    bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, mcp_recovery::time_point t,
                    Predicate pred) {
        return real_.wait_until(lock, cv, t, std::move(pred));
    }

    mcp_recovery::duration slept() const noexcept { return mcp_recovery::duration(slept_.load()); }

private:
    mcp_recovery::steady_clock_source real_;
    std::atomic<mcp_recovery::duration::rep> slept_{0};  // every calling thread adds to it
};

}  // namespace app
