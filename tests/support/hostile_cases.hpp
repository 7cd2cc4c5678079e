// Hostile HTTP servers (issue 11), as cases shared by the synchronous and the awaitable transport:
// bytes after a complete response, a Content-Length counted in characters, an unsolicited second
// response, 1xx interim responses, content encodings, event streams that only send keep-alive
// comments, and servers that close idle connections. Each case is a function template over a
// driver (tests/beast_net/hostile_server_test.cpp, tests/beast_async/async_hostile_server_test.cpp):
//
//   struct Driver {
//       explicit Driver(mcp_recovery::beast::transport_options);
//       outcome<void> connect();
//       outcome<beast::response> send(const beast::request&, time_point deadline = time_point::max());
//       // through a recovering client, non-idempotent unless the options say otherwise:
//       outcome<beast::response, call_error> call(const beast::request&, const call_options& = {});
//       beast::http_diagnostics diagnostics() const;
//       std::size_t connections_opened() const;
//   };
//
// What must hold in every case: no call ever returns an answer the server produced for another
// request (each answer carries the marker its request asked for).
#ifndef MCP_RECOVERY_TESTS_HOSTILE_CASES_HPP
#define MCP_RECOVERY_TESTS_HOSTILE_CASES_HPP

#include <utility>

#include "mcp_recovery/beast/detail/transport_base.hpp"
#include "mcp_recovery/recovery_plan.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mcp_recovery_tests::hostile {

namespace mr = mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace std::chrono_literals;

// ---- requests and answers that carry a marker ----

/// A non-idempotent `tools/call` whose answer must carry `marker`.
inline mb::request marked_call(const std::string& marker) {
    return {"tools/call", R"({"name":"mark","arguments":{"marker":")" + marker + R"("}})"};
}

/// The marker a request asked for ("" when none).
inline std::string marker_of(const std::string& request) {
    const std::string key = R"("marker":")";
    const auto p = request.find(key);
    if (p == std::string::npos) return {};
    const auto end = request.find('"', p + key.size());
    return end == std::string::npos ? std::string{} : request.substr(p + key.size(), end - p - key.size());
}

/// The JSON-RPC response with id `id` whose result carries `marker`.
inline std::string marked_result(long long id, const std::string& marker, const std::string& extra = {}) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"marker":")" + marker + "\"" + extra + "}}";
}

/// The request's own answer (its id, its marker).
inline std::string own_result(const std::string& request) { return marked_result(request_id(request), marker_of(request)); }

/// Whether `r` is the answer to the request that asked for `marker`.
inline bool carries(const mb::response& r, const std::string& marker) {
    return r.result().find(R"("marker":")" + marker + "\"") != std::string_view::npos;
}

/// A server that initializes properly (keeping the connection open, with `extra_headers`, closed
/// `close_after` later when that is set: see `raw_answer::close_after`) and answers every other
/// request with `answer`.
inline raw_http_server::script mcp_script(std::function<raw_answer(const std::string&)> answer,
                                          std::string extra_headers = {},
                                          std::chrono::milliseconds close_after = std::chrono::milliseconds(0)) {
    return [answer = std::move(answer), extra_headers = std::move(extra_headers),
            close_after](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) {
            std::string a = initialize_answer(req, "sid-hostile");
            a.insert(a.find("\r\n") + 2, extra_headers);
            return {a, false, true, {}, {}, close_after};
        }
        if (is_method(req, "notifications/initialized"))
            return {http_response(202, "", "", extra_headers), false, true, {}, {}, close_after};
        return answer(req);
    };
}

/// Per-call settings of a read-only, idempotent tool (replayable after an unknown delivery).
inline mr::call_options read_only() {
    mr::call_options o;
    o.annotations = mr::tool_annotations{true, false};
    return o;
}

inline mb::transport_options options_for(const raw_http_server& s) {
    mb::transport_options o;
    o.url = s.url();
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    return o;
}

inline std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// An event stream with a Content-Length (so that the connection can be kept).
inline std::string sse_answer_sized(const std::string& data, const std::string& extra_headers = {}) {
    return http_response(200, "text/event-stream", "event: message\ndata: " + data + "\n\n", extra_headers);
}

