// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECOVERING_CLIENT_HPP
#define MCP_RECOVERY_RECOVERING_CLIENT_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/detail/auth_book.hpp"
#include "mcp_recovery/detail/client_policies.hpp"
#include "mcp_recovery/detail/recovering_call.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"
#include "mcp_recovery/recovery_policies.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/transport.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
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
/// session or connection) or the `BackoffPolicy` a wait (throttled, transient), and the request
/// goes again, all bounded by one deadline. A request that may already have run is never replayed
/// unless it is idempotent (`errc::not_replayable`).
///
/// The policies are checked where the client is named: in C++20 by the concepts its parameters
/// are constrained with (the compiler names the expression a type misses), in C++17 by
/// static_asserts that name the missing member. To change one policy and keep the defaults of the
/// others, see `recovery_policies` and `basic_recovering_client`.
///
/// Thread safety: `call` may run concurrently from many threads when the transport's `send` may;
/// the policies' prototypes, the options and the hook are to be set before calls start.
/// Cost: a call that succeeds at once costs the transport's `send` plus one generation read: no
/// heap allocation, no lock, no virtual call, no clock read (unless `call_options::timeout` is set).
#if MCP_RECOVERY_HAS_CONCEPTS
template <transport Transport, classifier Classifier = default_classifier, retry_policy RetryPolicy = retry_once,
          backoff_policy BackoffPolicy = no_backoff, class Reconnector = single_flight_reconnector<>,
          observer Observer = null_observer, clock Clock = steady_clock_source>
    requires reconnector<Reconnector, Transport, Clock, Observer>
#else
template <class Transport, class Classifier = default_classifier, class RetryPolicy = retry_once,
          class BackoffPolicy = no_backoff, class Reconnector = single_flight_reconnector<>,
          class Observer = null_observer, class Clock = steady_clock_source>
