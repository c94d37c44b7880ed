#pragma once
// A scheduler lent out: while one of these lives on a scheduler thread, the
// process there is in a call that blocks the thread (troupe::blocking, the
// symbolizer's wait). The watchdog neither asks it to yield nor reports it
// as a long schedule.

namespace troupe::detail {

class scheduler;

class scheduler_loan {
 public:
  scheduler_loan() noexcept;  // on a plain thread, does nothing
  ~scheduler_loan();
  scheduler_loan(const scheduler_loan&) = delete;
  scheduler_loan& operator=(const scheduler_loan&) = delete;

 private:
  scheduler* lent_;
};

}  // namespace troupe::detail
