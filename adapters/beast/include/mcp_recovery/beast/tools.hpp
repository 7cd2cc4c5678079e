// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_BEAST_TOOLS_HPP
#define MCP_RECOVERY_BEAST_TOOLS_HPP

/// MCP tools, as replay safety needs them: a catalogue of the tools a server lists (`tools/list`)
/// with their annotations, the `call_options` for a `tools/call` of one of them, the tool name of
/// a request, and tool errors (`isError`). Standard library only (the JSON is read with the
/// bounded reader of `json_lookup.hpp`); the request and response types are taken by their
/// members, so `beast::request` / `beast::response` and look-alikes work.
///
/// Why it matters: a `tools/call` whose connection broke after it was sent is replayed only if it
/// is idempotent, and with `idempotency::automatic` that is decided by the tool's annotations
/// (`readOnlyHint` or `idempotentHint` true, see `resolve_idempotency`). A call made without
/// annotations — an unknown tool, or options nobody annotated — counts as not idempotent: it ends
/// with `errc::not_replayable` rather than risk running twice.
///
/// A tool failure is not a JSON-RPC error: the server answers a successful JSON-RPC response
/// whose result has `"isError": true` (an unknown tool or invalid arguments, with the SDKs, too).
/// `response::is_error()` is false for it; ask `is_tool_error(response)`.

#include "mcp_recovery/beast/json_envelope.hpp"
#include "mcp_recovery/beast/json_lookup.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/idempotency.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/recovery_plan.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace mcp_recovery::beast {

/// Why a `tools/list` page (or listing) was not accepted.
enum class tools_errc {
    too_large = 1,    ///< The page is longer than `tool_catalogue_limits::max_page_size`.
    malformed_json,   ///< Not one valid JSON object within the limits (syntax, UTF-8, depth).
    error_response,   ///< A JSON-RPC error response, not a result.
    not_tools_list,   ///< No `tools` array, or a `nextCursor` that is not a string or is too long.
    bad_tool,         ///< A `tools` entry that is not an object, or has no (valid) string `name`.
    too_many_tools,   ///< More tools than `tool_catalogue_limits::max_tools`.
    too_many_pages,   ///< `list_tools`: the server kept sending `nextCursor` beyond `max_pages`.
};

}  // namespace mcp_recovery::beast

namespace std {
template <>
struct is_error_code_enum<mcp_recovery::beast::tools_errc> : true_type {};
}  // namespace std

namespace mcp_recovery::beast {

namespace detail {

class tools_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mcp_recovery.beast.tools"; }

    std::string message(int ev) const override {
        switch (static_cast<tools_errc>(ev)) {
        case tools_errc::too_large: return "tools/list page exceeds the size limit";
        case tools_errc::malformed_json: return "tools/list page is not valid JSON";
        case tools_errc::error_response: return "tools/list answered with a JSON-RPC error";
        case tools_errc::not_tools_list: return "not a tools/list result";
        case tools_errc::bad_tool: return "tools/list holds an invalid tool";
        case tools_errc::too_many_tools: return "tools/list holds more tools than the limit";
        case tools_errc::too_many_pages: return "tools/list has more pages than the limit";
        }
        return "unknown tools/list error";
    }
};

}  // namespace detail

/// The error category of `tools_errc` ("mcp_recovery.beast.tools").
inline const std::error_category& tools_category() noexcept {
    static const detail::tools_category_impl category;
    return category;
}

inline std::error_code make_error_code(tools_errc e) noexcept { return {static_cast<int>(e), tools_category()}; }

/// What went wrong building a catalogue: a `tools_errc` (or, from `list_tools`, the failed
/// `tools/list` call's `errc`) and a sentence saying where.
struct tools_error {
    std::error_code code;
    std::string detail;               ///< e.g. "tools[3] has no string \"name\""; may be empty.
    std::optional<call_error> call;   ///< `list_tools`: the `tools/list` call's error, when the call failed.

    /// `code`'s message, then the detail: one line for a log.
    std::string message() const {
        std::string s = code.message();
        if (!detail.empty()) s += ": " + detail;
        return s;
    }
};

