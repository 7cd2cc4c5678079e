// A small MCP server (Streamable HTTP, HTTP/1.1 keep-alive, on 127.0.0.1 with an ephemeral port)
// whose session handling is correct and whose only fault is one HTTP misbehaviour, chosen by
// --fault: for the ctests of mcp-recovery-check (issue 11: the check tool names the server's HTTP
// fault instead of reporting a recovery failure).
//
//   none                nothing wrong
//   stray-crlf          one CRLF after every response (RFC 9112 section 6.3: not a response)
//   gzip                every body with Content-Encoding: gzip, although requests say identity
//   mismatched-id       JSON answers carry the request's id + 1000
//   interim             "100 Continue" before every response (allowed: a note, not a fault)
//   keepalive-comments  tools/list answered by an event stream that only sends ": keep-alive"
//                       comments (every 200 ms, for at most 60 s), never the response
//   idle-close          closes a connection idle for 5 ms after a response (allowed: a note)
//
// And, for the graded server features of the check (issue 13):
//   hostile-body        bodies no report may copy verbatim: ping is answered by a JSON-RPC error
//                       whose message holds quotes, a backslash, control characters and bytes that
//                       are not UTF-8; GET by 400 text/plain with such bytes
//   delete-405          DELETE is 405 (allowed: clients cannot end sessions)
//   resumable           GET offers an event stream: a priming event with an id at once, then
//                       ": keep-alive" comments; GET with Last-Event-ID replays an event stream
//   get-404             GET is 404 (neither an event stream nor 405: a fault of the server)
// --require-header NAME:VALUE: every request without that header (exact value) gets 401 with
// WWW-Authenticate: Bearer.
//
// Sessions: initialize assigns one; a request with an unknown session id gets 404 (-32001
// "Session not found"), without one 400; DELETE ends a session; GET is 405. Prints
// "LISTENING <port>" once it accepts connections; ends on SIGTERM (or after 5 minutes).
#include <mcp_recovery/beast/json_envelope.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace {

enum class fault {
    none,
    stray_crlf,
    gzip,
    mismatched_id,
    interim,
    keepalive_comments,
    idle_close,
    hostile_body,
    delete_405,
    resumable,
    get_404
};

fault the_fault = fault::none;
std::string required_name, required_value;  // --require-header
// Quotes, a backslash, control characters (ESC too), bytes that are not UTF-8 (a lone 0xff, a
// broken two-byte sequence, an encoded surrogate), and a valid two-byte character (e acute).
const std::string hostile_text("bad \"quote\" back\\slash \x01\x1b[31m ctrl \xff\xfe invalid \xc3\x28 utf8 "
                               "\xed\xa0\x80 surrogate caf\xc3\xa9 end");
std::mutex sessions_mutex;
std::set<std::string> sessions;
unsigned long long next_session = 1;

// ---- gzip without a compressor: deflate "stored" blocks (RFC 1951 3.2.4) in a gzip member (RFC 1952) ----

std::uint32_t crc32(std::string_view data) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::string gzip_stored(std::string_view data) {
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    std::size_t offset = 0;
    do {
        const std::size_t n = std::min<std::size_t>(data.size() - offset, 65535);
        const bool last = offset + n == data.size();
        out += static_cast<char>(last ? 1 : 0);
        put_le(out, static_cast<std::uint32_t>(n), 2);
        put_le(out, static_cast<std::uint32_t>(~n & 0xFFFF), 2);
        out.append(data.substr(offset, n));
        offset += n;
    } while (offset < data.size());
    put_le(out, crc32(data), 4);
    put_le(out, static_cast<std::uint32_t>(data.size()), 4);
    return out;
}

// ---- HTTP ----

std::string response(int status, const char* reason, std::string_view content_type, std::string body,
                     std::string extra_headers = {}) {
    if (the_fault == fault::gzip && !body.empty()) {
        body = gzip_stored(body);
        extra_headers += "Content-Encoding: gzip\r\n";
    }
    std::string r;
    if (the_fault == fault::interim) r += "HTTP/1.1 100 Continue\r\n\r\n";
    r += "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
    if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
    r += extra_headers;
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (the_fault == fault::stray_crlf) r += "\r\n";
    return r;
}

