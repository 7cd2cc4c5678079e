// OUR FAKE of hkr04/cpp-mcp's include/mcp_message.h (commit f1117d5): only the names and
// signatures that examples/wrappers/cpp_mcp_wrapper.hpp uses, written from the SDK's interface.
// NOT SDK code. Standard library only; `mcp::json` is a tiny stand-in for nlohmann::ordered_json
// (null, string, integer, array, object; built with nlohmann's brace syntax).
#ifndef MCP_RECOVERY_FAKE_CPP_MCP_MESSAGE_H
#define MCP_RECOVERY_FAKE_CPP_MCP_MESSAGE_H

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mcp {

/// A tiny JSON value: enough for request params and results in the fake.
class json {
public:
    enum class kind { null, string, integer, array, object };

    json() = default;
    json(std::nullptr_t) {}
    json(const char* s) : kind_(kind::string), text_(s) {}
    json(std::string s) : kind_(kind::string), text_(std::move(s)) {}
    json(int n) : kind_(kind::integer), number_(n) {}
    json(std::int64_t n) : kind_(kind::integer), number_(n) {}
    /// As nlohmann: a list of [string, value] pairs is an object, anything else an array.
    json(std::initializer_list<json> items) {
        bool pairs = true;
        for (const json& i : items)
            if (i.kind_ != kind::array || i.items_.size() != 2 || i.items_[0].second.kind_ != kind::string) pairs = false;
        if (pairs) {
            kind_ = kind::object;
            for (const json& i : items) items_.emplace_back(i.items_[0].second.text_, i.items_[1].second);
        } else {
            kind_ = kind::array;
            for (const json& i : items) items_.emplace_back(std::string(), i);
        }
    }

    static json object() {
        json j;
        j.kind_ = kind::object;
        return j;
    }

    bool is_null() const noexcept { return kind_ == kind::null; }
    bool is_object() const noexcept { return kind_ == kind::object; }
    bool is_string() const noexcept { return kind_ == kind::string; }
    bool contains(const std::string& key) const noexcept { return find(key) != nullptr; }
    std::size_t size() const noexcept { return items_.size(); }

    /// Member `key` of an object (a null value when absent).
    const json& operator[](const std::string& key) const {
        static const json null_value;
        const json* v = find(key);
        return v ? *v : null_value;
    }
    /// Member `key`, added when absent (a null value becomes an object).
    json& operator[](const std::string& key) {
        if (kind_ == kind::null) kind_ = kind::object;
        if (kind_ != kind::object) throw std::logic_error("fake mcp::json: operator[] on a non-object");
        for (auto& item : items_)
            if (item.first == key) return item.second;
        items_.emplace_back(key, json());
        return items_.back().second;
    }

    const std::string& str() const {
        if (kind_ != kind::string) throw std::logic_error("fake mcp::json: not a string");
        return text_;
    }
    std::int64_t integer() const {
        if (kind_ != kind::integer) throw std::logic_error("fake mcp::json: not an integer");
        return number_;
    }

private:
    const json* find(const std::string& key) const noexcept {
        if (kind_ != kind::object) return nullptr;
        for (const auto& item : items_)
            if (item.first == key) return &item.second;
        return nullptr;
    }

    kind kind_ = kind::null;
    std::string text_;
    std::int64_t number_ = 0;
    std::vector<std::pair<std::string, json>> items_;  // object members, or array items (empty names)
};

/// As the SDK: JSON-RPC 2.0 error codes.
enum class error_code {
    parse_error = -32700,
    invalid_request = -32600,
    method_not_found = -32601,
    invalid_params = -32602,
    internal_error = -32603,
    server_error_start = -32000,
    server_error_end = -32099
};

/// As the SDK: what every client failure throws, transport failures included.
class mcp_exception : public std::runtime_error {
public:
    mcp_exception(error_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    error_code code() const { return code_; }

private:
    error_code code_;
};

/// As the SDK: what send_request returns (the wrapper reads `result`).
struct response {
    std::string jsonrpc = "2.0";
    json id;
    json result;
    json error;
};

}  // namespace mcp

#endif
