// Shared by the benchmark programs: a heap allocation counter and an optimization barrier.
//
// Include in exactly one translation unit of a program: it replaces the global operator new and
// delete, counting every allocation in `mcp_recovery_bench::allocations`.
#ifndef MCP_RECOVERY_BENCH_SUPPORT_HPP
#define MCP_RECOVERY_BENCH_SUPPORT_HPP

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace mcp_recovery_bench {
inline std::atomic<std::uint64_t> allocations{0};

/// Keeps `value` alive for the optimizer, so that the work producing it is not removed.
template <class T>
inline void keep(T const& value) {
#if defined(__GNUC__) || defined(__clang__)
    asm volatile("" : : "r,m"(value) : "memory");
#else
    static volatile T sink;
    sink = value;
#endif
}
}  // namespace mcp_recovery_bench

#if defined(__GNUC__) && !defined(__clang__)
// The replacement pair below is consistent; g++ cannot always see that through inlined frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    mcp_recovery_bench::allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#endif
