// mcp-recovery-check: does an MCP server's session handling let clients recover?
//
// Connects, initializes, lists tools, then provokes session loss twice (it DELETEs its own
// session; it uses a session id the server never issued), calls again through recovering_client
// and reports what the server answered, whether that is what the spec asks, how mcp-recovery
// classified it, and how recovery went. Without a URL it starts the built-in flaky_server and runs
// the same against each server family's way of saying "lost session", plus a burst of concurrent
// callers on an expired session.
//
// Last, it reports what the transport saw the server do wrong at the HTTP level (stray bytes after
// a response, answers with another id, Content-Encoding nobody asked for, responses that never
// complete, ...: `http_diagnostics`). A step that fails because of such a fault is reported as an
// HTTP fault of the server, by name, not as a recovery failure.
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using ms = std::chrono::duration<double, std::milli>;

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
};

/// Exit status: recovery works and the server made no HTTP fault (0); recovery failed (1); a usage
/// error (2); recovery works, or failed only because of, HTTP faults of the server (3).
enum class verdict { ok = 0, recovery_failed = 1, http_fault = 3 };

verdict worst(verdict a, verdict b) {
    if (a == verdict::recovery_failed || b == verdict::recovery_failed) return verdict::recovery_failed;
    if (a == verdict::http_fault || b == verdict::http_fault) return verdict::http_fault;
    return verdict::ok;
}

// ---- HTTP faults of the server (mb::http_diagnostics) ----

/// One counter of `http_diagnostics`: its name in the report, and whether it is a fault of the
/// server (else a note: something the client handles and that HTTP allows).
struct diagnostic_counter {
    std::uint64_t mb::http_diagnostics::*count;
    const char* name;
    bool fault;
};

const diagnostic_counter diagnostic_counters[] = {
    {&mb::http_diagnostics::stray_bytes, "stray bytes after a complete response (RFC 9112 section 6.3)", true},
    {&mb::http_diagnostics::mismatched_ids, "JSON answers whose id was not the request's", true},
    {&mb::http_diagnostics::encoded_bodies, "Content-Encoding not asked for (requests say Accept-Encoding: identity)",
     true},
    {&mb::http_diagnostics::response_timeouts, "responses not complete within response_timeout", true},
    {&mb::http_diagnostics::interim_responses, "1xx interim responses skipped (RFC 9110 section 15.2; fine)", false},
    {&mb::http_diagnostics::closed_idle, "idle connections the server had closed (not reused)", false},
    {&mb::http_diagnostics::resent_unsent, "requests sent again on a fresh connection, provably unsent", false},
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
            if (!any) std::printf("  HTTP diagnostics :\n");
            any = true;
            std::printf("    %s%s: %llu\n", c.fault ? "HTTP fault of the server: " : "note: ", c.name,
                        static_cast<unsigned long long>(d.*c.count));
        }
    }
    if (!any) std::printf("  HTTP diagnostics : none\n");
}

struct probe_result {
    std::string name;
    std::optional<failure> answer;
    failure_kind kind = failure_kind::permanent;
    bool spec_compliant = false;
    bool recovered = false;
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
    if (!f.message.empty()) s += (s.empty() ? "" : ", ") + std::string("\"") + f.message.str() + "\"";
    if (f.transport_error) s += (s.empty() ? "" : ", ") + f.transport_error.message();
    return s.empty() ? "(nothing)" : s;
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
    return t;
}

/// The failure that ended a recovering call, for the report.
const failure* failure_of(const call_error& e) {
    return e.last_failure ? &*e.last_failure : nullptr;
}

