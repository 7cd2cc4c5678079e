// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CLASSIFIER_HPP
#define MCP_RECOVERY_CLASSIFIER_HPP

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/error.hpp"
#include "mcp_recovery/failure.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

/// Classifiers: what a `failure` means (`failure_kind`), and rules that compose into one.
///
/// Classifier concept (C++17 `is_classifier_v<C>`, C++20 `classifier<C>`), for `c` a `const C&`
/// and `f` a `const failure&`:
///
/// | Expression      | Type           | Semantics                                          |
/// |-----------------|----------------|----------------------------------------------------|
/// | `c.classify(f)` | `failure_kind` or `classification` | What the client should do about `f`. Always decides; a `classification` may also say the delivery (overriding the transport's). |
///
/// Rule concept (C++17 `is_classifier_rule_v<R>`, C++20 `classifier_rule<R>`), for `r` a `const R&`:
///
/// | Expression   | Type                          | Semantics                                   |
/// |--------------|-------------------------------|---------------------------------------------|
/// | `r.match(f)` | `std::optional<failure_kind>` or `std::optional<classification>` | A decision, or `std::nullopt`: no opinion. |
///
/// Models: `spec_classifier`, `first_match<...>`, `default_classifier`, `callable::sdk_classifier`
/// (classifiers); `session_message_rules`, `callable::sdk_session_rules` (rules). The library's
/// classification never does I/O and never allocates.

namespace mcp_recovery {

/// A classifier's decision: the kind, and what it knows about delivery.
///
/// `delivered` empty: the classifier has no knowledge beyond the transport's (`failure::delivered`
/// stands). Set: it overrides the transport's, e.g. `rejected` for the server's lost-session answer
/// (the server refused the request on a session it does not know, so it did not run it), or a
/// user rule "502 with body `upstream gone` = rejected". Converts to and from `failure_kind`, so a
/// classifier may return either.
struct classification {
    failure_kind kind = failure_kind::permanent;
    std::optional<delivery> delivered;

    constexpr classification() noexcept = default;
    constexpr classification(failure_kind k) noexcept : kind(k) {}  // NOLINT: implicit by design
    constexpr classification(failure_kind k, delivery d) noexcept : kind(k), delivered(d) {}

    constexpr operator failure_kind() const noexcept { return kind; }  // NOLINT: implicit by design

