// Gateway benchmark (issue 15, part 3): a thousand backends in one process.
//
// A gateway that multiplexes MCP backends holds one recovering client per backend. This program
// measures what that costs with `async_recovering_client` over `async_streamable_http_transport`,
// all clients on ONE io_context run by the main thread:
//  1. memory: resident memory (VmRSS, RssAnon, VmHWM from /proc/self/status), glibc heap in use
//     (mallinfo2) and the kernel's socket objects (/proc/slabinfo, system-wide) after 0, 100, 250,
//     500 and 1,000 clients, each with its own transport and session and one pooled keep-alive
//     connection (connected, then one call each); then what those bytes are: sizeof of the
//     objects, and every heap block a client still holds once idle, grouped by the code that
//     allocated it (a counting operator new with backtraces, symbolized by addr2line);
//  2. a storm: the sessions of 100 clients expire on the server at once (a restart of 100
//     backends), then those 100 clients each make a call at once: every call must succeed and the
//     server must see exactly 100 initializes (1 per backend, each client's generation +1); p50,
//     p99 and max latency against a normal call and the same 100 calls without expiry;
//  3. a real restart: the server process is killed by PID (SIGKILL) while every client calls,
//     and started again on the same ports after ~1 s (connects refused meanwhile): every call
//     succeeds, with exactly one initialize per client;
//  4. the synchronous transport: threads (/proc/self/task) and file descriptors (/proc/self/fd)
//     per pooled connection, with an IP-literal URL and with a host-name URL (localhost).
//
// The flaky_servers run in a CHILD process (this binary re-executed with `--serve`), so that the
// client process's memory holds no server state; the parent commands it over a pipe. The child
// dies with the parent (PR_SET_PDEATHSIG, and it exits when its command pipe closes); the parent
// kills it on every exit path it controls (return, exit, fatal signals, the watchdog alarm).
//
// `--csv DIR` writes the memory-vs-clients rows to DIR/gateway_memory.csv (bench/plot.py draws
// docs/img/gateway-memory.svg from it).
//
// `--quick` (CI smoke run): 100 clients, storms of 20, the restart with 100 clients; checks only
// the functional properties. The exit code is non-zero only when one fails (a call failed, other
// than exactly one initialize per restarted backend, a leaked thread or descriptor), never on
// timing or memory figures.
#include <utility>

#include "mcp_recovery/beast/async_client.hpp"  // defines MCP_RECOVERY_BEAST_HAS_ASYNC where Asio has co_await
#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/beast/testing/flaky_server.hpp"

