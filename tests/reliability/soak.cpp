// Soak: client threads (and, where Asio has coroutines, coroutines of an async client) call one
// flaky_server while a chaos thread, driven by a seeded generator, expires sessions, restarts the
// server and injects resets before and after execution, 429/503 with Retry-After, 500/502,
// stream cuts (resumable or not), stalls and SSE answers.
//
// Checked at the end (exit 1 on any violation, never on timing or memory):
// - no `count` key ran more than once (flaky_server's executions(key) <= 1), and every
//   non-idempotent call that succeeded ran exactly once (its answer says 1);
// - every replay-safe call (read-only `echo`, `tools/list`) succeeded;
// - every failed non-idempotent call failed as expected: not_replayable with delivery unknown
//   (or retries_exhausted after rejections, which never ran it).
// Reported: calls, outcomes by kind, chaos actions by kind, server and client counters, RSS
// (VmRSS at start, after warm-up and at the end; peak VmHWM after warm-up and at the end).
//
// Chaos never expires sessions or restarts the server while a reconnect handshake is under way
// (a gate in the observer holds new reconnects back for the instant the event takes): a failed
// `initialize` ends the calls waiting for it with reconnect_failed by design, and is covered by
// the fault matrix. Injected faults match `tools/call` only, for the same reason.
//
// Usage: mcp_recovery_soak [--calls N] [--seconds T] [--threads K] [--coroutines C] [--seed S]
//                          [--count-every M]
// Defaults: 20000 calls, at most 600 s, 4 threads, 4 coroutines (0 without async support),
// a random seed (printed; the chaos sequence is reproducible from it, thread interleaving is not),
// every 2nd call a non-idempotent `count` (a larger M leaves fewer per-key counters on the server:
// a control for the memory figures).
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#if MCP_RECOVERY_BEAST_HAS_ASYNC
#include <boost/asio/io_context.hpp>
#endif

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

namespace {

// ---- memory ----

struct memory_figures {
    long rss_kb = -1;  // VmRSS
    long hwm_kb = -1;  // VmHWM (peak RSS)
};

memory_figures read_memory() {
    memory_figures m;
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
        if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    if (m.hwm_kb < 0) {
        rusage u{};
        if (getrusage(RUSAGE_SELF, &u) == 0) m.hwm_kb = u.ru_maxrss;  // kilobytes on Linux
    }
    return m;
}

// ---- what each call did ----

enum class call_kind : std::uint8_t { echo, list, count };

bool idempotent(call_kind k) { return k != call_kind::count; }

struct call_record {
    call_kind kind = call_kind::echo;
    bool ran = false;         // the call was made
    bool succeeded = false;   // a response (not a JSON-RPC error)
    bool answered_one = false;  // count: the response says the counter is 1
    int code = 0;             // errc value when it failed
    delivery delivered = delivery::not_sent;  // last failure's delivery when it failed
    std::uint32_t micros = 0;                 // how long the call took
};

// Every `count_every`-th call is a non-idempotent `count`; of the others, one in five is
// `tools/list` (with the default 2: calls 1, 11, 21, ...), the rest read-only `echo`.
call_kind kind_of(std::uint64_t i, std::uint64_t count_every) {
    if (i % count_every == 0) return call_kind::count;
    return i % 10 == 1 ? call_kind::list : call_kind::echo;
}

std::string key_of(std::uint64_t i) { return "k" + std::to_string(i); }

mb::request request_of(call_kind kind, std::uint64_t i) {
    switch (kind) {
    case call_kind::echo: return {"tools/call", R"({"name":"echo","arguments":{"text":"soak"}})"};
    case call_kind::list: return {"tools/list", "{}"};
    case call_kind::count: break;
    }
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key_of(i) + R"("}})"};
}

call_options options_of(call_kind kind) {
    call_options o;
    if (kind == call_kind::echo) o.annotations = tool_annotations{true, false};  // read-only
    return o;
}

