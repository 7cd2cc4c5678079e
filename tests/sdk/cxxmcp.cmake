# caomengxuan666/cxxmcp: examples/wrappers/cxxmcp_wrapper.hpp, compiled twice (see sdk.cmake).
#   - always: against our fake of its client interface (tests/sdk/fakes/cxxmcp/include);
#   - with -DMCP_RECOVERY_SDK_CXXMCP_DIR=<cxxmcp source tree>: against the real SDK (its HTTP client
#     only, built from that tree with its vendored tl::expected, nlohmann json and cpp-httplib), run
#     against real npm servers killed and restarted.

mcpr_add_test_program(mcp_recovery_sdk_cxxmcp_fake_tests LINK mcp_recovery::mcp_recovery
                      SOURCES ${MCP_RECOVERY_SDK_DIR}/cxxmcp_fake_test.cpp)
target_include_directories(mcp_recovery_sdk_cxxmcp_fake_tests PRIVATE
                           ${MCP_RECOVERY_SDK_DIR}/fakes/cxxmcp/include ${MCP_RECOVERY_WRAPPERS_DIR})
add_test(NAME sdk_cxxmcp_fake COMMAND mcp_recovery_sdk_cxxmcp_fake_tests)
set_tests_properties(sdk_cxxmcp_fake PROPERTIES LABELS sdk)

set(MCP_RECOVERY_SDK_CXXMCP_DIR "" CACHE PATH "caomengxuan666/cxxmcp source tree: build its HTTP client and run tests/sdk/cxxmcp_sdk_test.cpp")

if(MCP_RECOVERY_SDK_CXXMCP_DIR)
  if(NOT EXISTS ${MCP_RECOVERY_SDK_CXXMCP_DIR}/sdk/client/src/http_transport.cpp)
    message(FATAL_ERROR "MCP_RECOVERY_SDK_CXXMCP_DIR=${MCP_RECOVERY_SDK_CXXMCP_DIR} is not a cxxmcp source tree "
                        "(no sdk/client/src/http_transport.cpp)")
  endif()
  # Only the client library with the HTTP transport; its bundled third_party headers.
  set(CXXMCP_BUILD_SDK OFF CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_PROTOCOL ON CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_CLIENT ON CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_SERVER OFF CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_TESTS OFF CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
  set(CXXMCP_BUILD_DOCS OFF CACHE BOOL "" FORCE)
  set(CXXMCP_ENABLE_AUTH OFF CACHE BOOL "" FORCE)
  set(CXXMCP_ENABLE_HTTP ON CACHE BOOL "" FORCE)
  set(CXXMCP_ENABLE_WEBSOCKET OFF CACHE BOOL "" FORCE)
  set(CXXMCP_USE_SYSTEM_DEPS OFF CACHE BOOL "" FORCE)
  add_subdirectory(${MCP_RECOVERY_SDK_CXXMCP_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cxxmcp EXCLUDE_FROM_ALL)

  # The commit, for the result lines (the tree may be a `git archive` without .git: "unknown").
  set(cxxmcp_commit "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS ${MCP_RECOVERY_SDK_CXXMCP_DIR}/.git)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${MCP_RECOVERY_SDK_CXXMCP_DIR} rev-parse --short HEAD
                    OUTPUT_VARIABLE cxxmcp_commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  set(MCP_RECOVERY_SDK_CXXMCP_COMMIT "${cxxmcp_commit}" CACHE STRING "cxxmcp commit printed in the result lines")

  mcpr_add_test_program(mcp_recovery_sdk_cxxmcp_tests LINK mcp_recovery::mcp_recovery mcp_client
                        SOURCES ${MCP_RECOVERY_SDK_DIR}/cxxmcp_sdk_test.cpp)
  target_include_directories(mcp_recovery_sdk_cxxmcp_tests PRIVATE ${MCP_RECOVERY_WRAPPERS_DIR})
  # The SDK's headers as system headers: the project's warnings are for our code, not theirs
  # (GCC and Clang ignore -I for a directory that is also -isystem).
  target_include_directories(mcp_recovery_sdk_cxxmcp_tests SYSTEM PRIVATE
                             ${MCP_RECOVERY_SDK_CXXMCP_DIR}/sdk/include ${MCP_RECOVERY_SDK_CXXMCP_DIR}/sdk/core/include
                             ${MCP_RECOVERY_SDK_CXXMCP_DIR}/sdk/protocol/include
                             ${MCP_RECOVERY_SDK_CXXMCP_DIR}/sdk/client/include ${MCP_RECOVERY_SDK_CXXMCP_DIR}/third_party)
  target_compile_definitions(mcp_recovery_sdk_cxxmcp_tests PRIVATE
                             MCPR_CXXMCP_COMMIT="${MCP_RECOVERY_SDK_CXXMCP_COMMIT}")
  add_test(NAME sdk_cxxmcp COMMAND mcp_recovery_sdk_cxxmcp_tests)
  set_tests_properties(sdk_cxxmcp PROPERTIES
                       ENVIRONMENT MCP_RECOVERY_INTEROP_DIR=${CMAKE_CURRENT_SOURCE_DIR}/interop
                       TIMEOUT 300 LABELS sdk)
else()
  mcpr_sdk_skipped(sdk_cxxmcp "-DMCP_RECOVERY_SDK_CXXMCP_DIR=<cxxmcp source> not given")
endif()
