#include "scheduler_loan.hpp"

#include "runtime_impl.hpp"

namespace troupe::detail {

scheduler_loan::scheduler_loan() noexcept : lent_(current_scheduler()) {
  if (lent_) lent_->lent.fetch_add(1, std::memory_order_acq_rel);
}

scheduler_loan::~scheduler_loan() {
  if (lent_) lent_->lent.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace troupe::detail
