// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_SYNC_RESOLVER_HPP
#define MCP_RECOVERY_BEAST_DETAIL_SYNC_RESOLVER_HPP

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/time.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

namespace mcp_recovery::beast::detail {

/// Host-name resolution for the blocking connections, shared by the whole process.
///
/// Why: Asio's `tcp::resolver::async_resolve` starts a thread per io_context (it runs the blocking
/// getaddrinfo there) and keeps it until the io_context is destroyed; a blocking connection owns an
/// io_context, so every pooled connection to a host name held a thread. And a blocking
/// `resolve()` has no timeout. Here, lookups run on a few worker threads of one process-wide
/// service (`shared()`); a connection waits for its answer at most its connect budget, then gives
/// up with `std::errc::timed_out` and leaves the lookup to finish (or hang) without it.
///
/// - Threads: started on demand, at most `max_threads` (4 for `shared()`), each one only when no
///   started thread is free; a thread idle for `linger` (30 s) ends. An idle process holds none;
///   a sequential workload holds one.
/// - The same host and port asked for while a lookup of it is under way share that lookup (a burst
///   of connections to one host costs one getaddrinfo, one thread). No answer is cached after
///   the lookup ends: the next connection asks again (the system's resolver caches, if any, apply).
/// - A lookup that nobody waits for any more when its turn comes is dropped.
/// - A lookup that never returns (a hung getaddrinfo) keeps its thread; callers of other names
///   get the other threads, and once `max_threads` hang, every lookup waits in the queue and ends
///   by its caller's timeout. Nothing ever joins a worker: the threads are detached and hold the
///   service's state alive (`shared()` is never destroyed), so neither a connection's nor the
///   transport's destructor, nor the process's exit (static destructors, then `exit`, which ends
///   every thread) waits for a hung lookup.
/// - The waiting caller runs its own io_context (the connection's) until the answer is posted to
///   it, so that `io_context::stop()` from another thread (`connection::interrupt()`) ends the
///   wait too (with `operation_aborted`).
/// - `fork()`: the child's `shared()` starts with no thread and nothing queued (pthread_atfork).
///
/// Thread-safe.
class sync_resolver {
public:
    using results_type = boost::asio::ip::tcp::resolver::results_type;
    /// A blocking lookup: `host` and `service` (a port number) to endpoints, or `ec`.
    using resolve_function =
        std::function<results_type(const std::string& host, const std::string& service, boost::system::error_code& ec)>;

    /// `resolve` (default: Asio's blocking `tcp::resolver::resolve`, i.e. getaddrinfo) runs on at
    /// most `max_threads` threads; a thread idle for `linger` ends.
    explicit sync_resolver(resolve_function resolve = {}, std::size_t max_threads = 4,
                           duration linger = std::chrono::seconds(30))
        : state_(std::make_shared<state>()) {
        state_->resolve = resolve ? std::move(resolve) : system_resolve();
        state_->max_threads = std::max<std::size_t>(1, max_threads);
        state_->linger = linger;
    }

    sync_resolver(const sync_resolver&) = delete;
    sync_resolver& operator=(const sync_resolver&) = delete;

    /// Never blocks: the queued lookups still run (their waiters may be waiting), then the threads
    /// end; a thread in a lookup ends when it returns.
    ~sync_resolver() {
        {
            std::lock_guard<std::mutex> lock(state_->mutex);
            state_->stopped = true;
        }
        state_->cv.notify_all();
    }

    /// The process-wide service of the blocking connections. Never destroyed (no static
    /// destructor to order against the threads, none that waits for them).
    /// A process forked after it started its threads gets a service without them: the child's
    /// state is reset at the fork (no thread, nothing queued), and its lookups start threads again.
    static sync_resolver& shared() {
        static sync_resolver* const instance = [] {
            auto* r = new sync_resolver();
#if defined(__unix__) || defined(__APPLE__)
            ::pthread_atfork(&fork_prepare, &fork_parent, &fork_child);
#endif
            return r;
        }();
        return *instance;
    }

