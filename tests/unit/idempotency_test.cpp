#include "mcp_recovery/idempotency.hpp"

#include "catch.hpp"

#include <string>

using namespace mcp_recovery;

namespace {
struct with_data_member {
    std::string method;
};
struct with_member_function {
    std::string_view method() const { return "ping"; }
};
struct opaque_request {
    std::string name;
};
struct custom_request {
    std::string rpc;
};
}  // namespace

template <>
struct mcp_recovery::request_traits<custom_request> {
    static std::string_view method(const custom_request& r) { return r.rpc; }
};

TEST_CASE("methods that are idempotent by nature are recognised", "[idempotency]") {
    for (const char* m : {"initialize", "ping", "tools/list", "resources/list", "resources/templates/list",
                          "prompts/list", "resources/read", "prompts/get", "completion/complete",
                          "logging/setLevel"}) {
        CAPTURE(m);
        CHECK(is_idempotent_method(m));
    }
    for (const char* m : {"tools/call", "sampling/createMessage", "resources/subscribe", "/list", "list", "",
                          "tools/listen", "notifications/initialized"}) {
        CAPTURE(m);
        CHECK_FALSE(is_idempotent_method(m));
    }
}

TEST_CASE("tools/call is idempotent only when the tool's annotations say so", "[idempotency]") {
    const std::optional<std::string_view> call{"tools/call"};
    CHECK_FALSE(resolve_idempotency(idempotency::automatic, call, std::nullopt));
    CHECK_FALSE(resolve_idempotency(idempotency::automatic, call, tool_annotations{}));
    CHECK(resolve_idempotency(idempotency::automatic, call, tool_annotations{true, false}));
    CHECK(resolve_idempotency(idempotency::automatic, call, tool_annotations{false, true}));
}

TEST_CASE("a per-call override wins over the method and the annotations", "[idempotency]") {
    CHECK_FALSE(resolve_idempotency(idempotency::non_idempotent, std::string_view("ping"), std::nullopt));
    CHECK_FALSE(resolve_idempotency(idempotency::non_idempotent, std::string_view("tools/call"),
                                    tool_annotations{true, true}));
    CHECK(resolve_idempotency(idempotency::idempotent, std::string_view("tools/call"), std::nullopt));
    CHECK(resolve_idempotency(idempotency::idempotent, std::nullopt, std::nullopt));
    CHECK_FALSE(resolve_idempotency(idempotency::automatic, std::nullopt, std::nullopt));
}

TEST_CASE("replay is safe when the request did not run or cannot run twice", "[idempotency]") {
    CHECK(is_replay_safe(delivery::not_sent, false));
    CHECK(is_replay_safe(delivery::rejected, false));
    CHECK_FALSE(is_replay_safe(delivery::unknown, false));
    CHECK(is_replay_safe(delivery::unknown, true));
}

TEST_CASE("the request's method is found through request_traits", "[idempotency]") {
    CHECK(method_of(with_data_member{"tools/list"}) == std::optional<std::string_view>("tools/list"));
    CHECK(method_of(with_member_function{}) == std::optional<std::string_view>("ping"));
    CHECK(method_of(custom_request{"prompts/get"}) == std::optional<std::string_view>("prompts/get"));
    CHECK_FALSE(method_of(opaque_request{"x"}).has_value());
}
