// Catch2 v2 (Debian's 2.13) and v3 behind one include.
#ifndef MCP_RECOVERY_TESTS_CATCH_HPP
#define MCP_RECOVERY_TESTS_CATCH_HPP
#if defined(MCP_RECOVERY_CATCH3)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
#endif
