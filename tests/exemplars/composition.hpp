#pragma once
// Composing policies: the client's template parameters, then the settings of its prototypes.
#include <mcp_recovery/recovering_client.hpp>

#include "backoff_exemplar.hpp"
#include "classifier_exemplar.hpp"
#include "clock_exemplar.hpp"
#include "observer_exemplar.hpp"
#include "reconnector_exemplar.hpp"
#include "retry_policy_exemplar.hpp"

#include <chrono>

namespace app {

namespace mr = mcp_recovery;

// The library's models, each named (these are not all the defaults).
template <class Transport>
using tuned_client = mr::recovering_client<Transport,                       // what carries requests
                                           mr::default_classifier,          // what a failure means
                                           mr::limited_attempts,            // whether to try again
                                           mr::exponential_backoff,         // how long to wait
                                           mr::single_flight_reconnector<>, // how a new session comes
                                           mr::counting_observer,           // what recovery did
                                           mr::steady_clock_source>;        // time, and waiting

template <class Transport>
void configure(tuned_client<Transport>& client) {
    using namespace std::chrono_literals;
    client.classifier().session_rules().add("session evicted");  // a phrase your server uses
    client.retry_policy() = mr::limited_attempts{4};             // 4 attempts in all, the first included
    client.backoff_policy() = mr::exponential_backoff{200ms, 2.0, 5s, mr::jitter::full};
    client.reconnector().set_options(mr::reconnect_options{3, 10s});  // breaker: 3 failed flights, 10 s
    client.reconnector().backoff_policy() = mr::exponential_backoff{100ms};  // between failed flights
    client.options().max_server_wait = 20s;  // a longer Retry-After is cut to this
    client.on_reconnected([](Transport&) -> mr::outcome<void> {
        return {};  // restore what the server lost with the session: subscriptions, log level
    });
}

// Your own models, from the concept pages, in the same places.
template <class Transport>
using own_policies_client = mr::recovering_client<Transport, gateway_classifier, one_reconnect_then_patience,
                                                  ladder_backoff, serial_reconnector, log_observer, metered_clock>;

}  // namespace app
