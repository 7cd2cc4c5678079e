// OUR FAKE of the part of 0xeb/fastmcpp's interface that examples/wrappers/fastmcpp_wrapper.hpp
// uses: not SDK code. Same header paths, namespaces, names and signatures as fastmcpp 1cd32e0, so
// that the wrapper compiles against it unchanged (tests/sdk/fastmcpp_fake_test.cpp). The real
// `fastmcpp::Json` is nlohmann::json; this one holds null, strings and objects, enough for the
// wrapper and its test.
#ifndef MCP_RECOVERY_TESTS_FAKE_FASTMCPP_TYPES_HPP
#define MCP_RECOVERY_TESTS_FAKE_FASTMCPP_TYPES_HPP

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fastmcpp {

class Json {
public:
    Json() = default;
    Json(const char* s) : kind_(kind::string), string_(s) {}         // NOLINT: implicit like nlohmann::json
    Json(std::string s) : kind_(kind::string), string_(std::move(s)) {}  // NOLINT: implicit like nlohmann::json

    static Json object() {
        Json j;
        j.kind_ = kind::object;
        return j;
    }

    bool is_null() const noexcept { return kind_ == kind::null; }
    bool is_string() const noexcept { return kind_ == kind::string; }
    bool is_object() const noexcept { return kind_ == kind::object; }

    /// The member `key`, created (null) if absent; a null Json becomes an object first.
    Json& operator[](const std::string& key) {
        if (kind_ == kind::null) kind_ = kind::object;
        if (kind_ != kind::object) throw std::domain_error("fake fastmcpp::Json: operator[] on a string");
        for (std::size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i] == key) return values_[i];
        keys_.push_back(key);
        values_.emplace_back();
        return values_.back();
    }

    const Json& at(const std::string& key) const {
        for (std::size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i] == key) return values_[i];
        throw std::out_of_range("fake fastmcpp::Json: no member " + key);
    }

    bool contains(const std::string& key) const {
        for (const std::string& k : keys_)
            if (k == key) return true;
        return false;
    }

    template <class T>
    T get() const {
        static_assert(std::is_same_v<T, std::string>, "fake fastmcpp::Json::get supports std::string only");
        if (kind_ != kind::string) throw std::domain_error("fake fastmcpp::Json: not a string");
        return string_;
    }

private:
    enum class kind { null, string, object };
    kind kind_ = kind::null;
    std::string string_;
    std::vector<std::string> keys_;
    std::vector<Json> values_;
};

}  // namespace fastmcpp

#endif
