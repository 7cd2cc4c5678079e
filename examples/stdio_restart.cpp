// A stdio MCP server that crashes, restarted by the reconnect of a callable transport. POSIX only.
//
// The program is both sides. `stdio_restart --serve N` is a tiny line-delimited JSON-RPC server
// on stdin/stdout that exits without answering its (N+1)th request after `initialize`. Without
// arguments, the program is the client: a small stdio client class (standing in for the SDK client
// you already have) that spawns the server with fork/exec and talks to it through pipes, wrapped
// into a transport with `callable::make_transport`: send = one request; reconnect = kill and reap
// the old child, spawn a new one, `initialize` + `notifications/initialized`; a translator turns
// the client's exceptions into failures with the right delivery. A recovering_client then makes
// calls across two crashes and shows what is replayed and what is not. Every read is bounded by
// poll() with a timeout, so nothing can hang. Exit code 0 when everything went as expected.

#include <mcp_recovery/callable.hpp>
#include <mcp_recovery/recovering_client.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cb = mcp_recovery::callable;
using mcp_recovery::failure;

namespace {

// ---------------------------------------------------------------- the server (--serve N)

std::string field(const std::string& line, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const auto at = line.find(key);
    if (at == std::string::npos) return {};
    auto p = at + key.size();
    if (p < line.size() && line[p] == '"') {
        const auto end = line.find('"', p + 1);
        return end == std::string::npos ? std::string{} : line.substr(p + 1, end - p - 1);
    }
    const auto end = line.find_first_of(",}", p);
    return line.substr(p, end == std::string::npos ? std::string::npos : end - p);
}

int serve(int crash_after) {
    bool initialized = false;
    int served = 0;
    std::string line;
    while (std::getline(std::cin, line)) {
        const std::string method = field(line, "method");
        const std::string id = field(line, "id");
        std::string result;
        if (method == "notifications/initialized") {
            initialized = true;
            continue;
        }
        if (id.empty()) continue;  // another notification
        if (method == "initialize") {
            result = R"({"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
                     R"("serverInfo":{"name":"crashy","version":"1.0"}})";
        } else if (!initialized) {
            std::cout << R"({"jsonrpc":"2.0","id":)" << id
                      << R"(,"error":{"code":-32002,"message":"Server not initialized"}})" << std::endl;
            continue;
        } else {
            if (++served > crash_after) {
                std::fprintf(stderr, "  [server %d] crashing on request %d (%s)\n", static_cast<int>(getpid()), served,
                             method.c_str());
                std::_Exit(3);
            }
            if (method == "tools/list")
                result = R"({"tools":[{"name":"add","annotations":{"readOnlyHint":true}},{"name":"append"}]})";
            else
                result = R"({"content":[{"type":"text","text":"done by server )" + std::to_string(getpid()) + "\"}]}";
        }
        std::cout << R"({"jsonrpc":"2.0","id":)" << id << R"(,"result":)" << result << '}' << std::endl;
    }
    return 0;
}

// ---------------------------------------------------------------- the client you already have

/// What the stdio client throws, and at which point: the translator needs to know whether the
/// request can have reached the server.
class stdio_error : public std::runtime_error {
public:
    enum class stage { not_started, write, read, timeout };
    stdio_error(stage s, const std::string& what) : std::runtime_error(what), where(s) {}
    stage where;
};

