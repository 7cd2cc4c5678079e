// mcp-recovery-check: does an MCP server's session handling let clients recover?
//
// Connects, initializes, lists tools, then grades the server features recovery depends on, each
// against the spec's words (Streamable HTTP, revisions 2025-06-18 and 2025-11-25): the answer to
// `ping`, the GET stream (offered, or 405), stream resumption (event ids, GET with
// `Last-Event-ID`) and DELETE of a session. Then it provokes session loss twice (the DELETE of its
// own session; a session id the server never issued), calls again through recovering_client and
// reports what the server answered, whether that is what the spec asks, how mcp-recovery
// classified it, and how recovery went. Without a URL it starts the built-in flaky_server and runs
// the same against each server family's way of saying "lost session", plus a burst of concurrent
// callers on an expired session.
//
// Last, it reports what the transport saw the server do wrong at the HTTP level (stray bytes after
// a response, answers with another id, Content-Encoding nobody asked for, responses that never
// complete, ...: `http_diagnostics`). A step that fails because of such a fault is reported as an
// HTTP fault of the server, by name, not as a recovery failure.
//
// `--header NAME:VALUE` adds a header to every request (values never shown); `--json` prints one
// JSON object instead of the report, valid whatever the server sends.
#include <utility>

#include "mcp_recovery/beast/detail/connection.hpp"
#include "mcp_recovery/beast/header_rules.hpp"
#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/beast/sse.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace bhttp = boost::beast::http;
using ms = std::chrono::duration<double, std::milli>;

// ---- output: the human report, unless --json asked for one JSON object instead ----

bool json_output = false;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void say(const char* format, ...) {
    if (json_output) return;
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
}

/// Length of the valid UTF-8 sequence at `p` (at most `n` bytes available), or 0 when it is not
/// one (overlong forms, surrogates and code points above U+10FFFF are not).
std::size_t utf8_sequence(const unsigned char* p, std::size_t n) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return 0;
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (std::size_t i = 2; i < len; ++i)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

/// `text` as a JSON string literal with its quotes: valid JSON whatever the bytes. Quotes,
/// backslashes and control characters (DEL too) are escaped; a byte that does not start a valid
/// UTF-8 sequence becomes U+FFFD.
std::string json_string(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else if (c < 0x80) out += static_cast<char>(c);
        else if (const std::size_t len = utf8_sequence(p + i, n - i)) {
            out.append(text.data() + i, len);
            i += len;
            continue;
        } else out += "\\ufffd";
        ++i;
    }
    out += '"';
    return out;
}

/// `text` for the terminal: control characters and bytes that are not UTF-8 as \xNN, at most
/// `max` bytes (then "...").
std::string printable(std::string_view text, std::size_t max = 300) {
    std::string out;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = std::min(text.size(), max);
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        const std::size_t len = c >= 0x20 && c != 0x7F ? utf8_sequence(p + i, n - i) : 0;
        if (len == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
            out += buf;
            ++i;
        } else {
            out.append(text.data() + i, len);
            i += len;
        }
    }
    if (text.size() > max) out += "...";
    return out;
}

/// A JSON object built member by member (values already JSON).
class json_object {
public:
    json_object& raw(std::string_view key, std::string_view json) {
        text_ += text_.size() > 1 ? "," : "";
        text_ += json_string(key);
        text_ += ':';
        text_ += json;
        return *this;
    }
    json_object& str(std::string_view key, std::string_view value) { return raw(key, json_string(value)); }
    json_object& opt_str(std::string_view key, const std::optional<std::string>& value) {
        return raw(key, value ? json_string(*value) : "null");
    }
    json_object& num(std::string_view key, double value) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", value);
        return raw(key, buf);
    }
    json_object& integer(std::string_view key, long long value) { return raw(key, std::to_string(value)); }
    json_object& boolean(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
    std::string done() const { return text_ + "}"; }

private:
    std::string text_ = "{";
};

std::string json_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + "]";
}

/// Records what recovery saw: the first failure and its kind, reconnects, retries.
class report_observer : public counting_observer {
public:
    void on_failure(const failure& f, failure_kind kind, int attempt) noexcept {
        counting_observer::on_failure(f, kind, attempt);
        std::lock_guard<std::mutex> lock(mutex_);
        if (!first_) {
            first_ = f;
            first_kind_ = kind;
        }
    }
    std::optional<failure> first_failure() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return first_;
    }
    failure_kind first_kind() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return first_kind_;
    }
    /// Forget the first failure (the counters keep counting: take differences).
    void start_probe() {
        std::lock_guard<std::mutex> lock(mutex_);
        first_.reset();
    }

private:
    mutable std::mutex mutex_;
    std::optional<failure> first_;
    failure_kind first_kind_ = failure_kind::permanent;
};

using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once,
                                      exponential_backoff, single_flight_reconnector<>, report_observer>;

