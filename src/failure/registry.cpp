// Registered names: one table per runtime, guarded by a mutex (registration
// is rare next to sending). Lock order: the names mutex, then a process ext.

#include <stdexcept>

#include <fmt/format.h>

#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
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
  ensure_headroom();
  if (name.empty()) throw std::invalid_argument("troupe::register_name: the name is empty");
  // What went wrong is decided under the locks and said after them: building
  // the message and throwing need more stack than the locked part itself.
  enum class refusal { none, taken, dead, named } why = refusal::none;
  pid holder;
  std::string old_name;
  {
    std::lock_guard names_lock(rt.names_mu);
    if (auto it = rt.names.find(name); it != rt.names.end()) {
      why = refusal::taken;
      holder = it->second;
    } else if (process* r = rt.table.lookup(p); !r) {
      why = refusal::dead;
    } else {
      process_ext& x = ext_of(r);
      std::lock_guard lock(x.mu);
      if (x.exiting || r->generation.load(std::memory_order_acquire) != p.generation()) {
        why = refusal::dead;
      } else if (!x.name().empty()) {
        why = refusal::named;
        old_name = x.name();
      } else {
        x.rare().name = name;
        rt.names.emplace(std::move(name), p);
      }
    }
  }
  switch (why) {
    case refusal::none: return;
    case refusal::taken:
      throw std::invalid_argument(fmt::format("troupe::register_name: '{}' is already registered to {}", name, holder));
    case refusal::dead: throw std::invalid_argument(fmt::format("troupe::register_name: {} is not alive", p));
    case refusal::named:
      throw std::invalid_argument(fmt::format("troupe::register_name: {} is already registered as '{}'", p, old_name));
  }
}

bool unregister(std::string_view name) {
  runtime_impl& rt = runtime_or_throw("unregister");
  ensure_headroom();
  std::lock_guard names_lock(rt.names_mu);
  auto it = rt.names.find(std::string(name));
  if (it == rt.names.end()) return false;
  if (process* r = rt.table.lookup(it->second)) {
    process_ext& x = ext_of(r);
    std::lock_guard lock(x.mu);
    if (x.rare_ && x.rare_->name == name) x.rare_->name.clear();
  }
  rt.names.erase(it);
  return true;
}

pid whereis(std::string_view name) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) return {};
  ensure_headroom();
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
  ensure_headroom();
  std::lock_guard lock(x->mu);
  if (x->name().empty() || r->generation.load(std::memory_order_acquire) != p.generation()) return std::nullopt;
  return x->name();
}

void throw_unregistered(std::string_view name) {
  throw std::invalid_argument(fmt::format("troupe::send: no process is registered as '{}'", name));
}

}  // namespace troupe
