// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_DETAIL_TRANSPORT_BASE_HPP
#define MCP_RECOVERY_BEAST_DETAIL_TRANSPORT_BASE_HPP

/// What the synchronous and the asynchronous Streamable-HTTP transports share: the options, the
/// request and response types, the session state, the HTTP messages they build, and every
/// decision about what an answer means (`failure`, delivery, resumption, initialize results).
/// The two transports only differ in how they wait for I/O.

// <utility> first: Boost 1.74's Asio needs it with g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/conversation.hpp"
#include "mcp_recovery/beast/detail/connection.hpp"
#include "mcp_recovery/beast/header_rules.hpp"
#include "mcp_recovery/beast/messages.hpp"
#include "mcp_recovery/beast/protocol.hpp"
#include "mcp_recovery/beast/transport_options.hpp"
#include "mcp_recovery/beast/transport_stats.hpp"
#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/sse.hpp"
#include "mcp_recovery/beast/url.hpp"
#include "mcp_recovery/classifier.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"

// The parts of Beast's HTTP we use, not the <boost/beast/http.hpp> umbrella (which adds file_body,
// dynamic_body and the rest: about 0.5 s of parsing in every file, docs/compile-time.md).
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#if defined(MCP_RECOVERY_BEAST_TLS)
#include <boost/asio/ssl.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_recovery::beast {

namespace bhttp = boost::beast::http;

namespace detail {

/// Connections kept alive between requests, shared by every sender of one transport.
template <class Connection>
class connection_pool {
public:
    /// A pooled connection that is still usable, or null. Connections idle longer than
    /// `max_idle`, or that the server closed meanwhile, are dropped.
    /// `closed_by_peer` counts the ones the server had closed, `stray` those with unsolicited bytes.
    std::unique_ptr<Connection> acquire(duration max_idle, std::atomic<std::uint64_t>* closed_by_peer = nullptr,
                                        std::atomic<std::uint64_t>* stray = nullptr) {
        std::lock_guard<std::mutex> lock(mutex_);
        while (!pool_.empty()) {
            std::unique_ptr<Connection> c = std::move(pool_.back());
            pool_.pop_back();
            const time_point now = clock_type::now();
            if (now - c->idle_since > max_idle || now >= c->reuse_until) {
                c->close();
                continue;
            }
            if (c->unread_on_socket()) {  // bytes nobody asked for: never read as a response
                if (stray) stray->fetch_add(1, std::memory_order_relaxed);
                c->close();
                continue;
            }
            if (c->peer_closed()) {
                if (closed_by_peer) closed_by_peer->fetch_add(1, std::memory_order_relaxed);
                c->close();
                continue;
            }
            c->reused = true;
            return c;
        }
        return nullptr;
    }

    void release(std::unique_ptr<Connection> c, std::size_t max_idle_connections) {
        c->idle_since = clock_type::now();
        std::lock_guard<std::mutex> lock(mutex_);
        if (pool_.size() < max_idle_connections) pool_.push_back(std::move(c));
        else c->close();
    }

    void drop() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& c : pool_) c->close();
        pool_.clear();
    }

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> pool_;
};

/// The I/O-free part of the Streamable-HTTP transports (see the comment at the top of the file).
template <class JsonPolicy>
class transport_base {
    static_assert(is_json_policy_v<JsonPolicy>, "JsonPolicy type requirements not met (see json_envelope.hpp)");

public:
    using request_type = request;
    using response_type = response;

    transport_base(const transport_base&) = delete;
    transport_base& operator=(const transport_base&) = delete;

    /// Asks the token provider for a new token (after a 401). Without a provider: a failure.
    outcome<void> refresh_auth() {
        if (!options_.token_provider) {
            failure f;
            f.transport_error = std::make_error_code(std::errc::operation_not_supported);
            f.message = "no token provider configured";
            f.delivered = delivery::not_sent;
            return f;
        }
        outcome<std::string> token = options_.token_provider();
        if (!token) return std::move(token).error();
        if (!valid_header_value(*token)) {
            failure f;
            f.transport_error = std::make_error_code(std::errc::invalid_argument);
            f.message = "the token provider returned a token with characters not allowed in a header";
            f.delivered = delivery::not_sent;
            return f;
        }
        std::lock_guard<std::mutex> lock(state_mutex_);
        token_ = std::move(*token);
        return {};
    }

    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

    std::string session_id() const {
        std::lock_guard<std::mutex> lock(state_mutex_);
        return session_id_;
    }
    std::string protocol_version() const {
        std::lock_guard<std::mutex> lock(state_mutex_);
        return protocol_version_;
    }

    /// Uses `id` as the session id from now on (to resume a session, or to provoke a lost session
    /// in a test). Refused (false) unless it is a valid session id.
    bool adopt_session_id(std::string id) {
        if (!valid_session_id(id, options_.max_session_id_size)) return false;
        std::lock_guard<std::mutex> lock(state_mutex_);
        session_id_ = std::move(id);
        open_ = generation_.load() > 0;
        return true;
    }

    const endpoint_url& url() const noexcept { return url_; }
    const transport_options& options() const noexcept { return options_; }
    /// Connections opened so far (for tests and benchmarks of keep-alive reuse).
    std::size_t connections_opened() const noexcept { return opened_.load(); }

    /// What servers did wrong at the HTTP level so far (see `http_diagnostics`).
    http_diagnostics diagnostics() const noexcept {
        http_diagnostics d;
        d.stray_bytes = diag_.stray_bytes.load(std::memory_order_relaxed);
        d.mismatched_ids = diag_.mismatched_ids.load(std::memory_order_relaxed);
        d.interim_responses = diag_.interim_responses.load(std::memory_order_relaxed);
        d.encoded_bodies = diag_.encoded_bodies.load(std::memory_order_relaxed);
        d.response_timeouts = diag_.response_timeouts.load(std::memory_order_relaxed);
        d.closed_idle = diag_.closed_idle.load(std::memory_order_relaxed);
        d.resent_unsent = diag_.resent_unsent.load(std::memory_order_relaxed);
        return d;
    }

    /// What the transport did for the server's side of the conversation so far.
    conversation_stats conversation() const noexcept {
        conversation_stats c;
        c.listening_opened = conv_.opened.load();
        c.listening_resumed = conv_.resumed.load();
        c.listening_not_offered = conv_.not_offered.load();
        c.requests_answered = conv_.answered.load();
        c.cancellations_sent = conv_.cancellations.load();
        c.initialized_pipelined = conv_.pipelined.load();
        c.initialized_refused = conv_.refused.load();
        return c;
    }

protected:
    /// Validates the options; throws `std::invalid_argument` for a bad URL or header.
    explicit transport_base(transport_options options) : options_(std::move(options)) {
        std::string why;
        auto url = parse_url(options_.url, why);
        // The URL is shown without its user information: credentials are never echoed.
        if (!url) throw std::invalid_argument("mcp_recovery::beast: bad URL '" + redact_url(options_.url) + "': " + why);
        url_ = std::move(*url);
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (url_.tls) {
            tls_ = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
            tls_->set_default_verify_paths();
            if (!options_.tls_ca_file.empty()) tls_->load_verify_file(options_.tls_ca_file);
            tls_->set_verify_mode(options_.tls_verify ? boost::asio::ssl::verify_peer : boost::asio::ssl::verify_none);
        }
#else
        if (url_.tls)
            throw std::invalid_argument(
                "mcp_recovery::beast: https needs TLS support: define MCP_RECOVERY_BEAST_TLS and link OpenSSL "
                "(CMake target mcp_recovery::beast_tls)");
#endif
        for (const auto& [name, value] : options_.headers) {
            if (!valid_header_name(name) || !valid_header_value(value))
                throw std::invalid_argument("mcp_recovery::beast: invalid extra header '" + name + "'");
        }
    }
    ~transport_base() = default;

