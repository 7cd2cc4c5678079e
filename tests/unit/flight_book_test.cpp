// The bookkeeping shared by the synchronous and the asynchronous reconnector: how each way a
// flight can end (detail::flight_end) is recorded.
#include "mcp_recovery/reconnector.hpp"

#include "catch.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

using namespace mcp_recovery;
using namespace std::chrono_literals;
using detail::flight_end;

namespace {

using book_type = detail::flight_book<no_backoff>;

const time_point t0 = time_point{} + 1h;

failure refused() {
    failure f;
    f.transport_error = std::make_error_code(std::errc::connection_refused);
    f.delivered = delivery::not_sent;
    f.method = "initialize";
    return f;
}

}  // namespace

TEST_CASE("flight_book::finish records each way a flight ends", "[reconnector][flight_book]") {
    book_type book;
    book.options.failure_threshold = 2;
    book.options.open_after = 0s;
    book.in_flight = true;

    SECTION("succeeded: the connection is proven, failures forgotten") {
        book.consecutive_failures = 1;
        book.hook_failed_generation = 1;
        const reconnect_outcome r = book.finish(flight_end::succeeded, std::nullopt, t0, 2);
        CHECK(r);
        CHECK_FALSE(book.in_flight);
        CHECK(book.flights_finished == 1);
        CHECK(book.good_flights.load() == 1);
        CHECK(book.consecutive_failures == 0);
        CHECK_FALSE(book.hook_failed_generation);
        CHECK(book.last_flight_succeeded());
        CHECK(book.has_newer_session(2, 1));
    }
    SECTION("failed: the transport's failure is shared, counted and backed off") {
        const reconnect_outcome r = book.finish(flight_end::failed, refused(), t0, 1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->method == "initialize");
        CHECK(book.consecutive_failures == 1);
        CHECK(book.good_flights.load() == 0);
        CHECK_FALSE(book.last_flight_succeeded());
        CHECK_FALSE(book.last_flight_cut_short);
        CHECK_FALSE(book.hook_failed_generation);
        // The second failure in a row opens the circuit (threshold 2, open_after 0).
        book.in_flight = true;
        (void)book.finish(flight_end::failed, refused(), t0, 1);
        CHECK(book.circuit_is_open(t0));
    }
    SECTION("hook_failed: the new session is not usable") {
        failure hook;
        hook.message = "resources/subscribe failed";
        const reconnect_outcome r = book.finish(flight_end::hook_failed, std::optional<failure>(hook), t0, 2);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        REQUIRE(r.error().last_failure);
        CHECK(r.error().last_failure->message == "resources/subscribe failed");
        REQUIRE(book.hook_failed_generation);
        CHECK(*book.hook_failed_generation == 2);
        CHECK_FALSE(book.has_newer_session(2, 1));
        CHECK(book.consecutive_failures == 1);
    }
    SECTION("threw: a failed flight with no failure to share") {
        const reconnect_outcome r = book.finish(flight_end::threw, std::nullopt, t0, 1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::reconnect_failed);
        CHECK_FALSE(r.error().last_failure);
        CHECK(book.consecutive_failures == 1);
        CHECK_FALSE(book.last_flight_succeeded());
    }
    SECTION("cut_short: no verdict on the server") {
        const reconnect_outcome r = book.finish(flight_end::cut_short, refused(), t0, 1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::deadline_exceeded);
        CHECK_FALSE(r.error().last_failure);
        CHECK(book.last_flight_cut_short);
        CHECK_FALSE(book.last_flight_succeeded());
        CHECK(book.consecutive_failures == 0);
        CHECK_FALSE(book.last_flight_error);
        CHECK(book.flights_finished == 1);
        CHECK_FALSE(book.in_flight);
    }
}
