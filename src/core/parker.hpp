#pragma once
// Parks one scheduler thread on a futex; unpark() is never lost: a token set
// before the sleeper arrives makes its wait return at once.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace troupe::detail {

class parker {
 public:
  /// Sleeps until unpark() or until `timeout_ns` (< 0: no timeout) elapses.
  void park(std::int64_t timeout_ns) noexcept {
    if (state_.exchange(0, std::memory_order_acquire) == 1) return;  // token already there
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
      tsp = &ts;
    }
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, 0u, tsp, nullptr, 0);
    state_.exchange(0, std::memory_order_acquire);  // consume the token (or time out)
  }

  void unpark() noexcept {
    if (state_.exchange(1, std::memory_order_release) == 0) {
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }

 private:
  std::atomic<std::uint32_t> state_{0};
};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

}  // namespace troupe::detail
