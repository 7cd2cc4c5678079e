// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECOVERING_CLIENT_HPP
#define MCP_RECOVERY_RECOVERING_CLIENT_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/transport.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace mcp_recovery {

/// An MCP client call path that recognises session loss, reconnects once for all callers and
/// retries when that is safe.
///
/// `call` sends the request; on failure the `Classifier` names the kind, replay safety and the
/// `RetryPolicy` decide whether to try again, the `Reconnector` provides a new session (lost
/// session or connection) or the `Backoff` a wait (throttled, transient), and the request goes
/// again, all bounded by one deadline. A request that may already have run is never replayed
/// unless it is idempotent (`errc::not_replayable`).
///
/// Thread safety: `call` may run concurrently from many threads when the transport's `send` may;
/// the policies' prototypes, the options and the hook are to be set before calls start.
/// Cost: a call that succeeds at once costs the transport's `send` plus one generation read: no
/// heap allocation, no lock, no virtual call, no clock read (unless `call_options::timeout` is set).
template <class Transport, class Classifier = default_classifier, class RetryPolicy = retry_once,
          class Backoff = no_backoff, class Reconnector = single_flight_reconnector<>,
          class Observer = null_observer, class Clock = steady_clock_source>
class recovering_client {
    static_assert(is_transport_v<Transport>, "Transport type requirements not met (see mcp_recovery/transport.hpp)");
    static_assert(is_classifier_v<Classifier>, "Classifier type requirements not met (see mcp_recovery/classifier.hpp)");
    static_assert(is_retry_policy_v<RetryPolicy>,
                  "RetryPolicy type requirements not met (see mcp_recovery/retry_policy.hpp)");
    static_assert(is_backoff_policy_v<Backoff>, "Backoff type requirements not met (see mcp_recovery/backoff_policy.hpp)");
    static_assert(is_clock_v<Clock>, "Clock type requirements not met (see mcp_recovery/clock.hpp)");

public:
    using transport_type = Transport;
    using request_type = typename Transport::request_type;
    using response_type = typename Transport::response_type;
    using result_type = outcome<response_type, call_error>;
    /// Runs inside a reconnect flight, after the new session is up and before waiting callers
    /// continue: restore what the server lost with the old session (subscriptions, log level).
    using reconnect_hook = std::function<outcome<void>(Transport&)>;

    /// Builds the transport in place from `args`; policies start default-constructed.
    template <class... Args>
    explicit recovering_client(std::in_place_t, Args&&... args) : transport_(std::forward<Args>(args)...) {}

    explicit recovering_client(Transport transport) : transport_(std::move(transport)) {}

    recovering_client(const recovering_client&) = delete;
    recovering_client& operator=(const recovering_client&) = delete;

    /// One call with recovery; never throws for failures (only `std::bad_alloc` and what the
    /// transport or a policy throws).
    result_type try_call(const request_type& request) {
        const std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = send(request, time_point::max());
        if (first) return std::move(*first);
        return recover(request, call_options{}, time_point::max(), generation, auth, conn, std::move(first).error());
    }

    /// As `try_call(request)`, with per-call settings (deadline, idempotency).
    result_type try_call(const request_type& request, const call_options& options) {
        const time_point deadline = effective_deadline(options, clock_);
        const std::uint64_t generation = transport_.generation();
        const std::uint64_t auth = auth_epoch();
        const std::uint64_t conn = connection_epoch();
        outcome<response_type> first = send(request, deadline);
        if (first) return std::move(*first);
        return recover(request, options, deadline, generation, auth, conn, std::move(first).error());
    }

    /// One call with recovery; on failure sets `ec` and returns a value-initialized response.
    response_type call(const request_type& request, const call_options& options, std::error_code& ec) {
        static_assert(std::is_default_constructible_v<response_type>,
                      "call(request, options, ec) needs a default-constructible response; use try_call");
        result_type r = try_call(request, options);
        if (r) {
            ec.clear();
            return std::move(*r);
        }
        ec = r.error().code;
        return response_type{};
    }

    /// One call with recovery; throws `recovery_error` (a `std::system_error`) on failure.
    response_type call(const request_type& request, const call_options& options) {
        result_type r = try_call(request, options);
        if (!r) throw recovery_error(std::move(r).error());
        return std::move(*r);
    }
    response_type call(const request_type& request) {
        result_type r = try_call(request);
        if (!r) throw recovery_error(std::move(r).error());
        return std::move(*r);
    }

    /// Ends the session (HTTP DELETE) when the transport can.
    template <class T = Transport, std::enable_if_t<has_terminate_v<T>, int> = 0>
    outcome<void> terminate() {
        return transport_.terminate();
    }

    Transport& transport() noexcept { return transport_; }
    const Transport& transport() const noexcept { return transport_; }
    Classifier& classifier() noexcept { return classifier_; }
    /// The prototype copied at the first failure of each call.
    RetryPolicy& retry_policy() noexcept { return retry_; }
    /// The prototype copied (and reseeded) at the first failure of each call.
    Backoff& backoff_policy() noexcept { return backoff_; }
    Reconnector& reconnector() noexcept { return reconnector_; }
    Observer& observer() noexcept { return observer_; }
    Clock& clock() noexcept { return clock_; }
    client_options& options() noexcept { return options_; }
    void on_reconnected(reconnect_hook hook) { hook_ = std::move(hook); }

private:
    outcome<response_type> send(const request_type& request, time_point deadline) {
        if constexpr (detail::has_deadline_send<Transport>::value)
            return transport_.send(request, deadline);
        else
            return transport_.send(request);
    }

