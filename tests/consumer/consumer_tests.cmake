# Packaging tests (included at the end of tests/CMakeLists.txt): consumer projects built against
# this build, each in a fresh directory under <build>/consumer, with the same compiler, flags,
# build type and Boost/OpenSSL settings as this build (a cmake -C initial-cache file).
#
#   packaging_stage_install      fixture: cmake --install into <build>/consumer/stage
#   consumer_find_package        find_package(mcp_recovery) against the staged install, core only
#   consumer_find_package_beast  ... COMPONENTS beast (and beast_tls when built)
#   consumer_find_package_compiled ... COMPONENTS beast_compiled (and beast_tls_compiled when built;
#                                only with MCP_RECOVERY_INSTALL_COMPILED=ON)
#   consumer_unknown_component   ... COMPONENTS frobnicate must fail with a clear message
#   consumer_missing_component   (built without beast) ... COMPONENTS beast must fail, saying why
#   consumer_build_tree          find_package with mcp_recovery_DIR=<this build tree> (export())
#   consumer_add_subdirectory    add_subdirectory(<source tree>)
#   consumer_fetch_content       FetchContent with SOURCE_DIR <source tree> (no download)
#   packaging_pkg_config         the compiler with $(pkg-config --cflags --libs mcp_recovery)
#
# Run them alone with: ctest -R "consumer|packaging" (ctest adds the fixture by itself).

set(mcpr_consumer_dir ${CMAKE_CURRENT_LIST_DIR})
set(mcpr_consumer_work ${PROJECT_BINARY_DIR}/consumer)
set(mcpr_stage ${mcpr_consumer_work}/stage)

# The settings of this build that a consumer must share, as cache entries.
set(mcpr_forward
  CMAKE_CXX_COMPILER CMAKE_CXX_COMPILER_LAUNCHER CMAKE_CXX_FLAGS CMAKE_EXE_LINKER_FLAGS CMAKE_BUILD_TYPE
  CMAKE_MAKE_PROGRAM CMAKE_TOOLCHAIN_FILE CMAKE_SYSROOT CMAKE_OSX_SYSROOT CMAKE_OSX_ARCHITECTURES
  CMAKE_CXX_STANDARD CMAKE_CXX_EXTENSIONS
  Boost_DIR Boost_INCLUDE_DIR Boost_ROOT BOOST_ROOT BOOST_INCLUDEDIR Boost_NO_SYSTEM_PATHS Boost_NO_BOOST_CMAKE
  OpenSSL_DIR OPENSSL_ROOT_DIR OPENSSL_INCLUDE_DIR OPENSSL_SSL_LIBRARY OPENSSL_CRYPTO_LIBRARY)
if(CMAKE_BUILD_TYPE)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" mcpr_config)
  list(APPEND mcpr_forward CMAKE_CXX_FLAGS_${mcpr_config} CMAKE_EXE_LINKER_FLAGS_${mcpr_config})
endif()
set(mcpr_common_cache "# Written by tests/consumer/consumer_tests.cmake: settings of ${PROJECT_BINARY_DIR}\n")
foreach(var IN LISTS mcpr_forward)
  if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "" AND NOT "${${var}}" MATCHES "-NOTFOUND$")
    string(APPEND mcpr_common_cache "set(${var} [==[${${var}}]==] CACHE STRING \"\" FORCE)\n")
  endif()
endforeach()

# mcpr_consumer_test(<name> <project dir> [FIXTURE] [RUN <programs...>] [EXPECT_FAILURE <regex>]
#                    [SET <variables...>])
# SET: each <variable> is passed to the consumer with the value of the variable cache_<variable>
# (read here by name, so that a ;-list stays one value).
function(mcpr_consumer_test name project)
  cmake_parse_arguments(arg "FIXTURE" "EXPECT_FAILURE" "RUN;SET" ${ARGN})
  set(init ${mcpr_consumer_work}/${name}-settings.cmake)
  set(content "${mcpr_common_cache}")
  foreach(var IN LISTS arg_SET)
    string(APPEND content "set(${var} [==[${cache_${var}}]==] CACHE STRING \"\" FORCE)\n")
  endforeach()
  file(WRITE ${init} "${content}")
  set(args -DSOURCE_DIR=${mcpr_consumer_dir}/${project} -DBINARY_DIR=${mcpr_consumer_work}/${name}
           -DINIT_CACHE=${init} -DGENERATOR=${CMAKE_GENERATOR} -DCONFIG=$<CONFIG>)
  if(CMAKE_GENERATOR_PLATFORM)
    list(APPEND args -DPLATFORM=${CMAKE_GENERATOR_PLATFORM})
  endif()
  if(CMAKE_GENERATOR_TOOLSET)
    list(APPEND args -DTOOLSET=${CMAKE_GENERATOR_TOOLSET})
  endif()
  if(DEFINED arg_EXPECT_FAILURE)
    list(APPEND args "-DEXPECT_FAILURE=${arg_EXPECT_FAILURE}")
  else()
    string(REPLACE ";" "|" run "${arg_RUN}")
    list(APPEND args "-DRUN=${run}")
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${args} -P ${mcpr_consumer_dir}/run_consumer.cmake)
  set_tests_properties(${name} PROPERTIES LABELS packaging)
  if(arg_FIXTURE)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED mcp_recovery_staged_install)
  endif()