    struct session {
        std::string id;
        std::string protocol_version;
        std::uint64_t generation = 0;
        bool open = false;  ///< initialized and not terminated
    };

    struct exchange_result {
        std::error_code error;  ///< transport-level
        bool written = false;   ///< whether any byte of the request left
        int status = 0;
        std::string content_type;
        std::string body;  ///< JSON or error body (not for SSE, which is handled while reading)
        std::optional<std::string> session_header;
        std::optional<duration> retry_after;
        bool www_authenticate = false;
        bool is_event_stream = false;
        /// The event stream ended or broke (EOF, reset) before the response: resumable if it had an
        /// event id. Not set for a timeout, a malformed or an oversized stream.
        bool stream_broken = false;
        /// What went wrong, in words, when the error code alone does not say it (the failure's message).
        std::string note;
        /// A 2xx JSON body answering a request with an id, parsed once while deciding whether the
        /// connection may be reused (nothing when not parsed); `parse_error` says why it failed.
        std::optional<envelope> parsed;
        std::error_code parse_error;
        /// Server requests read on the stream and not answered while it was read (they came with
        /// or after the response): the transport answers them afterwards.
        std::vector<server_request> server_requests;
        /// A carried `notifications/initialized` (`exchange_machine::carry`) was answered, with this status.
        bool preamble_answered = false;
        int preamble_status = 0;
    };

    using parser_type = bhttp::response_parser<bhttp::buffer_body>;
    using post_request = bhttp::request<bhttp::string_body>;
    static constexpr std::size_t chunk_size = 16 * 1024;
    /// Most bytes of an event stream read after its response, to reuse the connection.
    static constexpr std::size_t max_drain = 64 * 1024;

    session snapshot() const {
        std::lock_guard<std::mutex> lock(state_mutex_);
        session s;
        s.id = session_id_;
        s.protocol_version = protocol_version_;
        s.generation = generation_.load(std::memory_order_acquire);
        s.open = open_;
        return s;
    }

    static failure not_connected() {
        failure f;
        f.transport_error = make_error_code(transport_errc::not_connected);
        f.delivered = delivery::not_sent;
        return f;
    }

    std::int64_t next_request_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

    bool needs_token() const {
        if (!options_.token_provider) return false;
        std::lock_guard<std::mutex> lock(state_mutex_);
        return token_.empty();
    }

    // ---- messages ----

    template <class Request>
    void common_headers(Request& req, const session& s) const {
        req.set(bhttp::field::host, url_.host_header());
        req.set(bhttp::field::user_agent, "mcp-recovery/0.1");
        if (!s.id.empty()) req.set("Mcp-Session-Id", s.id);
        if (!s.protocol_version.empty()) req.set("MCP-Protocol-Version", s.protocol_version);
        {
            std::lock_guard<std::mutex> lock(state_mutex_);
            if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
        }
        for (const auto& [name, value] : options_.headers) req.set(name, value);
        // No decoder in a dependency-free core: an encoded body is refused by name instead.
        req.set(bhttp::field::accept_encoding, "identity");
        req.keep_alive(true);
    }