std::string json_answer(const std::string& id_raw, const std::string& member, std::string extra_headers = {},
                        int status = 200, const char* reason = "OK") {
    std::string id = id_raw;
    if (the_fault == fault::mismatched_id) id = std::to_string(std::atoll(id_raw.c_str()) + 1000);
    return response(status, reason, "application/json", R"({"jsonrpc":"2.0","id":)" + id + "," + member + "}",
                    std::move(extra_headers));
}

std::string json_error(const std::string& id_raw, int status, const char* reason, int code, const char* message) {
    return json_answer(id_raw.empty() ? "null" : id_raw,
                       R"("error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + "\"}", {}, status,
                       reason);
}

std::string header_value(std::string_view head, std::string_view name) {
    std::size_t line = head.find("\r\n");
    while (line != std::string_view::npos) {
        const std::size_t start = line + 2;
        line = head.find("\r\n", start);
        const std::string_view h = head.substr(start, (line == std::string_view::npos ? head.size() : line) - start);
        if (h.size() <= name.size() || h[name.size()] != ':') continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(h[i])) == std::tolower(static_cast<unsigned char>(name[i]));
        if (!same) continue;
        std::string_view v = h.substr(name.size() + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        return std::string(v);
    }
    return {};
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// An event stream that never brings the response: `first` (when not empty) and then comments
/// only, until the client goes away.
void keep_alive_forever(int fd, const std::string& first = {}) {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"))
        return;
    const std::string comment = ": keep-alive\n\n";
    char size[32];
    if (!first.empty()) {
        std::snprintf(size, sizeof size, "%zx\r\n", first.size());
        if (!send_all(fd, std::string(size) + first + "\r\n")) return;
    }
    std::snprintf(size, sizeof size, "%zx\r\n", comment.size());
    for (int i = 0; i < 300; ++i) {
        if (!send_all(fd, std::string(size) + comment + "\r\n")) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

/// The answer to one request; empty when the connection is to be closed without one.
std::string answer(const std::string& head, const std::string& body, int fd, bool& handled) {
    const std::string method = head.substr(0, head.find(' '));
    const std::string session = header_value(head, "Mcp-Session-Id");
    const auto known = [&] {
        std::lock_guard<std::mutex> lock(sessions_mutex);
        return sessions.count(session) > 0;
    };
    if (!required_name.empty() && header_value(head, required_name) != required_value)
        return response(401, "Unauthorized", "application/json",
                        R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized"},"id":null})",
                        "WWW-Authenticate: Bearer\r\n");
    if (method == "GET") {
        if (the_fault == fault::hostile_body) return response(400, "Bad Request", "text/plain", hostile_text);
        if (the_fault == fault::get_404) return response(404, "Not Found", "", "");
        if (the_fault == fault::resumable && known()) {
            if (!header_value(head, "Last-Event-ID").empty()) {  // the replay: one event, then the end
                std::string events = "id: 2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
                                     "\"params\":{\"level\":\"info\",\"data\":\"replayed\"}}\n\n";
                return response(200, "OK", "text/event-stream", std::move(events));
            }
            keep_alive_forever(fd, "id: 1\ndata: \n\n");
            handled = true;
            return {};
        }
        return response(405, "Method Not Allowed", "", "", "Allow: POST, DELETE\r\n");
    }
    if (method == "DELETE" && the_fault == fault::delete_405)
        return response(405, "Method Not Allowed", "", "", "Allow: GET, POST\r\n");
    if (method == "DELETE") {
        std::lock_guard<std::mutex> lock(sessions_mutex);
        if (sessions.erase(session) == 0) return response(404, "Not Found", "", "");
        return response(200, "OK", "", "");
    }
    if (method != "POST") return response(405, "Method Not Allowed", "", "");

    mcp_recovery::beast::envelope e;
    std::error_code ec;
    mcp_recovery::beast::builtin_json json{};
    if (!json.parse(body, e, ec) || !e.method) return json_error({}, 400, "Bad Request", -32700, "Parse error");
    const std::string& m = *e.method;
    if (e.id_kind == mcp_recovery::beast::json_id_kind::absent) {  // a notification
        if (m != "notifications/initialized" && !known()) return response(404, "Not Found", "", "");
        return response(202, "Accepted", "", "");
    }
    if (m == "initialize") {
        std::string id;
        {
            std::lock_guard<std::mutex> lock(sessions_mutex);
            id = "hostile-" + std::to_string(next_session++);
            sessions.insert(id);
        }
        return json_answer(e.id_raw,
                           R"("result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
                           R"("serverInfo":{"name":"hostile","version":"1"}})",
                           "Mcp-Session-Id: " + id + "\r\n");
    }
    if (session.empty())
        return json_error(e.id_raw, 400, "Bad Request", -32000, "Bad Request: No valid session ID provided");
    if (!known()) return json_error(e.id_raw, 404, "Not Found", -32001, "Session not found");
    if (m == "tools/list") {
        if (the_fault == fault::keepalive_comments) {
            keep_alive_forever(fd);
            handled = true;
            return {};
        }
        return json_answer(e.id_raw, R"("result":{"tools":[]})");
    }
    if (m == "ping" && the_fault == fault::hostile_body)
        // Valid JSON whose decoded message holds quotes, a backslash and control characters (the
        // invalid UTF-8 is in the GET's body: a JSON parser rightly refuses it).
        return json_answer(e.id_raw, R"("error":{"code":-32603,"message":"bad \"quote\" back\\slash )"
                                     R"(\u0001\u001b[31m ctrl caf\u00e9 end"})");
    if (m == "ping") return json_answer(e.id_raw, R"("result":{})");
    return json_error(e.id_raw, 200, "OK", -32601, "Method not found");
}

void serve(int fd) {
    std::string buffer;
    for (int requests = 0; requests < 10000; ++requests) {
        std::size_t header_end;
        char chunk[4096];
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0 || buffer.size() > (1u << 20)) return (void)::close(fd);
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        const std::string head = buffer.substr(0, header_end);
        const std::size_t length = std::strtoul(header_value(head, "Content-Length").c_str(), nullptr, 10);
        if (length > (1u << 20)) return (void)::close(fd);
        while (buffer.size() < header_end + 4 + length) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return (void)::close(fd);
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        const std::string body = buffer.substr(header_end + 4, length);
        buffer.erase(0, header_end + 4 + length);
        bool handled = false;
        const std::string a = answer(head, body, fd, handled);
        if (handled || !send_all(fd, a)) break;
        if (the_fault == fault::idle_close && buffer.empty()) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 5) == 0) break;  // idle for 5 ms: closed
        }
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    const char* name = "none";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fault") == 0 && i + 1 < argc) name = argv[++i];
        else if (std::strcmp(argv[i], "--require-header") == 0 && i + 1 < argc) {
            const std::string h = argv[++i];
            required_name = h.substr(0, h.find(':'));
            required_value = h.find(':') == std::string::npos ? "" : h.substr(h.find(':') + 1);
        } else {
            std::fprintf(stderr, "usage: hostile_mcp_server [--fault none|stray-crlf|gzip|mismatched-id|interim|"
                                 "keepalive-comments|idle-close|hostile-body|delete-405|resumable|get-404]\n"
                                 "                          [--require-header NAME:VALUE]\n");
            return 2;
        }
    }
    const std::string f = name;
    if (f == "none") the_fault = fault::none;
    else if (f == "stray-crlf") the_fault = fault::stray_crlf;
    else if (f == "gzip") the_fault = fault::gzip;
    else if (f == "mismatched-id") the_fault = fault::mismatched_id;
    else if (f == "interim") the_fault = fault::interim;
    else if (f == "keepalive-comments") the_fault = fault::keepalive_comments;
    else if (f == "idle-close") the_fault = fault::idle_close;
    else if (f == "hostile-body") the_fault = fault::hostile_body;
    else if (f == "delete-405") the_fault = fault::delete_405;
    else if (f == "resumable") the_fault = fault::resumable;
    else if (f == "get-404") the_fault = fault::get_404;
    else {
        std::fprintf(stderr, "hostile_mcp_server: unknown fault '%s'\n", name);
        return 2;
    }

    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener, 64) != 0) {
        std::perror("hostile_mcp_server");
        return 1;
    }
    socklen_t len = sizeof a;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    std::printf("LISTENING %u\n", static_cast<unsigned>(ntohs(a.sin_port)));
    std::fflush(stdout);
    ::alarm(300);  // never outlives a test run that forgot it
    for (;;) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) continue;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::thread(serve, fd).detach();
    }
}
