// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_JSON_STRING_HPP
#define MCP_RECOVERY_BEAST_JSON_STRING_HPP

/// `append_json_string`: writes text as a JSON string literal. Standard library only.

#include <cstddef>
#include <string>
#include <string_view>

namespace mcp_recovery::beast {

/// Appends `text` to `out` as a JSON string literal, with its quotes.
///
/// Escapes `"`, `\` and every control character U+0000..U+001F, so text from anywhere can be put
/// into a request without changing its structure. Bytes >= 0x80 pass through unchanged: UTF-8 is
/// not validated, so invalid UTF-8 in yields invalid UTF-8 out (a strict peer will reject it).
inline void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(esc, sizeof esc);
        }
        }
    }
    out.append(text.data() + run, text.size() - run);
    out.push_back('"');
}

}  // namespace mcp_recovery::beast

#endif