/// A chunked JSON body.
inline std::string chunked_json(const std::string& body) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

/// How often the server received each marked request, and whether any JSON-RPC id came twice.
struct received_counts {
    std::map<std::string, int> by_marker;
    int repeated_ids = 0;
};

inline received_counts count_received(const raw_http_server& server) {
    received_counts out;
    std::map<long long, int> ids;
    for (const std::string& req : server.received()) {
        if (!is_method(req, "tools/call")) continue;
        ++out.by_marker[marker_of(req)];
        if (++ids[request_id(req)] == 2) ++out.repeated_ids;
    }
    return out;
}

/// Checks an answer: its own, or malformed_response with delivery unknown (it ran). Never another
/// request's answer. Returns whether it succeeded.
template <class Outcome>
bool own_answer_or_malformed(const Outcome& r, const std::string& marker) {
    CAPTURE(marker);
    if (r) {
        INFO("the answer: " << r->message);
        CHECK(carries(*r, marker));  // never another request's answer
        return carries(*r, marker);
    }
    INFO("failure: " << r.error().transport_error.message() << ": " << r.error().message.view());
    CHECK(r.error().transport_error == mr::transport_errc::malformed_response);
    CHECK(r.error().delivered == mr::delivery::unknown);
    return false;
}

// ---- 1. bytes after a complete response ----

/// a. A stray CRLF after a complete body: every call succeeds (a connection with leftover bytes
/// is closed, never pooled), and the stray bytes are counted.
template <class Driver>
void stray_crlf() {
    std::string framing;
    auto answer = [&](const std::string& req) -> raw_answer {
        if (framing == "json") return {http_response(200, "application/json", own_result(req)) + "\r\n", false, true};
        if (framing == "chunked") return {chunked_json(own_result(req)) + "\r\n", false, true};
        return {sse_answer_sized(own_result(req)) + "\r\n", false, true};
    };
    SECTION("a JSON body with Content-Length") { framing = "json"; }
    SECTION("a chunked JSON body") { framing = "chunked"; }
    SECTION("an event stream with Content-Length") { framing = "sse"; }
    CAPTURE(framing);
    raw_http_server server(mcp_script(answer));
    Driver d(options_for(server));
    REQUIRE(d.connect());
    int failed = 0;
    for (int i = 0; i < 6; ++i) {
        const std::string marker = "a-" + std::to_string(i);
        auto r = d.send(marked_call(marker));
        if (!r) {
            ++failed;
            FAIL_CHECK("call " << i << " failed: " << r.error().transport_error.message() << ": "
                               << r.error().message.view());
            continue;
        }
        CHECK(carries(*r, marker));
    }
    CHECK(failed == 0);
    CHECK(d.diagnostics().stray_bytes >= 1);
    const received_counts got = count_received(server);
    CHECK(got.repeated_ids == 0);
    for (const auto& [marker, n] : got.by_marker) CHECK(n == 1);
}

/// b. A Content-Length counted in characters, not bytes, on a UTF-8 body: that call fails
/// (malformed, delivery unknown), the bytes beyond the length are never taken as the next answer.
template <class Driver>
void length_in_characters() {
    const std::string text = R"(,"text":"h\u00e9llo: héllo wörld ✓")";  // 4 bytes more than characters
    auto characters = [](const std::string& utf8) {
        std::size_t n = 0;
        for (const char c : utf8)
            if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
        return n;
    };
    REQUIRE(characters(text) + 4 == text.size());
    std::atomic<int> calls{0};
    raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
        const bool lie = calls.fetch_add(1) % 2 == 0;  // every other answer
        const std::string body = marked_result(request_id(req), marker_of(req), text);
        if (!lie) return {http_response(200, "application/json", body), false, true};
        return {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(characters(body)) + "\r\n\r\n" + body,
                false, true};
    }));
    Driver d(options_for(server));
    REQUIRE(d.connect());
    for (int i = 0; i < 6; ++i) {
        const std::string marker = "b-" + std::to_string(i);
        auto r = d.send(marked_call(marker));
        if (i % 2 == 1) {  // an honest answer: must succeed
            INFO("call " << i << (r ? "" : " failed: " + r.error().transport_error.message()));
            CHECK(r);
        }
        own_answer_or_malformed(r, marker);
    }
    CHECK(d.diagnostics().stray_bytes >= 1);
}

