// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TESTING_DETAIL_CONNECTION_HPP
#define MCP_RECOVERY_BEAST_TESTING_DETAIL_CONNECTION_HPP

/// `connection`: one accepted connection of a `flaky_server`: reads requests one at a time,
/// applies faults, frames and writes the answers, and serves the event streams (listening
/// stream, `ask`, `progress`).

// First: Boost 1.74's Asio needs <utility> before it under g++ 12 in C++20.
#include <utility>

#include "mcp_recovery/beast/testing/detail/messages.hpp"
#include "mcp_recovery/beast/testing/detail/protocol.hpp"
#include "mcp_recovery/beast/testing/detail/resumption.hpp"
#include "mcp_recovery/beast/testing/detail/session_core.hpp"
#include "mcp_recovery/beast/testing/detail/wire.hpp"
#include "mcp_recovery/beast/testing/fault.hpp"
#include "mcp_recovery/beast/testing/flaky_server_options.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_recovery::beast::testing::detail {

namespace net = ::boost::asio;
using tcp = net::ip::tcp;
using error_code = ::boost::system::error_code;

/// One accepted connection: reads requests one at a time, answers each, applies faults.
/// Lives on the I/O thread; owned by its pending operation's handler.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(server_core& core, tcp::socket socket)
        : core_(core),
          stream_(std::move(socket)),
          timer_(stream_.get_executor()),
          buffer_(core.options.max_header_size + 64 * 1024) {
        ++core_.open_connections;
    }

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    ~connection() {
        // The socket closes with the stream; only the counts are left to settle.
        if (!closed_) --core_.open_connections;
        release_listening();
    }

    void start() { read_request(); }

    /// Closes the connection now (FIN), interrupting any read, write or delay.
    void abort() noexcept {
        if (closed_) return;
        closed_ = true;
        ask_waiting_ = false;
        release_listening();
        try {
            timer_.cancel();
        } catch (...) {
        }
        stream_.close();
        --core_.open_connections;
    }

    /// Any thread: `abort()` on the I/O thread.
    void close_later() {
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->abort(); });
    }

    /// Whether this is a listening stream still open (I/O thread).
    bool listening_open() const noexcept { return role_ == role::listening && !closed_ && !ending_; }

    /// I/O thread: sends one event (SSE text) on this listening stream; false if it is not open.
    bool push_event(std::string_view sse_text) {
        if (!listening_open()) return false;
        if (!queue_event(sse_text)) return false;
        pump();
        return !closed_;
    }

    /// I/O thread: ends this listening stream cleanly (the last chunk), then closes: it was replaced.
    void end_listening() {
        if (listening_open()) end_stream();
    }

    /// I/O thread: the client answered this `ask` call's server request with `message`: the
    /// call's result carries it, then the stream ends.
    void ask_answered(std::string_view message) {
        if (closed_ || !ask_waiting_) return;
        ask_waiting_ = false;
        cancel_timer();
        core_.end_call(session_, call_id_);
        std::string event;
        append_sse_event(event, core_.next_event_id++, text_result(call_id_, message).body);
        queue_event(event);
        end_stream();
    }

    /// I/O thread: the client cancelled this connection's `ask` or `progress` call: its stream
    /// ends without a response. False when no such call runs here.
    bool cancel_call() {
        if (closed_ || ending_ || (role_ != role::ask && role_ != role::progress)) return false;
        ask_waiting_ = false;
        cancel_timer();
        end_stream();
        return true;
    }

