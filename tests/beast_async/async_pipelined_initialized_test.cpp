// transport_options::pipeline_initialized with the awaitable client: the same cases as the
// synchronous client's (tests/beast_net/pipelined_cases.hpp).
#include <utility>

#include "mcp_recovery/beast/async_client.hpp"
#include "mcp_recovery/beast/async_streamable_http_transport.hpp"

#include "../beast_net/pipelined_cases.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <string>

namespace {

namespace mb = mcp_recovery::beast;
namespace net = boost::asio;

class async_driver {
public:
    explicit async_driver(const mb::transport_options& o)
        : client_(ioc_.get_executor(), std::in_place, ioc_.get_executor(), o) {}
    bool connect() {
        bool ok = false;
        net::co_spawn(ioc_, [&]() -> net::awaitable<void> { ok = static_cast<bool>(co_await client_.transport().async_connect()); },
                      net::detached);
        run();
        return ok;
    }
    bool reconnect() {
        bool ok = false;
        net::co_spawn(ioc_, [&]() -> net::awaitable<void> { ok = static_cast<bool>(co_await client_.transport().async_reconnect()); },
                      net::detached);
        run();
        return ok;
    }
    bool call(const mb::request& r) { return storm(1, r) == 1; }
    std::size_t storm(std::size_t n, const mb::request& r) {
        std::size_t ok = 0;
        for (std::size_t i = 0; i < n; ++i)
            net::co_spawn(ioc_, [&]() -> net::awaitable<void> {
                auto out = co_await client_.call(r);
                if (out.has_value() && !out->is_error()) ++ok;
            }, net::detached);
        run();
        return ok;
    }
    bool notify(std::string_view method) {
        bool ok = false;
        const std::string m(method);
        net::co_spawn(ioc_, [&]() -> net::awaitable<void> { ok = static_cast<bool>(co_await client_.transport().async_notify(m)); },
                      net::detached);
        run();
        return ok;
    }
    mb::conversation_stats stats() const { return client_.transport().conversation(); }

private:
    void run() {
        ioc_.restart();
        ioc_.run();
    }
    net::io_context ioc_;
    mb::async_recovering_client<mb::async_streamable_http_transport> client_;
};

namespace cases = mcp_recovery_tests::pipelined;

}  // namespace

TEST_CASE("async: a recovery pipelines notifications/initialized with the replay, in order",
          "[async][pipelined][lifecycle]") {
    cases::recovery_keeps_the_order<async_driver>(true);
}

TEST_CASE("async: without pipelining, the same recovery in four round trips", "[async][pipelined][lifecycle]") {
    cases::recovery_keeps_the_order<async_driver>(false);
}

TEST_CASE("async: 64 coroutines on an expired session send one notification, carried by one of them",
          "[async][pipelined][lifecycle]") {
    cases::storm_sends_one_notification<async_driver>(64);
}

TEST_CASE("async: Connection: close after the notification sends the request again, alone",
          "[async][pipelined][lifecycle]") {
    cases::connection_close_after_the_notification_resends_the_request<async_driver>();
}

TEST_CASE("async: an application notification carries the owed one", "[async][pipelined][lifecycle]") {
    cases::a_notification_carries_it_too<async_driver>();
}

TEST_CASE("async: hostile answers to the carried notification", "[async][pipelined][hostile]") {
    cases::hostile_answers_to_the_notification<async_driver>();
}