    /// The delivery that decides replay: the classifier's when it has one, else the transport's.
    constexpr delivery delivery_of(const failure& f) const noexcept { return delivered ? *delivered : f.delivered; }
};

namespace detail {

template <class R>
struct is_decision : std::bool_constant<std::is_same_v<R, failure_kind> || std::is_same_v<R, classification>> {};

template <class R>
struct is_optional_decision
    : std::bool_constant<std::is_same_v<R, std::optional<failure_kind>> || std::is_same_v<R, std::optional<classification>>> {};

template <class T, class = void>
struct has_classify : std::false_type {};

template <class T>
struct has_classify<T, std::void_t<decltype(std::declval<const T&>().classify(std::declval<const failure&>()))>>
    : is_decision<decltype(std::declval<const T&>().classify(std::declval<const failure&>()))> {};

template <class T, class = void>
struct has_match : std::false_type {};

template <class T>
struct has_match<T, std::void_t<decltype(std::declval<const T&>().match(std::declval<const failure&>()))>>
    : is_optional_decision<decltype(std::declval<const T&>().match(std::declval<const failure&>()))> {};

/// `value` is `is_classifier_v<T>`; instantiating it names the missing member in a static_assert
/// (the C++17 diagnostics of `recovering_client`).
template <class T>
struct classifier_requirements {
    static_assert(has_classify<T>::value,
                  "Classifier: needs failure_kind classify(const failure&) const (or one returning classification)");
    static constexpr bool value = has_classify<T>::value;
};

#if MCP_RECOVERY_HAS_CONCEPTS
template <class R>
concept classifier_decision = is_decision<R>::value;

template <class R>
concept rule_decision = is_optional_decision<R>::value;
#endif

}  // namespace detail

/// Whether `T` models the classifier concept: `classify(const failure&) const` returning a
/// `failure_kind` or a `classification` (a kind with the delivery the classifier knows).
template <class T>
struct is_classifier : detail::has_classify<T> {};

template <class T>
inline constexpr bool is_classifier_v = is_classifier<T>::value;

/// Whether `T` models the rule concept: `match(const failure&) const` returning
/// `std::optional<failure_kind>` or `std::optional<classification>`.
///
/// A rule may decline (`std::nullopt`); it is meant to sit in front of a classifier in a
/// `first_match`.
template <class T>
struct is_classifier_rule : detail::has_match<T> {};

template <class T>
inline constexpr bool is_classifier_rule_v = is_classifier_rule<T>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// A type that turns any failure into a decision. Same requirements as `is_classifier`.
template <class C>
concept classifier = requires(const C& c, const failure& f) {
    { c.classify(f) } -> detail::classifier_decision;
};

/// A type that decides some failures and passes on the rest. Same requirements as `is_classifier_rule`.
template <class R>
concept classifier_rule = requires(const R& r, const failure& f) {
    { r.match(f) } -> detail::rule_decision;
};
#endif

/// The HTTP semantics of the MCP Streamable HTTP spec, and nothing more: it never reads the message.
///
/// Decision order (the first row that fits decides; `docs/policies.md` has the same table):
///
/// | the failure | kind |
/// |---|---|
/// | a transport error that is a cancellation (`condition::cancelled`) | `cancelled` |
/// | `transport_errc::session_lost` (the server's lost-session error inside a 200) | `session_expired` |
/// | HTTP 401 | `unauthorized` |
/// | HTTP 403 with `WWW-Authenticate` / without | `unauthorized` / `permanent` |
/// | HTTP 429 | `throttled` |
/// | HTTP 503 with a Retry-After / without | `throttled` / `transient` |
/// | HTTP 404 on a request that carried a session id / without one | `session_expired` / `permanent` |
/// | HTTP 408, 500, 502, 504 | `transient` |
/// | an unusable answer (`condition::unusable_answer`: malformed, too large, bad session id, ...) | `permanent` |
/// | any other transport error with no HTTP status, or after a 2xx (a stream that broke before the response) | `connection_lost` |
/// | anything else (400, 406, a JSON-RPC error code on its own, ...) | `permanent` |
///
/// A status in the table decides even when a transport error is also set.
///
/// A lost session (404 with a session id, `session_lost`) is classified with delivery `rejected`:
/// the server refused the request on a session it does not know, so it is safe to send again.
/// Servers that answer a lost session with 400 and a message need `session_message_rules` in
/// front of it; `default_classifier` is that combination. Stateless, noexcept, trivially cheap.
class spec_classifier {
public:
    classification classify(const failure& f) const noexcept {
        if (is_cancellation(f.transport_error)) return failure_kind::cancelled;
        // The server's lost-session answers refused the request: it did not run.
        if (f.transport_error == transport_errc::session_lost) return {failure_kind::session_expired, delivery::rejected};
        switch (f.http_status) {
        case 401: return failure_kind::unauthorized;
        case 403: return f.www_authenticate ? failure_kind::unauthorized : failure_kind::permanent;
        case 429: return failure_kind::throttled;
        case 503: return f.retry_after ? failure_kind::throttled : failure_kind::transient;
        case 404:
            if (f.had_session_id) return {failure_kind::session_expired, delivery::rejected};
            return failure_kind::permanent;
        case 408:
        case 500:
        case 502:
        case 504: return failure_kind::transient;
        default: break;
        }
        if (is_unusable_answer(f.transport_error)) return failure_kind::permanent;
        if (f.transport_error && (f.http_status == 0 || (f.http_status >= 200 && f.http_status < 300)))
            return failure_kind::connection_lost;
        return failure_kind::permanent;
    }
};

namespace detail {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_ascii_lower_text(std::string_view s) noexcept {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return false;
    return !s.empty();
}

/// Whether `needle` (already lower case) occurs in `text`, ignoring ASCII case in `text`.
constexpr bool contains_ascii_icase(std::string_view text, std::string_view needle) noexcept {
    if (needle.size() > text.size()) return false;
    const std::size_t last = text.size() - needle.size();
    for (std::size_t i = 0; i <= last; ++i) {
        std::size_t j = 0;
        while (j < needle.size() && ascii_lower(text[i + j]) == needle[j]) ++j;
        if (j == needle.size()) return true;
    }
    return false;
}

// Lower case, so that matching lowers only the message. Each is what a real server or SDK says
// for a lost session (collected from their code and from running them).
inline constexpr std::array<std::string_view, 10> default_session_phrases{{
    "session not found",            // TypeScript, Python >= 1.26, Go, C# servers; Go client ErrSessionMissing
    "no valid session id",          // TypeScript example router and Python <= 1.25: 400 "Bad Request: No valid session ID provided"
    "invalid or expired session",   // Python transport internals; hosted servers
    "session has been terminated",  // Python transport internals
    "session terminated",           // Python SDK client: JSON-RPC 32600 "Session terminated"
    "session is closing",           // Go server
    "session expired",              // hosted servers
    "session has expired",          // C# client: ClientTransportClosedException says the session has expired
    "unknown session",              // hosted servers
    "invalid session id",           // hosted servers (legacy SSE)
}};

constexpr bool all_lower(const std::array<std::string_view, default_session_phrases.size()>& a) noexcept {
    for (std::string_view p : a)
        if (!is_ascii_lower_text(p)) return false;
    return true;
}
static_assert(all_lower(default_session_phrases), "default session phrases must be non-empty and lower case");

inline constexpr std::string_view session_word = "session";

constexpr bool all_name_a_session(const std::array<std::string_view, default_session_phrases.size()>& a) noexcept {
    for (std::string_view p : a)
        if (p.find(session_word) == std::string_view::npos) return false;
    return true;
}
static_assert(all_name_a_session(default_session_phrases),
              "session_message_rules::contains_phrase skips the defaults when a message lacks \"session\"");

}  // namespace detail

/// A rule that recognises "the server lost the session" in the server's message.
///
/// Matches when `failure::message` contains one of its phrases, ignoring ASCII case; then it
/// decides `session_expired`, otherwise it has no opinion. The phrase list is a narrow allow-list
/// (`default_phrases()`): each names a *session* that is gone, so an unrelated "not found" or a
/// "Mcp-Session-Id header is required" does not match.
///
/// Scope: it never matches when the transport error is a cancellation, nor for HTTP 401, 403 and
/// 429 (those are cancellation, auth and throttling whatever the text says), nor for a 2xx status
/// (the server accepted the request on its session; such text comes from a tool or handler).
///
/// Only the first `failure_message::max_size` bytes of a message exist (the failure cuts longer
/// text when it is stored), so a phrase that does not end within them never matches.
///
/// Cost: default construction does not allocate (the defaults live in a static array); each
/// `match` compares at most (phrases x message length x phrase length) bytes, with the message
/// bounded as above. `match` may run concurrently with itself; `add`, `clear` and `use_defaults`
/// must not run concurrently with anything: configure first, then share.
class session_message_rules {
public:
    /// The built-in phrases, lower case.
    static constexpr const std::array<std::string_view, detail::default_session_phrases.size()>&
    default_phrases() noexcept {
        return detail::default_session_phrases;
    }