/// c. An unsolicited second response after each answer, with the next request's id and a marker
/// of its own: no call returns it; calls succeed with their own answer or fail as malformed; the
/// diagnostics count it; once the server behaves, calls work.
template <class Driver>
void unsolicited_response() {
    std::atomic<bool> hostile{true};
    std::string how;
    SECTION("in the same write") { how = "same write"; }
    SECTION("written later, before the next request") { how = "written later"; }
    SECTION("after an event stream") { how = "after an event stream"; }
    SECTION("instead of the answer, with an earlier request's id") { how = "stale id"; }
    CAPTURE(how);
    auto stray_for = [](const std::string& req) {
        return http_response(200, "application/json", marked_result(request_id(req) + 1, "stray-after-" + marker_of(req)));
    };
    raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
        const std::string own = http_response(200, "application/json", own_result(req));
        if (!hostile) return {own, false, true};
        if (how == "same write") return {own + stray_for(req), false, true};
        if (how == "written later") return {own, false, true, {stray_for(req)}, 5ms};
        if (how == "stale id")  // the answer to an earlier request, instead of this one's
            return {http_response(200, "application/json", marked_result(request_id(req) - 1, "stale")), false, true};
        return {sse_answer_sized(own_result(req)) + stray_for(req), false, true};  // "after an event stream"
    }));
    Driver d(options_for(server));
    REQUIRE(d.connect());
    int ok = 0;
    for (int i = 0; i < 6; ++i) {
        const std::string marker = "c-" + std::to_string(i);
        const std::size_t written = server.later_written();
        auto r = d.send(marked_call(marker));
        if (own_answer_or_malformed(r, marker)) ++ok;
        // "written later": the unsolicited answer is on the wire before the next request starts.
        if (how == "written later") REQUIRE(eventually([&] { return server.later_written() > written; }));
    }
    const auto diag = d.diagnostics();
    INFO("diagnostics: stray_bytes " << diag.stray_bytes << ", mismatched_ids " << diag.mismatched_ids
                                     << ", closed_idle " << diag.closed_idle);
    if (how == "stale id") {
        CHECK(ok == 0);
        CHECK(diag.mismatched_ids >= 1);
    } else {
        CHECK(ok >= 1);
        CHECK(diag.stray_bytes + diag.mismatched_ids >= 1);
    }
    hostile = false;
    for (int i = 0; i < 3; ++i) {
        const std::string marker = "c-after-" + std::to_string(i);
        auto r = d.send(marked_call(marker));
        INFO("after the fault: call " << i << (r ? "" : " failed: " + r.error().transport_error.message()));
        REQUIRE(r);
        CHECK(carries(*r, marker));
    }
}

// ---- 2. 1xx interim responses ----

inline const std::string continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
inline const std::string early_hints_103 =
    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload\r\n\r\n";