template <class Result>
void record_result(call_record& rec, const Result& r) {
    rec.ran = true;
    if (r) {
        rec.succeeded = !r->is_error();
        rec.answered_one = r->result().find(R"("text":"1")") != std::string_view::npos;
        return;
    }
    rec.code = r.error().code.category() == error_category() ? r.error().code.value() : -1;
    rec.delivered = r.error().last_failure ? r.error().last_failure->delivered : delivery::not_sent;
}

// ---- the chaos gate: session events never overlap a reconnect handshake ----

class chaos_gate {
public:
    void flight_starts() {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return !striking_; });
        ++flights_;
    }
    void flight_ends() {
        std::lock_guard<std::mutex> lock(mutex_);
        --flights_;
        cv_.notify_all();
    }
    /// Runs `event` while no reconnect is under way and none can start; false (not run) when
    /// reconnects kept going for `limit`.
    template <class Event>
    bool strike(Event event, std::chrono::milliseconds limit) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, limit, [&] { return flights_ == 0; })) return false;
        striking_ = true;
        lock.unlock();
        event();
        lock.lock();
        striking_ = false;
        cv_.notify_all();
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int flights_ = 0;
    bool striking_ = false;
};

/// counting_observer that tells the gate when this client's reconnects start and end.
struct gated_observer : counting_observer {
    chaos_gate* gate = nullptr;
    void on_reconnect_start(std::uint64_t generation) noexcept {
        counting_observer::on_reconnect_start(generation);
        if (gate) gate->flight_starts();
    }
    void on_reconnect_done(std::uint64_t generation, std::error_code ec, duration took) noexcept {
        if (gate) gate->flight_ends();
        counting_observer::on_reconnect_done(generation, ec, took);
    }
};

// ---- settings ----

struct settings {
    std::uint64_t calls = 20000;
    std::uint64_t seconds = 600;
    unsigned threads = 4;
    std::uint64_t count_every = 2;
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    unsigned coroutines = 4;
#else
    unsigned coroutines = 0;
#endif
    std::uint64_t seed = 0;
    bool seeded = false;
};

bool parse_number(const char* text, std::uint64_t& out) {
    if (!text || !*text) return false;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (*end != '\0') return false;
    out = v;
    return true;
}

std::optional<settings> parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; i += 2) {  // every option takes a value
        const std::string arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        std::uint64_t n = 0;
        if (arg == "--calls" && parse_number(value, n) && n > 0) s.calls = n;
        else if (arg == "--seconds" && parse_number(value, n) && n > 0) s.seconds = n;
        else if (arg == "--count-every" && parse_number(value, n) && n > 0) s.count_every = n;
        else if (arg == "--threads" && parse_number(value, n) && n <= 64) s.threads = static_cast<unsigned>(n);
        else if (arg == "--coroutines" && parse_number(value, n) && n <= 256) s.coroutines = static_cast<unsigned>(n);
        else if (arg == "--seed" && parse_number(value, n)) {
            s.seed = n;
            s.seeded = true;
        } else {
            std::fprintf(stderr, "usage: mcp_recovery_soak [--calls N] [--seconds T] [--threads K] [--coroutines C] "
                                 "[--seed S] [--count-every M]\n(bad or unknown argument '%s')\n",
                         arg.c_str());
            return std::nullopt;
        }
    }
#if !MCP_RECOVERY_BEAST_HAS_ASYNC
    s.coroutines = 0;
#endif
    if (s.threads + s.coroutines == 0) s.threads = 1;
    return s;
}

// ---- chaos ----

enum class chaos_action : unsigned {
    expire_sessions,
    restart,
    reset_before_execute,
    reset_after_execute,
    too_many_requests,
    unavailable_retry_after,
    unavailable,
    internal_error,
    bad_gateway,
    cut_after_event,
    cut_after_priming,
    stall_past_timeout,
    short_stall,
    answer_as_sse,
    drop_connections,   // a proxy resets the idle keep-alive connections: sessions intact
    outage,             // the server is down 200 ms and comes back without sessions
    expire_in_band,     // sessions expire, answered in band (200 + JSON-RPC -32001)
    stalled_handshake,  // the next notifications/initialized stalls past reconnect_timeout
    count_
};