    /// Starts with the default phrases and no extra ones. Does not allocate.
    session_message_rules() noexcept = default;

    /// Adds a phrase (stored lower case). An empty phrase is ignored: it would match every message.
    session_message_rules& add(std::string phrase) {
        if (phrase.empty()) return *this;
        for (char& c : phrase) c = detail::ascii_lower(c);
        extra_.push_back(std::move(phrase));
        return *this;
    }

    /// Drops every phrase, the defaults included; the rule matches nothing until `add` or `use_defaults(true)`.
    session_message_rules& clear() noexcept {
        extra_.clear();
        use_defaults_ = false;
        return *this;
    }

    /// Turns the default phrases on or off; phrases given to `add` stay either way.
    session_message_rules& use_defaults(bool on) noexcept {
        use_defaults_ = on;
        return *this;
    }

    bool uses_defaults() const noexcept { return use_defaults_; }

    /// The phrases given to `add`, lower case, in order.
    const std::vector<std::string>& extra_phrases() const noexcept { return extra_; }

    /// `session_expired` with delivery `rejected` when the message names a lost session (see the
    /// scope above), else `std::nullopt`. Rejected: a server that does not know the session does
    /// not run the request on it.
    std::optional<classification> match(const failure& f) const noexcept {
        if (is_cancellation(f.transport_error)) return std::nullopt;
        const int status = f.http_status;
        if (status == 401 || status == 403 || status == 429) return std::nullopt;
        // A 2xx answer with such text comes from a tool or handler, unless the transport itself
        // recognised the server's in-band lost-session error (`transport_errc::session_lost`).
        if (status >= 200 && status < 300 && f.transport_error != transport_errc::session_lost) return std::nullopt;
        if (!contains_phrase(f.message.view())) return std::nullopt;
        return classification{failure_kind::session_expired, delivery::rejected};
    }

