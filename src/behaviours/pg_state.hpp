#pragma once
// What a pg scope shares with its callers: the groups' member snapshots,
// which the scope process alone replaces, and callers read without a
// message: a reader holds the group's lock only to copy the snapshot's
// pointer, and none while it sends. See troupe/pg.hpp.

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "small_mutex.hpp"
#include "troupe/pg.hpp"

namespace troupe::pg::detail {

// (Not std::atomic<std::shared_ptr>: libstdc++ 12 guards it with a lock bit
// ThreadSanitizer cannot see, so every read was reported as a race.)
class group_state {
 public:
  [[nodiscard]] members_snapshot load() const {
    std::lock_guard lock(mu_);
    return members_;
  }
  void store(members_snapshot next) {
    std::lock_guard lock(mu_);
    members_.swap(next);  // the old one is freed after the unlock, with `next`
  }

 private:
  mutable troupe::detail::small_mutex mu_;
  members_snapshot members_ = std::make_shared<const std::vector<pid>>();
};

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct scope_state {
  explicit scope_state(std::string n) : name(std::move(n)) {}
  const std::string name;
  pid server;
  // Guards the map (a lookup takes it shared); the groups in it stay put, so
  // a group handle reads its snapshot with no lock at all.
  std::shared_mutex mu;
  std::unordered_map<std::string, std::shared_ptr<group_state>, string_hash, std::equal_to<>> groups;

  /// The group `name`, made empty if it is new (any thread).
  std::shared_ptr<group_state> find_or_make(std::string_view name);
};

/// The running scopes by name (one registry per program: names are per
/// runtime in practice, as a scope ends with its runtime).
void publish(const std::shared_ptr<scope_state>& s);
void withdraw(const scope_state& s) noexcept;
std::shared_ptr<scope_state> find_scope(std::string_view name);

}  // namespace troupe::pg::detail
