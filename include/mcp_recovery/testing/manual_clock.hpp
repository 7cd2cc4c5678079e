// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_TESTING_MANUAL_CLOCK_HPP
#define MCP_RECOVERY_TESTING_MANUAL_CLOCK_HPP

#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/failure.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mcp_recovery::testing {

/// A Clock whose time moves only when told: tests of retry, backoff and deadlines run without a
/// single real sleep.
///
/// Copies share one time line (hand a copy to the client, keep one to steer). Time moves by
/// `advance`/`set`, and, in the default auto-advance mode, by every `sleep_until`: the sleep is
/// recorded and returns at once with the clock moved to its end. `wait_until` (a reconnect waiter)
/// never moves time: it returns when its predicate holds or when someone moves time past its
/// deadline. With auto-advance off, `sleep_until` blocks until another thread moves time.
/// Thread-safe.
///
/// With a transport that does real I/O, start it at the real time (`manual_clock(clock_type::now())`):
/// the deadlines the client computes from it (a call's timeout, a flight's `reconnect_timeout`)
/// are handed to the transport, which measures them on the real clock.
class manual_clock {
public:
    explicit manual_clock(time_point start = time_point{} + std::chrono::hours(1)) : s_(std::make_shared<state>()) {
        s_->now.store(start.time_since_epoch().count());
    }

    time_point now() const noexcept { return time_point(duration(s_->now.load())); }

    void sleep_until(time_point t) const {
        std::unique_lock<std::mutex> lock(s_->mutex);
        s_->sleeps.push_back(t - now());
        if (s_->auto_advance) {
            lock.unlock();
            move_to(t);
            return;
        }
        ++s_->sleepers;
        s_->sleep_cv.wait(lock, [&] { return now() >= t; });
        --s_->sleepers;
    }

    template <class Predicate>
    bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point t,
                    Predicate pred) const {
        const waiter w{&cv, lock.mutex()};
        register_waiter(w);
        while (!pred()) {
            if (now() >= t) {
                unregister_waiter(w);
                return pred();
            }
            cv.wait(lock);
        }
        unregister_waiter(w);
        return true;
    }

    /// Move time forward by `d` and wake every waiter whose deadline it passes.
    void advance(duration d) const { move_to(now() + d); }
    /// Move time to `t` (never backwards).
    void set(time_point t) const { move_to(t); }

    /// Whether `sleep_until` moves time itself (default) or waits for `advance`.
    void auto_advance(bool on) const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        s_->auto_advance = on;
    }

    /// Every sleep requested so far, in order (the time from the call to its end).
    std::vector<duration> sleeps() const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        return s_->sleeps;
    }
    /// Total of `sleeps()`.
    duration total_slept() const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        duration sum{};
        for (duration d : s_->sleeps) sum += d;
        return sum;
    }
    /// Threads blocked in `wait_until` right now (to steer concurrent tests without sleeping).
    std::size_t waiters() const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        return s_->waiters.size();
    }
    /// Threads blocked in `sleep_until` right now (auto-advance off only).
    std::size_t sleepers() const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        return s_->sleepers;
    }

private:
    struct waiter {
        std::condition_variable* cv;
        std::mutex* mutex;
        friend bool operator==(const waiter& a, const waiter& b) noexcept { return a.cv == b.cv && a.mutex == b.mutex; }
    };
    struct state {
        std::atomic<duration::rep> now{0};
        std::mutex mutex;
        std::condition_variable sleep_cv;
        std::vector<waiter> waiters;
        std::vector<duration> sleeps;
        std::size_t sleepers = 0;
        bool auto_advance = true;
    };

    void register_waiter(const waiter& w) const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        s_->waiters.push_back(w);
    }
    void unregister_waiter(const waiter& w) const {
        std::lock_guard<std::mutex> lock(s_->mutex);
        auto it = std::find(s_->waiters.begin(), s_->waiters.end(), w);
        if (it != s_->waiters.end()) s_->waiters.erase(it);
    }

    void move_to(time_point t) const {
        std::vector<waiter> to_wake;
        {
            std::lock_guard<std::mutex> lock(s_->mutex);
            duration::rep target = t.time_since_epoch().count();
            duration::rep current = s_->now.load();
            if (target > current) s_->now.store(target);
            to_wake = s_->waiters;
        }
        s_->sleep_cv.notify_all();
        // A waiter holds its mutex from registration until it blocks in cv.wait, so taking that
        // mutex here means the notification cannot fall between its time check and its wait.
        std::sort(to_wake.begin(), to_wake.end(), [](const waiter& a, const waiter& b) {
            return std::less<const void*>()(a.mutex, b.mutex);
        });
        to_wake.erase(std::unique(to_wake.begin(), to_wake.end()), to_wake.end());
        for (const waiter& w : to_wake) {
            std::lock_guard<std::mutex> lock(*w.mutex);
            w.cv->notify_all();
        }
    }

    std::shared_ptr<state> s_;
};

}  // namespace mcp_recovery::testing

#endif
