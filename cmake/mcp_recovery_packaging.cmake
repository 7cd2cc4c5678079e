# Install rules, exported targets, package config files and pkg-config files of mcp-recovery.
# Included by the top-level CMakeLists.txt when MCP_RECOVERY_INSTALL is ON; docs/packaging.md
# shows how consumers use the result.
#
# Layout of an install (everything is architecture-independent, since the library is header-only,
# but for the static libraries of separate compilation, docs/compile-time.md):
#   include/mcp_recovery/...                         headers (core, callable, beast)
#   lib/libmcp_recovery_beast[_tls]_compiled.a        (only with MCP_RECOVERY_INSTALL_COMPILED=ON)
#   share/cmake/mcp_recovery/mcp_recoveryConfig.cmake, ...ConfigVersion.cmake, *-targets.cmake
#   share/pkgconfig/mcp_recovery.pc, mcp_recovery-beast.pc, mcp_recovery-beast_tls.pc
#   share/doc/mcp_recovery/LICENSE
#   bin/mcp-recovery-check                            (install component mcp_recovery_tools)
#
# pkg-config files go to share/pkgconfig rather than lib/pkgconfig: they name no library and no
# architecture, and pkg-config searches share/pkgconfig by default (as it does lib/pkgconfig, and
# on Debian lib/<multiarch>/pkgconfig, which would tie an identical file to one architecture).

include(CMakePackageConfigHelpers)

set(MCPR_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(MCP_RECOVERY_PKGCONFIG_DIR ${CMAKE_INSTALL_DATADIR}/pkgconfig)

# mcpr_install_component(<component> TARGET <target> EXPORT_NAME <name> [HEADERS <dirs...>]
#                        [PKG_CONFIG <pc-name>])
# Installs <target> as mcp_recovery::<name> in an export set of its own (file
# mcp_recovery-<component>-targets.cmake, installed and exported into the build tree), the headers
# found under each existing <dir>, and <pc-name>.pc generated from cmake/<pc-name>.pc.in.
function(mcpr_install_component component)
  cmake_parse_arguments(arg "" "TARGET;EXPORT_NAME;PKG_CONFIG" "HEADERS" ${ARGN})
  set_target_properties(${arg_TARGET} PROPERTIES EXPORT_NAME ${arg_EXPORT_NAME})
  set(export_set mcp_recovery-${component}-targets)
  install(TARGETS ${arg_TARGET} EXPORT ${export_set} COMPONENT mcp_recovery_development)
  install(EXPORT ${export_set} NAMESPACE mcp_recovery:: FILE ${export_set}.cmake
          DESTINATION ${MCP_RECOVERY_CONFIG_DIR} COMPONENT mcp_recovery_development)
  # The build tree as a package: -Dmcp_recovery_DIR=<build dir> finds these files.
  export(EXPORT ${export_set} NAMESPACE mcp_recovery:: FILE ${PROJECT_BINARY_DIR}/${export_set}.cmake)

  foreach(dir IN LISTS arg_HEADERS)
    if(EXISTS ${dir})
      install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT mcp_recovery_development
              FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.ipp")
    endif()
  endforeach()

  if(arg_PKG_CONFIG)
    mcpr_pkg_config_prefix(pc_prefix pc_includedir)
    configure_file(${MCPR_PACKAGING_DIR}/${arg_PKG_CONFIG}.pc.in
                   ${PROJECT_BINARY_DIR}/pkgconfig/${arg_PKG_CONFIG}.pc @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${arg_PKG_CONFIG}.pc
            DESTINATION ${MCP_RECOVERY_PKGCONFIG_DIR} COMPONENT mcp_recovery_development)
  endif()

  set_property(GLOBAL APPEND PROPERTY MCP_RECOVERY_EXPORTED_COMPONENTS ${component})
endfunction()

# The prefix and include directory written into the .pc files: relative to the .pc file's own
# directory (${pcfiledir}) when the install directories are relative, so that a staged or moved
# install (cmake --install --prefix, DESTDIR, an unpacked archive) still points at its headers.
function(mcpr_pkg_config_prefix prefix_var includedir_var)
  if(IS_ABSOLUTE "${MCP_RECOVERY_PKGCONFIG_DIR}")
    set(prefix "${CMAKE_INSTALL_PREFIX}")
  else()
    file(RELATIVE_PATH up "/mcpr-prefix/${MCP_RECOVERY_PKGCONFIG_DIR}" "/mcpr-prefix")
    string(REGEX REPLACE "/$" "" up "${up}")
    set(prefix "\${pcfiledir}/${up}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(includedir "${CMAKE_INSTALL_INCLUDEDIR}")
  else()
    set(includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  set(${prefix_var} "${prefix}" PARENT_SCOPE)
  set(${includedir_var} "${includedir}" PARENT_SCOPE)
endfunction()

# mcpr_install_package(): the package config and version files, for the install and the build
# tree alike (they only refer to files beside them), and the licence. Call after every component.
function(mcpr_install_package)
  get_property(MCP_RECOVERY_EXPORTED_COMPONENTS GLOBAL PROPERTY MCP_RECOVERY_EXPORTED_COMPONENTS)
  configure_file(${MCPR_PACKAGING_DIR}/mcp_recoveryConfig.cmake.in
                 ${PROJECT_BINARY_DIR}/mcp_recoveryConfig.cmake @ONLY)
  # SameMinorVersion: while the major version is 0, a minor release may change the API (SemVer
  # item 4), so find_package(mcp_recovery 0.1) must accept 0.1.x (x >= the one asked for) but
  # neither 0.2 nor 1.0; SameMajorVersion would wrongly accept 0.2 for 0.1. To be revisited at
  # 1.0 (then SameMajorVersion). ARCH_INDEPENDENT: header-only, so a 32-bit consumer may use an
  # install made on a 64-bit machine (no sizeof(void*) check); not with a *_compiled component.
  set(arch_independent ARCH_INDEPENDENT)
  if(MCP_RECOVERY_EXPORTED_COMPONENTS MATCHES "_compiled")
    set(arch_independent)
  endif()
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/mcp_recoveryConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ${arch_independent})
  install(FILES ${PROJECT_BINARY_DIR}/mcp_recoveryConfig.cmake ${PROJECT_BINARY_DIR}/mcp_recoveryConfigVersion.cmake
          DESTINATION ${MCP_RECOVERY_CONFIG_DIR} COMPONENT mcp_recovery_development)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR}
          COMPONENT mcp_recovery_development)
endfunction()
