// Fuzz target for the response framing of the synchronous Streamable-HTTP transport (issue 11):
// arbitrary byte streams, served as a sequence of responses to a sequence of requests on one
// pooled connection. A call must never receive bytes that belong to another response.
//
// Build and run: bash scripts/fuzz.sh SECONDS (needs the Beast adapter: Boost headers). By hand:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iadapters/beast/include -Iinclude \
//       tests/fuzz/fuzz_framing.cpp -o /tmp/fuzz_framing -pthread && \
//   /tmp/fuzz_framing -dict=tests/fuzz/framing.dict tests/fuzz/seeds/fuzz_framing
// MCPR_FUZZ_VERBOSE=1 prints each call's outcome (to read a crash input: /tmp/fuzz_framing FILE).
// The seeds (tests/fuzz/seeds/fuzz_framing) are the issue's cases: a stray CRLF, Content-Length
// counted in characters, an answer queued ahead, 1xx, event streams, Connection: close, ...
//
// The input is up to 6 response templates separated by "@NEXT@". A loopback server (127.0.0.1,
// ephemeral port, one per process, a thread per connection) answers the k-th call's request with
// template k, placeholders filled in:
//   @ID@      the request's JSON-RPC id          @NEXTID@  that id + 1 (an answer sent ahead)
//   @K@       a number unique to this write      @CLOSE@   close the connection after writing
//   @LEN@     decimal length of the bytes from the first CRLFCRLF after it to the next @END@
//             (else to the next "HTTP/1.", else to the end of the template)
//   @HEX@     the same in hex, from the first CRLF after it (a chunk size)     @END@  removed
// Otherwise the connection stays open, so the client pools it. One more call follows the
// templates and gets a clean JSON answer: it reads whatever the last template left behind.
//
// The transport (sessionless revision 2026-07-28: no initialize) sends the calls one after the
// other with short timeouts. Invariants, for call k:
//   - a response is only returned when the server wrote something during call k, its id is the
//     id of call k's request, and every line of its message occurs in one of call k's writes,
//     raw or as the body of an HTTP message parsed from it (dechunked, after 1xx responses);
//   - the same for every message handed to on_message during call k;
//   - a failure with an HTTP status: that status occurs in a write of call k, and a message
//     taken from an error body comes from one of call k's bodies.
// A call answered with another call's bytes fails one of these (each write is unique through
// @ID@ and @K@ when the input uses them).
#include <utility>

#include <mcp_recovery/beast/streamable_http_transport.hpp>

#include <boost/beast/http.hpp>

#include "fuzz_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace mb = mcp_recovery::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::size_t max_templates = 6;
constexpr std::string_view delimiter = "@NEXT@";

// ---- templates ----

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
}

/// Replaces each `marker` (@LEN@ or @HEX@) with the length of the bytes that start after the first
/// `start` (CRLFCRLF or CRLF) following it and end at the next @END@ (which goes), else before the
/// next "HTTP/1." (the next response), else at the end.
void fill_lengths(std::string& s, std::string_view marker, std::string_view start, bool hex) {
    for (int guard = 0; guard < 64; ++guard) {
        const std::size_t m = s.find(marker);
        if (m == std::string::npos) return;
        s.erase(m, marker.size());
        std::size_t from = s.find(start, m);
        from = from == std::string::npos ? s.size() : from + start.size();
        std::size_t to = s.find("@END@", from);
        if (to != std::string::npos) {
            s.erase(to, 5);
        } else {
            to = s.find("HTTP/1.", from);  // the next response
            if (to == std::string::npos) to = s.size();
        }
        char number[32];
        std::snprintf(number, sizeof number, hex ? "%zx" : "%zu", to - from);
        s.insert(m, number);
    }
}

struct filled {
    std::string bytes;
    bool close = false;
};

filled fill(std::string t, long long id, unsigned long long k) {
    filled f;
    f.close = t.find("@CLOSE@") != std::string::npos;
    replace_all(t, "@CLOSE@", "");
    replace_all(t, "@NEXTID@", std::to_string(id + 1));
    replace_all(t, "@ID@", std::to_string(id));
    replace_all(t, "@K@", std::to_string(k));
    fill_lengths(t, "@LEN@", "\r\n\r\n", false);
    fill_lengths(t, "@HEX@", "\r\n", true);
    replace_all(t, "@END@", "");
    f.bytes = std::move(t);
    return f;
}

std::string clean_answer(long long id, unsigned long long k) {
    const std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"probe":)" +
                             std::to_string(k) + "}}";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// ---- the loopback server ----

struct server_write {
    int call;
    long long id;
    std::string bytes;
};

