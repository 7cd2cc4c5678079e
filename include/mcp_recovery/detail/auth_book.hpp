// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_DETAIL_AUTH_BOOK_HPP
#define MCP_RECOVERY_DETAIL_AUTH_BOOK_HPP

#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

namespace mcp_recovery::detail {

/// The decisions of credential refresh, shared by the synchronous and the asynchronous client
/// (they differ only in how a caller waits: a condition variable or a suspended coroutine).
///
/// - One refresh at a time: the first caller rejected with the current credentials leads it;
///   callers rejected meanwhile wait for it instead of refreshing again.
/// - A caller whose request went out before a refresh that has finished since retries with its
///   credentials (`begin` returns `turn::refreshed`): the refresh is shared, not repeated.
/// - A refresh that fails is shared too: its waiters give up with its failure. One that ended by
///   an exception has no failure to share: its waiters try again themselves.
///
/// I/O-free. `epoch()` may be read without a lock (the success path reads it before each send);
/// every other member is called with the owner's mutex held.
class auth_book {
public:
    enum class turn : unsigned char {
        refreshed,  ///< A refresh finished after the caller's send: retry with its credentials.
        lead,       ///< The caller refreshes; it calls `finish` (or `abandon`) when done.
        wait,       ///< Another caller is refreshing: wait until `in_flight()` is false.
    };

    /// Refreshes that succeeded so far; read before a send, passed to `begin` after a 401.
    std::uint64_t epoch() const noexcept { return refreshes_.load(std::memory_order_acquire); }

    /// What a caller rejected with the credentials of epoch `seen` does next.
    turn begin(std::uint64_t seen) noexcept {
        if (refreshes_.load(std::memory_order_relaxed) != seen) return turn::refreshed;
        if (in_flight_) return turn::wait;
        in_flight_ = true;
        return turn::lead;
    }

    bool in_flight() const noexcept { return in_flight_; }

    /// Failed refreshes so far: a waiter reads it before waiting and hands it to `after_wait`.
    std::uint64_t failures() const noexcept { return failures_; }

    /// After a wait: success (a refresh finished since `seen`), the failure of the refresh the
    /// caller waited for, or nothing (ask `begin` again).
    std::optional<outcome<void>> after_wait(std::uint64_t seen, std::uint64_t failures_before) const {
        if (refreshes_.load(std::memory_order_relaxed) != seen) return outcome<void>{};
        if (failures_ != failures_before && last_failure_) return outcome<void>{*last_failure_};
        return std::nullopt;
    }

    /// The leader's refresh ended with `r`.
    void finish(const outcome<void>& r) {
        in_flight_ = false;
        if (r) {
            refreshes_.fetch_add(1, std::memory_order_release);
        } else {
            ++failures_;
            last_failure_ = r.error();
        }
    }

    /// The leader's refresh ended by an exception: nothing to share, waiters try again.
    void abandon() noexcept {
        in_flight_ = false;
        ++failures_;
        last_failure_.reset();
    }

    /// The failure of a caller whose call ended (deadline, cancellation) while it waited for
    /// another caller's refresh.
    static failure ended_while_waiting(errc why) {
        failure f;
        f.transport_error = make_error_code(why);
        f.message = "the call ended while another caller refreshed the credentials";
        f.delivered = delivery::not_sent;
        return f;
    }

private:
    std::atomic<std::uint64_t> refreshes_{0};
    std::uint64_t failures_ = 0;
    bool in_flight_ = false;
    std::optional<failure> last_failure_;
};

}  // namespace mcp_recovery::detail

#endif