private:
    enum class then : unsigned char { read, read_body, linger, close };
    /// What the connection does once a request turned it into an event stream.
    enum class role : unsigned char { request, listening, ask, progress };

    void cancel_timer() noexcept {
        try {
            timer_.cancel();
        } catch (...) {
        }
    }

    void release_listening() noexcept {
        if (!listening_counted_) return;
        listening_counted_ = false;
        --core_.listening_open;
    }

    static std::chrono::milliseconds linger_time(const flaky_server_options& o) {
        return std::min<std::chrono::milliseconds>(o.idle_timeout, std::chrono::seconds(2));
    }

    std::optional<std::string_view> header(std::string_view name) const {
        const auto& req = parser_->get();
        const auto it = req.find(::boost::beast::string_view(name.data(), name.size()));
        if (it == req.end()) return std::nullopt;
        return to_std(it->value());
    }

    void read_request() {
        fault_.reset();
        message_ = message_info{};
        parser_.emplace();
        constexpr std::size_t max_header = std::numeric_limits<std::uint32_t>::max();
        parser_->header_limit(static_cast<std::uint32_t>(std::min(core_.options.max_header_size, max_header)));
        parser_->body_limit(static_cast<std::uint64_t>(core_.options.max_body_size));  // never boost::none: see 1.74
        stream_.expires_after(core_.options.idle_timeout);
        // Header first, so that a client waiting on `Expect: 100-continue` (curl) gets its go-ahead.
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(const error_code& ec) {
        if (closed_) return;
        if (ec) return on_read(ec);
        if (parser_->is_done()) return on_read(ec);
        const auto expect = parser_->get().find(http::field::expect);
        if (expect != parser_->get().end() && ::boost::beast::iequals(expect->value(), "100-continue")) {
            out_ = "HTTP/1.1 100 Continue\r\n\r\n";
            return write(then::read_body);
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (closed_) return;
        if (ec) {
            if (ec == http::error::body_limit) return send(plain_reply(413, "Payload Too Large", true));
            if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
                return send(plain_reply(431, "Request Header Fields Too Large", true));
            }
            const bool parse_error = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                                     ec != http::error::end_of_stream && ec != http::error::partial_message;
            if (parse_error) return send(plain_reply(400, "Bad Request", true));
            return abort();  // EOF, reset, timeout, cancelled
        }
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        http11_ = req.version() >= 11;
        const std::string_view target = to_std(req.target());
        if (target.substr(0, target.find('?')) != "/mcp") return send(plain_reply(404, "Not Found"));
        if (req.method() == http::verb::post) return on_post();
        if (req.method() == http::verb::delete_) return send(core_.handle_delete(header("Mcp-Session-Id")));
        if (req.method() == http::verb::get) return on_get();
        // After a HEAD the client expects no body: close rather than leave it out of step.
        send(method_not_allowed(req.method() == http::verb::head));
    }

    void on_get() {
        const auto last = header("Last-Event-ID");
        if (!last || parse_listen_event_id(*last)) {
            auto a = core_.open_listening(header("Mcp-Session-Id"), header("MCP-Protocol-Version"), last,
                                          shared_from_this());
            if (a.refusal) return send(std::move(*a.refusal));
            if (a.replaced) a.replaced->end_listening();
            session_ = std::move(a.session_id);
            return start_stream(role::listening, a.events);
        }
        resumption_answer a =
            core_.handle_get(header("Mcp-Session-Id"), header("MCP-Protocol-Version"), header("Last-Event-ID"));
        if (a.refusal) return send(std::move(*a.refusal));
        const bool keep = keep_alive_ && http11_ && !a.cut && !core_.close_after_response;
        out_.clear();
        append_sse_head(out_, http11_, keep || a.cut);  // a cut is not announced
        if (http11_) {
            if (!a.events.empty()) append_chunk(out_, a.events);  // an empty chunk would end the body
            if (!a.cut) out_ += "0\r\n\r\n";
        } else {
            out_ += a.events;
        }
        write(a.cut ? then::close : keep ? then::read : then::linger);
    }

    void on_post() {
        ++core_.requests;
        reply error;
        auto info = core_.classify(parser_->get().body(), error);
        if (!info) return send(std::move(error));
        message_ = std::move(*info);
        core_.note_seen(message_);
        fault_ = core_.take_fault(message_);
        if (!fault_) return execute();
        switch (fault_->kind) {
        case fault_kind::http_status: return send(fault_reply(*fault_));
        case fault_kind::reset_before_execute: return reset();
        case fault_kind::delay:
            timer_.expires_after(fault_->delay_duration);
            timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
                if (self->closed_ || wait_ec) return;
                self->execute();
            });
            return;
        case fault_kind::reset_after_execute:
        case fault_kind::cut_stream_after_event:
        case fault_kind::cut_stream_after_priming:
        case fault_kind::answer_as: return execute();
        }
    }

    void execute() {
        reply r = core_.handle_post(message_, parser_->get().body(), header("Mcp-Session-Id"),
                                    header("MCP-Protocol-Version"));
        if (fault_ && fault_->kind == fault_kind::reset_after_execute) return reset();
        if (r.call != reply::call_kind::none) {
            // Not resumable: a cut fault cuts the call's stream before it starts.
            if (fault_ && (fault_->kind == fault_kind::cut_stream_after_event ||
                           fault_->kind == fault_kind::cut_stream_after_priming)) {
                return cut_stream();
            }
            return start_call(std::move(r));
        }
        if (fault_ && fault_->kind == fault_kind::cut_stream_after_event) return cut_stream();
        if (fault_ && fault_->kind == fault_kind::cut_stream_after_priming) {
            return cut_stream(core_.cut_stream(*fault_, r, header("Mcp-Session-Id")));
        }
        send(std::move(r));
    }

    // `ask` and `progress`: the call's event stream (or, for `progress` without a token, a wait).
    void start_call(reply r) {
        call_id_ = std::move(r.call_id);
        session_ = std::string(header("Mcp-Session-Id").value_or(std::string_view{}));
        if (r.call == reply::call_kind::progress && r.progress_token.empty()) {
            // No token: wait for the whole run, then answer as any request.
            timer_.expires_after(r.progress_interval * static_cast<int>(r.progress_steps));
            timer_.async_wait([self = shared_from_this(), steps = r.progress_steps](const error_code& ec) {
                if (self->closed_ || ec) return;
                self->send(text_result(self->call_id_, "done " + std::to_string(steps)));
            });
            return;
        }
        std::string events;
        append_priming_event(events, std::to_string(core_.next_event_id++), std::nullopt);
        if (r.call == reply::call_kind::ask) {
            const auto request = core_.begin_ask(session_, call_id_, r, shared_from_this());
            if (!request) return send(rpc_error(call_id_, -32000, "Session not found"));
            append_sse_event(events, core_.next_event_id++, *request);
            ask_waiting_ = true;
            start_stream(role::ask, events);
            timer_.expires_after(core_.options.ask_timeout);
            timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (ec || self->closed_ || !self->ask_waiting_) return;
                self->ask_waiting_ = false;
                self->core_.end_call(self->session_, self->call_id_);
                std::string event;
                append_sse_event(event, self->core_.next_event_id++,
                                 rpc_error(self->call_id_, -32000, "no answer from the client").body);
                self->queue_event(event);
                self->end_stream();
            });
            return;
        }
        core_.begin_call(session_, call_id_, shared_from_this());
        progress_token_ = std::move(r.progress_token);
        progress_steps_ = r.progress_steps;
        progress_interval_ = r.progress_interval;
        start_stream(role::progress, events);
        progress_tick();
    }

    void progress_tick() {
        if (progress_done_ >= progress_steps_) {
            core_.end_call(session_, call_id_);
            std::string event;
            append_sse_event(event, core_.next_event_id++,
                             text_result(call_id_, "done " + std::to_string(progress_steps_)).body);
            queue_event(event);
            return end_stream();
        }
        timer_.expires_after(progress_interval_);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->closed_ || self->ending_) return;
            const std::size_t k = ++self->progress_done_;
            std::string params = R"({"progressToken":)";
            params += self->progress_token_;
            params += R"(,"progress":)";
            params += std::to_string(k);
            params += R"(,"total":)";
            params += std::to_string(self->progress_steps_);
            params += R"(,"message":"step )";
            params += std::to_string(k);
            params += R"("})";
            std::string event;
            append_sse_event(event, self->core_.next_event_id++, jsonrpc_notification("notifications/progress", params));
            if (!self->queue_event(event)) return;
            self->pump();
            self->progress_tick();
        });
    }

    // Turns this connection into an event stream: the head and `first_events`, then more events
    // as they come; it ends with `end_stream()` (then closes: the head says `Connection: close`)
    // or when either side closes. Its writes have no deadline; a client that reads too slowly
    // is cut off once `flaky_max_stream_backlog` bytes wait.
    void start_stream(role r, std::string_view first_events) {
        role_ = r;
        if (r == role::listening) {
            listening_counted_ = true;
            ++core_.listening_open;
        }
        stream_.expires_never();
        std::string head;
        append_sse_head(head, http11_, false);
        queue_raw(std::move(head));
        if (!first_events.empty()) queue_event(first_events);
        pump();
        watch();
    }

    bool queue_raw(std::string bytes) {
        if (closed_ || ending_) return false;
        backlog_bytes_ += bytes.size();
        backlog_.push_back(std::move(bytes));
        if (backlog_bytes_ > flaky_max_stream_backlog) {
            abort();
            return false;
        }
        return true;
    }

    bool queue_event(std::string_view sse_text) {
        if (!http11_) return queue_raw(std::string(sse_text));
        std::string chunk;
        append_chunk(chunk, sse_text);
        return queue_raw(std::move(chunk));
    }

    // The last chunk, then a half-close once it is written; the connection closes when the
    // client closes, or after `linger_time`.
    void end_stream() {
        if (closed_ || ending_) return;
        if (http11_) {
            backlog_bytes_ += 5;
            backlog_.push_back("0\r\n\r\n");
        }
        ending_ = true;
        ask_waiting_ = false;
        release_listening();
        pump();
    }

    void pump() {
        if (writing_ || closed_) return;
        if (backlog_.empty()) {
            if (ending_ && !ended_) {
                ended_ = true;
                error_code ec;
                stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                timer_.expires_after(linger_time(core_.options));
                timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
                    if (!wait_ec) self->abort();
                });
            }
            return;
        }
        stream_out_.clear();
        while (!backlog_.empty()) {
            stream_out_ += backlog_.front();
            backlog_.pop_front();
        }
        backlog_bytes_ = 0;
        writing_ = true;
        net::async_write(stream_, net::buffer(stream_out_), [self = shared_from_this()](const error_code& ec, std::size_t) {
            self->writing_ = false;
            if (self->closed_) return;
            if (ec) return self->abort();
            self->pump();
        });
    }

    // Reads (and discards, bounded) while the stream is open, to see the client close it.
    void watch() {
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
            if (self->closed_) return;
            self->drained_ += n;
            if (ec || self->drained_ > self->core_.options.max_body_size) return self->abort();
            self->watch();
        });
    }

    static reply fault_reply(const fault& f) {
        reply r;
        r.status = f.status >= 200 && f.status <= 599 ? f.status : 500;
        if (!f.body.empty()) {
            r.content_type = f.content_type;
            r.body = f.body;
        }
        r.retry_after = f.retry_after_seconds;
        r.www_authenticate = f.www_authenticate;
        return r;
    }

    void send(reply r) {
        bool keep = keep_alive_ && !r.close && !core_.close_after_response;
        const response_mode mode = fault_ && fault_->mode ? *fault_->mode : core_.mode();
        out_.clear();
        if (r.jsonrpc_answer && mode == response_mode::sse) {
            if (!http11_) keep = false;
            std::string event;
            append_sse_event(event, core_.next_event_id++, r.body);
            append_sse_head(out_, http11_, keep, r.session_id);
            if (http11_) {
                append_chunk(out_, event);
                out_ += "0\r\n\r\n";
            } else {
                out_ += event;
            }
        } else {
            append_status_line(out_, r.status);
            if (!r.session_id.empty()) append_field(out_, "Mcp-Session-Id", r.session_id);
            if (r.retry_after) append_field(out_, "Retry-After", std::to_string(*r.retry_after));
            if (r.www_authenticate) {
                append_field(out_, "WWW-Authenticate", R"(Bearer realm="flaky_server", error="invalid_token")");
            }
            if (!r.allow.empty()) append_field(out_, "Allow", r.allow);
            if (!r.body.empty()) append_field(out_, "Content-Type", r.content_type);
            append_field(out_, "Content-Length", std::to_string(r.body.size()));
            if (!keep) append_field(out_, "Connection", "close");
            else if (!http11_) append_field(out_, "Connection", "keep-alive");
            out_ += "\r\n";
            out_ += r.body;
        }
        write(keep ? then::read : then::linger);
    }

    void cut_stream() {
        std::string event;
        append_sse_event(event, core_.next_event_id++, flaky_cut_event_json);
        cut_stream(event);
    }

    // Starts an event stream, sends `events` (not empty) and closes before its end.
    void cut_stream(std::string_view events) {
        out_.clear();
        append_sse_head(out_, http11_, true);
        if (http11_) append_chunk(out_, events);
        else out_ += events;
        write(then::close);
    }

    void write(then next) {
        stream_.expires_after(core_.options.idle_timeout);
        net::async_write(stream_, net::buffer(out_),
                         [self = shared_from_this(), next](const error_code& ec, std::size_t) {
                             if (self->closed_) return;
                             if (ec) return self->abort();
                             switch (next) {
                             case then::read: return self->read_request();
                             case then::read_body: return self->read_body();
                             case then::linger: return self->linger();
                             case then::close: return self->abort();
                             }
                         });
    }

    // RST instead of FIN: SO_LINGER with a zero timeout, then close.
    void reset() {
        error_code ec;
        stream_.socket().set_option(net::socket_base::linger(true, 0), ec);
        abort();
    }

    // Half-close, then read and discard what the client still sends (bounded in time and bytes),
    // so that closing does not turn into an RST that destroys the answer before it is read.
    void linger() {
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(linger_time(core_.options));
        drain();
    }

    void drain() {
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
            if (self->closed_) return;
            self->drained_ += n;
            if (ec || self->drained_ > self->core_.options.max_body_size) return self->abort();
            self->drain();
        });
    }

    server_core& core_;
    ::boost::beast::tcp_stream stream_;
    net::steady_timer timer_;
    ::boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    message_info message_;
    std::optional<fault> fault_;
    std::string out_;
    std::array<char, 4096> drain_{};
    std::size_t drained_ = 0;
    bool keep_alive_ = false;
    bool http11_ = true;
    bool closed_ = false;
    // Event streams (listening, `ask`, `progress`).
    role role_ = role::request;
    std::string session_;  // the session of the stream
    std::string call_id_;  // ask, progress: the tools/call's id, raw
    std::deque<std::string> backlog_;  // bytes to write, framed
    std::size_t backlog_bytes_ = 0;
    std::string stream_out_;  // being written
    bool writing_ = false;
    bool ending_ = false;  // the last chunk is queued: nothing more
    bool ended_ = false;   // written; half-closed
    bool listening_counted_ = false;  // counted in core_.listening_open
    bool ask_waiting_ = false;
    std::string progress_token_;  // raw JSON
    std::size_t progress_steps_ = 0;
    std::size_t progress_done_ = 0;
    std::chrono::milliseconds progress_interval_{0};
};

}  // namespace mcp_recovery::beast::testing::detail

#endif
