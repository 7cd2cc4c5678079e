# Configures, builds and runs one consumer project (cmake -P; registered by consumer_tests.cmake).
#   -DSOURCE_DIR=<consumer project> -DBINARY_DIR=<fresh build dir> -DINIT_CACHE=<cmake -C file>
#   -DGENERATOR=<generator> [-DPLATFORM=..] [-DTOOLSET=..] -DCONFIG=<build config>
#   -DRUN=<programs to run, |-separated> | -DEXPECT_FAILURE=<regex the failing configure must print>
cmake_minimum_required(VERSION 3.16)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("---- ${what} (exit ${rc})\n${out}")
  set(rc ${rc} PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${BINARY_DIR}")
set(generator_args -G "${GENERATOR}")
if(PLATFORM)
  list(APPEND generator_args -A "${PLATFORM}")
endif()
if(TOOLSET)
  list(APPEND generator_args -T "${TOOLSET}")
endif()

run_step("configure ${SOURCE_DIR}"
         "${CMAKE_COMMAND}" ${generator_args} -C "${INIT_CACHE}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}")
if(DEFINED EXPECT_FAILURE)
  if(rc EQUAL 0)
    message(FATAL_ERROR "configure succeeded; expected it to fail with: ${EXPECT_FAILURE}")
  endif()
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")  # CMake wraps long messages
  if(NOT flat MATCHES "${EXPECT_FAILURE}")
    message(FATAL_ERROR "configure failed, but without the expected message: ${EXPECT_FAILURE}")
  endif()
  message("configure failed as expected")
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed")
endif()

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
run_step("build" "${CMAKE_COMMAND}" --build "${BINARY_DIR}" ${config_args})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build failed")
endif()

string(REPLACE "|" ";" RUN "${RUN}")
foreach(program IN LISTS RUN)
  set(path "${BINARY_DIR}/${CONFIG}/${program}${CMAKE_EXECUTABLE_SUFFIX}")
  if(NOT EXISTS "${path}")
    set(path "${BINARY_DIR}/${program}${CMAKE_EXECUTABLE_SUFFIX}")
  endif()
  run_step("run ${program}" "${path}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${program} failed")
  endif()
endforeach()
