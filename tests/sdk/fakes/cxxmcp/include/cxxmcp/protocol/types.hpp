// OUR FAKE of caomengxuan666/cxxmcp's <cxxmcp/protocol/types.hpp> (mcp-recovery tests; not SDK code).
// In the SDK, Json is nlohmann::json; here a flat string map is enough for the fake server.
#ifndef MCPR_FAKE_CXXMCP_PROTOCOL_TYPES_HPP
#define MCPR_FAKE_CXXMCP_PROTOCOL_TYPES_HPP

#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace mcp::protocol {

/// A flat JSON object of strings (the real one is nlohmann::json).
class Json {
public:
    static Json object() { return Json{}; }
    std::string& operator[](const std::string& key) { return fields_[key]; }
    bool contains(const std::string& key) const { return fields_.count(key) != 0; }
    std::string get(const std::string& key) const {
        auto it = fields_.find(key);
        return it == fields_.end() ? std::string() : it->second;
    }

private:
    std::map<std::string, std::string> fields_;
};

using RequestId = std::variant<std::int64_t, std::string>;

struct JsonRpcRequest {
    std::string method;
    Json params;
    RequestId id;
};

}  // namespace mcp::protocol

#endif
