// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_SESSION_CORE_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_SESSION_CORE_HPP

/// `server_core`: the state of a `flaky_server` shared by its I/O thread and its public API
/// (sessions, counters, queued faults, records) and the answers to POST, GET (resumption) and
/// DELETE. The members that reach connections (listening stream, server requests, calls in
/// flight, cancellations) are declared here and defined in `conversation.hpp`, after `connection`.

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/builtin_json.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/json_policy.hpp"
#include "mcp_recovery/beast/json_string.hpp"
#include "mcp_recovery/beast/testing/detail/messages.hpp"
#include "mcp_recovery/beast/testing/detail/protocol.hpp"
#include "mcp_recovery/beast/testing/detail/resumption.hpp"
#include "mcp_recovery/beast/testing/detail/wire.hpp"
#include "mcp_recovery/beast/testing/fault.hpp"
#include "mcp_recovery/beast/testing/flaky_server_options.hpp"
#include "mcp_recovery/beast/testing/records.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace mcp_recovery::beast::testing::detail {

class connection;

/// State shared by the I/O thread and the public API: sessions, faults, counters.
///
/// `mutex` guards the containers and settings; counters are atomics; `connections` is touched by
/// the I/O thread only (and by `stop()` after that thread has been joined).
class server_core {
public:
    explicit server_core(const flaky_server_options& opts)
        : options(opts),
          mode_(opts.mode),
          style_(opts.lost_session),
          resumption_(opts.resumption),
          listening_(opts.listening_stream),
          random_(seed()) {
        close_after_response = opts.close_after_response;
    }

    const flaky_server_options options;

    mutable std::mutex mutex;
    // Written under `mutex` by the I/O thread and by stop(); read by the API waiting for a task.
    std::uint64_t io_tasks_done = 0;
    bool stopped = false;

