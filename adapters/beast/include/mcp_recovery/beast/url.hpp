// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_URL_HPP
#define MCP_RECOVERY_BEAST_URL_HPP

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast {

/// An MCP endpoint: `http://host[:port]/path` or `https://...`. Plain data.
struct endpoint_url {
    bool tls = false;
    std::string host;        ///< Without brackets for IPv6 literals.
    std::uint16_t port = 0;  ///< Explicit, or 80 / 443.
    std::string target;      ///< Path and query, at least "/".

    /// `host[:port]` as the Host header wants it (brackets for IPv6, port only when not default).
    std::string host_header() const {
        std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
        return h;
    }
};

/// Parses an endpoint URL; on error returns nothing and sets `why` to a sentence a user can act on.
///
/// Strict on purpose: only `http` and `https`, no user info, no fragment, no whitespace or control
/// characters anywhere (they would end up in the request line or the Host header), and a host that
/// is a plain host name or a bracketed IPv6 address (no percent-encoding, no IPv6 zone id).
inline std::optional<endpoint_url> parse_url(std::string_view text, std::string& why) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            why = "the URL contains whitespace or a control character";
            return std::nullopt;
        }
    }
    endpoint_url url;
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        why = "the URL has no scheme; expected http://host:port/path or https://...";
        return std::nullopt;
    }
    std::string scheme(text.substr(0, scheme_end));
    for (char& c : scheme) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (scheme == "https") {
        url.tls = true;
    } else if (scheme != "http") {
        // Named only when it looks like a scheme: text before "://" may hold credentials.
        const bool plain = !scheme.empty() && scheme.size() <= 32 && std::all_of(scheme.begin(), scheme.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        });
        why = plain ? "unsupported URL scheme '" + scheme + "'; only http and https are supported"
                    : std::string("unsupported URL scheme; only http and https are supported");
        return std::nullopt;
    }
    std::string_view rest = text.substr(scheme_end + 3);
    if (rest.find('#') != std::string_view::npos) {
        why = "the URL has a fragment (#...), which an HTTP request cannot carry";
        return std::nullopt;
    }
    const auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
    if (!url.target.empty() && url.target[0] == '?') url.target.insert(url.target.begin(), '/');
    if (authority.find('@') != std::string_view::npos) {
        why = "the URL has user information (user:password@host), which is refused and not shown; put credentials "
              "in a token provider or an extra header instead";
        return std::nullopt;
    }
    std::string_view port_text;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            why = "the URL has an unterminated IPv6 address";
            return std::nullopt;
        }
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                why = "unexpected characters after the IPv6 address";
                return std::nullopt;
            }
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) {
        why = "the URL has no host";
        return std::nullopt;
    }
    // A host name (letters, digits, '-', '.', '_', '~'), or inside brackets an IPv6 address
    // (hex digits, ':', '.'): nothing else can reach the Host header or the resolver.
    const bool bracketed = authority[0] == '[';
    for (char c : url.host) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        const bool allowed = bracketed ? (alnum && (c <= '9' || (c | 0x20) <= 'f')) || c == ':' || c == '.'
                                       : alnum || c == '-' || c == '.' || c == '_' || c == '~';
        if (!allowed) {
            why = bracketed ? "the URL's IPv6 address has characters other than hex digits, ':' and '.'"
                            : "the URL's host has characters not allowed in a host name";
            return std::nullopt;
        }
    }
    if (port_text.empty()) {
        url.port = url.tls ? 443 : 80;
    } else {
        unsigned long value = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9' || value > 65535) {
                why = "the URL's port is not a number from 1 to 65535";
                return std::nullopt;
            }
            value = value * 10 + static_cast<unsigned long>(c - '0');
        }
        if (value == 0 || value > 65535) {
            why = "the URL's port is not a number from 1 to 65535";
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    return url;
}

/// `text` with any user information (`user:password@`) replaced by `***@`, for messages and logs:
/// credentials in a URL are never echoed. Conservative: everything from the authority's start to
/// the last '@' of the text counts as user information (a password may hold '/', '?', '#' and '@'
/// unencoded), so a URL whose path holds an '@' is shown shortened; a text with no '@' is returned
/// as it is.
inline std::string redact_url(std::string_view text) {
    const auto at = text.rfind('@');
    if (at == std::string_view::npos) return std::string(text);
    std::string out;
    const auto scheme_end = text.find("://");
    if (scheme_end != std::string_view::npos && scheme_end < at) {
        const std::string_view scheme = text.substr(0, scheme_end);
        const bool plain = std::all_of(scheme.begin(), scheme.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                   c == '.';
        });
        if (plain) out.append(text.substr(0, scheme_end + 3));
    }
    out += "***@";
    out.append(text.substr(at + 1));
    return out;
}

}  // namespace mcp_recovery::beast

#endif
