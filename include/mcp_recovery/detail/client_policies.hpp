// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_DETAIL_CLIENT_POLICIES_HPP
#define MCP_RECOVERY_DETAIL_CLIENT_POLICIES_HPP

#include "mcp_recovery/call_options.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/idempotency.hpp"

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace mcp_recovery::detail {

/// Stands in for the request type of a type that has none (it fails the client's own checks,
/// which then name what it misses).
struct no_request_type {};

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
/// tool annotation source, and their accessors. The clients differ only in how they wait.
template <class Transport, class Classifier, class RetryPolicy, class BackoffPolicy, class Reconnector, class Observer,
          class Clock, class Hook>
class client_policies {
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
    void on_reconnected(reconnect_hook hook) { hook_ = std::move(hook); }
    /// Where a `tools/call` made without `call_options::annotations` (and with
    /// `idempotency::automatic`) finds its tool's annotations, which decide whether it may be
    /// replayed: e.g. `client.use_tool_annotations(beast::annotations_from(catalogue))`. Asked only
    /// after a failure (the success path never pays for it). Set before calls start.
    void use_tool_annotations(annotation_source source) { annotations_of_ = std::move(source); }

protected:
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
};

}  // namespace mcp_recovery::detail

#endif
