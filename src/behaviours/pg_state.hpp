#pragma once
// What a pg scope shares with its callers: the groups' member snapshots,
// which the scope process alone replaces, and callers read without a lock
// (an atomic shared_ptr load) or a message. See troupe/pg.hpp.

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "troupe/pg.hpp"

namespace troupe::pg::detail {

struct group_state {
  std::atomic<members_snapshot> members{std::make_shared<const std::vector<pid>>()};
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
