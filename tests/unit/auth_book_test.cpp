// detail::auth_book: the credential-refresh decisions both clients share (no I/O, no threads).
#include "mcp_recovery/detail/auth_book.hpp"

#include "catch.hpp"

using namespace mcp_recovery;
using mcp_recovery::detail::auth_book;
using turn = auth_book::turn;

namespace {
failure refresh_failed() {
    failure f;
    f.http_status = 503;
    f.message = "token endpoint down";
    f.delivered = delivery::rejected;
    return f;
}
}  // namespace

TEST_CASE("auth_book: one refresh at a time, shared by those rejected with the same credentials", "[auth_book]") {
    auth_book book;
    const std::uint64_t seen = book.epoch();
    CHECK(seen == 0);
    REQUIRE(book.begin(seen) == turn::lead);
    CHECK(book.in_flight());
    // A second caller rejected with the same credentials waits instead of refreshing again.
    REQUIRE(book.begin(seen) == turn::wait);
    const std::uint64_t failures_before = book.failures();
    CHECK_FALSE(book.after_wait(seen, failures_before).has_value());  // woken early: nothing yet

    SECTION("success: the waiter retries with the new credentials, later callers too") {
        book.finish(outcome<void>{});
        CHECK_FALSE(book.in_flight());
        CHECK(book.epoch() == 1);
        const auto shared = book.after_wait(seen, failures_before);
        REQUIRE(shared);
        CHECK(static_cast<bool>(*shared));
        // A caller whose request went out before the refresh finished does not refresh again.
        CHECK(book.begin(seen) == turn::refreshed);
        // One rejected with the new credentials does.
        CHECK(book.begin(book.epoch()) == turn::lead);
    }
    SECTION("failure: the waiter gives up with the refresh's own failure") {
        book.finish(outcome<void>{refresh_failed()});
        CHECK(book.epoch() == 0);
        const auto shared = book.after_wait(seen, failures_before);
        REQUIRE(shared);
        REQUIRE_FALSE(*shared);
        CHECK(shared->error().http_status == 503);
        CHECK(shared->error().message == "token endpoint down");
        // A later caller may try again.
        CHECK(book.begin(seen) == turn::lead);
    }
    SECTION("an exception: nothing to share, the waiter tries itself") {
        book.abandon();
        CHECK_FALSE(book.in_flight());
        CHECK_FALSE(book.after_wait(seen, failures_before).has_value());
        CHECK(book.begin(seen) == turn::lead);
    }
}

TEST_CASE("auth_book: a caller that stops waiting says why", "[auth_book]") {
    const failure f = auth_book::ended_while_waiting(errc::deadline_exceeded);
    CHECK(f.transport_error == errc::deadline_exceeded);
    CHECK(f.delivered == delivery::not_sent);
    CHECK_FALSE(f.message.empty());
}
