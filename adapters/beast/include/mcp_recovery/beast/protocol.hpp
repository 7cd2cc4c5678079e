// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_PROTOCOL_HPP
#define MCP_RECOVERY_BEAST_PROTOCOL_HPP

/// The MCP protocol revisions the Beast transports speak. Standard library only.

#include <string>
#include <string_view>
#include <vector>

namespace mcp_recovery::beast {

/// Protocol revisions this transport speaks (Streamable HTTP), newest last.
inline const std::vector<std::string>& supported_protocol_versions() {
    static const std::vector<std::string> versions{"2025-03-26", "2025-06-18", "2025-11-25"};
    return versions;
}

/// Whether a protocol revision has sessions. Revision 2026-07-28 removed them together with the
/// `initialize` handshake and stream resumption: a lost response is re-issued as a new request
/// (when replay-safe), never recovered by re-initializing. Revisions compare as ISO dates.
inline bool revision_has_sessions(std::string_view revision) noexcept { return revision < "2026-07-28"; }

}  // namespace mcp_recovery::beast

#endif
