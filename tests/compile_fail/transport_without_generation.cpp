// A transport without generation(): the client cannot fence reconnects.
// first-error c++17: Transport: needs std::uint64_t generation\(\) const
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .transport<Transport>.|does not satisfy .transport.
// output c++20: ct\.generation\(\)
#include <mcp_recovery/recovering_client.hpp>

#include <string>

struct no_generation {
    using request_type = std::string;
    using response_type = std::string;
    mcp_recovery::outcome<std::string> send(const std::string& request) { return request; }
    mcp_recovery::outcome<void> reconnect() { return {}; }
};

mcp_recovery::recovering_client<no_generation> client{std::in_place};
