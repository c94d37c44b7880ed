// expect: static assert.*troupe::send: a message must own its data
// A user's own view type, declared one with the public trait.
#include <troupe/process.hpp>

#include <cstddef>
#include <type_traits>

struct byte_range {
  const std::byte* first;
  std::size_t size;
};
template <>
struct troupe::is_non_owning<byte_range> : std::true_type {};

void f(troupe::pid to, byte_range r) { troupe::send(to, r); }
