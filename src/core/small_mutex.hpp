#pragma once
// A mutex in one word, for locks that every process carries (its ext's):
// std::mutex is 40 bytes, which a million idle servers pay for. Held only
// for a few map or vector operations, never across a fiber switch, so it
// spins briefly before it sleeps on the word, a futex of its own (not
// std::atomic::wait, whose waiters share a global table and yield first).

#include <atomic>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu_relax.hpp"

namespace troupe::detail {

class small_mutex {
 public:
  void lock() noexcept {
    std::uint32_t expected = unlocked;
    if (!word_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed))
        [[unlikely]]
      lock_contended();
  }

  bool try_lock() noexcept {
    std::uint32_t expected = unlocked;
    return word_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() noexcept {
    if (word_.exchange(unlocked, std::memory_order_release) == sleepers) [[unlikely]]
      futex(FUTEX_WAKE_PRIVATE, 1);
  }

 private:
  // Drepper's three states ("Futexes Are Tricky"): `sleepers` tells the
  // unlocker that someone may be asleep on the word and must be woken.
  static constexpr std::uint32_t unlocked = 0, locked = 1, sleepers = 2;

  void lock_contended() noexcept {
    for (int i = 0; i < 64; ++i) {
      cpu_relax();
      if (word_.load(std::memory_order_relaxed) == unlocked && try_lock()) return;
    }
    while (word_.exchange(sleepers, std::memory_order_acquire) != unlocked) futex(FUTEX_WAIT_PRIVATE, sleepers);
  }

  void futex(int op, std::uint32_t value) noexcept {
    static_assert(sizeof(word_) == sizeof(std::uint32_t));
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), op, value, nullptr, nullptr, 0);
  }

  std::atomic<std::uint32_t> word_{unlocked};
};

}  // namespace troupe::detail
