#pragma once
// A BackoffPolicy: a fixed ladder of waits, 50 ms, 250 ms, then 1 s for every later step.
#include <mcp_recovery/failure.hpp>

#include <chrono>
#include <cstddef>

namespace app {

class ladder_backoff {
public:
    mcp_recovery::duration next_delay() noexcept {
        using std::chrono::milliseconds;
        const milliseconds steps[] = {milliseconds(50), milliseconds(250), milliseconds(1000)};
        const milliseconds d = steps[step_];
        if (step_ + 1 < sizeof steps / sizeof steps[0]) ++step_;
        return d;
    }

    void reset() noexcept { step_ = 0; }

private:
    std::size_t step_ = 0;
};

}  // namespace app
