// Registered names: one table per runtime, guarded by a mutex (registration
// is rare next to sending). Lock order: the names mutex, then a process ext.

#include <stdexcept>

#include <fmt/format.h>

#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/registry.hpp"

namespace troupe::detail {

void runtime_impl::unregister_name(const std::string& name, troupe::pid owner) noexcept {
  std::lock_guard lock(names_mu);
  auto it = names.find(name);
  if (it != names.end() && it->second == owner) names.erase(it);
}

namespace {
runtime_impl& runtime_or_throw(const char* what) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) throw std::logic_error(fmt::format("troupe::{}: no runtime is running", what));
  return *rt;
}
}  // namespace

}  // namespace troupe::detail

namespace troupe {

using namespace detail;

void register_name(std::string name, pid p) {
  runtime_impl& rt = runtime_or_throw("register_name");
  if (name.empty()) throw std::invalid_argument("troupe::register_name: the name is empty");
  std::lock_guard names_lock(rt.names_mu);
  if (auto it = rt.names.find(name); it != rt.names.end()) {
    throw std::invalid_argument(fmt::format("troupe::register_name: '{}' is already registered to {}", name, it->second));
  }
  process* r = rt.table.lookup(p);
  if (!r) throw std::invalid_argument(fmt::format("troupe::register_name: {} is not alive", p));
  process_ext& x = ext_of(r);
  std::lock_guard lock(x.mu);
  if (x.exiting || r->generation.load(std::memory_order_acquire) != p.generation()) {
    throw std::invalid_argument(fmt::format("troupe::register_name: {} is not alive", p));
  }
  if (!x.name.empty()) {
    throw std::invalid_argument(fmt::format("troupe::register_name: {} is already registered as '{}'", p, x.name));
  }
  x.name = name;
  rt.names.emplace(std::move(name), p);
}

bool unregister(std::string_view name) {
  runtime_impl& rt = runtime_or_throw("unregister");
  std::lock_guard names_lock(rt.names_mu);
  auto it = rt.names.find(std::string(name));
  if (it == rt.names.end()) return false;
  if (process* r = rt.table.lookup(it->second)) {
    process_ext& x = ext_of(r);
    std::lock_guard lock(x.mu);
    if (x.name == name) x.name.clear();
  }
  rt.names.erase(it);
  return true;
}

pid whereis(std::string_view name) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) return {};
  std::lock_guard names_lock(rt->names_mu);
  auto it = rt->names.find(std::string(name));
  return it == rt->names.end() ? pid{} : it->second;
}

std::optional<std::string> registered_name(pid p) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(p) : nullptr;
  if (!r) return std::nullopt;
  process_ext* x = r->ext.load(std::memory_order_acquire);
  if (!x) return std::nullopt;
  std::lock_guard lock(x->mu);
  if (x->name.empty() || r->generation.load(std::memory_order_acquire) != p.generation()) return std::nullopt;
  return x->name;
}

void throw_unregistered(std::string_view name) {
  throw std::invalid_argument(fmt::format("troupe::send: no process is registered as '{}'", name));
}

}  // namespace troupe
