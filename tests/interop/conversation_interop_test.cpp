// Interop, the server's side of the conversation: the Beast transports answer the requests that
// @modelcontextprotocol/server-everything (code we did not write, pinned in package-lock.json)
// sends to the client — elicitation/create, sampling/createMessage, roots/list — follow a call's
// progress, and keep the GET listening stream across a server restart (SIGKILL by PID, the same
// port after 1 s). Each case runs with both flavours: the synchronous transport through
// recovering_client, and the awaitable transport through async_recovering_client on an io_context
// run by one thread. Every wait is bounded. The notification counts of the restart case are
// printed on stdout for the report.
//
// Needs `npm ci` in tests/interop and MCP_RECOVERY_INTEROP_DIR (ctest sets it). POSIX only.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "restart_interop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#define MCPR_CONVERSATION_ASYNC 1
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using restart_interop::node_server;
using namespace std::chrono_literals;

namespace {

using result_type = outcome<mb::response, call_error>;

/// What the server sent to the client: its requests (as the handlers saw them) and notifications.
class recorder {
public:
    void request(const mb::server_request& r) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(r);
        }
        cv_.notify_all();
    }
    void notification(std::string_view method) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++notifications_[std::string(method)];
        }
        cv_.notify_all();
    }
    std::vector<mb::server_request> requests(std::string_view method) const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<mb::server_request> out;
        for (const auto& r : requests_)
            if (r.method == method) out.push_back(r);
        return out;
    }
    int count(const std::string& method) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = notifications_.find(method);
        return it == notifications_.end() ? 0 : it->second;
    }
    /// Waits (bounded) until at least `n` notifications `method` came; true when they did.
    bool wait_count(const std::string& method, int n, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            auto it = notifications_.find(method);
            return it != notifications_.end() && it->second >= n;
        });
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<mb::server_request> requests_;
    std::map<std::string, int> notifications_;
};

/// Which handlers a case installs, and what they answer.
struct handler_spec {
    bool elicitation = false;
    bool sampling = false;
    bool roots = false;
    std::string elicitation_action = "accept";
};

const std::string accepted_content =
    R"({"name":"Ada Lovelace","check":true,"email":"ada@example.com","integer":42,"number":3.5})";