endfunction()

set(cache_MCP_RECOVERY_SOURCE_DIR ${PROJECT_SOURCE_DIR})
mcpr_consumer_test(consumer_add_subdirectory add_subdirectory RUN core_consumer SET MCP_RECOVERY_SOURCE_DIR)
mcpr_consumer_test(consumer_fetch_content fetch_content RUN core_consumer SET MCP_RECOVERY_SOURCE_DIR)

if(MCP_RECOVERY_INSTALL)
  set(header_dirs ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/adapters/callable/include)
  if(TARGET mcp_recovery::beast)
    list(APPEND header_dirs ${PROJECT_SOURCE_DIR}/adapters/beast/include)
  endif()
  string(REPLACE ";" "|" header_dirs "${header_dirs}")
  add_test(NAME packaging_stage_install
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${mcpr_stage} -DCONFIG=$<CONFIG>
                   -DHEADER_DIRS=${header_dirs} -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}
                   -DCONFIG_DIR=${MCP_RECOVERY_CONFIG_DIR} -P ${mcpr_consumer_dir}/stage_install.cmake)
  set_tests_properties(packaging_stage_install PROPERTIES
    FIXTURES_SETUP mcp_recovery_staged_install LABELS packaging)

  set(cache_CMAKE_PREFIX_PATH ${mcpr_stage} ${CMAKE_PREFIX_PATH})
  mcpr_consumer_test(consumer_find_package find_package FIXTURE RUN core_consumer SET CMAKE_PREFIX_PATH)
  if(TARGET mcp_recovery::beast)
    set(cache_CONSUMER_COMPONENTS beast)
    if(TARGET mcp_recovery::beast_tls)
      list(APPEND cache_CONSUMER_COMPONENTS beast_tls)
    endif()
    mcpr_consumer_test(consumer_find_package_beast find_package FIXTURE RUN core_consumer beast_consumer
      SET CMAKE_PREFIX_PATH CONSUMER_COMPONENTS)
  endif()
  # Separate compilation: the transport from the installed static library (beast_tls_compiled
  # when built: it loads beast_tls and beast too).
  if(TARGET mcp_recovery::beast_compiled AND MCP_RECOVERY_INSTALL_COMPILED)
    set(cache_CONSUMER_COMPONENTS beast_compiled)
    if(TARGET mcp_recovery::beast_tls_compiled)
      list(APPEND cache_CONSUMER_COMPONENTS beast_tls_compiled)
    endif()
    mcpr_consumer_test(consumer_find_package_compiled find_package FIXTURE RUN core_consumer beast_consumer
      SET CMAKE_PREFIX_PATH CONSUMER_COMPONENTS)
  endif()
  if(NOT TARGET mcp_recovery::beast)
    # Built without the adapter: asking for it must say so.
    set(cache_CONSUMER_COMPONENTS beast)
    mcpr_consumer_test(consumer_missing_component find_package FIXTURE
      EXPECT_FAILURE "built without its Boost.Beast adapter" SET CMAKE_PREFIX_PATH CONSUMER_COMPONENTS)
  endif()
  set(cache_CONSUMER_COMPONENTS frobnicate)
  mcpr_consumer_test(consumer_unknown_component find_package FIXTURE
    EXPECT_FAILURE "mcp_recovery has no component 'frobnicate'" SET CMAKE_PREFIX_PATH CONSUMER_COMPONENTS)

  # The build tree as a package (export()): core only, the installed route covers the components.
  set(cache_mcp_recovery_DIR ${PROJECT_BINARY_DIR})
  mcpr_consumer_test(consumer_build_tree find_package RUN core_consumer SET mcp_recovery_DIR)

  # pkg-config: only where it is installed (the test is not added otherwise).
  find_program(MCP_RECOVERY_PKG_CONFIG NAMES pkg-config pkgconf DOC "pkg-config, for the packaging_pkg_config test")
  if(MCP_RECOVERY_PKG_CONFIG)
    if(TARGET mcp_recovery::beast)
      set(with_beast ON)
    else()
      set(with_beast OFF)
    endif()
    add_test(NAME packaging_pkg_config
             COMMAND ${CMAKE_COMMAND} -DPKG_CONFIG=${MCP_RECOVERY_PKG_CONFIG} -DPREFIX=${mcpr_stage}
                     -DPC_DIR=${MCP_RECOVERY_PKGCONFIG_DIR} -DCXX=${CMAKE_CXX_COMPILER} "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
                     -DCXX_STANDARD=${CMAKE_CXX_STANDARD} -DSOURCE=${mcpr_consumer_dir}/src/core_consumer.cpp
                     -DOUTPUT=${mcpr_consumer_work}/pkg_config/core_consumer -DWITH_BEAST=${with_beast}
                     -P ${mcpr_consumer_dir}/pkg_config_consumer.cmake)
    set_tests_properties(packaging_pkg_config PROPERTIES FIXTURES_REQUIRED mcp_recovery_staged_install LABELS packaging)
  endif()
endif()