struct options {
    std::string url;
    std::chrono::seconds timeout{10};
    int burst = 32;
    bool quiet = false;
    /// --header NAME:VALUE, validated; on every request of the tool. Values are never shown.
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Exit status: recovery works and the server made no HTTP fault (0); recovery failed (1); a usage
/// error (2); recovery works, or failed only because of, HTTP faults of the server (3).
enum class verdict { ok = 0, recovery_failed = 1, http_fault = 3 };

verdict worst(verdict a, verdict b) {
    if (a == verdict::recovery_failed || b == verdict::recovery_failed) return verdict::recovery_failed;
    if (a == verdict::http_fault || b == verdict::http_fault) return verdict::http_fault;
    return verdict::ok;
}

const char* to_json_name(verdict v) {
    switch (v) {
    case verdict::ok: return "ok";
    case verdict::recovery_failed: return "recovery_failed";
    case verdict::http_fault: return "http_fault";
    }
    return "ok";
}

// ---- HTTP faults of the server (mb::http_diagnostics) ----

/// One counter of `http_diagnostics`: its key in the JSON report, its name in the report, and
/// whether it is a fault of the server (else a note: something the client handles and that HTTP
/// allows).
struct diagnostic_counter {
    std::uint64_t mb::http_diagnostics::*count;
    const char* key;
    const char* name;
    bool fault;
};

const diagnostic_counter diagnostic_counters[] = {
    {&mb::http_diagnostics::stray_bytes, "stray_bytes", "stray bytes after a complete response (RFC 9112 section 6.3)",
     true},
    {&mb::http_diagnostics::mismatched_ids, "mismatched_ids", "JSON answers whose id was not the request's", true},
    {&mb::http_diagnostics::encoded_bodies, "encoded_bodies",
     "Content-Encoding not asked for (requests say Accept-Encoding: identity)", true},
    {&mb::http_diagnostics::response_timeouts, "response_timeouts", "responses not complete within response_timeout",
     true},
    {&mb::http_diagnostics::interim_responses, "interim_responses",
     "1xx interim responses skipped (RFC 9110 section 15.2; fine)", false},
    {&mb::http_diagnostics::closed_idle, "closed_idle", "idle connections the server had closed (not reused)", false},
    {&mb::http_diagnostics::resent_unsent, "resent_unsent", "requests sent again on a fresh connection, provably unsent",
     false},
};

bool has_faults(const mb::http_diagnostics& d) {
    for (const auto& c : diagnostic_counters)
        if (c.fault && d.*c.count > 0) return true;
    return false;
}

/// The name of the HTTP fault of the server that made `f` fail, when it is one: given what the
/// transport counted before and after the step that failed.
std::optional<std::string> http_fault_of(const failure& f, const mb::http_diagnostics& before,
                                         const mb::http_diagnostics& after) {
    const auto grew = [&](std::uint64_t mb::http_diagnostics::*count) { return after.*count > before.*count; };
    if (f.transport_error == transport_errc::unsupported_content_encoding)
        return std::string("Content-Encoding not asked for");
    if (f.transport_error == transport_errc::malformed_response) {
        if (grew(&mb::http_diagnostics::mismatched_ids)) return std::string("an answer whose id was not the request's");
        if (grew(&mb::http_diagnostics::stray_bytes))
            return std::string("stray bytes after a complete response (RFC 9112 section 6.3)");
    }
    if (f.transport_error == std::errc::timed_out && f.message.str().find("response_timeout") != std::string::npos)
        return std::string("no complete response within response_timeout");
    return std::nullopt;
}

/// Prints what the transport counted, by name; faults first.
void print_diagnostics(const mb::http_diagnostics& d) {
    bool any = false;
    for (const bool faults : {true, false}) {
        for (const auto& c : diagnostic_counters) {
            if (c.fault != faults || d.*c.count == 0) continue;
            if (!any) say("  HTTP diagnostics :\n");
            any = true;
            say("    %s%s: %llu\n", c.fault ? "HTTP fault of the server: " : "note: ", c.name,
                static_cast<unsigned long long>(d.*c.count));
        }
    }
    if (!any) say("  HTTP diagnostics : none\n");
}

std::string diagnostics_json(const mb::http_diagnostics& d) {
    json_object o;
    for (const auto& c : diagnostic_counters)
        o.raw(c.key, json_object()
                         .integer("count", static_cast<long long>(d.*c.count))
                         .boolean("fault", c.fault)
                         .str("what", c.name)
                         .done());
    return o.done();
}

struct probe_result {
    std::string key;   ///< Its name in the JSON report.
    std::string name;
    std::optional<failure> answer;
    failure_kind kind = failure_kind::permanent;
    bool spec_compliant = false;
    bool recovered = false;
    bool skipped = false;  ///< Session loss could not be provoked in a way the spec allows (DELETE 405).
    std::optional<std::string> http_fault;  ///< When the probe failed because of an HTTP fault of the server.
    std::string outcome;
    std::uint64_t reconnects = 0;
    std::uint64_t retries = 0;
    double latency_ms = 0;
};

std::string describe_answer(const failure& f) {
    std::string s;
    if (f.http_status) s += "HTTP " + std::to_string(f.http_status);
    if (f.jsonrpc_code) s += (s.empty() ? "" : ", ") + std::string("JSON-RPC ") + std::to_string(*f.jsonrpc_code);
    if (!f.message.empty()) s += (s.empty() ? "" : ", ") + std::string("\"") + printable(f.message.str()) + "\"";
    if (f.transport_error) s += (s.empty() ? "" : ", ") + f.transport_error.message();
    return s.empty() ? "(nothing)" : s;
}

std::string answer_json(const failure& f) {
    json_object o;
    o.integer("http_status", f.http_status);
    o.raw("jsonrpc_code", f.jsonrpc_code ? std::to_string(*f.jsonrpc_code) : "null");
    o.str("message", f.message.str());
    o.opt_str("transport_error",
              f.transport_error ? std::optional<std::string>(f.transport_error.message()) : std::nullopt);
    o.boolean("had_session_id", f.had_session_id);
    o.str("text", describe_answer(f));
    return o.done();
}

std::string random_session_id() {
    std::random_device rd;
    std::mt19937_64 g(rd());
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(g()),
                  static_cast<unsigned long long>(g()));
    return std::string("mcp-recovery-check-") + buf;
}

mb::transport_options transport_options_for(const options& o) {
    mb::transport_options t;
    t.url = o.url;
    t.client_name = "mcp-recovery-check";
    t.connect_timeout = o.timeout;
    t.read_timeout = o.timeout;
    t.write_timeout = o.timeout;
    t.response_timeout = o.timeout * 2;
    t.headers = o.headers;
    return t;
}

/// The failure that ended a recovering call, for the report.
const failure* failure_of(const call_error& e) {
    return e.last_failure ? &*e.last_failure : nullptr;
}

// ---- raw HTTP probes of server features, each bounded by real timeouts ----

/// What the server answered one raw request: the head, the first bytes of the body and, for an
/// event stream, the first event id seen. Never more than `max_kept` bytes are kept.
struct http_answer {
    std::optional<std::string> error;  ///< No complete head: why (connect, write, read).
    int status = 0;
    std::string content_type;
    std::string allow;
    std::string body;  ///< The first bytes of the body (at most `max_kept`).
    bool body_truncated = false;
    bool event_stream = false;
    bool stream_open = false;  ///< An event stream still open when reading stopped (not an error).
    std::optional<std::string> event_id;  ///< The first `id:` the stream carried, if any.
    std::vector<std::string> event_data;  ///< Data of the events read (for the JSON-RPC answer).
    double ms = 0;

    static constexpr std::size_t max_kept = 16 * 1024;

    std::string summary() const {
        if (error) return "no answer: " + *error;
        std::string s = "HTTP " + std::to_string(status);
        if (!content_type.empty()) s += ", " + printable(content_type, 100);
        if (event_stream) {
            s += event_id ? ", first event id '" + printable(*event_id, 100) + "'" : ", no event id";
            if (stream_open) s += ", stream left open";
        } else if (!body.empty()) s += ", body \"" + printable(body, 200) + "\"";
        return s;
    }

    std::string json() const {
        json_object o;
        o.opt_str("error", error);
        o.integer("status", status);
        o.str("content_type", content_type);
        if (!allow.empty()) o.str("allow", allow);
        o.str("body", body.substr(0, 1024));
        o.boolean("body_truncated", body_truncated || body.size() > 1024);
        o.boolean("event_stream", event_stream);
        if (event_stream) {
            o.opt_str("event_id", event_id);
            o.boolean("stream_open", stream_open);
        }
        o.num("ms", ms);
        return o.done();
    }
};

bool starts_with_icase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const char a = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
        if (a != prefix[i]) return false;
    }
    return true;
}

/// Where and how the raw probes talk to the server under test.
class prober {
public:
    prober(const options& o, mb::endpoint_url url) : options_(o), url_(std::move(url)) {
#if defined(MCP_RECOVERY_BEAST_TLS)
        if (url_.tls) {
            tls_ = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
            tls_->set_default_verify_paths();
            tls_->set_verify_mode(boost::asio::ssl::verify_peer);
        }
#endif
    }

