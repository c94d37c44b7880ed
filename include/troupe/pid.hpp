#pragma once
// troupe/pid.hpp — process identifiers.

#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace troupe {

/// Identifies a process. A small, trivially copyable value: the index of the
/// process's slot in the process table plus the slot's generation, so a stale
/// pid (one whose process has exited) never reaches a newer process that reuses
/// the slot. The generation's top 8 bits are the runtime's creation (as
/// Erlang's creation number): a pid kept from an earlier runtime of the program
/// names nobody in a later one, and sends to it are dropped. The
/// default-constructed pid is the null pid, which no process has.
/// Formats Erlang style: `fmt::format("{}", p)` gives `<0.42.1>`
/// (`<0.index.serial>`, the serial being the generation's low 24 bits).
class pid {
 public:
  constexpr pid() noexcept = default;
  constexpr pid(std::uint32_t index, std::uint32_t generation) noexcept
      : index_(index), generation_(generation) {}

  /// Slot index in the process table.
  [[nodiscard]] constexpr std::uint32_t index() const noexcept { return index_; }
  /// Incarnation of the slot this pid names; never 0 for a real process.
  [[nodiscard]] constexpr std::uint32_t generation() const noexcept { return generation_; }
  /// The generation without the runtime's creation.
  [[nodiscard]] constexpr std::uint32_t serial() const noexcept { return generation_ & 0xffffff; }
  /// Which runtime of the program made it (1..255; 0 for hand-made pids).
  [[nodiscard]] constexpr std::uint32_t creation() const noexcept { return generation_ >> 24; }
  /// True for every pid except the null pid.
  constexpr explicit operator bool() const noexcept { return generation_ != 0; }

  /// Packs the pid into 64 bits (for hashing and atomics).
  [[nodiscard]] constexpr std::uint64_t bits() const noexcept {
    return (std::uint64_t{generation_} << 32) | index_;
  }
  static constexpr pid from_bits(std::uint64_t b) noexcept {
    return pid(static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32));
  }

  friend constexpr bool operator==(pid, pid) noexcept = default;
  friend constexpr auto operator<=>(pid a, pid b) noexcept { return a.bits() <=> b.bits(); }

 private:
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

static_assert(sizeof(pid) == 8);
static_assert(std::is_trivially_copyable_v<pid>);

}  // namespace troupe

template <>
struct std::hash<troupe::pid> {
  std::size_t operator()(troupe::pid p) const noexcept { return std::hash<std::uint64_t>{}(p.bits()); }
};

template <>
struct fmt::formatter<troupe::pid> : fmt::formatter<fmt::string_view> {
  // Formats into a buffer first so width, fill and alignment apply.
  template <class Ctx>
  auto format(troupe::pid p, Ctx& ctx) const {
    char buf[32];
    const auto end = fmt::format_to_n(buf, sizeof buf, "<0.{}.{}>", p.index(), p.serial()).out;
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(buf, static_cast<std::size_t>(end - buf)), ctx);
  }
};
