// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_CALLABLE_TRANSPORT_HPP
#define MCP_RECOVERY_CALLABLE_TRANSPORT_HPP

#include "mcp_recovery/callable/translator.hpp"
#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"
#include "mcp_recovery/outcome.hpp"
#include "mcp_recovery/transport.hpp"

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

/// Any MCP client as a transport, from callables: send, reconnect, optional terminate and auth
/// refresh, and a translator from the client's errors to `failure`.
///
/// What the callables may return (`R` is the type a callable returns):
///
/// | callable               | may return                                                                            |
/// |------------------------|---------------------------------------------------------------------------------------|
/// | send                   | `Response`; `outcome<Response>`; an expected-like `X` (`x.has_value()`, `x.value()`, `x.error()`: `std::expected`, `tl::expected`, `outcome<Response, E>`...) whose error the translator maps; anything convertible to `Response` |
/// | reconnect, terminate, refresh_auth | `void`; `outcome<void>`; `bool` (false: failed); an expected-like whose error the translator maps (its value is ignored) |
///
/// Any of them may throw instead; the translator maps the exception. Nothing ever escapes: a
/// translator that throws in turn yields a failure whose message says so.

namespace mcp_recovery::callable {

/// Stands for an optional callable that is absent: the transport then has no such member
/// (`terminate()`, `refresh_auth()`), and the recovering client knows it.
struct none {};

namespace detail {

template <class T>
inline constexpr bool always_false_v = false;

template <class T, class = void>
struct is_expected_like : std::false_type {};

template <class T>
struct is_expected_like<T, std::void_t<decltype(static_cast<bool>(std::declval<const T&>().has_value())),
                                       decltype(std::declval<T&>().error())>> : std::true_type {};

/// The failure reported when the translator itself threw. Never throws: without memory for the
/// message, a bare failure.
inline failure translator_threw(std::exception_ptr e) noexcept {
    try {
        std::string what = "an exception not derived from std::exception";
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            what = x.what();
        } catch (...) {
        }
        failure f;
        f.message = "mcp_recovery::callable: the error translator threw: " + what;
        return f;
    } catch (...) {
        return failure{};
    }
}

/// `t(e)` for an exception, or `default_translator` when `t` cannot take one.
template <class Translator>
failure translate_exception(const Translator& t, std::exception_ptr e) noexcept {
    try {
        if constexpr (std::is_invocable_r_v<failure, const Translator&, std::exception_ptr>)
            return t(std::move(e));
        else
            return default_translator{}(std::move(e));
    } catch (...) {
        return translator_threw(std::current_exception());
    }
}

/// `t(err)` for an error object a callable returned.
template <class Translator, class E>
failure translate_error(const Translator& t, E&& err) noexcept {
    try {
        if constexpr (std::is_same_v<std::decay_t<E>, failure>)
            return std::forward<E>(err);
        else if constexpr (std::is_invocable_r_v<failure, const Translator&, E&&>)
            return t(std::forward<E>(err));
        else if constexpr (std::is_invocable_r_v<failure, const default_translator&, E&&>)
            return default_translator{}(std::forward<E>(err));
        else
            static_assert(always_false_v<E>,
                          "mcp_recovery::callable: a callable returned an error object that the translator cannot "
                          "take: give the translator an overload `failure operator()(const E&) const`");
    } catch (...) {
        return translator_threw(std::current_exception());
    }
}

/// What a send callable returned, as the transport's outcome.
template <class Response, class Translator, class R>
outcome<Response> response_outcome(R&& r, const Translator& t) {
    using D = std::decay_t<R>;
    if constexpr (std::is_same_v<D, outcome<Response>>) {
        return std::forward<R>(r);
    } else if constexpr (std::is_same_v<D, Response>) {
        return outcome<Response>(std::forward<R>(r));
    } else if constexpr (is_expected_like<D>::value) {
        if (r.has_value()) return outcome<Response>(std::forward<R>(r).value());
        return outcome<Response>(translate_error(t, std::forward<R>(r).error()));
    } else if constexpr (std::is_convertible_v<R&&, Response>) {
        return outcome<Response>(static_cast<Response>(std::forward<R>(r)));
    } else {
        static_assert(always_false_v<D>,
                      "mcp_recovery::callable: the send callable must return Response, outcome<Response>, or an "
                      "expected-like type (has_value(), value(), error()) holding a Response");
    }
}

/// What a reconnect, terminate or refresh_auth callable returned, as an `outcome<void>`.
template <class Translator, class R>
outcome<void> void_outcome(R&& r, const Translator& t, const char* what) {
    using D = std::decay_t<R>;
    if constexpr (std::is_same_v<D, outcome<void>>) {
        return std::forward<R>(r);
    } else if constexpr (std::is_same_v<D, bool>) {
        if (r) return {};
        failure f;
        f.message = std::string("mcp_recovery::callable: the ") + what + " callable returned false";
        f.delivered = delivery::not_sent;
        return f;
    } else if constexpr (is_expected_like<D>::value) {
        if (r.has_value()) return {};
        return translate_error(t, std::forward<R>(r).error());
    } else {
        static_assert(always_false_v<D>,
                      "mcp_recovery::callable: reconnect, terminate and refresh_auth callables must return void, "
                      "bool, outcome<void>, or an expected-like type (has_value(), error())");
    }
}

/// Calls `f()` and turns whatever it returns or throws into an `outcome<void>`.
template <class F, class Translator>
outcome<void> invoke_void(F& f, const Translator& t, const char* what) noexcept {
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            std::invoke(f);
            return {};
        } else {
            return void_outcome(std::invoke(f), t, what);
        }
    } catch (...) {
        return translate_exception(t, std::current_exception());
    }
}

}  // namespace detail

