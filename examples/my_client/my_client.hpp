#pragma once
// "The client you already have", as docs/getting-started.md's callable example uses it: an MCP
// client with one session per object. Yours will differ; the adapter needs only a way to send one
// request, a way to get a client with a new session, and to know what your client throws.
#include <memory>
#include <stdexcept>
#include <string>

namespace app {

/// Thrown by `my_client::call` when the server answers with an HTTP error status (a lost session
/// is 404 or 400): the server refused the request, it did not run it.
struct my_http_error : std::runtime_error {
    my_http_error(int http_status, const std::string& what) : std::runtime_error(what), status(http_status) {}
    int status;
};

class my_client {
public:
    /// Opens a session: `initialize`, then `notifications/initialized`. Throws if it cannot.
    explicit my_client(std::string url);

    /// One JSON-RPC request on this client's session; returns the result's JSON text. Throws
    /// `my_http_error` for an HTTP error status, `std::system_error` when the connection fails.
    std::string call(const std::string& method, const std::string& params);

private:
    std::string url_;
    std::string session_id_;
};

/// A new client with a new, initialized session.
inline std::shared_ptr<my_client> connect_and_initialize(const std::string& url) {
    return std::make_shared<my_client>(url);
}

}  // namespace app
