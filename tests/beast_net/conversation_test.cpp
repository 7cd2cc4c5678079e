// The server's side of the conversation through the Beast transports (sync and awaitable, same
// cases): server requests on a call's stream answered while the server waits for the answer,
// progress to the call's callback (and `reset_timeout_on_progress`), `notifications/cancelled`
// for an abandoned call, the listening stream (answers, notifications, resumption with
// `Last-Event-ID`, 405, destruction that never hangs). Against `script_server`, a loopback server
// written here that writes exactly the bytes each case chooses and serves every connection on a
// thread of its own (an answer arrives on a second connection while the first waits).
#include <utility>

#include "mcp_recovery/beast/conversation.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#if __has_include(<boost/asio/co_spawn.hpp>)
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#endif

#include <boost/asio.hpp>
#include <sys/socket.h>
#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <cstdio>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace mb = mcp_recovery::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

/// One HTTP request as the server read it.
struct seen_request {
    std::string method;  ///< HTTP method
    std::string head;
    std::string body;
    bool has_header(const std::string& name) const { return head.find("\r\n" + name + ":") != std::string::npos; }
    std::string header(const std::string& name) const {
        const auto p = head.find("\r\n" + name + ": ");
        if (p == std::string::npos) return {};
        const auto b = p + name.size() + 4;
        return head.substr(b, head.find("\r\n", b) - b);
    }
};

/// A loopback MCP server whose answers each case scripts, one thread per connection (bounded:
/// at most 32), every wait bounded. `stop()` (and the destructor) closes every socket.
class script_server {
public:
    /// What to do with a POST of a request `method` (tools/call: the tool name) or a GET.
    using handler = std::function<void(script_server&, tcp::socket&, const seen_request&)>;

    script_server() : acceptor_(ioc_, tcp::endpoint(net::ip::address_v4::loopback(), 0)) {
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }
    ~script_server() { stop(); }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

    void on_tool(std::string name, handler h) {
        std::lock_guard<std::mutex> lock(mutex_);
        tools_[std::move(name)] = std::move(h);
    }
    void on_get(handler h) {
        std::lock_guard<std::mutex> lock(mutex_);
        get_ = std::move(h);
    }

    /// Every request read so far.
    std::vector<seen_request> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }
    std::size_t count(const std::string& needle) const {
        std::size_t n = 0;
        for (const auto& r : requests())
            if (r.body.find(needle) != std::string::npos || r.head.find(needle) != std::string::npos) ++n;
        return n;
    }
    std::size_t gets() const {
        std::size_t n = 0;
        for (const auto& r : requests()) n += r.method == "GET";
        return n;
    }

    /// Waits (bounded) until a request whose body contains `needle` arrived; its body, or empty.
    std::string wait_for(const std::string& needle, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock<std::mutex> lock(mutex_);
        std::string found;
        cv_.wait_for(lock, limit, [&] {
            for (const auto& r : seen_)
                if (r.body.find(needle) != std::string::npos || r.head.find(needle) != std::string::npos) {
                    found = r.body.empty() ? r.head : r.body;
                    return true;
                }
            return stopped_;
        });
        return found;
    }

    /// Waits (bounded) until `pred` holds for the requests seen, or the server stops.
    bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            if (pred()) return true;
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait_for(lock, 20ms);
        }
        return pred();
    }

    /// Closes every connection and the listener; joins every thread.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_) return;
            stopped_ = true;
            for (auto* s : open_) {
                boost::system::error_code ec;
                s->shutdown(tcp::socket::shutdown_both, ec);
            }
        }
        cv_.notify_all();
        // The accepting thread is woken by the descriptor's shutdown, and the acceptor closed once it is gone.
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
        if (accept_thread_.joinable()) accept_thread_.join();
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }

    /// Closes the connections that carry an open GET stream (the session stays).
    void drop_gets() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto* s : get_sockets_) {
            boost::system::error_code ec;
            s->shutdown(tcp::socket::shutdown_both, ec);
        }
    }

    bool stopped() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stopped_;
    }

    /// Holds a stream open until `stop()` or `drop_gets()` (for GET streams) or `limit`.
    void hold(tcp::socket& s, std::chrono::milliseconds limit = 20000ms) {
        char c;
        boost::system::error_code ec;
        const auto end = std::chrono::steady_clock::now() + limit;
        s.non_blocking(true, ec);
        while (!stopped() && std::chrono::steady_clock::now() < end) {
            const std::size_t n = s.read_some(net::buffer(&c, 1), ec);
            if (ec && ec != net::error::would_block) return;
            (void)n;
            std::this_thread::sleep_for(5ms);
        }
    }

    static void write(tcp::socket& s, const std::string& bytes) {
        boost::system::error_code ec;
        net::write(s, net::buffer(bytes), ec);
    }
    static std::string sse_head() {
        return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    }
    static std::string chunk(const std::string& data) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        return size + data + "\r\n";
    }
    static std::string event(const std::string& id, const std::string& json) {
        return chunk((id.empty() ? std::string() : "id: " + id + "\n") + "event: message\ndata: " + json + "\n\n");
    }
    static std::string json(unsigned status, const std::string& body, const std::string& extra = {}) {
        return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" + extra +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    static std::string raw_id(const std::string& body) {
        const auto p = body.find("\"id\":");
        if (p == std::string::npos) return "null";
        const auto e = body.find_first_of(",}", p + 5);
        return body.substr(p + 5, e - p - 5);
    }

