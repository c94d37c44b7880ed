#pragma once
// A scheduler's local run queue: a fixed ring (after Go's runq). The owner
// pushes at the tail and pops at the head; thieves take half from the head.
// Head moves by compare-exchange (owner and thieves race for it), the tail is
// written by the owner only.

#include <array>
#include <atomic>
#include <cstdint>

#include "process_record.hpp"

namespace troupe::detail {

class run_queue {
 public:
  static constexpr std::uint32_t capacity = 256;

  /// Owner only. False when full (the caller moves work to the global queue).
  bool push(process* p) noexcept {
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= capacity) return false;
    slots_[t % capacity].store(p, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  /// Owner only.
  process* pop() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      process* p = slots_[h % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel)) return p;
    }
  }

  /// Owner only: takes up to `n` from the head into `out` (to spill to the
  /// global queue when full). Returns how many.
  std::uint32_t take_front(process** out, std::uint32_t n) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      const std::uint32_t k = std::min(n, t - h);
      for (std::uint32_t i = 0; i < k; ++i) out[i] = slots_[(h + i) % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + k, std::memory_order_acq_rel)) return k;
    }
  }

  /// Any thread: takes half (rounded up) into `out`. Returns how many.
  std::uint32_t steal_half(process** out) noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_acquire);
      const std::uint32_t n = t - h;
      const std::uint32_t k = n - n / 2;
      if (k == 0) return 0;
      if (k > capacity / 2 + 1) continue;  // read h and t inconsistently
      for (std::uint32_t i = 0; i < k; ++i) out[i] = slots_[(h + i) % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_strong(h, h + k, std::memory_order_acq_rel)) return k;
    }
  }

  [[nodiscard]] bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::array<std::atomic<process*>, capacity> slots_{};
};

}  // namespace troupe::detail