/// d. 100 Continue and 103 Early Hints (with headers) before the final answer: skipped and
/// counted; more than `max_interim_responses` is malformed; 101 is malformed.
template <class Driver>
void interim_responses() {
    SECTION("skipped before a JSON body and an event stream, on a kept-alive connection") {
        std::atomic<int> calls{0};
        raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
            const int n = calls.fetch_add(1);
            const std::string final_answer =
                n % 2 == 0 ? http_response(200, "application/json", own_result(req)) : sse_answer_sized(own_result(req));
            return {continue_100 + early_hints_103 + final_answer, false, true};
        }));
        Driver d(options_for(server));
        REQUIRE(d.connect());
        for (int i = 0; i < 4; ++i) {
            const std::string marker = "d-" + std::to_string(i);
            auto r = d.send(marked_call(marker));
            INFO("call " << i << (r ? "" : " failed: " + r.error().transport_error.message() + ": " +
                                                std::string(r.error().message.view())));
            REQUIRE(r);
            CHECK(carries(*r, marker));
        }
        CHECK(d.diagnostics().interim_responses == 8);
    }
    SECTION("more than max_interim_responses is malformed; the next call works") {
        std::atomic<bool> hostile{true};
        std::size_t limit = 8;
        std::size_t sent = 9;
        SECTION("the default limit") {}
        SECTION("a limit of 1") {
            limit = 1;
            sent = 2;
        }
        raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
            std::string a;
            for (std::size_t i = 0; hostile && i < sent; ++i) a += i % 2 == 0 ? early_hints_103 : continue_100;
            return {a + http_response(200, "application/json", own_result(req)), false, true};
        }));
        auto o = options_for(server);
        if (limit != 8) o.max_interim_responses = limit;
        Driver d(o);
        REQUIRE(d.connect());
        auto r = d.send(marked_call("d-many"));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == mr::transport_errc::malformed_response);
        CHECK(r.error().delivered == mr::delivery::unknown);
        hostile = false;
        auto next = d.send(marked_call("d-next"));
        REQUIRE(next);
        CHECK(carries(*next, "d-next"));
    }
    SECTION("101 Switching Protocols is malformed") {
        raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
            return {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" +
                        http_response(200, "application/json", own_result(req)),
                    false, true};
        }));
        Driver d(options_for(server));
        REQUIRE(d.connect());
        auto r = d.send(marked_call("d-101"));
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == mr::transport_errc::malformed_response);
    }
}

// ---- 3. content encodings ----

/// e. A body with a Content-Encoding the client never asked for: unsupported_content_encoding,
/// naming the encoding; requests say `Accept-Encoding: identity`; identity is fine.
template <class Driver>
void content_encoding() {
    std::atomic<bool> hostile{true};
    std::string encoding;
    bool stream = false;
    SECTION("gzip on a JSON body") { encoding = "gzip"; }
    SECTION("br on an event stream") {
        encoding = "br";
        stream = true;
    }
    SECTION("identity is no encoding") { encoding = "identity"; }
    CAPTURE(encoding);
    raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
        if (!hostile) return {http_response(200, "application/json", own_result(req)), false, true};
        const std::string header = "Content-Encoding: " + encoding + "\r\n";
        if (encoding == "identity") return {http_response(200, "application/json", own_result(req), header), false, true};
        const std::string compressed("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\x00\x00", 14);  // not a real body
        if (stream) return {http_response(200, "text/event-stream", compressed, header), false, true};
        return {http_response(200, "application/json", compressed, header), false, true};
    }));
    Driver d(options_for(server));
    REQUIRE(d.connect());
    auto r = d.send(marked_call("e-1"));
    if (encoding == "identity") {
        REQUIRE(r);
        CHECK(carries(*r, "e-1"));
        CHECK(d.diagnostics().encoded_bodies == 0);
    } else {
        REQUIRE_FALSE(r);
        CHECK(r.error().transport_error == mr::transport_errc::unsupported_content_encoding);
        CHECK(r.error().message.view().find(encoding) != std::string_view::npos);
        CHECK(d.diagnostics().encoded_bodies == 1);
    }
    hostile = false;
    auto next = d.send(marked_call("e-2"));
    REQUIRE(next);
    CHECK(carries(*next, "e-2"));
    const auto received = server.received();
    REQUIRE(received.size() >= 3);
    for (const std::string& req : received) {
        const std::string head = lower(req.substr(0, req.find("\r\n\r\n") + 2));
        CHECK(head.find("\r\naccept-encoding: identity\r\n") != std::string::npos);
    }
}

// ---- 4. a total bound on waiting for a response ----

