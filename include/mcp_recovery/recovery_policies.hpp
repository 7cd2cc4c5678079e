// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RECOVERY_POLICIES_HPP
#define MCP_RECOVERY_RECOVERY_POLICIES_HPP

/// The policies of a recovering client as one type, each replaceable without restating the others.

#include "mcp_recovery/backoff_policy.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/clock.hpp"
#include "mcp_recovery/observer.hpp"
#include "mcp_recovery/reconnector.hpp"
#include "mcp_recovery/retry_policy.hpp"
#include "mcp_recovery/session_keeper.hpp"

#include <type_traits>

namespace mcp_recovery {

/// A bundle of the policies of `recovering_client` (six, and the optional session keeper), with
/// the client's defaults.
///
/// Each `with_...<P>` names the same bundle with one policy replaced, so a client that differs
/// from the defaults in one policy says only that one:
///
///     using policies = recovery_policies<>::with_retry_policy<limited_attempts>::with_observer<counting_observer>;
///     basic_recovering_client<my_transport, policies> client{std::in_place};
///
/// The members name the policies as the client's accessors do (`classifier`, `retry_policy`, ...).
/// The bundle checks nothing itself: the client it is given to does.
template <class Classifier = default_classifier, class RetryPolicy = retry_once, class BackoffPolicy = no_backoff,
          class Reconnector = single_flight_reconnector<>, class Observer = null_observer,
          class Clock = steady_clock_source, class SessionKeeper = no_session_keeper>
struct recovery_policies {
    using classifier = Classifier;
    using retry_policy = RetryPolicy;
    using backoff_policy = BackoffPolicy;
    using reconnector = Reconnector;
    using observer = Observer;
    using clock = Clock;
    using session_keeper = SessionKeeper;

    template <class C>
    using with_classifier = recovery_policies<C, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock, SessionKeeper>;
    template <class R>
    using with_retry_policy = recovery_policies<Classifier, R, BackoffPolicy, Reconnector, Observer, Clock, SessionKeeper>;
    template <class B>
    using with_backoff_policy = recovery_policies<Classifier, RetryPolicy, B, Reconnector, Observer, Clock, SessionKeeper>;
    template <class R>
    using with_reconnector = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, R, Observer, Clock, SessionKeeper>;
    template <class O>
    using with_observer = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, O, Clock, SessionKeeper>;
    template <class C>
    using with_clock = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, C, SessionKeeper>;
    /// The optional session keeper (`session_keeper`; default `no_session_keeper`: none).
    template <class K>
    using with_session_keeper = recovery_policies<Classifier, RetryPolicy, BackoffPolicy, Reconnector, Observer, Clock, K>;
};

namespace detail {
/// `Policies::session_keeper`, or `no_session_keeper` for a bundle without one (written before it existed).
template <class Policies, class = void>
struct session_keeper_of {
    using type = no_session_keeper;
};
template <class Policies>
struct session_keeper_of<Policies, std::void_t<typename Policies::session_keeper>> {
    using type = typename Policies::session_keeper;
};
}  // namespace detail

}  // namespace mcp_recovery

#endif