    template <class... Args>
    result_type give_up(Args&&... args) {
        return detail::give_up<response_type>(observer_, std::forward<Args>(args)...);
    }

    MCP_RECOVERY_NOINLINE MCP_RECOVERY_COLD result_type recover(const request_type& request,
                                                                 const call_options& options, time_point deadline,
                                                                 std::uint64_t generation, std::uint64_t auth_seen,
                                                                 std::uint64_t conn_seen, failure last) {
        recovery_plan<Classifier, RetryPolicy, Backoff, Observer> plan(
            classifier_, retry_, backoff_, observer_, options_,
            resolve_idempotency(options.idempotency, method_of(request), options.annotations),
            has_refresh_auth_v<Transport>, clock_.now(), deadline, session_outlives_connection_v<Transport>);
        int attempt = 1;
        recovery_step step = plan.next(last, attempt, clock_.now());
        for (;;) {
            switch (step.what) {
            case recovery_step::action::give_up:
                if (step.renew_session) renew_session(generation, deadline);
                return give_up(step.reason, std::move(last));
            case recovery_step::action::reconnect:
            case recovery_step::action::reopen: {
                reconnect_outcome r = step.what == recovery_step::action::reconnect ? reconnect(generation, deadline)
                                                                                     : reopen(generation, conn_seen, deadline);
                if (!r) {
                    call_error e = std::move(r).error();
                    ++attempt;
                    const recovery_step again = plan.after_failed_step(step, e, attempt, clock_.now());
                    if (again.what == recovery_step::action::give_up) {
                        e.code = make_error_code(again.reason);
                        return give_up(std::move(e), last);
                    }
                    continue;  // the same step again, after the reconnector's backoff
                }
                break;
            }
            case recovery_step::action::wait:
                if (step.wait > duration::zero()) clock_.sleep_until(step.until);
                break;
            case recovery_step::action::refresh_auth:
                if constexpr (has_refresh_auth_v<Transport>) {
                    outcome<void> r = refresh_auth(auth_seen);
                    if (!r) return detail::give_up_after_step<response_type>(observer_, errc::unauthorized,
                                                                             std::move(r).error(), last);
                }
                break;
            }
            // No attempt starts after the deadline, whatever the step before it took.
            if (deadline != time_point::max() && clock_.now() >= deadline)
                return give_up(errc::deadline_exceeded, std::move(last));
            observer_.on_retry(step.kind, attempt, step.wait);
            generation = transport_.generation();
            auth_seen = auth_epoch();
            conn_seen = connection_epoch();
            outcome<response_type> next = send(request, deadline);
            if (next) {
                observer_.on_recovered(attempt + 1, clock_.now() - plan.started());
                return std::move(*next);
            }
            last = std::move(next).error();
            ++attempt;
            step = plan.next(last, attempt, clock_.now());
        }
    }

    reconnect_outcome reconnect(std::uint64_t generation, time_point deadline) {
        auto hook = [this](Transport& t) -> outcome<void> { return hook_ ? hook_(t) : outcome<void>{}; };
        return reconnector_.reconnect(transport_, generation, deadline, clock_, observer_, hook);
    }

    // A new connection on the same session; a reconnector without `reopen` renews the session.
    reconnect_outcome reopen(std::uint64_t generation, std::uint64_t conn_seen, time_point deadline) {
        if constexpr (detail::reconnector_has_reopen<Reconnector, Transport, Clock, Observer>::value) {
            (void)generation;
            return reconnector_.reopen(transport_, conn_seen, deadline, clock_, observer_);
        } else {
            (void)conn_seen;
            return reconnect(generation, deadline);
        }
    }

    // Successful flights so far, when the connection-level recovery can use them (a transport
    // whose session outlives its connections, a reconnector with `reopen`): one relaxed atomic
    // load on the success path, none otherwise.
    std::uint64_t connection_epoch() const noexcept {
        if constexpr (session_outlives_connection_v<Transport> &&
                      detail::reconnector_has_reopen<Reconnector, Transport, Clock, Observer>::value)
            return reconnector_.connection_epoch();
        else
            return 0;
    }

    // The call gives up on a lost session: renew it anyway (when there is time), so that the next
    // call does not meet the dead session too. Its outcome is the next call's business.
    void renew_session(std::uint64_t generation, time_point deadline) {
        if (deadline != time_point::max() && clock_.now() >= deadline) return;
        (void)reconnect(generation, deadline);
    }

    // Credential refreshes finished before a send: a refresh finished after it is shared by the
    // callers whose send failed, not repeated. Nothing to read when the transport cannot refresh.
    std::uint64_t auth_epoch() const noexcept {
        if constexpr (has_refresh_auth_v<Transport>) return auth_refreshes_.load(std::memory_order_acquire);
        else return 0;
    }

    // One refresh of credentials at a time (the transport's refresh_auth is not required to be
    // thread-safe); callers whose request failed before a refresh that finished meanwhile retry
    // with its credentials instead of refreshing again.
    outcome<void> refresh_auth(std::uint64_t seen) {
        std::lock_guard<std::mutex> lock(auth_mutex_);
        if (auth_refreshes_.load(std::memory_order_relaxed) != seen) return {};
        outcome<void> r = transport_.refresh_auth();
        if (r) auth_refreshes_.fetch_add(1, std::memory_order_release);
        return r;
    }

    Transport transport_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Classifier classifier_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS RetryPolicy retry_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Backoff backoff_{};
    Reconnector reconnector_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Observer observer_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Clock clock_{};
    client_options options_{};
    reconnect_hook hook_;
    std::mutex auth_mutex_;
    std::atomic<std::uint64_t> auth_refreshes_{0};
};

}  // namespace mcp_recovery

#endif