#if defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/string_body.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// The replaced operator new/delete below pair malloc and free; g++ cannot see that they match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// ---- a counting operator new: live heap blocks with the code that allocated them ----------------
// Off except while a breakdown stage runs; only the main thread is recorded. The table is mmap'd
// when first enabled, after the memory table has been taken.
namespace alloc_track {
constexpr int depth = 10;
constexpr int skipped = 2;  // record() and operator new
struct rec {
    void* p;
    std::size_t n;
    int frames;
    void* at[depth];
};
constexpr std::size_t slots = std::size_t{1} << 17;
rec* table = nullptr;
std::atomic<bool> enabled{false};
thread_local bool busy = false;
pthread_t owner;
std::size_t live = 0, dropped = 0;

inline std::size_t slot_of(const void* p) noexcept {
    return static_cast<std::size_t>(((reinterpret_cast<std::uintptr_t>(p) >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - 17));
}

// Count-only mode (no backtraces, cheap): the heap's growth since `count_from()` and its peak.
std::atomic<bool> counting{false};
long long grown = 0, peak = 0;
void count_from() {
    grown = peak = 0;
    owner = pthread_self();
    counting.store(true);
}
void count_stop() { counting.store(false); }

__attribute__((noinline)) void record(void* p, std::size_t n) noexcept {
    if (counting.load(std::memory_order_relaxed) && pthread_equal(pthread_self(), owner)) {
        grown += static_cast<long long>(::malloc_usable_size(p));
        if (grown > peak) peak = grown;
    }
    if (!enabled.load(std::memory_order_relaxed) || busy || !pthread_equal(pthread_self(), owner)) return;
    busy = true;
    if (live >= slots / 2) {
        ++dropped;
    } else {
        std::size_t i = slot_of(p);
        while (table[i].p) i = (i + 1) & (slots - 1);
        table[i].p = p;
        table[i].n = n;
        table[i].frames = ::backtrace(table[i].at, depth);
        ++live;
    }
    busy = false;
}

void forget(void* p) noexcept {
    if (p && counting.load(std::memory_order_relaxed) && pthread_equal(pthread_self(), owner))
        grown -= static_cast<long long>(::malloc_usable_size(p));
    if (!p || !enabled.load(std::memory_order_relaxed) || busy || !pthread_equal(pthread_self(), owner)) return;
    std::size_t i = slot_of(p);
    while (table[i].p && table[i].p != p) i = (i + 1) & (slots - 1);
    if (!table[i].p) return;
    // Backward-shift deletion (linear probing).
    std::size_t j = i;
    for (;;) {
        j = (j + 1) & (slots - 1);
        if (!table[j].p) break;
        const std::size_t k = slot_of(table[j].p);
        const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        table[i] = table[j];
        i = j;
    }
    table[i].p = nullptr;
    --live;
}

/// Starts recording from an empty table.
void start() {
    if (!table) {
        void* m = ::mmap(nullptr, slots * sizeof(rec), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return;
        table = static_cast<rec*>(m);
        void* warm[2];
        (void)::backtrace(warm, 2);  // loads the unwinder before recording starts
    }
    std::memset(static_cast<void*>(table), 0, slots * sizeof(rec));
    live = dropped = 0;
    owner = pthread_self();
    enabled.store(true);
}
void stop() { enabled.store(false); }
}  // namespace alloc_track

void* operator new(std::size_t n) {
    void* p = std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    alloc_track::record(p, n);
    return p;
}
void* operator new[](std::size_t n) {
    void* p = std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    alloc_track::record(p, n);
    return p;
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    void* p = std::malloc(n ? n : 1);
    if (p) alloc_track::record(p, n);
    return p;
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    void* p = std::malloc(n ? n : 1);
    if (p) alloc_track::record(p, n);
    return p;
}
void operator delete(void* p) noexcept {
    alloc_track::forget(p);
    std::free(p);
}
void operator delete[](void* p) noexcept {
    alloc_track::forget(p);
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    alloc_track::forget(p);
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    alloc_track::forget(p);
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    alloc_track::forget(p);
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    alloc_track::forget(p);
    std::free(p);
}

#if !defined(MCP_RECOVERY_BEAST_HAS_ASYNC)
int main() {
    std::printf("gateway benchmark: needs Asio coroutines (C++20 with g++); not built here.\n");
    return 0;
}
#else

namespace {

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace fs = mcp_recovery::beast::testing;
namespace net = boost::asio;
using bench_clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double us_since(bench_clock::time_point t0, bench_clock::time_point t1) {
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}
double vmax(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

int failures = 0;
void fail(const char* what) {
    std::printf("FAILED: %s\n", what);
    ++failures;
}

// ---- the child process --------------------------------------------------------------------------

std::atomic<pid_t> g_child{0};

void kill_child_now() noexcept {
    const pid_t pid = g_child.exchange(0);
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

extern "C" void on_fatal_signal(int sig) {
    const pid_t pid = g_child.exchange(0);
    if (pid > 0) ::kill(pid, SIGKILL);
    if (sig == SIGALRM) {
        const char msg[] = "FAILED: watchdog: the benchmark ran out of time\n";
        (void)!::write(2, msg, sizeof msg - 1);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void install_child_guards() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
        ::signal(sig, on_fatal_signal);
    ::signal(SIGPIPE, SIG_IGN);
    std::atexit([] { kill_child_now(); });
}

/// The flaky_servers in a child process, commanded line by line over a pipe.
class server_process {
public:
    server_process() = default;
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process() { stop(); }

    /// Starts the child on `ports` (all fixed); false when it could not bind them.
    bool start(const std::vector<std::uint16_t>& ports) {
        std::string list;
        for (auto p : ports) list += (list.empty() ? "" : ",") + std::to_string(p);
        int to_child[2], from_child[2];
        if (::pipe2(to_child, O_CLOEXEC) != 0) return false;
        if (::pipe2(from_child, O_CLOEXEC) != 0) {
            ::close(to_child[0]);
            ::close(to_child[1]);
            return false;
        }
        // Everything exec needs is ready before fork: the parent may have threads.
        char self[] = "/proc/self/exe";
        std::string serve = "--serve", ports_arg = list;
        char* argv[] = {self, serve.data(), ports_arg.data(), nullptr};
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) return false;
        if (pid == 0) {
            ::dup2(to_child[0], 0);
            ::dup2(from_child[1], 1);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);
            ::execv("/proc/self/exe", argv);
            ::_exit(127);
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        out_ = to_child[1];
        in_ = from_child[0];
        pid_ = pid;
        g_child.store(pid);
        buffer_.clear();
        const std::string ready = read_line(10s);
        if (ready.rfind("READY", 0) != 0) {
            kill_now();
            return false;
        }
        ports_ = ports;
        return true;
    }

    /// One command, its one-line answer (empty on timeout or a dead child).
    std::string command(const std::string& line, std::chrono::milliseconds timeout = 10s) {
        if (pid_ <= 0) return {};
        const std::string l = line + "\n";
        std::size_t off = 0;
        while (off < l.size()) {
            const ssize_t n = ::write(out_, l.data() + off, l.size() - off);
            if (n <= 0) return {};
            off += static_cast<std::size_t>(n);
        }
        return read_line(timeout);
    }

    std::uint64_t initializes() {
        const std::string a = command("INIT");
        unsigned long long n = 0;
        if (std::sscanf(a.c_str(), "INIT %llu", &n) != 1) fail("the server process did not answer INIT");
        return n;
    }

    /// SIGKILL, as a crashed or killed server.
    void kill_now() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (g_child.load() == pid_) g_child.store(0);
        close_pipes();
        pid_ = 0;
    }

    /// Asks the child to quit; kills it if it has not within 3 s.
    void stop() {
        if (pid_ <= 0) return;
        (void)command("QUIT", 1s);
        for (int i = 0; i < 300; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                if (g_child.load() == pid_) g_child.store(0);
                pid_ = 0;
                close_pipes();
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        kill_now();
    }

    pid_t pid() const noexcept { return pid_; }
    const std::vector<std::uint16_t>& ports() const noexcept { return ports_; }

private:
    void close_pipes() {
        if (out_ >= 0) ::close(out_);
        if (in_ >= 0) ::close(in_);
        out_ = in_ = -1;
    }

    std::string read_line(std::chrono::milliseconds timeout) {
        const auto end = bench_clock::now() + timeout;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - bench_clock::now());
            if (left.count() <= 0 || buffer_.size() > (1u << 20)) return {};
            pollfd p{in_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(in_, chunk, sizeof chunk);
            if (n <= 0) return {};
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    pid_t pid_ = 0;
    int out_ = -1, in_ = -1;
    std::string buffer_;
    std::vector<std::uint16_t> ports_;
};

/// The child: flaky_servers on the given ports; commands on stdin, answers on stdout.
int serve_main(const char* port_list) {
    std::vector<std::unique_ptr<fs::flaky_server>> servers;
    try {
        std::string_view rest = port_list;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const std::string one(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            fs::flaky_server_options o;
            o.port = static_cast<std::uint16_t>(std::stoul(one));
            o.max_connections = 4096;
            o.max_sessions = 8192;
            o.idle_timeout = 600s;  // idle keep-alive connections stay open for the whole run
            servers.push_back(std::make_unique<fs::flaky_server>(o));
        }
    } catch (const std::exception& e) {
        std::printf("ERROR %s\n", e.what());
        std::fflush(stdout);
        return 1;
    }
    std::printf("READY\n");
    std::fflush(stdout);
    static char line[1 << 18];
    for (int commands = 0; commands < 1'000'000 && std::fgets(line, sizeof line, stdin); ++commands) {
        std::string_view l(line);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
        if (l == "QUIT") break;
        if (l == "INIT") {
            std::uint64_t init = 0, alive = 0, open = 0;
            for (auto& s : servers) {
                init += s->initializes();
                alive += s->sessions_alive();
                open += s->open_connections();
            }
            std::printf("INIT %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", init, alive, open);
        } else if (l == "EXPIRE_ALL") {
            std::size_t n = 0;
            for (auto& s : servers) n += s->expire_all_sessions();
            std::printf("EXPIRED %zu\n", n);
        } else if (l.rfind("EXPIRE ", 0) == 0) {
            std::string_view ids = l.substr(7);
            std::size_t n = 0;
            while (!ids.empty()) {
                const auto sp = ids.find(' ');
                const std::string_view id = ids.substr(0, sp);
                ids = sp == std::string_view::npos ? std::string_view{} : ids.substr(sp + 1);
                if (id.empty()) continue;
                for (auto& s : servers)
                    if (s->expire_session(id)) {
                        ++n;
                        break;
                    }
            }
            std::printf("EXPIRED %zu\n", n);
        } else if (l.rfind("DELAY ", 0) == 0) {
            unsigned ms = 0, times = 0;
            if (std::sscanf(std::string(l).c_str(), "DELAY %u %u", &ms, &times) == 2)
                for (auto& s : servers)
                    s->inject(fs::fault::delay(std::chrono::milliseconds(ms)), fs::fault_match::tool_call("echo"), times);
            std::printf("OK\n");
        } else {
            std::printf("ERROR unknown command\n");
        }
        std::fflush(stdout);
    }
    return 0;
}

// ---- /proc ---------------------------------------------------------------------------------------

long status_kib(const char* field) {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    const std::size_t len = std::strlen(field);
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
            v = std::strtol(line + len + 1, nullptr, 10);
            break;
        }
    std::fclose(f);
    return v;
}

int count_entries(const char* dir) {
    DIR* d = ::opendir(dir);
    if (!d) return -1;
    int n = 0;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n - (std::strcmp(dir, "/proc/self/fd") == 0 ? 1 : 0);  // the directory's own descriptor
}

// Kernel objects of sockets, from /proc/slabinfo (system-wide: both ends of a loopback
// connection, the server's included, and whatever else the machine does).
const char* const slab_names[] = {"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq"};
constexpr std::size_t slab_count = sizeof slab_names / sizeof slab_names[0];
struct slab_snapshot {
    bool ok = false;
    long long objs[slab_count] = {};
    long long size[slab_count] = {};
    long long bytes() const {
        long long b = 0;
        for (std::size_t i = 0; i < slab_count; ++i) b += objs[i] * size[i];
        return b;
    }
};
slab_snapshot read_slabs() {
    slab_snapshot s;
    FILE* f = std::fopen("/proc/slabinfo", "r");
    if (!f) return s;
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
        char name[64];
        long long active = 0, total = 0, objsize = 0;
        if (std::sscanf(line, "%63s %lld %lld %lld", name, &active, &total, &objsize) != 4) continue;
        for (std::size_t i = 0; i < slab_count; ++i)
            if (std::strcmp(name, slab_names[i]) == 0) {
                s.objs[i] = active;
                s.size[i] = objsize;
                s.ok = true;
            }
    }
    std::fclose(f);
    return s;
}

long tcp_mem_pages() {
    FILE* f = std::fopen("/proc/net/sockstat", "r");
    if (!f) return -1;
    char line[256];
    long mem = -1;
    while (std::fgets(line, sizeof line, f)) {
        const char* m = std::strstr(line, "TCP:");
        if (m && (m = std::strstr(line, " mem "))) mem = std::strtol(m + 5, nullptr, 10);
    }
    std::fclose(f);
    return mem;
}

struct mem_sample {
    int clients = 0;
    long rss = 0, anon = 0, hwm = 0;  // KiB
    std::size_t heap_used = 0, heap_arena = 0;  // bytes (mallinfo2: uordblks + hblkhd, arena + hblkhd)
    int fds = 0, threads = 0;
    slab_snapshot slabs;
    long tcp_pages = 0;
};

mem_sample sample_memory(int clients) {
    mem_sample m;
    m.clients = clients;
    const struct mallinfo2 mi = ::mallinfo2();
    m.heap_used = mi.uordblks + mi.hblkhd;
    m.heap_arena = mi.arena + mi.hblkhd;
    m.rss = status_kib("VmRSS");
    m.anon = status_kib("RssAnon");
    m.hwm = status_kib("VmHWM");
    m.fds = count_entries("/proc/self/fd");
    m.threads = count_entries("/proc/self/task");
    m.slabs = read_slabs();
    m.tcp_pages = tcp_mem_pages();
    return m;
}

void raise_fd_limit() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
        ::getrlimit(RLIMIT_NOFILE, &r);
        std::printf("RLIMIT_NOFILE: %llu (hard %llu)\n", static_cast<unsigned long long>(r.rlim_cur),
                    static_cast<unsigned long long>(r.rlim_max));
    }
}

/// A connect to a port with nothing listening: ECONNREFUSED (true), as the restart promises.
bool connect_refused(std::uint16_t port) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int r = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    const int e = errno;
    ::close(s);
    return r != 0 && e == ECONNREFUSED;
}

// ---- the clients ---------------------------------------------------------------------------------

// The client a gateway would hold per backend: the default policies, except a retry budget that
// covers a restart (a reopen flight per backoff step while the server is down, then one
// initialize) instead of `retry_once`.
using gw_client = mb::async_recovering_client<mb::async_streamable_http_transport, default_classifier, limited_time>;

std::string url_of(std::uint16_t port, const char* host = "127.0.0.1") {
    return std::string("http://") + host + ":" + std::to_string(port) + "/mcp";
}

mb::transport_options client_options_for(std::uint16_t port, const char* host = "127.0.0.1") {
    mb::transport_options o;
    o.url = url_of(port, host);
    o.connect_timeout = 2s;
    o.read_timeout = 20s;
    // A pooled connection idle for longer than `max_idle` (default 4 s) is closed and replaced at
    // its next use; the storms come later than that after the clients connected, and the
    // comparison should be one of sessions, not of TCP handshakes. (A duration: no memory.)
    o.max_idle = 300s;
    return o;
}

std::unique_ptr<gw_client> make_client(net::io_context& ioc, std::uint16_t port) {
    auto c = std::make_unique<gw_client>(ioc.get_executor(), std::in_place, ioc.get_executor(), client_options_for(port));
    c->retry_policy() = limited_time{20s};
    return c;
}

const mb::request echo_request{"tools/call", R"({"name":"echo","arguments":{"text":"gateway"}})"};

call_options call_opts() {
    call_options o;
    o.timeout = 30s;
    return o;
}

/// Runs the io_context until it has no work, at most `limit`; false (and counted) if work is left.
bool run_bounded(net::io_context& ioc, std::chrono::milliseconds limit, const char* what) {
    ioc.restart();
    const auto end = bench_clock::now() + limit;
    while (!ioc.stopped() && bench_clock::now() < end) ioc.run_for(100ms);
    if (!ioc.stopped()) {
        std::printf("FAILED: %s did not finish within %lld ms\n", what, static_cast<long long>(limit.count()));
        std::fflush(stdout);
        // Clients with operations in flight cannot be destroyed safely: leave now, the child killed.
        kill_child_now();
        std::_Exit(1);
    }
    return true;
}

/// Connects clients [from, to) (initialize + notifications/initialized, then one call each), at
/// most 50 at a time; returns how many failed.
int connect_clients(net::io_context& ioc, std::vector<std::unique_ptr<gw_client>>& clients, std::size_t from,
                    std::size_t to) {
    int failed = 0;
    for (std::size_t batch = from; batch < to; batch += 50) {
        const std::size_t end = std::min(to, batch + 50);
        for (std::size_t i = batch; i < end; ++i) {
            gw_client* c = clients[i].get();
            net::co_spawn(
                ioc,
                [c, &failed]() -> net::awaitable<void> {
                    outcome<void> r = co_await c->transport().async_connect();
                    if (!r) {
                        ++failed;
                        co_return;
                    }
                    const call_options o = call_opts();
                    gw_client::result_type x = co_await c->call(echo_request, o);
                    if (!x || x->is_error()) ++failed;
                },
                [&failed](std::exception_ptr e) {
                    if (e) ++failed;
                });
        }
        run_bounded(ioc, 60s, "connecting clients");
    }
    return failed;
}

struct call_result {
    double latency_us = 0;
    bench_clock::time_point done{};
    bool ok = false;
};

/// The clients `which` each make one call at once (coroutines on `ioc`); each times its own call.
std::vector<call_result> calls_at_once(net::io_context& ioc, std::vector<std::unique_ptr<gw_client>>& clients,
                                       const std::vector<std::size_t>& which, bool run = true) {
    std::vector<call_result> out(which.size());
    for (std::size_t k = 0; k < which.size(); ++k) {
        gw_client* c = clients[which[k]].get();
        call_result* slot = &out[k];
        net::co_spawn(
            ioc,
            [c, slot]() -> net::awaitable<void> {
                const call_options o = call_opts();
                const auto t0 = bench_clock::now();
                gw_client::result_type r = co_await c->call(echo_request, o);
                slot->done = bench_clock::now();
                slot->latency_us = us_since(t0, slot->done);
                slot->ok = r && !r->is_error();
            },
            [slot](std::exception_ptr e) {
                if (e) slot->ok = false;
            });
    }
    if (run) run_bounded(ioc, 60s, "calls");
    return out;
}

std::vector<double> latencies(const std::vector<call_result>& v) {
    std::vector<double> l;
    for (const auto& r : v) l.push_back(r.latency_us);
    return l;
}
std::size_t failed_calls(const std::vector<call_result>& v) {
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](const call_result& r) { return !r.ok; }));
}

