# Runs the compiler on one compile-fail case and checks what it says.
#
#   cmake -DCXX=<compiler> -DSTD=<17|20> -DSOURCE=<case.cpp> -DINCLUDE=<include dir> -P check_compile_fail.cmake
#
# The case states what is expected, in comment lines of its own:
#
#   // compiles                        it must compile (a control: a broken harness cannot pass)
#   // first-error c++17: <regex>      it must fail, and the first line that says "error" matches
#   // output c++20: <regex>           it must fail, and the whole output matches
#
# A case that must fail needs at least one expectation for the standard it is compiled with.
# The compiler runs with LC_ALL=C, so that quotes are plain ASCII whatever the locale.

cmake_minimum_required(VERSION 3.16)

foreach(var CXX STD SOURCE INCLUDE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: pass -D${var}=...")
  endif()
endforeach()

set(ENV{LC_ALL} C)
set(ENV{LANG} C)
execute_process(COMMAND ${CXX} -fsyntax-only -std=c++${STD} -I ${INCLUDE} ${SOURCE}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)

file(STRINGS ${SOURCE} directives REGEX "^// (compiles|first-error c\\+\\+[0-9]+:|output c\\+\\+[0-9]+:)")
set(must_compile FALSE)
set(first_error_patterns)
set(output_patterns)
foreach(line IN LISTS directives)
  if(line STREQUAL "// compiles")
    set(must_compile TRUE)
  elseif(line MATCHES "^// (first-error|output) c\\+\\+([0-9]+): (.+)$")
    if(CMAKE_MATCH_2 STREQUAL STD)
      if(CMAKE_MATCH_1 STREQUAL "first-error")
        list(APPEND first_error_patterns "${CMAKE_MATCH_3}")
      else()
        list(APPEND output_patterns "${CMAKE_MATCH_3}")
      endif()
    endif()
  endif()
endforeach()

get_filename_component(name ${SOURCE} NAME)
if(must_compile)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${name} (c++${STD}) must compile, and does not:\n${output}")
  endif()
  message(STATUS "${name} (c++${STD}) compiles, as it must")
  return()
endif()

if(NOT first_error_patterns AND NOT output_patterns)
  message(FATAL_ERROR "${name} states no expected diagnostic for c++${STD}")
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${name} (c++${STD}) compiled, but must not")
endif()

# The first line that reports an error.
set(first_error "")
string(REPLACE "\n" ";" lines "${output}")
foreach(l IN LISTS lines)
  if(l MATCHES "error:")
    set(first_error "${l}")
    break()
  endif()
endforeach()

set(failed FALSE)
foreach(pattern IN LISTS first_error_patterns)
  if(NOT first_error MATCHES "${pattern}")
    string(APPEND complaints "  the first error does not match: ${pattern}\n")
    set(failed TRUE)
  endif()
endforeach()
foreach(pattern IN LISTS output_patterns)
  if(NOT output MATCHES "${pattern}")
    string(APPEND complaints "  the output does not match: ${pattern}\n")
    set(failed TRUE)
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "${name} (c++${STD}) failed to compile, but not as expected:\n${complaints}"
                      "first error: ${first_error}\n--- compiler output ---\n${output}")
endif()
message(STATUS "${name} (c++${STD}) fails as expected: ${first_error}")
