// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_CONVERSATION_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_CONVERSATION_HPP

/// The members of `server_core` that reach connections, defined once `connection` is complete:
/// the listening stream (opening, replay, notifications, server requests on it), `ask` and
/// `progress` calls in flight, the clients' answers and cancellations, closing a session's streams.

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/json_string.hpp"
#include "mcp_recovery/beast/testing/detail/connection.hpp"
#include "mcp_recovery/beast/testing/detail/messages.hpp"
#include "mcp_recovery/beast/testing/detail/protocol.hpp"
#include "mcp_recovery/beast/testing/detail/resumption.hpp"
#include "mcp_recovery/beast/testing/detail/session_core.hpp"
#include "mcp_recovery/beast/testing/detail/wire.hpp"
#include "mcp_recovery/beast/testing/records.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_recovery::beast::testing::detail {

inline void server_core::close_later(std::vector<std::weak_ptr<connection>>& doomed) {
    for (const auto& w : doomed) {
        if (const auto c = w.lock()) c->close_later();
    }
}

inline server_core::listen_answer server_core::open_listening(std::optional<std::string_view> session_id,
                                                              std::optional<std::string_view> protocol_version,
                                                              std::optional<std::string_view> last_event_id,
                                                              const std::shared_ptr<connection>& self) {
    listen_answer a;
    a.refusal = check_get(/*listening=*/true, /*resuming=*/last_event_id.has_value(), session_id, protocol_version);
    if (a.refusal) return a;
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(std::string(*session_id));
    if (it == sessions_.end()) {  // cannot happen on the I/O thread, but cheap to check
        a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
        return a;
    }
    session_state& s = it->second;
    if (last_event_id) {
        const auto wanted = parse_listen_event_id(*last_event_id);
        const auto at = std::find_if(s.listen_events.begin(), s.listen_events.end(),
                                     [&](const listen_event& e) { return e.sequence == wanted->sequence; });
        if (wanted->session_number != s.number || at == s.listen_events.end()) {
            a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
            return a;
        }
        for (auto e = std::next(at); e != s.listen_events.end(); ++e) {
            if (!e->data.empty()) append_sse_event(a.events, listen_event_name(s.number, e->sequence), e->data);
        }
        ++listening_resumes;
    } else {
        a.events = store_listen_event_locked(s, {});  // the priming event
    }
    a.replaced = s.listener.lock();
    s.listener = self;
    a.session_id = std::string(*session_id);
    ++listening_opened;
    return a;
}

inline std::size_t server_core::deliver(std::string_view only_session,
                                        const std::function<std::string(const session_state&)>& make) {
    std::vector<std::pair<std::shared_ptr<connection>, std::string>> sends;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (!only_session.empty() && entry.first != only_session) continue;
            const std::string json = make(entry.second);
            if (json.empty()) continue;
            std::string text = store_listen_event_locked(entry.second, json);
            if (auto c = entry.second.listener.lock()) sends.emplace_back(std::move(c), std::move(text));
        }
    }
    std::size_t delivered = 0;
    for (const auto& send : sends) {
        if (send.first->push_event(send.second)) ++delivered;
    }
    return delivered;
}

inline std::size_t server_core::notify(std::string_view only_session, std::string_view method,
                                       std::string_view params_json) {
    if (!only_session.empty() && !known(only_session)) return 0;
    const std::string json = jsonrpc_notification(method, params_json);
    return deliver(only_session, [&](const session_state&) { return json; });
}

inline std::size_t server_core::resource_updated(std::string_view uri) {
    std::string params = R"({"uri":)";
    append_json_string(params, uri);
    params += '}';
    const std::string json = jsonrpc_notification("notifications/resources/updated", params);
    return deliver({}, [&](const session_state& s) {
        return std::binary_search(s.subscriptions.begin(), s.subscriptions.end(), uri) ? json : std::string();
    });
}

inline std::size_t server_core::log(std::string_view level, std::string_view data) {
    const auto rank = log_level_rank(level);
    if (!rank) return 0;
    std::string params = R"({"level":)";
    append_json_string(params, level);
    params += R"(,"data":)";
    append_json_string(params, data);
    params += '}';
    const std::string json = jsonrpc_notification("notifications/message", params);
    return deliver({}, [&](const session_state& s) {
        if (!s.log_level) return std::string();
        const auto wanted = log_level_rank(*s.log_level);
        return wanted && *rank >= *wanted ? json : std::string();
    });
}

