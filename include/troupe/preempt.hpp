#pragma once
// Preemption of plain C++ code (see docs/scheduling.md).
//
// A process gives up its scheduler at runtime calls (send, receive, yield,
// ...) once its slice of reductions is spent, and, in code built with
// troupe_preemptible(<target>) (cmake/TroupePreemptible.cmake), at safe
// points the compiler puts at every loop back edge and on the way to every
// function's calls: there
// it yields once the runtime's watchdog says its time slice
// (runtime_options::time_slice) is over. A safe point is an ordinary runtime
// call, so an exit signal (kill included) ends a spinning process at its
// next one, destructors running as at any exit.

#include "troupe/preempt_check.h"

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace troupe {

namespace detail {
/// Runs `job(arg)` on a thread of the blocking pool while the calling process
/// waits without holding its scheduler; rethrows what the job threw, then
/// acts on exit signals that came meanwhile. On a plain thread, just calls it.
void run_blocking(void (*job)(void*), void* arg);
}  // namespace detail

/// Runs `f()`, a call that blocks its thread (a file read, a C library that
/// sleeps, a lock held elsewhere), on a thread of the runtime's blocking
/// pool, as the BEAM runs such calls on its dirty schedulers: the calling
/// process waits for it without holding its scheduler, which meanwhile runs
/// the others. Returns what `f` returns, or rethrows what it throws. An exit
/// signal that arrives meanwhile takes effect when `f` returns (a blocking
/// call cannot be interrupted). `f` runs on another thread: it may send, but
/// not receive (there it is not the process), and what it captures by
/// reference stays valid, since the process waits for it. Outside a process
/// it is just `f()`.
///
///     std::string text = troupe::blocking([&] { return read_whole_file(path); });
template <class F>
decltype(auto) blocking(F&& f) {
  using R = std::invoke_result_t<F>;
  if constexpr (std::is_void_v<R>) {
    auto job = [](void* fp) { (*static_cast<std::remove_reference_t<F>*>(fp))(); };
    detail::run_blocking(job, static_cast<void*>(std::addressof(f)));
  } else {
    struct call {
      std::remove_reference_t<F>* f;
      std::optional<R> result;
    } c{std::addressof(f), std::nullopt};
    auto job = [](void* cp) {
      auto* c = static_cast<call*>(cp);
      c->result.emplace((*c->f)());
    };
    detail::run_blocking(job, &c);
    return R(std::move(*c.result));
  }
}

/// While one exists in a process, its safe points do not yield; the last one
/// to go yields if a safe point wanted to meanwhile. For a lock that other
/// processes of this scheduler may take: a process preempted while holding
/// a std::mutex keeps it held while the others run, and one of them that
/// blocks on it blocks its whole scheduler thread. Runtime calls that wait
/// (receive, sleep_for, a gen_server call) still switch inside one.
///
///     {
///       troupe::no_preempt_scope keep;  // first, so the yield it owes comes after the unlock
///       std::lock_guard lock(table_mu);
///       update(table);
///     }
///
/// At most 127 may be open in a process at once (std::length_error).
class no_preempt_scope {
 public:
  no_preempt_scope();
  ~no_preempt_scope();
  no_preempt_scope(const no_preempt_scope&) = delete;
  no_preempt_scope& operator=(const no_preempt_scope&) = delete;
};

}  // namespace troupe