constexpr std::size_t chaos_kinds = static_cast<std::size_t>(chaos_action::count_);

const char* name_of(chaos_action a) {
    switch (a) {
    case chaos_action::expire_sessions: return "expire all sessions";
    case chaos_action::restart: return "server restart";
    case chaos_action::reset_before_execute: return "reset before execute";
    case chaos_action::reset_after_execute: return "reset after execute";
    case chaos_action::too_many_requests: return "429, Retry-After: 1";
    case chaos_action::unavailable_retry_after: return "503, Retry-After: 1";
    case chaos_action::unavailable: return "503, no Retry-After";
    case chaos_action::internal_error: return "500";
    case chaos_action::bad_gateway: return "502";
    case chaos_action::cut_after_event: return "stream cut after an event";
    case chaos_action::cut_after_priming: return "stream cut after priming (resumable)";
    case chaos_action::stall_past_timeout: return "stall 750 ms (past the read timeout)";
    case chaos_action::short_stall: return "stall 20 ms";
    case chaos_action::answer_as_sse: return "answer as SSE";
    case chaos_action::drop_connections: return "idle connections reset (sessions intact)";
    case chaos_action::outage: return "server down 200 ms";
    case chaos_action::expire_in_band: return "expire all sessions, answered in band";
    case chaos_action::stalled_handshake: return "notifications/initialized stalls 700 ms";
    case chaos_action::count_: break;
    }
    return "?";
}

// Relative weights, by chaos_action.
constexpr std::array<unsigned, chaos_kinds> chaos_weights{10, 5, 10, 10, 6, 5, 4, 6, 3, 8, 8, 1, 3, 3, 8, 2, 4, 2};

std::optional<fs::fault> fault_of(chaos_action a) {
    switch (a) {
    case chaos_action::reset_before_execute: return fs::fault::reset_before_execute();
    case chaos_action::reset_after_execute: return fs::fault::reset_after_execute();
    case chaos_action::too_many_requests: return fs::fault::too_many_requests(1);
    case chaos_action::unavailable_retry_after: return fs::fault::service_unavailable(1);
    case chaos_action::unavailable: return fs::fault::service_unavailable();
    case chaos_action::internal_error: return fs::fault::internal_error();
    case chaos_action::bad_gateway: return fs::fault::http_status(502, "Bad Gateway");
    case chaos_action::cut_after_event: return fs::fault::cut_stream_after_event();
    case chaos_action::cut_after_priming: return fs::fault::cut_stream_after_priming(5ms).with_notifications(1, 1);
    case chaos_action::stall_past_timeout: return fs::fault::delay(750ms);
    case chaos_action::short_stall: return fs::fault::delay(20ms);
    case chaos_action::answer_as_sse: return fs::fault::answer_as(fs::response_mode::sse);
    default: return std::nullopt;
    }
}

constexpr auto read_timeout = 500ms;

mb::transport_options transport_options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = read_timeout;
    o.resume_delay = 10ms;
    return o;
}

// Every call may take several attempts; Retry-After (whole seconds) is clamped to 20 ms so that
// the soak spends its time calling; reconnects that fail (none are expected) open the circuit
// only briefly.
template <class Client>
void configure(Client& client, chaos_gate& gate) {
    // A time budget, not a count: an outage takes time, and the failed flights spaced by the
    // reconnector's jittered backoff during it are attempts too.
    client.retry_policy() = limited_time(3s);
    client.backoff_policy() = exponential_backoff(2ms, 2.0, 50ms, jitter::full);
    client.options().max_server_wait = 20ms;
    reconnect_options r{5, 200ms};
    r.reconnect_timeout = 300ms;  // a stalled handshake fails its flight after 300 ms
    client.reconnector().set_options(r);
    client.observer().gate = &gate;
}

using sync_client = recovering_client<mb::streamable_http_transport, default_classifier, limited_time,
                                      exponential_backoff, single_flight_reconnector<>, gated_observer>;