mb::server_reply elicitation_reply(const std::string& action) {
    if (action == "accept") return mb::server_reply::ok(R"({"action":"accept","content":)" + accepted_content + "}");
    return mb::server_reply::ok(R"({"action":")" + action + R"("})");
}
const std::string sampled_text = "mcpr sampled answer 7f3a";
mb::server_reply sampling_reply() {
    return mb::server_reply::ok(R"({"role":"assistant","content":{"type":"text","text":")" + sampled_text +
                                R"("},"model":"test-model"})");
}
// The root the client reports (a made-up URI: server-everything only echoes it, nothing opens it).
constexpr const char* test_root_uri = "file:///mcpr-test-root";
mb::server_reply roots_reply() {
    return mb::server_reply::ok(std::string(R"({"roots":[{"uri":")") + test_root_uri + R"(","name":"r"}]})");
}

/// Whether the flavours keep the transport's default listening back-off (the listening-latency case).
bool default_listen_backoff = false;

mb::transport_options options_for(const std::string& url, recorder& rec, const handler_spec& spec, bool listen,
                                  bool elicitation_in_options) {
    mb::transport_options o;
    o.url = url;
    o.client_name = "mcpr-conversation-interop";
    o.connect_timeout = 5s;
    o.read_timeout = 30s;
    o.listen = listen;
    if (!default_listen_backoff) {
        o.listen_retry_delay = 250ms;
        o.max_resume_delay = 2s;  // the listener's longest back-off while the server is down
        o.max_listen_attempts = 20;
    }
    o.on_notification = [&rec](std::string_view method, std::string_view) { rec.notification(method); };
    if (std::getenv("MCPR_CONVERSATION_DEBUG"))  // every server message, on stderr
        o.on_message = [](std::string_view m) { std::fprintf(stderr, "[server message] %.*s\n", static_cast<int>(m.size()), m.data()); };
    if (spec.elicitation && elicitation_in_options) {
        const std::string action = spec.elicitation_action;
        o.server_requests["elicitation/create"] = [&rec, action](const mb::server_request& r) {
            rec.request(r);
            return elicitation_reply(action);
        };
    }
    if (spec.sampling)
        o.server_requests["sampling/createMessage"] = [&rec](const mb::server_request& r) {
            rec.request(r);
            return sampling_reply();
        };
    if (spec.roots)
        o.server_requests["roots/list"] = [&rec](const mb::server_request& r) {
            rec.request(r);
            return roots_reply();
        };
    return o;
}

/// A request sent again by the `on_reconnected` hook on the new session: a JSON-RPC error fails the hook.
failure hook_failure(const std::string& method, const std::string& why) {
    failure f;
    f.message = "on_reconnected: " + method + ": " + why;
    f.delivered = delivery::rejected;
    return f;
}

// ---- the synchronous flavour: streamable_http_transport through recovering_client ----

class sync_flavour {
public:
    using client_type = recovering_client<mb::streamable_http_transport, default_classifier, retry_once, no_backoff,
                                          single_flight_reconnector<>, counting_observer>;
    static constexpr const char* name = "sync";

    sync_flavour(const std::string& url, recorder& rec, const handler_spec& spec, bool listen)
        : client_(std::make_unique<client_type>(std::in_place, options_for(url, rec, spec, listen, true))) {}

    bool connect() {
        auto r = client_->transport().connect();
        if (!r) WARN("connect failed: " << r.error().message.str());
        return static_cast<bool>(r);
    }
    result_type call(const mb::request& r, const call_options& o) { return client_->try_call(r, o); }

    /// The hook re-sends `requests` (in order) on every new session.
    void restore_with(std::vector<mb::request> requests) {
        client_->on_reconnected([requests](mb::streamable_http_transport& t) -> outcome<void> {
            for (const auto& req : requests) {
                auto r = t.send(req, clock_type::now() + 10s);
                if (!r) return std::move(r).error();
                if (r->is_error()) return hook_failure(req.method, r->message);
            }
            return {};
        });
    }
    bool listening() const { return client_->transport().listening(); }
    mb::conversation_stats stats() const { return client_->transport().conversation(); }
    std::uint64_t reconnects_succeeded() const { return client_->observer().reconnects_succeeded(); }

private:
    std::unique_ptr<client_type> client_;
};

#if defined(MCPR_CONVERSATION_ASYNC)
namespace net = boost::asio;

// ---- the asynchronous flavour: async_streamable_http_transport through async_recovering_client ----

net::awaitable<outcome<void>> resend_all(mb::async_streamable_http_transport& t, std::vector<mb::request> requests) {
    for (const auto& req : requests) {
        outcome<mb::response> r = co_await t.async_send(req, clock_type::now() + 10s);
        if (!r) co_return std::move(r).error();
        if (r->is_error()) co_return hook_failure(req.method, r->message);
    }
    co_return outcome<void>{};
}

class async_flavour {
public:
    using transport_type = mb::async_streamable_http_transport;
    using client_type = mb::async_recovering_client<transport_type, default_classifier, retry_once, no_backoff,
                                                    mb::async_single_flight_reconnector<>, counting_observer>;
    static constexpr const char* name = "async";

    /// The elicitation handler is an awaitable one (`async_server_request_handlers`); the others
    /// are the plain handlers of the options, which the async transport runs as well.
    async_flavour(const std::string& url, recorder& rec, const handler_spec& spec, bool listen) : work_(ioc_.get_executor()) {
        transport_type::async_server_request_handlers async_handlers;
        if (spec.elicitation) {
            const std::string action = spec.elicitation_action;
            async_handlers["elicitation/create"] = [&rec, action](mb::server_request r) { return answer(rec, r, action); };
        }
        client_ = std::make_unique<client_type>(ioc_.get_executor(), std::in_place, ioc_.get_executor(),
                                                options_for(url, rec, spec, listen, false), std::move(async_handlers));
        io_ = std::thread([this] {
            ioc_.run();
            std::lock_guard<std::mutex> lock(io_mutex_);
            io_done_ = true;
            io_cv_.notify_all();
        });
        if (listen) net::co_spawn(ioc_, client_->transport().async_listen(), net::detached);
    }

    ~async_flavour() {
        client_->transport().stop_listening();
        client_->cancel();
        work_.reset();
        bool clean = false;
        {
            std::unique_lock<std::mutex> lock(io_mutex_);
            clean = io_cv_.wait_for(lock, 15s, [&] { return io_done_; });
        }
        if (!clean) {
            WARN("async flavour: the io_context still had work 15 s after stop_listening(); stopped");
            ioc_.stop();
        }
        io_.join();
        // Coroutines left unfinished (only after a failed wait) still point into the client: it
        // is leaked rather than destroyed under them.
        if (!clean) (void)client_.release();
    }

    bool connect() {
        auto r = run(client_->transport().async_connect(), 30s);
        if (r && !*r) WARN("connect failed: " << r->error().message.str());
        return r && *r;
    }
    result_type call(const mb::request& req, const call_options& o) {
        // The wait is bounded by the call's own deadline plus a margin.
        const auto bound = o.timeout ? std::chrono::duration_cast<std::chrono::seconds>(*o.timeout) + 15s : 120s;
        auto r = run(client_->call(req, o), bound);
        if (!r) {
            failure f;
            f.message = "the awaitable call did not complete within the test's bound";
            return call_error{make_error_code(errc::deadline_exceeded), f};
        }
        return std::move(*r);
    }
    void restore_with(std::vector<mb::request> requests) {
        client_->on_reconnected([requests](transport_type& t) { return resend_all(t, requests); });
    }
    bool listening() const { return client_->transport().listening(); }
    mb::conversation_stats stats() const { return client_->transport().conversation(); }
    std::uint64_t reconnects_succeeded() const { return client_->observer().reconnects_succeeded(); }

private:
    static net::awaitable<mb::server_reply> answer(recorder& rec, mb::server_request r, std::string action) {
        // An awaitable handler really awaits something before it answers.
        net::steady_timer timer(co_await net::this_coro::executor, 10ms);
        co_await timer.async_wait(net::use_awaitable);
        rec.request(r);
        co_return elicitation_reply(action);
    }

    /// Runs `a` on the io thread; nothing when it did not complete within `bound`.
    template <class T>
    std::optional<T> run(net::awaitable<T> a, std::chrono::seconds bound) {
        std::future<T> f = net::co_spawn(ioc_, std::move(a), net::use_future);
        if (f.wait_for(bound) != std::future_status::ready) {
            WARN("async flavour: an awaitable did not complete within " << bound.count() << " s");
            return std::nullopt;
        }
        return f.get();
    }

    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::unique_ptr<client_type> client_;
    std::thread io_;
    std::mutex io_mutex_;
    std::condition_variable io_cv_;
    bool io_done_ = false;
};
#endif

// ---- the cases, one template for both flavours ----

std::string describe(const result_type& r) {
    if (r) return r->is_error() ? "JSON-RPC error: " + r->message : std::string(r->result());
    std::string s = r.error().code.message();
    if (r.error().last_failure) s += " -- " + r.error().last_failure->message.str();
    return s;
}

/// The tool result's text, as JSON text (escaped): enough to look for the words in it.
std::string tool_text(const result_type& r) {
    REQUIRE(r);
    REQUIRE_FALSE(r->is_error());
    auto content = mb::find_member(r->result(), "content");
    REQUIRE(content);
    return std::string(*content);
}

mb::request tool(const std::string& name, const std::string& arguments = "{}") {
    return {"tools/call", R"({"name":")" + name + R"(","arguments":)" + arguments + "}"};
}

call_options with_timeout(std::chrono::seconds t) {
    call_options o;
    o.timeout = t;
    return o;
}

using wall = std::chrono::steady_clock;

/// Waits (bounded) until `pred` holds, polling.
template <class Pred>
bool poll_until(Pred pred, std::chrono::milliseconds timeout) {
    const auto end = wall::now() + timeout;
    while (!pred()) {
        if (wall::now() >= end) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

template <class Flavour>
void elicitation_case(const std::string& action) {
    CAPTURE(Flavour::name, action);
    node_server server("start_everything.mjs", {});
    recorder rec;
    handler_spec spec;
    spec.elicitation = true;
    spec.elicitation_action = action;
    Flavour f(server.url(), rec, spec, false);
    REQUIRE(f.connect());

    // A server request never stalls a call: the server waits for the answer before it answers
    // the call, so the call ends well within its deadline (30 s) only when the answer went back.
    const auto began = wall::now();
    result_type r = f.call(tool("trigger-elicitation-request"), with_timeout(30s));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(wall::now() - began);
    INFO(describe(r));
    const std::string text = tool_text(r);
    CHECK(took < 10s);
    WARN(Flavour::name << ": trigger-elicitation-request (" << action << ") answered in " << took.count() << " ms");
    if (action == "accept") {
        CHECK(text.find("User provided the requested information") != std::string::npos);
        CHECK(text.find("Name: Ada Lovelace") != std::string::npos);
        CHECK(text.find("Email: ada@example.com") != std::string::npos);
        CHECK(text.find("Favorite Integer: 42") != std::string::npos);
    } else {
        CHECK(text.find("User declined") != std::string::npos);
    }
    const auto seen = rec.requests("elicitation/create");
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].id == "0");  // the server's first request: id 0, which is an id, not "none"
    CHECK(seen[0].method == "elicitation/create");
    auto schema = mb::find_member(seen[0].params, "requestedSchema");
    REQUIRE(schema);
    CHECK(mb::find_member(*schema, "properties"));
    CHECK(f.stats().requests_answered == 1);
}

template <class Flavour>
void sampling_case() {
    CAPTURE(Flavour::name);
    node_server server("start_everything.mjs", {});
    recorder rec;
    handler_spec spec;
    spec.sampling = true;
    Flavour f(server.url(), rec, spec, false);
    REQUIRE(f.connect());
    const auto began = wall::now();
    result_type r = f.call(tool("trigger-sampling-request", R"({"prompt":"say hi","maxTokens":20})"), with_timeout(30s));
    const auto took = wall::now() - began;
    INFO(describe(r));
    const std::string text = tool_text(r);
    CHECK(took < 10s);
    CHECK(text.find("LLM sampling result") != std::string::npos);
    CHECK(text.find(sampled_text) != std::string::npos);
    CHECK(text.find("test-model") != std::string::npos);
    const auto seen = rec.requests("sampling/createMessage");
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].params.find("say hi") != std::string::npos);
    auto max_tokens = mb::find_member(seen[0].params, "maxTokens");
    REQUIRE(max_tokens);
    CHECK(*max_tokens == "20");
}