    std::atomic<std::uint64_t> initializes{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> deletes{0};
    std::atomic<std::uint64_t> lost_session_answers{0};
    std::atomic<std::uint64_t> faults_applied{0};
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::size_t> open_connections{0};
    std::atomic<std::size_t> sessions_alive{0};
    std::atomic<std::uint64_t> next_event_id{1};
    std::atomic<std::uint64_t> resumption_requests{0};
    std::atomic<std::uint64_t> resumptions{0};
    std::atomic<std::uint64_t> outages{0};
    std::atomic<bool> close_after_response{false};
    std::atomic<std::size_t> listening_open{0};  // listening streams open now (kept by `connection`)
    std::atomic<std::uint64_t> listening_opened{0};
    std::atomic<std::uint64_t> listening_resumes{0};
    std::atomic<std::uint64_t> set_level_calls{0};
    std::atomic<std::uint64_t> unexpected_answers{0};
    std::atomic<std::uint64_t> idle_expirations{0};
    std::atomic<std::uint64_t> requests_before_initialized{0};

    std::vector<std::weak_ptr<connection>> connections;  // I/O thread only

    response_mode mode() const {
        std::lock_guard<std::mutex> lock(mutex);
        return mode_;
    }
    void set_mode(response_mode m) {
        std::lock_guard<std::mutex> lock(mutex);
        mode_ = m;
    }
    void set_style(lost_session_style s) {
        std::lock_guard<std::mutex> lock(mutex);
        style_ = s;
    }
    void set_resumption(bool on) {
        std::lock_guard<std::mutex> lock(mutex);
        resumption_ = on;
    }
    void set_listening(bool on) {
        std::lock_guard<std::mutex> lock(mutex);
        listening_ = on;
    }

    bool expire(std::string_view id) {
        std::vector<std::weak_ptr<connection>> doomed;
        {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(id));
            if (it == sessions_.end()) return false;
            collect_streams_locked(it->second, doomed);
            sessions_.erase(it);
            sessions_alive = sessions_.size();
        }
        close_later(doomed);
        return true;
    }
    std::size_t expire_all() {
        std::vector<std::weak_ptr<connection>> doomed;
        std::size_t n = 0;
        {
            std::lock_guard<std::mutex> lock(mutex);
            n = sessions_.size();
            for (auto& s : sessions_) collect_streams_locked(s.second, doomed);
            sessions_.clear();
            sessions_alive = 0;
        }
        close_later(doomed);
        return n;
    }
    std::vector<std::string> session_ids() const {
        std::lock_guard<std::mutex> lock(mutex);
        std::vector<std::string> ids;
        ids.reserve(sessions_.size());
        for (const auto& s : sessions_) ids.push_back(s.first);
        return ids;
    }
    std::uint64_t executions(std::string_view key) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = counters_.find(std::string(key));
        return it == counters_.end() ? 0 : it->second;
    }
    std::uint64_t seen(std::string_view method) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = seen_.find(std::string(method));
        return it == seen_.end() ? 0 : it->second;
    }
    std::uint64_t tool_runs(std::string_view tool) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = tool_runs_.find(std::string(tool));
        return it == tool_runs_.end() ? 0 : it->second;
    }
    /// Counts a received request or notification by method (bounded by `max_counter_keys`).
    void note_seen(const message_info& m) {
        if (!m.is_request && !m.is_notification) return;
        std::lock_guard<std::mutex> lock(mutex);
        bump_locked(seen_, m.method);
    }
    std::vector<std::string> subscriptions() const {
        std::vector<std::string> all;
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (const auto& s : sessions_) all.insert(all.end(), s.second.subscriptions.begin(), s.second.subscriptions.end());
        }
        std::sort(all.begin(), all.end());
        all.erase(std::unique(all.begin(), all.end()), all.end());
        return all;
    }
    std::vector<std::string> subscriptions(std::string_view session_id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return {};
        return it->second.subscriptions;
    }
    std::optional<std::string> log_level(std::string_view session_id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return std::nullopt;
        return it->second.log_level;
    }
    std::vector<client_answer> client_answers() const {
        std::lock_guard<std::mutex> lock(mutex);
        return {answers_.begin(), answers_.end()};
    }
    std::vector<cancellation> cancellations() const {
        std::lock_guard<std::mutex> lock(mutex);
        return {cancellations_.begin(), cancellations_.end()};
    }

    void inject(fault f, fault_match m, std::size_t times) {
        if (times == 0) return;
        std::lock_guard<std::mutex> lock(mutex);
        faults_.push_back(queued_fault{std::move(f), std::move(m), times});
    }
    std::size_t pending_faults() const {
        std::lock_guard<std::mutex> lock(mutex);
        std::size_t n = 0;
        for (const auto& q : faults_) n += q.remaining;
        return n;
    }
    void clear_faults() {
        std::lock_guard<std::mutex> lock(mutex);
        faults_.clear();
    }

    /// Consumes one application of the first queued fault matching `m`, if any.
    std::optional<fault> take_fault(const message_info& m) {
        if (!m.is_request && !m.is_notification) return std::nullopt;
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = faults_.begin(); it != faults_.end(); ++it) {
            if (!it->match.matches(m.method, m.is_request, m.tool)) continue;
            std::optional<fault> f = it->what;
            if (--it->remaining == 0) faults_.erase(it);
            ++faults_applied;
            return f;
        }
        return std::nullopt;
    }

    /// Parses a POST body; on failure returns nullopt and sets `error` to the answer.
    std::optional<message_info> classify(std::string_view body, reply& error) const {
        builtin_json json;
        envelope env;
        std::error_code ec;
        if (!json.parse(body, env, ec)) {
            switch (static_cast<json_error>(ec.value())) {
            case json_error::syntax_error:
            case json_error::unexpected_end:
            case json_error::invalid_number:
            case json_error::invalid_escape:
            case json_error::invalid_utf8:
            case json_error::control_character:
            case json_error::document_too_large: error = transport_error(400, -32700, "Parse error"); break;
            case json_error::batch_not_supported:
                error = transport_error(400, -32600, "Invalid Request: batches are not supported");
                break;
            default: error = transport_error(400, -32600, "Invalid Request"); break;
            }
            return std::nullopt;
        }
        message_info m;
        const bool has_id = env.id_kind != json_id_kind::absent;
        const bool valid_version = env.jsonrpc && *env.jsonrpc == "2.0";
        if (valid_version && env.method && !env.has_result && !env.has_error && env.id_kind != json_id_kind::null) {
            m.method = std::move(*env.method);
            m.is_request = has_id;
            m.is_notification = !has_id;
            m.id_raw = std::move(env.id_raw);
            if (m.is_request && m.method == "tools/call") {
                if (const auto params = find_member(body, "params")) {
                    if (const auto name = find_member(*params, "name")) {
                        if (auto decoded = decode_string(*name)) m.tool = std::move(*decoded);
                    }
                }
            }
            return m;
        }
        if (valid_version && !env.method && (env.has_result || env.has_error) && has_id) {
            m.is_response = true;  // a response to a server request
            m.id_raw = std::move(env.id_raw);
            return m;
        }
        error = transport_error(400, -32600, "Invalid Request");
        return std::nullopt;
    }

    /// The lost-session answer; `id_raw` is the JSON-RPC id of the request it answers (empty for
    /// a notification, a DELETE or a GET).
    reply lost_session(std::string_view id_raw = {}) {
        ++lost_session_answers;
        lost_session_style style;
        {
            std::lock_guard<std::mutex> lock(mutex);
            style = style_;
        }
        if (style == lost_session_style::in_band_200) {
            if (!id_raw.empty()) return rpc_error(id_raw, -32001, "Session not found");
            reply r = rpc_error("null", -32001, "Session not found");
            r.jsonrpc_answer = false;  // no request to answer: plain JSON in every response mode
            return r;
        }
        const http_answer a = lost_session_answer(style);
        reply r;
        r.status = a.status;
        r.content_type = std::string(a.content_type);
        r.body = std::string(a.body);
        return r;
    }

    static reply missing_session_id() {
        return transport_error(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }

    /// Answers a POSTed message; runs the tool when it is a `tools/call`.
    reply handle_post(const message_info& m, std::string_view body, std::optional<std::string_view> session_id,
                      std::optional<std::string_view> protocol_version) {
        if (options.sessionless) {
            if (protocol_version && *protocol_version != "2026-07-28")
                return transport_error(400, -32000,
                                       "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
            if (m.is_request && m.method == "initialize") return rpc_error(m.id_raw, -32601, "Method not found");
        } else {
            if (m.is_request && m.method == "initialize") return initialize(m, body, session_id);
            if (!session_id) return missing_session_id();
            if (!touch(*session_id)) return lost_session(m.is_request ? std::string_view(m.id_raw) : std::string_view{});
            if (m.is_notification && m.method == "notifications/initialized") mark_initialized(*session_id);
            if (options.require_initialized && m.is_request && m.method != "ping" && !initialized(*session_id)) {
                ++requests_before_initialized;
                return rpc_error(m.id_raw, -32602, "Invalid request parameters");
            }
        }
        if (!options.sessionless && protocol_version && !flaky_supports_version(*protocol_version)) {
            return transport_error(400, -32000,
                                   "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
        }
        if (!m.is_request) {
            const std::string session = session_id ? std::string(*session_id) : std::string();
            if (m.is_response) on_client_answer(session, m.id_raw, body);
            if (m.is_notification && m.method == "notifications/cancelled") on_cancelled(session, body);
            reply r;
            r.status = 202;
            return r;
        }
        if (m.method == "ping") return rpc_result(m.id_raw, "{}");
        if (m.method == "tools/list") return rpc_result(m.id_raw, flaky_tools_json);
        if (m.method == "tools/call") return call_tool(m, body);
        if (m.method == "resources/subscribe" || m.method == "resources/unsubscribe") {
            return subscribe(m, body, session_id.value_or(std::string_view{}));
        }
        if (m.method == "logging/setLevel") return set_level(m, body, session_id.value_or(std::string_view{}));
        return rpc_error(m.id_raw, -32601, "Method not found");
    }

    /// `cut_stream_after_priming`: builds the stream answering `r` and returns the SSE text to send
    /// before the cut. The stream is kept for resumption when `r` answers a request of a live
    /// session (otherwise, as for the other faults, the answer is simply lost).
    std::string cut_stream(const fault& f, const reply& r, std::optional<std::string_view> session_id) {
        stored_stream stream;
        stream.retry = f.retry;
        stream.cuts_left = std::min(f.resumed_cuts, fault::max_resumed_cuts);
        const std::size_t before = std::min(f.notifications_before_cut, fault::max_stream_notifications);
        const std::size_t total = before + std::min(f.notifications_after_cut, fault::max_stream_notifications);
        stream.events.reserve(total + 2);
        stream.events.push_back(stored_event{next_event_id++, {}});
        for (std::size_t i = 1; i <= total; ++i) stream.events.push_back(stored_event{next_event_id++, stream_notification(i, total)});
        stream.events.push_back(stored_event{next_event_id++, r.body});
        std::string out;
        for (std::size_t i = 0; i <= before; ++i) append_stored_event(out, stream, stream.events[i]);
        if (r.jsonrpc_answer && session_id && !options.sessionless && options.max_resumable_streams > 0) {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(*session_id));
            if (it != sessions_.end()) {
                auto& streams = it->second.streams;
                while (streams.size() >= options.max_resumable_streams) streams.pop_front();
                streams.push_back(std::move(stream));
            }
        }
        return out;
    }

    /// Answers a GET: a resumption when it carries `Last-Event-ID` and resumption is on, else 405.
    resumption_answer handle_get(std::optional<std::string_view> session_id,
                                 std::optional<std::string_view> protocol_version,
                                 std::optional<std::string_view> last_event_id) {
        resumption_answer a;
        if (!last_event_id) {
            a.refusal = method_not_allowed(false);
            return a;
        }
        a.refusal = check_get(/*listening=*/false, /*resuming=*/true, session_id, protocol_version);
        if (a.refusal) return a;
        if (const auto wanted = parse_event_id(*last_event_id)) {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(*session_id));
            if (it != sessions_.end()) {  // else ended meanwhile: its streams went with it
                for (stored_stream& stream : it->second.streams) {
                    auto& events = stream.events;
                    const auto at = std::find_if(events.begin(), events.end(),
                                                 [&](const stored_event& e) { return e.id == *wanted; });
                    if (at == events.end()) continue;
                    const auto from = static_cast<std::size_t>(at - events.begin()) + 1;
                    std::size_t to = events.size();
                    a.cut = stream.cuts_left > 0 && from < to;
                    if (a.cut) --to;  // the response stays behind
                    for (std::size_t i = from; i < to; ++i) append_stored_event(a.events, stream, events[i]);
                    if (a.cut) {
                        // A fresh priming event just before the response: resuming from it
                        // brings the response.
                        --stream.cuts_left;
                        const stored_event fresh{next_event_id++, {}};
                        append_stored_event(a.events, stream, fresh);
                        events.insert(events.begin() + static_cast<std::ptrdiff_t>(to), fresh);
                    }
                    ++resumptions;
                    return a;
                }
            }
        }
        // Not 404: on the MCP endpoint that means "session not found", and the session is fine.
        a.refusal = transport_error(400, -32000, "Bad Request: Unknown Last-Event-ID");
        return a;
    }

    reply handle_delete(std::optional<std::string_view> session_id) {
        if (!session_id) return missing_session_id();
        if (expire(*session_id)) {
            ++deletes;
            return reply{};
        }
        return lost_session();
    }

    /// What a GET for the listening stream gets: a refusal, or the stream's first events (its
    /// priming event, or the replay after `Last-Event-ID`) and the stream it replaces, if any.
    struct listen_answer {
        std::optional<reply> refusal;
        std::string events;
        std::string session_id;
        std::shared_ptr<connection> replaced;
    };

    // I/O thread. The listening-stream machinery, defined after `connection`.
    listen_answer open_listening(std::optional<std::string_view> session_id,
                                 std::optional<std::string_view> protocol_version,
                                 std::optional<std::string_view> last_event_id,
                                 const std::shared_ptr<connection>& self);
    std::size_t notify(std::string_view only_session, std::string_view method, std::string_view params_json);
    std::size_t resource_updated(std::string_view uri);
    std::size_t log(std::string_view level, std::string_view data);
    std::optional<std::string> request_on_listen(std::string_view only_session, std::string_view method,
                                                 std::string_view params_json);
    std::size_t drop_listening();
    /// `ask`: registers its server request (and the call as in flight); returns the request's
    /// JSON, or nullopt when the session is gone.
    std::optional<std::string> begin_ask(const std::string& session_id, const std::string& call_id, const reply& call,
                                         const std::shared_ptr<connection>& self);
    /// `progress` with a token: registers the call as in flight.
    void begin_call(const std::string& session_id, const std::string& call_id, const std::shared_ptr<connection>& self);
    /// The call `call_id` of the session is no longer in flight.
    void end_call(const std::string& session_id, const std::string& call_id);

private:
    struct pending_server_request {
        std::string id;  // raw JSON
        std::string method;
        std::weak_ptr<connection> waiter;  // the `ask` call waiting for the answer; none for request_on_listen
    };
    struct listen_event {
        std::uint64_t sequence = 0;
        std::string data;  // empty: a priming event
    };
    struct call_in_flight {
        std::string id;  // the tools/call's id, raw
        std::weak_ptr<connection> stream;
    };
    struct session_state {
        std::string protocol_version;
        std::uint64_t number = 0;  // names the listening-stream event ids
        std::deque<stored_stream> streams;  // at most options.max_resumable_streams, oldest first
        std::vector<std::string> subscriptions;  // sorted, unique, at most flaky_max_subscriptions
        std::optional<std::string> log_level;
        std::weak_ptr<connection> listener;  // the listening stream (I/O thread)
        std::deque<listen_event> listen_events;  // at most options.listening_events_kept, oldest first
        std::uint64_t next_listen_sequence = 1;
        std::uint64_t next_request_id = 0;  // server requests: 0, 1, ...
        std::deque<pending_server_request> pending;  // at most flaky_max_pending_server_requests
        std::deque<call_in_flight> in_flight;  // at most flaky_max_calls_in_flight
        std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();
        bool initialized = false;  // `notifications/initialized` arrived
    };

    struct queued_fault {
        fault what;
        fault_match match;
        std::size_t remaining;
    };

    static std::uint64_t seed() {
        std::random_device rd;
        const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ now;
    }

    bool known(std::string_view id) const {
        std::lock_guard<std::mutex> lock(mutex);
        return sessions_.find(std::string(id)) != sessions_.end();
    }

    /// A message for session `id` arrived: whether the session lives. One idle for longer than
    /// `session_idle_timeout` is forgotten now (as `expire`), else its idle time starts again.
    bool touch(std::string_view id) {
        std::vector<std::weak_ptr<connection>> doomed;
        {
            std::lock_guard<std::mutex> lock(mutex);
            const auto it = sessions_.find(std::string(id));
            if (it == sessions_.end()) return false;
            const auto now = std::chrono::steady_clock::now();
            if (!options.session_idle_timeout || now - it->second.last_active <= *options.session_idle_timeout) {
                it->second.last_active = now;
                return true;
            }
            collect_streams_locked(it->second, doomed);
            sessions_.erase(it);
            sessions_alive = sessions_.size();
            ++idle_expirations;
        }
        close_later(doomed);
        return false;
    }

    void mark_initialized(std::string_view id) {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(id));
        if (it != sessions_.end()) it->second.initialized = true;
    }

    bool initialized(std::string_view id) const {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(id));
        return it != sessions_.end() && it->second.initialized;
    }

    // The checks of every GET, in this order: is it served (the listening stream when `listening`,
    // resumption when `resuming`; neither in `sessionless` mode): else 405; a session id: else
    // 400; a live session: else the lost-session answer; a supported `MCP-Protocol-Version`, when
    // sent: else 400. A `resuming` GET counts in `resumption_requests`, whatever the answer.
    // Returns the refusal, if any.
    std::optional<reply> check_get(bool listening, bool resuming, std::optional<std::string_view> session_id,
                                   std::optional<std::string_view> protocol_version) {
        if (resuming) ++resumption_requests;
        {
            std::lock_guard<std::mutex> lock(mutex);
            const bool served = !options.sessionless && (!listening || listening_) && (!resuming || resumption_);
            if (!served) return method_not_allowed(false);
        }
        if (!session_id) return missing_session_id();
        if (!touch(*session_id)) return lost_session();
        if (protocol_version && !flaky_supports_version(*protocol_version)) {
            return transport_error(400, -32000,
                                   "Bad Request: Unsupported protocol version: " + printable_ascii(*protocol_version));
        }
        return std::nullopt;
    }

    reply initialize(const message_info& m, std::string_view body, std::optional<std::string_view> session_id) {
        if (session_id) {
            // As real servers do: a known session cannot initialize twice; an unknown one is lost.
            if (known(*session_id)) return transport_error(400, -32600, "Invalid Request: Server already initialized");
            return lost_session(m.id_raw);
        }
        std::string version(flaky_default_protocol_version);
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "protocolVersion")) {
                if (auto requested = decode_string(*raw); requested && flaky_supports_version(*requested)) {
                    version = std::move(*requested);
                }
            }
        }
        std::string id;
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (sessions_.size() >= options.max_sessions) {
                return transport_error(503, -32000, "Service Unavailable: too many sessions");
            }
            do {
                id = new_session_id();
            } while (sessions_.find(id) != sessions_.end());
            session_state state;
            state.protocol_version = version;
            state.number = ++sessions_numbered_;
            sessions_.emplace(id, std::move(state));
            sessions_alive = sessions_.size();
        }
        ++initializes;
        std::string result = R"({"protocolVersion":)";
        append_json_string(result, version);
        result += options.advertise_subscriptions_and_logging
                      ? R"(,"capabilities":{"tools":{},"resources":{"subscribe":true},"logging":{}})"
                      : R"(,"capabilities":{"tools":{}})";
        result += R"(,"serverInfo":{"name":"flaky_server","version":"1"}})";
        reply r = rpc_result(m.id_raw, result);
        r.session_id = std::move(id);
        return r;
    }

    // Called with `mutex` held.
    std::string new_session_id() {
        static constexpr char hex[] = "0123456789abcdef";
        std::string id(32, '0');
        for (std::size_t half = 0; half < 2; ++half) {
            std::uint64_t bits = random_();
            for (std::size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = hex[bits & 0xF];
        }
        return id;
    }

    static std::optional<std::string> string_argument(std::string_view body, std::string_view name) {
        const auto params = find_member(body, "params");
        if (!params) return std::nullopt;
        const auto arguments = find_member(*params, "arguments");
        if (!arguments) return std::nullopt;
        const auto raw = find_member(*arguments, name);
        if (!raw) return std::nullopt;
        return decode_string(*raw);
    }

    static std::optional<std::string_view> raw_argument(std::string_view body, std::string_view name) {
        const auto params = find_member(body, "params");
        if (!params) return std::nullopt;
        const auto arguments = find_member(*params, "arguments");
        if (!arguments) return std::nullopt;
        return find_member(*arguments, name);
    }

    // With `mutex` held: counts one more `key` in `map`, unless that would make it hold more than
    // `max_counter_keys` keys.
    void bump_locked(std::unordered_map<std::string, std::uint64_t>& map, const std::string& key) {
        auto it = map.find(key);
        if (it == map.end()) {
            if (map.size() >= options.max_counter_keys) return;
            it = map.emplace(key, 0).first;
        }
        ++it->second;
    }

    void count_tool_run(const std::string& tool) {
        std::lock_guard<std::mutex> lock(mutex);
        bump_locked(tool_runs_, tool);
    }

    // With `mutex` held: the connections of the session's streams (listening, `ask`, `progress`),
    // to close when the session ends.
    static void collect_streams_locked(session_state& s, std::vector<std::weak_ptr<connection>>& out) {
        out.push_back(std::move(s.listener));
        for (auto& p : s.pending) out.push_back(std::move(p.waiter));
        for (auto& c : s.in_flight) out.push_back(std::move(c.stream));
    }

    // Closes those connections on the I/O thread (posted: callable from any thread).
    static void close_later(std::vector<std::weak_ptr<connection>>& doomed);

    // With `mutex` held: stores a listening-stream event (`json`, or a priming event when empty)
    // of the session and returns it as SSE text.
    std::string store_listen_event_locked(session_state& s, std::string_view json) {
        const std::uint64_t sequence = s.next_listen_sequence++;
        if (options.listening_events_kept > 0) {
            while (s.listen_events.size() >= options.listening_events_kept) s.listen_events.pop_front();
            s.listen_events.push_back(listen_event{sequence, std::string(json)});
        }
        std::string text;
        const std::string name = listen_event_name(s.number, sequence);
        if (json.empty()) append_priming_event(text, name, options.listening_retry);
        else append_sse_event(text, name, json);
        return text;
    }

    // With `mutex` held: a new server request of the session, registered as pending.
    std::string new_server_request_locked(session_state& s, std::string_view method, std::string_view params_json,
                                          std::weak_ptr<connection> waiter) {
        std::string id = std::to_string(s.next_request_id++);
        while (s.pending.size() >= flaky_max_pending_server_requests) s.pending.pop_front();
        s.pending.push_back(pending_server_request{id, std::string(method), std::move(waiter)});
        return jsonrpc_request(id, method, params_json);
    }

    // Sends `make(session)` (when not empty) to the listening stream of every session (or of
    // `only_session` when not empty), storing it for replay; returns how many open streams got it.
    std::size_t deliver(std::string_view only_session, const std::function<std::string(const session_state&)>& make);

    // Records a response POSTed by the client and hands it to the `ask` call waiting for it.
    void on_client_answer(const std::string& session_id, const std::string& id_raw, std::string_view body);
    // Records a `notifications/cancelled` and stops the call it names, if in flight.
    void on_cancelled(const std::string& session_id, std::string_view body);

    template <class Record>
    static void record_locked(std::deque<Record>& records, Record r) {
        while (records.size() >= flaky_max_records) records.pop_front();
        records.push_back(std::move(r));
    }

    reply subscribe(const message_info& m, std::string_view body, std::string_view session_id) {
        const bool on = m.method == "resources/subscribe";
        std::optional<std::string> uri;
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "uri")) uri = decode_string(*raw);
        }
        if (!uri) return rpc_error(m.id_raw, -32602, "Invalid params: " + m.method + " needs a string \"uri\"");
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it == sessions_.end()) return rpc_result(m.id_raw, "{}");  // sessionless: nothing to keep
        auto& list = it->second.subscriptions;
        const auto at = std::lower_bound(list.begin(), list.end(), *uri);
        const bool present = at != list.end() && *at == *uri;
        if (on && !present) {
            if (list.size() >= flaky_max_subscriptions) {
                return rpc_error(m.id_raw, -32602, "Invalid params: too many subscriptions");
            }
            list.insert(at, std::move(*uri));
        } else if (!on && present) {
            list.erase(at);
        }
        return rpc_result(m.id_raw, "{}");
    }

    reply set_level(const message_info& m, std::string_view body, std::string_view session_id) {
        std::optional<std::string> level;
        if (const auto params = find_member(body, "params")) {
            if (const auto raw = find_member(*params, "level")) level = decode_string(*raw);
        }
        if (!level || !log_level_rank(*level)) {
            return rpc_error(m.id_raw, -32602, "Invalid params: logging/setLevel needs a \"level\" of RFC 5424");
        }
        ++set_level_calls;
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = sessions_.find(std::string(session_id));
        if (it != sessions_.end()) it->second.log_level = std::move(level);
        return rpc_result(m.id_raw, "{}");
    }

    reply call_tool(const message_info& m, std::string_view body) {
        if (m.tool == "echo") {
            const auto text = string_argument(body, "text");
            if (!text) return rpc_error(m.id_raw, -32602, "Invalid params: echo needs a string argument \"text\"");
            count_tool_run(m.tool);
            return text_result(m.id_raw, *text);
        }
        if (m.tool == "ask") {
            if (options.sessionless) return rpc_error(m.id_raw, -32602, "Invalid params: ask needs a session");
            reply r;
            r.call = reply::call_kind::ask;
            r.call_id = m.id_raw;
            r.ask_method = std::string(flaky_default_ask_method);
            r.ask_params = std::string(flaky_default_ask_params);
            if (const auto method = raw_argument(body, "method")) {
                auto decoded = decode_string(*method);
                if (!decoded || decoded->empty()) {
                    return rpc_error(m.id_raw, -32602, "Invalid params: ask's \"method\" must be a non-empty string");
                }
                if (*decoded != r.ask_method) r.ask_params.clear();
                r.ask_method = std::move(*decoded);
            }
            if (const auto params = raw_argument(body, "params")) r.ask_params = std::string(*params);
            count_tool_run(m.tool);
            return r;
        }
        if (m.tool == "progress") {
            std::int64_t steps = 3;
            std::int64_t interval = 20;
            if (const auto raw = raw_argument(body, "steps")) {
                const auto v = decode_integer(*raw);
                if (!v || *v < 0) return rpc_error(m.id_raw, -32602, "Invalid params: \"steps\" must be an integer >= 0");
                steps = std::min<std::int64_t>(*v, static_cast<std::int64_t>(flaky_max_progress_steps));
            }
            if (const auto raw = raw_argument(body, "interval_ms")) {
                const auto v = decode_integer(*raw);
                if (!v || *v < 0) {
                    return rpc_error(m.id_raw, -32602, "Invalid params: \"interval_ms\" must be an integer >= 0");
                }
                interval = std::min(*v, flaky_max_progress_interval_ms);
            }
            reply r;
            r.call = reply::call_kind::progress;
            r.call_id = m.id_raw;
            r.progress_steps = static_cast<std::size_t>(steps);
            r.progress_interval = std::chrono::milliseconds(interval);
            if (const auto params = find_member(body, "params")) {
                if (const auto meta = find_member(*params, "_meta")) {
                    if (const auto token = find_member(*meta, "progressToken")) {
                        if (token->front() == '"' || decode_integer(*token)) r.progress_token = std::string(*token);
                    }
                }
            }
            count_tool_run(m.tool);
            return r;
        }
        if (m.tool == "count" || m.tool == "executions") {
            auto key = string_argument(body, "key");
            if (!key) return rpc_error(m.id_raw, -32602, "Invalid params: " + m.tool + " needs a string argument \"key\"");
            std::uint64_t value = 0;
            {
                std::lock_guard<std::mutex> lock(mutex);
                auto it = counters_.find(*key);
                if (m.tool == "count") {
                    if (it == counters_.end()) {
                        if (counters_.size() >= options.max_counter_keys) {
                            return rpc_error(m.id_raw, -32602, "Invalid params: too many distinct keys");
                        }
                        it = counters_.emplace(std::move(*key), 0).first;
                    }
                    value = ++it->second;
                } else if (it != counters_.end()) {
                    value = it->second;
                }
                bump_locked(tool_runs_, m.tool);
            }
            return text_result(m.id_raw, std::to_string(value));
        }
        if (m.tool.empty()) return rpc_error(m.id_raw, -32602, "Invalid params: tools/call needs a string \"name\"");
        return rpc_error(m.id_raw, -32602, "Unknown tool: " + m.tool);
    }

    response_mode mode_;
    lost_session_style style_;
    bool resumption_;
    bool listening_;
    std::mt19937_64 random_;
    std::uint64_t sessions_numbered_ = 0;
    std::unordered_map<std::string, session_state> sessions_;
    std::unordered_map<std::string, std::uint64_t> counters_;
    std::unordered_map<std::string, std::uint64_t> seen_;       // at most options.max_counter_keys
    std::unordered_map<std::string, std::uint64_t> tool_runs_;  // at most options.max_counter_keys
    std::deque<client_answer> answers_;                         // at most flaky_max_records
    std::deque<cancellation> cancellations_;                    // at most flaky_max_records
    std::deque<queued_fault> faults_;
};

}  // namespace mcp_recovery::beast::testing::detail

#endif