class loopback_server {
public:
    loopback_server() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (listener_ < 0) std::abort();
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 64) != 0)
            std::abort();
        socklen_t len = sizeof a;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        std::thread([this] { accept_loop(); }).detach();  // lives as long as the process
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

    void begin(std::vector<std::string> templates) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++iteration_;
        templates_ = std::move(templates);
        call_ = -1;
        writes_.clear();
    }

    void set_call(int call) {
        std::lock_guard<std::mutex> lock(mutex_);
        call_ = call;
    }

    std::vector<server_write> writes_of(int call) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<server_write> out;
        for (const auto& w : writes_)
            if (w.call == call) out.push_back(w);
        return out;
    }

    /// After the transport is gone (its sockets closed): joins the connection threads.
    void end() {
        std::vector<std::thread> threads;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++iteration_;  // a request read from now on belongs to no call
            threads.swap(threads_);
        }
        for (auto& t : threads) t.join();
    }

private:
    void accept_loop() {
        for (;;) {
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            timeval tv{1, 0};  // never stuck on a connection for long, whatever the client does
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::lock_guard<std::mutex> lock(mutex_);
            const std::uint64_t iteration = iteration_;
            threads_.emplace_back([this, fd, iteration] { serve(fd, iteration); });
        }
    }

    void serve(int fd, std::uint64_t iteration) {
        std::string buffer;
        for (int requests = 0; requests < 32; ++requests) {
            std::size_t header_end;
            while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
                if (!receive(fd, buffer) || buffer.size() > (1u << 20)) return finish(fd);
            }
            std::size_t length = 0;
            const std::string head = buffer.substr(0, header_end);
            for (const char* name : {"Content-Length: ", "content-length: "}) {
                const auto p = head.find(name);
                if (p != std::string::npos) length = std::strtoul(head.c_str() + p + std::strlen(name), nullptr, 10);
            }
            if (length > (1u << 20)) return finish(fd);
            while (buffer.size() < header_end + 4 + length) {
                if (!receive(fd, buffer)) return finish(fd);
            }
            const std::string body = buffer.substr(header_end + 4, length);
            buffer.erase(0, header_end + 4 + length);
            long long id = -1;
            if (const auto p = body.find("\"id\":"); p != std::string::npos) id = std::atoll(body.c_str() + p + 5);

            filled answer;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (iteration != iteration_ || call_ < 0) return finish(fd);  // a request of an earlier run
                const unsigned long long k = ++writes_made_;
                const auto call = static_cast<std::size_t>(call_);
                if (call < templates_.size()) answer = fill(templates_[call], id, k);
                else answer.bytes = clean_answer(id, k);
                writes_.push_back(server_write{call_, id, answer.bytes});  // logged before the client can read it
            }
            std::size_t sent = 0;
            while (sent < answer.bytes.size()) {
                const ssize_t n = ::send(fd, answer.bytes.data() + sent, answer.bytes.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) return finish(fd);
                sent += static_cast<std::size_t>(n);
            }
            if (answer.close) return finish(fd);
        }
        finish(fd);
    }

    static bool receive(int fd, std::string& buffer) {
        char chunk[4096];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    static void finish(int fd) {
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::mutex mutex_;
    std::uint64_t iteration_ = 0;
    unsigned long long writes_made_ = 0;
    std::vector<std::string> templates_;
    int call_ = -1;
    std::vector<server_write> writes_;
    std::vector<std::thread> threads_;
};

// ---- what a call may have received ----

/// `bytes` as written, and the body (or the body so far) of each HTTP message parsed from it in
/// turn: interim responses, the final one, and whatever follows it.
std::vector<std::string> candidates_of(const std::vector<server_write>& writes) {
    std::vector<std::string> out;
    for (const auto& w : writes) {
        const std::string_view bytes = w.bytes;
        out.emplace_back(bytes);
        std::size_t offset = 0;
        for (int m = 0; m < 16 && offset < bytes.size(); ++m) {
            bhttp::response_parser<bhttp::string_body> parser;
            parser.eager(true);
            parser.header_limit(1u << 20);
            parser.body_limit(std::uint64_t{1} << 24);
            boost::system::error_code ec;
            for (int step = 0; step < 1024 && offset < bytes.size() && !parser.is_done(); ++step) {
                const std::size_t n =
                    parser.put(boost::asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
                offset += n;
                if (ec || n == 0) break;
            }
            if (ec == bhttp::error::need_more) ec = {};
            if (!ec && !parser.is_done()) parser.put_eof(ec);  // a body delimited by the end of the connection
            if (parser.is_header_done()) out.push_back(parser.get().body());
            if (!parser.is_done()) break;
        }
    }
    return out;
}

/// Whether every line of `message` occurs in one same candidate.
bool attributable(std::string_view message, const std::vector<std::string>& candidates) {
    for (const auto& c : candidates) {
        bool all = true;
        std::size_t start = 0;
        while (all && start <= message.size()) {
            std::size_t end = message.find('\n', start);
            if (end == std::string_view::npos) end = message.size();
            const std::string_view line = message.substr(start, end - start);
            if (!line.empty() && c.find(line) == std::string::npos) all = false;
            start = end + 1;
        }
        if (all) return true;
    }
    return false;
}

bool error_message_of_a_body(const std::string& message, const std::vector<std::string>& candidates) {
    for (const auto& c : candidates) {
        mb::envelope e;
        std::error_code ec;
        mb::builtin_json json{};
        if (json.parse(c, e, ec) && e.has_error && e.error_message && *e.error_message == message) return true;
    }
    return false;
}

std::vector<std::string> split(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> templates;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.empty()) return templates;
    std::size_t start = 0;
    while (templates.size() < max_templates) {
        const std::size_t end = input.find(delimiter, start);
        if (end == std::string_view::npos || templates.size() + 1 == max_templates) {
            templates.emplace_back(input.substr(start));
            break;
        }
        templates.emplace_back(input.substr(start, end - start));
        start = end + delimiter.size();
    }
    return templates;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static loopback_server server;
    static const bool verbose = std::getenv("MCPR_FUZZ_VERBOSE") != nullptr;  // each call's outcome on stderr
    if (size > 16 * 1024) return 0;
    const std::vector<std::string> templates = split(data, size);
    const int calls = static_cast<int>(templates.size()) + 1;  // and a clean one after them
    server.begin(templates);
    {
        std::vector<std::string> notified;
        mb::transport_options o;
        o.url = server.url();
        o.protocol_version = "2026-07-28";  // sessionless: no initialize, no session id
        o.connect_timeout = 500ms;
        o.write_timeout = 200ms;
        o.read_timeout = 25ms;  // loopback: a server that wrote all it will write is read at once
        o.max_resume_attempts = 0;
        o.response_timeout = 100ms;  // keep-alive comments or a slow trickle do not hold a call longer
        o.on_message = [&](std::string_view m) {
            if (notified.size() < 64) notified.emplace_back(m);
        };
        mb::streamable_http_transport transport(o);
        FUZZ_CHECK(transport.connect());
        for (int call = 0; call < calls; ++call) {
            notified.clear();
            server.set_call(call);
            const auto r = transport.send(mb::request{"tools/list", "{}"}, mcp_recovery::clock_type::now() + 2s);
            const std::vector<server_write> writes = server.writes_of(call);
            const std::vector<std::string> candidates = candidates_of(writes);
            if (verbose) {
                const auto opened = transport.connections_opened();
                if (r) std::fprintf(stderr, "call %d (%zu connections): %s\n", call, opened, r->message.c_str());
                else
                    std::fprintf(stderr, "call %d (%zu connections): failed: HTTP %d, %s, \"%s\"\n", call, opened,
                                 r.error().http_status, r.error().transport_error.message().c_str(),
                                 r.error().message.str().c_str());
            }
            for (const auto& m : notified) {
                if (!attributable(m, candidates)) {
                    std::fprintf(stderr, "call %d got a message on its stream that the server did not send for it: "
                                 "%s\n", call, m.c_str());
                    mcp_recovery_fuzz::violated("a server message of another response");
                }
            }
            if (r) {
                FUZZ_CHECK(!writes.empty());  // answered although the server wrote nothing for this call
                bool own_id = false;
                for (const auto& w : writes) own_id = own_id || r->fields.id_integer == w.id;
                FUZZ_CHECK(own_id);
                if (!attributable(r->message, candidates)) {
                    std::fprintf(stderr, "call %d was answered with bytes the server did not send for it: %s\n", call,
                                 r->message.c_str());
                    mcp_recovery_fuzz::violated("a response made of another response's bytes");
                }
                continue;
            }
            const mcp_recovery::failure& f = r.error();
            if (f.http_status != 0) {
                bool status_written = false;
                for (const auto& w : writes)
                    status_written = status_written || w.bytes.find(std::to_string(f.http_status)) != std::string::npos;
                if (!status_written) {
                    std::fprintf(stderr, "call %d failed with HTTP %d, a status the server did not send for it\n", call,
                                 f.http_status);
                    mcp_recovery_fuzz::violated("a status of another response");
                }
            }
            if (f.http_status >= 400 && !f.transport_error && !f.message.empty()) {
                const std::string message = f.message.str();
                if (!attributable(message, candidates) && !error_message_of_a_body(message, candidates)) {
                    std::fprintf(stderr, "call %d failed with an error body the server did not send for it: %s\n",
                                 call, message.c_str());
                    mcp_recovery_fuzz::violated("an error body of another response");
                }
            }
        }
    }  // the transport closes its connections
    server.end();
    return 0;
}