private:
    void accept_loop() {
        for (;;) {
            auto sock = std::make_unique<tcp::socket>(ioc_);
            boost::system::error_code ec;
            acceptor_.accept(*sock, ec);
            if (ec) return;
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_ || threads_.size() >= 32) return;
            tcp::socket* raw = sock.release();
            open_.push_back(raw);
            threads_.emplace_back([this, raw] {
                serve(*raw);
                std::lock_guard<std::mutex> l(mutex_);
                open_.remove(raw);
                get_sockets_.remove(raw);
                delete raw;
            });
        }
    }

    void serve(tcp::socket& s) {
        std::string buf;
        for (;;) {
            seen_request r;
            if (!read_request(s, buf, r)) return;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                seen_.push_back(r);
            }
            cv_.notify_all();
            if (r.method == "GET") {
                handler h;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    h = get_;
                    get_sockets_.push_back(&s);
                }
                if (h) h(*this, s, r);
                else write(s, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                return;  // a GET stream is never followed by another request here
            }
            if (r.method == "DELETE") {
                write(s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            if (r.body.find("\"method\":\"initialize\"") != std::string::npos) {
                const std::string body = R"({"jsonrpc":"2.0","id":)" + raw_id(r.body) +
                                         R"(,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}})";
                write(s, json(200, body, "Mcp-Session-Id: sess-1\r\n"));
                continue;
            }
            if (r.body.find("\"method\"") == std::string::npos || r.body.find("\"id\"") == std::string::npos) {
                write(s, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");  // notification or answer
                continue;
            }
            handler h;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                for (const auto& [name, fn] : tools_)
                    if (r.body.find("\"name\":\"" + name + "\"") != std::string::npos) h = fn;
            }
            if (!h) {
                write(s, json(200, R"({"jsonrpc":"2.0","id":)" + raw_id(r.body) + R"(,"result":{"tools":[]}})"));
                continue;
            }
            h(*this, s, r);
            return;  // scripted answers end the connection
        }
    }

    static bool read_request(tcp::socket& s, std::string& buf, seen_request& r) {
        boost::system::error_code ec;
        std::size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
            char tmp[4096];
            const std::size_t n = s.read_some(net::buffer(tmp), ec);
            if (ec) return false;
            buf.append(tmp, n);
            if (buf.size() > 1 << 20) return false;
        }
        r.head = buf.substr(0, end + 2);
        r.method = r.head.substr(0, r.head.find(' '));
        std::size_t length = 0;
        const auto p = r.head.find("Content-Length: ");
        if (p != std::string::npos) length = std::stoul(r.head.substr(p + 16));
        buf.erase(0, end + 4);
        while (buf.size() < length) {
            char tmp[4096];
            const std::size_t n = s.read_some(net::buffer(tmp), ec);
            if (ec) return false;
            buf.append(tmp, n);
        }
        r.body = buf.substr(0, length);
        buf.erase(0, length);
        return true;
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread accept_thread_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::list<std::thread> threads_;
    std::list<tcp::socket*> open_;
    std::list<tcp::socket*> get_sockets_;
    std::vector<seen_request> seen_;
    std::map<std::string, handler> tools_;
    handler get_;
    bool stopped_ = false;
};

