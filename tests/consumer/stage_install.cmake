# Installs mcp-recovery's development files into a fresh staging prefix and checks that every
# public header got there (cmake -P; the fixture setup test packaging_stage_install).
#   -DBUILD_DIR=<mcp-recovery build tree> -DPREFIX=<staging prefix> -DCONFIG=<build config>
#   -DHEADER_DIRS=<source include directories whose headers must be installed, |-separated>
#   -DINCLUDEDIR=<CMAKE_INSTALL_INCLUDEDIR> -DCONFIG_DIR=<where mcp_recoveryConfig.cmake goes, relative>
cmake_minimum_required(VERSION 3.16)

file(REMOVE_RECURSE "${PREFIX}")
set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
                        --component mcp_recovery_development
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (exit ${rc})")
endif()

set(missing)
string(REPLACE "|" ";" HEADER_DIRS "${HEADER_DIRS}")
foreach(dir IN LISTS HEADER_DIRS)
  file(GLOB_RECURSE headers RELATIVE "${dir}" "${dir}/*.hpp" "${dir}/*.ipp")
  foreach(header IN LISTS headers)
    if(NOT EXISTS "${PREFIX}/${INCLUDEDIR}/${header}")
      list(APPEND missing ${header})
    endif()
  endforeach()
endforeach()
foreach(file mcp_recoveryConfig.cmake mcp_recoveryConfigVersion.cmake mcp_recovery-core-targets.cmake)
  if(NOT EXISTS "${PREFIX}/${CONFIG_DIR}/${file}")
    list(APPEND missing ${CONFIG_DIR}/${file})
  endif()
endforeach()
if(missing)
  string(REPLACE ";" "\n  " missing "${missing}")
  message(FATAL_ERROR "not installed:\n  ${missing}")
endif()
message("staged install in ${PREFIX}: complete")
