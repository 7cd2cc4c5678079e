// The tool catalogue (tools/list -> annotations -> call_options), tool names of requests and tool
// errors (isError), on the shapes real servers send: server-everything 2026.8.31 and the
// TypeScript SDK 1.32.2 (tests/interop/ts_sdk_server.mjs), captured with curl.
#include <mcp_recovery/beast/tools.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mr = mcp_recovery;
namespace mb = mcp_recovery::beast;
using namespace std::string_literals;

namespace {

// As beast::request (messages.hpp / transport_base.hpp), without its Boost-using neighbours.
struct request {
    std::string method;
    std::string params;
};

// A request whose params come from a member function.
struct request_with_accessors {
    std::string m;
    std::string p;
    std::string_view method() const { return m; }
    std::string_view params() const { return p; }
};

// As beast::response: the message and result().
struct response {
    std::string message;
    std::string_view result() const {
        auto r = mb::find_member(message, "result");
        return r ? *r : std::string_view{};
    }
};

// server-everything 2026.8.31, `tools/list` (protocol 2025-06-18): the whole JSON-RPC message as it
// arrived in the SSE `data:` line, four of its fourteen tools kept verbatim.
const std::string everything_tools_list =
    R"({"result":{"tools":[)"
    R"({"name":"echo","title":"Echo Tool","description":"Echoes back the input string","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"message":{"type":"string","description":"Message to echo"}},"required":["message"]},"annotations":{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false},"execution":{"taskSupport":"forbidden"}},)"
    R"({"name":"gzip-file-as-resource","title":"GZip File as Resource Tool","description":"Compresses a single file using gzip compression. Depending upon the selected output type, returns either the compressed data as a gzipped resource or a resource link, allowing it to be downloaded in a subsequent request during the current session.","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"name":{"default":"README.md.gz","type":"string","description":"Name of the output file"},"data":{"default":"https://raw.githubusercontent.com/modelcontextprotocol/servers/refs/heads/main/README.md","type":"string","format":"uri","description":"URL or data URI of the file content to compress"},"outputType":{"default":"resourceLink","description":"How the resulting gzipped file should be returned. 'resourceLink' returns a link to a resource that can be read later, 'resource' returns a full resource object.","type":"string","enum":["resourceLink","resource"]}}},"annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":true,"openWorldHint":true},"execution":{"taskSupport":"forbidden"}},)"
    R"({"name":"toggle-simulated-logging","title":"Toggle Simulated Logging","description":"Toggles simulated, random-leveled logging on or off.","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{}},"annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false},"execution":{"taskSupport":"forbidden"}},)"
    R"j({"name":"simulate-research-query","title":"Simulate Research Query","description":"Simulates a deep research operation that gathers, analyzes, and synthesizes information. Demonstrates MCP task-based operations with progress through multiple stages. If 'ambiguous' is true and client supports elicitation, sends an elicitation request for clarification.","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"topic":{"type":"string","description":"The research topic to investigate"},"ambiguous":{"default":false,"description":"Simulate an ambiguous query that requires clarification (triggers input_required status)","type":"boolean"}},"required":["topic"]},"annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false},"execution":{"taskSupport":"required"}})j"
    R"(]},"jsonrpc":"2.0","id":2})";

// The TypeScript SDK's McpServer (ts_sdk_server.mjs, --json): the result only; `count` without
// destructiveHint / openWorldHint; plus a tool registered without annotations (no member at all).
const std::string ts_sdk_tools_result =
    R"({"tools":[)"
    R"({"name":"echo","description":"Returns its text argument.","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"text":{"type":"string"}},"required":["text"]},"annotations":{"readOnlyHint":true,"idempotentHint":true},"execution":{"taskSupport":"forbidden"}},)"
    R"({"name":"count","description":"Increments the execution counter of `key` and returns the new value. Not idempotent.","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"key":{"type":"string"}},"required":["key"]},"annotations":{"readOnlyHint":false,"idempotentHint":false,"destructiveHint":false},"execution":{"taskSupport":"forbidden"}},)"
    R"({"name":"plain","inputSchema":{"type":"object","properties":{}},"execution":{"taskSupport":"forbidden"}})"
    R"(]})";

// Answers to tools/call, as server-everything sent them.
const std::string everything_echo_ok = R"({"result":{"content":[{"type":"text","text":"Echo: hi"}]},"jsonrpc":"2.0","id":4})";
const std::string everything_echo_invalid =
    R"({"result":{"content":[{"type":"text","text":"MCP error -32602: Input validation error: Invalid arguments for tool echo: Invalid input: expected string, received undefined at message"}],"isError":true},"jsonrpc":"2.0","id":3})";
