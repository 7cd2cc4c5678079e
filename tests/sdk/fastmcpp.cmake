# 0xeb/fastmcpp: examples/wrappers/fastmcpp_wrapper.hpp, the wrapper docs/wrapping-clients.md shows.
#
# Always: sdk_fastmcpp_fake, the wrapper compiled against our fake of the SDK's client interface
# (tests/sdk/fakes/fastmcpp) and run against a scripted in-process server.
#
# With -DMCP_RECOVERY_SDK_FASTMCPP_DIR=<fastmcpp source tree> (tested: 1cd32e0) and
# -DMCP_RECOVERY_SDK_HTTPLIB_DIR=<directory with cpp-httplib >= 0.15's httplib.h> (fastmcpp fetches
# 0.15.3 itself; Debian 12's 0.11.4 is too old) and nlohmann_json installed: the SDK's client (two
# translation units, compiled here rather than through the SDK's CMake, which downloads its
# dependencies), then the wrapper end to end against the npm servers of tests/interop, killed and
# restarted:
#   - sdk_fastmcpp: against a copy of the SDK's transports.cpp, generated in the build tree, without
#     its duplicate Content-Type header (TypeScript SDK 1.32.2 servers answer 415 to every request
#     as shipped); nothing patched is in this repository;
#   - sdk_fastmcpp_as_shipped: against transports.cpp as shipped: the 415 is reported, permanent.

set(MCP_RECOVERY_SDK_FASTMCPP_DIR "" CACHE PATH
    "0xeb/fastmcpp source tree: run the fastmcpp wrapper against the real SDK (tests/sdk/fastmcpp_sdk_test.cpp)")
set(MCP_RECOVERY_SDK_HTTPLIB_DIR "" CACHE PATH
    "Directory holding cpp-httplib's httplib.h, version >= 0.15 (needed by fastmcpp's client)")
set(MCP_RECOVERY_SDK_FASTMCPP_COMMIT "" CACHE STRING
    "fastmcpp commit named in the SDK test's results (default: git rev-parse HEAD in the source tree)")

mcpr_add_test_program(mcp_recovery_sdk_fastmcpp_fake_tests LINK mcp_recovery::mcp_recovery
                      SOURCES ${MCP_RECOVERY_SDK_DIR}/fastmcpp_fake_test.cpp)
target_include_directories(mcp_recovery_sdk_fastmcpp_fake_tests PRIVATE
  ${MCP_RECOVERY_SDK_DIR}/fakes/fastmcpp/include ${MCP_RECOVERY_WRAPPERS_DIR})
# The documented code compiles without a warning.
target_compile_options(mcp_recovery_sdk_fastmcpp_fake_tests PRIVATE -Werror)
add_test(NAME sdk_fastmcpp_fake COMMAND mcp_recovery_sdk_fastmcpp_fake_tests)
set_tests_properties(sdk_fastmcpp_fake PROPERTIES TIMEOUT 60 LABELS sdk)

if(NOT MCP_RECOVERY_SDK_FASTMCPP_DIR)
  mcpr_sdk_skipped(sdk_fastmcpp "-DMCP_RECOVERY_SDK_FASTMCPP_DIR=<fastmcpp source> not given")
  mcpr_sdk_skipped(sdk_fastmcpp_as_shipped "-DMCP_RECOVERY_SDK_FASTMCPP_DIR=<fastmcpp source> not given")
  return()
endif()

# --- the real SDK ------------------------------------------------------------------------------

set(fastmcpp_dir ${MCP_RECOVERY_SDK_FASTMCPP_DIR})
set(fastmcpp_transports ${fastmcpp_dir}/src/client/transports.cpp)
set(fastmcpp_process ${fastmcpp_dir}/src/internal/process.cpp)
foreach(file IN ITEMS ${fastmcpp_transports} ${fastmcpp_process} ${fastmcpp_dir}/include/fastmcpp/client/client.hpp)
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "MCP_RECOVERY_SDK_FASTMCPP_DIR=${fastmcpp_dir} is not a fastmcpp source tree: ${file} not found")
  endif()
endforeach()