/// Bounds for reading `tools/list` pages; each bounds time or memory, whatever the server sends.
struct tool_catalogue_limits {
    std::size_t max_page_size = std::size_t{8} * 1024 * 1024;  ///< Longest page (JSON text) read.
    std::size_t max_depth = 64;          ///< Deepest nesting of a page; the page's object is depth 1.
    std::size_t max_tools = 10000;       ///< Most tools in one catalogue, all pages together.
    std::size_t max_name_size = 1024;    ///< Longest tool name, in bytes (decoded).
    std::size_t max_cursor_size = 16384; ///< Longest `nextCursor`, in bytes (decoded).
};

/// One tool as `tools/list` announced it: its name and its behaviour hints (`annotations`).
///
/// Absent hints take the spec's defaults, which are also the cautious values: not read-only, not
/// idempotent, destructive, open-world. A hint that is not a JSON boolean, or `annotations` that
/// are not an object, count as absent.
struct tool_info {
    std::string name;
    /// `readOnlyHint` and `idempotentHint`: what replay safety reads (`call_options::annotations`).
    tool_annotations annotations;
    bool destructive_hint = true;   ///< `destructiveHint` (meaningful only when not read-only).
    bool open_world_hint = true;    ///< `openWorldHint`: it interacts with an open world (the web...).
    bool has_annotations = false;   ///< Whether the server sent an `annotations` object at all.
};

/// What `tool_catalogue::add_page` read from one page.
struct tools_page {
    std::size_t tools = 0;                   ///< Tools on this page.
    std::optional<std::string> next_cursor;  ///< `nextCursor`: ask for the next page with it (`tools_list_params`).
};

/// The `params` of a `tools/list` request: none for the first page, `{"cursor":...}` for the next.
inline std::string tools_list_params(const std::optional<std::string>& cursor = std::nullopt) {
    if (!cursor) return {};
    std::string params = "{\"cursor\":";
    append_json_string(params, *cursor);
    params += '}';
    return params;
}

namespace detail {

// `r.params` or `r.params()`, convertible to std::string_view.
template <class Request, class = void>
struct has_params_member : std::false_type {};
template <class Request>
struct has_params_member<Request, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Request&>().params),
                                                                           std::string_view>>> : std::true_type {};
template <class Request, class = void>
struct has_params_function : std::false_type {};
template <class Request>
struct has_params_function<Request, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Request&>().params()),
                                                                             std::string_view>>> : std::true_type {};

template <class Request>
inline constexpr bool is_tool_request_v =
    ::mcp_recovery::detail::has_request_method<Request>::value && (has_params_member<Request>::value || has_params_function<Request>::value);

template <class Request>
std::string_view params_of(const Request& r) {
    if constexpr (has_params_member<Request>::value)
        return std::string_view(r.params);
    else
        return std::string_view(r.params());
}

// A response type with `result()` convertible to std::string_view (beast::response).
template <class Response, class = void>
struct has_result_function : std::false_type {};
template <class Response>
struct has_result_function<Response, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Response&>().result()),
                                                                               std::string_view>>> : std::true_type {};

// A response type with a `message` data member convertible to std::string_view (beast::response).
template <class Response, class = void>
struct has_message_member : std::false_type {};
template <class Response>
struct has_message_member<Response, std::enable_if_t<std::is_convertible_v<decltype(std::declval<const Response&>().message),
                                                                              std::string_view>>> : std::true_type {};

// The result object of `json`: a JSON-RPC message (it has `jsonrpc`) gives its `result`; anything
// else is taken as the result itself. Nothing when the text is no valid object.
inline std::optional<std::string_view> result_object(std::string_view json) {
    if (find_member(json, "jsonrpc")) {
        const auto r = find_member(json, "result");
        if (!r || r->front() != '{') return std::nullopt;
        return r;
    }
    const std::string_view trimmed = trim_json_ws(json);
    if (trimmed.empty() || trimmed.front() != '{') return std::nullopt;
    return trimmed;
}

