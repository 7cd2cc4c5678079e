// The I/O-free parts of the conversation (conversation.hpp): answers, capabilities, progress tokens.
#include "mcp_recovery/beast/conversation.hpp"

#include "catch.hpp"

#include <stdexcept>
#include <string>

namespace mb = mcp_recovery::beast;
using mb::detail::answer_with;
using mb::detail::capabilities_for_handlers;
using mb::detail::progress_for;
using mb::detail::reply_body;
using mb::detail::with_progress_token;

TEST_CASE("answers to server requests keep the id as sent and default to ping {} and -32601", "[conversation]") {
    mb::server_request_handlers none;
    mb::server_request ping{"ping", "", "0"};
    CHECK(reply_body(ping.id, answer_with(none, ping)) == R"({"jsonrpc":"2.0","id":0,"result":{}})");
    mb::server_request other{"sampling/createMessage", "{}", R"("abc")"};
    CHECK(reply_body(other.id, answer_with(none, other)) ==
          R"({"jsonrpc":"2.0","id":"abc","error":{"code":-32601,"message":"Method not found: sampling/createMessage"}})");
    mb::server_request_handlers h;
    h["roots/list"] = [](const mb::server_request&) -> mb::server_reply { throw std::runtime_error("disk \"gone\""); };
    mb::server_request roots{"roots/list", "", "7"};
    CHECK(reply_body(roots.id, answer_with(h, roots)) ==
          R"({"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"the client's handler failed: disk \"gone\""}})");
    // a handler's result that is not JSON is never sent as it is
    h["roots/list"] = [](const mb::server_request&) { return mb::server_reply::ok("{not json"); };
    CHECK(reply_body(roots.id, answer_with(h, roots)) == R"({"jsonrpc":"2.0","id":7,"result":{}})");
}

TEST_CASE("capabilities follow the handlers, the application's own members kept", "[conversation]") {
    mb::server_request_handlers h;
    auto any = [](const mb::server_request&) { return mb::server_reply::ok(); };
    CHECK(capabilities_for_handlers("{}", h) == "{}");
    h["elicitation/create"] = any;
    CHECK(capabilities_for_handlers("{}", h) == R"({"elicitation":{}})");
    h["roots/list"] = any;
    h["ping"] = any;  // no capability
    CHECK(capabilities_for_handlers(R"({"roots":{"listChanged":true}})", h) ==
          R"({"roots":{"listChanged":true},"elicitation":{}})");
    h["sampling/createMessage"] = any;
    CHECK(capabilities_for_handlers(" { } ", h) == R"({ "elicitation":{},"roots":{},"sampling":{}})");
}

TEST_CASE("a progress token is added to params, or the params' own is followed", "[conversation]") {
    std::string token;
    CHECK(with_progress_token("", 5, token) == R"({"_meta":{"progressToken":5}})");
    CHECK(token == "5");
    CHECK(with_progress_token(R"({"name":"t"})", 6, token) == R"({"_meta":{"progressToken":6},"name":"t"})");
    CHECK(with_progress_token("{}", 7, token) == R"({"_meta":{"progressToken":7}})");
    CHECK(with_progress_token(R"({"_meta":{"progressToken":"mine"},"x":1})", 8, token) ==
          R"({"_meta":{"progressToken":"mine"},"x":1})");
    CHECK(token == R"("mine")");
    auto u = progress_for(R"({"progressToken":"mine","progress":2.5,"total":10,"message":"half"})", token);
    REQUIRE(u);
    CHECK(u->progress == 2.5);
    CHECK(u->total == 10);
    CHECK(u->message == "half");
    CHECK_FALSE(progress_for(R"({"progressToken":"other","progress":1})", token));
    CHECK_FALSE(progress_for(R"({"progressToken":"mine"})", token));
    CHECK_FALSE(progress_for(R"({"progressToken":"mine","progress":"x"})", token));
}
