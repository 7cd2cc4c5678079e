// transport_options::pipeline_initialized with the synchronous client (the cases are shared with
// the awaitable one: pipelined_cases.hpp).
#include <utility>

#include "mcp_recovery/beast/streamable_http_transport.hpp"
#include "mcp_recovery/recovering_client.hpp"

#include "pipelined_cases.hpp"

#include <atomic>
#include <thread>
#include <vector>

namespace {

namespace mb = mcp_recovery::beast;

class sync_driver {
public:
    explicit sync_driver(const mb::transport_options& o) : client_(std::in_place, o) {}
    bool connect() { return static_cast<bool>(client_.transport().connect()); }
    bool reconnect() { return static_cast<bool>(client_.transport().reconnect()); }
    bool call(const mb::request& r) {
        auto out = client_.try_call(r);
        return out.has_value() && !out->is_error();
    }
    std::size_t storm(std::size_t n, const mb::request& r) {
        std::atomic<std::size_t> ok{0};
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < n; ++i)
            threads.emplace_back([&] {
                if (call(r)) ok.fetch_add(1);
            });
        for (auto& t : threads) t.join();
        return ok.load();
    }
    bool notify(std::string_view method) { return static_cast<bool>(client_.transport().notify(method)); }
    mb::conversation_stats stats() const { return client_.transport().conversation(); }

private:
    mcp_recovery::recovering_client<mb::streamable_http_transport> client_;
};

namespace cases = mcp_recovery_tests::pipelined;

}  // namespace

TEST_CASE("sync: a recovery pipelines notifications/initialized with the replay, in order",
          "[pipelined][lifecycle]") {
    cases::recovery_keeps_the_order<sync_driver>(true);
}

TEST_CASE("sync: without pipelining, the same recovery in four round trips", "[pipelined][lifecycle]") {
    cases::recovery_keeps_the_order<sync_driver>(false);
}

TEST_CASE("sync: 16 threads on an expired session send one notification, carried by one of them",
          "[pipelined][lifecycle]") {
    cases::storm_sends_one_notification<sync_driver>(16);
}

TEST_CASE("sync: Connection: close after the notification sends the request again, alone", "[pipelined][lifecycle]") {
    cases::connection_close_after_the_notification_resends_the_request<sync_driver>();
}

TEST_CASE("sync: an application notification carries the owed one", "[pipelined][lifecycle]") {
    cases::a_notification_carries_it_too<sync_driver>();
}

TEST_CASE("sync: hostile answers to the carried notification", "[pipelined][hostile]") {
    cases::hostile_answers_to_the_notification<sync_driver>();
}