template <class Flavour>
void roots_case() {
    CAPTURE(Flavour::name);
    node_server server("start_everything.mjs", {});
    recorder rec;
    handler_spec spec;
    spec.roots = true;
    // server-everything asks roots/list without a related request: on the GET listening stream.
    Flavour f(server.url(), rec, spec, true);
    REQUIRE(f.connect());
    // A server request sent before the GET stream is open is lost (server-everything then waits
    // for its answer until its own 60 s timeout): the call waits for the stream.
    REQUIRE(poll_until([&] { return f.listening(); }, 10s));
    result_type r = f.call(tool("get-roots-list"), with_timeout(30s));
    INFO(describe(r));
    const std::string text = tool_text(r);
    CHECK(text.find("Current MCP Roots (1 total)") != std::string::npos);
    CHECK(text.find(test_root_uri) != std::string::npos);
    CHECK(rec.requests("roots/list").size() >= 1);
    CHECK(f.stats().listening_opened >= 1);
    CHECK(f.stats().requests_answered >= 1);
}

template <class Flavour>
void progress_case() {
    CAPTURE(Flavour::name);
    node_server server("start_everything.mjs", {});
    recorder rec;
    Flavour f(server.url(), rec, handler_spec{}, false);
    REQUIRE(f.connect());
    constexpr int steps = 4;
    std::mutex mutex;
    std::vector<mb::progress_update> updates;
    mb::request req = tool("trigger-long-running-operation", R"({"duration":2,"steps":4})");
    req.on_progress = [&](const mb::progress_update& u) {
        std::lock_guard<std::mutex> lock(mutex);
        updates.push_back(u);
    };
    result_type r = f.call(req, with_timeout(30s));
    INFO(describe(r));
    const std::string text = tool_text(r);
    CHECK(text.find("Long running operation completed") != std::string::npos);
    std::lock_guard<std::mutex> lock(mutex);
    REQUIRE(updates.size() == steps);
    for (std::size_t i = 0; i < updates.size(); ++i) {
        INFO("update " << i);
        CHECK(updates[i].progress == static_cast<double>(i + 1));
        REQUIRE(updates[i].total);
        CHECK(*updates[i].total == steps);
    }
    // Every progress notification is passed on as a notification too.
    CHECK(rec.count("notifications/progress") == steps);
}