// The boolean member `key` of the validated object `object_json`; nothing when absent or not a boolean.
inline std::optional<bool> bool_member(std::string_view object_json, std::string_view key) {
    const auto v = find_member(object_json, key);
    if (!v) return std::nullopt;
    if (*v == "true") return true;
    if (*v == "false") return false;
    return std::nullopt;
}

inline tools_error tools_failure(tools_errc e, std::string detail) { return tools_error{e, std::move(detail), std::nullopt}; }

}  // namespace detail

/// The name of the tool a request calls: `params.name` of a `tools/call` (`{"name": ...}`).
///
/// Takes any request whose method `method_of` finds (`request_traits`) and whose `params` (a data
/// member or a member function) is the params' JSON text: `beast::request` and look-alikes.
/// Nothing when the method is not `tools/call`, or the params are no valid JSON object (nested at
/// most `json_lookup_max_depth` levels) with a string `name`. Linear in the params' size (it
/// validates them, on a copy).
template <class Request, std::enable_if_t<detail::is_tool_request_v<Request>, int> = 0>
std::optional<std::string> tool_name_of(const Request& r) {
    const std::optional<std::string_view> method = method_of(r);
    if (!method || *method != "tools/call") return std::nullopt;
    const auto name = find_member(detail::params_of(r), "name");
    if (!name) return std::nullopt;
    return decode_string(*name);
}

/// Whether a `tools/call` answer is a tool error: its result has `"isError": true`.
///
/// `json` is the result's JSON text or the whole JSON-RPC response (recognised by its `jsonrpc`
/// member). A tool error is a successful JSON-RPC response: the tool ran (or its arguments were
/// refused) and said it failed; recovery never retries it. False for anything else, including
/// malformed JSON and JSON-RPC error responses (`response::is_error()` tells those).
inline bool is_tool_error(std::string_view json) {
    const auto result = detail::result_object(json);
    return result && detail::bool_member(*result, "isError").value_or(false);
}

/// As above, on a response with `result()` (`beast::response`).
template <class Response, std::enable_if_t<detail::has_result_function<Response>::value, int> = 0>
bool is_tool_error(const Response& r) {
    const std::string_view result = r.result();
    return !result.empty() && is_tool_error(result);
}

/// The text of a `tools/call` result: its `content` items of type `text`, joined by line feeds.
///
/// `json` as for `is_tool_error`. Other content (images, resources) is skipped; empty when there
/// is no text, or the JSON is malformed. Useful for a tool error's explanation too.
inline std::string tool_result_text(std::string_view json) {
    std::string text;
    const auto result = detail::result_object(json);
    if (!result) return text;
    const auto content = find_member(*result, "content");
    if (!content || content->front() != '[') return text;
    // `content` is validated JSON: walk its items with the look-up's scanners.
    const std::string_view items = *content;
    std::size_t p = detail::skip_ws_at(items, 1);
    while (p < items.size() && items[p] != ']') {
        const std::size_t end = detail::scan_value_end(items, p);
        const std::string_view item = items.substr(p, end - p);
        if (!item.empty() && item.front() == '{') {
            const auto type = find_member(item, "type");
            const auto part = find_member(item, "text");
            if (type && part && decode_string(*type) == std::optional<std::string>("text")) {
                if (auto decoded = decode_string(*part)) {
                    if (!text.empty()) text += '\n';
                    text += *decoded;
                }
            }
        }
        p = detail::skip_ws_at(items, end);
        if (p < items.size() && items[p] == ',') p = detail::skip_ws_at(items, p + 1);
    }
    return text;
}

/// As above, on a response with `result()` (`beast::response`).
template <class Response, std::enable_if_t<detail::has_result_function<Response>::value, int> = 0>
std::string tool_result_text(const Response& r) {
    const std::string_view result = r.result();
    return result.empty() ? std::string{} : tool_result_text(result);
}

