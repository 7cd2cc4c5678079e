// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECOVERY_PLAN_HPP
#define MCP_RECOVERY_RECOVERY_PLAN_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/call_options.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/retry_policy.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace mcp_recovery {

/// What a recovering call does after a failed attempt.
struct recovery_step {
    enum class action : unsigned char {
        give_up,       ///< End the call with `reason` (after renewing the session if `renew_session`).
        reconnect,     ///< Get a session newer than the one the attempt used, then send again.
        reopen,        ///< Get a new connection on the same session, then send again.
        wait,          ///< Wait until `until`, then send again on the same session.
        refresh_auth,  ///< Refresh credentials once, then send again.
    };
    action what = action::give_up;
    failure_kind kind = failure_kind::permanent;
    errc reason = errc::permanent_failure;  ///< With `give_up`.
    /// With `give_up`: the failure said the session is lost, so the client renews it (within the
    /// deadline) before giving up, and the next call finds a working session.
    bool renew_session = false;
    time_point until{};                     ///< With `wait`.
    duration wait{};                        ///< With `wait`: `until - now`.
};

/// The decisions of one recovering call, without its I/O: classify, apply the replay rule, ask
/// the retry policy, check the deadline, and choose reconnect, reopen, wait or refresh. The
/// synchronous client and the asynchronous one drive the same plan, so they decide alike.
///
/// Levels of a lost connection: when the transport's session outlives its connections
/// (`session_outlives_connection_v`), `connection_lost` is recovered with `reopen` (a new
/// connection, the same session); a new session follows only if the server then says the old one
/// is gone. The retry policy sees that as one recovery: after a reopen, a lost session on the next
/// attempt is recovered without asking it again (once per call).
///
/// Built at a call's first failure (never on the success path) from the client's policies; owns
/// per-call copies of the retry and backoff prototypes. Not thread-safe: one per call.
template <class Classifier, class RetryPolicy, class BackoffPolicy, class Observer>
class recovery_plan {
public:
    recovery_plan(const Classifier& classifier, const RetryPolicy& retry, const BackoffPolicy& backoff,
                  Observer& observer, const client_options& options, bool idempotent, bool can_refresh_auth,
                  time_point started, time_point deadline, bool session_outlives_connection = false)
        : classifier_(classifier),
          retry_(retry),
          backoff_(backoff),
          observer_(observer),
          options_(options),
          idempotent_(idempotent),
          can_refresh_auth_(can_refresh_auth),
          session_outlives_connection_(session_outlives_connection),
          started_(started),
          deadline_(deadline) {
        reseed_backoff(backoff_, next_seed());
    }

    /// Decides what follows attempt number `attempt`, which failed with `last`, at time `now`.
    recovery_step next(const failure& last, int attempt, time_point now) {
        recovery_step step;
        const classification decided = classify_fully(classifier_, last);
        step.kind = decided.kind;
        observer_.on_failure(last, step.kind, attempt);
        const bool after_reopen = last_was_reopen_;
        last_was_reopen_ = false;
        auto stop = [&](errc reason) {
            step.what = recovery_step::action::give_up;
            step.reason = reason;
            return step;
        };
        if (step.kind == failure_kind::cancelled) return stop(errc::cancelled);
        if (step.kind == failure_kind::permanent) return stop(errc::permanent_failure);
        const bool session_lost = step.kind == failure_kind::session_expired;
        // Whatever becomes of this call, a lost session is renewed so that the next call works.
        step.renew_session = session_lost;
        if (!is_replay_safe(decided.delivery_of(last), idempotent_)) return stop(errc::not_replayable);
        if (step.kind == failure_kind::unauthorized && (!can_refresh_auth_ || auth_refreshed_))
            return stop(errc::unauthorized);
        const bool escalation = session_lost && after_reopen && !escalated_;
        if (escalation) escalated_ = true;
        else if (!retry_.on_failure(retry_context{step.kind, attempt, started_, now}))
            return stop(errc::retries_exhausted);
        if (now >= deadline_) {
            step.renew_session = false;  // no time left to renew it in
            return stop(errc::deadline_exceeded);
        }
        step.renew_session = false;

        switch (step.kind) {
        case failure_kind::session_expired: step.what = recovery_step::action::reconnect; break;
        case failure_kind::connection_lost:
            // `not_connected`: there is no session yet, so only a new one helps.
            if (session_outlives_connection_ && last.transport_error != transport_errc::not_connected) {
                step.what = recovery_step::action::reopen;
                last_was_reopen_ = true;
            } else {
                step.what = recovery_step::action::reconnect;
            }
            break;
        case failure_kind::throttled:
        case failure_kind::transient: {
            step.wait = last.retry_after ? clamp_server_hint(*last.retry_after, options_.max_server_wait)
                                         : backoff_.next_delay();
            step.until = saturating_add(now, step.wait);
            // Waiting only to find the deadline passed helps nobody: give up now instead.
            if (deadline_ != time_point::max() && step.until >= deadline_) return stop(errc::deadline_exceeded);
            step.what = recovery_step::action::wait;
            break;
        }
        case failure_kind::unauthorized:
            auth_refreshed_ = true;
            step.what = recovery_step::action::refresh_auth;
            break;
        case failure_kind::cancelled:
        case failure_kind::permanent: break;  // decided above
        }
        return step;
    }

