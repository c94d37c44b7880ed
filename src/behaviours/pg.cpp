// pg's reads (snapshots, no message to the scope) and its registry of scopes.

#include <mutex>
#include <stdexcept>

#include "pg_state.hpp"

namespace troupe::pg {

namespace detail {

namespace {

std::mutex registry_mu;
std::unordered_map<std::string, std::weak_ptr<scope_state>, string_hash, std::equal_to<>>& registry() {
  static auto* r = new std::unordered_map<std::string, std::weak_ptr<scope_state>, string_hash, std::equal_to<>>();
  return *r;
}

}  // namespace

void publish(const std::shared_ptr<scope_state>& s) {
  std::lock_guard lock(registry_mu);
  registry()[s->name] = s;
}

void withdraw(const scope_state& s) noexcept {
  std::lock_guard lock(registry_mu);
  auto it = registry().find(s.name);
  if (it != registry().end() && it->second.lock().get() == &s) registry().erase(it);
}

std::shared_ptr<scope_state> find_scope(std::string_view name) {
  std::lock_guard lock(registry_mu);
  auto it = registry().find(name);
  std::shared_ptr<scope_state> s = it == registry().end() ? nullptr : it->second.lock();
  if (!s) throw std::invalid_argument("troupe::pg: no scope named \"" + std::string(name) + "\" is running (pg::start_link)");
  return s;
}

}  // namespace detail

members_snapshot group::members() const noexcept {
  static const members_snapshot none = std::make_shared<const std::vector<pid>>();
  return g_ ? g_->load() : none;
}

scope::scope(std::string_view name) : s_(detail::find_scope(name)) {}

pid scope::server() const noexcept { return s_->server; }

group scope::get_group(std::string_view name) const { return group(s_->find_or_make(name)); }

std::vector<pid> scope::get_members(std::string_view name) const { return *get_group(name).members(); }

std::vector<std::string> scope::which_groups() const {
  std::vector<std::string> out;
  std::shared_lock lock(s_->mu);
  for (const auto& [name, g] : s_->groups) {
    if (!g->load()->empty()) out.push_back(name);
  }
  return out;
}

}  // namespace troupe::pg
