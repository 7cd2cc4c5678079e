// OUR FAKE of caomengxuan666/cxxmcp's <cxxmcp/core/result.hpp> (mcp-recovery tests; not SDK code).
// Only what examples/wrappers/cxxmcp_wrapper.hpp uses: mcp::core::Error, Unit, Result<T> (in the
// SDK a tl::expected<T, Error>; here a tiny expected-like type), unexpected(). Standard library only.
#ifndef MCPR_FAKE_CXXMCP_CORE_RESULT_HPP
#define MCPR_FAKE_CXXMCP_CORE_RESULT_HPP

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace mcp::core {

/// As the SDK's: code (JSON-RPC or transport), message, detail (an HTTP status, a body...), category.
struct Error {
    int code = 0;
    std::string message;
    std::string detail;
    std::string category;
};

using Unit = std::monostate;

template <class E>
struct unexpected_value {
    E error;
};

template <class E>
unexpected_value<std::decay_t<E>> unexpected(E&& e) {
    return {std::forward<E>(e)};
}

/// tl::expected<T, Error>, as far as the wrapper and the tests use it.
template <class T>
class Result {
public:
    template <class U = T, std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                !std::is_same_v<std::decay_t<U>, Result>, int> = 0>
    Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit like tl::expected
    Result(unexpected_value<Error> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    Error& error() & { return std::get<1>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

}  // namespace mcp::core

#endif
