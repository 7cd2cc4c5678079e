// https: certificate and host name verification are on by default and refuse what they should,
// with a clear error and delivery not_sent; a trusted certificate for the right name works.
// Certificates are made for each run with the openssl command (package openssl).
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "catch.hpp"
#include "raw_http_server.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace mcp_recovery_tests;
using namespace std::chrono_literals;

namespace {

struct certificate {
    std::string cert, key;
};

/// The certificates' temporary folders, removed when the program ends.
struct temporary_folders {
    std::vector<std::filesystem::path> paths;
    ~temporary_folders() {
        for (const auto& p : paths) {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    }
};

/// A self-signed certificate for `name` (subjectAltName DNS:name), in a fresh temporary folder.
certificate make_certificate(const std::string& name) {
    static int counter = 0;
    static temporary_folders folders;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("mcp-recovery-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir);
    folders.paths.push_back(dir);
    certificate c{(dir / "cert.pem").string(), (dir / "key.pem").string()};
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                            " -addext subjectAltName=DNS:" + name + " -keyout " + c.key + " -out " + c.cert +
                            " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return c;
}

boost::asio::ssl::context server_context(const certificate& c) {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
    ctx.use_certificate_chain_file(c.cert);
    ctx.use_private_key_file(c.key, boost::asio::ssl::context::pem);
    return ctx;
}

raw_http_server::script mcp_script() {
    return [](const std::string& req) -> raw_answer {
        if (is_method(req, "initialize")) return {initialize_answer(req, "tls-session"), false, true};
        if (is_method(req, "notifications/initialized")) return {http_response(202, "", ""), false, true};
        return {http_response(200, "application/json",
                              R"({"jsonrpc":"2.0","id":)" + std::to_string(request_id(req)) + R"(,"result":{"secure":true}})"),
                false, true};
    };
}

mb::transport_options options_for(std::uint16_t port, const std::string& host = "localhost") {
    mb::transport_options o;
    o.url = "https://" + host + ":" + std::to_string(port) + "/mcp";
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    return o;
}

}  // namespace

TEST_CASE("https with a trusted certificate for the right host name works", "[tls]") {
    const certificate c = make_certificate("localhost");
    auto ctx = server_context(c);
    raw_http_server server(mcp_script(), ctx);
    auto o = options_for(server.port());
    o.tls_ca_file = c.cert;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
    CHECK(t.session_id() == "tls-session");
    auto r = t.send({"tools/list", "{}"});
    REQUIRE(r);
    CHECK(r->result() == R"({"secure":true})");
}

TEST_CASE("an untrusted certificate is refused by default", "[tls]") {
    const certificate c = make_certificate("localhost");
    auto ctx = server_context(c);
    raw_http_server server(mcp_script(), ctx);
    mb::streamable_http_transport t(options_for(server.port()));  // no CA file: the system's CAs only
    auto r = t.connect();
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::tls_failed);
    CHECK(r.error().delivered == delivery::not_sent);
    CHECK(server.requests() == 0);  // nothing was sent to it
}

TEST_CASE("a trusted certificate for another host name is refused", "[tls]") {
    const certificate c = make_certificate("other.example");
    auto ctx = server_context(c);
    raw_http_server server(mcp_script(), ctx);
    auto o = options_for(server.port());
    o.tls_ca_file = c.cert;
    mb::streamable_http_transport t(o);
    auto r = t.connect();
    REQUIRE_FALSE(r);
    CHECK(r.error().transport_error == transport_errc::tls_failed);
    CHECK(server.requests() == 0);
}

TEST_CASE("verification can be switched off explicitly", "[tls]") {
    const certificate c = make_certificate("other.example");
    auto ctx = server_context(c);
    raw_http_server server(mcp_script(), ctx);
    auto o = options_for(server.port());
    o.tls_verify = false;
    mb::streamable_http_transport t(o);
    REQUIRE(t.connect());
}

TEST_CASE("plain http to a TLS server fails cleanly, without a hang", "[tls]") {
    const certificate c = make_certificate("localhost");
    auto ctx = server_context(c);
    raw_http_server server(mcp_script(), ctx);
    mb::transport_options o;
    o.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/mcp";
    o.read_timeout = 3s;
    mb::streamable_http_transport t(o);
    const auto start = std::chrono::steady_clock::now();
    auto r = t.connect();
    REQUIRE_FALSE(r);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
}