template <class Flavour>
void listening_restart_case(std::chrono::milliseconds downtime = 1000ms,
                            std::optional<std::chrono::milliseconds> relisten_bound = std::nullopt) {
    CAPTURE(Flavour::name);
    node_server server("start_everything.mjs", {});
    recorder rec;
    handler_spec spec;
    spec.roots = true;
    spec.sampling = true;
    spec.elicitation = true;
    Flavour f(server.url(), rec, spec, true);
    const std::string uri = "demo://resource/static/document/architecture.md";
    // The per-session state the application restores on every new session.
    const std::vector<mb::request> state{
        {"resources/subscribe", R"({"uri":")" + uri + R"("})"},
        {"logging/setLevel", R"({"level":"debug"})"},
        tool("toggle-subscriber-updates"),
        tool("toggle-simulated-logging"),
    };
    f.restore_with(state);
    const auto connecting = wall::now();
    REQUIRE(f.connect());
    REQUIRE(poll_until([&] { return f.listening(); }, 10s));
    if (std::getenv("MCPR_CONVERSATION_DEBUG"))
        std::fprintf(stderr, "[debug] connect -> listening %.0f ms\n", restart_interop::ms_between(connecting, wall::now()));
    for (const auto& req : state) {
        result_type r = f.call(req, with_timeout(15s));
        INFO(req.method << ": " << describe(r));
        REQUIRE(r);
        REQUIRE_FALSE(r->is_error());
    }
    const std::string updated = "notifications/resources/updated";
    const std::string message = "notifications/message";
    CHECK(rec.wait_count(updated, 1, 12s));
    CHECK(rec.wait_count(message, 1, 12s));
    const int updated_before = rec.count(updated);
    const int message_before = rec.count(message);
    const auto stats_before = f.stats();

    server.crash();  // SIGKILL by PID: every session is gone with the process
    const auto killed = wall::now();
    std::this_thread::sleep_for(downtime);  // the downtime itself
    server.start(server.port());
    const auto listening_at = server.listening_at();

    // A call through the recovering client: the server does not know the session any more, the
    // client opens a new one, the hook restores the state, then the transport listens on it.
    result_type r = f.call({"tools/list", "{}"}, with_timeout(30s));
    INFO(describe(r));
    REQUIRE(r);
    REQUIRE_FALSE(r->is_error());
    CHECK(f.reconnects_succeeded() == 1);
    const auto recovered_at = wall::now();
    CHECK(poll_until([&] { return f.listening(); }, 10s));
    const auto relistening_at = wall::now();
    const bool updated_after = rec.wait_count(updated, updated_before + 1, 12s);
    const bool message_after = rec.wait_count(message, message_before + 1, 12s);
    const int updated_new = rec.count(updated) - updated_before;
    const int message_new = rec.count(message) - message_before;
    const auto stats_after = f.stats();
    std::printf("[conversation %s] %s: before the restart %d, after it %d new (within 12 s of the recovery)\n",
                Flavour::name, updated.c_str(), updated_before, updated_new);
    std::printf("[conversation %s] %s: before the restart %d, after it %d new (within 12 s of the recovery)\n",
                Flavour::name, message.c_str(), message_before, message_new);
    std::printf("[conversation %s] listening streams opened %llu (before the restart %llu), resumed %llu; server "
                "requests answered %llu; roots/list answered %zu; kill -> LISTENING %.0f ms, LISTENING -> call "
                "recovered %.0f ms, recovered -> listening again %.0f ms\n",
                Flavour::name, static_cast<unsigned long long>(stats_after.listening_opened),
                static_cast<unsigned long long>(stats_before.listening_opened),
                static_cast<unsigned long long>(stats_after.listening_resumed),
                static_cast<unsigned long long>(stats_after.requests_answered), rec.requests("roots/list").size(),
                restart_interop::ms_between(killed, listening_at), restart_interop::ms_between(listening_at, recovered_at),
                restart_interop::ms_between(recovered_at, relistening_at));
    std::fflush(stdout);
    CHECK(updated_before >= 1);
    CHECK(message_before >= 1);
    CHECK(updated_after);
    CHECK(message_after);
    CHECK(stats_after.listening_opened > stats_before.listening_opened);
    if (relisten_bound) CHECK(relistening_at - recovered_at < *relisten_bound);
}

}  // namespace