inline std::optional<std::string> server_core::request_on_listen(std::string_view only_session,
                                                                 std::string_view method,
                                                                 std::string_view params_json) {
    std::shared_ptr<connection> stream;
    std::string id;
    std::string text;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (!only_session.empty() && entry.first != only_session) continue;
            auto c = entry.second.listener.lock();
            if (!c || !c->listening_open()) continue;
            session_state& s = entry.second;
            id = std::to_string(s.next_request_id);
            text = store_listen_event_locked(s, new_server_request_locked(s, method, params_json, {}));
            stream = std::move(c);
            break;
        }
    }
    if (!stream) return std::nullopt;
    stream->push_event(text);
    return id;
}

inline std::size_t server_core::drop_listening() {
    std::vector<std::shared_ptr<connection>> streams;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& entry : sessions_) {
            if (auto c = entry.second.listener.lock()) streams.push_back(std::move(c));
            entry.second.listener.reset();
        }
    }
    std::size_t dropped = 0;
    for (const auto& c : streams) {
        if (!c->listening_open()) continue;
        ++dropped;
        c->abort();
    }
    return dropped;
}

inline std::optional<std::string> server_core::begin_ask(const std::string& session_id, const std::string& call_id,
                                                         const reply& call, const std::shared_ptr<connection>& self) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return std::nullopt;
    session_state& s = it->second;
    while (s.in_flight.size() >= flaky_max_calls_in_flight) s.in_flight.pop_front();
    s.in_flight.push_back(call_in_flight{call_id, self});
    return new_server_request_locked(s, call.ask_method, call.ask_params, self);
}

inline void server_core::begin_call(const std::string& session_id, const std::string& call_id,
                                    const std::shared_ptr<connection>& self) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    auto& calls = it->second.in_flight;
    while (calls.size() >= flaky_max_calls_in_flight) calls.pop_front();
    calls.push_back(call_in_flight{call_id, self});
}

inline void server_core::end_call(const std::string& session_id, const std::string& call_id) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    auto& calls = it->second.in_flight;
    calls.erase(std::remove_if(calls.begin(), calls.end(), [&](const call_in_flight& c) { return c.id == call_id; }),
                calls.end());
}

inline void server_core::on_client_answer(const std::string& session_id, const std::string& id_raw,
                                          std::string_view body) {
    std::shared_ptr<connection> waiter;
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(session_id);
        if (it == sessions_.end()) {
            ++unexpected_answers;
            return;
        }
        auto& pending = it->second.pending;
        const auto p = std::find_if(pending.begin(), pending.end(),
                                    [&](const pending_server_request& r) { return r.id == id_raw; });
        if (p == pending.end()) {
            ++unexpected_answers;
            return;
        }
        record_locked(answers_, client_answer{session_id, p->id, p->method,
                                              std::string(body.substr(0, flaky_max_recorded_message))});
        waiter = p->waiter.lock();
        pending.erase(p);
    }
    if (waiter) waiter->ask_answered(body);
}

inline void server_core::on_cancelled(const std::string& session_id, std::string_view body) {
    cancellation c;
    c.session_id = session_id;
    if (const auto params = find_member(body, "params")) {
        if (const auto id = find_member(*params, "requestId")) c.request_id = std::string(*id);
        if (const auto reason = find_member(*params, "reason")) c.reason = decode_string(*reason).value_or("");
    }
    std::shared_ptr<connection> call;
    if (!c.request_id.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(session_id);
        if (it != sessions_.end()) {
            auto& calls = it->second.in_flight;
            const auto at = std::find_if(calls.begin(), calls.end(),
                                         [&](const call_in_flight& f) { return f.id == c.request_id; });
            if (at != calls.end()) {
                call = at->stream.lock();
                calls.erase(at);
            }
        }
    }
    c.in_flight = call && call->cancel_call();
    std::lock_guard<std::mutex> lock(mutex);
    record_locked(cancellations_, std::move(c));
}

}  // namespace mcp_recovery::beast::testing::detail

#endif