    /// Whether `text` contains one of the active phrases, ignoring ASCII case. No scope checks.
    bool contains_phrase(std::string_view text) const noexcept {
        if (text.size() <= failure_message::max_size) {
            // Lower the text once (on the stack), then plain searches: a few microseconds less
            // per phrase for a message at the size limit than comparing case-insensitively.
            char lowered[failure_message::max_size];
            for (std::size_t i = 0; i < text.size(); ++i) lowered[i] = detail::ascii_lower(text[i]);
            const std::string_view low(lowered, text.size());
            // Every default phrase names a "session": without that word none can match.
            const bool may_match_defaults = low.find(detail::session_word) != std::string_view::npos;
            return any_phrase(may_match_defaults,
                              [low](std::string_view p) { return low.find(p) != std::string_view::npos; });
        }
        return any_phrase(true, [text](std::string_view p) { return detail::contains_ascii_icase(text, p); });
    }

private:
    template <class Contains>
    bool any_phrase(bool try_defaults, Contains contains) const noexcept {
        if (use_defaults_ && try_defaults) {
            for (std::string_view p : default_phrases())
                if (contains(p)) return true;
        }
        for (const std::string& p : extra_)
            if (contains(p)) return true;
        return false;
    }

    std::vector<std::string> extra_;
    bool use_defaults_ = true;
};

namespace detail {

template <class T>
struct first_match_member {
    static constexpr bool value = is_classifier_rule_v<T> || is_classifier_v<T>;
    static_assert(value,
                  "first_match<Ts...>: every T must be a classifier (failure_kind classify(const failure&) const) "
                  "or a rule (std::optional<failure_kind> match(const failure&) const)");
};

template <class T, class = void>
struct nothrow_member : std::false_type {};

template <class T>
struct nothrow_member<T, std::enable_if_t<is_classifier_rule_v<T>>>
    : std::bool_constant<noexcept(std::declval<const T&>().match(std::declval<const failure&>()))> {};

template <class T>
struct nothrow_member<T, std::enable_if_t<!is_classifier_rule_v<T> && is_classifier_v<T>>>
    : std::bool_constant<noexcept(std::declval<const T&>().classify(std::declval<const failure&>()))> {};

template <class Members, class Args, class = void>
struct members_constructible_from : std::false_type {};

template <class... Ts, class... Us>
struct members_constructible_from<std::tuple<Ts...>, std::tuple<Us...>,
                                  std::enable_if_t<sizeof...(Ts) == sizeof...(Us) && (sizeof...(Ts) > 0)>>
    : std::conjunction<std::is_constructible<Ts, Us&&>...> {};

}  // namespace detail

/// A classifier made of rules and classifiers, tried in order: the first decision wins.
///
/// A rule that returns `std::nullopt` passes on to the next member; a classifier always decides,
/// so members after it are never consulted. When no member decides, the result is `permanent`.
/// The result is a `classification`: the deciding member's kind, with its delivery if it said one.
/// A member that models both concepts is used as a rule. Members are stored by value in a
/// `std::tuple` (an empty member costs nothing) and reachable with `get<I>()`.
/// `classify` is noexcept when every member's `match`/`classify` is.
template <class... Ts>
class first_match {
    static_assert((detail::first_match_member<Ts>::value && ...),
                  "first_match<Ts...>: a member type is neither a classifier nor a rule");

public:
    /// Default-constructs every member (only when every member is default-constructible).
    first_match() = default;

