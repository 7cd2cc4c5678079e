# Conan 2 recipe of mcp-recovery (header-only, unless separate_compilation). docs/packaging.md
# shows how to use it:
#   conan create . -s compiler.cppstd=17 --build=missing                 # core (std only)
#   conan create . -s compiler.cppstd=17 -o "&:with_beast=True" --build=missing   # + Boost.Beast adapter
#   conan create . -s compiler.cppstd=20 -o "&:with_beast=True" -o "&:separate_compilation=True" --build=missing
#       # + the transports compiled once, component beast_compiled (docs/compile-time.md)
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
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
    # separate_compilation (needs with_beast): the Beast transports compiled once into a static
    # library, the component beast_compiled, whose users get MCP_RECOVERY_SEPARATE_COMPILATION; the
    # package then depends on the settings. The awaitable transport is in it with compiler.cppstd=20.
    options = {"with_beast": [True, False], "separate_compilation": [True, False]}
    # The Beast adapter needs Boost's headers only (Asio, Beast): no Boost library is linked.
    default_options = {"with_beast": False, "separate_compilation": False, "boost/*:header_only": True}
    exports_sources = ("include/*", "adapters/callable/include/*", "adapters/beast/include/*", "LICENSE",
                       "CMakeLists.txt", "cmake/*", "adapters/beast/CMakeLists.txt", "adapters/beast/src/*",
                       "adapters/beast/tools/*")
    no_copy_source = True

    def configure(self):
        if self.options.separate_compilation:
            self.package_type = "static-library"

    def set_version(self):
        # The version of record is the one in project() of CMakeLists.txt.
        if not self.version:
            text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
            self.version = re.search(r"project\(mcp_recovery\s+VERSION\s+([0-9.]+)", text).group(1)

    def layout(self):
        if self.options.separate_compilation:
            cmake_layout(self, src_folder=".")
        else:
            basic_layout(self, src_folder=".")

    def requirements(self):
        if self.options.with_beast:
            # transitive_headers: the adapter's public headers include Boost's.
            self.requires("boost/[>=1.74 <2]", transitive_headers=True)

    def package_id(self):
        # Header-only: one package for every setting and option. That is correct because package()
        # does not depend on with_beast: the option only adds the Boost requirement and the beast
        # component (package_info() runs with the consumer's options). With separate_compilation
        # the package holds a library: the settings and options are its id (the default).
        if not self.info.options.separate_compilation:
            self.info.clear()

    def validate(self):
        check_min_cppstd(self, 17)
        if self.options.separate_compilation and not self.options.with_beast:
            raise ConanInvalidConfiguration("separate_compilation=True needs with_beast=True")

    def generate(self):
        if not self.options.separate_compilation:
            return
        tc = CMakeToolchain(self)
        for option in ("BUILD_TESTS", "BUILD_BENCHMARKS", "BUILD_EXAMPLES", "BUILD_TOOLS", "INSTALL"):
            tc.cache_variables["MCP_RECOVERY_" + option] = False
        tc.cache_variables["MCP_RECOVERY_WITH_BEAST"] = True
        # The project's own standard setting (it sets CMAKE_CXX_STANDARD from it): the package's cppstd.
        cppstd = str(self.settings.get_safe("compiler.cppstd", "17")).replace("gnu", "")
        tc.cache_variables["MCP_RECOVERY_CXX_STANDARD"] = cppstd
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        if not self.options.separate_compilation:
            return
        cmake = CMake(self)
        cmake.configure()
        cmake.build(target="mcp_recovery_beast_compiled")

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        # Core and the std-only callable adapter, plus the Beast adapter's headers, always (see
        # package_id): they are usable only with Boost, i.e. through the beast component.
        for headers in ("include", os.path.join("adapters", "callable", "include"),
                        os.path.join("adapters", "beast", "include")):
            for pattern in ("*.hpp", "*.ipp"):
                copy(self, pattern, os.path.join(self.source_folder, headers),
                     os.path.join(self.package_folder, "include"))
        if self.options.separate_compilation:
            for pattern in ("*libmcp_recovery_beast_compiled.a", "*mcp_recovery_beast_compiled.lib"):
                copy(self, pattern, self.build_folder, os.path.join(self.package_folder, "lib"), keep_path=False)

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

        if self.options.separate_compilation:
            compiled = self.cpp_info.components["beast_compiled"]
            compiled.set_property("cmake_target_name", "mcp_recovery::beast_compiled")
            compiled.requires = ["beast"]
            compiled.libs = ["mcp_recovery_beast_compiled"]
            compiled.defines = ["MCP_RECOVERY_SEPARATE_COMPILATION"]
            compiled.bindirs = []