#if MCP_RECOVERY_BEAST_HAS_ASYNC
using async_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier,
                                                 limited_time, exponential_backoff,
                                                 mb::async_single_flight_reconnector<>, gated_observer>;
#endif

/// The shared run state: which call comes next, when to stop, what each call did.
struct run_state {
    explicit run_state(const settings& s)
        : records(s.calls), count_every(s.count_every), deadline(clock_type::now() + std::chrono::seconds(s.seconds)) {}

    std::vector<call_record> records;  // allocated before the run: the bookkeeping does not grow
    const std::uint64_t count_every;
    const time_point deadline;
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> completed{0};
    std::atomic<bool> stop{false};
    std::uint64_t warmup_at = 0;
    std::atomic<bool> warmup_taken{false};
    memory_figures warmup;
    std::mutex mutex;  // with `cv`: wakes the chaos thread
    std::condition_variable cv;

    /// The index of the next call to make, or nothing when the run is over.
    std::optional<std::uint64_t> claim() {
        if (stop.load() || clock_type::now() >= deadline) return std::nullopt;
        const std::uint64_t i = next.fetch_add(1);
        if (i >= records.size()) return std::nullopt;
        if (i == warmup_at) {
            warmup = read_memory();
            warmup_taken.store(true);
        }
        return i;
    }
    void done_one() {
        completed.fetch_add(1);
        cv.notify_one();
    }
};

void chaos_loop(run_state& run, fs::flaky_server& server, chaos_gate& gate, std::uint64_t seed,
                std::array<std::uint64_t, chaos_kinds>& applied, std::uint64_t& skipped) {
    std::mt19937_64 rng(seed);
    std::discrete_distribution<unsigned> pick(chaos_weights.begin(), chaos_weights.end());
    std::uniform_int_distribution<std::uint64_t> gap(4, 24);  // calls completed between two actions
    std::uint64_t at = gap(rng);
    while (!run.stop.load() && clock_type::now() < run.deadline) {
        {
            // Bounded waits: a missed notification costs at most 20 ms.
            std::unique_lock<std::mutex> lock(run.mutex);
            run.cv.wait_for(lock, 20ms, [&] { return run.stop.load() || run.completed.load() >= at; });
        }
        if (run.completed.load() < at) continue;
        at = run.completed.load() + gap(rng);
        const auto action = static_cast<chaos_action>(pick(rng));
        bool done = false;
        if (action == chaos_action::expire_sessions) {
            done = gate.strike([&] {
                server.set_lost_session_style(fs::lost_session_style::typescript_404);
                server.expire_all_sessions();
            }, 5000ms);
        } else if (action == chaos_action::expire_in_band) {
            done = gate.strike([&] {
                server.set_lost_session_style(fs::lost_session_style::in_band_200);
                server.expire_all_sessions();
            }, 5000ms);
        } else if (action == chaos_action::restart) {
            done = gate.strike([&] { server.restart(); }, 5000ms);
        } else if (action == chaos_action::outage) {
            done = gate.strike([&] { server.outage(200ms); }, 5000ms);
        } else if (action == chaos_action::drop_connections) {
            server.drop_connections();
            done = true;
        } else if (action == chaos_action::stalled_handshake) {
            if (server.pending_faults() < 3) {
                server.inject(fs::fault::delay(700ms), fs::fault_match::method("notifications/initialized"));
                done = true;
            }
        } else if (server.pending_faults() < 3) {  // keep the queue short: faults stay near their action
            server.inject(*fault_of(action), fs::fault_match::tool_call());
            done = true;
        }
        if (done) ++applied[static_cast<std::size_t>(action)];
        else ++skipped;
    }
}

std::uint32_t micros_since(time_point start) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start).count();
    return static_cast<std::uint32_t>(std::min<long long>(us, static_cast<long long>(UINT32_MAX)));
}