    /// Resolves `host`:`service`, waiting at most `timeout` by running `waiter` (an io_context
    /// that no other thread runs now; a handler pending on it runs meanwhile). Returns `timed_out`
    /// when the answer is not there in time, `operation_aborted` (ECANCELED) when `waiter` is
    /// stopped meanwhile, `try_again` when no thread could be started, else the lookup's own error
    /// (as Asio reports it). `waiter` may be left stopped: the caller's next step restarts it.
    boost::system::error_code resolve(const std::string& host, const std::string& service,
                                      boost::asio::io_context& waiter, duration timeout, results_type& out) {
        if (timeout <= duration::zero()) return boost::asio::error::timed_out;
        const time_point until = saturating_add(clock_type::now(), timeout);
        const std::shared_ptr<state> s = state_;
        std::shared_ptr<job> j;
        {
            std::unique_lock<std::mutex> lock(s->mutex);
            const std::string key = host + '\0' + service;
            auto found = s->in_flight.find(key);
            if (found != s->in_flight.end()) {
                j = found->second;
            } else {
                j = std::make_shared<job>();
                j->key = key;
                j->host = host;
                j->service = service;
                s->queue.push_back(j);
                s->in_flight.emplace(key, j);
                if (s->queue.size() > s->idle && s->threads < s->max_threads) start_thread(s, lock);
                if (s->threads == 0) {  // no thread could be started, none will take it
                    s->queue.pop_back();
                    s->in_flight.erase(key);
                    return boost::asio::error::try_again;
                }
                s->cv.notify_one();
            }
            j->waiters.push_back(&waiter);
        }

        // Wait by running the caller's io_context: the worker posts a no-op to it when the answer
        // is there; `stop()` from another thread ends the wait as it ends any blocking step.
        bool stopped = false;
        {
            auto guard = boost::asio::make_work_guard(waiter);
            waiter.restart();
            for (;;) {
                {
                    std::lock_guard<std::mutex> lock(s->mutex);
                    if (j->done) break;
                }
                if ((stopped = waiter.stopped()) || clock_type::now() >= until) break;
                waiter.run_one_until(until);
            }
        }

        std::lock_guard<std::mutex> lock(s->mutex);
        auto& w = j->waiters;
        w.erase(std::remove(w.begin(), w.end(), &waiter), w.end());
        // After this, no worker posts to `waiter` any more. A no-op it posted just before stays
        // queued there, to run with the caller's next step: harmless.
        if (!j->done) return stopped ? boost::asio::error::operation_aborted : boost::asio::error::timed_out;
        if (j->ec) return j->ec;
        out = j->results;
        return {};
    }

    /// Threads started and not ended (for tests and diagnostics).
    std::size_t threads() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->threads;
    }

private:
    struct job {
        std::string key, host, service;
        bool done = false;
        boost::system::error_code ec;
        results_type results;
        std::vector<boost::asio::io_context*> waiters;  ///< to wake; each removes itself before it returns
    };

    struct state {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::shared_ptr<job>> queue;
        std::map<std::string, std::shared_ptr<job>> in_flight;  ///< queued or running, by host and service
        resolve_function resolve;
        std::size_t max_threads = 4;
        duration linger{};
        std::size_t threads = 0;  ///< started, not ended
        std::size_t idle = 0;     ///< of which waiting for a job
        bool stopped = false;
    };

#if defined(__unix__) || defined(__APPLE__)
    // Only the forking thread goes on in the child: the workers' count and their jobs are the
    // parent's. The lock, held across the fork, keeps the state consistent.
    static void fork_prepare() { shared().state_->mutex.lock(); }
    static void fork_parent() { shared().state_->mutex.unlock(); }
    static void fork_child() {
        state& s = *shared().state_;
        s.threads = 0;
        s.idle = 0;
        s.queue.clear();
        s.in_flight.clear();
        s.mutex.unlock();
    }
#endif

    static resolve_function system_resolve() {
        // One io_context for the resolver objects (a blocking resolve uses no thread, no
        // descriptor of it); owned by the function, so it lives as long as the service's state.
        auto context = std::make_shared<boost::asio::io_context>(1);
        return [context](const std::string& host, const std::string& service, boost::system::error_code& ec) {
            boost::asio::ip::tcp::resolver resolver(*context);
            return resolver.resolve(host, service, ec);
        };
    }

    // Under the lock. A thread that cannot be started leaves the count as it was.
    static void start_thread(const std::shared_ptr<state>& s, std::unique_lock<std::mutex>&) {
        try {
            std::thread([s] { work(s); }).detach();
            ++s->threads;
        } catch (...) {
        }
    }

    static void work(std::shared_ptr<state> s) {
        std::unique_lock<std::mutex> lock(s->mutex);
        for (;;) {
            ++s->idle;
            const bool woken = s->cv.wait_for(lock, s->linger, [&] { return !s->queue.empty() || s->stopped; });
            --s->idle;
            if (!woken || s->queue.empty()) break;  // idle for `linger`, or stopped with nothing queued
            std::shared_ptr<job> j = std::move(s->queue.front());
            s->queue.pop_front();
            if (j->waiters.empty()) {  // every caller gave up before its turn came
                s->in_flight.erase(j->key);
                continue;
            }
            lock.unlock();
            boost::system::error_code ec;
            results_type results;
            try {
                results = s->resolve(j->host, j->service, ec);
            } catch (...) {
                ec = boost::asio::error::host_not_found_try_again;
            }
            lock.lock();
            j->done = true;
            j->ec = ec;
            j->results = std::move(results);
            s->in_flight.erase(j->key);
            for (boost::asio::io_context* w : j->waiters) boost::asio::post(*w, [j] {});
        }
        --s->threads;
        lock.unlock();
        // `s` may be the last owner of the state: it is released after the lock.
    }

    std::shared_ptr<state> state_;
};

}  // namespace mcp_recovery::beast::detail

#endif
