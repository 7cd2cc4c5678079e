# The README's usage example (everything_echo.cpp) as a program, and its test against
# server-everything (the MCP reference server, from npm), which run_everything_echo.sh starts on an
# ephemeral 127.0.0.1 port and stops by PID. The program needs the Beast adapter; the test also
# needs the interop tests (MCP_RECOVERY_INTEROP_TESTS: node, and npm ci in tests/interop).
if(TARGET mcp_recovery::beast)
  add_executable(everything_echo ${CMAKE_CURRENT_LIST_DIR}/everything_echo.cpp)
  target_link_libraries(everything_echo PRIVATE mcp_recovery::beast)
  target_compile_options(everything_echo PRIVATE ${MCP_RECOVERY_WARNINGS})
  if(MCP_RECOVERY_BUILD_TESTS AND MCP_RECOVERY_INTEROP_TESTS AND UNIX)
    add_test(NAME example_everything_echo
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_everything_echo.sh $<TARGET_FILE:everything_echo>
                     ${PROJECT_SOURCE_DIR}/tests/interop)
    set_tests_properties(example_everything_echo PROPERTIES TIMEOUT 300 LABELS interop)
  endif()
endif()
