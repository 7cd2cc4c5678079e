// Compile-time benchmark TU (bench/compile_times.sh): the core alone. A recovering_client over a
// small user transport, making one call: what a user pays for mcp_recovery without Beast.
#include <mcp_recovery/recovering_client.hpp>

#include <cstdint>
#include <string>

namespace {

struct my_request {
    std::string method;
    std::string params;
};
struct my_response {
    std::string body;
};

// The smallest Transport: send / reconnect / generation.
class my_transport {
public:
    using request_type = my_request;
    using response_type = my_response;

    mcp_recovery::outcome<my_response> send(const my_request& r) { return my_response{r.params}; }
    mcp_recovery::outcome<void> reconnect() {
        ++generation_;
        return {};
    }
    std::uint64_t generation() const { return generation_; }

private:
    std::uint64_t generation_ = 1;
};

}  // namespace

int main() {
    namespace mr = mcp_recovery;
    mr::recovering_client<my_transport> client{std::in_place};
    mr::call_options options;
    auto r = client.try_call(my_request{"tools/list", "{}"}, options);
    return r ? 0 : 1;
}
