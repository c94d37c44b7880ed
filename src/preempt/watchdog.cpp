#include "watchdog.hpp"

#include <pthread.h>
#include <sys/prctl.h>

#include <chrono>
#include <mutex>
#include <string>

#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/log.hpp"

namespace troupe::detail {

namespace {

constexpr std::int64_t slow_tick_ns = 1'000'000;
// Ticks in a row in which no process held its scheduler from one tick to
// the next, after which the watchdog ticks slowly.
constexpr int quiet_ticks = 16;

std::int64_t ns(std::chrono::nanoseconds d) { return d.count(); }

}  // namespace

watchdog::watchdog(runtime_impl& rt) : rt_(rt) {}

void watchdog::start() {
  seen_.assign(rt_.scheds.size() + rt_.spares.size(), observed{});
  slice_ns_ = std::max<std::int64_t>(ns(rt_.opts.time_slice), 10'000);
  long_ns_ = std::max<std::int64_t>(ns(rt_.opts.long_schedule), slice_ns_);
  thread_ = std::thread([this] { loop(); });
}

void watchdog::stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_seq_cst);
  parker_.unpark();
  thread_.join();
}

void watchdog::preempt_all() noexcept {
  for (auto& s : rt_.scheds) s->request_preemption();
  for (auto& s : rt_.spares) s->request_preemption();
}

void watchdog::loop() {
  pthread_setname_np(pthread_self(), "troupe-watchdog");
  // Linux lets a sleep end up to 50 µs late by default: a tenth of a slice.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  const int n = static_cast<int>(rt_.scheds.size());
  int quiet = 0;
  while (!stop_.load(std::memory_order_acquire)) {
    if (rt_.nidle.load(std::memory_order_seq_cst) == n && spares_standing_in() == 0) {
      // Every scheduler is parked. The one that wakes first sees asleep_
      // (its nidle decrement and our load below are both seq_cst).
      if (rt_.events.attached() && !rt_.events.held()) {
        // The last to park found us polling the sockets and parked without
        // them: wake one, which takes them as it parks again.
        rt_.wake_one();
        continue;
      }
      asleep_.store(true, std::memory_order_seq_cst);
      if (rt_.nidle.load(std::memory_order_seq_cst) == n && !stop_.load(std::memory_order_seq_cst)) parker_.park(-1);
      asleep_.store(false, std::memory_order_seq_cst);
      for (auto& o : seen_) o = observed{};
      quiet = 0;
      continue;
    }
    parker_.park(quiet < quiet_ticks ? slice_ns_ / 2 : slow_tick_ns);
    const std::int64_t now = now_ns();
    // Schedulers that never run out of work never look at the sockets.
    rt_.events.poll_if_stale(this, now, slow_tick_ns);
    bool any_long_slice = false;
    int held = 0;  // threads that run processes but are held (or lent)
    for_each_thread([&](scheduler& s, observed& o) {
      const std::uint32_t seq = s.slice_seq.load(std::memory_order_acquire);
      if (s.lent.load(std::memory_order_acquire) != 0) {
        ++held;
        mark_held(s, true);
        o = observed{seq, now};
        return;
      }
      if (!s.in_process.load(std::memory_order_acquire) || seq != o.seq || o.since == 0) {
        mark_held(s, false);
        o = observed{seq, now};
        return;
      }
      any_long_slice = true;
      const std::int64_t running = now - o.since;
      if (running >= slice_ns_ && !o.flagged) {
        o.flagged = true;
        o.cpu_at_flag = thread_cpu_ns(s);
        s.request_preemption();
      }
      // Held, if its thread has been on the CPU for a fifth of long_schedule
      // since it was asked to yield: code with safe points yields within
      // microseconds of running, so what kept it from one on a loaded
      // machine was the operating system, not the process.
      if (running >= long_ns_ && (o.cpu_at_flag < 0 || thread_cpu_ns(s) - o.cpu_at_flag >= long_ns_ / 5)) {
        ++held;
        mark_held(s, true);
        if (!o.noted_long) {
          o.noted_long = true;
          note_long_schedule(s, seq, running);
        }
      }
    });
    balance_spares(held);
    quiet = any_long_slice || spares_standing_in() != 0 ? 0 : quiet + 1;
  }
}

std::int64_t watchdog::thread_cpu_ns(const scheduler& s) noexcept {
  const clockid_t c = s.cpu_clock.load(std::memory_order_acquire);
  timespec ts;
  if (c == static_cast<clockid_t>(-1) || clock_gettime(c, &ts) != 0) return -1;
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void watchdog::mark_held(scheduler& s, bool held) noexcept {
  if (s.held.load(std::memory_order_relaxed) != held) s.held.store(held, std::memory_order_release);
}

template <class F>
void watchdog::for_each_thread(F&& f) {
  const std::size_t n = rt_.scheds.size();
  for (std::size_t i = 0; i < n; ++i) f(*rt_.scheds[i], seen_[i]);
  for (std::size_t i = 0; i < rt_.spares.size(); ++i) {
    scheduler& s = *rt_.spares[i];
    if (s.standing_in.load(std::memory_order_acquire)) {
      f(s, seen_[n + i]);
    } else {
      mark_held(s, false);
      seen_[n + i] = observed{};
    }
  }
}

int watchdog::spares_standing_in() const noexcept {
  int k = 0;
  for (const auto& s : rt_.spares) k += s->standing_in.load(std::memory_order_acquire);
  return k;
}

// As many threads free to run processes as there are schedulers: a spare
// for each held one, while there are spares.
void watchdog::balance_spares(int held) noexcept {
  const int n = static_cast<int>(rt_.scheds.size());
  int free = n + spares_standing_in() - held;
  for (auto& s : rt_.spares) {
    if (free >= n) break;
    if (s->standing_in.load(std::memory_order_acquire)) continue;
    try {
      s->stand_in();
      ++free;
    } catch (...) {
      break;  // no thread for it: the queue waits for the holder
    }
  }
  // A spare goes back to rest between processes, never with one held.
  for (auto it = rt_.spares.rbegin(); it != rt_.spares.rend() && free > n; ++it) {
    scheduler& s = **it;
    if (!s.standing_in.load(std::memory_order_acquire) || s.lent.load(std::memory_order_acquire) != 0) continue;
    const observed& o = seen_[s.id];  // a spare's id follows the schedulers
    if (s.in_process.load(std::memory_order_acquire) && o.since != 0 && now_ns() - o.since >= long_ns_) continue;
    s.stand_down();
    --free;
  }
}

void watchdog::note_long_schedule(scheduler& s, std::uint32_t seq, std::int64_t held_ns) noexcept {
  process* p = s.running.load(std::memory_order_acquire);
  if (!p) return;
  const troupe::pid who = p->pid();
  // Still the same slice, so `who` is the holder (not a process that took
  // its slot after it ended).
  if (s.slice_seq.load(std::memory_order_acquire) != seq) return;
  std::string name;
  try {
    process_ext& x = ext_of(p);
    std::lock_guard lock(x.mu);
    x.long_schedules.fetch_add(1, std::memory_order_relaxed);
    if (!x.name().empty()) name = " (" + x.name() + ")";
    logger()->warn("long_schedule: process {}{} has held scheduler {} for {:.1f} ms without reaching a safe point",
                   who, name, s.id, static_cast<double>(held_ns) / 1e6);
  } catch (...) {
    // No memory for the ext or the message: the episode goes unrecorded.
  }
}

}  // namespace troupe::detail