if(NOT MCP_RECOVERY_SDK_HTTPLIB_DIR)
  message(FATAL_ERROR "fastmcpp's client needs cpp-httplib >= 0.15: give -DMCP_RECOVERY_SDK_HTTPLIB_DIR=<directory "
                      "with httplib.h> (the single header of cpp-httplib v0.15.3, which fastmcpp's own build fetches)")
endif()
set(fastmcpp_httplib ${MCP_RECOVERY_SDK_HTTPLIB_DIR}/httplib.h)
if(NOT EXISTS ${fastmcpp_httplib})
  message(FATAL_ERROR "MCP_RECOVERY_SDK_HTTPLIB_DIR=${MCP_RECOVERY_SDK_HTTPLIB_DIR}: no httplib.h there")
endif()
file(STRINGS ${fastmcpp_httplib} httplib_version_line REGEX "^#define CPPHTTPLIB_VERSION \"[0-9.]+\"" LIMIT_COUNT 1)
string(REGEX MATCH "[0-9]+\\.[0-9]+(\\.[0-9]+)?" httplib_version "${httplib_version_line}")
if(NOT httplib_version)
  message(FATAL_ERROR "${fastmcpp_httplib}: no '#define CPPHTTPLIB_VERSION \"x.y.z\"' line: not cpp-httplib, or "
                      "older than 0.15 (fastmcpp's client needs >= 0.15)")
endif()
if(httplib_version VERSION_LESS 0.15)
  message(FATAL_ERROR "${fastmcpp_httplib} is cpp-httplib ${httplib_version}; fastmcpp's client needs >= 0.15 "
                      "(its transports.cpp default-constructs httplib::Result, which older versions cannot)")
endif()

find_package(nlohmann_json 3.11 QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "fastmcpp's client needs nlohmann_json >= 3.11 (Debian: apt-get install nlohmann-json3-dev)")
endif()

set(fastmcpp_commit "${MCP_RECOVERY_SDK_FASTMCPP_COMMIT}")
if(NOT fastmcpp_commit)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${fastmcpp_dir} rev-parse HEAD
                    OUTPUT_VARIABLE fastmcpp_commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE git_result)
    if(NOT git_result EQUAL 0)
      set(fastmcpp_commit "")
    endif()
  endif()
  if(NOT fastmcpp_commit)
    set(fastmcpp_commit "unknown (not a git checkout; set MCP_RECOVERY_SDK_FASTMCPP_COMMIT)")
  endif()
endif()
file(STRINGS ${fastmcpp_dir}/CMakeLists.txt fastmcpp_project_line REGEX "^project\\(fastmcpp VERSION" LIMIT_COUNT 1)
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" fastmcpp_version "${fastmcpp_project_line}")

# A copy of transports.cpp without the Content-Type entry of its request header map: httplib's
# Post(path, headers, body, "application/json") adds that header a second time, and TypeScript
# SDK servers (1.32.2) refuse the combined "application/json, application/json" with 415.
file(READ ${fastmcpp_transports} transports_text)
set(duplicate_header_regex
    "({\"Accept\", \"application/json, text/event-stream\"}),[ \t\r\n]*{\"Content-Type\", \"application/json\"}}")
string(REGEX MATCHALL "${duplicate_header_regex}" duplicate_header_matches "${transports_text}")
list(LENGTH duplicate_header_matches duplicate_header_count)
set(fastmcpp_patched_dir ${CMAKE_CURRENT_BINARY_DIR}/sdk_fastmcpp_patched/client)
if(duplicate_header_count EQUAL 0)
  # A fastmcpp that no longer sends Content-Type twice needs no copy: both tests build it as it is.
  message(WARNING "${fastmcpp_transports}: the duplicate Content-Type of StreamableHttpTransport::request "
                  "(fastmcpp 1cd32e0) is not there any more; sdk_fastmcpp builds this fastmcpp as shipped, and "
                  "sdk_fastmcpp_as_shipped, which expects the 415, will fail: drop it from tests/sdk/fastmcpp.cmake.")
  set(transports_patched "${transports_text}")
elseif(duplicate_header_count EQUAL 1)
  string(REGEX REPLACE "${duplicate_header_regex}" "\\1}" transports_patched "${transports_text}")