const std::string ts_sdk_unknown_tool =
    R"({"result":{"content":[{"type":"text","text":"MCP error -32602: Tool nope not found"}],"isError":true},"jsonrpc":"2.0","id":3})";

mb::tool_catalogue catalogue_of(std::string_view page) {
    mb::tool_catalogue c;
    auto added = c.add_page(page);
    INFO((added ? std::string() : added.error().message()));
    REQUIRE(added);
    return c;
}

mb::tools_error page_error(std::string_view page, mb::tool_catalogue_limits limits = {}) {
    mb::tool_catalogue c(limits);
    auto added = c.add_page(page);
    REQUIRE_FALSE(added);
    CHECK(c.empty());  // a refused page adds nothing
    return added.error();
}

bool idempotent_call(const mr::call_options& o, const request& r) {
    return mr::resolve_idempotency(o.idempotency, mr::method_of(r), o.annotations);
}

std::string tools_of(std::size_t n, std::size_t first = 0) {
    std::string s = R"({"tools":[)";
    for (std::size_t i = first; i < first + n; ++i) {
        if (i != first) s += ',';
        s += R"({"name":"t)" + std::to_string(i) + R"(","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}})";
    }
    return s + "]}";
}

}  // namespace

TEST_CASE("server-everything's tools/list: each tool's four hints", "[beast][tools]") {
    const auto c = catalogue_of(everything_tools_list);
    REQUIRE(c.size() == 4);

    const mr::tool_annotations* echo = c.find("echo");
    REQUIRE(echo);
    CHECK(echo->read_only_hint);
    CHECK(echo->idempotent_hint);
    const mb::tool_info* echo_info = c.info("echo");
    REQUIRE(echo_info);
    CHECK(echo_info->has_annotations);
    CHECK_FALSE(echo_info->destructive_hint);
    CHECK_FALSE(echo_info->open_world_hint);

    const mb::tool_info* gzip = c.info("gzip-file-as-resource");  // its inputSchema has a property "name"
    REQUIRE(gzip);
    CHECK_FALSE(gzip->annotations.read_only_hint);
    CHECK(gzip->annotations.idempotent_hint);
    CHECK(gzip->open_world_hint);
    CHECK(c.find("README.md.gz") == nullptr);  // nested "name"s are not tools

    const mr::tool_annotations* toggle = c.find("toggle-simulated-logging");
    REQUIRE(toggle);
    CHECK_FALSE(toggle->read_only_hint);
    CHECK_FALSE(toggle->idempotent_hint);
    CHECK(c.find("nope") == nullptr);
}

TEST_CASE("the TypeScript SDK's tools/list result: absent hints take the cautious defaults", "[beast][tools]") {
    const auto c = catalogue_of(ts_sdk_tools_result);
    REQUIRE(c.size() == 3);
    const mb::tool_info* count = c.info("count");
    REQUIRE(count);
    CHECK_FALSE(count->annotations.read_only_hint);
    CHECK_FALSE(count->annotations.idempotent_hint);
    CHECK_FALSE(count->destructive_hint);  // given
    CHECK(count->open_world_hint);         // absent: true, as the spec's default

    const mb::tool_info* plain = c.info("plain");  // no annotations at all
    REQUIRE(plain);
    CHECK_FALSE(plain->has_annotations);
    CHECK_FALSE(plain->annotations.read_only_hint);
    CHECK_FALSE(plain->annotations.idempotent_hint);
    CHECK(plain->destructive_hint);
    CHECK(plain->open_world_hint);
}