    /// A JSON-RPC request (with `id`) or notification (without) as an HTTP POST.
    bhttp::request<bhttp::string_body> make_post(const session& s, std::string_view method, std::string_view params,
                                                 std::optional<std::int64_t> id) const {
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, url_.target, 11};
        common_headers(req, s);
        req.set(bhttp::field::content_type, "application/json");
        req.set(bhttp::field::accept, "application/json, text/event-stream");
        std::string& body = req.body();
        body.reserve(64 + method.size() + params.size());
        body += R"({"jsonrpc":"2.0",)";
        if (id) {
            body += R"("id":)";
            body += std::to_string(*id);
            body += ',';
        }
        body += R"("method":)";
        append_json_string(body, method);
        if (!params.empty()) {
            body += R"(,"params":)";
            body += params;
        }
        body += '}';
        req.prepare_payload();
        return req;
    }

    /// A POST of a ready JSON-RPC message (the answer to a server request).
    bhttp::request<bhttp::string_body> make_message_post(const session& s, std::string body) const {
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, url_.target, 11};
        common_headers(req, s);
        req.set(bhttp::field::content_type, "application/json");
        req.set(bhttp::field::accept, "application/json, text/event-stream");
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    }

    /// The decisions of the listening stream, shared by the synchronous listener thread and the
    /// asynchronous `async_listen()` (they differ only in how they wait and read): which session
    /// to listen on, what to resume from, when a drop is a failure, and how long to wait before
    /// the next GET. One per listener; not thread-safe.
    class listen_plan {
    public:
        enum class after { retry, new_session };

        explicit listen_plan(const transport_options& o) : options_(o), delay_(o.listen_retry_delay) {}

        /// Whether the session of generation `restored` (restored by the application, 0: none yet)
        /// is to be listened on, now that the transport is at `generation`.
        bool wants(std::uint64_t restored, std::uint64_t generation) const noexcept {
            return restored != 0 && restored == generation && restored != given_up_;
        }
        /// The generation being listened on.
        std::uint64_t current() const noexcept { return current_; }

        /// Before a GET on `s`: false when it has no listening stream (sessionless, closed): the
        /// listener waits for a new session. A new session starts over (no resumption, no failures).
        bool start(const session& s) {
            if (!s.open || s.id.empty() || !revision_has_sessions(s.protocol_version)) {
                given_up_ = s.generation;
                return false;
            }
            if (s.generation != current_) {
                current_ = s.generation;
                last_id_.clear();
                failures_ = 0;
                delay_ = options_.listen_retry_delay;
            }
            resumed_from_ = last_id_;
            return true;
        }
        /// The `Last-Event-ID` of the next GET (empty: none).
        const std::string& last_event_id() const noexcept { return last_id_; }

        /// The GET on `s` ended with `x` after `up` (its events read by `events`; a 405 counted in
        /// `not_offered`): retry after `wait()`, or wait for a new session (405: none offered; 404/400/401/403: the session is
        /// gone or not ours, the next call renews it; too many failures in a row).
        after ended(const session& s, const exchange_result& x, const sse_parser& events, duration up,
                    std::atomic<std::uint64_t>& not_offered) {
            if (!events.last_event_id().empty()) last_id_ = events.last_event_id();
            if (x.is_event_stream && (last_id_ != resumed_from_ || up >= delay_)) {
                failures_ = 0;  // it was up for a while: a drop, not a failure
                delay_ = options_.listen_retry_delay;
            }
            if (!x.error && x.status == 405) not_offered.fetch_add(1);
            if (!x.error && (x.status == 405 || x.status == 404 || x.status == 400 || x.status == 401 ||
                             x.status == 403)) {
                given_up_ = s.generation;
                return after::new_session;
            }
            if (++failures_ >= options_.max_listen_attempts) {
                given_up_ = s.generation;
                return after::new_session;
            }
            wait_ = delay_;
            if (events.retry()) wait_ = std::chrono::duration_cast<duration>(*events.retry());
            wait_ = std::min(wait_, options_.max_resume_delay);
            delay_ = std::min(delay_ * 2, options_.max_resume_delay);
            return after::retry;
        }
        /// With `after::retry`: the wait before the next GET (a restored new session ends it early).
        duration wait() const noexcept { return wait_; }

    private:
        const transport_options& options_;
        std::uint64_t given_up_ = 0;  // a generation listening gave up on
        std::uint64_t current_ = 0;
        std::string last_id_;
        std::string resumed_from_;
        std::size_t failures_ = 0;
        duration delay_;
        duration wait_{};
    };

    /// The GET that opens the listening stream, resuming after `last_event_id` when not empty.
    bhttp::request<bhttp::empty_body> make_listen_get(const session& s, const std::string& last_event_id) const {
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, url_.target, 11};
        common_headers(req, s);
        req.set(bhttp::field::accept, "text/event-stream");
        if (!last_event_id.empty()) req.set("Last-Event-ID", last_event_id);
        return req;
    }

    /// What one call adds to its request: the progress token and where progress goes.
    /// A copy of the params is made only when a progress token is put into them: a call without
    /// `on_progress` sends the request's own params (the request outlives the call).
    struct call_context {
        std::string progress_token;  ///< raw JSON; empty: progress is not followed
        const std::function<void(const progress_update&)>* on_progress = nullptr;
        std::string_view given;      ///< the request's params
        std::string with_token;      ///< the params with `_meta.progressToken`, when `injected`
        bool injected = false;

        /// The params as sent.
        std::string_view params() const noexcept { return injected ? std::string_view(with_token) : given; }
    };

    call_context context_of(const request& r, std::int64_t id) const {
        call_context c;
        c.given = r.params;
        if (r.on_progress) {
            c.with_token = with_progress_token(r.params, id, c.progress_token);
            c.injected = true;
            c.on_progress = &r.on_progress;
        }
        return c;
    }

    /// The resumption GET of an event stream (SEP-1699).
    bhttp::request<bhttp::empty_body> make_resume_get(const session& s, const std::string& last_event_id) const {
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, url_.target, 11};
        common_headers(req, s);
        req.set(bhttp::field::accept, "text/event-stream");
        req.set("Last-Event-ID", last_event_id);
        return req;
    }

    bhttp::request<bhttp::string_body> make_delete(const session& s) const {
        bhttp::request<bhttp::string_body> req{bhttp::verb::delete_, url_.target, 11};
        common_headers(req, s);
        return req;
    }

    /// The `initialize` params, identical on every reconnect.
    std::string initialize_params() const {
        std::string params = R"({"protocolVersion":)";
        append_json_string(params, options_.protocol_version);
        params += R"(,"capabilities":)";
        params += capabilities_for_handlers(options_.capabilities, options_.server_requests);
        params += R"(,"clientInfo":{"name":)";
        append_json_string(params, options_.client_name);
        params += R"(,"version":)";
        append_json_string(params, options_.client_version);
        params += "}}";
        return params;
    }

    /// The session that an `initialize` answer opens (not installed yet), or why it is unusable.
    outcome<session> accept_initialize(outcome<response> r, std::string session_id) const {
        if (!r) return std::move(r).error();
        if (r->is_error()) {
            failure f;
            f.http_status = 200;
            f.jsonrpc_code = r->fields.error_code;
            f.message = r->fields.error_message.value_or("initialize failed");
            f.delivered = delivery::rejected;
            return f;
        }
        const std::string version = r->fields.protocol_version.value_or("");
        const auto& supported = supported_protocol_versions();
        if (std::find(supported.begin(), supported.end(), version) == supported.end()) {
            failure f;
            f.http_status = 200;
            f.transport_error = make_error_code(transport_errc::unsupported_protocol_version);
            f.message = "server negotiated protocol version '" + version + "'";
            f.delivered = delivery::rejected;
            return f;
        }
        session s;
        s.id = std::move(session_id);
        s.protocol_version = version;
        s.open = true;
        return s;
    }

    // A reconnect, shared by both transports (they differ only in blocking or awaiting the I/O):
    // begin_reconnect → initialize → initialize_answered → notifications/initialized → end_reconnect.

    /// The steps before `initialize`: the sessionless revision's reconnect (new connections from
    /// `pool`, a new generation), the deadline, a token when one is needed. The reconnect's outcome
    /// when it ends here; nothing when `initialize` is to be sent.
    template <class Pool>
    std::optional<outcome<void>> begin_reconnect(time_point deadline, Pool& pool) {
        if (!revision_has_sessions(options_.protocol_version)) {
            // Nothing to negotiate and no session to open: start over with fresh connections.
            pool.drop();
            install_sessionless();
            return outcome<void>{};
        }
        // A step is not started past the deadline (an I/O step would still get a moment to run).
        if (past(deadline)) return outcome<void>{step_too_late(initialize_method)};
        if (needs_token()) {
            outcome<void> t = refresh_auth();
            if (!t) return t;
        }
        return std::nullopt;
    }

    /// After `initialize` answered `r` (with `session_id` from its header): the new session, not
    /// installed yet, or the reconnect's failure (also when the deadline passed meanwhile).
    outcome<session> initialize_answered(outcome<response> r, std::string session_id, time_point deadline) const {
        outcome<session> s = accept_initialize(std::move(r), std::move(session_id));
        if (!s) return step_failed(std::move(s).error(), initialize_method);
        if (past(deadline)) return step_too_late(initialized_method);
        return s;
    }

    /// After `notifications/initialized` ended with `n`: installs `s`, or the reconnect failed.
    outcome<void> end_reconnect(outcome<void> n, session s) {
        if (!n) return step_failed(std::move(n).error(), initialized_method);
        install(std::move(s));
        return {};
    }

    /// Makes `s` the current session and bumps the generation. `owe_initialized`: its
    /// `notifications/initialized` is still to be sent, with the session's next request.
    void install(session s, bool owe_initialized = false) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        owed_session_ = owe_initialized ? s.id : std::string();
        owed_ = owe_initialized ? owed_state::owed : owed_state::none;
        session_id_ = std::move(s.id);
        protocol_version_ = std::move(s.protocol_version);
        open_ = true;
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }

    /// After `initialize` answered: whether `notifications/initialized` waits for the session's
    /// next request (`transport_options::pipeline_initialized`) rather than being sent now.
    bool defers_initialized() const noexcept { return options_.pipeline_initialized; }

    // ---- notifications/initialized owed by the session (pipelined with its next request) ----
    // owed → carried (one exchange writes it ahead of its request) → none once answered, or
    // back to owed when its answer was not read (sent again: a second one is harmless, a missing
    // one is not). Exchanges of the session meanwhile wait for `none` or `owed`.

    /// What an exchange of session `s` does about the owed notification.
    enum class owed_claim { none, carry, wait };

    owed_claim claim_owed(const session& s) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (owed_ == owed_state::none || s.id != owed_session_) return owed_claim::none;
        if (owed_ == owed_state::owed) {
            owed_ = owed_state::carried;
            return owed_claim::carry;
        }
        return owed_claim::wait;
    }

    /// The carrier's end: `answered` when the notification's answer was read. Returns whether
    /// waiters are to be woken (the state left `carried`).
    bool settle_owed(const session& s, bool answered) {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (owed_ != owed_state::carried || owed_session_ != s.id) return false;  // a newer session's
        owed_ = answered ? owed_state::none : owed_state::owed;
        return true;
    }

    /// After an exchange that carried the notification: counts it when answered (pipelined), and
    /// settles it (`settle_owed`).
    bool settle_carried(const session& s, const exchange_result& x) {
        if (x.preamble_answered) {
            conv_.pipelined.fetch_add(1);
            if (x.preamble_status < 200 || x.preamble_status >= 300) conv_.refused.fetch_add(1);
        }
        return settle_owed(s, x.preamble_answered);
    }

    /// Whether this server was seen to send bytes after a complete response, or another request's
    /// answer: it is not pipelined with (the notification goes on its own first), since a stray
    /// byte between two pipelined answers would leave the request's answer unreadable.
    bool pipelining_unsafe() const noexcept { return diag_.stray_bytes.load() > 0 || diag_.mismatched_ids.load() > 0; }

    /// The notification sent on its own (`pipelining_unsafe`) got no answer: the request that was
    /// to follow it is not sent.
    failure initialized_alone_failed(const exchange_result& x, const session& s) const {
        failure f = to_failure(x, s);
        f.method = std::string(initialized_method);
        f.delivered = delivery::not_sent;  // the request itself never left
        return f;
    }

    /// A notification that could not be had in time (waiting for it, or sending it on its own).
    static failure owed_too_late() {
        failure f;
        f.transport_error = std::make_error_code(std::errc::timed_out);
        f.message = "the deadline passed while notifications/initialized of the new session was on its way";
        f.delivered = delivery::not_sent;
        return f;
    }

    /// Whether session `s` still owes its notification (owed or being carried).
    bool owes(const session& s) const {
        std::lock_guard<std::mutex> lock(state_mutex_);
        return owed_ != owed_state::none && owed_session_ == s.id;
    }

    /// Whether the session's notification is being carried by an exchange now.
    bool owed_carried() const {
        std::lock_guard<std::mutex> lock(state_mutex_);
        return owed_ == owed_state::carried;
    }

    /// The sessionless revision's "reconnect": nothing to negotiate, only a new generation.
    void install_sessionless() {
        session s;
        s.protocol_version = options_.protocol_version;
        install(std::move(s));
    }

    /// After a DELETE: the session is gone when the server agreed (or never knew it).
    outcome<void> conclude_terminate(const exchange_result& x, const session& s) {
        if (!x.error && (x.status < 300 || x.status == 404 || x.status == 405)) {
            std::lock_guard<std::mutex> lock(state_mutex_);
            if (session_id_ == s.id) {
                session_id_.clear();
                open_ = false;  // sends fail with not_connected until the next reconnect
            }
            return {};
        }
        return to_failure(x, s);
    }

    // ---- reading answers ----

    /// Records what the headers say. False: a redirect, refused (`x.error` is set).
    bool read_head(const parser_type& parser, exchange_result& x) const {
        const auto& head = parser.get();
        x.status = static_cast<int>(head.result_int());
        x.content_type = std::string(head[bhttp::field::content_type]);
        if (auto it = head.find("Mcp-Session-Id"); it != head.end()) x.session_header = std::string(it->value());
        if (auto it = head.find(bhttp::field::retry_after); it != head.end())
            x.retry_after = parse_retry_after(std::string_view(it->value().data(), it->value().size()));
        x.www_authenticate = head.find(bhttp::field::www_authenticate) != head.end();
        if (x.status >= 300 && x.status < 400) {
            x.error = make_error_code(transport_errc::redirect_refused);
            return false;
        }
        return true;
    }

    void configure(parser_type& parser) const {
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options_.max_header_size, UINT32_MAX)));
        parser.body_limit(std::uint64_t{options_.max_stream_size});
    }

    /// Whether a 2xx answer is an event stream to read event by event.
    static bool event_stream(const exchange_result& x, bool wanted) {
        return wanted && x.status >= 200 && x.status < 300 && starts_with_icase(x.content_type, "text/event-stream");
    }

    enum class body_step { more, truncated, too_large };

    /// Adds `got` bytes of a plain body; success bodies over `limit` are an error, error bodies
    /// are kept in part.
    static body_step append_body(exchange_result& x, const char* chunk, std::size_t got, std::size_t limit) {
        if (x.body.size() + got <= limit) {
            x.body.append(chunk, got);
            return body_step::more;
        }
        if (x.status >= 200 && x.status < 300) {
            x.error = make_error_code(transport_errc::response_too_large);
            return body_step::too_large;
        }
        x.body.append(chunk, limit - x.body.size());
        return body_step::truncated;
    }

    /// Reads the events of a stream that answers request `id`: the response goes to `answer`,
    /// other messages to `on_message`.
    struct event_reader {
        const transport_base& owner;
        sse_parser& events;
        std::int64_t id;
        std::optional<response>& answer;
        const call_context* call = nullptr;
        std::error_code stream_error{};
        std::vector<server_request> requests{};  ///< read, not answered yet
        bool progressed = false;                 ///< a progress notification for this call came

        bool done() const noexcept { return answer.has_value() || static_cast<bool>(stream_error); }

        /// A message that is not this call's response: a server request to answer, a
        /// notification to pass on (progress to the call's callback).
        void dispatch(const envelope& e, const std::string& data) {
            const message_kind kind = kind_of(e);
            if (owner.options_.on_message) owner.options_.on_message(data);
            if (kind == message_kind::request) {
                if (requests.size() >= max_pending_requests) return;  // a flood: the rest stay unanswered
                server_request r;
                r.method = *e.method;
                if (auto p = find_member(data, "params")) r.params = std::string(*p);
                r.id = e.id_raw;
                requests.push_back(std::move(r));
                return;
            }
            if (kind != message_kind::notification) return;
            std::string_view params;
            if (auto p = find_member(data, "params")) params = *p;
            if (call && call->on_progress && *e.method == "notifications/progress") {
                if (auto u = progress_for(params, call->progress_token)) {
                    progressed = true;
                    (*call->on_progress)(*u);
                }
            }
            if (owner.options_.on_notification) owner.options_.on_notification(*e.method, params);
        }

        void feed(const char* chunk, std::size_t got) {
            if (got == 0) return;
            // The handler returns false to stop at the response (or at a malformed message).
            auto on_event = [this](sse_event& ev) -> bool {
                if (ev.data.empty()) return true;  // e.g. a priming event that only carries an id
                envelope e;
                std::error_code jec;
                if (!parse_json(ev.data, e, jec)) {
                    stream_error = make_error_code(transport_errc::malformed_response);
                    return false;
                }
                if (!e.method && id_equals(e, id) && (e.has_result || e.has_error)) {
                    answer = response{std::move(ev.data), std::move(e)};
                    return false;
                }
                dispatch(e, ev.data);
                return true;
            };
            std::error_code sec;
            events.feed(std::string_view(chunk, got), on_event, sec);
            if (sec) stream_error = make_error_code(transport_errc::response_too_large);  // a limit
        }

        /// Why the stream stopped ({} once the response arrived), given the last read's error;
        /// `broken` tells whether it ended or broke in a way a resumption can repair.
        std::error_code finish(std::error_code read_error, bool& broken) {
            if (answer) return {};
            std::error_code sec;
            events.finish(sec);  // ready for a resumed stream; an event cut short is discarded
            if (stream_error) return stream_error;
            if (read_error) {
                broken = read_error == transport_errc::stream_ended || read_error == std::errc::connection_reset ||
                         read_error == std::errc::connection_aborted || read_error == std::errc::broken_pipe;
                return read_error;
            }
            broken = true;  // the server ended the stream (gracefully, or cut in the middle of an event)
            return make_error_code(transport_errc::stream_ended);
        }
    };

    /// Server requests one stream may leave unanswered at once; more are dropped (never a flood of POSTs).
    static constexpr std::size_t max_pending_requests = 64;

    sse_parser new_event_parser() const { return sse_parser(sse_limits{options_.max_event_size, options_.max_event_size}); }

    /// What a POST's exchange produced, once any resumption is over: the response, or a failure.
    outcome<response> conclude_post(exchange_result& x, std::optional<response>& answer, std::int64_t id,
                                     const session& s, bool initializing) const {
        if (x.error || x.status < 200 || x.status >= 300) return to_failure(x, s);
        if (initializing && x.session_header && !valid_session_id(*x.session_header, options_.max_session_id_size)) {
            failure f = to_failure(x, s);
            f.transport_error = make_error_code(transport_errc::invalid_session_id);
            f.message = "the server assigned a session id outside visible ASCII (0x21-0x7E) or too long";
            f.delivered = delivery::rejected;
            return f;
        }
        if (!x.is_event_stream) {
            if (!starts_with_icase(x.content_type, "application/json")) {
                failure f = to_failure(x, s);
                f.transport_error = make_error_code(transport_errc::malformed_response);
                f.message = x.status == 202 ? "the server accepted a request without answering it (202)"
                                            : "unexpected content type '" + x.content_type + "'";
                return f;
            }
            envelope e;
            std::error_code ec = x.parse_error;
            bool parsed = false;
            if (x.parsed) {
                e = std::move(*x.parsed);
                parsed = true;
            } else if (!ec) {
                parsed = parse_json(x.body, e, ec);
            }
            if (!parsed || !id_equals(e, id) || (!e.has_result && !e.has_error)) {
                failure f = to_failure(x, s);
                f.transport_error = make_error_code(transport_errc::malformed_response);
                f.message = ec ? "invalid JSON in the response: " + ec.message()
                               : std::string("the response is not the JSON-RPC response to this request");
                return f;
            }
            return deliver(response{std::move(x.body), std::move(e)}, x.status, s);
        }
        if (answer) return deliver(std::move(*answer), x.status, s);
        failure f = to_failure(x, s);
        f.transport_error = make_error_code(transport_errc::stream_ended);
        return f;
    }

    /// The response `r` to a request sent on `s` (answered with HTTP `status`), or the failure it
    /// stands for when it is the server's lost-session error in band (see
    /// `transport_options::in_band_session_loss`).
    outcome<response> deliver(response r, int status, const session& s) const {
        if (!options_.in_band_session_loss || s.id.empty() || !r.fields.has_error || r.fields.has_result) return r;
        const std::optional<std::int64_t> code = r.fields.error_code;
        if (!code || (*code != -32001 && *code != -32600 && *code != -32000)) return r;
        if (!r.fields.error_message || !session_message_rules{}.contains_phrase(*r.fields.error_message)) return r;
        failure f;
        f.transport_error = make_error_code(transport_errc::session_lost);
        f.http_status = status;
        f.jsonrpc_code = code;
        f.message = *r.fields.error_message;
        f.had_session_id = true;
        f.delivered = delivery::rejected;
        return f;
    }

    // ---- one exchange on a pooled connection ----

    /// The decisions of one HTTP exchange (a request, then its response) made without any I/O, so
    /// that the synchronous and the awaitable transport share every one of them and differ only in
    /// how they wait: `next()` names the step to perform, `timeout()` and `until()` bound it, and
    /// the step's result goes back through `opened`, `wrote`, `header_read` or `body_read`. At
    /// `step::done`, `finish()` pools the connection (or closes it) and returns what happened.
    ///
    /// What it decides:
    /// - which connection: a pooled one still usable (not idle past `max_idle` or the server's
    ///   keep-alive timeout, not closed by the server), else a new one;
    /// - whether to send once more on a new connection: only when the server provably did not read
    ///   the request (a failed write on a reused connection; on a reused connection, before any
    ///   byte of a response, the server's FIN followed by a reset, looked for once more after a
    ///   pause of about two round trips, `step::pause`; see `unread_by_server`);
    /// - interim 1xx responses are skipped (at most `max_interim_responses`); a 101 is malformed;
    /// - a `Content-Encoding` other than identity is refused by name;
    /// - each read is bounded by `read_timeout`, the whole response by `response_timeout`, every
    ///   step by the deadline;
    /// - a connection is reused only when its response was read exactly to its end: the parser is
    ///   done, no byte follows it (in the buffer or on the socket), the server did not ask to close,
    ///   and a JSON answer carries the request's id. Otherwise it is closed.
    template <class Connection>
    class exchange_machine {
    public:
        /// `answer`: the server requests read so far are to be answered (`take_server_requests`,
        /// then `answered`) before the stream is read on.
        enum class step { acquire, open, write, read_header, read_body, pause, answer, done };

        /// `call`: the call's progress token and callback (may be null). `listening`: the
        /// listening stream, whose reads are bounded by `listen_idle_timeout` and which has no
        /// `response_timeout`.
        exchange_machine(transport_base& owner, connection_pool<Connection>& pool, time_point deadline,
                         std::size_t body_limit, std::int64_t id, std::optional<response>* answer,
                         sse_parser* events, const call_context* call = nullptr, bool listening = false)
            : owner_(owner), pool_(pool), o_(owner.options_), deadline_(deadline), body_limit_(body_limit), id_(id),
              answer_(answer), events_(events), call_(call), listening_(listening) {}
        exchange_machine(const exchange_machine&) = delete;
        exchange_machine& operator=(const exchange_machine&) = delete;
        ~exchange_machine() {
            if (conn_) conn_->close();
        }

        step next() const noexcept { return step_; }

        /// step::acquire: takes a usable pooled connection (then the next step is `write`), or
        /// returns false and the caller makes a new one with `fresh` (then `open`).
        bool take_pooled() {
            if (!resent_) conn_ = pool_.acquire(o_.max_idle, &owner_.diag_.closed_idle, &owner_.diag_.stray_bytes);
            step_ = conn_ ? step::write : step::open;
            return conn_ != nullptr;
        }

        /// A new connection, made with `args` (the async one takes its executor).
        template <class... Args>
        Connection& fresh(Args&&... args) {
            conn_ = std::make_unique<Connection>(std::forward<Args>(args)...);
            step_ = step::open;
            return *conn_;
        }

        Connection& connection() noexcept { return *conn_; }
        bool has_connection() const noexcept { return conn_ != nullptr; }

        /// Writes `initialized` (the session's owed `notifications/initialized`) ahead of the
        /// request on the same connection and reads its answer before the request's (HTTP/1.1
        /// pipelining). Call before the first step.
        void carry(post_request& initialized) noexcept { preamble_ = &initialized; }
        /// step::write: the request to write before the exchange's own (none: nullptr).
        post_request* preamble() const noexcept { return preamble_answered_ ? nullptr : preamble_; }
        bool is_event_stream() const noexcept { return x_.is_event_stream; }
        parser_type& parser() noexcept { return *parser_; }
        char* chunk() noexcept { return chunk_; }
        static constexpr std::size_t chunk_capacity = chunk_size;

        /// The bound of the next step: its own timeout...
        duration timeout() const noexcept {
            switch (step_) {
            case step::open: return o_.connect_timeout;
            case step::write: return o_.write_timeout;
            case step::pause: {
                const time_point now = clock_type::now();
                return reset_wait_end_ > now ? reset_wait_end_ - now : duration::zero();
            }
            default:
                if (draining_) return o_.stream_drain_timeout;
                return listening_ ? o_.listen_idle_timeout : o_.read_timeout;
            }
        }
        /// ... and the time it must end by in any case.
        time_point until() const noexcept {
            if (draining_) return drain_end_;
            if (step_ == step::read_header || step_ == step::read_body) return std::min(deadline_, response_end_);
            return deadline_;
        }

        void opened(std::error_code ec) {
            if (ec) {
                x_.error = ec;
                return end();
            }
            owner_.opened_.fetch_add(1);
            step_ = step::write;
        }

        void wrote(std::error_code ec, bool written) {
            if (!ec) {
                x_.written = true;
                written_at_ = clock_type::now();
                if (o_.response_timeout > duration::zero() && !listening_) {
                    const time_point now = written_at_;
                    if (time_point::max() - now > o_.response_timeout) response_end_ = now + o_.response_timeout;
                }
                begin_response();
                return;
            }
            // A write that fails on a reused connection met a server that had closed it: it read
            // nothing of this request, so the request goes once more on a new connection.
            if (conn_->reused && may_resend() && ec != std::errc::operation_canceled) {
                count(owner_.diag_.closed_idle);
                return resend();
            }
            conn_->close();
            x_.error = ec;
            x_.written = written;
            end();
        }

        void header_read(std::error_code ec) {
            if (ec) return read_failed(ec, conn_->buffered() == 0 && !preamble_status_);
            const int status = static_cast<int>(parser_->get().result_int());
            if (reading_preamble()) {
                if (status >= 100 && status < 200) {
                    if (status == 101 || interim_ >= o_.max_interim_responses) {
                        x_.error = make_error_code(transport_errc::malformed_response);
                        x_.note = "the answer to notifications/initialized was not a final response";
                        return fail_closed();
                    }
                    ++interim_;
                    return begin_response();
                }
                preamble_status_ = status;
                if (parser_->is_done()) return preamble_done();
                step_ = step::read_body;
                return;
            }
            if (status >= 100 && status < 200) {
                if (status == 101 || interim_ >= o_.max_interim_responses) {
                    x_.status = status;
                    x_.error = make_error_code(transport_errc::malformed_response);
                    x_.note = status == 101 ? std::string("the server switched protocols (101) without being asked")
                                            : "more than " + std::to_string(o_.max_interim_responses) +
                                                  " interim (1xx) responses before the final one";
                    return fail_closed();
                }
                // An interim response (100 Continue, 103 Early Hints, ...): skipped, then the final one.
                ++interim_;
                count(owner_.diag_.interim_responses);
                begin_response();
                return;
            }
            if (!owner_.read_head(*parser_, x_)) return fail_closed();
            const auto& head = parser_->get();
            if (auto it = head.find(bhttp::field::content_encoding);
                it != head.end() && !identity_content_encoding(std::string_view(it->value().data(), it->value().size()))) {
                count(owner_.diag_.encoded_bodies);
                const std::string coding(it->value().data(), std::min<std::size_t>(it->value().size(), 64));
                x_.note = "the server sent its answer with Content-Encoding '" + coding +
                          "' although the request asked for identity (no decoder)";
                // A 2xx body is unusable; an error status still says what it says, without its body.
                if (x_.status >= 200 && x_.status < 300) x_.error = make_error_code(transport_errc::unsupported_content_encoding);
                return fail_closed();
            }
            if (auto it = head.find(bhttp::field::keep_alive); it != head.end()) {
                if (auto t = parse_keep_alive_timeout(std::string_view(it->value().data(), it->value().size()))) {
                    const duration announced = std::chrono::duration_cast<duration>(*t);
                    keep_alive_ = announced >= 2 * o_.keep_alive_margin ? announced - o_.keep_alive_margin : announced / 2;
                }
            }
            x_.is_event_stream = event_stream(x_, answer_ != nullptr && events_ != nullptr);
            if (x_.is_event_stream) {
                reader_.emplace(typename transport_base::event_reader{owner_, *events_, id_, *answer_, call_});
            }
            if (parser_->is_done()) return end();
            step_ = step::read_body;
        }

        void body_read(std::error_code ec, std::size_t got) {
            if (reading_preamble()) {
                // Its body (an error's text, if any) is not kept; bounded like an error body.
                drained_ += got;
                if (ec) return read_failed(ec, false);
                if (drained_ > o_.max_error_body_size) {
                    x_.error = make_error_code(transport_errc::response_too_large);
                    return fail_closed();
                }
                if (parser_->is_done()) preamble_done();
                return;
            }
            if (draining_) {
                drained_ += got;
                if (ec || parser_->is_done() || drained_ >= max_drain) return end();
                return;
            }
            if (x_.is_event_stream) {
                reader_->feed(chunk_, got);
                if (reader_->progressed) {
                    reader_->progressed = false;
                    if (o_.reset_timeout_on_progress && response_end_ != time_point::max()) {
                        const time_point now = clock_type::now();
                        if (time_point::max() - now > o_.response_timeout) response_end_ = now + o_.response_timeout;
                    }
                }
                if (!ec && !parser_->is_done() && !reader_->done()) {
                    if (!reader_->requests.empty()) step_ = step::answer;
                    return;
                }
                x_.error = reader_->finish(ec, x_.stream_broken);
                if (x_.error) {
                    note_response_timeout();
                    return fail_closed();
                }
                // The response arrived: read what is left of the stream for a short while (it
                // should end now), so that the connection can be reused; else it is closed.
                if (parser_->is_done() || o_.stream_drain_timeout <= duration::zero()) return end();
                draining_ = true;
                drain_end_ = std::min(deadline_, clock_type::now() + o_.stream_drain_timeout);
                return;
            }
            const bool success = x_.status >= 200 && x_.status < 300;
            const auto appended = append_body(x_, chunk_, got, success ? body_limit_ : o_.max_error_body_size);
            if (appended == body_step::too_large) return fail_closed();
            if (appended == body_step::truncated) {
                conn_->close();  // the rest of an error body is not read
                return end();
            }
            if (ec) return read_failed(ec, false);
            if (parser_->is_done()) end();
        }

        /// At step::done: pools the connection if its response was read exactly to its end, else
        /// closes it; returns what the exchange produced.
        exchange_result finish() {
            if (reader_ && !reader_->requests.empty()) x_.server_requests = std::move(reader_->requests);
            x_.preamble_answered = preamble_answered_;
            x_.preamble_status = preamble_status_;
            if (conn_) {
                if (reusable()) {
                    if (keep_alive_) conn_->reuse_until = clock_type::now() + *keep_alive_;
                    pool_.release(std::move(conn_), o_.max_idle_connections);
                } else {
                    conn_->close();
                    conn_.reset();
                }
            }
            return std::move(x_);
        }

        /// step::answer: the server requests to answer now (then call `answered`).
        std::vector<server_request> take_server_requests() {
            std::vector<server_request> out;
            if (reader_) out.swap(reader_->requests);
            return out;
        }
        /// The server requests were answered: the stream is read on.
        void answered() noexcept { step_ = step::read_body; }
        /// Whether any byte of the response (a status line) came back.
        bool responded() const noexcept { return x_.status != 0; }

        /// step::pause is over (a sleep, or a timer): looks again for the reset that would prove
        /// the request unread (see `unread_by_server`).
        void paused() {
            if (unread_by_server()) return resend_unread();
            x_.error = pending_;
            fail_closed();
        }

    private:
        void begin_response() {
            parser_.emplace();
            owner_.configure(*parser_);
            step_ = step::read_header;
        }

        bool reading_preamble() const noexcept { return preamble_ && !preamble_answered_; }

        /// The carried notification was answered: now the request's answer. A server that closes
        /// the connection after it (`Connection: close`) reads no further request on it (RFC 9112,
        /// section 9.6): the request goes alone on a new connection.
        void preamble_done() {
            preamble_answered_ = true;
            drained_ = 0;
            interim_ = 0;
            if (parser_->get().keep_alive()) return begin_response();
            conn_->close();
            conn_.reset();
            parser_.reset();
            x_ = exchange_result{};
            resent_ = true;  // a new connection (`take_pooled` takes none from the pool)
            step_ = step::acquire;
        }

        void end() noexcept { step_ = step::done; }

        void fail_closed() {
            conn_->close();
            end();
        }

        bool may_resend() const noexcept { return !resent_ && !past(deadline_); }

        void resend() {
            conn_->close();
            conn_.reset();
            resent_ = true;  // and on a new connection: `take_pooled` takes none from the pool
            x_ = exchange_result{};
            interim_ = 0;
            keep_alive_.reset();
            reader_.reset();
            parser_.reset();
            step_ = step::acquire;
        }

        void resend_unread() {
            count(owner_.diag_.closed_idle);
            count(owner_.diag_.resent_unsent);
            resend();
        }

        /// A read failed: `nothing_received` when not one byte of a response had come back.
        void read_failed(std::error_code ec, bool nothing_received) {
            if (nothing_received && conn_->reused && may_resend() && ec == transport_errc::stream_ended) {
                if (unread_by_server()) return resend_unread();
                // The server's FIN, and no reset yet: one would come within a round trip of the
                // request's arrival if the request met a closed socket. Wait for it that long.
                const duration rtt = conn_->smoothed_rtt().value_or(std::chrono::milliseconds(1));
                const duration wait = std::min<duration>(2 * rtt + std::chrono::milliseconds(1), max_reset_wait);
                reset_wait_end_ = std::min(deadline_, written_at_ + wait);
                if (clock_type::now() < reset_wait_end_) {
                    pending_ = ec;
                    step_ = step::pause;
                    return;
                }
            }
            x_.error = ec;
            note_response_timeout();
            fail_closed();
        }

        /// Names `response_timeout` when it, not `read_timeout` or the deadline, ended the wait.
        void note_response_timeout() {
            if (x_.error != std::errc::timed_out || response_end_ == time_point::max() || response_end_ > deadline_ ||
                clock_type::now() < response_end_)
                return;
            count(owner_.diag_.response_timeouts);
            x_.note = "no complete response within response_timeout (" +
                      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(o_.response_timeout).count()) +
                      " ms)";
        }

        /// Whether a reused connection that failed before any byte of a response came back was
        /// closed by the server with this request unread. Only one pattern proves it: an orderly
        /// close (FIN, read as an EOF) followed by a reset (RST). A socket closed with an empty
        /// receive queue sends FIN; data that reaches it afterwards is answered with RST. So
        /// FIN-then-RST means some of the request arrived after the server had closed: it never
        /// read the whole request and cannot have run it. A server that read the request and then
        /// closed sends FIN and nothing more (an EOF alone: unknown), and a reset alone may be a
        /// server that ran the request and then aborted the connection (SO_LINGER 0): unknown too.
        /// The reset is looked for at once, then once more after a pause of about two round trips
        /// from the request's write (`step::pause`, at most `max_reset_wait`): on a slow network it
        /// may come later still, and the answer is then the safe "unknown".
        bool unread_by_server() { return conn_->reset_by_peer(); }

        static constexpr duration max_reset_wait = std::chrono::milliseconds(100);

        bool reusable() {
            if (x_.error || !conn_->is_open() || !parser_ || !parser_->is_done() || !parser_->get().keep_alive())
                return false;
            if (conn_->buffered() > 0 || conn_->unread_on_socket()) {
                count(owner_.diag_.stray_bytes);  // RFC 9112, section 6.3: never read as another response
                return false;
            }
            // A JSON answer must carry the request's id: one that does not belongs to another request.
            if (answer_ && !x_.is_event_stream && x_.status >= 200 && x_.status < 300 &&
                starts_with_icase(x_.content_type, "application/json")) {
                envelope e;
                std::error_code ec;
                if (!parse_json(x_.body, e, ec)) {
                    x_.parse_error = ec ? ec : make_error_code(transport_errc::malformed_response);
                    return false;
                }
                const bool mine = id_equals(e, id_);
                x_.parsed = std::move(e);
                if (!mine) {
                    count(owner_.diag_.mismatched_ids);
                    return false;
                }
            }
            return true;
        }

        transport_base& owner_;
        connection_pool<Connection>& pool_;
        const transport_options& o_;
        const time_point deadline_;
        const std::size_t body_limit_;
        const std::int64_t id_;
        std::optional<response>* const answer_;
        sse_parser* const events_;
        const call_context* const call_;
        const bool listening_;

        step step_ = step::acquire;
        std::unique_ptr<Connection> conn_;
        std::optional<parser_type> parser_;
        std::optional<typename transport_base::event_reader> reader_;
        exchange_result x_;
        time_point response_end_ = time_point::max();
        time_point written_at_{};
        time_point reset_wait_end_{};
        std::error_code pending_;
        std::optional<duration> keep_alive_;
        std::size_t interim_ = 0;
        bool resent_ = false;
        post_request* preamble_ = nullptr;
        bool preamble_answered_ = false;
        int preamble_status_ = 0;
        bool draining_ = false;
        time_point drain_end_{};
        std::size_t drained_ = 0;
        char chunk_[chunk_size];
    };

    // ---- the conversation: answers, cancellations, the listening stream ----

    /// The answer to a server request, as a POST body (the handler runs here).
    std::string answer_body(const server_request& r) const {
        return reply_body(r.id, answer_with(options_.server_requests, r));
    }

    /// Whether a call that ended with `r` was abandoned after its request was written, so that the
    /// server should hear `notifications/cancelled` (never for `initialize`, as the spec says).
    bool abandoned(const outcome<response>& r) const {
        if (!options_.send_cancelled || r) return false;
        const failure& f = r.error();
        if (f.delivered != delivery::unknown) return false;
        return f.transport_error == std::errc::timed_out || f.transport_error == std::errc::operation_canceled;
    }

    /// The `notifications/cancelled` POST for request `id` of session `s`.
    bhttp::request<bhttp::string_body> cancel_notice(const session& s, std::int64_t id, const failure& f) const {
        const char* reason = f.transport_error == std::errc::operation_canceled ? "the client cancelled the request"
                                                                               : "the client stopped waiting (deadline or timeout)";
        return make_post(s, "notifications/cancelled", cancelled_params(id, reason), std::nullopt);
    }

    /// What the listening stream did so far (`listen_stats()` of either transport).
    struct listen_counters {
        std::atomic<std::uint64_t> opened{0};        ///< GETs answered with an event stream
        std::atomic<std::uint64_t> resumed{0};       ///< of which carried `Last-Event-ID`
        std::atomic<std::uint64_t> not_offered{0};   ///< GETs answered 405
        std::atomic<std::uint64_t> answered{0};      ///< server requests answered (any stream)
        std::atomic<std::uint64_t> cancellations{0};  ///< `notifications/cancelled` started
        std::atomic<std::uint64_t> pipelined{0};     ///< `notifications/initialized` pipelined and answered
        std::atomic<std::uint64_t> refused{0};       ///< of which refused (not 2xx)
    };
    mutable listen_counters conv_;

    // ---- reconnect steps ----

    static constexpr std::string_view initialize_method = "initialize";
    static constexpr std::string_view initialized_method = "notifications/initialized";

    /// `f`, naming the reconnect step that failed (`failure::method`).
    static failure step_failed(failure f, std::string_view method) {
        f.method = std::string(method);
        return f;
    }

    /// A reconnect step that could not start before the deadline: timed out, nothing sent.
    static failure step_too_late(std::string_view method) {
        failure f;
        f.transport_error = std::make_error_code(std::errc::timed_out);
        f.message = "the reconnect's deadline passed before " + std::string(method);
        f.delivered = delivery::not_sent;
        f.method = std::string(method);
        return f;
    }

    static bool past(time_point deadline) noexcept { return deadline != time_point::max() && clock_type::now() >= deadline; }

    /// A connection that could not be opened (`reopen`): as a send whose connect failed.
    failure connect_failure(std::error_code ec) const {
        exchange_result x;
        x.error = ec;
        return to_failure(x, snapshot());
    }

    /// Whether the stream of `s` may be resumed now, and after which wait: only for revisions
    /// with sessions (initialize has none negotiated yet; 2026-07-28 removed resumption), only
    /// with an event id, and only when the wait ends before the deadline.
    std::optional<duration> resume_wait(const session& s, const sse_parser& events, time_point deadline) const {
        if (s.protocol_version.empty() || !revision_has_sessions(s.protocol_version)) return std::nullopt;
        if (events.last_event_id().empty()) return std::nullopt;
        duration wait = options_.resume_delay;
        if (events.retry()) wait = std::chrono::duration_cast<duration>(*events.retry());
        wait = std::min(wait, options_.max_resume_delay);
        if (deadline != time_point::max() && deadline - clock_type::now() <= wait) return std::nullopt;
        return wait;
    }

    static failure to_failure(const exchange_result& x, const session& s) {
        failure f;
        f.had_session_id = !s.id.empty();
        f.transport_error = x.error;
        f.http_status = x.status;
        f.retry_after = x.retry_after;
        f.www_authenticate = x.www_authenticate;
        if (!x.written) {
            f.delivered = delivery::not_sent;
        } else if (x.status >= 400 && !x.error) {
            f.delivered = (x.status == 500 || x.status == 502 || x.status == 504) ? delivery::unknown : delivery::rejected;
        } else if (x.status >= 300 && x.status < 400) {
            f.delivered = delivery::rejected;
        } else {
            f.delivered = delivery::unknown;
        }
        if (x.status >= 400 && !x.body.empty()) {
            envelope e;
            std::error_code ec;
            if (starts_with_icase(x.content_type, "application/json") && parse_json(x.body, e, ec) && e.has_error) {
                f.jsonrpc_code = e.error_code;
                if (e.error_message) f.message = *e.error_message;
            } else {
                f.message = std::string_view(x.body);
            }
        } else if (x.error) {
            f.message = x.error.message();
        }
        if (!x.note.empty() && (x.error || f.message.empty())) f.message = x.note;
        return f;
    }

    // A JsonPolicy need not be thread-safe (builtin_json remembers its last error): one per message.
    static bool parse_json(std::string_view text, envelope& e, std::error_code& ec) {
        JsonPolicy json{};
        return static_cast<bool>(json.parse(text, e, ec));
    }



    static bool starts_with_icase(std::string_view text, std::string_view prefix) noexcept {
        if (text.size() < prefix.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char a = text[i];
            if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
            if (a != prefix[i]) return false;
        }
        return true;
    }

