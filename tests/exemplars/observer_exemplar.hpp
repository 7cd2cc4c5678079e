#pragma once
// An Observer: one log line per recovery event, to any sink (stderr, your logger, a test's vector).
#include <mcp_recovery/observer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

namespace app {

class log_observer : public mcp_recovery::null_observer {  // hooks not written here do nothing
public:
    // Set before calls start; called from the threads that make the calls.
    std::function<void(const std::string&)> sink;

    void on_failure(const mcp_recovery::failure& f, mcp_recovery::failure_kind kind, int attempt) noexcept {
        emit([&] {
            return "attempt " + std::to_string(attempt) + " failed (HTTP " + std::to_string(f.http_status) +
                   ", delivery " + std::string(to_string(f.delivered)) + "): " + std::string(to_string(kind));
        });
    }
    void on_reconnect_done(std::uint64_t generation, std::error_code ec, mcp_recovery::duration took) noexcept {
        emit([&] {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
            return ec ? "reconnect failed after " + std::to_string(ms) + " ms: " + ec.message()
                      : "session " + std::to_string(generation) + " opened in " + std::to_string(ms) + " ms";
        });
    }
    void on_give_up(std::error_code ec, const mcp_recovery::failure*) noexcept {
        emit([&] { return "call failed: " + ec.message(); });
    }

private:
    // Hooks must not throw: a line that cannot be built or written is dropped.
    template <class MakeLine>
    void emit(MakeLine make_line) noexcept {
        try {
            if (sink) sink(make_line());
        } catch (...) {
        }
    }
};

}  // namespace app