/// Loses the session in the way `provoke` does, then calls tools/list through recovery.
template <class Provoke>
probe_result probe(client_type& client, std::string name, const options& o, Provoke provoke) {
    probe_result r;
    r.name = std::move(name);
    const auto reconnects_before = client.observer().reconnects();
    const auto retries_before = client.observer().retries();
    client.observer().start_probe();
    const mb::http_diagnostics diagnostics_before = client.transport().diagnostics();
    if (!provoke(client.transport())) {
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
    std::printf("  %s\n", r.name.c_str());
    if (r.answer) {
        std::printf("    server answered : %s\n", describe_answer(*r.answer).c_str());
        std::printf("    spec (404)      : %s\n",
                    r.spec_compliant ? "yes"
                                     : "no - the spec asks for HTTP 404 on a request with an unknown session id; "
                                       "clients that follow only the spec will not recover");
        std::printf("    classified as   : %s\n", std::string(to_string(r.kind)).c_str());
    }
    std::printf("    recovery        : %s (reconnects %llu, retries %llu, %.1f ms)\n", r.outcome.c_str(),
                static_cast<unsigned long long>(r.reconnects), static_cast<unsigned long long>(r.retries),
                r.latency_ms);
}

verdict check_server(const options& o, const char* title) {
    std::printf("%s\n", title);
    client_type client{std::in_place, transport_options_for(o)};
    client.backoff_policy() = exponential_backoff(std::chrono::milliseconds(50), 2.0, std::chrono::seconds(2));
    auto& t = client.transport();
    const auto finish = [&](verdict v, const char* what) {
        print_diagnostics(t.diagnostics());
        if (v == verdict::ok && has_faults(t.diagnostics())) v = verdict::http_fault;
        if (what) std::printf("  verdict: %s\n\n", what);
        else if (v == verdict::ok) std::printf("  verdict: clients recover from a lost session\n\n");
        else if (v == verdict::http_fault)
            std::printf("  verdict: clients recover, but the server has HTTP faults (above)\n\n");
        else std::printf("  verdict: RECOVERY FAILED\n\n");
        return v;
    };
    // A failed step: an HTTP fault of the server by name, else a recovery failure.
    const auto step_failed = [&](const char* step, const failure& f, const mb::http_diagnostics& before) {
        const std::string at = f.method.empty() || f.method == step ? "" : " at " + f.method;
        if (auto fault = http_fault_of(f, before, t.diagnostics())) {
            std::string answer = f.http_status ? "HTTP " + std::to_string(f.http_status) : std::string();
            if (!f.message.empty()) answer += (answer.empty() ? "" : ": ") + f.message.str();
            std::printf("  %s failed%s: HTTP fault of the server: %s%s\n", step, at.c_str(), fault->c_str(),
                        answer.empty() ? "" : (" (" + answer + ")").c_str());
            return finish(verdict::http_fault, "HTTP fault of the server (not a recovery failure)");
        }
        std::printf("  %s failed%s: %s\n", step, at.c_str(), describe_answer(f).c_str());
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    };

    const auto start = std::chrono::steady_clock::now();
    mb::http_diagnostics before = t.diagnostics();
    if (auto c = t.connect(); !c) return step_failed("initialize", c.error(), before);
    std::printf("  initialize       : ok in %.1f ms, protocol %s, %s\n",
                ms(std::chrono::steady_clock::now() - start).count(), t.protocol_version().c_str(),
                t.session_id().empty() ? "no session id (stateless server)" : "session id assigned");
    before = t.diagnostics();
    auto tools = client.try_call(mb::request{"tools/list", "{}"});
    if (!tools) {
        if (const failure* f = failure_of(tools.error())) return step_failed("tools/list", *f, before);
        std::printf("  tools/list failed: %s\n", tools.error().code.message().c_str());
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    }
    if (tools->is_error()) {
        std::printf("  tools/list failed: %s\n", tools->fields.error_message.value_or("JSON-RPC error").c_str());
        return finish(verdict::recovery_failed, "RECOVERY FAILED");
    }
    std::printf("  tools/list       : ok (%zu bytes)\n", tools->result().size());
    if (t.session_id().empty()) {
        std::printf("  the server keeps no sessions: nothing to lose, nothing to recover\n");
        const verdict v = has_faults(t.diagnostics()) ? verdict::http_fault : verdict::ok;
        return finish(v, v == verdict::ok ? "OK" : "OK for recovery, but the server has HTTP faults (above)");
    }

    std::vector<probe_result> results;
    results.push_back(probe(client, "after DELETE of its own session:", o, [](mb::streamable_http_transport& tr) {
        const std::string old = tr.session_id();
        if (!tr.terminate()) return false;
        return tr.adopt_session_id(old);
    }));
    results.push_back(probe(client, "with a session id the server never issued:", o,
                            [](mb::streamable_http_transport& tr) { return tr.adopt_session_id(random_session_id()); }));
    verdict v = verdict::ok;
    for (const auto& r : results) {
        print_probe(r);
        if (r.http_fault) v = worst(v, verdict::http_fault);
        else if (!r.recovered) v = verdict::recovery_failed;
    }
    if (v == verdict::http_fault) return finish(v, "HTTP fault of the server (not a recovery failure)");
    return finish(v, nullptr);
}

bool burst(const options& o, mb::testing::flaky_server& server) {
    std::printf("burst: %d concurrent callers on an expired session\n", o.burst);
    options bo = o;
    bo.url = server.url();
    client_type client{std::in_place, transport_options_for(bo)};
    if (!client.transport().connect()) return false;

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
    std::printf("  succeeded        : %d/%d\n", succeeded.load(), o.burst);
    std::printf("  initializes      : %llu (one for all callers is the goal)\n",
                static_cast<unsigned long long>(initializes));
    std::printf("  median latency   : %.2f ms (normal call %.2f ms, ratio %.1f)\n", median_burst, median_normal,
                median_burst / median_normal);
    const bool ok = succeeded.load() == o.burst && initializes == 1;
    std::printf("  verdict: %s\n\n", ok ? "OK" : "FAILED");
    return ok;
}

int usage(FILE* out, int code) {
    std::fprintf(out,
                 "usage: mcp-recovery-check [--timeout SECONDS] [--burst N] [URL]\n"
                 "\n"
                 "Checks whether MCP clients survive a server's session handling: connects to the\n"
                 "Streamable-HTTP endpoint URL (e.g. http://127.0.0.1:3000/mcp), provokes session loss\n"
                 "(DELETE of its own session; an unknown session id), recovers through mcp-recovery and\n"
                 "reports what the server answered, whether that follows the spec, and how recovery went.\n"
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
                 "\n"
                 "Exit status: 0 when recovery worked everywhere and the server made no HTTP fault; 1 when\n"
                 "recovery failed; 2 for a usage error; 3 when the only problems are HTTP faults of the\n"
                 "server (recovery worked, or failed only because of them). Notes do not change it.\n");
    return code;
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
                std::fprintf(stderr, "mcp-recovery-check: %s needs a positive number, got '%s'\n", a.c_str(), argv[i]);
                return 2;
            }
            if (a == "--timeout") o.timeout = std::chrono::seconds(v);
            else o.burst = static_cast<int>(std::min(v, 1024L));
            continue;
        }
        if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "mcp-recovery-check: unknown option '%s'\n", a.c_str());
            return usage(stderr, 2);
        }
        if (!o.url.empty()) {
            std::fprintf(stderr, "mcp-recovery-check: only one URL, please\n");
            return 2;
        }
        o.url = a;
    }

    try {
        if (!o.url.empty()) {
            std::string why;
            if (!mb::parse_url(o.url, why)) {
                // Without its user information: credentials are never echoed.
                std::fprintf(stderr, "mcp-recovery-check: bad URL '%s': %s\n", mb::redact_url(o.url).c_str(),
                             why.c_str());
                return 2;
            }
            return static_cast<int>(check_server(o, ("server " + o.url).c_str()));
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
            v = worst(v, check_server(so, f.title));
        }
        server.set_lost_session_style(mb::testing::lost_session_style::typescript_404);
        if (!burst(o, server)) v = verdict::recovery_failed;
        std::printf("overall verdict: %s\n", v == verdict::ok           ? "recovery works"
                                              : v == verdict::http_fault ? "HTTP faults of the server (above)"
                                                                         : "RECOVERY FAILED");
        return static_cast<int>(v);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcp-recovery-check: %s\n", e.what());
        return 1;
    }
}