#endif
class recovering_client
    : public detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock,
                                     std::function<outcome<void>(Transport&)>> {
    using base = detail::client_policies<Transport, Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer,
                                         Clock, std::function<outcome<void>(Transport&)>>;
    using base::clock_;
    using base::hook_;
    using base::observer_;
    using base::reconnector_;

    // C++17: each names the member a type misses, then says which requirements it fails (the
    // policies the async client shares are checked in detail::client_policies).
    static_assert(detail::transport_requirements<Transport>::value,
                  "Transport type requirements not met (see mcp_recovery/transport.hpp)");
    static_assert(detail::clock_requirements<Clock>::value,
                  "Clock type requirements not met (see mcp_recovery/clock.hpp)");
    static_assert(detail::reconnector_requirements<Reconnector, Transport, Clock, Observer>::value,
                  "Reconnector type requirements not met (see mcp_recovery/reconnector.hpp)");

public:
    using transport_type = Transport;
    using request_type = typename Transport::request_type;
    using response_type = typename Transport::response_type;
    using result_type = outcome<response_type, call_error>;
    /// The policies as a bundle, to name a client that differs in one of them:
    /// `basic_recovering_client<T, client::policies::with_observer<counting_observer>>`.
    using policies = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock>;
    using typename base::annotation_source;
    using typename base::reconnect_hook;

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

    /// One call with recovery; on failure sets `ec` (compare it with an `errc` or a `condition`)
    /// and returns a value-initialized response.
    response_type call(const request_type& request, std::error_code& ec) {
        static_assert(std::is_default_constructible_v<response_type>,
                      "call(request, ec) needs a default-constructible response; use try_call");
        return settle(try_call(request), ec);
    }

    /// As `call(request, ec)`, with per-call settings (deadline, idempotency).
    response_type call(const request_type& request, const call_options& options, std::error_code& ec) {
        static_assert(std::is_default_constructible_v<response_type>,
                      "call(request, options, ec) needs a default-constructible response; use try_call");
        return settle(try_call(request, options), ec);
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
    // classifier(), retry_policy(), backoff_policy(), reconnector(), observer(), clock(), options(),
    // on_reconnected(hook), use_tool_annotations(source): detail::client_policies, shared with
    // the asynchronous client.

private:
    static response_type settle(result_type&& r, std::error_code& ec) {
        if (r) {
            ec.clear();
            return std::move(*r);
        }
        ec = r.error().code;
        return response_type{};
    }

    outcome<response_type> send(const request_type& request, time_point deadline) {
        if constexpr (detail::has_deadline_send<Transport>::value)
            return transport_.send(request, deadline);
        else
            return transport_.send(request);
    }

    MCP_RECOVERY_NOINLINE MCP_RECOVERY_COLD result_type recover(const request_type& request,
                                                                 const call_options& options, time_point deadline,
                                                                 std::uint64_t generation, std::uint64_t auth_seen,
                                                                 std::uint64_t conn_seen, failure last) {
        using op = detail::call_io::op;
        auto c = this->template begin_recovery<response_type>(request, options, deadline, has_refresh_auth_v<Transport>,
                                                             session_outlives_connection_v<Transport>, std::move(last));
        for (detail::call_io io = c.start(clock_.now()); io.what != op::finish;) {
            switch (io.what) {
            case op::finish: break;
            case op::renew:
                renew_session(generation, deadline);
                io = c.after_renew();
                break;
            // Each step first, then the time it ended (function arguments have no order).
            case op::reconnect: {
                reconnect_outcome r = reconnect(generation, deadline);
                io = c.after_step(std::move(r), clock_.now());
                break;
            }
            case op::reopen: {
                reconnect_outcome r = reopen(generation, conn_seen, deadline);
                io = c.after_step(std::move(r), clock_.now());
                break;
            }
            case op::wait:
                if (io.wait > duration::zero()) clock_.sleep_until(io.until);
                io = c.before_send(clock_.now());
                break;
            case op::refresh_auth: {
                const outcome<void> r = refresh_auth(auth_seen, deadline);
                io = c.after_refresh(r, clock_.now());
                break;
            }
            case op::send: {
                generation = transport_.generation();
                auth_seen = auth_epoch();
                conn_seen = connection_epoch();
                outcome<response_type> r = send(request, deadline);
                io = c.after_send(std::move(r), clock_.now());
                break;
            }
            }
        }
        return std::move(c).result();
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

    // Credential refreshes finished before a send; nothing to read when the transport cannot refresh.
    std::uint64_t auth_epoch() const noexcept {
        if constexpr (has_refresh_auth_v<Transport>) return auth_.epoch();
        else return 0;
    }

    // One credential refresh at a time, shared by every caller rejected with the credentials it
    // replaces (the transport's refresh_auth is not required to be thread-safe): the decisions are
    // `detail::auth_book`'s, as in the asynchronous client; a waiter blocks on the clock's wait.
    outcome<void> refresh_auth(std::uint64_t seen, time_point deadline) {
        if constexpr (has_refresh_auth_v<Transport>) {
            using turn = detail::auth_book::turn;
            std::unique_lock<std::mutex> lock(auth_mutex_);
            for (;;) {
                const turn t = auth_.begin(seen);
                if (t == turn::refreshed) return {};
                if (t == turn::lead) break;
                const std::uint64_t failures_before = auth_.failures();
                clock_.wait_until(lock, auth_cv_, deadline, [&] { return !auth_.in_flight(); });
                if (auto shared = auth_.after_wait(seen, failures_before)) return std::move(*shared);
                if (deadline != time_point::max() && clock_.now() >= deadline)
                    return detail::auth_book::ended_while_waiting(errc::deadline_exceeded);
            }
            lock.unlock();
            outcome<void> r{};
            try {
                r = transport_.refresh_auth();
            } catch (...) {
                end_refresh(nullptr);
                throw;
            }
            end_refresh(&r);
            return r;
        } else {
            (void)seen;
            (void)deadline;
            return {};
        }
    }

    // The leader's refresh ended with `*r` (null: by an exception); its waiters wake.
    void end_refresh(const outcome<void>* r) {
        {
            std::lock_guard<std::mutex> lock(auth_mutex_);
            if (r) auth_.finish(*r);
            else auth_.abandon();
        }
        auth_cv_.notify_all();
    }

    Transport transport_;
    std::mutex auth_mutex_;
    std::condition_variable auth_cv_;
    detail::auth_book auth_;
};

/// A `recovering_client` of `Transport` with the policies of the bundle `Policies`
/// (`recovery_policies<...>`, or anything with the same six member types).
///
///     using client = basic_recovering_client<my_transport, recovery_policies<>::with_observer<counting_observer>>;
///
/// is `recovering_client<my_transport, default_classifier, retry_once, no_backoff,
/// single_flight_reconnector<>, counting_observer, steady_clock_source>`: the same type.
template <class Transport, class Policies = recovery_policies<>>
using basic_recovering_client =
    recovering_client<Transport, typename Policies::classifier, typename Policies::retry_policy,
                      typename Policies::backoff_policy, typename Policies::reconnector, typename Policies::observer,
                      typename Policies::clock>;

}  // namespace mcp_recovery

#endif
