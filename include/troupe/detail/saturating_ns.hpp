#pragma once
// A user's duration as nanoseconds, without overflow.
//
// duration_cast<nanoseconds>(milliseconds::max()) overflows (undefined
// behaviour; in practice a negative count), so a timeout meant as "never"
// would fire at once. Every API that takes a duration (after, receive_for,
// send_after, sleep_for) converts it here instead; the runtime reads
// nanoseconds::max() as "forever".

#include <chrono>
#include <ratio>
#include <type_traits>

namespace troupe::detail {

/// `d` in nanoseconds, saturated: negative (and zero) gives 0, anything
/// longer than nanoseconds::max() (about 292 years) gives nanoseconds::max().
/// Integer reps convert exactly (truncating toward zero, like duration_cast);
/// floating reps too, through long double. NaN gives 0: a timeout computed
/// from garbage polls rather than waits forever. Reps that are neither
/// integers nor floating point go through duration_cast unchanged.
template <class Rep, class Period>
constexpr std::chrono::nanoseconds saturating_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using ns = std::chrono::nanoseconds;
  if constexpr (std::is_floating_point_v<Rep>) {
    const long double n = std::chrono::duration<long double, std::nano>(d).count();
    if (!(n > 0)) return ns::zero();  // also NaN
    if (n >= static_cast<long double>(ns::max().count())) return ns::max();
    return ns(static_cast<ns::rep>(n));
  } else if constexpr (std::is_integral_v<Rep>) {
    if (d.count() <= 0) return ns::zero();
    // d in nanoseconds is count * num / den. With 128 bits neither the
    // limit nor the product can overflow: count < 2^64, num and den < 2^63.
    __extension__ typedef __int128 wide;
    using cf = std::ratio_divide<Period, std::nano>;
    constexpr wide limit = static_cast<wide>(ns::max().count()) * cf::den / cf::num;  // the largest count that fits
    const wide count = static_cast<wide>(d.count());
    if (count > limit) return ns::max();
    return ns(static_cast<ns::rep>(count * cf::num / cf::den));
  } else {
    return std::chrono::duration_cast<ns>(d);
  }
}

}  // namespace troupe::detail
