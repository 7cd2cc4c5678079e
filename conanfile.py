# Conan 2 recipe of mcp-recovery (header-only). docs/packaging.md shows how to use it:
#   conan create . -s compiler.cppstd=17 --build=missing                 # core (std only)
#   conan create . -s compiler.cppstd=17 -o "&:with_beast=True" --build=missing   # + Boost.Beast adapter
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class McpRecoveryConan(ConanFile):
    name = "mcp_recovery"
    description = ("Recovery policies for MCP (Model Context Protocol) clients: session loss, reconnects, "
                   "safe retries, one deadline")
    license = "BSL-1.0"
    topics = ("mcp", "model-context-protocol", "retry", "reconnect", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_beast": [True, False]}
    # The Beast adapter needs Boost's headers only (Asio, Beast): no Boost library is linked.
    default_options = {"with_beast": False, "boost/*:header_only": True}
    exports_sources = ("include/*", "adapters/callable/include/*", "adapters/beast/include/*", "LICENSE")
    no_copy_source = True

    def set_version(self):
        # The version of record is the one in project() of CMakeLists.txt.
        if not self.version:
            text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
            self.version = re.search(r"project\(mcp_recovery\s+VERSION\s+([0-9.]+)", text).group(1)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        if self.options.with_beast:
            # transitive_headers: the adapter's public headers include Boost's.
            self.requires("boost/[>=1.74 <2]", transitive_headers=True)

    def package_id(self):
        # Header-only: one package for every setting and option. That is correct because package()
        # does not depend on with_beast: the option only adds the Boost requirement and the beast
        # component (package_info() runs with the consumer's options).
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 17)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        # Core and the std-only callable adapter, plus the Beast adapter's headers, always (see
        # package_id): they are usable only with Boost, i.e. through the beast component.
        for headers in ("include", os.path.join("adapters", "callable", "include"),
                        os.path.join("adapters", "beast", "include")):
            copy(self, "*.hpp", os.path.join(self.source_folder, headers),
                 os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # find_package(mcp_recovery) with the targets of the project's own CMake package. The
        # aggregate of all components gets a name of its own, as the core has the package's name.
        self.cpp_info.set_property("cmake_file_name", "mcp_recovery")
        self.cpp_info.set_property("cmake_target_name", "mcp_recovery::all")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "mcp_recovery::mcp_recovery")
        core.set_property("pkg_config_name", "mcp_recovery")
        core.bindirs = []
        core.libdirs = []
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        if self.options.with_beast:
            beast = self.cpp_info.components["beast"]
            beast.set_property("cmake_target_name", "mcp_recovery::beast")
            beast.set_property("pkg_config_name", "mcp_recovery-beast")
            beast.requires = ["core"]
            # A Boost from [platform_requires] (the system's headers, e.g. Debian's libboost-dev)
            # is left out of self.dependencies, and CMakeDeps rejects a component requirement on
            # it: the beast component requires boost::headers only when Boost is a real package.
            if "boost" in self.dependencies:
                beast.requires.append("boost::headers")
            beast.defines = ["BOOST_ASIO_NO_DEPRECATED"]
            beast.bindirs = []
            beast.libdirs = []
