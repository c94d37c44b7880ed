// Stack overflow kills only the offending process.
//
// Every stack has a guard page below it. A process that runs into it faults;
// the SIGSEGV handler runs on the scheduler thread's alternate signal stack,
// sees that the address is the guard page of the process running on this
// thread, and abandons that process: it switches straight back to the
// scheduler loop, which ends the process with reason `stack_overflow` (its
// links and monitors fire) and scrubs its stack before reuse. Any other fault
// goes to the handler that was there before, or to the default action.

#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "scheduler.hpp"
#include "stack_overflow.hpp"

namespace troupe::detail {

namespace {

struct sigaction previous_segv {};
struct sigaction previous_bus {};
std::mutex install_mu;
int installs = 0;

constexpr std::size_t alt_stack_size = 64 * 1024;

bool in_guard_page(const process* p, const char* addr) noexcept {
  return p && p->stack.lo && addr >= p->stack.lo - stack_pool::page && addr < p->stack.lo;
}

const char* stack_pointer_of(void* context) noexcept {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return nullptr;
#endif
}

// Code built without stack-clash probes can move the stack pointer past the
// guard page in one step (a frame larger than a page) and fault further
// down. A stack pointer below the process's stack is an overflow too.
bool stack_pointer_ran_off(const process* p, const char* sp) noexcept {
  constexpr std::size_t reach = 1 << 20;
  return p && p->stack.lo && sp && sp < p->stack.lo && sp >= p->stack.lo - reach;
}

// Not instrumented by ASan: it would unpoison "the current stack" before the
// no-return switch below, and the current stack is the alternate signal stack.
__attribute__((no_sanitize("address"))) void on_fault(int sig, siginfo_t* info, void* context) {
  scheduler* s = current_scheduler();
  process* p = s ? s->current : nullptr;
  if (in_guard_page(p, static_cast<const char*>(info->si_addr)) || stack_pointer_ran_off(p, stack_pointer_of(context)))
    s->abandon_overflowed(p);  // does not return
  // Not ours: hand over to whoever handled it before (or the default, which
  // dumps core when the faulting instruction runs again).
  const struct sigaction& prev = sig == SIGSEGV ? previous_segv : previous_bus;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) return prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    return prev.sa_handler(sig);
  }
  signal(sig, SIG_DFL);
}

}  // namespace

void install_overflow_handler() {
  std::lock_guard lock(install_mu);
  if (installs++ > 0) return;
  struct sigaction sa {};
  sa.sa_sigaction = &on_fault;
  // SA_NODEFER: the handler leaves by switching contexts, never returning,
  // so the signal must not stay blocked on this thread.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &previous_segv);
  sigaction(SIGBUS, &sa, &previous_bus);
}

void uninstall_overflow_handler() {
  std::lock_guard lock(install_mu);
  if (--installs > 0) return;
  sigaction(SIGSEGV, &previous_segv, nullptr);
  sigaction(SIGBUS, &previous_bus, nullptr);
}

void* enter_alt_stack() {
  void* mem = ::mmap(nullptr, alt_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = alt_stack_size;
  if (sigaltstack(&ss, nullptr) != 0) {
    ::munmap(mem, alt_stack_size);
    return nullptr;
  }
  return mem;
}

void leave_alt_stack(void* mem) {
  if (!mem) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  ::munmap(mem, alt_stack_size);
}

}  // namespace troupe::detail
