#pragma once
#include <cstdint>

namespace crunch {
/// `rounds` rounds of a hash: about a second of CPU per half a billion.
std::uint64_t churn(std::uint64_t rounds);
}  // namespace crunch