else()
  message(FATAL_ERROR "${fastmcpp_transports}: ${duplicate_header_count} request header maps with "
                      "{\"Accept\", ...}, {\"Content-Type\", \"application/json\"}; expected at most one "
                      "(StreamableHttpTransport::request, fastmcpp 1cd32e0): update tests/sdk/fastmcpp.cmake.")
endif()
file(WRITE ${fastmcpp_patched_dir}/transports.cpp.new "${transports_patched}")
configure_file(${fastmcpp_patched_dir}/transports.cpp.new ${fastmcpp_patched_dir}/transports.cpp COPYONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${fastmcpp_transports})
message(STATUS "fastmcpp SDK tests: ${fastmcpp_dir} (${fastmcpp_version}, ${fastmcpp_commit}), cpp-httplib "
               "${httplib_version}. sdk_fastmcpp builds a copy of src/client/transports.cpp without its duplicate "
               "Content-Type header (${fastmcpp_patched_dir}/transports.cpp); sdk_fastmcpp_as_shipped builds it as shipped.")

# The SDK's code: its own include paths, as system headers; no project warnings on it.
add_library(mcp_recovery_sdk_fastmcpp_process OBJECT ${fastmcpp_process})
target_include_directories(mcp_recovery_sdk_fastmcpp_process SYSTEM PRIVATE ${fastmcpp_dir}/include ${fastmcpp_dir}/src)
target_compile_features(mcp_recovery_sdk_fastmcpp_process PRIVATE cxx_std_17)
target_compile_options(mcp_recovery_sdk_fastmcpp_process PRIVATE -w)

foreach(flavour IN ITEMS patched as_shipped)
  set(lib mcp_recovery_sdk_fastmcpp_client_${flavour})
  if(flavour STREQUAL "patched")
    add_library(${lib} STATIC ${fastmcpp_patched_dir}/transports.cpp $<TARGET_OBJECTS:mcp_recovery_sdk_fastmcpp_process>)
    # transports.cpp includes "../internal/process.hpp" relative to its own directory.
    target_include_directories(${lib} SYSTEM PRIVATE ${fastmcpp_dir}/src/client)
  else()
    add_library(${lib} STATIC ${fastmcpp_transports} $<TARGET_OBJECTS:mcp_recovery_sdk_fastmcpp_process>)
  endif()
  target_include_directories(${lib} SYSTEM PUBLIC ${fastmcpp_dir}/include ${MCP_RECOVERY_SDK_HTTPLIB_DIR})
  target_include_directories(${lib} SYSTEM PRIVATE ${fastmcpp_dir}/src)
  target_link_libraries(${lib} PUBLIC nlohmann_json::nlohmann_json Threads::Threads)
  target_compile_features(${lib} PUBLIC cxx_std_17)
  target_compile_options(${lib} PRIVATE -w)

  set(program mcp_recovery_sdk_fastmcpp_${flavour}_tests)
  mcpr_add_test_program(${program} LINK mcp_recovery::mcp_recovery ${lib}
                        SOURCES ${MCP_RECOVERY_SDK_DIR}/fastmcpp_sdk_test.cpp)
  target_include_directories(${program} PRIVATE ${MCP_RECOVERY_WRAPPERS_DIR} ${MCP_RECOVERY_SDK_DIR})
  target_compile_definitions(${program} PRIVATE
    MCPR_FASTMCPP_AS_SHIPPED=$<IF:$<STREQUAL:${flavour},as_shipped>,1,0>
    "MCPR_FASTMCPP_VERSION=\"${fastmcpp_version}\""
    "MCPR_FASTMCPP_COMMIT=\"${fastmcpp_commit}\"")
endforeach()

add_test(NAME sdk_fastmcpp COMMAND mcp_recovery_sdk_fastmcpp_patched_tests)
add_test(NAME sdk_fastmcpp_as_shipped COMMAND mcp_recovery_sdk_fastmcpp_as_shipped_tests)
set_tests_properties(sdk_fastmcpp sdk_fastmcpp_as_shipped PROPERTIES
  ENVIRONMENT "MCP_RECOVERY_INTEROP_DIR=${CMAKE_CURRENT_SOURCE_DIR}/interop" TIMEOUT 300 LABELS sdk)
