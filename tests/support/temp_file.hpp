// Test support: a temporary file name, removed at the end (logs and executions files that a test
// hands a server process).
#ifndef MCP_RECOVERY_TESTS_TEMP_FILE_HPP
#define MCP_RECOVERY_TESTS_TEMP_FILE_HPP

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace mcp_recovery_tests {

/// A file name in the temp directory, removed at the end.
class temp_file {
public:
    explicit temp_file(const std::string& stem) {
        static std::atomic<int> counter{0};
        path_ = (std::filesystem::temp_directory_path() /
                 (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".log"))
                    .string();
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    const std::string& path() const noexcept { return path_; }

    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::ifstream in(path_);
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }

private:
    std::string path_;
};

}  // namespace mcp_recovery_tests

#endif