/// The tools a server listed, with their annotations: what makes a `tools/call` replay-safe.
///
/// Fill it from the `tools/list` pages (`add_page`, or `list_tools` for every page through a
/// client), then ask it for the options of each `tools/call`:
///
///     auto options = catalogue.options_for(request);   // annotations set when the tool is known
///     catalogue.annotate(options, request);            // the same, on options you already have
///
/// A tool it does not know gets no annotations, so with `idempotency::automatic` its call counts
/// as not idempotent (`resolve_idempotency`): after a failure that leaves it unknown whether the
/// server ran it, the call ends with `errc::not_replayable` instead of being sent again. Hints
/// come from the server: trust them as far as you trust it.
///
/// Thread-safety: build it before the calls, then only read it. The `const` members may run on
/// any number of threads at once; `add_page`, `add` and `clear` need the catalogue to themselves.
/// To refresh it (after `notifications/tools/list_changed`), build a new one and swap a
/// `std::shared_ptr<const tool_catalogue>` (with `std::atomic_load`/`std::atomic_store`, or a mutex).
///
/// A name listed twice (on two pages, or twice on one) keeps the more cautious hints of both.
class tool_catalogue {
public:
    tool_catalogue() = default;
    explicit tool_catalogue(tool_catalogue_limits limits) : limits_(limits) {}

    /// Adds the tools of one `tools/list` page: `json` is the result (`{"tools":[...]}`) or the
    /// whole JSON-RPC response (recognised by its `jsonrpc` member). On success, says how many
    /// tools the page held and its `nextCursor`; on error the catalogue is unchanged (a page is
    /// added whole or not at all). Linear in the page's size.
    outcome<tools_page, tools_error> add_page(std::string_view json) {
        if (json.size() > limits_.max_page_size)
            return detail::tools_failure(tools_errc::too_large, std::to_string(json.size()) + " bytes, limit " +
                                                                    std::to_string(limits_.max_page_size));
        // Validate the whole page once, for a precise error; the look-ups below validate again.
        json_limits jl;
        jl.max_document_size = limits_.max_page_size;
        jl.max_depth = limits_.max_depth;
        builtin_json reader(jl);
        envelope env;
        std::error_code ec;
        if (!reader.parse(json, env, ec)) {
            if (ec == json_error::not_an_object || ec == json_error::batch_not_supported)
                return detail::tools_failure(tools_errc::malformed_json, "the page is not a JSON object");
            return detail::tools_failure(tools_errc::malformed_json, reader.error_description());
        }
        std::optional<std::string_view> result;
        if (find_member(json, "jsonrpc", limits_.max_depth)) {  // a JSON-RPC message: its result
            if (env.has_error) {
                std::string what = "code " + (env.error_code ? std::to_string(*env.error_code) : std::string("?"));
                if (env.error_message) what += ", \"" + *env.error_message + '"';
                return detail::tools_failure(tools_errc::error_response, what);
            }
            result = find_member(json, "result", limits_.max_depth);
            if (!result || result->front() != '{')
                return detail::tools_failure(tools_errc::not_tools_list, "the response has no result object");
        } else {
            result = detail::trim_json_ws(json);
        }
        const auto tools = find_member(*result, "tools", limits_.max_depth);
        if (!tools || tools->front() != '[')
            return detail::tools_failure(tools_errc::not_tools_list,
                                         "no \"tools\" array (pass the tools/list result, or the whole response)");

        tools_page page;
        if (const auto cursor = find_member(*result, "nextCursor", limits_.max_depth); cursor && *cursor != "null") {
            auto decoded = decode_string(*cursor);
            if (!decoded) return detail::tools_failure(tools_errc::not_tools_list, "\"nextCursor\" is not a string");
            if (decoded->size() > limits_.max_cursor_size)
                return detail::tools_failure(tools_errc::not_tools_list, "\"nextCursor\" is longer than " +
                                                                             std::to_string(limits_.max_cursor_size) +
                                                                             " bytes");
            page.next_cursor = std::move(decoded);
        }

        std::vector<tool_info> found;
        const std::string_view items = *tools;
        std::size_t p = detail::skip_ws_at(items, 1);
        while (p < items.size() && items[p] != ']') {
            const std::size_t index = found.size();
            if (index >= limits_.max_tools)
                return detail::tools_failure(tools_errc::too_many_tools, "more than " + std::to_string(limits_.max_tools) +
                                                                             " tools on one page");
            const std::size_t end = detail::scan_value_end(items, p);
            auto tool = read_tool(items.substr(p, end - p), index);
            if (!tool) return std::move(tool).error();
            found.push_back(std::move(*tool));
            p = detail::skip_ws_at(items, end);
            if (p < items.size() && items[p] == ',') p = detail::skip_ws_at(items, p + 1);
        }

        std::set<std::string_view> new_names;
        for (const tool_info& t : found) {
            if (tools_.find(t.name) == tools_.end()) new_names.insert(t.name);
        }
        if (tools_.size() + new_names.size() > limits_.max_tools)
            return detail::tools_failure(tools_errc::too_many_tools, std::to_string(tools_.size() + new_names.size()) +
                                                                         " tools, limit " + std::to_string(limits_.max_tools));
        page.tools = found.size();
        for (tool_info& t : found) add(std::move(t));
        return page;
    }

