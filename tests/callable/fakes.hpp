// Stand-ins for a user's MCP client and its server, shared by the callable adapter's tests.
#ifndef MCP_RECOVERY_TESTS_CALLABLE_FAKES_HPP
#define MCP_RECOVERY_TESTS_CALLABLE_FAKES_HPP

#include "mcp_recovery/callable/translator.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace callable_fakes {

/// A request with a JSON-RPC method (so the core derives idempotency from it) and a key naming
/// what it does.
struct request {
    std::string method;
    std::string key;
};

/// Which request ran, on which session, and how many times the server had run that key.
struct response {
    std::string key;
    std::uint64_t session = 0;
    int executions = 0;
};

/// A minimal expected (has_value / value / error), like `tl::expected` or `std::expected`.
template <class T, class E>
class fake_expected {
public:
    fake_expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like expected
    static fake_expected failed(E error) { return fake_expected(std::in_place_index<1>, std::move(error)); }

    bool has_value() const noexcept { return v_.index() == 0; }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    E& error() & { return std::get<1>(v_); }
    E&& error() && { return std::get<1>(std::move(v_)); }

private:
    template <std::size_t I, class U>
    fake_expected(std::in_place_index_t<I> i, U&& u) : v_(i, std::forward<U>(u)) {}
    std::variant<T, E> v_;
};

/// An expected without a value, for reconnect callables.
template <class E>
class fake_status {
public:
    fake_status() = default;
    explicit fake_status(E error) : error_(std::move(error)), ok_(false) {}
    bool has_value() const noexcept { return ok_; }
    E& error() { return error_; }

private:
    E error_{};
    bool ok_ = true;
};

/// An error object like cxxmcp's `mcp::core::Error`.
struct sdk_error {
    int code = 0;
    std::string message;
    std::string detail;
};

/// An exception that carries an SDK's error as it crossed a bridge (TypeScript, Python, Go, C#).
struct bridged_error : std::runtime_error {
    explicit bridged_error(mcp_recovery::callable::foreign_error e) : std::runtime_error(e.message), info(std::move(e)) {}
    mcp_recovery::callable::foreign_error info;
};

/// Like hkr04/cpp-mcp's `mcp::mcp_exception`: a runtime_error with a JSON-RPC code.
struct coded_exception : std::runtime_error {
    coded_exception(int c, const std::string& message) : std::runtime_error(message), code(c) {}
    int code;
};

/// A server that hands out sessions, can forget them all, and counts what it executed. Thread-safe.
class fake_server {
public:
    std::uint64_t open_session() {
        std::lock_guard<std::mutex> lock(mutex_);
        current_ = ++issued_;
        return current_;
    }
    /// Forgets every session (an idle timeout, a restart).
    void expire() {
        std::lock_guard<std::mutex> lock(mutex_);
        current_ = 0;
    }
    bool knows(std::uint64_t session) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return session != 0 && session == current_;
    }
    int execute(const std::string& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        return ++executions_[key];
    }
    int executions(const std::string& key) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = executions_.find(key);
        return it == executions_.end() ? 0 : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::uint64_t issued_ = 0;
    std::uint64_t current_ = 0;
    std::map<std::string, int> executions_;
};

/// The user's client object: it only remembers its session.
struct fake_client {
    explicit fake_client(std::uint64_t s) : session(s) {}
    std::uint64_t session;
};

}  // namespace callable_fakes

#endif
