#pragma once
// A Transport: an in-memory echo "server" that can be told to forget the session.
#include <mcp_recovery/failure.hpp>
#include <mcp_recovery/outcome.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace app {

struct echo_request {
    std::string method;  // found by request_traits: it decides idempotency
    std::string text;
};

struct echo_response {
    std::string text;
    std::uint64_t generation = 0;  // the session that answered
};

class echo_transport {
public:
    using request_type = echo_request;
    using response_type = echo_response;

    // One attempt. A failure is returned, never thrown, with its delivery.
    mcp_recovery::outcome<echo_response> send(const echo_request& r) {
        if (session_lost_.load()) {
            mcp_recovery::failure f;
            f.http_status = 404;  // what the spec says a server answers for a lost session
            f.had_session_id = true;
            f.delivered = mcp_recovery::delivery::rejected;  // answered without running it
            return f;
        }
        return echo_response{r.text, generation()};
    }

    // A new session (initialize + notifications/initialized); on success the generation grows.
    mcp_recovery::outcome<void> reconnect() {
        session_lost_.store(false);
        generation_.fetch_add(1);
        return {};
    }

    // Read by every caller, concurrently with send.
    std::uint64_t generation() const noexcept { return generation_.load(); }

    void lose_session() { session_lost_.store(true); }

private:
    std::atomic<bool> session_lost_{false};
    std::atomic<std::uint64_t> generation_{1};
};

}  // namespace app