    /// Adds one tool by hand (from a listing read elsewhere). A name already present keeps the
    /// more cautious hints of both. Not bounded by `max_tools`.
    void add(tool_info tool) {
        const auto it = tools_.find(tool.name);
        if (it == tools_.end()) {
            std::string name = tool.name;
            tools_.emplace(std::move(name), std::move(tool));
            return;
        }
        tool_info& kept = it->second;
        kept.annotations.read_only_hint = kept.annotations.read_only_hint && tool.annotations.read_only_hint;
        kept.annotations.idempotent_hint = kept.annotations.idempotent_hint && tool.annotations.idempotent_hint;
        kept.destructive_hint = kept.destructive_hint || tool.destructive_hint;
        kept.open_world_hint = kept.open_world_hint || tool.open_world_hint;
        kept.has_annotations = kept.has_annotations && tool.has_annotations;
    }

    /// The annotations of tool `name`, or null when the catalogue does not know it. A tool listed
    /// without annotations has all-false `tool_annotations` (not idempotent either).
    const tool_annotations* find(std::string_view name) const {
        const auto it = tools_.find(name);
        return it == tools_.end() ? nullptr : &it->second.annotations;
    }

    /// Everything known about tool `name` (all four hints), or null.
    const tool_info* info(std::string_view name) const {
        const auto it = tools_.find(name);
        return it == tools_.end() ? nullptr : &it->second;
    }

    /// `base` with `annotations` set for a `tools/call` of tool `name` (left as they are when the
    /// tool is unknown, or when `base` already has annotations: the caller's say-so wins).
    call_options options_for(std::string_view name, call_options base = {}) const {
        if (!base.annotations) {
            if (const tool_annotations* a = find(name)) base.annotations = *a;
        }
        return base;
    }

    /// `base` with `annotations` set when `request` is a `tools/call` of a tool the catalogue
    /// knows (see `tool_name_of`); otherwise `base` unchanged.
    template <class Request, std::enable_if_t<detail::is_tool_request_v<Request>, int> = 0>
    call_options options_for(const Request& request, call_options base = {}) const {
        annotate(base, request);
        return base;
    }

    /// Sets `options.annotations` as `options_for(request)` would, in place; returns `options`.
    template <class Request, std::enable_if_t<detail::is_tool_request_v<Request>, int> = 0>
    call_options& annotate(call_options& options, const Request& request) const {
        if (options.annotations) return options;
        if (const auto name = tool_name_of(request)) {
            if (const tool_annotations* a = find(*name)) options.annotations = *a;
        }
        return options;
    }

    std::size_t size() const noexcept { return tools_.size(); }
    bool empty() const noexcept { return tools_.empty(); }
    void clear() noexcept { tools_.clear(); }
    const tool_catalogue_limits& limits() const noexcept { return limits_; }