    std::string session_id;
    std::string protocol_version;

    /// How long to wait for the first event of a stream: 2 s, or --timeout when shorter.
    duration event_wait() const {
        return std::min<duration>(std::chrono::seconds(2), std::chrono::duration_cast<duration>(options_.timeout));
    }

    /// Sends one request and reads its answer, every step bounded by --timeout; an event stream
    /// is read until `done_reading(answer)` says so, for at most `stream_wait`, then closed.
    template <class DoneReading>
    http_answer exchange(bhttp::verb verb, const std::vector<std::pair<std::string, std::string>>& extra,
                         std::string body, duration stream_wait, DoneReading done_reading) {
        http_answer a;
        const auto start = clock_type::now();
        const duration timeout = std::chrono::duration_cast<duration>(options_.timeout);
        bhttp::request<bhttp::string_body> req{verb, url_.target, 11};
        req.set(bhttp::field::host, url_.host_header());
        req.set(bhttp::field::user_agent, "mcp-recovery-check/" + version());
        if (!session_id.empty()) req.set("Mcp-Session-Id", session_id);
        if (!protocol_version.empty()) req.set("MCP-Protocol-Version", protocol_version);
        for (const auto& [name, value] : extra) req.set(name, value);
        for (const auto& [name, value] : options_.headers) req.set(name, value);
        req.set(bhttp::field::accept_encoding, "identity");
        req.keep_alive(false);
        if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();

        mb::detail::connection c;
        const auto fail = [&](const char* step, std::error_code ec) {
            a.error = std::string(step) + ": " + ec.message();
            a.ms = ms(clock_type::now() - start).count();
            c.close();
            return a;
        };
        time_point deadline = clock_type::now() + timeout;
        if (std::error_code ec = c.open(url_, tls_context(), timeout, deadline)) return fail("connect", ec);
        bool written = false;
        deadline = clock_type::now() + timeout;
        if (std::error_code ec = c.write(req, timeout, deadline, written)) return fail("write", ec);

        // The head, past interim (1xx) responses.
        using parser_type = bhttp::response_parser<bhttp::buffer_body>;
        std::optional<parser_type> parser;
        deadline = clock_type::now() + timeout;
        for (int interim = 0;; ++interim) {
            parser.emplace();
            parser->header_limit(16 * 1024);
            parser->body_limit(std::numeric_limits<std::uint64_t>::max());
            if (std::error_code ec = c.read_header(*parser, timeout, deadline)) return fail("reading the head", ec);
            const unsigned status = parser->get().result_int();
            if (status < 100 || status >= 200 || status == 101 || interim >= 8) break;
        }
        const auto& head = parser->get();
        a.status = static_cast<int>(head.result_int());
        a.content_type = std::string(head[bhttp::field::content_type]);
        a.allow = std::string(head[bhttp::field::allow]);
        a.event_stream = a.status == 200 && starts_with_icase(a.content_type, "text/event-stream");

        // The body: an event stream for at most `stream_wait`, anything else for at most --timeout.
        mb::sse_parser events;
        deadline = clock_type::now() + (a.event_stream ? std::min(stream_wait, timeout) : timeout);
        std::size_t total = 0;
        char buf[4096];
        bool stop = false;
        while (!parser->is_done() && !stop && total < 256 * 1024) {
            std::size_t got = 0;
            const std::error_code ec = c.read_some(*parser, buf, sizeof buf, got, timeout, deadline);
            total += got;
            const std::size_t keep = std::min(got, http_answer::max_kept - std::min(a.body.size(), http_answer::max_kept));
            a.body.append(buf, keep);
            if (keep < got) a.body_truncated = true;
            if (a.event_stream && got > 0) {
                std::error_code sse_ec;
                events.feed(std::string_view(buf, got),
                            [&](mb::sse_event& e) {
                                if (!a.event_id && !e.id.empty()) a.event_id = e.id;
                                if (a.event_data.size() < 16) a.event_data.push_back(e.data);
                            },
                            sse_ec);
                if (!a.event_id && !events.last_event_id().empty()) a.event_id = events.last_event_id();
                if (sse_ec) break;
                stop = done_reading(a);
            }
            if (ec) {  // what came is kept; a stream that timed out is still open
                if (ec == std::errc::timed_out && a.event_stream) a.stream_open = true;
                break;
            }
        }
        if (a.event_stream && !parser->is_done() && !a.stream_open) a.stream_open = stop;
        if (!a.event_stream && !parser->is_done()) a.body_truncated = true;  // broke off, or too long
        a.ms = ms(clock_type::now() - start).count();
        c.close();
        return a;
    }

    static std::string version() {
        return std::to_string(MCP_RECOVERY_VERSION_MAJOR) + "." + std::to_string(MCP_RECOVERY_VERSION_MINOR) + "." +
               std::to_string(MCP_RECOVERY_VERSION_PATCH);
    }

private:
#if defined(MCP_RECOVERY_BEAST_TLS)
    boost::asio::ssl::context* tls_context() { return tls_.get(); }
    std::unique_ptr<boost::asio::ssl::context> tls_;
#else
    std::nullptr_t* tls_context() { return nullptr; }
#endif
    const options& options_;
    mb::endpoint_url url_;
};

// ---- graded server features ----

enum class grade { pass, fail, note, skipped };

const char* to_string(grade g) {
    switch (g) {
    case grade::pass: return "pass";
    case grade::fail: return "fail";
    case grade::note: return "note";
    case grade::skipped: return "skipped";
    }
    return "fail";
}

/// One graded feature: what the spec expects (its words), what the server answered, the verdict.
struct check_result {
    std::string name;
    grade verdict = grade::skipped;
    const char* spec_section = "";
    const char* expected = "";
    std::string observed;       ///< One line, for the human report.
    std::string observed_json;  ///< The answer(s) as JSON (status, content type, body excerpt, ...).
    std::string details;
};

constexpr const char* spec_ping = "The receiver MUST respond promptly with an empty response.";
constexpr const char* spec_get_stream =
    "The server MUST either return Content-Type: text/event-stream in response to this HTTP GET, or else return "
    "HTTP 405 Method Not Allowed, indicating that the server does not offer an SSE stream at this endpoint.";
constexpr const char* spec_resumption =
    "Servers MAY attach an id field to their SSE events; if present, the ID MUST be globally unique across all "
    "streams within that session. To resume, the client SHOULD issue an HTTP GET with the Last-Event-ID header; "
    "the server MAY use this header to replay messages.";
constexpr const char* spec_delete =
    "Clients that no longer need a particular session SHOULD send an HTTP DELETE to the MCP endpoint with the "
    "Mcp-Session-Id header. The server MAY respond to this request with HTTP 405 Method Not Allowed, indicating "
    "that the server does not allow clients to terminate sessions.";
