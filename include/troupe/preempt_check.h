/* troupe/preempt_check.h: the safe point that preemptible code checks.
 *
 * troupe_preemptible(<target>) (cmake/TroupePreemptible.cmake) includes this
 * header in every source of the target and has the compiler call
 * troupe_safe_point() at each loop back edge and on the way to each
 * function's calls (a function that calls nothing: at its entry). Code built
 * without it may call troupe_safe_point() itself in a long loop: it costs a
 * thread-local load and a branch that is taken once a slice (see
 * docs/scheduling.md). It is C as well as C++ so that C code can be made
 * preemptible too.
 */
#ifndef TROUPE_PREEMPT_CHECK_H
#define TROUPE_PREEMPT_CHECK_H

#ifdef __cplusplus
#define TROUPE_PREEMPT_NOEXCEPT noexcept
extern "C" {
#else
#define TROUPE_PREEMPT_NOEXCEPT
#endif

/* Set by the runtime's watchdog when the process on this thread has had its
 * slice; cleared by the scheduler at every switch. Initial-exec: one load
 * from the thread pointer, even in a shared library. */
extern __thread unsigned char troupe_preempt_flag __attribute__((tls_model("initial-exec")));

/* The slow paths. troupe_preempt_yield yields the running process as
 * troupe::yield() does, and so may throw to unwind it when it has been told
 * to exit; troupe_preempt_yield_nothrow yields and leaves an exit for the
 * process's next runtime call. On a thread that is not running a process
 * both only clear the flag. */
void troupe_preempt_yield(void);
void troupe_preempt_yield_nothrow(void) TROUPE_PREEMPT_NOEXCEPT;

/* The flag is read as a plain byte: one compare with memory instead of a
 * load and a test (fib(32) ran 1.45 times slower with the load). It cannot
 * be hoisted out of a loop, since the loop holds the call that may change
 * it. ThreadSanitizer, which would call that a race, gets an atomic load. */
#if defined(__SANITIZE_THREAD__)
#define TROUPE_PREEMPT_REQUESTED() __atomic_load_n(&troupe_preempt_flag, __ATOMIC_RELAXED)
#else
#define TROUPE_PREEMPT_REQUESTED() troupe_preempt_flag
#endif

__attribute__((always_inline, no_instrument_function)) static inline void troupe_safe_point(void) {
  if (__builtin_expect(TROUPE_PREEMPT_REQUESTED(), 0)) troupe_preempt_yield();
}

/* For noexcept functions (the plugin picks it there by itself). */
__attribute__((always_inline, no_instrument_function)) static inline void troupe_safe_point_nothrow(void)
    TROUPE_PREEMPT_NOEXCEPT {
  if (__builtin_expect(TROUPE_PREEMPT_REQUESTED(), 0)) troupe_preempt_yield_nothrow();
}

#ifdef __cplusplus
}
#endif

#endif /* TROUPE_PREEMPT_CHECK_H */
