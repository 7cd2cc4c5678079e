// OUR FAKE (mcp-recovery tests; not SDK code): an in-process scripted MCP server for the fake of
// caomengxuan666/cxxmcp's client (tests/sdk/fakes/cxxmcp/include/cxxmcp). It answers the way the
// real servers of tests/sdk/cxxmcp_sdk_test.cpp do, so that the fake client can return what the
// real cxxmcp client returns there:
//   - a stale session id: 404 (TypeScript SDK server: {"code":-32001,"message":"Session not found"})
//     or 400 (server-everything: {"code":-32000,"message":"Bad Request: No valid session ID provided"},
//     a body without "id", which cxxmcp cannot read);
//   - no session id on a request other than initialize: 400 "Bad Request: Mcp-Session-Id header is
//     required" (TypeScript SDK server; a body with "id": null, which cxxmcp reads);
//   - crashed: unreachable (connection refused), every session lost.
// tools/list answers; tools/call "count" with "key" counts its executions per key.
#ifndef MCPR_FAKE_CXXMCP_SERVER_HPP
#define MCPR_FAKE_CXXMCP_SERVER_HPP

#include "cxxmcp/protocol/types.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace cxxmcp_fake {

/// How the server answers a request whose session id it does not know.
enum class dialect { not_found_404, bad_request_400 };

/// One HTTP exchange, as the fake transport sees it.
struct answer {
    enum class status { ok, unreachable, http_404, http_400 } what = status::ok;
    int jsonrpc_code = 0;        // the JSON-RPC error in a 400 body
    std::string error_message;   // its message
    bool body_has_id = false;    // whether that body has an "id" (cxxmcp reads it only then)
    mcp::protocol::Json result;  // the result of an ok answer
    std::string session;         // Mcp-Session-Id of an initialize answer
};

class server {
public:
    explicit server(dialect d) : dialect_(d) {}

    /// SIGKILL: unreachable until start(), every session forgotten.
    void crash() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = false;
        sessions_.clear();
    }
    void start() {
        std::lock_guard<std::mutex> lock(mutex_);
        up_ = true;
    }

    answer post(const std::string& session, const mcp::protocol::JsonRpcRequest& request) {
        std::lock_guard<std::mutex> lock(mutex_);
        answer a;
        if (!up_) {
            a.what = answer::status::unreachable;
            return a;
        }
        if (request.method == "initialize" && session.empty()) {
            a.session = "session-" + std::to_string(++sessions_opened_);
            sessions_.insert(a.session);
            return a;
        }
        if (session.empty()) {
            a.what = answer::status::http_400;
            a.jsonrpc_code = -32000;
            a.error_message = "Bad Request: Mcp-Session-Id header is required";
            a.body_has_id = true;
            return a;
        }
        if (sessions_.count(session) == 0) {
            if (dialect_ == dialect::not_found_404) {
                a.what = answer::status::http_404;  // body {"code":-32001,"message":"Session not found"}: cxxmcp ignores it
            } else {
                a.what = answer::status::http_400;
                a.jsonrpc_code = -32000;
                a.error_message = "Bad Request: No valid session ID provided";
            }
            return a;
        }
        if (request.method == "tools/call") {
            const std::string key = request.params.get("key");
            a.result["count"] = std::to_string(++executions_[key]);
        } else {
            a.result["tools"] = "count,executions";
        }
        return a;
    }

    int executions(const std::string& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        return executions_[key];
    }
    int sessions_opened() {
        std::lock_guard<std::mutex> lock(mutex_);
        return sessions_opened_;
    }

private:
    std::mutex mutex_;
    dialect dialect_;
    bool up_ = true;
    int sessions_opened_ = 0;
    std::set<std::string> sessions_;
    std::map<std::string, int> executions_;
};

/// The fake network: which fake server answers at a URI (register before connecting).
class network {
public:
    static void listen(const std::string& uri, std::shared_ptr<server> s) {
        std::lock_guard<std::mutex> lock(mutex());
        servers()[uri] = std::move(s);
    }
    static std::shared_ptr<server> at(const std::string& uri) {
        std::lock_guard<std::mutex> lock(mutex());
        auto it = servers().find(uri);
        return it == servers().end() ? nullptr : it->second;
    }

private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static std::map<std::string, std::shared_ptr<server>>& servers() {
        static std::map<std::string, std::shared_ptr<server>> s;
        return s;
    }
};

}  // namespace cxxmcp_fake

#endif
