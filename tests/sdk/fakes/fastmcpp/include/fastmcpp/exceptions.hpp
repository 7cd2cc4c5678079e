// OUR FAKE of fastmcpp's exceptions.hpp (not SDK code; see fastmcpp/types.hpp): the two types on
// the wrapper's path, with the SDK's hierarchy (TransportError -> Error -> std::runtime_error).
#ifndef MCP_RECOVERY_TESTS_FAKE_FASTMCPP_EXCEPTIONS_HPP
#define MCP_RECOVERY_TESTS_FAKE_FASTMCPP_EXCEPTIONS_HPP

#include <stdexcept>
#include <string>

namespace fastmcpp {

struct Error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct TransportError : public Error {
    using Error::Error;
};

}  // namespace fastmcpp

#endif
