// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_PROTOCOL_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_PROTOCOL_HPP

/// What `flaky_server` serves, as constants: the protocol revisions, the tool list, the `ask`
/// defaults, the log levels, and the bounds of the conversation features. Standard library only.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

namespace mcp_recovery::beast::testing::detail {

inline constexpr std::string_view flaky_protocol_versions[] = {"2024-11-05", "2025-03-26", "2025-06-18",
                                                                "2025-11-25"};
inline constexpr std::string_view flaky_default_protocol_version = "2025-06-18";

inline bool flaky_supports_version(std::string_view v) noexcept {
    for (const std::string_view s : flaky_protocol_versions) {
        if (s == v) return true;
    }
    return false;
}

inline constexpr std::string_view flaky_tools_json =
    R"({"tools":[)"
    R"({"name":"echo","description":"Returns its text argument.",)"
    R"("inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]},)"
    R"("annotations":{"readOnlyHint":true,"idempotentHint":true}},)"
    R"({"name":"count","description":"Increments the counter named key and returns its new value.",)"
    R"("inputSchema":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]},)"
    R"("annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false}},)"
    R"({"name":"executions","description":"Returns how many times count ran for key.",)"
    R"("inputSchema":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]},)"
    R"("annotations":{"readOnlyHint":true}},)"
    R"({"name":"ask","description":"Sends the client a server request (default elicitation/create) on the call's )"
    R"(event stream, waits for its answer and returns it as text.",)"
    R"("inputSchema":{"type":"object","properties":{"method":{"type":"string"},"params":{"type":"object"}}},)"
    R"("annotations":{"readOnlyHint":true}},)"
    R"({"name":"progress","description":"Runs steps steps interval_ms apart, reporting progress when asked to.",)"
    R"("inputSchema":{"type":"object","properties":{"steps":{"type":"integer"},"interval_ms":{"type":"integer"}}},)"
    R"("annotations":{"readOnlyHint":true,"idempotentHint":true}})"
    R"(]})";

inline constexpr std::string_view flaky_default_ask_method = "elicitation/create";
inline constexpr std::string_view flaky_default_ask_params =
    R"({"message":"flaky_server asks for an answer",)"
    R"("requestedSchema":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}})";

// RFC 5424 severities, least severe first, as MCP names them.
inline constexpr std::string_view flaky_log_levels[] = {"debug", "info",     "notice", "warning",
                                                        "error", "critical", "alert",  "emergency"};

inline std::optional<std::size_t> log_level_rank(std::string_view level) noexcept {
    for (std::size_t i = 0; i < std::size(flaky_log_levels); ++i) {
        if (flaky_log_levels[i] == level) return i;
    }
    return std::nullopt;
}

// Bounds of the conversation features (per session unless said otherwise).
inline constexpr std::size_t flaky_max_subscriptions = 1024;
inline constexpr std::size_t flaky_max_pending_server_requests = 64;
inline constexpr std::size_t flaky_max_calls_in_flight = 64;
inline constexpr std::size_t flaky_max_records = 1024;            // client answers, cancellations (server-wide)
inline constexpr std::size_t flaky_max_recorded_message = 64 * 1024;
inline constexpr std::size_t flaky_max_stream_backlog = 4 * 1024 * 1024;  // bytes queued on one stream
inline constexpr std::size_t flaky_max_progress_steps = 100;
inline constexpr std::int64_t flaky_max_progress_interval_ms = 5000;

inline constexpr std::string_view flaky_cut_event_json =
    R"({"jsonrpc":"2.0","method":"notifications/message",)"
    R"("params":{"level":"info","logger":"flaky_server","data":"the stream is about to be cut"}})";

}  // namespace mcp_recovery::beast::testing::detail

#endif