void sync_worker(run_state& run, sync_client& client) {
    while (const auto i = run.claim()) {
        call_record& rec = run.records[*i];
        rec.kind = kind_of(*i, run.count_every);
        const auto start = clock_type::now();
        record_result(rec, client.try_call(request_of(rec.kind, *i), options_of(rec.kind)));
        rec.micros = micros_since(start);
        run.done_one();
    }
}

#if MCP_RECOVERY_BEAST_HAS_ASYNC
boost::asio::awaitable<void> async_worker(run_state& run, async_client& client) {
    while (const auto i = run.claim()) {
        call_record& rec = run.records[*i];
        rec.kind = kind_of(*i, run.count_every);
        // No temporaries of class type in a co_await expression (g++ 12 destroys some twice).
        const mb::request request = request_of(rec.kind, *i);
        const call_options options = options_of(rec.kind);
        const auto start = clock_type::now();
        auto r = co_await client.call(request, options);
        record_result(rec, r);
        rec.micros = micros_since(start);
        run.done_one();
    }
}
#endif

const char* errc_name(int code) {
    switch (static_cast<errc>(code)) {
    case errc::retries_exhausted: return "retries_exhausted";
    case errc::not_replayable: return "not_replayable";
    case errc::reconnect_failed: return "reconnect_failed";
    case errc::circuit_open: return "circuit_open";
    case errc::deadline_exceeded: return "deadline_exceeded";
    case errc::cancelled: return "cancelled";
    case errc::permanent_failure: return "permanent_failure";
    case errc::unauthorized: return "unauthorized";
    }
    return code == 0 ? "(JSON-RPC error response)" : "(not an mcp_recovery errc)";
}

std::string mib(long kb) {
    if (kb < 0) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(kb) / 1024.0);
    return buf;
}

template <class Observer>
void print_observer(const char* name, const Observer& o) {
    std::printf("  %s client: %llu failures seen, %llu retries, %llu recovered, %llu reconnects (%llu failed), "
                "%llu give-ups\n",
                name, static_cast<unsigned long long>(o.failures()), static_cast<unsigned long long>(o.retries()),
                static_cast<unsigned long long>(o.recovered()), static_cast<unsigned long long>(o.reconnects()),
                static_cast<unsigned long long>(o.reconnects_failed()), static_cast<unsigned long long>(o.give_ups()));
}

}  // namespace

int main(int argc, char** argv) {
    const std::optional<settings> parsed = parse(argc, argv);
    if (!parsed) return 2;
    settings s = *parsed;
    if (!s.seeded) s.seed = std::random_device{}();
    std::printf("mcp_recovery_soak: %llu calls (at most %llu s, every %llu a count), %u threads, %u coroutines, "
                "seed %llu\n",
                static_cast<unsigned long long>(s.calls), static_cast<unsigned long long>(s.seconds),
                static_cast<unsigned long long>(s.count_every), s.threads, s.coroutines,
                static_cast<unsigned long long>(s.seed));
    std::printf("  reproduce the chaos sequence with: mcp_recovery_soak --calls %llu --threads %u --coroutines %u "
                "--count-every %llu --seed %llu\n",
                static_cast<unsigned long long>(s.calls), s.threads, s.coroutines,
                static_cast<unsigned long long>(s.count_every), static_cast<unsigned long long>(s.seed));
    std::fflush(stdout);

    fs::flaky_server_options server_options;
    server_options.max_counter_keys = static_cast<std::size_t>(s.calls) + 16;
    fs::flaky_server server(server_options);
    chaos_gate gate;
    run_state run(s);
    run.warmup_at = std::min<std::uint64_t>(s.calls / 10, 2000);

    sync_client client(std::in_place, transport_options_for(server.url()));
    configure(client, gate);
    if (!client.transport().connect()) {
        std::fprintf(stderr, "could not connect to flaky_server\n");
        return 1;
    }
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    boost::asio::io_context ioc;
    async_client aclient(ioc.get_executor(), std::in_place, ioc.get_executor(), transport_options_for(server.url()));
    configure(aclient, gate);
    if (s.coroutines > 0) {
        bool connected = false;
        boost::asio::co_spawn(ioc, aclient.transport().async_connect(),
                              [&](std::exception_ptr e, outcome<void> r) { connected = !e && r; });
        ioc.run();
        ioc.restart();
        if (!connected) {
            std::fprintf(stderr, "the async client could not connect to flaky_server\n");
            return 1;
        }
    }
#endif

    const memory_figures at_start = read_memory();
    const auto started = clock_type::now();

    std::array<std::uint64_t, chaos_kinds> applied{};
    std::uint64_t skipped = 0;
    std::thread chaos([&] { chaos_loop(run, server, gate, s.seed, applied, skipped); });
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < s.threads; ++t) workers.emplace_back([&] { sync_worker(run, client); });
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    std::thread io;
    if (s.coroutines > 0) {
        for (unsigned c = 0; c < s.coroutines; ++c)
            boost::asio::co_spawn(ioc, async_worker(run, aclient), [](std::exception_ptr e) {
                if (e) std::fprintf(stderr, "a soak coroutine ended by an exception\n");
            });
        io = std::thread([&] { ioc.run(); });
    }