// ---- the allocation breakdown --------------------------------------------------------------------

std::size_t chunk_of(std::size_t n) {  // glibc malloc: 8 bytes of header, 16-byte granules, 32 at least
    return std::max<std::size_t>(32, (n + 8 + 15) & ~std::size_t{15});
}

std::string short_name(std::string s) {
    // Drops template arguments and parameter lists: "a::b<...>::c(...)" -> "a::b::c".
    std::string out;
    int angle = 0, paren = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char ch = s[i];
        if (ch == '<' && s.compare(i, 10, "<lambda()>") != 0 && !(i > 7 && s.compare(i - 8, 8, "operator") == 0)) {
            ++angle;
            continue;
        }
        if (ch == '>' && angle > 0) {
            --angle;
            continue;
        }
        if (angle > 0) continue;
        if (ch == '(') {
            ++paren;
            continue;
        }
        if (ch == ')' && paren > 0) {
            --paren;
            continue;
        }
        if (paren > 0) continue;
        out += ch;
    }
    for (const char* drop : {"mcp_recovery::beast::detail::", "mcp_recovery::beast::", "mcp_recovery::detail::",
                             "mcp_recovery::", "boost::asio::detail::", "boost::asio::", "boost::beast::", "std::"}) {
        for (std::size_t at; (at = out.find(drop)) != std::string::npos;) out.erase(at, std::strlen(drop));
    }
    return out;
}

