#pragma once
// A Classifier: a gateway that answers 410 Gone when it evicted a session; the rest as usual.
#include <mcp_recovery/classifier.hpp>

namespace app {

class gateway_classifier {
public:
    mcp_recovery::failure_kind classify(const mcp_recovery::failure& f) const noexcept {
        if (f.http_status == 410 && f.had_session_id) return mcp_recovery::failure_kind::session_expired;
        return fallback_.classify(f);  // session phrases, then the spec's HTTP rules
    }

private:
    mcp_recovery::default_classifier fallback_;
};

}  // namespace app
