#pragma once
// Test stand-in for "the client you already have" of docs/getting-started.md (described there in
// prose, not shown): a client whose server can be told to forget every session on the next call.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace app {

/// What my_client throws when the server answers with an HTTP error status.
struct my_http_error : std::runtime_error {
    my_http_error(int http_status, const std::string& what) : std::runtime_error(what), status(http_status) {}
    int status;
};

/// The stand-in server: one process-wide session counter.
struct stub_server {
    std::atomic<int> session{0};
    std::atomic<int> initializes{0};
    std::atomic<bool> forget_on_next_call{false};
};

inline stub_server& the_stub_server() {
    static stub_server s;
    return s;
}

class my_client {
public:
    explicit my_client(std::string url) : url_(std::move(url)) {
        session_ = ++the_stub_server().session;
        ++the_stub_server().initializes;
    }

    std::string call(const std::string& method, const std::string& params) {
        stub_server& s = the_stub_server();
        if (s.forget_on_next_call.exchange(false)) ++s.session;
        if (session_ != s.session.load()) throw my_http_error(404, "Session not found");
        return R"({"method":")" + method + R"(","params":)" + params + "}";
    }

private:
    std::string url_;
    int session_ = 0;
};

/// A new client with a new, initialized session.
inline std::shared_ptr<my_client> connect_and_initialize(const std::string& url) {
    return std::make_shared<my_client>(url);
}

}  // namespace app