/// addr2line for `addresses` (absolute return addresses): "function [file:line]" chains, outermost
/// inlined function last.
std::map<void*, std::vector<std::string>> symbolize(const std::vector<void*>& addresses) {
    std::map<std::string, std::vector<std::pair<void*, std::uintptr_t>>> by_file;
    for (void* a : addresses) {
        Dl_info info{};
        if (::dladdr(a, &info) == 0 || !info.dli_fname) continue;
        std::string file = info.dli_fname;
        const auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
        char exe[4096];
        const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            if (file.empty() || file.find('/') == std::string::npos) file = exe;
        }
        by_file[file].push_back({a, reinterpret_cast<std::uintptr_t>(a) - base - 1});
    }
    std::map<void*, std::vector<std::string>> out;
    for (auto& [file, list] : by_file) {
        std::string cmd = "addr2line -a -p -f -C -i -e '" + file + "'";
        for (auto& [abs, rel] : list) {
            char hex[32];
            std::snprintf(hex, sizeof hex, " 0x%" PRIxPTR, rel);
            cmd += hex;
        }
        FILE* p = ::popen(cmd.c_str(), "r");
        if (!p) continue;
        char line[8192];
        std::size_t k = 0;
        bool first = true;
        while (std::fgets(line, sizeof line, p)) {
            std::string l(line);
            while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
            if (l.rfind("0x", 0) == 0) {  // a new address
                if (!first) ++k;
                first = false;
                l = l.substr(l.find(": ") + 2);
            } else if (l.rfind(" (inlined by) ", 0) == 0) {
                l = l.substr(14);
            }
            if (k >= list.size()) break;
            const auto at = l.rfind(" at ");
            std::string fn = short_name(at == std::string::npos ? l : l.substr(0, at));
            std::string where = at == std::string::npos ? "" : l.substr(at + 4);
            const auto slash = where.rfind('/');
            if (slash != std::string::npos) where = where.substr(slash + 1);
            out[list[k].first].push_back(fn + " [" + where + "]");
        }
        ::pclose(p);
    }
    return out;
}

/// Is this frame uninteresting (allocation plumbing), for choosing the line that names a site?
bool plumbing(const std::string& f) {
    for (const char* p : {"operator new", "allocate", "__new_allocator", "_M_create", "_M_construct", "_M_mutate",
                          "_M_assign", "make_shared", "make_unique", "__shared_count", "_Sp_", "allocator_traits",
                          "basic_string", "thread_info_base", "recycling_allocator", "_M_realloc_insert",
                          "[new_allocator.h", "[alloc_traits.h", "[basic_string", "[shared_ptr", "[unique_ptr",
                          "[stl_vector", "[vector.tcc", "[handler_alloc", "[thread_info_base", "[recycling_allocator",
                          "[memory.hpp", "[allocator.h", "[stl_construct", "[stl_uninitialized", "[std_function",
                          "?? [", "[??"})
        if (f.find(p) != std::string::npos) return true;
    return false;
}

struct site_row {
    std::string name;
    std::size_t blocks = 0, bytes = 0, chunks = 0;
    std::vector<std::string> chain;
};

/// Groups the live recorded blocks by their allocating code (the first frames past the allocation
/// plumbing); prints per-client figures for `per` clients. Returns the total chunk bytes.
std::size_t report_live(const char* stage, std::size_t per, bool verbose) {
    using alloc_track::table;
    std::map<std::vector<void*>, site_row> groups;
    std::vector<void*> addresses;
    for (std::size_t i = 0; i < alloc_track::slots; ++i) {
        if (!table[i].p) continue;
        std::vector<void*> key;
        for (int f = alloc_track::skipped; f < table[i].frames && key.size() < 8; ++f) key.push_back(table[i].at[f]);
        auto& g = groups[key];
        if (g.blocks == 0) addresses.insert(addresses.end(), key.begin(), key.end());
        ++g.blocks;
        g.bytes += table[i].n;
        g.chunks += chunk_of(table[i].n);
    }
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    const auto names = symbolize(addresses);
    // Name each group by its first two frames past the plumbing; merge groups of the same name.
    std::map<std::string, site_row> sites;
    for (auto& [key, g] : groups) {
        std::vector<std::string> chain;
        for (void* a : key) {
            auto it = names.find(a);
            if (it == names.end()) continue;
            for (const auto& fn : it->second) chain.push_back(fn);
        }
        std::string name;
        int named = 0;
        for (const auto& fn : chain) {
            if (plumbing(fn)) continue;
            const std::string bare = fn.substr(0, fn.find(" ["));
            if (!name.empty() && name.find(bare) != std::string::npos) continue;
            name += (name.empty() ? "" : " <- ") + fn;
            if (++named == 3) break;
        }
        if (name.empty()) name = chain.empty() ? "(unknown)" : chain.front();
        auto& s = sites[name];
        s.name = name;
        s.blocks += g.blocks;
        s.bytes += g.bytes;
        s.chunks += g.chunks;
        if (s.chain.empty()) s.chain = chain;
    }
    std::vector<site_row> rows;
    std::size_t total_blocks = 0, total_bytes = 0, total_chunks = 0;
    for (auto& [n, s] : sites) {
        rows.push_back(s);
        total_blocks += s.blocks;
        total_bytes += s.bytes;
        total_chunks += s.chunks;
    }
    std::sort(rows.begin(), rows.end(), [](const site_row& a, const site_row& b) { return a.chunks > b.chunks; });
    const double d = static_cast<double>(per);
    std::printf("\n#### Heap blocks a client holds: %s (per client, %zu clients; requested bytes, and glibc chunk "
                "bytes = requested + 8 rounded up to 16, at least 32)\n\n",
                stage, per);
    std::printf("| allocated by (first frames past the allocation plumbing) | blocks | requested B | chunk B |\n");
    std::printf("|---|---:|---:|---:|\n");
    for (const auto& r : rows) {
        if (r.chunks < per / 2) continue;  // less than half a byte per client: not the client's
        std::printf("| `%s` | %.2f | %.0f | %.0f |\n", r.name.c_str(), static_cast<double>(r.blocks) / d,
                    static_cast<double>(r.bytes) / d, static_cast<double>(r.chunks) / d);
    }
    std::printf("| **total** | **%.2f** | **%.0f** | **%.0f** |\n", static_cast<double>(total_blocks) / d,
                static_cast<double>(total_bytes) / d, static_cast<double>(total_chunks) / d);
    if (alloc_track::dropped) std::printf("\n(%zu blocks not recorded: the table was full)\n", alloc_track::dropped);
    if (verbose) {
        std::printf("\n<details><summary>call chains (innermost first)</summary>\n\n```\n");
        for (const auto& r : rows) {
            if (r.chunks < per / 2) continue;
            std::printf("%.0f B/client:\n", static_cast<double>(r.chunks) / d);
            for (const auto& f : r.chain) std::printf("    %s\n", f.c_str());
        }
        std::printf("```\n\n</details>\n");
    }
    return total_chunks;
}

