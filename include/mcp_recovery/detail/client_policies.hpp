// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_DETAIL_CLIENT_POLICIES_HPP
#define MCP_RECOVERY_DETAIL_CLIENT_POLICIES_HPP

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/call_options.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/detail/recovering_call.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace mcp_recovery::detail {

/// Stands in for the request type of a type that has none (it fails the client's own checks,
/// which then name what it misses).
struct no_request_type {};

/// Stands in for the keeper's gate and timer of a client without a keeper (distinct empty types,
/// so that they take no space next to each other).
struct no_keeper_gate {};
struct no_keeper_timer {};

template <class T, class = void>
struct request_type_of {
    using type = no_request_type;
};
template <class T>
struct request_type_of<T, std::void_t<typename T::request_type>> {
    using type = typename T::request_type;
};

/// What the synchronous and the asynchronous recovering client hold and show alike: the policies
/// (each copied per call where it keeps state), the client's options, the reconnect hook, the
/// tool annotation source, the session keeper, and their accessors. The clients differ only in
/// how they wait.
template <class Transport, class Classifier, class RetryPolicy, class BackoffPolicy, class Reconnector, class Observer,
          class Clock, class Hook, class SessionKeeper = no_session_keeper>
class client_policies {
    // C++17 (and C++20 where the concepts did not reject the type first): each requirement trait
    // names the member a type misses, then this says which requirements it fails.
    static_assert(classifier_requirements<Classifier>::value,
                  "Classifier type requirements not met (see mcp_recovery/classifier.hpp)");
    static_assert(retry_policy_requirements<RetryPolicy>::value,
                  "RetryPolicy type requirements not met (see mcp_recovery/retry_policy.hpp)");
    static_assert(backoff_policy_requirements<BackoffPolicy>::value,
                  "BackoffPolicy type requirements not met (see mcp_recovery/backoff_policy.hpp)");
    static_assert(observer_requirements<Observer>::value,
                  "Observer type requirements not met (see mcp_recovery/observer.hpp)");
    static_assert(session_keeper_requirements<SessionKeeper>::value,
                  "SessionKeeper type requirements not met (see mcp_recovery/session_keeper.hpp)");

public:
    /// Runs inside a reconnect flight, after the new session is up and before waiting callers
    /// continue: restore what the server lost with the old session (subscriptions, log level).
    using reconnect_hook = Hook;
    /// Finds the annotations of the tool a `tools/call` names (e.g. `beast::annotations_from(catalogue)`).
    using annotation_source =
        std::function<std::optional<tool_annotations>(const typename request_type_of<Transport>::type&)>;

    Classifier& classifier() noexcept { return classifier_; }
    /// The prototype copied at the first failure of each call.
    RetryPolicy& retry_policy() noexcept { return retry_; }
    /// The prototype copied (and reseeded) at the first failure of each call.
    BackoffPolicy& backoff_policy() noexcept { return backoff_; }
    Reconnector& reconnector() noexcept { return reconnector_; }
    Observer& observer() noexcept { return observer_; }
    Clock& clock() noexcept { return clock_; }
    client_options& options() noexcept { return options_; }
    /// The session keeper (`no_session_keeper` by default: none); set it up before calls start.
    SessionKeeper& session_keeper() noexcept { return keeper_; }
    void on_reconnected(reconnect_hook hook) { hook_ = std::move(hook); }
    /// Where a `tools/call` made without `call_options::annotations` (and with
    /// `idempotency::automatic`) finds its tool's annotations, which decide whether it may be
    /// replayed: e.g. `client.use_tool_annotations(beast::annotations_from(catalogue))`. Asked only
    /// after a failure (the success path never pays for it). Set before calls start.
    void use_tool_annotations(annotation_source source) { annotations_of_ = std::move(source); }

protected:
    /// The recovery of a call whose first attempt failed with `first`, from the client's
    /// policies (the retry and backoff prototypes are copied into it) and the call's options.
    template <class Response, class Request>
    recovering_call<Response, Classifier, RetryPolicy, BackoffPolicy, Observer> begin_recovery(
        const Request& request, const call_options& options, time_point deadline, bool can_refresh_auth,
        bool session_outlives_connection, failure first) {
        return recovering_call<Response, Classifier, RetryPolicy, BackoffPolicy, Observer>(
            classifier_, retry_, backoff_, observer_, options_, call_is_idempotent(options, request, annotations_of_),
            can_refresh_auth, clock_.now(), deadline, session_outlives_connection, std::move(first));
    }

    /// Whether the client keeps its session (a `SessionKeeper` whose `enabled` is true). When
    /// false, nothing below is used and the success path is as without the policy.
    static constexpr bool keeper_enabled = keeper_is_enabled<SessionKeeper>::value;

    /// The keeper's action for this client's requests (`ping` needs `ping_request_traits`).
    keeper_action keeper_effective_action() const noexcept {
        return effective_action<typename request_type_of<Transport>::type>(keeper_.options().action);
    }
    /// Whether calls re-initialize a session idle past the threshold before they send.
    bool keeper_reinitializes_before_calls() const noexcept {
        return keeper_effective_action() == keeper_action::reinitialize;
    }
    /// Whether the client runs the keeper's timer itself (a ping keeper with `own_timer`).
    bool keeper_runs_timer() const noexcept {
        return keeper_effective_action() == keeper_action::ping && keeper_.options().own_timer;
    }
    /// Whether `f` is the server's lost-session answer (as the classifier sees it).
    bool keeper_session_lost(const failure& f) const {
        return classify_fully(classifier_, f).kind == failure_kind::session_expired;
    }

    client_policies() = default;
    ~client_policies() = default;
    client_policies(const client_policies&) = delete;
    client_policies& operator=(const client_policies&) = delete;

    MCP_RECOVERY_NO_UNIQUE_ADDRESS Classifier classifier_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS RetryPolicy retry_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS BackoffPolicy backoff_{};
    Reconnector reconnector_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Observer observer_{};
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Clock clock_{};
    client_options options_{};
    reconnect_hook hook_;
    annotation_source annotations_of_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS SessionKeeper keeper_{};
    // One keeper action in flight per transport, and who reports a keeper re-initialize (only
    // with an enabled keeper: nothing otherwise).
    MCP_RECOVERY_NO_UNIQUE_ADDRESS std::conditional_t<keeper_enabled, keeper_gate, no_keeper_gate> keeper_gate_{};
};

}  // namespace mcp_recovery::detail

#endif
