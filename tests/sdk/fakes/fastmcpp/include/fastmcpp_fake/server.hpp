// OUR FAKE (not SDK code): an in-process, scripted stand-in for a Streamable HTTP MCP server, which
// the fake `fastmcpp::client::StreamableHttpTransport` (fastmcpp/client/transports.hpp) talks to
// instead of HTTP. It answers the way the real servers answered fastmcpp 1cd32e0, and fails with
// exactly the SDK's messages:
//
// | situation                                              | the SDK throws (fastmcpp::TransportError)        |
// |--------------------------------------------------------|--------------------------------------------------|
// | server down (crashed, not yet restarted), nothing there | `StreamableHttp request failed: no response`     |
// | the reply is lost after the request ran (`drop_next_reply`) | `StreamableHttp request failed: no response` |
// | unknown session id, dialect `not_found_404` (TypeScript SDK servers) | `StreamableHttp error: 404`       |
// | unknown session id, dialect `bad_request_400` (server-everything)    | `StreamableHttp error: 400`       |
// | a request other than initialize without a session id   | `StreamableHttp error: 400`                      |
// | `reject_initialize(status)`                            | `StreamableHttp error: <status>` for initialize  |
// | `unsupported_media_type(true)` (fastmcpp's duplicate Content-Type against TS SDK 1.32.2) | `StreamableHttp error: 415` |
// | an unknown method or tool                              | `JSON-RPC error: Method not found`               |
//
// Tools: `count {key}` (not idempotent: counts its executions per key; the counters survive a
// restart, like the real test server's --executions-file). Thread-safe.
#ifndef MCP_RECOVERY_TESTS_FAKE_FASTMCPP_SERVER_HPP
#define MCP_RECOVERY_TESTS_FAKE_FASTMCPP_SERVER_HPP

#include "fastmcpp/exceptions.hpp"
#include "fastmcpp/types.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace fastmcpp_fake {

/// How the server answers a request whose session id it does not know.
enum class dialect { not_found_404, bad_request_400 };

class server {
public:
    explicit server(dialect d = dialect::not_found_404) : dialect_(d) {}

    // --- scripting -------------------------------------------------------------------------

    /// The process dies: nothing answers, every session is forgotten.
    void crash() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = false;
        sessions_.clear();
    }
    /// The process runs again (same address), knowing no session.
    void start() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = true;
        sessions_.clear();
    }
    void restart() {
        crash();
        start();
    }
    void set_dialect(dialect d) {
        std::lock_guard<std::mutex> lock(mutex_);
        dialect_ = d;
    }
    /// Every request gets 415 (as TypeScript SDK 1.32.2 servers answer fastmcpp 1cd32e0).
    void unsupported_media_type(bool on) {
        std::lock_guard<std::mutex> lock(mutex_);
        unsupported_media_type_ = on;
    }
    /// `initialize` gets this HTTP status (0: answered normally).
    void reject_initialize(int status) {
        std::lock_guard<std::mutex> lock(mutex_);
        reject_initialize_ = status;
    }
    /// `initialize` opens no session (a stateless server): no session id in the answer.
    void issue_session_ids(bool on) {
        std::lock_guard<std::mutex> lock(mutex_);
        issue_session_ids_ = on;
    }
    /// The next request runs, then its reply is lost (the connection breaks).
    void drop_next_reply() {
        std::lock_guard<std::mutex> lock(mutex_);
        drop_next_reply_ = true;
    }

    // --- what happened ---------------------------------------------------------------------

    /// Executions of `count {key}` (kept across restarts).
    int executions(const std::string& key) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = executions_.find(key);
        return it == executions_.end() ? 0 : it->second;
    }
    /// Requests of `method` that a client tried to send, counted even while the server is down.
    int attempts(const std::string& method) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = attempts_.find(method);
        return it == attempts_.end() ? 0 : it->second;
    }
    /// Sessions opened by initialize, over the server's whole life.
    int sessions_opened() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return issued_;
    }

    // --- the fake transport's side ---------------------------------------------------------

    /// One POST of `method` with `session` ("" for none); `issued` receives a new session id.
    fastmcpp::Json handle(const std::string& /*path*/, const std::string& session, const std::string& method,
                          const fastmcpp::Json& params, std::string& issued) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++attempts_[method];
        if (!up_) throw fastmcpp::TransportError("StreamableHttp request failed: no response");
        if (unsupported_media_type_) throw status(415);
        fastmcpp::Json result = fastmcpp::Json::object();
        if (method == "initialize") {
            if (!session.empty()) throw status(sessions_.count(session) ? 400 : stale_status());
            if (reject_initialize_ != 0) throw status(reject_initialize_);
            result["protocolVersion"] = "2024-11-05";
            if (issue_session_ids_) {
                issued = "session-" + std::to_string(++issued_);
                sessions_.insert(issued);
            }
        } else {
            if (session.empty()) throw status(400);  // "Bad Request: Mcp-Session-Id header is required"
            if (!sessions_.count(session)) throw status(stale_status());
            result["session"] = session;
            if (method == "tools/list") {
                result["tools"]["count"] = "not idempotent";
            } else if (method == "tools/call" && params.at("name").get<std::string>() == "count") {
                const std::string key = params.at("arguments").at("key").get<std::string>();
                result["count"] = std::to_string(++executions_[key]);
            } else {
                throw fastmcpp::TransportError("JSON-RPC error: Method not found");
            }
        }
        if (drop_next_reply_) {
            drop_next_reply_ = false;
            issued.clear();
            throw fastmcpp::TransportError("StreamableHttp request failed: no response");
        }
        return result;
    }

private:
    static fastmcpp::TransportError status(int code) {
        return fastmcpp::TransportError("StreamableHttp error: " + std::to_string(code));
    }
    int stale_status() const { return dialect_ == dialect::not_found_404 ? 404 : 400; }

    mutable std::mutex mutex_;
    dialect dialect_;
    bool up_ = true;
    bool unsupported_media_type_ = false;
    bool issue_session_ids_ = true;
    bool drop_next_reply_ = false;
    int reject_initialize_ = 0;
    int issued_ = 0;
    std::set<std::string> sessions_;
    std::map<std::string, int> executions_;
    std::map<std::string, int> attempts_;
};

namespace detail {
struct registry {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<server>> by_url;
};
inline registry& the_registry() {
    static registry r;
    return r;
}
}  // namespace detail

/// A server reachable at `base_url` ("http://fake-1") until `unlisten`.
inline std::shared_ptr<server> listen(const std::string& base_url, dialect d = dialect::not_found_404) {
    auto s = std::make_shared<server>(d);
    detail::registry& r = detail::the_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.by_url[base_url] = s;
    return s;
}

inline void unlisten(const std::string& base_url) {
    detail::registry& r = detail::the_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.by_url.erase(base_url);
}

/// The server at `base_url`, or null (nothing listens there).
inline std::shared_ptr<server> find(const std::string& base_url) {
    detail::registry& r = detail::the_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.by_url.find(base_url);
    return it == r.by_url.end() ? nullptr : it->second;
}

}  // namespace fastmcpp_fake

#endif
