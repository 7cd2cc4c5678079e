// Hostile HTTP servers (issue 11) against the synchronous transport: the cases of
// tests/support/hostile_cases.hpp, which tests/beast_async/async_hostile_server_test.cpp runs
// against the awaitable transport.
#include "mcp_recovery/beast/streamable_http_transport.hpp"

#include "mcp_recovery/recovering_client.hpp"

#include "catch.hpp"
#include "hostile_cases.hpp"

using namespace mcp_recovery;
namespace mb = mcp_recovery::beast;
namespace hostile = mcp_recovery_tests::hostile;

namespace {

/// The synchronous transport, alone (`send`) and under a recovering client (`call`).
class sync_driver {
public:
    using client_type = recovering_client<mb::streamable_http_transport>;

    explicit sync_driver(mb::transport_options o) : client_(std::in_place, std::move(o)) {}

    outcome<void> connect() { return client_.transport().connect(); }
    outcome<mb::response> send(const mb::request& r, time_point deadline = time_point::max()) {
        return client_.transport().send(r, deadline);
    }
    client_type::result_type call(const mb::request& r, const call_options& o = {}) { return client_.try_call(r, o); }
    mb::http_diagnostics diagnostics() const { return client_.transport().diagnostics(); }
    std::size_t connections_opened() const { return client_.transport().connections_opened(); }

private:
    client_type client_;
};

}  // namespace

TEST_CASE("sync: bytes after a complete response close the connection, never the next answer",
          "[beast][hostile][framing]") {
    hostile::stray_crlf<sync_driver>();
}

TEST_CASE("sync: a Content-Length counted in characters is never read into the next answer",
          "[beast][hostile][framing]") {
    hostile::length_in_characters<sync_driver>();
}

TEST_CASE("sync: an unsolicited second response is never another call's answer", "[beast][hostile][framing]") {
    hostile::unsolicited_response<sync_driver>();
}

TEST_CASE("sync: 1xx interim responses are skipped, bounded", "[beast][hostile][interim]") {
    hostile::interim_responses<sync_driver>();
}

TEST_CASE("sync: a Content-Encoding other than identity is refused by name", "[beast][hostile][encoding]") {
    hostile::content_encoding<sync_driver>();
}

TEST_CASE("sync: response_timeout bounds a response that only trickles", "[beast][hostile][timeout]") {
    hostile::response_timeout<sync_driver>();
}

TEST_CASE("sync: servers that close idle connections cost no non-idempotent call", "[beast][hostile][keep_alive]") {
    hostile::idle_close<sync_driver>();
}
