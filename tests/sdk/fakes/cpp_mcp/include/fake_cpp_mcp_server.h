// OUR scripted, in-process stand-in for a legacy HTTP+SSE MCP server, for the fake
// mcp::sse_client (mcp_sse_client.h in this directory). NOT SDK code; not part of hkr04/cpp-mcp.
//
// A test creates a `cpp_mcp_fake::server` for a base URL; fake clients built with that URL reach
// it. The test scripts it: stop()/start() (down/up), restart() (forgets every session, as a
// process restart does; how the forgotten session is reported is the `stale` dialect),
// break_after_next_call() (the next request runs, then its connection breaks). It counts
// initializes and the executions of its non-idempotent tool `count {key}`.
// Thread-safe.
#ifndef MCP_RECOVERY_FAKE_CPP_MCP_SERVER_H
#define MCP_RECOVERY_FAKE_CPP_MCP_SERVER_H

#include "mcp_message.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace cpp_mcp_fake {

/// How the real client reports a request on a session the server no longer knows.
enum class stale {
    /// hkr04's server answers 404 {"error":"Session not found"}; the SDK chokes on the string `error`.
    parse_error,
    /// The TypeScript SDK's SSE servers answer 404 text/plain "Session not found": not JSON at all.
    text_body,
    /// The SDK's SSE thread has re-attached to a new session that nobody initialized.
    not_initialized,
};

class server {
public:
    /// A server reachable at `base_url` while the returned pointer (or a copy) lives.
    static std::shared_ptr<server> create(const std::string& base_url) {
        std::shared_ptr<server> s(new server(base_url));
        std::lock_guard<std::mutex> lock(registry_mutex());
        registry()[base_url] = s;
        return s;
    }
    ~server() {
        std::lock_guard<std::mutex> lock(registry_mutex());
        auto it = registry().find(base_url_);
        if (it != registry().end() && it->second.expired()) registry().erase(it);
    }
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// The server listening at `base_url`: null when none is, or it is down.
    static std::shared_ptr<server> find(const std::string& base_url) {
        std::shared_ptr<server> s;
        {
            std::lock_guard<std::mutex> lock(registry_mutex());
            auto it = registry().find(base_url);
            if (it != registry().end()) s = it->second.lock();
        }
        if (s && !s->up()) s.reset();
        return s;
    }

    // --- the script -------------------------------------------------------------------------
    void stop() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = false;
        sessions_.clear();
        initialized_.clear();
    }
    void start() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = true;
    }
    /// A crash and a start: every session is forgotten, the counters of `count` survive (they
    /// stand for the side effects). `how` is how a forgotten session is reported from now on.
    void restart(stale how = stale::parse_error) {
        stop();
        std::lock_guard<std::mutex> lock(mutex_);
        stale_ = how;
        up_ = true;
    }
    /// The next request runs, then its connection breaks before the answer is read.
    void break_after_next_call() {
        std::lock_guard<std::mutex> lock(mutex_);
        break_next_ = true;
    }

    int executions(const std::string& key) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = executions_.find(key);
        return it == executions_.end() ? 0 : it->second;
    }
    int initializes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return initializes_;
    }

    // --- what the fake client calls ---------------------------------------------------------
    bool up() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return up_;
    }
    /// GET /sse: a new session (its endpoint), or none when down.
    std::optional<int> open_stream() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!up_) return std::nullopt;
        sessions_.insert(++last_session_);
        return last_session_;
    }
    /// initialize + notifications/initialized on `session`.
    bool initialize(int session) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!up_ || sessions_.count(session) == 0) return false;
        initialized_.insert(session);
        ++initializes_;
        return true;
    }
    /// One request on `session`: its result, or the SDK's exception for what went wrong.
    mcp::json handle(int session, const std::string& method, const mcp::json& params) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!up_) throw mcp::mcp_exception(mcp::error_code::internal_error, "Could not establish connection");
        if (sessions_.count(session) == 0) {
            if (stale_ == stale::parse_error)
                throw mcp::mcp_exception(mcp::error_code::parse_error,
                                         "Failed to parse JSON-RPC response: [json.exception.type_error.305] cannot "
                                         "use operator[] with a string argument with string");
            if (stale_ == stale::text_body)
                throw mcp::mcp_exception(mcp::error_code::parse_error,
                                         "Failed to parse JSON-RPC response: [json.exception.parse_error.101] parse "
                                         "error at line 1, column 1: syntax error while parsing value - invalid "
                                         "literal; last read: 'S'");
            throw mcp::mcp_exception(mcp::error_code::invalid_request, "Session not initialized");
        }
        if (initialized_.count(session) == 0)
            throw mcp::mcp_exception(mcp::error_code::invalid_request, "Session not initialized");
        mcp::json result;
        if (method == "tools/list") {
            result = mcp::json{{"tools", mcp::json{mcp::json{{"name", "count"}}}}};
        } else if (method == "tools/call" && params["name"].is_string() && params["name"].str() == "count") {
            const std::string key = params["arguments"]["key"].is_string() ? params["arguments"]["key"].str() : "";
            const int n = ++executions_[key];
            result = mcp::json{{"content", mcp::json{mcp::json{{"type", "text"}, {"text", std::to_string(n)}}}}};
        } else {
            throw mcp::mcp_exception(mcp::error_code::method_not_found, "Method not found: " + method);
        }
        if (break_next_) {  // it ran; the answer is lost
            break_next_ = false;
            throw mcp::mcp_exception(mcp::error_code::internal_error, "Failed to read connection");
        }
        return result;
    }

private:
    explicit server(std::string base_url) : base_url_(std::move(base_url)) {}

    static std::mutex& registry_mutex() {
        static std::mutex m;
        return m;
    }
    static std::map<std::string, std::weak_ptr<server>>& registry() {
        static std::map<std::string, std::weak_ptr<server>> r;
        return r;
    }

    const std::string base_url_;
    mutable std::mutex mutex_;
    bool up_ = true;
    stale stale_ = stale::parse_error;
    bool break_next_ = false;
    int last_session_ = 0;
    int initializes_ = 0;
    std::set<int> sessions_;
    std::set<int> initialized_;
    std::map<std::string, int> executions_;
};

}  // namespace cpp_mcp_fake

#endif