constexpr const char* spec_404 =
    "The server MAY terminate the session at any time, after which it MUST respond to requests containing that "
    "session ID with HTTP 404 Not Found.";

constexpr const char* section_ping = "basic/utilities/ping";
constexpr const char* section_get = "basic/transports: Listening for Messages from the Server";
constexpr const char* section_resume = "basic/transports: Resumability and Redelivery";
constexpr const char* section_session = "basic/transports: Session Management";

std::string trimmed(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
        v.remove_suffix(1);
    return std::string(v);
}

constexpr std::int64_t ping_id = 900001;

/// `ping` in the session, answered as JSON or on an event stream. Also returns the stream's first
/// event id, when the answer was an event stream that carried one.
check_result check_ping(prober& p, http_answer& answer) {
    check_result r;
    r.name = "ping";
    r.spec_section = section_ping;
    r.expected = spec_ping;
    answer = p.exchange(bhttp::verb::post, {{"Accept", "application/json, text/event-stream"}},
                        R"({"jsonrpc":"2.0","id":)" + std::to_string(ping_id) + R"(,"method":"ping"})",
                        std::chrono::duration_cast<duration>(std::chrono::hours(1)), [](const http_answer& a) {
                            for (const auto& d : a.event_data)
                                if (d.find(std::to_string(ping_id)) != std::string::npos) return true;
                            return false;
                        });
    r.observed = answer.summary();
    r.observed_json = answer.json();
    if (answer.error) {
        r.verdict = grade::fail;
        r.details = "no answer to ping within --timeout";
        return r;
    }
    if (answer.status != 200) {
        r.verdict = grade::fail;
        r.details = "ping answered HTTP " + std::to_string(answer.status) + ", not a JSON-RPC response";
        return r;
    }
    // The JSON-RPC answer: the body, or the event that carries the response.
    std::optional<std::string> message;
    mb::builtin_json json{};
    mb::envelope e;
    std::error_code ec;
    if (answer.event_stream) {
        for (const auto& d : answer.event_data)
            if (json.parse(d, e, ec) && mb::id_equals(e, ping_id) && !e.method) {
                message = d;
                break;
            }
        if (!message) {
            r.verdict = grade::fail;
            r.details = answer.stream_open ? "the event stream brought no response to ping within --timeout"
                                           : "the event stream ended without a response to ping";
            return r;
        }
    } else {
        if (answer.body_truncated) {
            r.verdict = grade::fail;
            r.details = "the answer to ping is incomplete or too long";
            return r;
        }
        message = answer.body;
        if (!json.parse(*message, e, ec)) {
            r.verdict = grade::fail;
            r.details = "the answer to ping is not a JSON-RPC message (" + ec.message() + ")";
            return r;
        }
        if (!mb::id_equals(e, ping_id)) {
            r.verdict = grade::fail;
            r.details = "the answer to ping carries another id than the request's";
            return r;
        }
    }
    if (e.has_error) {
        r.verdict = grade::fail;
        r.details = "ping answered a JSON-RPC error" + (e.error_code ? " " + std::to_string(*e.error_code) : "") +
                    (e.error_message ? ": " + *e.error_message : "");
        return r;
    }
    const auto result = mb::find_member(*message, "result");
    const std::string body = result ? trimmed(*result) : std::string();
    if (body.empty() || body.front() != '{') {
        r.verdict = grade::fail;
        r.details = result ? "the result of ping is not an object" : "the answer to ping has no result";
        return r;
    }
    r.verdict = grade::pass;
    bool empty = body.size() >= 2 && trimmed(std::string_view(body).substr(1, body.size() - 2)).empty();
    r.details = empty ? "answered {}" : "answered an object that is not empty (the spec says an empty response; "
                                        "clients accept it)";
    char buf[48];
    std::snprintf(buf, sizeof buf, " in %.1f ms", answer.ms);
    r.details += buf;
    return r;
}

check_result check_get_stream(prober& p, http_answer& answer) {
    check_result r;
    r.name = "get_stream";
    r.spec_section = section_get;
    r.expected = spec_get_stream;
    answer = p.exchange(bhttp::verb::get, {{"Accept", "text/event-stream"}}, {}, p.event_wait(),
                        [](const http_answer& a) { return a.event_id.has_value() || !a.event_data.empty(); });
    r.observed = answer.summary();
    r.observed_json = answer.json();
    if (answer.error) {
        r.verdict = grade::fail;
        r.details = "no answer to the GET within --timeout";
    } else if (answer.event_stream) {
        r.verdict = grade::pass;
        r.details = "offered: the server can send requests and notifications outside any request";
    } else if (answer.status == 405) {
        r.verdict = grade::pass;
        r.details = "not offered (405, allowed): notifications and requests of the server outside a request "
                    "(list_changed, resource updates) cannot reach clients";
    } else {
        r.verdict = grade::fail;
        r.details = "neither text/event-stream nor 405";
    }
    return r;
}

check_result check_resumption(prober& p, const http_answer& get_answer, const http_answer& post_answer) {
    check_result r;
    r.name = "resumption";
    r.spec_section = section_resume;
    r.expected = spec_resumption;
    std::optional<std::string> id = get_answer.event_id;
    const char* where = "the GET stream";
    if (!id) {
        id = post_answer.event_id;
        where = "the event stream answering a POST";
    }
    if (!id) {
        r.verdict = grade::note;
        r.observed = std::string("no event ids: GET stream ") +
                     (get_answer.event_stream ? (get_answer.event_data.empty() ? "sent no event in time"
                                                                               : "events without id")
                                              : "not offered") +
                     ", POST answered " +
                     (post_answer.event_stream ? "by an event stream without ids" : "with application/json");
        r.observed_json = json_object().raw("get", get_answer.json()).raw("post", post_answer.json()).done();
        r.details = "not resumable: no event carried an id, so a client cannot resume a broken stream with "
                    "Last-Event-ID (a response lost with its stream is lost)";
        return r;
    }
    const http_answer resumed = p.exchange(bhttp::verb::get, {{"Accept", "text/event-stream"}, {"Last-Event-ID", *id}},
                                           {}, p.event_wait(), [](const http_answer&) { return true; });
    r.observed = "event id '" + printable(*id, 100) + "' on " + where + "; GET with Last-Event-ID: " + resumed.summary();
    r.observed_json = json_object().str("event_id", *id).str("seen_on", where).raw("resume", resumed.json()).done();
    if (resumed.error) {
        r.verdict = grade::fail;
        r.details = "no answer to the GET with Last-Event-ID within --timeout";
    } else if (resumed.event_stream) {
        r.verdict = grade::pass;
        r.details = "resumable: the GET with Last-Event-ID was answered by an event stream";
    } else if (resumed.status >= 400 && resumed.status < 500) {
        r.verdict = grade::note;
        r.details = "event ids, but no resumption (HTTP " + std::to_string(resumed.status) +
                    "): a client cannot get back what a broken stream lost";
    } else {
        r.verdict = grade::fail;
        r.details = "the GET with Last-Event-ID got neither an event stream nor a 4xx";
    }
    return r;
}