    /// Every tool, by name.
    const std::map<std::string, tool_info, std::less<>>& tools() const noexcept { return tools_; }

private:
    outcome<tool_info, tools_error> read_tool(std::string_view item, std::size_t index) const {
        const std::string where = "tools[" + std::to_string(index) + "]";
        if (item.empty() || item.front() != '{')
            return detail::tools_failure(tools_errc::bad_tool, where + " is not an object");
        tool_info tool;
        const auto name = find_member(item, "name", limits_.max_depth);
        std::optional<std::string> decoded = name ? decode_string(*name) : std::nullopt;
        if (!decoded) return detail::tools_failure(tools_errc::bad_tool, where + " has no string \"name\"");
        if (decoded->empty()) return detail::tools_failure(tools_errc::bad_tool, where + " has an empty \"name\"");
        if (decoded->size() > limits_.max_name_size)
            return detail::tools_failure(tools_errc::bad_tool, where + " has a \"name\" longer than " +
                                                                   std::to_string(limits_.max_name_size) + " bytes");
        tool.name = std::move(*decoded);
        const auto annotations = find_member(item, "annotations", limits_.max_depth);
        if (annotations && annotations->front() == '{') {
            tool.has_annotations = true;
            tool.annotations.read_only_hint = detail::bool_member(*annotations, "readOnlyHint").value_or(false);
            tool.annotations.idempotent_hint = detail::bool_member(*annotations, "idempotentHint").value_or(false);
            tool.destructive_hint = detail::bool_member(*annotations, "destructiveHint").value_or(true);
            tool.open_world_hint = detail::bool_member(*annotations, "openWorldHint").value_or(true);
        }
        return tool;
    }

    tool_catalogue_limits limits_{};
    std::map<std::string, tool_info, std::less<>> tools_;
};

/// Lists every tool of the server through `client` (`tools/list`, following `nextCursor` for at
/// most `max_pages` pages) into a new catalogue.
///
/// `Client` is a recovering client (or anything with `try_call(request, options)` returning an
/// outcome of a response with a `message` member, or `result()`), whose `request_type` can be
/// built as `{method, params}`: `recovering_client<beast::streamable_http_transport, ...>`.
/// `options` applies to each page's call. A failed call gives its `errc` as `code`, with the
/// `call_error` in `call`; a page the catalogue refuses gives its `tools_errc`.
template <class Client>
outcome<tool_catalogue, tools_error> list_tools(Client& client, const call_options& options = {},
                                                tool_catalogue_limits limits = {}, std::size_t max_pages = 100) {
    using request_type = typename Client::request_type;
    tool_catalogue catalogue(limits);
    std::optional<std::string> cursor;
    for (std::size_t page = 0; page < max_pages; ++page) {
        const request_type request{std::string("tools/list"), tools_list_params(cursor)};
        auto answer = client.try_call(request, options);
        if (!answer) {
            tools_error e{answer.error().code, "tools/list", answer.error()};
            if (answer.error().last_failure && !answer.error().last_failure->message.empty())
                e.detail += ": \"" + answer.error().last_failure->message.str() + '"';
            return e;
        }
        std::string_view text;
        if constexpr (detail::has_message_member<std::decay_t<decltype(*answer)>>::value)
            text = answer->message;
        else
            text = answer->result();
        auto added = catalogue.add_page(text);
        if (!added) return std::move(added).error();
        if (!added->next_cursor) return catalogue;
        cursor = std::move(added->next_cursor);
    }
    return detail::tools_failure(tools_errc::too_many_pages, "still a nextCursor after " + std::to_string(max_pages) +
                                                                 " pages");
}

/// The annotation source of a recovering client (`use_tool_annotations`, sync and async) that
/// looks a `tools/call`'s tool up in `catalogue`: a call made without `call_options::annotations`
/// is then replayed after a failure exactly when its tool is read-only or idempotent. The source
/// shares the catalogue (built before, read-only after; to refresh, install a new source).
inline auto annotations_from(std::shared_ptr<const tool_catalogue> catalogue) {
    return [catalogue = std::move(catalogue)](const auto& request) -> std::optional<tool_annotations> {
        const auto name = tool_name_of(request);
        if (!name) return std::nullopt;
        const tool_annotations* a = catalogue->find(*name);
        return a ? std::optional<tool_annotations>(*a) : std::nullopt;
    };
}

}  // namespace mcp_recovery::beast

#endif