/// A transport made of callables that drive an existing MCP client.
///
/// - `Send`: `send(request)` -> the response (see the table at the top of this header); may also
///   take `(request, time_point deadline)`, and then the transport offers `send(request, deadline)`.
/// - `Reconnect`: throw away the client's session and start a new one: re-create (or reset) the
///   client, `initialize` with the same parameters as the first time, `notifications/initialized`.
/// - `Translator`: maps what the callables throw or return to a `failure` (`translator.hpp`;
///   presets for known SDKs in `presets.hpp`).
/// - `Terminate`, `RefreshAuth`: optional; `none` leaves `terminate()` / `refresh_auth()` out.
///
/// `send` never throws: a thrown exception or a returned error becomes a `failure` through the
/// translator. `generation()` starts at 1 (the transport assumes the client it wraps is
/// initialized) and grows by one after each successful `reconnect()`.
///
/// Thread safety, and what the callables must tolerate:
/// - `send` runs on many threads at once (every caller of the recovering client): the send
///   callable must be safe to call concurrently.
/// - `reconnect`, `terminate` and `refresh_auth` run one at a time (the transport holds a lock
///   around each), but **concurrently with sends**: other callers may still be sending on the old
///   client while `reconnect` builds the new one. Keep the client behind a `client_slot`
///   (`client_slot.hpp`): send takes a `shared_ptr` copy, reconnect swaps in the new client, and the
///   old one is destroyed when its last send returns. Never destroy a client a send may be using.
/// - The generation grows only after the reconnect callable returned success, so a caller that
///   sees the new generation also sees the new client.
///
/// Cost: `send` is one call of the send callable plus the conversion of its result; no lock, no
/// allocation of its own. Move the transport only before it is used.
template <class Request, class Response, class Send, class Reconnect, class Translator = default_translator,
          class Terminate = none, class RefreshAuth = none>
class basic_transport {
    static_assert(!std::is_void_v<Response> && !std::is_reference_v<Response>,
                  "mcp_recovery::callable: Response must be an object type");
    static_assert(std::is_invocable_v<Send&, const Request&> || std::is_invocable_v<Send&, const Request&, time_point>,
                  "mcp_recovery::callable: the send callable must be invocable with (const Request&) or "
                  "(const Request&, time_point)");
    static_assert(std::is_invocable_v<Reconnect&>, "mcp_recovery::callable: the reconnect callable must take no argument");
    static_assert(std::is_same_v<Terminate, none> || std::is_invocable_v<Terminate&>,
                  "mcp_recovery::callable: the terminate callable must take no argument (or be callable::none)");
    static_assert(std::is_same_v<RefreshAuth, none> || std::is_invocable_v<RefreshAuth&>,
                  "mcp_recovery::callable: the refresh_auth callable must take no argument (or be callable::none)");

    template <class, class, class, class, class, class, class>
    friend class basic_transport;

public:
    using request_type = Request;
    using response_type = Response;
    using translator_type = Translator;

    explicit basic_transport(Send send_fn, Reconnect reconnect_fn, Translator translate_fn = Translator(),
                             Terminate terminate_fn = Terminate(), RefreshAuth refresh_auth_fn = RefreshAuth())
        : send_(std::move(send_fn)),
          reconnect_(std::move(reconnect_fn)),
          translator_(std::move(translate_fn)),
          terminate_(std::move(terminate_fn)),
          refresh_auth_(std::move(refresh_auth_fn)) {}