check_result skipped_check(const char* name, const char* section, const char* expected, std::string why) {
    check_result r;
    r.name = name;
    r.spec_section = section;
    r.expected = expected;
    r.verdict = grade::skipped;
    r.details = std::move(why);
    r.observed_json = "null";
    return r;
}

/// Grades "404 for a session id that is no more" from a session-loss probe's answer.
check_result check_404(const char* name, const probe_result& pr) {
    check_result r;
    r.name = name;
    r.spec_section = section_session;
    r.expected = spec_404;
    if (pr.skipped) return skipped_check(name, section_session, spec_404, pr.outcome);
    r.observed = pr.answer ? describe_answer(*pr.answer) : "the request was served";
    r.observed_json = pr.answer ? answer_json(*pr.answer) : "null";
    r.verdict = pr.spec_compliant ? grade::pass : grade::fail;
    r.details = pr.spec_compliant ? "HTTP 404"
                : pr.answer       ? "not HTTP 404: clients that follow only the spec will not recover"
                                  : "the server kept serving the session";
    return r;
}

void print_check(const check_result& c) {
    say("  %-16s : %s - %s\n", c.name.c_str(), to_string(c.verdict), printable(c.details, 400).c_str());
    if (!c.observed.empty()) say("      observed : %s\n", c.observed.c_str());
    say("      spec     : \"%s\" (%s)\n", c.expected, c.spec_section);
}

std::string check_json(const check_result& c) {
    return json_object()
        .str("name", c.name)
        .str("verdict", to_string(c.verdict))
        .str("expected", c.expected)
        .str("spec", c.spec_section)
        .raw("observed", c.observed_json.empty() ? "null" : c.observed_json)
        .str("observed_text", c.observed)
        .str("details", c.details)
        .done();
}

/// Loses the session in the way `provoke` does, then calls tools/list through recovery.
/// `provoke` returns true (lost), false (could not), or nothing (skipped: the server does not let
/// the session be lost this way, as the spec allows; `r.outcome` set by it).
template <class Provoke>
probe_result probe(client_type& client, std::string key, std::string name, const options& o, Provoke provoke) {
    probe_result r;
    r.key = std::move(key);
    r.name = std::move(name);
    const auto reconnects_before = client.observer().reconnects();
    const auto retries_before = client.observer().retries();
    client.observer().start_probe();
    const mb::http_diagnostics diagnostics_before = client.transport().diagnostics();
    const std::optional<bool> provoked = provoke(client.transport(), r);
    if (!provoked) {
        r.skipped = true;
        return r;
    }
    if (!*provoked) {
        r.outcome = "could not provoke session loss";
        return r;
    }
    call_options opts;
    opts.timeout = o.timeout * 3;
    const auto start = std::chrono::steady_clock::now();
    auto result = client.try_call(mb::request{"tools/list", "{}"}, opts);
    r.latency_ms = ms(std::chrono::steady_clock::now() - start).count();
    r.answer = client.observer().first_failure();
    r.kind = client.observer().first_kind();
    r.reconnects = client.observer().reconnects() - reconnects_before;
    r.retries = client.observer().retries() - retries_before;
    r.spec_compliant = r.answer && r.answer->http_status == 404 && r.answer->had_session_id;
    if (result) {
        r.recovered = !result->is_error();
        r.outcome = r.recovered ? (r.answer ? "recovered" : "no failure: the server kept serving the old session")
                                : "recovered the session, but tools/list answered a JSON-RPC error";
        if (!r.answer) r.recovered = false;
    } else {
        const failure* f = failure_of(result.error());
        if (f) r.http_fault = http_fault_of(*f, diagnostics_before, client.transport().diagnostics());
        if (r.http_fault) r.outcome = "HTTP fault of the server: " + *r.http_fault + " (not a recovery failure)";
        else r.outcome = "gave up: " + result.error().code.message() + (f ? " (" + describe_answer(*f) + ")" : "");
    }
    return r;
}

void print_probe(const probe_result& r) {
    say("  %s\n", r.name.c_str());
    if (r.answer) {
        say("    server answered : %s\n", describe_answer(*r.answer).c_str());
        say("    spec (404)      : %s\n", r.spec_compliant
                                               ? "yes"
                                               : "no - the spec asks for HTTP 404 on a request with an unknown "
                                                 "session id; clients that follow only the spec will not recover");
        say("    classified as   : %s\n", std::string(to_string(r.kind)).c_str());
    }
    if (r.skipped) say("    recovery        : skipped: %s\n", r.outcome.c_str());
    else
        say("    recovery        : %s (reconnects %llu, retries %llu, %.1f ms)\n", r.outcome.c_str(),
            static_cast<unsigned long long>(r.reconnects), static_cast<unsigned long long>(r.retries), r.latency_ms);
}

std::string probe_json(const probe_result& r) {
    return json_object()
        .str("name", r.key)
        .str("title", r.name)
        .raw("answer", r.answer ? answer_json(*r.answer) : "null")
        .boolean("spec_404", r.spec_compliant)
        .raw("classification", r.answer ? json_string(to_string(r.kind)) : "null")
        .boolean("skipped", r.skipped)
        .boolean("recovered", r.recovered)
        .str("outcome", r.outcome)
        .opt_str("http_fault", r.http_fault)
        .integer("reconnects", static_cast<long long>(r.reconnects))
        .integer("retries", static_cast<long long>(r.retries))
        .num("latency_ms", r.latency_ms)
        .done();
}

/// Everything one run of the check against one server found, for the JSON report.
struct run_report {
    std::string title;
    std::string url;
    bool initialized = false;
    double initialize_ms = 0;
    std::string protocol_version;
    bool session = false;
    std::optional<std::string> failed_step;  ///< "initialize" or "tools/list" when that failed.
    std::string failed_answer;
    std::optional<std::string> failed_http_fault;
    std::vector<check_result> checks;
    std::vector<probe_result> recovery;
    mb::http_diagnostics diagnostics;
    verdict result = verdict::ok;
    std::string verdict_text;

    std::string json() const {
        std::vector<std::string> c, p;
        for (const auto& x : checks) c.push_back(check_json(x));
        for (const auto& x : recovery) p.push_back(probe_json(x));
        json_object failed;
        if (failed_step) failed.str("step", *failed_step).str("answer", failed_answer).opt_str("http_fault", failed_http_fault);
        return json_object()
            .str("title", title)
            .str("url", url)
            .raw("initialize", json_object()
                                   .boolean("ok", initialized)
                                   .num("ms", initialize_ms)
                                   .str("protocol_version", protocol_version)
                                   .boolean("session", session)
                                   .done())
            .raw("failed_step", failed_step ? failed.done() : "null")
            .raw("checks", json_array(c))
            .raw("recovery", json_array(p))
            .raw("http_diagnostics", diagnostics_json(diagnostics))
            .str("verdict", to_json_name(result))
            .str("verdict_text", verdict_text)
            .done();
    }
};