TEST_CASE("options for a tools/call: annotated when known; unknown tools are not idempotent", "[beast][tools]") {
    const auto c = catalogue_of(everything_tools_list);
    const request echo{"tools/call", R"({"name":"echo","arguments":{"message":"hi"}})"};
    const request toggle{"tools/call", R"({"name":"toggle-simulated-logging","arguments":{}})"};
    const request unknown{"tools/call", R"({"name":"rm-rf","arguments":{}})"};
    const request list{"tools/list", ""};

    mr::call_options base;
    base.timeout = std::chrono::seconds(7);
    const mr::call_options for_echo = c.options_for(echo, base);
    REQUIRE(for_echo.annotations);
    CHECK(for_echo.annotations->read_only_hint);
    CHECK(for_echo.timeout == base.timeout);  // the rest of base is kept
    CHECK(idempotent_call(for_echo, echo));

    const mr::call_options for_toggle = c.options_for(toggle);
    REQUIRE(for_toggle.annotations);
    CHECK_FALSE(idempotent_call(for_toggle, toggle));

    const mr::call_options for_unknown = c.options_for(unknown);
    CHECK_FALSE(for_unknown.annotations);
    CHECK_FALSE(idempotent_call(for_unknown, unknown));  // no annotations: a tools/call is not idempotent

    CHECK_FALSE(c.options_for(list).annotations);  // not a tools/call
    CHECK(idempotent_call(c.options_for(list), list));

    // By name, and in place; annotations the caller set win.
    CHECK(c.options_for("echo").annotations);
    CHECK_FALSE(c.options_for("rm-rf").annotations);
    mr::call_options mine;
    mine.annotations = mr::tool_annotations{};  // "I say: not idempotent"
    c.annotate(mine, echo);
    CHECK_FALSE(mine.annotations->read_only_hint);
    mr::call_options fresh;
    CHECK(c.annotate(fresh, echo).annotations->idempotent_hint);
}

TEST_CASE("tool_name_of: params.name of a tools/call, and nothing else", "[beast][tools]") {
    CHECK(mb::tool_name_of(request{"tools/call", R"({"name":"echo","arguments":{"message":"hi"}})"}) == "echo"s);
    CHECK(mb::tool_name_of(request{"tools/call", " {\"arguments\":{\"name\":\"x\"}, \"n\\u0061me\" : \"get-sum\"} "}) ==
          "get-sum"s);  // escaped key, whitespace, another "name" nested in arguments
    CHECK(mb::tool_name_of(request_with_accessors{"tools/call", R"({"name":"echo"})"}) == "echo"s);
    CHECK_FALSE(mb::tool_name_of(request{"tools/list", R"({"name":"echo"})"}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", R"({"arguments":{"name":"echo"}})"}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", R"({"name":42})"}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", R"({"name":"echo")"}));  // truncated
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", R"({"name":"echo"} x)"}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", ""}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", R"(["echo"])"}));
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", "{\"name\":\"ech\xff\"}"}));  // invalid UTF-8
    // Arguments nested deeper than the look-up's bound: no name, so no annotations (cautious).
    const std::string deep = R"({"name":"echo","arguments":)" + std::string(100, '[') + std::string(100, ']') + "}";
    CHECK_FALSE(mb::tool_name_of(request{"tools/call", deep}));
}

TEST_CASE("is_tool_error: result.isError, not a JSON-RPC error", "[beast][tools]") {
    CHECK(mb::is_tool_error(everything_echo_invalid));
    CHECK(mb::is_tool_error(ts_sdk_unknown_tool));
    CHECK_FALSE(mb::is_tool_error(everything_echo_ok));
    CHECK(mb::is_tool_error(R"({"content":[],"isError":true})"));  // the result alone
    CHECK_FALSE(mb::is_tool_error(R"({"content":[],"isError":false})"));
    CHECK_FALSE(mb::is_tool_error(R"({"content":[],"isError":"true"})"));
    CHECK_FALSE(mb::is_tool_error(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unknown tool"}})"));
    CHECK_FALSE(mb::is_tool_error(R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"isError":true}]}})"));  // nested
    CHECK_FALSE(mb::is_tool_error(R"({"result":{"isError":true},"jsonrpc":)"));  // malformed
    CHECK_FALSE(mb::is_tool_error(""));

    CHECK(mb::is_tool_error(response{everything_echo_invalid}));
    CHECK_FALSE(mb::is_tool_error(response{everything_echo_ok}));
    CHECK_FALSE(mb::is_tool_error(response{R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}})"}));
}

TEST_CASE("tool_result_text: the text content of a result", "[beast][tools]") {
    CHECK(mb::tool_result_text(everything_echo_ok) == "Echo: hi");
    CHECK(mb::tool_result_text(response{everything_echo_ok}) == "Echo: hi");
    CHECK(mb::tool_result_text(ts_sdk_unknown_tool) == "MCP error -32602: Tool nope not found");
    CHECK(mb::tool_result_text(R"({"content":[{"type":"text","text":"a"},{"type":"image","data":"AA==","mimeType":"image/png"},)"
                               R"({"type":"text","text":"b\nc"}]})") == "a\nb\nc");
    CHECK(mb::tool_result_text(R"({"content":[]})").empty());
    CHECK(mb::tool_result_text(R"({"content":"text"})").empty());
    CHECK(mb::tool_result_text(R"({"content":[{"type":"text","text":"a"})").empty());  // truncated
    CHECK(mb::tool_result_text(response{R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}})"}).empty());
}