// ---- parts of the run ----------------------------------------------------------------------------

void print_sizes() {
    using conn = mb::detail::async_connection;
    std::printf("\n#### sizeof (bytes; what a client holds inline, before anything it points to)\n\n");
    std::printf("| object | sizeof |\n|---|---:|\n");
    std::printf("| `async_recovering_client<async_streamable_http_transport, default_classifier, limited_time>` (all "
                "below that is inline) | %zu |\n",
                sizeof(gw_client));
    std::printf("| `async_streamable_http_transport` | %zu |\n", sizeof(mb::async_streamable_http_transport));
    std::printf("| `transport_options` (copied into each transport) | %zu |\n", sizeof(mb::transport_options));
    std::printf("| `endpoint_url` (parsed URL, each transport) | %zu |\n", sizeof(mb::endpoint_url));
    std::printf("| `async_single_flight_reconnector<>` | %zu |\n", sizeof(mb::async_single_flight_reconnector<>));
    std::printf("| of which `detail::flight_book<exponential_backoff>` | %zu |\n",
                sizeof(::mcp_recovery::detail::flight_book<exponential_backoff>));
    std::printf("| `failure` (inline in every `std::optional<failure>` / `call_error`) | %zu |\n", sizeof(failure));
    std::printf("| `call_error` | %zu |\n", sizeof(call_error));
    std::printf("| `detail::auth_book` (in the client) | %zu |\n", sizeof(::mcp_recovery::detail::auth_book));
    std::printf("| `reconnect_options` | %zu |\n", sizeof(reconnect_options));
    std::printf("| `exponential_backoff` | %zu |\n", sizeof(exponential_backoff));
    std::printf("| `detail::connection_pool<async_connection>` (in the transport) | %zu |\n",
                sizeof(mb::detail::connection_pool<mb::detail::async_connection>));
    std::printf("| `default_classifier` | %zu |\n", sizeof(default_classifier));
    std::printf("| `client_options` | %zu |\n", sizeof(client_options));
    std::printf("| `std::function<...>` (reconnect hook, annotation source, each `transport_options` callback) | %zu "
                "|\n",
                sizeof(std::function<void()>));
    std::printf("| `std::string` (each) | %zu |\n", sizeof(std::string));
    std::printf("| `std::mutex` (each) | %zu |\n", sizeof(std::mutex));
    std::printf("| `any_io_executor` (each) | %zu |\n", sizeof(net::any_io_executor));
    std::printf("| per pooled connection: `detail::async_connection` (heap) | %zu |\n", sizeof(conn));
    std::printf("| per pooled connection: `beast::tcp_stream` (heap, unique_ptr) | %zu |\n",
                sizeof(boost::beast::tcp_stream));
    std::printf("| per pooled connection: `beast::flat_buffer` (inline; its storage on the heap) | %zu |\n",
                sizeof(boost::beast::flat_buffer));
    std::printf("| per pooled connection: Asio's `epoll_reactor::descriptor_state` (pooled by the reactor) | %zu |\n",
                sizeof(net::detail::epoll_reactor::descriptor_state));
}

