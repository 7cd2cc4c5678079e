// mcp-recovery: recovery policies for MCP clients.
// SPDX-License-Identifier: BSL-1.0
#ifndef MCP_RECOVERY_RETRY_POLICY_HPP
#define MCP_RECOVERY_RETRY_POLICY_HPP

/// RetryPolicy: whether a failed call may be attempted again.
///
/// A retry policy is a value type. The client holds a prototype and copies it fresh for each call,
/// so a policy may keep state in its copy (count, first failure time, ...) without leaking it into
/// the next call. Policies never read a clock and never do I/O: the client passes the time in.
///
/// Requirements, for a value `p` of type `P&` and `c` of type `const retry_context&`:
///
/// | Expression       | Type                | Semantics                                            |
/// |------------------|---------------------|------------------------------------------------------|
/// | `P(p)`           |                     | copy: a fresh per-call policy from the prototype      |
/// | `p.on_failure(c)`| convertible to bool | true: another attempt is allowed; may update state    |
///
/// What a retry policy does NOT decide (the client does, before it asks): whether the failure kind
/// is recoverable at all (`cancelled` and `permanent` never reach a policy), whether the request is
/// safe to send again (replay safety), and whether the call's deadline leaves time for it.
///
/// Models: `never_retry`, `retry_once` (the default), `limited_attempts`, `limited_time`.
/// Checked by `is_retry_policy<P>` and, in C++20, `concept retry_policy<P>`.

#include "mcp_recovery/config.hpp"
#include "mcp_recovery/failure.hpp"

#include <chrono>
#include <stdexcept>
#include <type_traits>
#include <utility>

#if MCP_RECOVERY_HAS_CONCEPTS
#include <concepts>
#endif

namespace mcp_recovery {

/// What a retry policy is told about the failure it is asked about.
struct retry_context {
    /// How the failure was classified: one of the recoverable kinds (session_expired,
    /// connection_lost, throttled, transient, unauthorized).
    failure_kind kind = failure_kind::transient;
    /// Attempts made so far in this call, the failed one included: 1 after the first attempt failed.
    int attempt = 0;
    /// When the call started.
    time_point started{};
    /// The current time, read by the client from its clock.
    time_point now{};
};

namespace detail {

template <class T, class = void>
struct has_on_failure : std::false_type {};

template <class T>
struct has_on_failure<T, std::void_t<decltype(std::declval<T&>().on_failure(std::declval<const retry_context&>()))>>
    : std::is_convertible<decltype(std::declval<T&>().on_failure(std::declval<const retry_context&>())), bool> {};

/// `value` is `is_retry_policy_v<T>`; instantiating it names each unmet requirement in a
/// static_assert of its own (the C++17 diagnostics of `recovering_client`).
template <class T>
struct retry_policy_requirements {
    static_assert(std::is_copy_constructible_v<T>,
                  "RetryPolicy: needs a copy constructor (the client copies the prototype for each call)");
    static_assert(has_on_failure<T>::value, "RetryPolicy: needs bool on_failure(const retry_context&)");
    static constexpr bool value = std::is_copy_constructible_v<T> && has_on_failure<T>::value;
};

}  // namespace detail

/// Whether `T` meets the RetryPolicy requirements (see the table at the top of this header).
///
/// Usable as `static_assert(is_retry_policy_v<P>, "RetryPolicy type requirements not met");`
template <class T>
struct is_retry_policy
    : std::bool_constant<std::is_copy_constructible_v<T> && detail::has_on_failure<T>::value> {};

template <class T>
inline constexpr bool is_retry_policy_v = is_retry_policy<T>::value;

#if MCP_RECOVERY_HAS_CONCEPTS
/// The RetryPolicy requirements as a concept; same requirements as `is_retry_policy`.
template <class T>
concept retry_policy = std::is_copy_constructible_v<T> && requires(T& p, const retry_context& c) {
    { p.on_failure(c) } -> std::convertible_to<bool>;
};
#endif

/// Never allows another attempt: every failure is surfaced to the caller as it is.
struct never_retry {
    constexpr bool on_failure(const retry_context&) const noexcept { return false; }
};

/// Allows exactly one more attempt per call: the one reconnect-and-replay that session loss needs.
///
/// This is the default, and what hand-written session-recovery fixes do. Stateless: the decision
/// comes from `retry_context::attempt` alone, so a copy costs nothing.
struct retry_once {
    constexpr bool on_failure(const retry_context& c) const noexcept { return c.attempt == 1; }
};

/// Allows up to `max_attempts` attempts per call in total, the first one included.
///
/// `limited_attempts{1}` never retries (like `never_retry`); `limited_attempts{2}` behaves like
/// `retry_once`. A count below 1 is meaningless (the first attempt always happens) and the
/// constructor throws `std::invalid_argument` for it rather than guessing what was meant.
/// Default-constructed (as a client's template parameter is): `default_max_attempts`, 3.
class limited_attempts {
public:
    static constexpr int default_max_attempts = 3;

    constexpr limited_attempts() noexcept = default;
    explicit constexpr limited_attempts(int max_attempts) : max_attempts_(checked(max_attempts)) {}

    constexpr bool on_failure(const retry_context& c) const noexcept { return c.attempt < max_attempts_; }

    constexpr int max_attempts() const noexcept { return max_attempts_; }

private:
    static constexpr int checked(int n) {
        if (n < 1) {
            throw std::invalid_argument(
                "mcp_recovery::limited_attempts: max_attempts counts the first attempt and must be >= 1");
        }
        return n;
    }

    int max_attempts_ = default_max_attempts;
};

/// Allows another attempt while less than `budget` has passed since the call started
/// (`now - started < budget`).
///
/// The budget only decides whether to *start* another attempt; it does not shorten one. The call's
/// deadline (`call_options`) still bounds everything: no attempt, reconnect or backoff wait runs past
/// it, whatever this policy allows. A zero budget never retries; a negative one throws
/// `std::invalid_argument`. Default-constructed (as a client's template parameter is):
/// `default_budget`, 30 s.
class limited_time {
public:
    static constexpr duration default_budget = std::chrono::seconds(30);

    constexpr limited_time() noexcept = default;
    explicit constexpr limited_time(duration budget) : budget_(checked(budget)) {}

    constexpr bool on_failure(const retry_context& c) const noexcept { return c.now - c.started < budget_; }

    constexpr duration budget() const noexcept { return budget_; }

private:
    static constexpr duration checked(duration d) {
        if (d < duration::zero()) {
            throw std::invalid_argument("mcp_recovery::limited_time: the time budget must not be negative");
        }
        return d;
    }

    duration budget_ = default_budget;
};

static_assert(is_retry_policy_v<never_retry>, "never_retry must model RetryPolicy");
static_assert(is_retry_policy_v<retry_once>, "retry_once must model RetryPolicy");
static_assert(is_retry_policy_v<limited_attempts>, "limited_attempts must model RetryPolicy");
static_assert(is_retry_policy_v<limited_time>, "limited_time must model RetryPolicy");

}  // namespace mcp_recovery

#endif
