// Compile-time benchmark TU (bench/compile_times.sh), "separate" mode only: the one file of a
// program that compiles the out-of-line part of the Beast transport (docs/compile-time.md). Built
// only once adapters/beast/include/mcp_recovery/beast/src.hpp exists.
#include <mcp_recovery/beast/src.hpp>