std::string header_names(const options& o) {
    std::string names;
    for (const auto& h : o.headers) names += (names.empty() ? "" : ", ") + h.first;
    return names;
}

verdict check_server(const options& o, const char* title, run_report& rep) {
    say("%s\n", title);
    rep.title = title;
    rep.url = o.url;
    if (!o.headers.empty()) say("  extra headers    : %s (values not shown)\n", header_names(o).c_str());
    client_type client{std::in_place, transport_options_for(o)};
    client.backoff_policy() = exponential_backoff(std::chrono::milliseconds(50), 2.0, std::chrono::seconds(2));
    auto& t = client.transport();
    prober raw(o, t.url());
    const auto skip_features = [&](const std::string& why) {
        rep.checks.push_back(skipped_check("ping", section_ping, spec_ping, why));
        rep.checks.push_back(skipped_check("get_stream", section_get, spec_get_stream, why));
        rep.checks.push_back(skipped_check("resumption", section_resume, spec_resumption, why));
        rep.checks.push_back(skipped_check("delete", section_session, spec_delete, why));
    };
    const auto finish = [&](verdict v, const char* what) {
        rep.diagnostics = t.diagnostics();
        print_diagnostics(rep.diagnostics);
        if (v == verdict::ok && has_faults(rep.diagnostics)) v = verdict::http_fault;
        std::string text;
        if (what) text = what;
        else if (v == verdict::ok) text = "clients recover from a lost session";
        else if (v == verdict::http_fault) text = "clients recover, but the server has HTTP faults (above)";
        else text = "RECOVERY FAILED";
        say("  verdict: %s\n\n", text.c_str());
        rep.result = v;
        rep.verdict_text = text;
        return v;
    };
    // A failed step: an HTTP fault of the server by name, else a recovery failure.
    const auto step_failed = [&](const char* step, const failure& f, const mb::http_diagnostics& before) {
        const std::string at = f.method.empty() || f.method == step ? "" : " at " + f.method;
        rep.failed_step = step + at;
        rep.failed_answer = describe_answer(f);
        skip_features(std::string(step) + " failed");
        if (auto fault = http_fault_of(f, before, t.diagnostics())) {
            rep.failed_http_fault = fault;
            std::string answer = f.http_status ? "HTTP " + std::to_string(f.http_status) : std::string();
            if (!f.message.empty()) answer += (answer.empty() ? "" : ": ") + printable(f.message.str());
            say("  %s failed%s: HTTP fault of the server: %s%s\n", step, at.c_str(), fault->c_str(),
                answer.empty() ? "" : (" (" + answer + ")").c_str());
            return finish(verdict::http_fault, "HTTP fault of the server (not a recovery failure)");
        }
        say("  %s failed%s: %s\n", step, at.c_str(), rep.failed_answer.c_str());
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    };

    const auto start = std::chrono::steady_clock::now();
    mb::http_diagnostics before = t.diagnostics();
    if (auto c = t.connect(); !c) return step_failed("initialize", c.error(), before);
    rep.initialized = true;
    rep.initialize_ms = ms(std::chrono::steady_clock::now() - start).count();
    rep.protocol_version = t.protocol_version();
    rep.session = !t.session_id().empty();
    say("  initialize       : ok in %.1f ms, protocol %s, %s\n", rep.initialize_ms,
        printable(rep.protocol_version, 64).c_str(),
        t.session_id().empty() ? "no session id (stateless server)" : "session id assigned");
    before = t.diagnostics();
    auto tools = client.try_call(mb::request{"tools/list", "{}"});
    if (!tools) {
        if (const failure* f = failure_of(tools.error())) return step_failed("tools/list", *f, before);
        say("  tools/list failed: %s\n", tools.error().code.message().c_str());
        rep.failed_step = "tools/list";
        rep.failed_answer = tools.error().code.message();
        skip_features("tools/list failed");
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    }
    if (tools->is_error()) {
        rep.failed_step = "tools/list";
        rep.failed_answer = tools->fields.error_message.value_or("JSON-RPC error");
        say("  tools/list failed: %s\n", printable(rep.failed_answer).c_str());
        skip_features("tools/list failed");
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    }
    say("  tools/list       : ok (%zu bytes)\n", tools->result().size());

    // The server features recovery depends on, graded against the spec's words.
    say("  server features (spec 2025-06-18 / 2025-11-25):\n");
    raw.session_id = t.session_id();
    raw.protocol_version = t.protocol_version();
    http_answer ping_answer, get_answer;
    rep.checks.push_back(check_ping(raw, ping_answer));
    rep.checks.push_back(check_get_stream(raw, get_answer));
    rep.checks.push_back(check_resumption(raw, get_answer, ping_answer));
    for (const auto& c : rep.checks) print_check(c);

    if (t.session_id().empty()) {
        rep.checks.push_back(skipped_check("delete", section_session, spec_delete, "the server keeps no sessions"));
        say("  the server keeps no sessions: nothing to lose, nothing to recover\n");
        const verdict v = has_faults(t.diagnostics()) ? verdict::http_fault : verdict::ok;
        return finish(v, v == verdict::ok ? "OK" : "OK for recovery, but the server has HTTP faults (above)");
    }

    // DELETE of its own session: graded, and the first way to lose the session.
    check_result del;
    del.name = "delete";
    del.spec_section = section_session;
    del.expected = spec_delete;
    std::vector<probe_result>& results = rep.recovery;
    results.push_back(probe(client, "after_delete", "after DELETE of its own session:", o,
                            [&](mb::streamable_http_transport& tr, probe_result& pr) -> std::optional<bool> {
                                raw.session_id = tr.session_id();
                                const http_answer a = raw.exchange(bhttp::verb::delete_, {}, {}, duration::zero(),
                                                                   [](const http_answer&) { return true; });
                                del.observed = a.summary();
                                del.observed_json = a.json();
                                if (a.error) {
                                    del.verdict = grade::fail;
                                    del.details = "no answer to the DELETE within --timeout";
                                    return false;
                                }
                                if (a.status >= 200 && a.status < 300) {
                                    del.verdict = grade::pass;
                                    del.details = "the session was ended";
                                    return true;
                                }
                                if (a.status == 405) {
                                    del.verdict = grade::pass;
                                    del.details = "not allowed (405, allowed by the spec): clients cannot end their "
                                                  "sessions, which stay until the server ends them";
                                    pr.outcome = "the server does not let clients end sessions (DELETE answered 405)";
                                    return std::nullopt;
                                }
                                del.verdict = grade::fail;
                                del.details = "neither 2xx nor 405 for the DELETE of a live session";
                                // A 404 or 400 may still have ended it: the recovery probe tells.
                                return a.status == 404 || a.status == 400;
                            }));
    rep.checks.push_back(del);
    print_check(del);
    results.push_back(probe(client, "unknown_session", "with a session id the server never issued:", o,
                            [](mb::streamable_http_transport& tr, probe_result&) -> std::optional<bool> {
                                return tr.adopt_session_id(random_session_id());
                            }));
    rep.checks.push_back(check_404("deleted_session_404", results[0]));
    rep.checks.push_back(check_404("unknown_session_404", results[1]));
    verdict v = verdict::ok;
    for (const auto& r : results) {
        print_probe(r);
        if (r.skipped) continue;
        if (r.http_fault) v = worst(v, verdict::http_fault);
        else if (!r.recovered) v = verdict::recovery_failed;
    }
    if (v == verdict::http_fault) return finish(v, "HTTP fault of the server (not a recovery failure)");
    return finish(v, nullptr);
}

