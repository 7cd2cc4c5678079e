// Helpers shared by the unit tests.
#ifndef MCP_RECOVERY_TESTS_TEST_SUPPORT_HPP
#define MCP_RECOVERY_TESTS_TEST_SUPPORT_HPP

#include <chrono>
#include <thread>

namespace mcp_recovery_tests {

/// Waits (yielding, never sleeping) until `cond()` holds; false when `limit` of real time passed.
/// Used to steer threads by observable state; the limit only keeps a broken test from hanging.
template <class Cond>
bool eventually(Cond cond, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::yield();
    }
    return true;
}

}  // namespace mcp_recovery_tests

#endif
