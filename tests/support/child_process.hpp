// A child process for interop tests: started with posix_spawn, its stdout read line by line with
// a timeout, stopped by PID (SIGTERM, then SIGKILL) when the test ends. POSIX only.
#ifndef MCP_RECOVERY_TESTS_CHILD_PROCESS_HPP
#define MCP_RECOVERY_TESTS_CHILD_PROCESS_HPP

#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mcp_recovery_tests {

class child_process {
public:
    /// Starts `argv[0]` (searched in PATH) with `argv`, in `cwd` when given; stderr is inherited.
    explicit child_process(const std::vector<std::string>& argv, const std::string& cwd = {}) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addclose(&actions, fds[1]);
        std::vector<char*> args;
        std::string command;
        std::vector<std::string> storage = argv;
        if (!cwd.empty()) {
            // posix_spawn has no portable chdir action before glibc 2.29's _np variant: use sh.
            command = "cd '" + cwd + "' && exec \"$0\" \"$@\"";
            storage.insert(storage.begin(), {"/bin/sh", "-c", command});
        }
        for (auto& a : storage) args.push_back(a.data());
        args.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        if (rc != 0) {
            close(fds[0]);
            throw std::runtime_error(std::string("cannot start ") + argv.at(0) + ": " + std::strerror(rc));
        }
        out_ = fds[0];
        fcntl(out_, F_SETFL, fcntl(out_, F_GETFL) | O_NONBLOCK);
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() { stop(); }

    pid_t pid() const noexcept { return pid_; }

    /// The next line of stdout, or nothing if none arrived within `timeout` (or the child exited).
    std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0 || out_ < 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = read(out_, chunk, sizeof chunk);
            if (n == 0) {
                close(out_);
                out_ = -1;
            } else if (n > 0) {
                buffer_.append(chunk, static_cast<std::size_t>(n));
                if (buffer_.size() > 1 << 20) buffer_.erase(0, buffer_.size() - (1 << 20));  // bounded
            }
        }
    }

    /// Reads lines until one starts with `prefix`; returns the rest of that line.
    std::optional<std::string> wait_for(const std::string& prefix, std::chrono::milliseconds timeout) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            auto line = read_line(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
            if (!line) return std::nullopt;
            if (line->compare(0, prefix.size(), prefix) == 0) return line->substr(prefix.size());
        }
        return std::nullopt;
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`; reaps it. Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000)) {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            const auto end = std::chrono::steady_clock::now() + grace;
            int status = 0;
            while (waitpid(pid_, &status, WNOHANG) == 0) {
                if (std::chrono::steady_clock::now() > end) {
                    kill(pid_, SIGKILL);
                    waitpid(pid_, &status, 0);
                    break;
                }
                pollfd none{-1, 0, 0};
                poll(&none, 0, 10);  // waiting for a process to exit, not synchronising threads
            }
            pid_ = -1;
        }
        if (out_ >= 0) {
            close(out_);
            out_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
};

}  // namespace mcp_recovery_tests

#endif
