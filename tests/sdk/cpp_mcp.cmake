# hkr04/cpp-mcp: examples/wrappers/cpp_mcp_wrapper.hpp, compiled twice (see sdk.cmake).
#   - always: against our fake of its client interface (tests/sdk/fakes/cpp_mcp/include);
#   - with -DMCP_RECOVERY_SDK_CPP_MCP_DIR=<cpp-mcp source tree>: against the real SDK (its library
#     and its examples/server_example, built here from that tree's sources with its vendored
#     cpp-httplib and nlohmann json in common/), run against real servers killed and restarted.
#
# The SDK's own CMakeLists is not add_subdirectory'd: it forces CMAKE_BUILD_TYPE=Release into the
# cache when none is set, and puts common/ (httplib.h, json.hpp) on the include path of everything
# in its directory. Here common/ is on the include path of the SDK targets and the real test only.

mcpr_add_test_program(mcp_recovery_sdk_cpp_mcp_fake_tests LINK mcp_recovery::mcp_recovery
                      SOURCES ${MCP_RECOVERY_SDK_DIR}/cpp_mcp_fake_test.cpp)
target_include_directories(mcp_recovery_sdk_cpp_mcp_fake_tests PRIVATE
                           ${MCP_RECOVERY_SDK_DIR}/fakes/cpp_mcp/include ${MCP_RECOVERY_WRAPPERS_DIR})
add_test(NAME sdk_cpp_mcp_fake COMMAND mcp_recovery_sdk_cpp_mcp_fake_tests)
set_tests_properties(sdk_cpp_mcp_fake PROPERTIES LABELS sdk)

set(MCP_RECOVERY_SDK_CPP_MCP_DIR "" CACHE PATH
    "hkr04/cpp-mcp source tree: build its sse_client and server_example and run tests/sdk/cpp_mcp_sdk_test.cpp")

if(MCP_RECOVERY_SDK_CPP_MCP_DIR)
  set(cpp_mcp ${MCP_RECOVERY_SDK_CPP_MCP_DIR})
  if(NOT EXISTS ${cpp_mcp}/src/mcp_sse_client.cpp OR NOT EXISTS ${cpp_mcp}/common/httplib.h)
    message(FATAL_ERROR "MCP_RECOVERY_SDK_CPP_MCP_DIR=${cpp_mcp} is not a hkr04/cpp-mcp source tree "
                        "(no src/mcp_sse_client.cpp or common/httplib.h)")
  endif()

  # The SDK's library, as its src/CMakeLists.txt builds it (without SSL), with its defaults.
  add_library(mcp_recovery_sdk_cpp_mcp STATIC EXCLUDE_FROM_ALL
              ${cpp_mcp}/src/mcp_message.cpp ${cpp_mcp}/src/mcp_resource.cpp ${cpp_mcp}/src/mcp_server.cpp
              ${cpp_mcp}/src/mcp_tool.cpp ${cpp_mcp}/src/mcp_stdio_client.cpp ${cpp_mcp}/src/mcp_sse_client.cpp)
  target_include_directories(mcp_recovery_sdk_cpp_mcp SYSTEM PUBLIC ${cpp_mcp}/include ${cpp_mcp}/common)
  target_compile_definitions(mcp_recovery_sdk_cpp_mcp PUBLIC MCP_MAX_SESSIONS=10 MCP_SESSION_TIMEOUT=30)
  target_compile_features(mcp_recovery_sdk_cpp_mcp PUBLIC cxx_std_17)
  target_link_libraries(mcp_recovery_sdk_cpp_mcp PUBLIC Threads::Threads)

  # Its example server (fixed at localhost:8888), one of the servers of the real test.
  add_executable(mcp_recovery_sdk_cpp_mcp_server_example EXCLUDE_FROM_ALL ${cpp_mcp}/examples/server_example.cpp)
  target_link_libraries(mcp_recovery_sdk_cpp_mcp_server_example PRIVATE mcp_recovery_sdk_cpp_mcp)

  # The commit, for the result lines (the tree may be a copy without .git: then "unknown", or give -DMCP_RECOVERY_SDK_CPP_MCP_COMMIT=...).
  set(cpp_mcp_commit "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS ${cpp_mcp}/.git)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${cpp_mcp} rev-parse --short HEAD
                    OUTPUT_VARIABLE cpp_mcp_commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  set(MCP_RECOVERY_SDK_CPP_MCP_COMMIT "${cpp_mcp_commit}" CACHE STRING "cpp-mcp commit printed in the result lines")

  mcpr_add_test_program(mcp_recovery_sdk_cpp_mcp_tests LINK mcp_recovery::mcp_recovery mcp_recovery_sdk_cpp_mcp
                        SOURCES ${MCP_RECOVERY_SDK_DIR}/cpp_mcp_sdk_test.cpp)
  target_include_directories(mcp_recovery_sdk_cpp_mcp_tests PRIVATE ${MCP_RECOVERY_WRAPPERS_DIR})
  target_compile_definitions(mcp_recovery_sdk_cpp_mcp_tests PRIVATE
                             MCPR_CPP_MCP_COMMIT="${MCP_RECOVERY_SDK_CPP_MCP_COMMIT}"
                             MCPR_CPP_MCP_SERVER_EXAMPLE="$<TARGET_FILE:mcp_recovery_sdk_cpp_mcp_server_example>"
                             MCPR_FIXED_PORT_LAUNCHER="${MCP_RECOVERY_SDK_DIR}/run_fixed_port_server.sh")
  add_dependencies(mcp_recovery_sdk_cpp_mcp_tests mcp_recovery_sdk_cpp_mcp_server_example)
  add_test(NAME sdk_cpp_mcp COMMAND mcp_recovery_sdk_cpp_mcp_tests)
  set_tests_properties(sdk_cpp_mcp PROPERTIES
                       ENVIRONMENT MCP_RECOVERY_INTEROP_DIR=${CMAKE_CURRENT_SOURCE_DIR}/interop
                       TIMEOUT 300 LABELS sdk)
else()
  mcpr_sdk_skipped(sdk_cpp_mcp "-DMCP_RECOVERY_SDK_CPP_MCP_DIR=<cpp-mcp source> not given")
endif()
