# Compiles and runs a one-file program with the compiler and `pkg-config --cflags --libs
# mcp_recovery` against the staged install (cmake -P; the test packaging_pkg_config).
#   -DPKG_CONFIG=<pkg-config> -DPREFIX=<staging prefix> -DPC_DIR=<.pc directory, relative>
#   -DCXX=<compiler> -DCXX_FLAGS=<flags> -DCXX_STANDARD=<17, 20...> -DSOURCE=<program> -DOUTPUT=<executable>
#   -DWITH_BEAST=<bool>: also check the Cflags of mcp_recovery-beast (without compiling Boost code)
cmake_minimum_required(VERSION 3.16)

set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${PC_DIR}")
function(pkg_config out_var)
  execute_process(COMMAND "${PKG_CONFIG}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE ";" " " args "${ARGN}")
  message("pkg-config ${args}: ${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${args} failed (exit ${rc})")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

pkg_config(version --modversion mcp_recovery)
pkg_config(flags --cflags --libs mcp_recovery)
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
# pkg-config cannot ask for a language standard: the library needs C++17 or later.
if(NOT CXX_STANDARD)
  set(CXX_STANDARD 17)
endif()
get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${output_dir}")
execute_process(COMMAND "${CXX}" ${cxx_flags} -std=c++${CXX_STANDARD} "${SOURCE}" ${flags} -o "${OUTPUT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${CXX} ${CXX_FLAGS} -std=c++${CXX_STANDARD} ${SOURCE} $(pkg-config --cflags --libs mcp_recovery): exit ${rc}\n${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling with the flags from mcp_recovery.pc failed")
endif()
execute_process(COMMAND "${OUTPUT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the program built through pkg-config failed (exit ${rc})")
endif()

if(WITH_BEAST)
  pkg_config(beast_flags --cflags mcp_recovery-beast)
  if(NOT beast_flags MATCHES "-DBOOST_ASIO_NO_DEPRECATED" OR NOT beast_flags MATCHES "-I")
    message(FATAL_ERROR "mcp_recovery-beast.pc: unexpected Cflags '${beast_flags}'")
  endif()
endif()