struct storm_round {
    std::size_t connections = 0;  // new TCP connections the storm's clients opened
    long long peak_heap = 0;      // heap growth at the storm's peak, bytes
    std::vector<double> storm, burst;
    std::uint64_t initializes = 0;
    std::size_t failed = 0, wrong_generation = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::string_view(argv[1]) == "--serve") return serve_main(argv[2]);
    bool quick = false, verbose = false;
    std::string csv_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--verbose") verbose = true;
        else if (a == "--csv" && i + 1 < argc) csv_dir = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--quick] [--verbose] [--csv DIR]\n", argv[0]);
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    install_child_guards();
    ::alarm(quick ? 240 : 900);  // the watchdog: kills the child and the run if anything hangs

    const int max_clients = quick ? 100 : 1000;
    const std::vector<int> steps = quick ? std::vector<int>{0, 100} : std::vector<int>{0, 100, 250, 500, 750, 1000};
    const std::size_t storm_size = quick ? 20 : 100;
    const int storm_rounds = quick ? 2 : 5;
    const int servers = 2;

    std::printf("# mcp-recovery gateway benchmark (issue 15)%s\n\n", quick ? " -- quick run" : "");
    raise_fd_limit();

    // Fixed ports below the ephemeral range (so no client socket holds them when the server comes
    // back), derived from the pid; another set is tried if they are taken.
    server_process child;
    bool started = false;
    for (int attempt = 0; attempt < 20 && !started; ++attempt) {
        const auto base = static_cast<std::uint16_t>(20000 + ((::getpid() * 131 + attempt * 977) % 11000));
        std::vector<std::uint16_t> ports;
        for (int s = 0; s < servers; ++s) ports.push_back(static_cast<std::uint16_t>(base + s));
        started = child.start(ports);
    }
    if (!started) {
        fail("cannot start the server process");
        return 1;
    }
    std::printf("server process: pid %d, %d flaky_servers on 127.0.0.1:%u..%u (max_connections 4096, "
                "idle_timeout 600 s)\n",
                static_cast<int>(child.pid()), servers, child.ports().front(), child.ports().back());

    // ---- 1. memory vs clients ----
    std::vector<std::unique_ptr<gw_client>> clients;
    clients.reserve(static_cast<std::size_t>(max_clients) + 200);  // the bench's own bookkeeping, before the baseline
    std::vector<std::uint64_t> generations(static_cast<std::size_t>(max_clients) + 200);
    std::vector<mem_sample> mem;
    {
        auto ioc_holder = std::make_unique<net::io_context>(1);
        net::io_context& ioc = *ioc_holder;
        // Warm-up that every gateway pays once whatever its size: the io_context's services
        // (strands, the reactor) and Asio's per-thread frame cache, with one client, destroyed.
        {
            std::vector<std::unique_ptr<gw_client>> warm;
            warm.push_back(make_client(ioc, child.ports()[0]));
            if (connect_clients(ioc, warm, 0, 1) != 0) fail("the warm-up client failed");
            warm.clear();
            run_bounded(ioc, 5s, "warm-up");
        }
        mem.push_back(sample_memory(0));
        for (int n : steps) {
            if (n == 0) continue;
            const std::size_t from = clients.size();
            for (std::size_t i = from; i < static_cast<std::size_t>(n); ++i)
                clients.push_back(make_client(ioc, child.ports()[i % child.ports().size()]));
            const int bad = connect_clients(ioc, clients, from, static_cast<std::size_t>(n));
            if (bad != 0) {
                std::printf("FAILED: %d of clients %zu..%d could not connect and call\n", bad, from, n);
                ++failures;
            }
            mem.push_back(sample_memory(n));
        }

        std::printf("\n## 1. Memory vs clients (each: own transport and session, one pooled keep-alive connection, "
                    "idle)\n\n");
        std::printf("All clients on one io_context run by the main thread. Per client: (value - value at 0 clients) "
                    "/ clients; marginal: from the row before. The baseline already has the io_context, its services "
                    "and one warm-up client's one-time costs. Heap in use: mallinfo2 `uordblks + hblkhd`. Kernel: "
                    "/proc/slabinfo objects %s (system-wide: BOTH ends of each loopback connection; the server's end "
                    "lives in the child).\n\n",
                    "TCP, sock_inode_cache, filp, dentry, eventpoll_epi, eventpoll_pwq");
        std::printf("| clients | VmRSS KiB | RssAnon KiB | VmHWM KiB | heap in use KiB | free in malloc's heap KiB | fds | threads | RSS per client "
                    "KiB | RssAnon per client KiB | marginal RssAnon per client KiB | heap per client B | marginal heap "
                    "per client B | kernel slab per connection B (both ends) | TCP mem pages |\n");
        std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (std::size_t i = 0; i < mem.size(); ++i) {
            const mem_sample& m = mem[i];
            const mem_sample& b = mem.front();
            const mem_sample& p = mem[i == 0 ? 0 : i - 1];
            const double n = m.clients;
            const double dn = m.clients - p.clients;
            auto per = [&](double x) { return n > 0 ? x / n : 0.0; };
            auto marg = [&](double x) { return dn > 0 ? x / dn : 0.0; };
            const double slab = (m.slabs.ok && b.slabs.ok) ? per(static_cast<double>(m.slabs.bytes() - b.slabs.bytes())) : -1;
            std::printf("| %d | %ld | %ld | %ld | %.0f | %.0f | %d | %d | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %ld |\n",
                        m.clients, m.rss, m.anon, m.hwm, static_cast<double>(m.heap_used) / 1024.0,
                        static_cast<double>(m.heap_arena - m.heap_used) / 1024.0, m.fds, m.threads,
                        per(static_cast<double>(m.rss - b.rss)), per(static_cast<double>(m.anon - b.anon)),
                        marg(static_cast<double>(m.anon - p.anon)),
                        per(static_cast<double>(m.heap_used) - static_cast<double>(b.heap_used)),
                        marg(static_cast<double>(m.heap_used) - static_cast<double>(p.heap_used)), slab, m.tcp_pages);
        }
        if (!csv_dir.empty()) {
            const std::string path = csv_dir + "/gateway_memory.csv";
            if (std::FILE* f = std::fopen(path.c_str(), "w")) {
                std::fprintf(f, "clients,vmrss_kib,rssanon_kib,heap_used_kib,fds,threads\n");
                for (const mem_sample& m : mem)
                    std::fprintf(f, "%d,%ld,%ld,%.1f,%d,%d\n", m.clients, m.rss, m.anon,
                                 static_cast<double>(m.heap_used) / 1024.0, m.fds, m.threads);
                if (std::fclose(f) == 0) std::printf("\nwrote %s\n", path.c_str());
                else fail("cannot write the CSV file");
            } else {
                fail("cannot open the CSV file (does the directory exist?)");
            }
        }
        const mem_sample& last = mem.back();
        const mem_sample& first = mem.front();
        const int n_last = last.clients;
        if (n_last > 0) {
            ::malloc_trim(0);
            const mem_sample trimmed = sample_memory(n_last);
            std::printf("\nAfter `malloc_trim(0)` (glibc gives free pages back): RssAnon %ld KiB, **%.2f KiB per client** "
                        "over the baseline (heap in use %.0f B per client); what the trim gave back was freed memory "
                        "of the connects (coroutine frames, parsers, request and response buffers of 50 clients "
                        "connecting at once) that malloc kept.\n",
                        trimmed.anon, static_cast<double>(trimmed.anon - first.anon) / n_last,
                        (static_cast<double>(trimmed.heap_used) - static_cast<double>(first.heap_used)) / n_last);
            std::printf("\nFile descriptors per client: %.2f; threads added: %d (one io_context, one thread for all).\n",
                        static_cast<double>(last.fds - first.fds) / n_last, last.threads - first.threads);
            if (last.fds - first.fds != n_last) fail("not exactly one descriptor per idle client");
            if (last.threads != first.threads) fail("threads were added by the async clients");
            if (last.slabs.ok && first.slabs.ok) {
                std::printf("\nKernel objects per connection, both ends (slabinfo delta / %d; system-wide):\n\n", n_last);
                std::printf("| slab | object size B | objects per connection | bytes per connection |\n|---|---:|---:|---:|\n");
                for (std::size_t s = 0; s < slab_count; ++s) {
                    const double objs = static_cast<double>(last.slabs.objs[s] - first.slabs.objs[s]) / n_last;
                    std::printf("| %s | %lld | %.2f | %.0f |\n", slab_names[s], last.slabs.size[s], objs,
                                objs * static_cast<double>(last.slabs.size[s]));
                }
                std::printf("\nTCP buffer memory (/proc/net/sockstat `mem`, pages, idle sockets): %ld at %d clients, "
                            "%ld at 0.\n",
                            last.tcp_pages, n_last, first.tcp_pages);
            }
        }

        // ---- what the bytes are ----
        std::printf("\n### What a client's memory is\n");
        print_sizes();
        {
            const std::size_t extra = quick ? 20 : 100;
            const std::size_t from = clients.size();
            alloc_track::start();
            for (std::size_t i = 0; i < extra; ++i)
                clients.push_back(make_client(ioc, child.ports()[i % child.ports().size()]));
            alloc_track::stop();
            const std::size_t constructed = report_live("constructed (options copied, URL parsed), not connected",
                                                        extra, verbose);
            alloc_track::start();
            if (connect_clients(ioc, clients, from, from + extra) != 0) fail("breakdown clients could not connect");
            alloc_track::stop();
            const std::size_t connected = report_live("added by connecting (initialize, one call, the pooled "
                                                      "connection), idle again",
                                                      extra, verbose);
            std::printf("\nRecorded heap per idle client: %zu B constructed + %zu B connected = **%zu B** (glibc "
                        "chunks), plus the client object itself (sizeof, held in a unique_ptr here: %zu B).\n",
                        constructed / extra, connected / extra, (constructed + connected) / extra,
                        chunk_of(sizeof(gw_client)));
            // The breakdown batch goes: the storms use the first `max_clients`.
            clients.resize(from);
            run_bounded(ioc, 5s, "closing the breakdown clients");
        }

        // ---- 2. storms ----
        std::printf("\n## 2. A restart of %zu backends at once (their sessions expire on the server), %d rounds\n\n",
                    storm_size, storm_rounds);
        std::vector<std::size_t> all(static_cast<std::size_t>(max_clients));
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        // A normal call: one client at a time, over the clients in turn.
        std::vector<double> normal;
        for (int i = 0; i < (quick ? 50 : 400); ++i) {
            const std::vector<std::size_t> one{static_cast<std::size_t>(i * 7) % all.size()};
            const auto r = calls_at_once(ioc, clients, one);
            normal.push_back(r[0].latency_us);
            if (!r[0].ok) fail("a normal call failed");
        }
        std::vector<storm_round> rounds;
        const std::size_t stride = all.size() / storm_size;
        for (int round = 0; round < storm_rounds; ++round) {
            storm_round sr;
            std::vector<std::size_t> which;
            for (std::size_t k = 0; k < storm_size; ++k) which.push_back((k * stride + static_cast<std::size_t>(round)) % all.size());
            // The same clients at once, nothing expired: the reference.
            const auto burst = calls_at_once(ioc, clients, which);
            sr.burst = latencies(burst);
            sr.failed += failed_calls(burst);
            // Expire their sessions on the server (the restart of these backends), then call at once.
            std::string cmd = "EXPIRE";
            for (std::size_t i : which) {
                cmd += " " + clients[i]->transport().session_id();
                generations[i] = clients[i]->transport().generation();
            }
            const std::string answer = child.command(cmd);
            if (answer != "EXPIRED " + std::to_string(storm_size)) {
                std::printf("FAILED: expire answered '%s'\n", answer.c_str());
                ++failures;
            }
            const std::uint64_t before = child.initializes();
            std::size_t opened_before = 0;
            for (std::size_t i : which) opened_before += clients[i]->transport().connections_opened();
            alloc_track::count_from();
            const auto storm = calls_at_once(ioc, clients, which);
            alloc_track::count_stop();
            sr.peak_heap = alloc_track::peak;
            for (std::size_t i : which) sr.connections += clients[i]->transport().connections_opened();
            sr.connections -= opened_before;
            sr.initializes = child.initializes() - before;
            sr.storm = latencies(storm);
            sr.failed += failed_calls(storm);
            for (std::size_t i : which)
                if (clients[i]->transport().generation() != generations[i] + 1) ++sr.wrong_generation;
            if (sr.failed != 0 || sr.initializes != storm_size || sr.wrong_generation != 0) {
                std::printf("FAILED: storm round %d: %zu calls failed, %" PRIu64
                            " initializes (expected %zu), %zu clients not exactly one generation on\n",
                            round, sr.failed, sr.initializes, storm_size, sr.wrong_generation);
                ++failures;
            }
            rounds.push_back(std::move(sr));
        }
        const double normal_p50 = pct(normal, 0.5);
        std::printf("Normal call (one client at a time, %zu calls): p50 %.0f us, p99 %.0f us.\n\n", normal.size(),
                    normal_p50, pct(normal, 0.99));
        std::printf("| round | initializes (expected %zu) | calls failed | storm p50 | storm p99 | storm max | same %zu "
                    "calls, no expiry: p50 / p99 / max | storm p99 / normal p50 | storm p50 / no-expiry p50 | new connections | "
                    "heap peak per storm call |\n",
                    storm_size, storm_size);
        std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        std::vector<double> all_storm, all_burst;
        for (std::size_t r = 0; r < rounds.size(); ++r) {
            const auto& s = rounds[r];
            all_storm.insert(all_storm.end(), s.storm.begin(), s.storm.end());
            all_burst.insert(all_burst.end(), s.burst.begin(), s.burst.end());
            std::printf("| %zu | %" PRIu64 " | %zu | %.0f us | %.0f us | %.0f us | %.0f / %.0f / %.0f us | %.1f | %.2f | "
                        "%zu | %.1f KiB |\n",
                        r + 1, s.initializes, s.failed, pct(s.storm, 0.5), pct(s.storm, 0.99), vmax(s.storm),
                        pct(s.burst, 0.5), pct(s.burst, 0.99), vmax(s.burst), pct(s.storm, 0.99) / normal_p50,
                        pct(s.storm, 0.5) / pct(s.burst, 0.5), s.connections,
                        static_cast<double>(s.peak_heap) / 1024.0 / static_cast<double>(storm_size));
        }
        std::printf("| all | | | %.0f us | %.0f us | %.0f us | %.0f / %.0f / %.0f us | %.1f | %.2f | | |\n",
                    pct(all_storm, 0.5), pct(all_storm, 0.99), vmax(all_storm), pct(all_burst, 0.5),
                    pct(all_burst, 0.99), vmax(all_burst), pct(all_storm, 0.99) / normal_p50,
                    pct(all_storm, 0.5) / pct(all_burst, 0.5));

        // ---- 3. the server process killed and restarted ----
        std::printf("\n## 3. The server process killed by PID (SIGKILL) while all %d clients call, restarted on the "
                    "same ports after ~1 s\n\n",
                    max_clients);
        for (std::size_t i : all) generations[i] = clients[i]->transport().generation();
        const std::vector<std::uint16_t> ports = child.ports();
        const long hwm_before_restart = status_kib("VmHWM");
        alloc_track::count_from();
        const auto killed_at = bench_clock::now();
        child.kill_now();
        auto restart_calls = calls_at_once(ioc, clients, all, /*run=*/false);
        ioc.restart();
        const auto down_until = killed_at + 1000ms;
        while (bench_clock::now() < down_until) ioc.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(down_until - bench_clock::now()) + 1ms);
        const bool refused = connect_refused(ports[0]);
        if (!refused) fail("a connect while the server was down was not refused");
        std::size_t done_while_down = 0;
        for (const auto& r : restart_calls)
            if (r.done != bench_clock::time_point{}) ++done_while_down;
        const auto restart_at = bench_clock::now();
        bool back = false;
        for (int attempt = 0; attempt < 50 && !back; ++attempt) {
            back = child.start(ports);
            if (!back) std::this_thread::sleep_for(100ms);
        }
        const auto ready_at = bench_clock::now();
        if (!back) {
            fail("the server process could not be restarted on its ports");
            kill_child_now();
            std::_Exit(1);
        }
        run_bounded(ioc, 60s, "the calls across the restart");
        alloc_track::count_stop();
        const long long restart_peak = alloc_track::peak;
        std::vector<double> after_ready, total;
        std::size_t failed = 0, wrong_generation = 0;
        for (std::size_t k = 0; k < restart_calls.size(); ++k) {
            const auto& r = restart_calls[k];
            if (!r.ok) ++failed;
            after_ready.push_back(us_since(ready_at, r.done) / 1000.0);
            total.push_back(r.latency_us / 1000.0);
            if (clients[k]->transport().generation() != generations[k] + 1) ++wrong_generation;
        }
        const std::uint64_t inits = child.initializes();
        if (failed != 0 || inits != static_cast<std::uint64_t>(max_clients) || wrong_generation != 0 || done_while_down != 0) {
            std::printf("FAILED: restart: %zu calls failed, %" PRIu64 " initializes (expected %d), %zu clients not "
                        "exactly one generation on, %zu calls ended while the server was down\n",
                        failed, inits, max_clients, wrong_generation, done_while_down);
            ++failures;
        }
        std::printf("| measure | value |\n|---|---:|\n");
        std::printf("| downtime: kill -> new process listening | %.0f ms (restart started after %.0f ms; the process "
                    "took %.0f ms to listen) |\n",
                    us_since(killed_at, ready_at) / 1000.0, us_since(killed_at, restart_at) / 1000.0,
                    us_since(restart_at, ready_at) / 1000.0);
        std::printf("| a connect while down | %s |\n", refused ? "refused (ECONNREFUSED)" : "NOT refused");
        std::printf("| calls (one per client, started at the kill) | %zu, failed %zu |\n", restart_calls.size(), failed);
        std::printf("| initializes seen by the new process (expected %d: 1 per client) | %" PRIu64 " |\n", max_clients,
                    inits);
        std::printf("| clients whose generation moved by exactly 1 | %zu of %zu |\n",
                    restart_calls.size() - wrong_generation, restart_calls.size());
        std::printf("| listening -> call succeeded: p50 / p99 / max | %.0f / %.0f / %.0f ms |\n", pct(after_ready, 0.5),
                    pct(after_ready, 0.99), vmax(after_ready));
        std::printf("| whole call (from the kill): p50 / p99 / max | %.0f / %.0f / %.0f ms |\n", pct(total, 0.5),
                    pct(total, 0.99), vmax(total));
        const mem_sample after = sample_memory(max_clients);
        std::printf("| heap growth at the peak, per call in flight (counting operator new) | %.1f KiB |\n",
                    static_cast<double>(restart_peak) / 1024.0 / static_cast<double>(max_clients));
        std::printf("| VmHWM before the restart -> after it | %ld -> %ld KiB (%.1f KiB per call in flight) |\n",
                    hwm_before_restart, after.hwm,
                    static_cast<double>(after.hwm - hwm_before_restart) / static_cast<double>(max_clients));
        std::printf("| VmRSS after the storms and the restart | %ld KiB |\n", after.rss);

        clients.clear();
        run_bounded(ioc, 5s, "closing the clients");
        ioc_holder.reset();
    }

    // ---- 4. the synchronous transport: threads and descriptors ----
    std::printf("\n## 4. The synchronous transport: threads and file descriptors it holds\n\n");
    std::printf("| URL | what | fds added | threads added |\n|---|---|---:|---:|\n");
    for (const char* host : {"127.0.0.1", "localhost"}) {
        const mem_sample before = sample_memory(0);
        {
            constexpr int transports = 8;
            std::vector<std::unique_ptr<mb::streamable_http_transport>> sync;
            for (int i = 0; i < transports; ++i) {
                sync.push_back(std::make_unique<mb::streamable_http_transport>(client_options_for(child.ports()[0], host)));
                if (!sync.back()->connect()) fail("a synchronous transport could not connect");
            }
            const mem_sample connected = sample_memory(0);
            std::printf("| %s | %d transports, each connected (1 pooled connection) | %.2f per transport | %.2f per "
                        "transport |\n",
                        host, transports, static_cast<double>(connected.fds - before.fds) / transports,
                        static_cast<double>(connected.threads - before.threads) / transports);
            std::printf("| %s | heap per transport with its connection (mallinfo2) | %.0f B | |\n", host,
                        (static_cast<double>(connected.heap_used) - static_cast<double>(before.heap_used)) / transports);
            // One transport, 4 threads calling at once (the server delays each answer 200 ms), so
            // that 4 connections are open together and then pooled.
            mb::streamable_http_transport& t = *sync.front();
            const mem_sample one = sample_memory(0);
            const std::size_t opened_before = t.connections_opened();
            if (child.command("DELAY 200 4") != "OK") fail("the server did not take the delay");
            std::vector<std::thread> threads;
            std::atomic<int> ok{0};
            for (int k = 0; k < 4; ++k)
                threads.emplace_back([&] {
                    if (auto r = t.send(echo_request); r && !r->is_error()) ++ok;
                });
            for (auto& th : threads) th.join();
            if (ok != 4) fail("a concurrent synchronous call failed");
            const mem_sample pooled = sample_memory(0);
            const int opened = static_cast<int>(t.connections_opened() - opened_before);
            std::printf("| %s | one connected transport, then 4 concurrent calls: %d new connections opened, all "
                        "pooled after | %d (%.2f per new connection) | %d (%.2f per new connection) |\n",
                        host, opened, pooled.fds - one.fds,
                        static_cast<double>(pooled.fds - one.fds) / std::max(1, opened), pooled.threads - one.threads,
                        static_cast<double>(pooled.threads - one.threads) / std::max(1, opened));
        }
        const mem_sample gone = sample_memory(0);
        std::printf("| %s | after destroying them | %d | %d |\n", host, gone.fds - before.fds,
                    gone.threads - before.threads);
        // Host names are resolved by one process-wide lookup service (detail/sync_resolver.hpp),
        // whose worker outlives the transports until it has idled 30 s: one thread at most.
        if (gone.fds != before.fds || gone.threads - before.threads > 1)
            fail("the synchronous transports left fds, or more than the shared lookup thread");
    }
    // The awaitable transport with a host name: the resolver belongs to the io_context, shared.
    {
        const mem_sample before = sample_memory(0);
        {
            net::io_context ioc(1);
            std::vector<std::unique_ptr<gw_client>> few;
            for (int i = 0; i < 8; ++i) {
                few.push_back(std::make_unique<gw_client>(ioc.get_executor(), std::in_place, ioc.get_executor(),
                                                          client_options_for(child.ports()[0], "localhost")));
            }
            if (connect_clients(ioc, few, 0, few.size()) != 0) fail("an async client on localhost could not connect");
            const mem_sample connected = sample_memory(0);
            std::printf("| localhost | async: io_context + 8 async clients, connected | %d (%.2f per client; the "
                        "io_context's epoll, eventfd and timerfd included) | %d (for all: Asio's resolver thread of "
                        "the io_context) |\n",
                        connected.fds - before.fds, static_cast<double>(connected.fds - before.fds) / 8,
                        connected.threads - before.threads);
            few.clear();
            run_bounded(ioc, 5s, "closing the localhost clients");
        }
    }

    child.stop();
    std::printf("\n%s\n", failures == 0 ? "All expectations met (every call succeeded, exactly 1 initialize per "
                                          "restarted backend, one descriptor and no thread per async client)."
                                        : "EXPECTATIONS FAILED (see FAILED lines above).");
    return failures == 0 ? 0 : 1;
}

#endif