    /// Decides what follows a recovery step (`step`: reconnect or reopen) that failed with
    /// `flight` (the reconnector's error) after attempt number `attempt`: give up, or ask for the
    /// same step again (the reconnector spaces failed flights by its backoff). The call's request
    /// was not sent again meanwhile, so its replay safety is unchanged.
    recovery_step after_failed_step(const recovery_step& step, const call_error& flight, int attempt, time_point now) {
        recovery_step out;
        out.kind = step.kind;
        auto stop = [&](errc reason) {
            out.what = recovery_step::action::give_up;
            out.reason = reason;
            return out;
        };
        const errc reason = flight.code.category() == error_category() ? static_cast<errc>(flight.code.value())
                                                                       : errc::reconnect_failed;
        // Deadline, circuit open, cancelled: final for this call.
        if (reason != errc::reconnect_failed) return stop(reason);
        if (flight.last_failure) {
            const classification decided = classify_fully(classifier_, *flight.last_failure);
            if (decided.kind == failure_kind::cancelled) return stop(errc::cancelled);
            // The server refused a step of the reconnect for good with an HTTP error (e.g. 404 to
            // `initialize`: a wrong endpoint; the transport names the step in `failure::method`).
            // Other failures that classify as permanent (an exception of a wrapped client's
            // reconnect, a failing hook) remain `reconnect_failed`.
            const failure& f = *flight.last_failure;
            if (decided.kind == failure_kind::permanent && f.http_status >= 400 && !f.method.empty())
                return stop(errc::permanent_failure);
        }
        if (!retry_.on_failure(retry_context{step.kind, attempt, started_, now})) return stop(errc::reconnect_failed);
        if (now >= deadline_) return stop(errc::deadline_exceeded);
        out.what = step.what;
        last_was_reopen_ = step.what == recovery_step::action::reopen;
        return out;
    }

    time_point started() const noexcept { return started_; }
    time_point deadline() const noexcept { return deadline_; }

private:
    static std::uint64_t next_seed() noexcept { return fresh_backoff_seed(); }

    const Classifier& classifier_;
    RetryPolicy retry_;
    BackoffPolicy backoff_;
    Observer& observer_;
    const client_options& options_;
    bool idempotent_;
    bool can_refresh_auth_;
    bool session_outlives_connection_;
    bool auth_refreshed_ = false;
    bool last_was_reopen_ = false;
    bool escalated_ = false;
    time_point started_;
    time_point deadline_;
};

namespace detail {

/// Ends a call with `reason` and the last failure (if any), telling the observer.
template <class Response, class Observer>
outcome<Response, call_error> give_up(Observer& observer, errc reason, std::optional<failure> last) {
    call_error e{make_error_code(reason), std::move(last), {}};
    observer.on_give_up(e.code, e.last_failure ? &*e.last_failure : nullptr);
    return e;
}

/// Ends a call with `e` (from a recovery step: the reconnector, a credential refresh) and the
/// request's own last failure, kept in `request_failure`; it stands in as `last_failure` when `e`
/// has none.
template <class Response, class Observer>
outcome<Response, call_error> give_up(Observer& observer, call_error e, const failure& request) {
    if (!e.last_failure) e.last_failure = request;
    e.request_failure = request;
    observer.on_give_up(e.code, &*e.last_failure);
    return e;
}

/// Ends a call with `reason` after a recovery step failed with `step_failure` (if any): both
/// failures are kept.
template <class Response, class Observer>
outcome<Response, call_error> give_up_after_step(Observer& observer, errc reason, std::optional<failure> step_failure,
                                                 const failure& request) {
    call_error e{make_error_code(reason), std::move(step_failure), {}, {}};
    return give_up<Response>(observer, std::move(e), request);
}

}  // namespace detail

}  // namespace mcp_recovery

#endif
