// Fuzz target for the classifiers on arbitrary failures: any status, JSON-RPC code, flags,
// transport error and message bytes (up to and past failure_message's limit).
//
// Build and run: bash scripts/fuzz.sh SECONDS (or see fuzz_json_envelope.cpp for a manual build).
//
// Invariants: classification is deterministic and a valid failure_kind; a cancellation is always
// `cancelled`; 401 is `unauthorized`, 429 `throttled` (unless cancelled); default_classifier
// agrees with spec_classifier except where it says `session_expired`, and then the message names
// a lost session (one of the phrases, any ASCII case) and the status is none of 401/403/429/2xx;
// changing the ASCII case of the message never changes the result; a stored message never exceeds
// failure_message::max_size bytes and is a prefix of what was given.
#include <mcp_recovery/classifier.hpp>
#include <mcp_recovery/error.hpp>
#include <mcp_recovery/failure.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace mcp_recovery;

std::error_code transport_error(std::uint8_t pick) {
    switch (pick % 12) {
    case 0: return {};
    case 1: return std::make_error_code(std::errc::connection_refused);
    case 2: return std::make_error_code(std::errc::connection_reset);
    case 3: return std::make_error_code(std::errc::timed_out);
    case 4: return std::make_error_code(std::errc::operation_canceled);
    case 5: return make_error_code(errc::cancelled);
    case 6: return make_error_code(transport_errc::not_connected);
    case 7: return make_error_code(transport_errc::stream_ended);
    case 8: return make_error_code(transport_errc::malformed_response);
    case 9: return make_error_code(transport_errc::response_too_large);
    case 10: return make_error_code(transport_errc::invalid_session_id);
    default: return std::error_code(ECANCELED, std::system_category());
    }
}

bool valid_kind(failure_kind k) {
    switch (k) {
    case failure_kind::session_expired:
    case failure_kind::connection_lost:
    case failure_kind::throttled:
    case failure_kind::transient:
    case failure_kind::unauthorized:
    case failure_kind::cancelled:
    case failure_kind::permanent: return true;
    }
    return false;
}

std::string flip_case(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool names_lost_session(std::string_view message) {
    return session_message_rules{}.contains_phrase(message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 6) return 0;
    // 6 header bytes, then the message: status (2 bytes, 0..999 mostly interesting values),
    // flags, transport error, JSON-RPC code, Retry-After.
    static constexpr int statuses[] = {0, 200, 202, 204, 301, 307, 400, 401, 403, 404, 405, 406,
                                       408, 409, 413, 429, 500, 501, 502, 503, 504, 599};
    failure f;
    f.http_status = data[0] < 128 ? statuses[data[0] % (sizeof statuses / sizeof statuses[0])]
                                  : static_cast<int>((data[0] << 8 | data[1]) % 1000);
    f.had_session_id = (data[2] & 1) != 0;
    f.www_authenticate = (data[2] & 2) != 0;
    f.delivered = static_cast<delivery>((data[2] >> 2) % 3);
    if (data[2] & 0x20) f.retry_after = std::chrono::seconds(data[5]);
    f.transport_error = transport_error(data[3]);
    if (data[4] & 1) f.jsonrpc_code = static_cast<std::int64_t>(static_cast<std::int8_t>(data[4])) * 1000 - 32000;
    const std::string_view text(reinterpret_cast<const char*>(data + 6), size - 6);
    f.message = text;

    // The stored message is bounded and a prefix of the text.
    FUZZ_CHECK(f.message.size() <= failure_message::max_size);
    FUZZ_CHECK(text.substr(0, f.message.size()) == f.message.view());

    const spec_classifier spec;
    const default_classifier def;
    const failure_kind s = spec.classify(f);
    const failure_kind d = def.classify(f);
    FUZZ_CHECK(valid_kind(s) && valid_kind(d));
    FUZZ_CHECK(s == spec.classify(f) && d == def.classify(f));

    const bool cancelled = is_cancellation(f.transport_error);
    if (cancelled) FUZZ_CHECK(s == failure_kind::cancelled && d == failure_kind::cancelled);
    if (!cancelled && f.http_status == 401) FUZZ_CHECK(d == failure_kind::unauthorized);
    if (!cancelled && f.http_status == 429) FUZZ_CHECK(d == failure_kind::throttled);

    if (d != s) {
        FUZZ_CHECK(d == failure_kind::session_expired);
        FUZZ_CHECK(names_lost_session(f.message.view()));
        const int st = f.http_status;
        FUZZ_CHECK(st != 401 && st != 403 && st != 429 && !(st >= 200 && st < 300));
    }

    // The message rules ignore ASCII case.
    failure flipped = f;
    flipped.message = flip_case(f.message.view());
    FUZZ_CHECK(def.classify(flipped) == d);
    return 0;
}
