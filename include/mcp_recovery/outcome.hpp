// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_OUTCOME_HPP
#define MCP_RECOVERY_OUTCOME_HPP

#include "mcp_recovery/failure.hpp"

#include <cassert>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace mcp_recovery {

/// Thrown by `outcome::value()` when the outcome holds an error.
class bad_outcome_access : public std::logic_error {
public:
    bad_outcome_access() : std::logic_error("mcp_recovery::outcome holds an error, not a value") {}
};

/// Tag to build an outcome that holds an error.
struct error_tag_t {
    explicit error_tag_t() = default;
};
inline constexpr error_tag_t error_tag{};

/// A value or an error, without exceptions and without heap allocation (a small `expected`).
///
/// Transports return `outcome<Response>` (the error is a `failure`); the recovering client
/// returns `outcome<Response, call_error>`.
template <class T, class E = failure>
class outcome {
    static_assert(!std::is_same_v<T, E>, "outcome<T, E> needs distinct value and error types");

public:
    using value_type = T;
    using error_type = E;

    /// A value-initialized value (Asio's co_spawn needs it to report an exception).
    template <class U = T, std::enable_if_t<std::is_default_constructible_v<U>, int> = 0>
    outcome() : v_(std::in_place_index<0>) {}

    template <class U = T, std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                !std::is_same_v<std::decay_t<U>, outcome> &&
                                                !std::is_same_v<std::decay_t<U>, E>,
                                            int> = 0>
    outcome(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit by design

    outcome(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

    template <class... Args>
    outcome(error_tag_t, Args&&... args) : v_(std::in_place_index<1>, std::forward<Args>(args)...) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        if (!has_value()) throw bad_outcome_access();
        return *std::get_if<0>(&v_);
    }
    const T& value() const& {
        if (!has_value()) throw bad_outcome_access();
        return *std::get_if<0>(&v_);
    }
    T&& value() && {
        if (!has_value()) throw bad_outcome_access();
        return std::move(*std::get_if<0>(&v_));
    }

    T& operator*() & noexcept { return *std::get_if<0>(&v_); }
    const T& operator*() const& noexcept { return *std::get_if<0>(&v_); }
    T&& operator*() && noexcept { return std::move(*std::get_if<0>(&v_)); }
    T* operator->() noexcept { return std::get_if<0>(&v_); }
    const T* operator->() const noexcept { return std::get_if<0>(&v_); }

    /// The error. Precondition: `!has_value()`.
    E& error() & noexcept {
        assert(!has_value());
        return *std::get_if<1>(&v_);
    }
    const E& error() const& noexcept {
        assert(!has_value());
        return *std::get_if<1>(&v_);
    }
    E&& error() && noexcept {
        assert(!has_value());
        return std::move(*std::get_if<1>(&v_));
    }

private:
    std::variant<T, E> v_;
};

/// Success with no value, or an error.
template <class E>
class outcome<void, E> {
public:
    using value_type = void;
    using error_type = E;

    outcome() = default;
    outcome(E error) : e_(std::move(error)) {}  // NOLINT: implicit by design
    template <class... Args>
    outcome(error_tag_t, Args&&... args) : e_(std::in_place, std::forward<Args>(args)...) {}

    bool has_value() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (!has_value()) throw bad_outcome_access();
    }

    E& error() & noexcept {
        assert(!has_value());
        return *e_;
    }
    const E& error() const& noexcept {
        assert(!has_value());
        return *e_;
    }
    E&& error() && noexcept {
        assert(!has_value());
        return std::move(*e_);
    }

private:
    std::optional<E> e_;
};

}  // namespace mcp_recovery

#endif