    basic_transport(basic_transport&& other) noexcept(
        std::is_nothrow_move_constructible_v<Send> && std::is_nothrow_move_constructible_v<Reconnect> &&
        std::is_nothrow_move_constructible_v<Translator> && std::is_nothrow_move_constructible_v<Terminate> &&
        std::is_nothrow_move_constructible_v<RefreshAuth>)
        : send_(std::move(other.send_)),
          reconnect_(std::move(other.reconnect_)),
          translator_(std::move(other.translator_)),
          terminate_(std::move(other.terminate_)),
          refresh_auth_(std::move(other.refresh_auth_)),
          generation_(other.generation_.load(std::memory_order_acquire)) {}

    basic_transport(const basic_transport&) = delete;
    basic_transport& operator=(const basic_transport&) = delete;
    basic_transport& operator=(basic_transport&&) = delete;
    ~basic_transport() = default;

    /// One attempt. Never throws.
    outcome<Response> send(const Request& request) noexcept {
        try {
            if constexpr (std::is_invocable_v<Send&, const Request&>)
                return detail::response_outcome<Response>(std::invoke(send_, request), translator_);
            else
                return detail::response_outcome<Response>(std::invoke(send_, request, time_point::max()), translator_);
        } catch (...) {
            return detail::translate_exception(translator_, std::current_exception());
        }
    }

    /// One attempt bounded by `deadline`; present when the send callable takes a deadline.
    template <class S = Send, std::enable_if_t<std::is_invocable_v<S&, const Request&, time_point>, int> = 0>
    outcome<Response> send(const Request& request, time_point deadline) noexcept {
        try {
            return detail::response_outcome<Response>(std::invoke(send_, request, deadline), translator_);
        } catch (...) {
            return detail::translate_exception(translator_, std::current_exception());
        }
    }

    /// Runs the reconnect callable; on success the generation grows by one. Never throws.
    outcome<void> reconnect() noexcept {
        return controlled([this] {
            outcome<void> r = detail::invoke_void(reconnect_, translator_, "reconnect");
            if (r) generation_.fetch_add(1, std::memory_order_acq_rel);
            return r;
        });
    }

    /// Bumped by every successful `reconnect()`; starts at 1. Safe to read from any thread.
    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

    /// Ends the session through the terminate callable (present when one was given). Never throws.
    template <class T = Terminate, std::enable_if_t<!std::is_same_v<T, none>, int> = 0>
    outcome<void> terminate() noexcept {
        return controlled([this] { return detail::invoke_void(terminate_, translator_, "terminate"); });
    }

    /// Obtains new credentials through the refresh_auth callable (present when one was given). Never throws.
    template <class T = RefreshAuth, std::enable_if_t<!std::is_same_v<T, none>, int> = 0>
    outcome<void> refresh_auth() noexcept {
        return controlled([this] { return detail::invoke_void(refresh_auth_, translator_, "refresh_auth"); });
    }

    /// This transport with a terminate callable (consumes it; the generation carries over).
    template <class F>
    basic_transport<Request, Response, Send, Reconnect, Translator, std::decay_t<F>, RefreshAuth> with_terminate(F&& f) && {
        basic_transport<Request, Response, Send, Reconnect, Translator, std::decay_t<F>, RefreshAuth> t(
            std::move(send_), std::move(reconnect_), std::move(translator_), std::forward<F>(f),
            std::move(refresh_auth_));
        t.generation_.store(generation(), std::memory_order_release);
        return t;
    }

    /// This transport with a refresh_auth callable (consumes it; the generation carries over).
    template <class F>
    basic_transport<Request, Response, Send, Reconnect, Translator, Terminate, std::decay_t<F>> with_refresh_auth(
        F&& f) && {
        basic_transport<Request, Response, Send, Reconnect, Translator, Terminate, std::decay_t<F>> t(
            std::move(send_), std::move(reconnect_), std::move(translator_), std::move(terminate_),
            std::forward<F>(f));
        t.generation_.store(generation(), std::memory_order_release);
        return t;
    }

    /// This transport with another translator (consumes it; the generation carries over).
    template <class T>
    basic_transport<Request, Response, Send, Reconnect, std::decay_t<T>, Terminate, RefreshAuth> with_translator(
        T&& translate_fn) && {
        basic_transport<Request, Response, Send, Reconnect, std::decay_t<T>, Terminate, RefreshAuth> t(
            std::move(send_), std::move(reconnect_), std::forward<T>(translate_fn), std::move(terminate_),
            std::move(refresh_auth_));
        t.generation_.store(generation(), std::memory_order_release);
        return t;
    }