/// f. An event stream that only sends `: keep-alive` comments every 50 ms (read_timeout 2 s), or
/// a JSON body trickled a byte every 50 ms: response_timeout (300 ms) ends the call, with and
/// without a call deadline, as timed_out naming response_timeout; the next call works.
template <class Driver>
void response_timeout() {
    std::atomic<bool> hostile{true};
    bool trickle = false;
    bool with_deadline = false;
    SECTION("keep-alive comments, no call deadline") {}
    SECTION("keep-alive comments, a call deadline far away") { with_deadline = true; }
    SECTION("a JSON body trickled, no call deadline") { trickle = true; }
    CAPTURE(trickle, with_deadline);
    raw_http_server server(mcp_script([&](const std::string& req) -> raw_answer {
        if (!hostile) return {http_response(200, "application/json", own_result(req)), false, true};
        raw_answer a;
        a.every = 50ms;
        if (trickle) {
            const std::string body = own_result(req);
            a.bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n";
            for (const char c : body) a.later.emplace_back(1, c);  // at most ~4 s of dripping
        } else {
            a.bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
            a.later.assign(100, ": keep-alive\n\n");  // 5 s of comments, then silence until the client leaves
            a.hang = true;
        }
        return a;
    }));
    auto o = options_for(server);
    o.read_timeout = 2s;
    o.response_timeout = 300ms;
    Driver d(o);
    REQUIRE(d.connect());
    const auto start = std::chrono::steady_clock::now();
    auto r = with_deadline ? d.send(marked_call("f-1"), mr::clock_type::now() + 60s) : d.send(marked_call("f-1"));
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r);
    INFO("failure: " << r.error().transport_error.message() << ": " << r.error().message.view());
    CHECK(r.error().transport_error == std::errc::timed_out);
    CHECK(r.error().message.view().find("response_timeout") != std::string_view::npos);
    CHECK(r.error().delivered == mr::delivery::unknown);
    CHECK(took >= 200ms);
    CHECK(took < 5s);
    CHECK(d.diagnostics().response_timeouts == 1);
    hostile = false;
    auto next = d.send(marked_call("f-2"));
    REQUIRE(next);
    CHECK(carries(*next, "f-2"));
}

// ---- 5. idle connections the server closes ----

/// Checks that every marked request reached the server exactly once, with no JSON-RPC id twice.
inline void each_ran_once(const raw_http_server& server, const std::vector<std::string>& markers) {
    const received_counts got = count_received(server);
    CHECK(got.repeated_ids == 0);
    for (const std::string& m : markers) {
        CAPTURE(m);
        const auto it = got.by_marker.find(m);
        CHECK((it == got.by_marker.end() ? 0 : it->second) == 1);
    }
}

/// One recovering call (non-idempotent unless `o` says otherwise) that must succeed with its own
/// answer (never not_replayable).
template <class Driver>
void must_succeed(Driver& d, const std::string& marker, std::vector<std::string>& markers, mr::call_options o = {}) {
    markers.push_back(marker);
    auto r = d.call(marked_call(marker), o);
    if (!r) {
        const auto& e = r.error();
        std::string why = e.code.message();
        if (e.last_failure)
            why += " (" + e.last_failure->transport_error.message() + ": " + std::string(e.last_failure->message.view()) + ")";
        FAIL_CHECK("call " << marker << " failed: " << why);
        CHECK(e.code != mr::errc::not_replayable);
        return;
    }
    CHECK(carries(*r, marker));
}

