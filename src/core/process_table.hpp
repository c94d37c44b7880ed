#pragma once
// The process table: one big reservation of process records, indexed by pid.
// Records are type-stable (a slot is only ever a process record), so a sender
// holding a stale pid can look at the slot safely and see that the generation
// moved on. Free records are cached per scheduler and shared in batches.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "process_record.hpp"

namespace troupe::detail {

/// A singly linked stack of free records, local to one scheduler.
struct record_cache {
  process* head = nullptr;
  std::size_t count = 0;
};

class process_table {
 public:
  /// Room for `capacity` live processes, whatever the `caches` scheduler
  /// caches hold. `creation` (1..255) tells this table's pids from those of
  /// earlier runtimes in the program (Erlang's creation number).
  process_table(std::size_t capacity, std::size_t caches, std::uint32_t creation);

  /// A generation: the creation in the top bits, a serial below.
  static constexpr unsigned serial_bits = 24;
  static constexpr std::uint32_t serial_mask = (1u << serial_bits) - 1;
  /// The generation after `g` (skipping serial 0: pid{} is null).
  static std::uint32_t next_generation(std::uint32_t g) noexcept {
    std::uint32_t serial = (g + 1) & serial_mask;
    if (serial == 0) serial = 1;
    return (g & ~serial_mask) | serial;
  }
  ~process_table();
  process_table(const process_table&) = delete;
  process_table& operator=(const process_table&) = delete;

  /// The live record `p` names, or nullptr if `p` is stale or invalid.
  process* lookup(troupe::pid p) const noexcept {
    const std::uint32_t i = p.index();
    if (i == 0 || i >= high_water_.load(std::memory_order_acquire)) return nullptr;
    process* r = records_ + i;
    if (r->generation.load(std::memory_order_acquire) != p.generation()) return nullptr;
    return r;
  }

  /// A free record with a fresh generation. `cache` may be null (non-scheduler
  /// threads). Throws std::system_error when the table is full.
  process* acquire(record_cache* cache);
  /// Returns an exited process's record; its generation must already be bumped.
  void release(process* p, record_cache* cache) noexcept;

  /// Calls f(process&) for every slot ever used (live or not).
  template <class F>
  void for_each_slot(F&& f) {
    const std::uint32_t n = high_water_.load(std::memory_order_acquire);
    for (std::uint32_t i = 1; i < n; ++i) f(records_[i]);
  }

 private:
  process* refill(record_cache* cache);

  process* records_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t batch_ = 1;
  std::size_t cache_limit_ = 4;
  std::uint32_t creation_ = 1;
  std::atomic<std::uint32_t> high_water_{1};  // index 0 is never used: pid{} is null
  std::mutex mu_;
  process* global_free_ = nullptr;
  std::size_t global_count_ = 0;
};

}  // namespace troupe::detail