TEST_CASE("pages: nextCursor, added one by one, duplicates kept cautious", "[beast][tools]") {
    mb::tool_catalogue c;
    auto first = c.add_page(R"({"tools":[{"name":"a","annotations":{"readOnlyHint":true}}],"nextCursor":"page\u0032"})");
    REQUIRE(first);
    CHECK(first->tools == 1);
    CHECK(first->next_cursor == "page2"s);
    CHECK(mb::tools_list_params(first->next_cursor) == R"({"cursor":"page2"})");
    CHECK(mb::tools_list_params().empty());
    CHECK(mb::tools_list_params("a\"b"s) == R"({"cursor":"a\"b"})");

    auto second = c.add_page(R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"b"},{"name":"a","annotations":{"readOnlyHint":false,"idempotentHint":true}}],"nextCursor":null}})");
    REQUIRE(second);
    CHECK(second->tools == 2);
    CHECK_FALSE(second->next_cursor);
    CHECK(c.size() == 2);
    const mr::tool_annotations* a = c.find("a");
    REQUIRE(a);
    CHECK_FALSE(a->read_only_hint);  // read-only on one page only: not read-only
    CHECK_FALSE(a->idempotent_hint);

    auto empty = c.add_page(R"({"tools":[]})");
    REQUIRE(empty);
    CHECK(empty->tools == 0);
    c.clear();
    CHECK(c.empty());
}

TEST_CASE("hints that are not booleans count as absent", "[beast][tools]") {
    const auto c = catalogue_of(R"({"tools":[{"name":"s","annotations":{"readOnlyHint":"true","idempotentHint":1,"destructiveHint":null}},)"
                                R"({"name":"arr","annotations":[true]}]})");
    const mb::tool_info* s = c.info("s");
    REQUIRE(s);
    CHECK_FALSE(s->annotations.read_only_hint);
    CHECK_FALSE(s->annotations.idempotent_hint);
    CHECK(s->destructive_hint);
    const mb::tool_info* arr = c.info("arr");
    REQUIRE(arr);
    CHECK_FALSE(arr->has_annotations);
}

TEST_CASE("malformed tools/list pages: a clear error, nothing added", "[beast][tools]") {
    using mb::tools_errc;
    struct bad_case {
        std::string page;
        tools_errc expected;
        std::string_view says;
    };
    const std::vector<bad_case> cases{
        {"", tools_errc::malformed_json, "offset"},
        {R"({"tools":[{"name":"a"}])", tools_errc::malformed_json, "offset"},  // truncated
        {R"({"tools":[]} {})", tools_errc::malformed_json, "offset"},
        {R"({"tools":[{"name":"a",}]})", tools_errc::malformed_json, "offset"},
        {"{\"tools\":[{\"name\":\"\xc3\x28\"}]}", tools_errc::malformed_json, "UTF-8"},
        {R"([{"name":"a"}])", tools_errc::malformed_json, "not a JSON object"},
        {R"("tools")", tools_errc::malformed_json, "not a JSON object"},
        {R"({"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}})", tools_errc::error_response,
         "-32601, \"Method not found\""},
        {R"({"jsonrpc":"2.0","id":2,"result":[]})", tools_errc::not_tools_list, "no result object"},
        {R"({"content":[]})", tools_errc::not_tools_list, "\"tools\""},
        {R"({"tools":{"name":"a"}})", tools_errc::not_tools_list, "\"tools\""},
        {R"({"tools":[],"nextCursor":2})", tools_errc::not_tools_list, "nextCursor"},
        {R"({"tools":[{"name":"a"},"b"]})", tools_errc::bad_tool, "tools[1] is not an object"},
        {R"({"tools":[{"title":"a"}]})", tools_errc::bad_tool, "tools[0] has no string \"name\""},
        {R"({"tools":[{"name":7}]})", tools_errc::bad_tool, "tools[0] has no string \"name\""},
        {R"({"tools":[{"name":""}]})", tools_errc::bad_tool, "empty"},
    };
    for (const auto& bad : cases) {
        INFO(bad.page);
        const mb::tools_error e = page_error(bad.page);
        CHECK(e.code == bad.expected);
        CHECK(e.message().find(std::string(bad.says)) != std::string::npos);
        CHECK_FALSE(e.call);
    }
    CHECK(mb::tools_error{mb::tools_errc::bad_tool, "x", std::nullopt}.message() == "tools/list holds an invalid tool: x");
}

