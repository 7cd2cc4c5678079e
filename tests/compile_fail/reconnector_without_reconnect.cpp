// A reconnector whose member has another name than reconnect.
// first-error c++17: Reconnector: needs reconnect_outcome reconnect\(Transport&, std::uint64_t generation
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .reconnector<Reconnector, Transport, Clock, Observer>.|.reconnector<[^']*>' evaluated to false
// output c++20: r\.reconnect\(t, generation, deadline, c, o, hook\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <cstdint>

struct renewing_reconnector {
    template <class Transport, class Clock, class Observer, class Hook>
    mcp_recovery::reconnect_outcome renew(Transport&, std::uint64_t, mcp_recovery::time_point, Clock&, Observer&,
                                          Hook&&) {
        return {};
    }
};

namespace mr = mcp_recovery;
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_reconnector<renewing_reconnector>>
    client{std::in_place};