/// `ask`: a server request (id 0) on the call's stream; the response only after the answer came.
void ask_tool(script_server& srv, tcp::socket& s, const seen_request& r, const std::string& method) {
    script_server::write(s, script_server::sse_head() + script_server::event("p0", "") +
                                script_server::event("e1", R"({"jsonrpc":"2.0","id":0,"method":")" + method +
                                                               R"(","params":{"message":"name?","requestedSchema":{"type":"object"}}})"));
    const std::string answer = srv.wait_for("\"id\":0,\"result\"", 10000ms) + srv.wait_for("\"id\":0,\"error\"", 1ms);
    std::string text = answer.empty() ? "no answer" : "answered";
    script_server::write(s, script_server::event("e2", R"({"jsonrpc":"2.0","id":)" + script_server::raw_id(r.body) +
                                                           R"(,"result":{"content":[{"type":"text","text":")" + text +
                                                           R"("}]}})") +
                                "0\r\n\r\n");
}

mb::transport_options options_for(const script_server& srv) {
    mb::transport_options o;
    o.url = srv.url();
    o.read_timeout = 10s;
    o.max_resume_attempts = 0;
    return o;
}

mb::request tool_call(const std::string& name) {
    return mb::request{"tools/call", R"({"name":")" + name + R"(","arguments":{}})"};
}

// ---- the two flavours, one interface ----

struct sync_flavour {
    explicit sync_flavour(mb::transport_options o) : t(std::move(o)) {}
    mcp_recovery::outcome<void> connect() { return t.connect(); }
    mcp_recovery::outcome<mb::response> send(const mb::request& r,
                                             mcp_recovery::time_point d = mcp_recovery::time_point::max()) {
        return t.send(r, d);
    }
    mb::conversation_stats stats() const { return t.conversation(); }
    void stop() { t.stop_listening(); }
    mb::streamable_http_transport t;
};

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
struct async_flavour {
    explicit async_flavour(mb::transport_options o) : work(net::make_work_guard(ioc)), t(ioc.get_executor(), std::move(o)) {
        runner = std::thread([this] { ioc.run(); });
        net::co_spawn(ioc, t.async_listen(), [this](std::exception_ptr) { listen_done.set_value(); });
    }
    ~async_flavour() {
        stop();
        listen_ended.wait_for(5s);
        work.reset();
        ioc.stop();
        runner.join();
    }
    template <class T>
    T run(net::awaitable<T> a) {
        return net::co_spawn(ioc, std::move(a), net::use_future).get();
    }
    mcp_recovery::outcome<void> connect() { return run(t.async_connect()); }
    mcp_recovery::outcome<mb::response> send(const mb::request& r,
                                             mcp_recovery::time_point d = mcp_recovery::time_point::max()) {
        return run(t.async_send(r, d));
    }
    mb::conversation_stats stats() const { return t.conversation(); }
    void stop() { t.stop_listening(); }
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work;
    mb::async_streamable_http_transport t;
    std::thread runner;
    std::promise<void> listen_done;
    std::future<void> listen_ended = listen_done.get_future();
};
#define MCPR_FLAVOURS sync_flavour, async_flavour
#else
#define MCPR_FLAVOURS sync_flavour
#endif

}  // namespace

TEMPLATE_TEST_CASE("a server request on a call's stream is answered while the server waits for it",
                   "[conversation]", MCPR_FLAVOURS) {
    script_server srv;
    srv.on_tool("ask", [](script_server& s, tcp::socket& sock, const seen_request& r) { ask_tool(s, sock, r, "elicitation/create"); });
    srv.on_tool("ask_ping", [](script_server& s, tcp::socket& sock, const seen_request& r) { ask_tool(s, sock, r, "ping"); });
    srv.on_tool("ask_other", [](script_server& s, tcp::socket& sock, const seen_request& r) { ask_tool(s, sock, r, "sampling/createMessage"); });
    mb::transport_options o = options_for(srv);
    std::atomic<int> handled{0};
    std::string seen_id;
    o.server_requests["elicitation/create"] = [&](const mb::server_request& q) {
        ++handled;
        seen_id = q.id;
        return mb::server_reply::ok(R"({"action":"accept","content":{"name":"x"}})");
    };
    TestType c(o);
    REQUIRE(c.connect());
    // the handler's method is declared as a capability
    CHECK(srv.count(R"("elicitation":{})") == 1);
    CHECK(srv.count(R"("sampling")") == 0);

    const auto began = std::chrono::steady_clock::now();
    auto r = c.send(tool_call("ask"), mcp_recovery::clock_type::now() + 30s);
    REQUIRE(r);
    CHECK(std::string(r->result()).find("answered") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - began < 10s);  // far below the 30 s deadline
    CHECK(handled == 1);
    CHECK(seen_id == "0");
    const std::string answer = srv.wait_for("\"id\":0,\"result\"");
    CHECK(answer.find(R"("action":"accept")") != std::string::npos);
    for (const auto& q : srv.requests())
        if (q.body.find("\"id\":0,\"result\"") != std::string::npos) CHECK(q.header("Mcp-Session-Id") == "sess-1");

    // ping without a handler: {}; an unknown method: -32601, so the server never waits
    auto p = c.send(tool_call("ask_ping"), mcp_recovery::clock_type::now() + 30s);
    REQUIRE(p);
    CHECK(std::string(p->result()).find("answered") != std::string::npos);
    CHECK(srv.count(R"("id":0,"result":{})") == 1);
    auto u = c.send(tool_call("ask_other"), mcp_recovery::clock_type::now() + 30s);
    REQUIRE(u);
    CHECK(srv.count(R"("code":-32601)") == 1);
    CHECK(c.stats().requests_answered == 3);
}

