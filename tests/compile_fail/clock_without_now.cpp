// A clock that can wait but cannot tell the time.
// first-error c++17: Clock: needs time_point now\(\)
// first-error c++20: template constraint failure|constraints not satisfied
// output c++20: satisfaction of .clock<Clock>.|does not satisfy .clock.
// output c++20: c\.now\(\)
#include <mcp_recovery/recovering_client.hpp>
#include <mcp_recovery/testing/scripted_transport.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

struct sleeping_clock {
    void sleep_until(mcp_recovery::time_point t) const { std::this_thread::sleep_until(t); }
    template <class Predicate>
    bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, mcp_recovery::time_point t,
                    Predicate pred) const {
        return cv.wait_until(lock, t, pred);
    }
};

namespace mr = mcp_recovery;
mr::basic_recovering_client<mr::testing::scripted_transport, mr::recovery_policies<>::with_clock<sleeping_clock>>
    client{std::in_place};
