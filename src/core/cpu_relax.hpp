#pragma once
// A spin-wait hint for the loops that poll a word another core will change.

namespace troupe::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace troupe::detail
