// OUR FAKE of caomengxuan666/cxxmcp's <cxxmcp/protocol/serialization.hpp> (mcp-recovery tests; not SDK code).
#ifndef MCPR_FAKE_CXXMCP_PROTOCOL_SERIALIZATION_HPP
#define MCPR_FAKE_CXXMCP_PROTOCOL_SERIALIZATION_HPP

#include "cxxmcp/protocol/types.hpp"

#include <string>
#include <utility>

namespace mcp::protocol {

inline JsonRpcRequest make_request(std::string method, RequestId id, Json params = Json::object()) {
    return JsonRpcRequest{std::move(method), std::move(params), std::move(id)};
}

}  // namespace mcp::protocol

#endif