TEMPLATE_TEST_CASE("progress notifications reach the call's callback and may extend its response timeout",
                   "[conversation]", MCPR_FLAVOURS) {
    script_server srv;
    // 30 progress events 50 ms apart (1.5 s in all), then the response.
    srv.on_tool("slow", [](script_server&, tcp::socket& s, const seen_request& r) {
        const auto p = r.body.find("\"progressToken\":");
        const std::string token = p == std::string::npos ? "none" : r.body.substr(p + 16, r.body.find_first_of(",}", p + 16) - p - 16);
        script_server::write(s, script_server::sse_head());
        for (int i = 1; i <= 30; ++i) {
            script_server::write(s, script_server::event("", R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":)" +
                                                                 token + R"(,"progress":)" + std::to_string(i) +
                                                                 R"(,"total":30,"message":"step"}})"));
            std::this_thread::sleep_for(50ms);
        }
        script_server::write(s, script_server::event("", R"({"jsonrpc":"2.0","id":)" + script_server::raw_id(r.body) +
                                                             R"(,"result":{"content":[]}})") + "0\r\n\r\n");
    });
    mb::transport_options o = options_for(srv);
    o.response_timeout = 400ms;  // far shorter than the 1.5 s the call takes, far longer than 50 ms
    std::vector<double> seen;
    std::mutex m;
    mb::request r = tool_call("slow");
    r.on_progress = [&](const mb::progress_update& u) {
        std::lock_guard<std::mutex> lock(m);
        seen.push_back(u.progress);
        CHECK(u.total == 30);
    };
    SECTION("reset_timeout_on_progress keeps it alive") {
        o.reset_timeout_on_progress = true;
        TestType c(o);
        REQUIRE(c.connect());
        auto x = c.send(r, mcp_recovery::clock_type::now() + 20s);
        REQUIRE(x);
        std::lock_guard<std::mutex> lock(m);
        REQUIRE(seen.size() == 30);
        CHECK(seen.front() == 1);
        CHECK(seen.back() == 30);
        CHECK(srv.count(R"("_meta":{"progressToken":)") == 1);
    }
    SECTION("without it the response timeout ends the call") {
        TestType c(o);
        REQUIRE(c.connect());
        auto x = c.send(r, mcp_recovery::clock_type::now() + 20s);
        REQUIRE_FALSE(x);
        CHECK(x.error().transport_error == std::errc::timed_out);
        std::lock_guard<std::mutex> lock(m);
        CHECK(seen.size() < 30);
    }
}

TEMPLATE_TEST_CASE("a call abandoned after its request was written sends notifications/cancelled with its id",
                   "[conversation]", MCPR_FLAVOURS) {
    script_server srv;
    srv.on_tool("hang", [](script_server& s, tcp::socket& sock, const seen_request&) {
        script_server::write(sock, script_server::sse_head() + script_server::event("h0", ""));
        s.hold(sock);
    });
    TestType c(options_for(srv));
    REQUIRE(c.connect());
    const auto began = std::chrono::steady_clock::now();
    auto x = c.send(tool_call("hang"), mcp_recovery::clock_type::now() + 300ms);
    const auto took = std::chrono::steady_clock::now() - began;
    REQUIRE_FALSE(x);
    CHECK(took < 3s);  // the notice does not delay the caller (it would wait for a 10 s read)
    std::string call_id;
    for (const auto& q : srv.requests())
        if (q.body.find("\"name\":\"hang\"") != std::string::npos) call_id = script_server::raw_id(q.body);
    REQUIRE_FALSE(call_id.empty());
    const std::string notice = srv.wait_for("notifications/cancelled");
    REQUIRE_FALSE(notice.empty());
    CHECK(notice.find(R"("requestId":)" + call_id + ",") != std::string::npos);
    CHECK(c.stats().cancellations_sent == 1);
    // a call that failed without being abandoned (an HTTP error) sends none
    srv.on_tool("fail", [](script_server&, tcp::socket& s, const seen_request&) {
        script_server::write(s, script_server::json(500, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"x"}})"));
    });
    auto f = c.send(tool_call("fail"), mcp_recovery::clock_type::now() + 5s);
    CHECK_FALSE(f);
    CHECK(c.stats().cancellations_sent == 1);
}