/// A line-delimited JSON-RPC client over a child process's stdin/stdout. Not thread-safe (one
/// request at a time), like many stdio clients.
class stdio_client {
public:
    stdio_client(const std::string& program, int crash_after, std::chrono::milliseconds timeout) : timeout_(timeout) {
        int in[2];   // parent -> child stdin
        int out[2];  // child stdout -> parent
        if (pipe(in) != 0) throw stdio_error(stdio_error::stage::not_started, "pipe failed");
        if (pipe(out) != 0) {
            close(in[0]);
            close(in[1]);
            throw stdio_error(stdio_error::stage::not_started, "pipe failed");
        }
        for (int fd : {in[0], in[1], out[0], out[1]}) fcntl(fd, F_SETFD, FD_CLOEXEC);
        const std::string n = std::to_string(crash_after);
        pid_ = fork();
        if (pid_ == 0) {  // the child: only async-signal-safe calls until exec
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            execl(program.c_str(), program.c_str(), "--serve", n.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        if (pid_ < 0) {
            close(in[1]);
            close(out[0]);
            throw stdio_error(stdio_error::stage::not_started, "fork failed");
        }
        to_child_ = in[1];
        from_child_ = out[0];
        try {  // the MCP handshake: initialize, then notifications/initialized
            request("initialize", R"({"protocolVersion":"2025-06-18","capabilities":{},)"
                                  R"("clientInfo":{"name":"stdio_restart","version":"1.0"}})",
                    std::chrono::steady_clock::now() + timeout_);
            write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
        } catch (...) {
            stop();
            throw;
        }
    }

    stdio_client(const stdio_client&) = delete;
    stdio_client& operator=(const stdio_client&) = delete;

    ~stdio_client() { stop(); }

    int pid() const noexcept { return static_cast<int>(pid_); }

    /// Sends one request and returns the response line; throws `stdio_error`.
    std::string request(const std::string& method, const std::string& params,
                        std::chrono::steady_clock::time_point deadline) {
        const int id = next_id_++;
        write_line(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" +
                   params + "}");
        deadline = std::min(deadline, std::chrono::steady_clock::now() + timeout_);
        for (;;) {
            std::string line = read_line(deadline);
            if (field(line, "id") == std::to_string(id)) return line;
        }
    }

private:
    /// Closes the pipes, kills and reaps the server process.
    void stop() noexcept {
        if (to_child_ >= 0) close(to_child_);
        if (from_child_ >= 0) close(from_child_);
        to_child_ = from_child_ = -1;
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            int status = 0;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
    }

    void write_line(std::string line) {
        if (dead_) throw stdio_error(stdio_error::stage::write, "the server process has exited");
        line += '\n';
        std::size_t done = 0;
        while (done < line.size()) {
            const ssize_t n = write(to_child_, line.data() + done, line.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                dead_ = true;
                throw stdio_error(stdio_error::stage::write, std::string("write to the server: ") + std::strerror(errno));
            }
            done += static_cast<std::size_t>(n);
        }
    }

    std::string read_line(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw stdio_error(stdio_error::stage::timeout, "no answer from the server in time");
            pollfd p{from_child_, POLLIN, 0};
            const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60000)));
            if (ready < 0 && errno != EINTR) throw stdio_error(stdio_error::stage::read, "poll failed");
            if (ready <= 0) continue;
            char chunk[4096];
            const ssize_t n = read(from_child_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                dead_ = true;
                throw stdio_error(stdio_error::stage::read, "the server process exited before answering");
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    int next_id_ = 1;
    bool dead_ = false;
    std::chrono::milliseconds timeout_;
};

// ---------------------------------------------------------------- the wrapping

/// The request: a method (the recovering client derives idempotency from it) and its params.
struct rpc_request {
    std::string method;
    std::string params = "{}";
};

/// Only this program knows whether its client's error happened before or after the request left.
failure translate(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const stdio_error& x) {
        failure f;
        f.message = x.what();
        switch (x.where) {
        case stdio_error::stage::not_started:
        case stdio_error::stage::write:  // the server never read it
            f.transport_error = std::make_error_code(std::errc::broken_pipe);
            f.delivered = mcp_recovery::delivery::not_sent;
            break;
        case stdio_error::stage::read:  // it was written: the server may have run it before dying
            f.transport_error = make_error_code(mcp_recovery::transport_errc::stream_ended);
            f.delivered = mcp_recovery::delivery::unknown;
            break;
        case stdio_error::stage::timeout:
            f.transport_error = std::make_error_code(std::errc::timed_out);
            f.delivered = mcp_recovery::delivery::unknown;
            break;
        }
        return f;
    } catch (...) {
        return cb::default_translator{}(std::current_exception());
    }
}