#endif
    for (auto& w : workers) w.join();
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    if (io.joinable()) io.join();
#endif
    run.stop.store(true);
    run.cv.notify_all();
    chaos.join();
    const auto took = clock_type::now() - started;
    const memory_figures at_end = read_memory();
    server.stop();  // ends stalls still pending: executions are final from here

    // ---- checks ----
    std::uint64_t violations = 0;
    std::vector<std::string> examples;
    auto violation = [&](std::string what) {
        ++violations;
        if (examples.size() < 20) examples.push_back(std::move(what));
    };
    std::map<std::string, std::uint64_t> idempotent_outcomes, non_idempotent_outcomes;
    std::uint64_t made = 0, counts_checked = 0, max_runs = 0, unknown_ran = 0, unknown_not_ran = 0;
    std::vector<std::uint32_t> micros;
    micros.reserve(run.records.size());
    for (std::uint64_t i = 0; i < run.records.size(); ++i) {
        const call_record& rec = run.records[i];
        if (!rec.ran) continue;
        ++made;
        micros.push_back(rec.micros);
        const std::string outcome = rec.succeeded ? "succeeded" : errc_name(rec.code);
        if (idempotent(rec.kind)) {
            ++idempotent_outcomes[outcome];
            if (!rec.succeeded) violation("replay-safe call " + std::to_string(i) + " failed: " + outcome);
            continue;
        }
        ++non_idempotent_outcomes[outcome + (rec.succeeded ? "" : std::string(" (delivery ") +
                                                                     std::string(to_string(rec.delivered)) + ")")];
        const std::uint64_t ran = server.executions(key_of(i));
        ++counts_checked;
        max_runs = std::max(max_runs, ran);
        if (ran > 1) violation("key " + key_of(i) + " ran " + std::to_string(ran) + " times");
        if (rec.succeeded) {
            if (ran != 1 || !rec.answered_one)
                violation("key " + key_of(i) + " succeeded but ran " + std::to_string(ran) + " times");
        } else if (rec.code == static_cast<int>(errc::not_replayable) && rec.delivered == delivery::unknown) {
            ++(ran == 1 ? unknown_ran : unknown_not_ran);
        } else if (rec.code == static_cast<int>(errc::retries_exhausted) && ran == 0) {
            // rejected every time (429/503/...), never run: a safe failure
        } else {
            violation("key " + key_of(i) + " failed unexpectedly: " + outcome + ", delivery " +
                      std::string(to_string(rec.delivered)));
        }
    }

    // ---- summary ----
    const double seconds = std::chrono::duration<double>(took).count();
    std::printf("\nduration %.1f s, %llu calls made (%.0f calls/s)%s\n", seconds, static_cast<unsigned long long>(made),
                seconds > 0 ? static_cast<double>(made) / seconds : 0.0,
                made < s.calls ? " -- stopped by the time limit" : "");
    if (!micros.empty()) {
        std::sort(micros.begin(), micros.end());
        auto at = [&](double q) {
            return static_cast<double>(micros[static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1))]) / 1000.0;
        };
        std::printf("call latency: median %.2f ms, p99 %.2f ms, max %.1f ms\n", at(0.5), at(0.99), at(1.0));
    }
    std::printf("replay-safe calls (echo, tools/list):\n");
    for (const auto& [k, n] : idempotent_outcomes) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
    std::printf("non-idempotent calls (count, one key each):\n");
    for (const auto& [k, n] : non_idempotent_outcomes)
        std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
    std::printf("  not_replayable: %llu had run once, %llu had not run\n", static_cast<unsigned long long>(unknown_ran),
                static_cast<unsigned long long>(unknown_not_ran));
    std::printf("executions check: %llu keys, most runs of one key: %llu, keys run more than once: %s\n",
                static_cast<unsigned long long>(counts_checked), static_cast<unsigned long long>(max_runs),
                max_runs > 1 ? "SOME" : "none");
    std::printf("chaos actions (seed %llu):\n", static_cast<unsigned long long>(s.seed));
    std::uint64_t total_actions = 0;
    for (std::size_t a = 0; a < chaos_kinds; ++a) {
        std::printf("  %-40s %llu\n", name_of(static_cast<chaos_action>(a)), static_cast<unsigned long long>(applied[a]));
        total_actions += applied[a];
    }
    std::printf("  %-40s %llu (skipped: %llu)\n", "total", static_cast<unsigned long long>(total_actions),
                static_cast<unsigned long long>(skipped));
    std::printf("server: %llu POSTs, %llu faults applied, %llu initializes, %llu resumptions, %llu connections\n",
                static_cast<unsigned long long>(server.requests()), static_cast<unsigned long long>(server.faults_applied()),
                static_cast<unsigned long long>(server.initializes()), static_cast<unsigned long long>(server.resumptions()),
                static_cast<unsigned long long>(server.connections_accepted()));
    print_observer("sync", client.observer());
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    if (s.coroutines > 0) print_observer("async", aclient.observer());
#endif
    const memory_figures warm = run.warmup_taken.load() ? run.warmup : memory_figures{};
    std::printf("memory: VmRSS start %s, after warm-up (%llu calls) %s, end %s; peak (VmHWM) after warm-up %s, end %s\n",
                mib(at_start.rss_kb).c_str(), static_cast<unsigned long long>(run.warmup_at), mib(warm.rss_kb).c_str(),
                mib(at_end.rss_kb).c_str(), mib(warm.hwm_kb).c_str(), mib(at_end.hwm_kb).c_str());
    if (warm.rss_kb >= 0 && at_end.rss_kb >= 0) {
        // flaky_server, in this process, keeps a counter per `count` key (a hash-map node and its
        // bucket, some 70-80 bytes): that much growth per key is the server's, not the clients'.
        const std::uint64_t keys_at_warmup = (run.warmup_at + s.count_every - 1) / s.count_every;
        const std::uint64_t keys_since = counts_checked > keys_at_warmup ? counts_checked - keys_at_warmup : 0;
        const long growth_kb = at_end.rss_kb - warm.rss_kb;
        std::printf("  RSS growth after warm-up: %+ld KiB over %llu calls, %llu new count keys (%.0f bytes per key; "
                    "flaky_server keeps a counter per key in this process)\n",
                    growth_kb, static_cast<unsigned long long>(made > run.warmup_at ? made - run.warmup_at : 0),
                    static_cast<unsigned long long>(keys_since),
                    keys_since > 0 ? static_cast<double>(growth_kb) * 1024.0 / static_cast<double>(keys_since) : 0.0);
    }

    if (violations > 0) {
        std::printf("\nFAILED: %llu violations\n", static_cast<unsigned long long>(violations));
        for (const auto& e : examples) std::printf("  %s\n", e.c_str());
        return 1;
    }
    std::printf("\nOK: no key ran twice, every replay-safe call succeeded, every failure was an expected kind\n");
    return 0;
}