struct burst_report {
    int callers = 0;
    int succeeded = 0;
    std::uint64_t initializes = 0;
    double median_ms = 0;
    double normal_ms = 0;
    bool ok = false;
    bool connected = false;

    std::string json() const {
        return json_object()
            .integer("callers", callers)
            .integer("succeeded", succeeded)
            .integer("initializes", static_cast<long long>(initializes))
            .num("median_latency_ms", median_ms)
            .num("normal_call_ms", normal_ms)
            .boolean("ok", ok)
            .done();
    }
};

bool burst(const options& o, mb::testing::flaky_server& server, burst_report& rep) {
    say("burst: %d concurrent callers on an expired session\n", o.burst);
    rep.callers = o.burst;
    options bo = o;
    bo.url = server.url();
    client_type client{std::in_place, transport_options_for(bo)};
    if (!client.transport().connect()) return false;
    rep.connected = true;

    auto timed_call = [&] {
        const auto s = std::chrono::steady_clock::now();
        auto r = client.try_call(mb::request{"tools/list", "{}"});
        return std::make_pair(r.has_value() && !r->is_error(), ms(std::chrono::steady_clock::now() - s).count());
    };
    std::vector<double> normal;
    for (int i = 0; i < 50; ++i) normal.push_back(timed_call().second);
    std::sort(normal.begin(), normal.end());

    const auto initializes_before = server.initializes();
    server.expire_all_sessions();
    std::vector<double> latencies(static_cast<std::size_t>(o.burst));
    std::atomic<int> succeeded{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < o.burst; ++i)
        threads.emplace_back([&, i] {
            auto [ok, latency] = timed_call();
            if (ok) succeeded.fetch_add(1);
            latencies[static_cast<std::size_t>(i)] = latency;
        });
    for (auto& th : threads) th.join();
    std::sort(latencies.begin(), latencies.end());
    const auto initializes = server.initializes() - initializes_before;
    const double median_normal = normal[normal.size() / 2];
    const double median_burst = latencies[latencies.size() / 2];
    say("  succeeded        : %d/%d\n", succeeded.load(), o.burst);
    say("  initializes      : %llu (one for all callers is the goal)\n", static_cast<unsigned long long>(initializes));
    say("  median latency   : %.2f ms (normal call %.2f ms, ratio %.1f)\n", median_burst, median_normal,
        median_burst / median_normal);
    const bool ok = succeeded.load() == o.burst && initializes == 1;
    say("  verdict: %s\n\n", ok ? "OK" : "FAILED");
    rep.succeeded = succeeded.load();
    rep.initializes = initializes;
    rep.median_ms = median_burst;
    rep.normal_ms = median_normal;
    rep.ok = ok;
    return ok;
}

std::string utc_timestamp() {
    const std::time_t now = std::time(nullptr);
    char buf[32] = "";
    if (const std::tm* tm = std::gmtime(&now)) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", tm);
    return buf;
}

const char* overall_text(verdict v) {
    return v == verdict::ok           ? "recovery works"
           : v == verdict::http_fault ? "HTTP faults of the server (above)"
                                      : "RECOVERY FAILED";
}

/// The --json report: one object on stdout.
void print_json(const options& o, const std::vector<run_report>& runs, const std::optional<burst_report>& b,
                verdict v, const std::optional<std::string>& error) {
    std::vector<std::string> r, names;
    int counts[4] = {0, 0, 0, 0};
    for (const auto& run : runs) {
        r.push_back(run.json());
        for (const auto& c : run.checks) ++counts[static_cast<int>(c.verdict)];
    }
    for (const auto& h : o.headers) names.push_back(json_string(h.first));
    const std::string out =
        json_object()
            .str("tool", "mcp-recovery-check")
            .str("version", prober::version())
            .str("timestamp", utc_timestamp())
            .raw("url", o.url.empty() ? "null" : json_string(o.url))
            .raw("headers", json_array(names))
            .integer("timeout_s", static_cast<long long>(o.timeout.count()))
            .raw("runs", json_array(r))
            .raw("burst", b ? b->json() : "null")
            .raw("summary", json_object()
                                .integer("pass", counts[0])
                                .integer("fail", counts[1])
                                .integer("note", counts[2])
                                .integer("skipped", counts[3])
                                .done())
            .opt_str("error", error)
            .str("overall", error ? "error" : overall_text(v))
            .integer("exit_status", error ? 1 : static_cast<int>(v))
            .done();
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
}

int usage(FILE* out, int code) {
    std::fprintf(out,
                 "usage: mcp-recovery-check [--timeout SECONDS] [--burst N] [--header NAME:VALUE]... [--json] [URL]\n"
                 "\n"
                 "Checks whether MCP clients survive a server's session handling: connects to the\n"
                 "Streamable-HTTP endpoint URL (e.g. http://127.0.0.1:3000/mcp), provokes session loss\n"
                 "(DELETE of its own session; an unknown session id), recovers through mcp-recovery and\n"
                 "reports what the server answered, whether that follows the spec, and how recovery went.\n"
                 "\n"
                 "It also grades the server features recovery depends on, each with the spec's words\n"
                 "(Streamable HTTP, 2025-06-18 / 2025-11-25) and pass, fail or note (allowed, but it\n"
                 "limits recovery):\n"
                 "  ping                 \"The receiver MUST respond promptly with an empty response.\"\n"
                 "  get_stream           GET with Accept: text/event-stream: \"The server MUST either return\n"
                 "                       Content-Type: text/event-stream ... or else return HTTP 405\".\n"
                 "  resumption           whether events carry id: (\"Servers MAY attach an id field\"), and a\n"
                 "                       GET with Last-Event-ID gets an event stream (\"MAY use this header\n"
                 "                       to replay messages\"); no ids, or a 4xx, is a note.\n"
                 "  delete               DELETE of its session: 2xx, or 405 (\"the server does not allow\n"
                 "                       clients to terminate sessions\").\n"
                 "  deleted_session_404, unknown_session_404\n"
                 "                       \"it MUST respond to requests containing that session ID with\n"
                 "                       HTTP 404 Not Found\".\n"
                 "Streams are read for at most 2 s (or --timeout) and closed. The grades do not change the\n"
                 "exit status.\n"
                 "\n"
                 "Without URL it starts the built-in flaky test server on 127.0.0.1 and checks each server\n"
                 "family's way of signalling a lost session, plus N concurrent callers (default 32).\n"
                 "\n"
                 "Each check ends with what the client saw the server do wrong at the HTTP level, by name:\n"
                 "stray bytes after a complete response (RFC 9112 section 6.3), answers whose id was not the\n"
                 "request's, a Content-Encoding the client did not ask for, responses not complete within\n"
                 "response_timeout (2 x --timeout); and, as notes, 1xx interim responses skipped, idle\n"
                 "connections the server closed, requests sent again because provably unsent. A step that\n"
                 "fails because of such a fault reads \"HTTP fault of the server: <name>\", not a recovery\n"
                 "failure.\n"
                 "\n"
                 "--timeout SECONDS bounds each connect, read and write (default 10); a whole response gets\n"
                 "twice that.\n"
                 "--header NAME:VALUE (repeatable) adds a header to every request, e.g. for a server behind\n"
                 "authentication (--header 'Authorization: Bearer ...'). Names: letters, digits, '-', '_';\n"
                 "values: no CR, LF or other control characters. The report names the headers, never their\n"
                 "values.\n"
                 "--json prints one JSON object on stdout instead of the report: tool, version, timestamp,\n"
                 "url, headers (names), runs[] (each with checks[] {name, verdict, expected, spec, observed,\n"
                 "details}, recovery[], http_diagnostics, verdict), burst, summary, overall, exit_status.\n"
                 "\n"
                 "Exit status: 0 when recovery worked everywhere and the server made no HTTP fault; 1 when\n"
                 "recovery failed; 2 for a usage error; 3 when the only problems are HTTP faults of the\n"
                 "server (recovery worked, or failed only because of them). Notes do not change it.\n");
    return code;
}