    Translator& translator() noexcept { return translator_; }
    const Translator& translator() const noexcept { return translator_; }

private:
    template <class F>
    outcome<void> controlled(F f) noexcept {
        try {
            std::lock_guard<std::mutex> lock(control_);
            return f();
        } catch (...) {
            // Only the lock itself can throw here (f never does).
            return detail::translate_exception(translator_, std::current_exception());
        }
    }

    Send send_;
    Reconnect reconnect_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Translator translator_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS Terminate terminate_;
    MCP_RECOVERY_NO_UNIQUE_ADDRESS RefreshAuth refresh_auth_;
    std::mutex control_;
    std::atomic<std::uint64_t> generation_{1};
};

/// A transport from callables, their types deduced:
///
///     auto t = callable::make_transport<my_request, my_response>(
///         [&](const my_request& r) { return slot.get()->call(r); },   // send
///         [&] { slot.reset(connect_and_initialize()); },               // reconnect
///         callable::presets::fastmcpp{});                             // translator
///
/// Pass `callable::none{}` for an absent terminate; or add them with `with_terminate(f)` /
/// `with_refresh_auth(f)`.
template <class Request, class Response, class Send, class Reconnect, class Translator = default_translator,
          class Terminate = none, class RefreshAuth = none>
basic_transport<Request, Response, std::decay_t<Send>, std::decay_t<Reconnect>, std::decay_t<Translator>,
                std::decay_t<Terminate>, std::decay_t<RefreshAuth>>
make_transport(Send&& send, Reconnect&& reconnect, Translator&& translator = Translator(),
               Terminate&& terminate = Terminate(), RefreshAuth&& refresh_auth = RefreshAuth()) {
    return basic_transport<Request, Response, std::decay_t<Send>, std::decay_t<Reconnect>, std::decay_t<Translator>,
                           std::decay_t<Terminate>, std::decay_t<RefreshAuth>>(
        std::forward<Send>(send), std::forward<Reconnect>(reconnect), std::forward<Translator>(translator),
        std::forward<Terminate>(terminate), std::forward<RefreshAuth>(refresh_auth));
}

/// The callables of a type-erased `transport`, as `std::function`s.
///
/// `send` may return a `Response` or an `outcome<Response>`, or throw; `reconnect`, `terminate`
/// and `refresh_auth` return an `outcome<void>` (`return {};` on success) or throw. An empty
/// `translate` means `default_translator`; an empty `terminate` or `refresh_auth` makes that
/// member fail with a failure saying it was not given (the member exists either way, so a
/// recovering client answers a 401 by calling `refresh_auth`, which then fails: the call ends
/// with `errc::unauthorized`).
template <class Request, class Response>
struct functions {
    std::function<outcome<Response>(const Request&)> send;
    std::function<outcome<void>()> reconnect;
    std::function<failure(std::exception_ptr)> translate;
    std::function<outcome<void>()> terminate;
    std::function<outcome<void>()> refresh_auth;
};

namespace detail {

/// A `std::function` translator that falls back to `default_translator` when empty.
struct erased_translator {
    std::function<failure(std::exception_ptr)> f;

    failure operator()(std::exception_ptr e) const { return f ? f(std::move(e)) : default_translator{}(std::move(e)); }
};

inline std::function<outcome<void>()> or_missing(std::function<outcome<void>()> f, const char* name) {
    if (f) return f;
    return [name]() -> outcome<void> {
        failure missing;
        missing.message = std::string("mcp_recovery::callable: no ") + name + " function was given";
        missing.delivered = delivery::not_sent;
        return missing;
    };
}

template <class Request, class Response>
using erased_base = basic_transport<Request, Response, std::function<outcome<Response>(const Request&)>,
                                    std::function<outcome<void>()>, erased_translator, std::function<outcome<void>()>,
                                    std::function<outcome<void>()>>;

}  // namespace detail

/// A transport over `std::function`s: one type for every client with these request and response
/// types (to store it in a class member, or choose the client at run time).
///
/// Same behaviour and thread safety as `basic_transport`; each call goes through a `std::function`
/// (an indirect call). It always has `terminate()` and `refresh_auth()`; see `functions` for what
/// they do when not given.
template <class Request, class Response>
class transport : public detail::erased_base<Request, Response> {
public:
    explicit transport(functions<Request, Response> f)
        : detail::erased_base<Request, Response>(std::move(f.send), std::move(f.reconnect),
                                                 detail::erased_translator{std::move(f.translate)},
                                                 detail::or_missing(std::move(f.terminate), "terminate"),
                                                 detail::or_missing(std::move(f.refresh_auth), "refresh_auth")) {}
};

}  // namespace mcp_recovery::callable

#endif