TEST_CASE("hostile sizes: page, depth, names, cursors and tool counts are bounded", "[beast][tools]") {
    mb::tool_catalogue_limits small;
    small.max_page_size = 64;
    const mb::tools_error large = page_error(std::string(65, ' '), small);
    CHECK(large.code == mb::tools_errc::too_large);
    CHECK(large.detail == "65 bytes, limit 64");

    // Nesting a million levels deep: refused by the depth bound, no recursion.
    const std::string deep = R"({"tools":[{"name":"a","x":)" + std::string(1000000, '[') + std::string(1000000, ']') + "}]}";
    CHECK(page_error(deep).code == mb::tools_errc::malformed_json);

    mb::tool_catalogue_limits names;
    names.max_name_size = 8;
    CHECK(page_error(R"({"tools":[{"name":"123456789"}]})", names).code == mb::tools_errc::bad_tool);
    CHECK(catalogue_of(R"({"tools":[{"name":"12345678"}]})").size() == 1);

    mb::tool_catalogue_limits cursors;
    cursors.max_cursor_size = 4;
    CHECK(page_error(R"({"tools":[],"nextCursor":"12345"})", cursors).code == mb::tools_errc::not_tools_list);

    mb::tool_catalogue_limits three;
    three.max_tools = 3;
    CHECK(page_error(tools_of(4), three).code == mb::tools_errc::too_many_tools);
    mb::tool_catalogue c(three);
    REQUIRE(c.add_page(tools_of(2)));
    auto over = c.add_page(tools_of(2, 2));  // 4 in all
    REQUIRE_FALSE(over);
    CHECK(over.error().code == mb::tools_errc::too_many_tools);
    CHECK(c.size() == 2);                  // unchanged
    CHECK(c.add_page(tools_of(2, 1)));     // t1 again and t2: 3 in all
    CHECK(c.size() == 3);

    // The default bounds take a large real listing: 10000 tools, about 1 MB.
    const std::string many = tools_of(10000);
    const auto big = catalogue_of(many);
    CHECK(big.size() == 10000);
    CHECK(big.find("t9999"));
    CHECK(page_error(tools_of(10001)).code == mb::tools_errc::too_many_tools);
}

namespace {

// A client whose tools/list answers come from a script of pages (or a failure).
struct paged_client {
    using request_type = request;
    std::vector<std::string> pages;  // message per call; "" = the call fails
    std::vector<std::string> params_seen;

    mr::outcome<response, mr::call_error> try_call(const request& r, const mr::call_options&) {
        params_seen.push_back(r.params);
        const std::size_t i = params_seen.size() - 1;
        if (r.method != "tools/list" || i >= pages.size() || pages[i].empty()) {
            mr::call_error e;
            e.code = mr::errc::reconnect_failed;
            mr::failure f;
            f.message = "Bad Request: No valid session ID provided";
            e.last_failure = f;
            return e;
        }
        return response{pages[i]};
    }
};

std::string message_of(const std::string& result) { return R"({"jsonrpc":"2.0","id":1,"result":)" + result + "}"; }

}  // namespace

TEST_CASE("list_tools follows nextCursor through a client", "[beast][tools]") {
    paged_client client;
    client.pages = {message_of(R"({"tools":[{"name":"a","annotations":{"readOnlyHint":true}}],"nextCursor":"2"})"),
                    message_of(R"({"tools":[{"name":"b"}]})")};
    auto tools = mb::list_tools(client);
    REQUIRE(tools);
    CHECK(tools->size() == 2);
    CHECK(tools->find("a")->read_only_hint);
    CHECK(client.params_seen == std::vector<std::string>{"", R"({"cursor":"2"})"});

    paged_client failing;
    failing.pages = {message_of(R"({"tools":[],"nextCursor":"2"})"), ""};
    auto failed = mb::list_tools(failing);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == mr::errc::reconnect_failed);
    REQUIRE(failed.error().call);
    CHECK(failed.error().message().find("No valid session ID provided") != std::string::npos);

    paged_client looping;
    looping.pages.assign(5, message_of(R"({"tools":[],"nextCursor":"again"})"));
    auto endless = mb::list_tools(looping, {}, {}, 5);
    REQUIRE_FALSE(endless);
    CHECK(endless.error().code == mb::tools_errc::too_many_pages);

    paged_client refusing;
    refusing.pages = {R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}})"};
    auto refused = mb::list_tools(refusing);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == mb::tools_errc::error_response);
}