/// Parses one --header argument into `o.headers`; false (with a message, never the value) if bad.
bool add_header(options& o, std::string_view arg) {
    const auto colon = arg.find(':');
    if (colon == std::string_view::npos) {
        std::fprintf(stderr, "mcp-recovery-check: --header needs NAME:VALUE (no ':' found; the argument is not "
                             "shown: it may hold a secret)\n");
        return false;
    }
    std::string name(arg.substr(0, colon));
    std::string_view value = arg.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (!mb::valid_header_name(name)) {
        std::fprintf(stderr,
                     "mcp-recovery-check: bad --header name '%s': a header name may hold only letters, digits, "
                     "'-' and '_'\n",
                     printable(name, 100).c_str());
        return false;
    }
    if (!mb::valid_header_value(value)) {
        std::fprintf(stderr,
                     "mcp-recovery-check: bad --header value for '%s': CR, LF, NUL and other control characters "
                     "are not allowed (the value is not shown)\n",
                     name.c_str());
        return false;
    }
    static const char* const reserved[] = {"host",          "content-length",       "transfer-encoding", "connection",
                                           "content-type",  "accept",               "accept-encoding",   "mcp-session-id",
                                           "mcp-protocol-version", "last-event-id", "upgrade",           "te"};
    std::string lower = name;
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    for (const char* r : reserved)
        if (lower == r) {
            std::fprintf(stderr, "mcp-recovery-check: bad --header '%s': the tool sets this header itself\n",
                         name.c_str());
            return false;
        }
    o.headers.emplace_back(std::move(name), std::string(value));
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage(stdout, 0);
        if ((a == "--timeout" || a == "--burst") && i + 1 < argc) {
            char* end = nullptr;
            const long v = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || v <= 0 || v > 100000) {
                std::fprintf(stderr, "mcp-recovery-check: %s needs a positive number, got '%s'\n", a.c_str(),
                             printable(argv[i], 100).c_str());
                return 2;
            }
            if (a == "--timeout") o.timeout = std::chrono::seconds(v);
            else o.burst = static_cast<int>(std::min(v, 1024L));
            continue;
        }
        if (a == "--header" || a == "-H") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "mcp-recovery-check: %s needs NAME:VALUE\n", a.c_str());
                return 2;
            }
            if (!add_header(o, argv[++i])) return 2;
            continue;
        }
        if (a.rfind("--header=", 0) == 0) {
            if (!add_header(o, std::string_view(a).substr(9))) return 2;
            continue;
        }
        if (a == "--json") {
            json_output = true;
            continue;
        }
        if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "mcp-recovery-check: unknown option '%s'\n", printable(a, 100).c_str());
            return usage(stderr, 2);
        }
        if (!o.url.empty()) {
            std::fprintf(stderr, "mcp-recovery-check: only one URL, please\n");
            return 2;
        }
        o.url = a;
    }

    std::vector<run_report> runs;
    std::optional<burst_report> burst_rep;
    try {
        if (!o.url.empty()) {
            std::string why;
            if (!mb::parse_url(o.url, why)) {
                // Without its user information: credentials are never echoed.
                std::fprintf(stderr, "mcp-recovery-check: bad URL '%s': %s\n", mb::redact_url(o.url).c_str(),
                             why.c_str());
                return 2;
            }
            runs.emplace_back();
            const verdict v = check_server(o, ("server " + o.url).c_str(), runs.back());
            if (json_output) print_json(o, runs, std::nullopt, v, std::nullopt);
            return static_cast<int>(v);
        }

        verdict v = verdict::ok;
        struct family {
            mb::testing::lost_session_style style;
            const char* title;
        };
        const family families[] = {
            {mb::testing::lost_session_style::typescript_404, "flaky_server as the TypeScript SDK (404, -32001 \"Session not found\")"},
            {mb::testing::lost_session_style::everything_400, "flaky_server as server-everything (400 \"No valid session ID provided\")"},
            {mb::testing::lost_session_style::python_404, "flaky_server as the Python SDK (404, -32600 \"Session not found\")"},
            {mb::testing::lost_session_style::go_404_plain, "flaky_server as the Go SDK (404 text/plain \"session not found\")"},
            {mb::testing::lost_session_style::python_400_plain, "flaky_server as Python SDK <= 1.25 (400 text/plain)"},
            {mb::testing::lost_session_style::in_band_200, "flaky_server as a gateway answering in band (200, -32001 \"Session not found\")"},
        };
        mb::testing::flaky_server server;
        for (const family& f : families) {
            server.set_lost_session_style(f.style);
            options so = o;
            so.url = server.url();
            runs.emplace_back();
            v = worst(v, check_server(so, f.title, runs.back()));
        }
        server.set_lost_session_style(mb::testing::lost_session_style::typescript_404);
        burst_rep.emplace();
        if (!burst(o, server, *burst_rep)) v = verdict::recovery_failed;
        say("overall verdict: %s\n", overall_text(v));
        if (json_output) print_json(o, runs, burst_rep, v, std::nullopt);
        return static_cast<int>(v);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcp-recovery-check: %s\n", e.what());
        if (json_output) print_json(o, runs, burst_rep, verdict::recovery_failed, std::string(e.what()));
        return 1;
    }
}