TEMPLATE_TEST_CASE("the listening stream: requests answered, notifications passed on, resumed with Last-Event-ID",
                   "[conversation]", MCPR_FLAVOURS) {
    script_server srv;
    std::atomic<int> get_number{0};
    srv.on_get([&](script_server& s, tcp::socket& sock, const seen_request& r) {
        const int n = ++get_number;
        script_server::write(sock, script_server::sse_head());
        script_server::write(sock, script_server::chunk("retry: 50\n\n"));
        if (n == 1) {
            CHECK_FALSE(r.has_header("Last-Event-ID"));
            script_server::write(sock, script_server::event("g1", R"({"jsonrpc":"2.0","id":0,"method":"ping"})") +
                                           script_server::event("g2", R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"file:///a"}})"));
        } else {
            script_server::write(sock, script_server::event("g3", R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"again"}})"));
        }
        s.hold(sock);
    });
    mb::transport_options o = options_for(srv);
    o.listen = true;
    o.listen_retry_delay = 50ms;
    std::mutex m;
    std::vector<std::string> notes;
    o.on_notification = [&](std::string_view method, std::string_view) {
        std::lock_guard<std::mutex> lock(m);
        notes.emplace_back(method);
    };
    auto count_notes = [&] {
        std::lock_guard<std::mutex> lock(m);
        return notes.size();
    };
    TestType c(o);
    REQUIRE(c.connect());
    REQUIRE(srv.wait_until([&] { return count_notes() >= 1 && srv.count(R"("id":0,"result":{})") == 1; }));
    CHECK(c.stats().requests_answered == 1);
    // the stream drops: it is resumed after the last event id it saw
    srv.drop_gets();
    REQUIRE(srv.wait_until([&] { return count_notes() >= 2; }));
    const auto reqs = srv.requests();
    std::string resumed_from;
    for (const auto& q : reqs)
        if (q.method == "GET" && q.has_header("Last-Event-ID")) resumed_from = q.header("Last-Event-ID");
    CHECK(resumed_from == "g2");
    CHECK(c.stats().listening_resumed >= 1);
    {
        std::lock_guard<std::mutex> lock(m);
        CHECK(notes[0] == "notifications/resources/updated");
        CHECK(notes[1] == "notifications/message");
    }
    // stopping returns at once although the stream is silent and the read timeout is 10 s
    const auto began = std::chrono::steady_clock::now();
    c.stop();
    CHECK(std::chrono::steady_clock::now() - began < 3s);
}

TEMPLATE_TEST_CASE("a server without a listening stream (405) is not asked again in that session", "[conversation]",
                   MCPR_FLAVOURS) {
    script_server srv;  // no GET handler: 405
    mb::transport_options o = options_for(srv);
    o.listen = true;
    o.listen_retry_delay = 10ms;
    TestType c(o);
    REQUIRE(c.connect());
    REQUIRE(srv.wait_until([&] { return c.stats().listening_not_offered == 1; }));
    // 50 retry delays later, still one GET
    std::this_thread::sleep_for(500ms);
    CHECK(srv.gets() == 1);
}

TEST_CASE("destroying a sync transport whose listening stream is silent returns at once", "[conversation]") {
    script_server srv;
    srv.on_get([](script_server& s, tcp::socket& sock, const seen_request&) {
        script_server::write(sock, script_server::sse_head());
        s.hold(sock);
    });
    mb::transport_options o = options_for(srv);
    o.listen = true;
    o.read_timeout = 60s;
    auto t = std::make_unique<mb::streamable_http_transport>(o);
    REQUIRE(t->connect());
    REQUIRE(srv.wait_until([&] { return t->listening(); }));
    const auto began = std::chrono::steady_clock::now();
    t.reset();
    CHECK(std::chrono::steady_clock::now() - began < 3s);
}