    /// Constructs the members from one argument each, in order.
    template <class... Us,
              std::enable_if_t<detail::members_constructible_from<std::tuple<Ts...>, std::tuple<Us...>>::value &&
                                   !(sizeof...(Us) == 1 && (std::is_base_of_v<first_match, std::decay_t<Us>> && ...)),
                               int> = 0>
    explicit first_match(Us&&... members) : members_(std::forward<Us>(members)...) {}

    classification classify(const failure& f) const noexcept((detail::nothrow_member<Ts>::value && ...)) {
        return classify_from<0>(f);
    }

    template <std::size_t I>
    std::tuple_element_t<I, std::tuple<Ts...>>& get() noexcept {
        return std::get<I>(members_);
    }

    template <std::size_t I>
    const std::tuple_element_t<I, std::tuple<Ts...>>& get() const noexcept {
        return std::get<I>(members_);
    }

private:
    template <std::size_t I>
    classification classify_from(const failure& f) const {
        if constexpr (I == sizeof...(Ts)) {
            (void)f;
            return failure_kind::permanent;
        } else {
            using member = std::tuple_element_t<I, std::tuple<Ts...>>;
            const member& m = std::get<I>(members_);
            if constexpr (is_classifier_rule_v<member>) {
                if (auto decision = m.match(f)) return classification(*decision);
                return classify_from<I + 1>(f);
            } else {
                return classification(m.classify(f));
            }
        }
    }

    std::tuple<Ts...> members_;
};

/// The classifier `recovering_client` uses unless told otherwise: message rules, then the spec.
///
/// `session_message_rules` first (so a 400 "No valid session ID provided" or a "session not
/// found" without a status is `session_expired`), then `spec_classifier` for everything else.
/// Add phrases for your server with `session_rules().add(...)`. Default construction does not
/// allocate; `classify` is noexcept.
class default_classifier : public first_match<session_message_rules, spec_classifier> {
public:
    default_classifier() = default;

    /// Uses the given rules in place of the default ones.
    explicit default_classifier(session_message_rules rules)
        : first_match(std::move(rules), spec_classifier{}) {}

    session_message_rules& session_rules() noexcept { return get<0>(); }
    const session_message_rules& session_rules() const noexcept { return get<0>(); }
};

/// `c.classify(f)` as a `classification`, whichever of the two the classifier returns.
template <class Classifier>
classification classify_fully(const Classifier& c, const failure& f) {
    return classification(c.classify(f));
}

static_assert(is_classifier_v<spec_classifier>, "spec_classifier must model classifier");
static_assert(is_classifier_rule_v<session_message_rules>, "session_message_rules must model classifier_rule");
static_assert(is_classifier_v<default_classifier>, "default_classifier must model classifier");

}  // namespace mcp_recovery

#endif