#if defined(MCP_RECOVERY_BEAST_TLS)
    boost::asio::ssl::context* tls_context() { return tls_.get(); }
    /// Shared, for work that may outlive the transport (a cancellation notice of the async transport).
    std::shared_ptr<boost::asio::ssl::context> tls_owner() const { return tls_; }
#else
    std::nullptr_t* tls_context() { return nullptr; }
    std::shared_ptr<std::nullptr_t> tls_owner() const { return {}; }
#endif

    transport_options options_;
    endpoint_url url_;
    std::atomic<std::size_t> opened_{0};

    struct diagnostic_counters {
        std::atomic<std::uint64_t> stray_bytes{0};
        std::atomic<std::uint64_t> mismatched_ids{0};
        std::atomic<std::uint64_t> interim_responses{0};
        std::atomic<std::uint64_t> encoded_bodies{0};
        std::atomic<std::uint64_t> response_timeouts{0};
        std::atomic<std::uint64_t> closed_idle{0};
        std::atomic<std::uint64_t> resent_unsent{0};
    };
    diagnostic_counters diag_;

    static void count(std::atomic<std::uint64_t>& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }

private:
#if defined(MCP_RECOVERY_BEAST_TLS)
    std::shared_ptr<boost::asio::ssl::context> tls_;
#endif
    mutable std::mutex state_mutex_;
    std::string session_id_;
    enum class owed_state : unsigned char { none, owed, carried };
    owed_state owed_ = owed_state::none;  // notifications/initialized of `owed_session_` (under state_mutex_)
    std::string owed_session_;
    std::string protocol_version_;
    std::string token_;
    bool open_ = false;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::int64_t> next_id_{1};
};

}  // namespace detail

}  // namespace mcp_recovery::beast

#endif
