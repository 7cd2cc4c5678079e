// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TRANSPORT_STATS_HPP
#define MCP_RECOVERY_BEAST_TRANSPORT_STATS_HPP

/// What a Beast transport counts: `http_diagnostics` and `conversation_stats`. Standard library only.

#include <cstdint>

namespace mcp_recovery::beast {

/// What a transport saw servers do wrong at the HTTP level, counted since it was made
/// (`diagnostics()` of either Beast transport). None of it reaches a caller as another call's
/// answer; these say why connections were closed instead of reused, and name the server's fault.
struct http_diagnostics {
    /// Connections closed because bytes followed a complete response (a stray CRLF, a
    /// Content-Length shorter than the body, an unsolicited response): RFC 9112, section 6.3.
    std::uint64_t stray_bytes = 0;
    /// JSON answers whose id was not the request's (a desynchronised or confused server).
    std::uint64_t mismatched_ids = 0;
    /// Interim (1xx) responses skipped before a final one (RFC 9110, section 15.2): allowed, noted.
    std::uint64_t interim_responses = 0;
    /// Answers with a `Content-Encoding` other than identity, which was all the client accepted.
    std::uint64_t encoded_bodies = 0;
    /// Responses not complete within `response_timeout`.
    std::uint64_t response_timeouts = 0;
    /// Pooled connections the server had closed before they could be reused (found at reuse, or
    /// under the next request).
    std::uint64_t closed_idle = 0;
    /// Requests sent once more on a fresh connection because the reused one provably had not
    /// been read by the server (see `docs/reliability.md`, "Hostile servers").
    std::uint64_t resent_unsent = 0;
};

/// What a transport did for the server's side of the conversation, counted since it was made
/// (`conversation()` of either Beast transport).
struct conversation_stats {
    std::uint64_t listening_opened = 0;       ///< GETs answered with a listening event stream
    std::uint64_t listening_resumed = 0;      ///< of which carried `Last-Event-ID` (resumed in the same session)
    std::uint64_t listening_not_offered = 0;  ///< GETs answered 405: the server has no listening stream
    std::uint64_t requests_answered = 0;      ///< server requests answered (on any stream)
    std::uint64_t cancellations_sent = 0;     ///< `notifications/cancelled` started for abandoned calls
    /// `notifications/initialized` written ahead of a request on one connection and answered
    /// (`transport_options::pipeline_initialized`).
    std::uint64_t initialized_pipelined = 0;
    /// Of those, answered with another status than 2xx (the request it went with was answered as
    /// the server chose).
    std::uint64_t initialized_refused = 0;
};

}  // namespace mcp_recovery::beast

#endif
