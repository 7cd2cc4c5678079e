// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_DETAIL_RECOVERING_CALL_HPP
#define MCP_RECOVERY_DETAIL_RECOVERING_CALL_HPP

#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/recovery_plan.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace mcp_recovery::detail {

/// Whether a call of `request` with `options` is idempotent: `resolve_idempotency`, with the
/// annotations of `options`, else (for a `tools/call` under `idempotency::automatic`) those that
/// `annotations_of(request)` finds — the client's annotation source, asked only after a failure.
template <class Request, class Source>
bool call_is_idempotent(const call_options& options, const Request& request, const Source& annotations_of) {
    const std::optional<std::string_view> method = method_of(request);
    if (!options.annotations && options.idempotency == idempotency::automatic && annotations_of && method &&
        *method == "tools/call") {
        const std::optional<tool_annotations> found = annotations_of(request);
        return resolve_idempotency(options.idempotency, method, found);
    }
    return resolve_idempotency(options.idempotency, method, options.annotations);
}

/// What a recovering call asks its client to do next: the only part of a recovery that differs
/// between the synchronous client (which blocks) and the asynchronous one (which awaits).
struct call_io {
    enum class op : unsigned char {
        finish,        ///< The call is over: take `recovering_call::result()`.
        renew,         ///< Renew the lost session (reconnect, outcome ignored), then `after_renew()`.
        reconnect,     ///< Reconnect, then `after_step(outcome)`.
        reopen,        ///< Reopen the connection, then `after_step(outcome)`.
        wait,          ///< Wait until `until` (nothing when `until` has passed), then `before_send()`.
        refresh_auth,  ///< Refresh credentials, then `after_refresh(outcome)`.
        send,          ///< Read the epochs, send the request again, then `after_send(outcome)`.
    };
    op what = op::finish;
    time_point until{};  ///< With `wait`.
    duration wait{};     ///< With `wait`: how long it was planned (0: send at once).
};

/// One recovering call after its first failure, without its I/O: the driver of `recovery_plan`
/// shared by `recovering_client` and `beast::async_recovering_client`. It counts attempts,
/// applies the plan's steps, checks the deadline before every send, tells the observer about
/// retries and the recovery, and composes the call's result (the give-up error keeps both the
/// request's failure and that of a failed recovery step).
///
/// The client loops: `for (call_io io = c.start(now); io.what != finish; io = c.after_x(...))`.
/// Cancellation (async client only) is `cancel()` at any point. Not thread-safe: one per call.
template <class Response, class Classifier, class RetryPolicy, class Backoff, class Observer>
class recovering_call {
public:
    using plan_type = recovery_plan<Classifier, RetryPolicy, Backoff, Observer>;
    using result_type = outcome<Response, call_error>;

    /// `first`: the failure of the call's first attempt; the rest as `recovery_plan`'s.
    recovering_call(const Classifier& classifier, const RetryPolicy& retry, const Backoff& backoff, Observer& observer,
                    const client_options& options, bool idempotent, bool can_refresh_auth, time_point now,
                    time_point deadline, bool session_outlives_connection, failure first)
        : plan_(classifier, retry, backoff, observer, options, idempotent, can_refresh_auth, now, deadline,
                session_outlives_connection),
          observer_(observer),
          last_(std::move(first)) {}

    /// The first decision, after the failure of the first attempt.
    call_io start(time_point now) { return decide(now); }

    /// After `renew`: the call gives up with the reason decided before.
    call_io after_renew() { return finish_with(give_up(step_.reason)); }

    /// After `reconnect` or `reopen` ended with `r`.
    call_io after_step(reconnect_outcome r, time_point now) {
        if (r) return before_send(now);
        return after_failed_step(std::move(r).error(), now);
    }

    /// After `reconnect` or `reopen` failed with `e`: give up, or the same step again.
    call_io after_failed_step(call_error e, time_point now) {
        ++attempt_;
        const recovery_step again = plan_.after_failed_step(step_, e, attempt_, now);
        if (again.what == recovery_step::action::give_up) {
            e.code = make_error_code(again.reason);
            return finish_with(give_up(std::move(e), last_));
        }
        return io_for_step();  // the same step again, after the reconnector's backoff
    }

    /// After a `refresh_auth` that ended with `r`.
    call_io after_refresh(const outcome<void>& r, time_point now) {
        if (!r) return finish_with(give_up_after_step(errc::unauthorized, r.error()));
        return before_send(now);
    }

    /// After a `wait`, or any step that succeeded: the deadline is checked, then `send`.
    call_io before_send(time_point now) {
        // No attempt starts after the deadline, whatever the step before it took.
        if (plan_.deadline() != time_point::max() && now >= plan_.deadline())
            return finish_with(give_up(errc::deadline_exceeded));
        observer_.on_retry(step_.kind, attempt_, step_.wait);
        return call_io{call_io::op::send, {}, {}};
    }

    /// After a `send` that ended with `r`.
    call_io after_send(outcome<Response>&& r, time_point now) {
        if (r) {
            observer_.on_recovered(attempt_ + 1, now - plan_.started());
            return finish_with(result_type(std::move(*r)));
        }
        last_ = std::move(r).error();
        ++attempt_;
        return decide(now);
    }

    /// Ends the call with `errc::cancelled` (async client: `cancel()` or the coroutine's slot).
    call_io cancel() { return finish_with(give_up(errc::cancelled)); }

    /// The call's result, once `finish` was returned.
    result_type result() && { return std::move(*result_); }

private:
    call_io decide(time_point now) {
        step_ = plan_.next(last_, attempt_, now);
        return io_for_step();
    }

    call_io io_for_step() {
        switch (step_.what) {
        case recovery_step::action::give_up:
            if (step_.renew_session) return call_io{call_io::op::renew, {}, {}};
            return finish_with(give_up(step_.reason));
        case recovery_step::action::reconnect: return call_io{call_io::op::reconnect, {}, {}};
        case recovery_step::action::reopen: return call_io{call_io::op::reopen, {}, {}};
        case recovery_step::action::wait: return call_io{call_io::op::wait, step_.until, step_.wait};
        case recovery_step::action::refresh_auth: return call_io{call_io::op::refresh_auth, {}, {}};
        }
        return finish_with(give_up(errc::permanent_failure));  // unreachable
    }

    call_io finish_with(result_type r) {
        result_.emplace(std::move(r));
        return call_io{call_io::op::finish, {}, {}};
    }

    result_type give_up(errc reason) { return detail::give_up<Response>(observer_, reason, last_); }
    result_type give_up(call_error e, const failure& request) {
        return detail::give_up<Response>(observer_, std::move(e), request);
    }
    result_type give_up_after_step(errc reason, const failure& step_failure) {
        return detail::give_up_after_step<Response>(observer_, reason, step_failure, last_);
    }

    plan_type plan_;
    Observer& observer_;
    failure last_;
    recovery_step step_{};
    int attempt_ = 1;
    std::optional<result_type> result_;
};

}  // namespace mcp_recovery::detail

#endif
