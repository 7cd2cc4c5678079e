// A client for the official MCP conformance suite (@modelcontextprotocol/conformance), built on the
// Beast transport and recovering_client. The suite appends the server URL as the last argument and
// names the scenario in MCP_CONFORMANCE_SCENARIO. Exit 0 when the scenario's client side is done.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace mb = mcp_recovery::beast;

// Where the JSON value that starts at `p` in `s` ends (`s` already validated: is_valid_json).
std::size_t value_end(std::string_view s, std::size_t p) {
    std::size_t depth = 0;
    bool in_string = false;
    for (; p < s.size(); ++p) {
        const char c = s[p];
        if (in_string) {
            if (c == '\\') ++p;
            else if (c == '"') {
                in_string = false;
                if (depth == 0) return p + 1;
            }
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
            if (depth == 0) return p;  // the end of the enclosing object: a number or literal ended
            if (--depth == 0) return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return p;
        }
    }
    return s.size();
}

std::size_t skip_ws(std::string_view s, std::size_t p) {
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) ++p;
    return p;
}

// Calls `f(key as raw JSON string, value as raw JSON)` for each member of the JSON object `object`.
template <class F>
bool for_each_member(std::string_view object, F f) {
    const std::size_t first = skip_ws(object, 0);
    object = object.substr(first, object.find_last_not_of(" \t\n\r") + 1 - first);
    if (object.empty() || object.front() != '{' || !mb::is_valid_json(object)) return false;
    std::size_t p = skip_ws(object, 1);
    while (p < object.size() && object[p] == '"') {
        const std::size_t key_end = value_end(object, p);
        const std::string_view key = object.substr(p, key_end - p);
        p = skip_ws(object, key_end) + 1;  // past ':'
        p = skip_ws(object, p);
        const std::size_t end = value_end(object, p);
        f(key, object.substr(p, end - p));
        p = skip_ws(object, end);
        if (p < object.size() && object[p] == ',') p = skip_ws(object, p + 1);
    }
    return true;
}

// SEP-1034: the answer to `elicitation/create` accepts with the `default` of every property of
// the requested schema that has one (a user who accepts the form as offered).
mb::server_reply accept_with_defaults(const mb::server_request& r) {
    std::string content = "{";
    auto schema = mb::find_member(r.params, "requestedSchema");
    auto properties = schema ? mb::find_member(*schema, "properties") : std::nullopt;
    if (properties) {
        for_each_member(*properties, [&](std::string_view key, std::string_view property) {
            auto value = mb::find_member(property, "default");
            if (!value) return;
            if (content.size() > 1) content += ',';
            content.append(key.data(), key.size());
            content += ':';
            content.append(value->data(), value->size());
        });
    }
    content += '}';
    std::fprintf(stderr, "elicitation/create: accept with %s\n", content.c_str());
    return mb::server_reply::ok(R"({"action":"accept","content":)" + content + "}");
}

}  // namespace

int main(int argc, char** argv) {
    using namespace mcp_recovery;
    if (argc < 2) {
        std::fprintf(stderr, "usage: conformance_client URL (scenario in MCP_CONFORMANCE_SCENARIO)\n");
        return 2;
    }
    const char* env = std::getenv("MCP_CONFORMANCE_SCENARIO");
    const std::string scenario = env ? env : "";
    mb::transport_options o;
    o.url = argv[argc - 1];
    o.client_name = "mcp-recovery-conformance-client";
    o.client_version = "0.1.0";
    o.connect_timeout = std::chrono::seconds(10);
    o.read_timeout = std::chrono::seconds(10);
    o.server_requests["elicitation/create"] = accept_with_defaults;
    if (scenario == "elicitation-sep1034-client-defaults") {
        o.protocol_version = "2025-11-25";  // SEP-1034 is a 2025-11-25 feature
        // The scenario's server sends elicitation/create without a related request: on the GET
        // listening stream, not on the call's stream.
        o.listen = true;
    }
    try {
        recovering_client<mb::streamable_http_transport> client{std::in_place, o};
        if (auto c = client.transport().connect(); !c) {
            std::fprintf(stderr, "initialize failed: HTTP %d %s\n", c.error().http_status, c.error().message.str().c_str());
            return 1;
        }
        std::fprintf(stderr, "initialized: protocol %s\n", client.transport().protocol_version().c_str());
        if (scenario == "tools_call") {
            auto r = client.try_call({"tools/call", R"({"name":"add_numbers","arguments":{"a":5,"b":3}})"});
            if (!r || r->is_error()) {
                std::fprintf(stderr, "tools/call add_numbers failed\n");
                return 1;
            }
            std::fprintf(stderr, "add_numbers: %s\n", std::string(r->result()).c_str());
        }
        if (scenario == "sse-retry") {
            // The server ends the response stream after a priming event: the transport resumes it
            // with GET + Last-Event-ID after the server's retry interval.
            auto r = client.try_call({"tools/call", R"({"name":"test_reconnection","arguments":{}})"});
            if (!r || r->is_error()) {
                std::fprintf(stderr, "tools/call test_reconnection failed\n");
                return 1;
            }
        }
        if (scenario == "elicitation-sep1034-client-defaults") {
            // A server request sent before the listening stream is open would be lost: wait for it
            // (bounded). The handler accepts the elicitation with the schema's defaults.
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (!client.transport().listening() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (!client.transport().listening()) {
                std::fprintf(stderr, "the listening stream did not open within 10 s\n");
                return 1;
            }
            auto r = client.try_call({"tools/call", R"({"name":"test_client_elicitation_defaults","arguments":{}})"});
            if (!r || r->is_error()) {
                std::fprintf(stderr, "tools/call test_client_elicitation_defaults failed\n");
                return 1;
            }
            std::fprintf(stderr, "test_client_elicitation_defaults: %s\n", std::string(r->result()).c_str());
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "conformance_client: %s\n", e.what());
        return 1;
    }
}
