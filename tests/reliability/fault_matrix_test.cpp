// The fault matrix: every fault flaky_server can inject (and the server events it can stage:
// expired sessions in each server family's style, a restart), applied to an idempotent call, a
// non-idempotent call and the `initialize` of a reconnect or of the first connect, through the
// synchronous recovering_client and (where Asio has coroutines) the async one. Each cell has an
// expected outcome, and for a non-idempotent call how often the server ran it; the observed
// outcome must match.
//
// With MCPR_MATRIX_OUT=<path> in the environment the program also writes the matrix as a markdown
// table (fault | request | mode | expected | observed) to <path>, for docs/reliability.md.
#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/beast/testing/flaky_server.hpp"
#include "mcp_recovery/recovering_client.hpp"
#include "mcp_recovery/testing/manual_clock.hpp"

#include "async_support.hpp"
#include "catch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
using namespace std::chrono_literals;

namespace {

enum class request_kind { idempotent, non_idempotent, initialize_on_reconnect, initialize_on_first_connect };
constexpr request_kind all_request_kinds[] = {request_kind::idempotent, request_kind::non_idempotent,
                                              request_kind::initialize_on_reconnect,
                                              request_kind::initialize_on_first_connect};

const char* describe(request_kind k) {
    switch (k) {
    case request_kind::idempotent: return "idempotent (read-only `echo`)";
    case request_kind::non_idempotent: return "non-idempotent (`count`)";
    case request_kind::initialize_on_reconnect: return "`initialize` of a reconnect";
    case request_kind::initialize_on_first_connect: return "`initialize` of the first connect";
    }
    return "?";
}

bool is_initialize(request_kind k) {
    return k == request_kind::initialize_on_reconnect || k == request_kind::initialize_on_first_connect;
}

// How a call ended. `ok`: the first attempt succeeded; `resumed`: it succeeded through stream
// resumption, without a retry; `recovered`: it succeeded after a retry (reconnect or wait).
// A failure is the errc name; `not_replayable` counts only with delivery unknown.
enum class outcome_kind {
    ok,
    resumed,
    recovered,
    not_replayable,
    unauthorized,
    reconnect_failed,
    deadline_exceeded,
    permanent_failure,
    retries_exhausted,
    circuit_open,
    cancelled,
    unexpected,
};

const char* describe(outcome_kind k) {
    switch (k) {
    case outcome_kind::ok: return "ok";
    case outcome_kind::resumed: return "resumed";
    case outcome_kind::recovered: return "recovered";
    case outcome_kind::not_replayable: return "not_replayable";
    case outcome_kind::unauthorized: return "unauthorized";
    case outcome_kind::reconnect_failed: return "reconnect_failed";
    case outcome_kind::deadline_exceeded: return "deadline_exceeded";
    case outcome_kind::permanent_failure: return "permanent_failure";
    case outcome_kind::retries_exhausted: return "retries_exhausted";
    case outcome_kind::circuit_open: return "circuit_open";
    case outcome_kind::cancelled: return "cancelled";
    case outcome_kind::unexpected: return "unexpected";
    }
    return "?";
}

// How often the server ran the `count` of the cell (the non-idempotent call, and the call that
// follows a faulted `initialize`): exactly 0 or 1, or at most once when the call timed out while
// the server was still holding it.
constexpr int runs_not_counted = -1;  // idempotent calls: `echo` has no counter
constexpr int runs_at_most_once = -2;

// `initializes`: sessions the server opened during the call (flaky_server::initializes()),
// checked when the expectation sets it (>= 0).
constexpr int initializes_not_checked = -1;

struct cell_expectation {
    outcome_kind outcome;
    int runs;
    int initializes = initializes_not_checked;
};

std::string describe(const cell_expectation& e, bool with_initializes = true) {
    std::string s = describe(e.outcome);
    if (e.runs == runs_at_most_once) s += ", ran ≤1×";
    else if (e.runs >= 0) s += ", ran " + std::to_string(e.runs) + "×";
    if (with_initializes && e.initializes >= 0) s += ", " + std::to_string(e.initializes) + " init";
    return s;
}

bool matches(const cell_expectation& expected, const cell_expectation& observed) {
    if (expected.outcome != observed.outcome) return false;
    if (expected.initializes >= 0 && expected.initializes != observed.initializes) return false;
    if (expected.runs == runs_not_counted) return true;
    if (expected.runs == runs_at_most_once) return observed.runs >= 0 && observed.runs <= 1;
    return expected.runs == observed.runs;
}

// What the summary shows of an observation: the initializes only where they were expected.
std::string describe_observed(const cell_expectation& expected, const cell_expectation& observed) {
    cell_expectation shown = observed;
    if (expected.initializes < 0) shown.initializes = initializes_not_checked;
    return describe(shown);
}

// One row of the matrix: what is done to the server, and what each request kind should see
// (nullopt: the combination does not apply).
struct fault_row {
    std::string name;
    std::optional<fs::fault> fault;                     // injected, matching the cell's request
    std::function<void(fs::flaky_server&)> stage;        // server settings or events before the call
    std::optional<duration> call_timeout;                // call_options::timeout
    std::optional<cell_expectation> expect[4];           // by request_kind
    // For the `initialize` kinds: the method the fault is applied to (default `initialize`).
    std::string initialize_fault_method = "initialize";
    // Retry while this much time has passed (limited_time) instead of retry_once; such rows run
    // on the real clock (a server outage takes real time).
    std::optional<duration> retry_budget;
};

cell_expectation idem(outcome_kind o, int initializes = initializes_not_checked) {
    return {o, runs_not_counted, initializes};
}
cell_expectation runs(outcome_kind o, int n, int initializes = initializes_not_checked) { return {o, n, initializes}; }

std::vector<fault_row> matrix_rows() {
    using o = outcome_kind;
    // An initialize that fails: the reconnect fails, and the call that needed it is never sent
    // again (the count it carried was refused with the lost session, so it ran 0 times).
    auto tool_fault = [&](std::string name, fs::fault f, cell_expectation idempotent, cell_expectation non_idempotent,
                          cell_expectation initialize = {outcome_kind::reconnect_failed, 0}) {
        fault_row r;
        r.name = std::move(name);
        r.fault = std::move(f);
        r.expect[0] = idempotent;
        r.expect[1] = non_idempotent;
        r.expect[2] = initialize;
        r.expect[3] = initialize;
        return r;
    };
    std::vector<fault_row> rows;
    // Answers that reject the request without running it: throttling waits and retries.
    rows.push_back(tool_fault("429 Too Many Requests, Retry-After: 1", fs::fault::too_many_requests(1),
                              idem(o::recovered), runs(o::recovered, 1)));
    rows.push_back(tool_fault("503 Service Unavailable, Retry-After: 1", fs::fault::service_unavailable(1),
                              idem(o::recovered), runs(o::recovered, 1)));
    rows.push_back(tool_fault("503 Service Unavailable, no Retry-After", fs::fault::service_unavailable(),
                              idem(o::recovered), runs(o::recovered, 1)));
    // 500, 502, 504: the request may have run before the error: only a replay-safe one is retried.
    rows.push_back(tool_fault("500 Internal Server Error", fs::fault::internal_error(), idem(o::recovered),
                              runs(o::not_replayable, 0)));
    rows.push_back(tool_fault("502 Bad Gateway", fs::fault::http_status(502, "Bad Gateway"), idem(o::recovered),
                              runs(o::not_replayable, 0)));
    rows.push_back(tool_fault("504 Gateway Timeout", fs::fault::http_status(504, "Gateway Timeout"),
                              idem(o::recovered), runs(o::not_replayable, 0)));
    // Credentials: no token provider is configured, so a 401 ends the call.
    rows.push_back(tool_fault("401 Unauthorized, WWW-Authenticate: Bearer", fs::fault::unauthorized(),
                              idem(o::unauthorized), runs(o::unauthorized, 0)));
    // An `initialize` refused with 400, 403 or 404: the endpoint will not take one; a permanent
    // failure at once, not a reconnect retried until the breaker opens.
    // Errors recovery cannot help; a 404 (from a proxy, say) on a request with a session id reads
    // as a lost session: a new session, and the request, refused unrun, is sent again.
    rows.push_back(tool_fault("403 Forbidden (no WWW-Authenticate)", fs::fault::http_status(403, "Forbidden"),
                              idem(o::permanent_failure), runs(o::permanent_failure, 0),
                              {o::permanent_failure, 0}));
    rows.push_back(tool_fault("400 Bad Request", fs::fault::http_status(400, "Bad Request"),
                              idem(o::permanent_failure), runs(o::permanent_failure, 0), {o::permanent_failure, 0}));
    rows.push_back(tool_fault("404 Not Found (plain text)", fs::fault::http_status(404, "Not Found"),
                              idem(o::recovered), runs(o::recovered, 1), {o::permanent_failure, 0}));
    // The connection breaks: the client cannot know whether the request ran. The session is
    // intact: a new connection on it, no new session (0 initializes).
    rows.push_back(tool_fault("connection reset before executing (session intact)", fs::fault::reset_before_execute(),
                              idem(o::recovered, 0), runs(o::not_replayable, 0, 0)));
    rows.push_back(tool_fault("connection reset after executing (session intact)", fs::fault::reset_after_execute(),
                              idem(o::recovered, 0), runs(o::not_replayable, 1, 0)));
    {
        // A proxy or load balancer resets the idle keep-alive connections: the next request finds
        // its pooled connection dead and goes out on a new one, on the same session.
        fault_row r;
        r.name = "idle connections reset by a proxy (session intact)";
        r.stage = [](fs::flaky_server& s) { s.drop_connections(); };
        r.expect[0] = idem(o::ok, 0);
        r.expect[1] = runs(o::ok, 1, 0);
        rows.push_back(std::move(r));
    }
    {
        fault_row r;
        r.name = "server closes every connection after its answer";
        r.stage = [](fs::flaky_server& s) { s.set_close_after_response(true); };
        r.expect[0] = idem(o::ok, 0);
        r.expect[1] = runs(o::ok, 1, 0);
        r.expect[2] = runs(o::recovered, 1, 1);
        r.expect[3] = runs(o::recovered, 1, 1);
        rows.push_back(std::move(r));
    }
    {
        // A stalled handshake. The notification travels with the replay (pipeline_initialized,
        // the default): the stall holds the replay's answer, which ends by the 1 s read timeout,
        // delivery unknown (an HTTP/1.1 server may run a pipelined request before it answers the
        // one ahead of it): a non-idempotent call is not replayed, and the server did not run it.
        // Without pipelining: reconnect_failed, bounded by reconnect_timeout (the session tests).
        fault_row r;
        r.name = "stalled `notifications/initialized` (5 s, past the 1 s read timeout)";
        r.fault = fs::fault::delay(5s);
        r.initialize_fault_method = "notifications/initialized";
        r.expect[2] = runs(o::not_replayable, 0, 1);
        r.expect[3] = runs(o::not_replayable, 0, 1);
        rows.push_back(std::move(r));
    }
    rows.push_back(tool_fault("SSE stream cut after an event (not resumable: 400 on resume)",
                              fs::fault::cut_stream_after_event(), idem(o::recovered), runs(o::not_replayable, 1)));
    // Stream resumption: a cut stream with a priming event id is resumed with GET + Last-Event-ID.
    rows.push_back(tool_fault("SSE stream cut after a priming event, resumed", fs::fault::cut_stream_after_priming(10ms),
                              idem(o::resumed), runs(o::resumed, 1)));
    {
        fault_row r = tool_fault("SSE stream cut after a priming event, server refuses resumption (405)",
                                 fs::fault::cut_stream_after_priming(10ms), idem(o::recovered),
                                 runs(o::not_replayable, 1));
        r.stage = [](fs::flaky_server& s) { s.set_resumption(false); };
        rows.push_back(std::move(r));
    }
    rows.push_back(tool_fault("SSE stream cut after a priming event, every resumption cut again (3 cuts > 2 attempts)",
                              fs::fault::cut_stream_after_priming(10ms).with_resumed_cuts(3), idem(o::recovered),
                              runs(o::not_replayable, 1)));
    // Stalls: past the read timeout the call fails with delivery unknown; the server may still
    // run it (stopped at the end of the cell, so at most once).
    rows.push_back(tool_fault("stall 3 s (past the 1 s read timeout)", fs::fault::delay(3s), idem(o::recovered),
                              runs(o::not_replayable, runs_at_most_once)));
    rows.push_back(tool_fault("stall 50 ms (within the read timeout)", fs::fault::delay(50ms), idem(o::ok),
                              runs(o::ok, 1), runs(o::recovered, 1)));
    rows.push_back(tool_fault("answer as an SSE stream instead of JSON",
                              fs::fault::answer_as(fs::response_mode::sse), idem(o::ok), runs(o::ok, 1),
                              runs(o::recovered, 1)));
    // A throttling hint longer than the call's deadline: give up at once rather than wait in vain.
    {
        fault_row r;
        r.name = "429, Retry-After: 30 beyond the call's 2 s timeout";
        r.fault = fs::fault::too_many_requests(30);
        r.call_timeout = 2s;
        r.expect[0] = idem(o::deadline_exceeded);
        r.expect[1] = runs(o::deadline_exceeded, 0);
        rows.push_back(std::move(r));
    }
    // Server events: a lost session in each server family's style, and a restart.
    for (const auto style : {fs::lost_session_style::typescript_404, fs::lost_session_style::everything_400,
                             fs::lost_session_style::python_404, fs::lost_session_style::go_404_plain,
                             fs::lost_session_style::python_400_plain}) {
        const fs::http_answer a = fs::lost_session_answer(style);
        fault_row r;
        r.name = "session expired: " + std::to_string(a.status) + " " + std::string(fs::to_string(style));
        r.stage = [style](fs::flaky_server& s) {
            s.set_lost_session_style(style);
            s.expire_all_sessions();
        };
        r.expect[0] = idem(o::recovered);
        r.expect[1] = runs(o::recovered, 1);
        rows.push_back(std::move(r));
    }
    {
        fault_row r;
        r.name = "session expired, answered in band: 200 with JSON-RPC -32001 \"Session not found\"";
        r.stage = [](fs::flaky_server& s) {
            s.set_lost_session_style(fs::lost_session_style::in_band_200);
            s.expire_all_sessions();
        };
        r.expect[0] = idem(o::recovered, 1);
        r.expect[1] = runs(o::recovered, 1, 1);
        rows.push_back(std::move(r));
    }
    {
        fault_row r;
        r.name = "server restart (connections closed, sessions forgotten)";
        r.stage = [](fs::flaky_server& s) { s.restart(); };
        r.expect[0] = idem(o::recovered, 1);
        r.expect[1] = runs(o::recovered, 1, 1);
        rows.push_back(std::move(r));
    }
    for (const auto outage : {200ms, 1000ms}) {
        // Down (connections refused) for a while, back without the sessions: reopen flights back
        // off until it accepts, then one initialize. A `limited_time` retry policy rides it out.
        fault_row r;
        r.name = "server down " + std::to_string(outage.count()) + " ms, back without sessions (limited_time 10 s)";
        r.stage = [outage](fs::flaky_server& s) { s.outage(outage); };
        r.retry_budget = 10s;
        r.call_timeout = 10s;
        r.expect[0] = idem(o::recovered, 1);
        r.expect[1] = runs(o::recovered, 1, 1);
        rows.push_back(std::move(r));
    }
    return rows;
}

mb::request count_call(const std::string& key) {
    return {"tools/call", R"({"name":"count","arguments":{"key":")" + key + R"("}})"};
}
const mb::request echo_call{"tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"};

mb::transport_options transport_options_for(const std::string& url) {
    mb::transport_options o;
    o.url = url;
    o.connect_timeout = 2s;
    o.read_timeout = 1s;
    o.resume_delay = 10ms;
    return o;
}

call_options options_for(const fault_row& row, request_kind kind) {
    call_options o;
    if (kind == request_kind::idempotent) o.annotations = tool_annotations{true, false};
    if (row.call_timeout) o.timeout = *row.call_timeout;
    return o;
}

// Stages the cell on a connected (or, for the first connect, not yet connected) client.
void arrange(fs::flaky_server& server, const fault_row& row, request_kind kind) {
    if (row.stage) row.stage(server);
    if (kind == request_kind::initialize_on_reconnect) server.expire_all_sessions();
    if (row.fault)
        server.inject(*row.fault, is_initialize(kind) ? fs::fault_match::method(row.initialize_fault_method)
                                                      : fs::fault_match::tool_call());
}

template <class Result>
outcome_kind classify(const Result& r, std::uint64_t retries, std::uint64_t resumptions) {
    if (r) {
        if (r->is_error()) return outcome_kind::unexpected;  // a JSON-RPC error: not what a tool call here gets
        if (retries > 0) return outcome_kind::recovered;
        return resumptions > 0 ? outcome_kind::resumed : outcome_kind::ok;
    }
    const std::error_code code = r.error().code;
    if (code == errc::not_replayable) {
        // Only a request that may have run is refused a replay.
        const bool unknown = r.error().last_failure && r.error().last_failure->delivered == delivery::unknown;
        return unknown ? outcome_kind::not_replayable : outcome_kind::unexpected;
    }
    if (code == errc::unauthorized) return outcome_kind::unauthorized;
    if (code == errc::reconnect_failed) return outcome_kind::reconnect_failed;
    if (code == errc::deadline_exceeded) return outcome_kind::deadline_exceeded;
    if (code == errc::permanent_failure) return outcome_kind::permanent_failure;
    if (code == errc::retries_exhausted) return outcome_kind::retries_exhausted;
    if (code == errc::circuit_open) return outcome_kind::circuit_open;
    if (code == errc::cancelled) return outcome_kind::cancelled;
    return outcome_kind::unexpected;
}

struct matrix_line {
    std::string fault;
    request_kind request;
    std::string mode;
    cell_expectation expected;
    cell_expectation observed;
};

std::string unique_key(std::size_t row, request_kind kind, const char* mode) {
    return "m" + std::to_string(row) + "-" + std::to_string(static_cast<int>(kind)) + "-" + mode;
}

// retry_once, or limited_time when the row gives a budget.
struct row_retry {
    std::optional<duration> budget;
    bool on_failure(const retry_context& c) const {
        return budget ? c.now - c.started < *budget : c.attempt == 1;
    }
};

reconnect_options matrix_reconnect_options() {
    reconnect_options o;
    o.reconnect_timeout = 1s;  // a stalled handshake fails the flight after 1 s
    return o;
}

// ---- synchronous: recovering_client over streamable_http_transport, manual clock ----

template <class Clock>
using sync_client_on = recovering_client<mb::streamable_http_transport, default_classifier, row_retry,
                                         exponential_backoff, single_flight_reconnector<>, counting_observer, Clock>;

template <class Clock>
cell_expectation run_sync_on(const fault_row& row, request_kind kind, const std::string& key,
                             std::optional<Clock> clock) {
    fs::flaky_server server;
    sync_client_on<Clock> client(std::in_place, transport_options_for(server.url()));
    if (clock) client.clock() = *clock;
    client.retry_policy() = row_retry{row.retry_budget};
    client.reconnector().set_options(matrix_reconnect_options());
    client.backoff_policy() = exponential_backoff(100ms, 2.0, 1s, jitter::none);
    if (kind != request_kind::initialize_on_first_connect) REQUIRE(client.transport().connect());
    arrange(server, row, kind);
    const auto resumptions = server.resumptions();
    const auto initializes = server.initializes();
    const auto r = client.try_call(kind == request_kind::idempotent ? echo_call : count_call(key),
                                   options_for(row, kind));
    const outcome_kind o = classify(r, client.observer().retries(), server.resumptions() - resumptions);
    const int inits = static_cast<int>(server.initializes() - initializes);
    server.stop();  // ends a stall still pending: the count below is final
    if (kind == request_kind::idempotent) return {o, runs_not_counted, inits};
    return {o, static_cast<int>(server.executions(key)), inits};
}

// The client's clock is manual (started at the real time, so that call deadlines make sense to
// the transport too) unless the row needs real time (an outage): Retry-After and backoff waits
// are then recorded, not slept.
cell_expectation run_sync(const fault_row& row, request_kind kind, const std::string& key) {
    if (row.retry_budget) return run_sync_on<steady_clock_source>(row, kind, key, std::nullopt);
    return run_sync_on<mcp_recovery::testing::manual_clock>(row, kind, key,
                                                            mcp_recovery::testing::manual_clock(clock_type::now()));
}

#if MCP_RECOVERY_BEAST_HAS_ASYNC
// ---- asynchronous: async_recovering_client over async_streamable_http_transport ----

namespace net = boost::asio;

using async_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, row_retry,
                                                 exponential_backoff, mb::async_single_flight_reconnector<>,
                                                 counting_observer>;

using mcp_recovery_tests::run;

cell_expectation run_async(const fault_row& row, request_kind kind, const std::string& key) {
    fs::flaky_server server;
    net::io_context ioc;
    async_client client(ioc.get_executor(), std::in_place, ioc.get_executor(), transport_options_for(server.url()));
    client.backoff_policy() = exponential_backoff(10ms, 2.0, 100ms, jitter::none);
    client.retry_policy() = row_retry{row.retry_budget};
    client.reconnector().set_options(matrix_reconnect_options());
    if (kind != request_kind::initialize_on_first_connect) REQUIRE(run(ioc, client.transport().async_connect()));
    arrange(server, row, kind);
    const auto resumptions = server.resumptions();
    const auto initializes = server.initializes();
    const auto r = run(ioc, client.call(kind == request_kind::idempotent ? echo_call : count_call(key),
                                        options_for(row, kind)));
    const outcome_kind o = classify(r, client.observer().retries(), server.resumptions() - resumptions);
    const int inits = static_cast<int>(server.initializes() - initializes);
    server.stop();
    if (kind == request_kind::idempotent) return {o, runs_not_counted, inits};
    return {o, static_cast<int>(server.executions(key)), inits};
}
#endif

// The request kinds' short names, for the summary's header.
const char* column_of(request_kind k) {
    switch (k) {
    case request_kind::idempotent: return "idempotent";
    case request_kind::non_idempotent: return "non-idempotent";
    case request_kind::initialize_on_reconnect: return "`initialize` (reconnect)";
    case request_kind::initialize_on_first_connect: return "`initialize` (first connect)";
    }
    return "?";
}

// Writes a summary (a row per fault, a column per request kind: the observed outcome, the same in
// every mode unless said) and then the whole matrix (fault | request | mode | expected | observed).
void write_markdown(const std::vector<matrix_line>& lines, const char* path) {
    std::ofstream out(path, std::ios::trunc);
    REQUIRE(out);
    std::size_t agree = 0;
    std::vector<std::string> modes, faults;
    for (const auto& l : lines) {
        agree += matches(l.expected, l.observed) ? 1 : 0;
        if (std::find(modes.begin(), modes.end(), l.mode) == modes.end()) modes.push_back(l.mode);
        if (std::find(faults.begin(), faults.end(), l.fault) == faults.end()) faults.push_back(l.fault);
    }
    std::string mode_list;
    for (const auto& m : modes) mode_list += (mode_list.empty() ? "" : ", ") + m;
    out << "<!-- generated by mcp_recovery_reliability_tests (MCPR_MATRIX_OUT): " << lines.size() << " cells, "
        << agree << " as expected; modes: " << mode_list << " -->\n\n";
    out << "Summary: the observed outcome of each cell, identical in every mode (" << mode_list
        << ") unless shown per mode; ✗ marks a cell that differs from its expectation; - : not applicable.\n\n";
    out << "| fault |";
    for (const request_kind k : all_request_kinds) out << " " << column_of(k) << " |";
    out << "\n|---|---|---|---|---|\n";
    for (const auto& fault : faults) {
        out << "| " << fault << " |";
        for (const request_kind k : all_request_kinds) {
            std::vector<const matrix_line*> cell;
            for (const auto& l : lines)
                if (l.fault == fault && l.request == k) cell.push_back(&l);
            if (cell.empty()) {
                out << " - |";
                continue;
            }
            bool same = true;
            for (const auto* l : cell)
                same = same && describe_observed(l->expected, l->observed) ==
                                   describe_observed(cell.front()->expected, cell.front()->observed);
            std::string text;
            for (const auto* l : cell) {
                const std::string mark = matches(l->expected, l->observed) ? "" : " ✗";
                if (same) {
                    if (text.empty()) text = describe_observed(l->expected, l->observed) + mark;
                    else if (!mark.empty() && text.find(mark) == std::string::npos) text += mark;
                } else {
                    text += (text.empty() ? "" : "; ") + l->mode + ": " + describe_observed(l->expected, l->observed) + mark;
                }
            }
            out << " " << text << " |";
        }
        out << "\n";
    }
    out << "\nEvery cell:\n\n| fault | request | mode | expected | observed |\n|---|---|---|---|---|\n";
    for (const auto& l : lines) {
        const bool ok = matches(l.expected, l.observed);
        out << "| " << l.fault << " | " << describe(l.request) << " | " << l.mode << " | " << describe(l.expected)
            << " | " << describe(l.observed) << (ok ? " ✓" : " ✗ MISMATCH") << " |\n";
    }
    REQUIRE(out.good());
}

}  // namespace

TEST_CASE("fault matrix: every flaky_server fault x request kind x sync/async, as expected", "[reliability][matrix]") {
    const std::vector<fault_row> rows = matrix_rows();
    std::vector<matrix_line> lines;
    struct mode {
        const char* name;
        std::function<cell_expectation(const fault_row&, request_kind, const std::string&)> run;
    };
    std::vector<mode> modes{{"sync", run_sync}};
#if MCP_RECOVERY_BEAST_HAS_ASYNC
    modes.push_back({"async", run_async});
#endif
    for (const auto& m : modes) {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            for (const request_kind kind : all_request_kinds) {
                const auto& expected = rows[i].expect[static_cast<int>(kind)];
                if (!expected) continue;
                CAPTURE(rows[i].name, describe(kind), m.name);
                const cell_expectation observed = m.run(rows[i], kind, unique_key(i, kind, m.name));
                CAPTURE(describe(*expected), describe(observed));
                CHECK(matches(*expected, observed));
                lines.push_back({rows[i].name, kind, m.name, *expected, observed});
            }
        }
    }
    if (const char* path = std::getenv("MCPR_MATRIX_OUT"); path && *path) write_markdown(lines, path);
}