/// g. Servers that close kept-alive connections: without a word, a few ms after each answer
/// (serving what arrived before); after announcing `Keep-Alive: timeout=1`; after `Connection:
/// close`. Every non-idempotent call through a recovering client succeeds, none ends
/// not_replayable, the server ran each exactly once; except, without a word, a request that meets
/// the server's close exactly (a reset with no FIN first: see there). And a server that never reads
/// a request on a kept connection: nothing provable, so a non-idempotent call may end
/// not_replayable there, but never runs twice nor gets another answer; idempotent calls all succeed.
template <class Driver>
void idle_close() {
    std::vector<std::string> markers;
    SECTION("closed 5 ms after each answer, without a word; calls paced across that moment") {
        raw_server_options so;
        so.close_idle_after = 5ms;
        raw_http_server server(mcp_script([](const std::string& req) -> raw_answer {
                                   return {http_response(200, "application/json", own_result(req)), false, true};
                               }),
                               so);
        Driver d(options_for(server));
        REQUIRE(d.connect());
        // The pauses only place the requests around the server's close: whether or not a request
        // meets it, the outcome asserted is the same.
        std::vector<std::string> lost;
        for (int i = 0; i <= 88; ++i) {
            std::this_thread::sleep_for(std::chrono::microseconds(i < 8 ? 0 : 3000 + (i - 8) * 50));
            const std::string marker = "g-" + std::to_string(i);
            auto r = d.call(marked_call(marker), mr::call_options{});
            if (r) {
                markers.push_back(marker);
                CHECK(carries(*r, marker));
                continue;
            }
            // The one outcome no client can avoid: the request reached the server in the
            // microsecond between its idle timer and its close, unread, so the server's kernel
            // answered with a reset and no FIN first. A reset alone is also what a server that ran
            // the request and then aborted the connection sends: unknown, not replayable. Anything
            // else that fails (an EOF: the FIN came before the request, which then met a closed
            // socket, so it was never read) should have been sent once more.
            const auto& e = r.error();
            const std::error_code why = e.last_failure ? e.last_failure->transport_error : std::error_code{};
            INFO("call " << marker << " failed: " << e.code.message() << " (" << why.message() << ")");
            CHECK(e.code == mr::errc::not_replayable);
            CHECK(why == std::errc::connection_reset);
            lost.push_back(marker);
        }
        each_ran_once(server, markers);
        const received_counts got = count_received(server);
        for (const std::string& m : lost) CHECK(got.by_marker.count(m) == 0);
        UNSCOPED_INFO("idle closes: " << server.idle_closes() << ", lost in the server's close: " << lost.size()
                                      << ", resent unsent: " << d.diagnostics().resent_unsent
                                      << ", closed idle: " << d.diagnostics().closed_idle);
    }
    SECTION("Keep-Alive: timeout=1: not reused after half of it (the margin is 1 s), reused before") {
        raw_server_options so;
        so.close_idle_after = 1000ms;
        raw_http_server server(mcp_script(
                                   [](const std::string& req) -> raw_answer {
                                       return {http_response(200, "application/json", own_result(req),
                                                             "Keep-Alive: timeout=1\r\n"),
                                               false, true};
                                   },
                                   "Keep-Alive: timeout=1\r\n"),
                               so);
        Driver d(options_for(server));
        REQUIRE(d.connect());
        must_succeed(d, "g-ka-0", markers);
        const std::size_t opened = d.connections_opened();
        must_succeed(d, "g-ka-1", markers);  // at once: the same connection
        CHECK(d.connections_opened() == opened);
        std::this_thread::sleep_for(600ms);  // past timeout=1 minus the margin (half of it: 500 ms)
        must_succeed(d, "g-ka-2", markers);
        CHECK(d.connections_opened() == opened + 1);
        std::this_thread::sleep_for(1000ms);  // the server's own close, give or take
        must_succeed(d, "g-ka-3", markers);
        each_ran_once(server, markers);
    }
    SECTION("Connection: close, the connection left open a while, a request on it never read") {
        const std::string close = "Connection: close\r\n";
        raw_http_server server(mcp_script(
            [&](const std::string& req) -> raw_answer {
                return {http_response(200, "application/json", own_result(req), close), false, true, {}, {}, 5ms};
            },
            close, 5ms));
        Driver d(options_for(server));
        REQUIRE(d.connect());
        for (int i = 0; i < 6; ++i) must_succeed(d, "g-close-" + std::to_string(i), markers);
        each_ran_once(server, markers);
    }
    SECTION("closed 5 ms after each answer, a request on a kept connection never read") {
        raw_http_server server(mcp_script([](const std::string& req) -> raw_answer {
            return {http_response(200, "application/json", own_result(req)), false, true, {}, {}, 5ms};
        }));
        Driver d(options_for(server));
        REQUIRE(d.connect());
        for (int i = 0; i < 6; ++i) must_succeed(d, "g-never-ro-" + std::to_string(i), markers, read_only());
        for (int i = 0; i < 6; ++i) {
            const std::string marker = "g-never-" + std::to_string(i);
            markers.push_back(marker);
            auto r = d.call(marked_call(marker), mr::call_options{});
            if (r) {
                CHECK(carries(*r, marker));
            } else {
                INFO("call " << marker << " failed: " << r.error().code.message());
                CHECK(r.error().code == mr::errc::not_replayable);
            }
        }
        const received_counts got = count_received(server);
        CHECK(got.repeated_ids == 0);
        for (const auto& [marker, n] : got.by_marker) {
            CAPTURE(marker);
            CHECK(n == 1);
        }
    }
}

}  // namespace mcp_recovery_tests::hostile

#endif
