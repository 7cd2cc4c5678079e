// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALLABLE_CLIENT_SLOT_HPP
#define MCP_RECOVERY_CALLABLE_CLIENT_SLOT_HPP

#include <memory>
#include <mutex>
#include <utility>

namespace mcp_recovery::callable {

/// The current client object, swappable while other threads use the previous one.
///
/// A callable transport's `reconnect` runs while other callers may still be inside `send` on the
/// old client. Keep the client here: `send` takes `get()` (a `shared_ptr` copy that keeps that
/// client alive until the send returns); `reconnect` builds and initializes a new client, then
/// `reset(new_client)`. The old client is destroyed by whichever thread drops the last reference:
/// the reconnecting thread, or a sender on its way out.
///
/// Thread-safe. Cost: `get()` takes a mutex and copies a `shared_ptr` (two atomic operations);
/// `reset` destroys the old client outside the lock.
template <class Client>
class client_slot {
public:
    client_slot() = default;
    explicit client_slot(std::shared_ptr<Client> client) noexcept : client_(std::move(client)) {}

    client_slot(const client_slot&) = delete;
    client_slot& operator=(const client_slot&) = delete;

    /// The current client (null before the first `reset`, or after `reset()`).
    std::shared_ptr<Client> get() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return client_;
    }

    /// Makes `next` the current client and returns the previous one.
    std::shared_ptr<Client> exchange(std::shared_ptr<Client> next) {
        std::lock_guard<std::mutex> lock(mutex_);
        client_.swap(next);
        return next;
    }

    /// Makes `next` the current client; the previous one is released outside the lock.
    void reset(std::shared_ptr<Client> next = nullptr) { (void)exchange(std::move(next)); }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<Client> client_;
};

}  // namespace mcp_recovery::callable

#endif
