# SDK wrappers (examples/wrappers/*.hpp): the code docs/wrapping-clients.md shows for each C++ MCP
# SDK, compiled twice:
#   - always (CI): against a small fake of the SDK's client interface (tests/sdk/fakes/<sdk>), which
#     raises the SDK's real messages, so that the documented code cannot rot;
#   - when the SDK's source tree is given (-DMCP_RECOVERY_SDK_<NAME>_DIR=...): against the real SDK,
#     run end to end against real servers killed and restarted (tests/sdk/*_sdk_test.cpp). CI
#     cannot download SDKs; those tests report SKIPPED (ctest: "Skipped") without the path.
# Included from tests/CMakeLists.txt (so mcpr_add_test_program finds tests/support).

set(MCP_RECOVERY_SDK_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sdk)
set(MCP_RECOVERY_WRAPPERS_DIR ${PROJECT_SOURCE_DIR}/examples/wrappers)

# mcpr_sdk_skipped(<test name> <why>): a test that only says why it did not run.
function(mcpr_sdk_skipped name why)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "SKIPPED: ${why}")
  set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED" LABELS sdk)
endfunction()

option(MCP_RECOVERY_SDK_WRAPPER_TESTS "Build the SDK wrappers' tests (against fakes; against the SDKs when given)" ON)
if(MCP_RECOVERY_SDK_WRAPPER_TESTS)
  include(${MCP_RECOVERY_SDK_DIR}/fastmcpp.cmake)
  include(${MCP_RECOVERY_SDK_DIR}/cpp_mcp.cmake)
  include(${MCP_RECOVERY_SDK_DIR}/cxxmcp.cmake)
endif()

# The wrapper code shown in docs/wrapping-clients.md is the compiled code, verbatim.
add_test(NAME docs_wrappers_in_sync
         COMMAND ${CMAKE_COMMAND} -DDOC=${PROJECT_SOURCE_DIR}/docs/wrapping-clients.md -DROOT=${PROJECT_SOURCE_DIR}
                 -P ${MCP_RECOVERY_SDK_DIR}/docs_in_sync.cmake)