std::string self_path(const char* argv0) {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
    return argv0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--serve") return serve(std::atoi(argv[2]));
    std::signal(SIGPIPE, SIG_IGN);  // a dead child must give EPIPE, not kill us
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep our lines in order with the servers' stderr

    using namespace mcp_recovery;
    const std::string program = self_path(argv[0]);
    constexpr int crash_after = 2;
    const auto io_timeout = std::chrono::seconds(5);

    cb::client_slot<stdio_client> slot;
    int spawned = 0;
    auto start_server = [&] {
        slot.reset();  // kill and reap the old child first (our send is not concurrent here)
        slot.reset(std::make_shared<stdio_client>(program, crash_after, io_timeout));
        ++spawned;
    };

    auto transport = cb::make_transport<rpc_request, std::string>(
        // send: one request on the current client, bounded by the call's deadline
        [&](const rpc_request& r, time_point deadline) {
            std::shared_ptr<stdio_client> c = slot.get();
            if (!c) throw stdio_error(stdio_error::stage::not_started, "no server process");
            return c->request(r.method, r.params, deadline);
        },
        // reconnect: a new server process, initialized
        start_server,
        // what our client's exceptions mean
        translate);

    try {
        start_server();
    } catch (const std::exception& e) {
        std::printf("cannot start the server: %s\n", e.what());
        return 1;
    }

    recovering_client<decltype(transport), default_classifier, retry_once, no_backoff, single_flight_reconnector<>,
                      counting_observer>
        client(std::move(transport));

    bool as_expected = true;
    auto step = [&](const char* what, const rpc_request& r, const call_options& o, bool expect_ok) {
        auto result = client.try_call(r, o);
        const auto c = slot.get();
        std::printf("%-44s -> %-6s (server pid %d, generation %llu, reconnects %llu)\n", what,
                    result ? "ok" : "failed", c ? c->pid() : -1,
                    static_cast<unsigned long long>(client.transport().generation()),
                    static_cast<unsigned long long>(client.observer().reconnects()));
        if (!result) {
            std::printf("    %s\n", result.error().code.message().c_str());
            if (result.error().last_failure)
                std::printf("    last failure: %s (delivery %s)\n", result.error().last_failure->message.str().c_str(),
                            std::string(to_string(result.error().last_failure->delivered)).c_str());
        }
        if (static_cast<bool>(result) != expect_ok) as_expected = false;
        return static_cast<bool>(result);
    };

    call_options plain;
    plain.timeout = std::chrono::seconds(20);
    call_options read_only = plain;  // from tools/list: "add" is annotated readOnlyHint
    read_only.annotations = tool_annotations{true, false};

    const rpc_request list{"tools/list"};
    const rpc_request add{"tools/call", R"({"name":"add","arguments":{"a":1,"b":2}})"};
    const rpc_request append{"tools/call", R"({"name":"append","arguments":{"line":"hello"}})"};

    std::printf("server crashes on its request number %d after initialize\n", crash_after + 1);
    step("1. tools/list", list, plain, true);
    step("2. tools/call add (read-only)", add, read_only, true);
    step("3. tools/call add: crash, restart, replay", add, read_only, true);
    step("4. tools/call append", append, plain, true);
    step("5. tools/call append: crash, NOT replayed", append, plain, false);
    step("6. tools/list: restart, replay", list, plain, true);

    const bool counts = client.observer().reconnects() == 2 && client.transport().generation() == 3 && spawned == 3;
    std::printf("%s: %d server processes, %llu reconnects; the append in step 5 may or may not have run: "
                "the application was told (not_replayable) instead of a silent second write\n",
                as_expected && counts ? "as expected" : "UNEXPECTED", spawned,
                static_cast<unsigned long long>(client.observer().reconnects()));
    return as_expected && counts ? 0 : 1;
}
