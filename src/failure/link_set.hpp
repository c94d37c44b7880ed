#pragma once
// A process's links. Nearly every process has none or one (a worker's link
// to its supervisor), so one link is kept inline and a hash set is made only
// for the second: an idle server pays 16 bytes for its links, not a set and
// its bucket array.

#include <memory>
#include <unordered_set>

#include "troupe/pid.hpp"

namespace troupe::detail {

class link_set {
 public:
  /// false if `p` was there already.
  bool insert(troupe::pid p) {
    if (many_) return many_->insert(p).second;
    if (one_ == p) return false;
    if (!one_) {
      one_ = p;
      return true;
    }
    auto set = std::make_unique<std::unordered_set<troupe::pid>>();
    set->insert(one_);
    set->insert(p);
    many_ = std::move(set);
    one_ = troupe::pid();
    return true;
  }

  /// false if `p` was not there.
  bool erase(troupe::pid p) noexcept {
    if (many_) return many_->erase(p) != 0;
    if (!one_ || one_ != p) return false;
    one_ = troupe::pid();
    return true;
  }

  [[nodiscard]] bool empty() const noexcept { return many_ ? many_->empty() : !one_; }

  void clear() noexcept {
    many_.reset();
    one_ = troupe::pid();
  }

  void swap(link_set& o) noexcept {
    std::swap(one_, o.one_);
    many_.swap(o.many_);
  }

  template <class F>
  void for_each(F&& f) const {
    if (many_) {
      for (troupe::pid p : *many_) f(p);
    } else if (one_) {
      f(one_);
    }
  }

 private:
  troupe::pid one_;  // the only link while many_ is null; the null pid: none
  std::unique_ptr<std::unordered_set<troupe::pid>> many_;
};

}  // namespace troupe::detail
