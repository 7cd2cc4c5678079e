// Invariant checks for the fuzz targets: a violated invariant aborts, which libFuzzer reports
// as a crash with the input that caused it.
#ifndef MCP_RECOVERY_TESTS_FUZZ_CHECK_HPP
#define MCP_RECOVERY_TESTS_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>

namespace mcp_recovery_fuzz {

[[noreturn]] inline void violated(const char* what) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
}

}  // namespace mcp_recovery_fuzz

#define FUZZ_CHECK(cond)                                     \
    do {                                                     \
        if (!(cond)) ::mcp_recovery_fuzz::violated(#cond);   \
    } while (false)

#endif