TEST_CASE("conversation interop (sync): elicitation/create answered on the call's stream", "[interop][conversation][sync]") {
    elicitation_case<sync_flavour>(GENERATE(std::string("accept"), std::string("decline")));
}
TEST_CASE("conversation interop (sync): sampling/createMessage answered", "[interop][conversation][sync]") {
    sampling_case<sync_flavour>();
}
TEST_CASE("conversation interop (sync): roots/list answered on the listening stream", "[interop][conversation][sync]") {
    roots_case<sync_flavour>();
}
TEST_CASE("conversation interop (sync): progress of a long call", "[interop][conversation][sync]") {
    progress_case<sync_flavour>();
}
TEST_CASE("conversation interop (sync): the listening stream across a server restart", "[interop][conversation][sync]") {
    listening_restart_case<sync_flavour>();
}

// With the default listening back-off (500 ms doubling to 30 s) and 8 s of downtime, the listener
// is in a long back-off wait when the client restores the new session: `session_restored()` must
// end that wait (before the fix the stream opened only when it ran out, 6.6-6.9 s later; now
// about 20 ms; the bound is 3 s).
TEST_CASE("conversation interop (sync): listening resumes promptly after a long outage",
          "[interop][conversation][conversation_listen_latency][sync]") {
    default_listen_backoff = true;
    listening_restart_case<sync_flavour>(8000ms, 3000ms);
    default_listen_backoff = false;
}

#if defined(MCPR_CONVERSATION_ASYNC)
TEST_CASE("conversation interop (async): listening resumes promptly after a long outage",
          "[interop][conversation][conversation_listen_latency][async]") {
    default_listen_backoff = true;
    listening_restart_case<async_flavour>(8000ms, 3000ms);
    default_listen_backoff = false;
}

TEST_CASE("conversation interop (async): elicitation/create answered on the call's stream", "[interop][conversation][async]") {
    elicitation_case<async_flavour>(GENERATE(std::string("accept"), std::string("decline")));
}
TEST_CASE("conversation interop (async): sampling/createMessage answered", "[interop][conversation][async]") {
    sampling_case<async_flavour>();
}
TEST_CASE("conversation interop (async): roots/list answered on the listening stream", "[interop][conversation][async]") {
    roots_case<async_flavour>();
}
TEST_CASE("conversation interop (async): progress of a long call", "[interop][conversation][async]") {
    progress_case<async_flavour>();
}
TEST_CASE("conversation interop (async): the listening stream across a server restart", "[interop][conversation][async]") {
    listening_restart_case<async_flavour>();
}
#endif
