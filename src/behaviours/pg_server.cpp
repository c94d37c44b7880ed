// The pg scope process: the one writer of its groups. It monitors every
// member (and every process watching a group), so that one that ends leaves
// its groups and its watches.

#include <algorithm>
#include <map>
#include <unordered_map>

#include "pg_state.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/links.hpp"

namespace troupe::pg {

namespace detail {

std::shared_ptr<group_state> scope_state::find_or_make(std::string_view name) {
  {
    std::shared_lock lock(mu);
    if (auto it = groups.find(name); it != groups.end()) return it->second;
  }
  std::unique_lock lock(mu);
  auto [it, made] = groups.try_emplace(std::string(name), nullptr);
  if (made) it->second = std::make_shared<group_state>();
  return it->second;
}

// The scope's requests (calls), made by the public functions in pg.cpp.
struct join_req {
  std::string group;
  std::vector<pid> pids;
};
struct leave_req {
  std::string group;
  std::vector<pid> pids;
};
struct monitor_req {
  std::string group;
  pid watcher;
};
struct demonitor_req {
  std::uint64_t ref;
};

struct member_info {
  monitor_ref mon;
  std::map<std::string, int, std::less<>> groups;  // group -> times joined
};

struct watch_info {
  pid watcher;
  std::string group;
};

class scope_server : public gen_server<scope_server> {
 public:
  explicit scope_server(std::shared_ptr<scope_state> s) : s_(std::move(s)) {
    s_->server = self();
    publish(s_);
  }
  ~scope_server() { withdraw(*s_); }

  void handle_call(join_req r) {
    for (const pid p : r.pids) {
      member_info& m = members_[p];
      if (m.groups.empty()) m.mon = troupe::monitor(p);  // a dead pid: its down_message takes it out again
      ++m.groups[r.group];
    }
    auto g = s_->find_or_make(r.group);
    auto next = std::make_shared<std::vector<pid>>(*g->load());
    next->insert(next->end(), r.pids.begin(), r.pids.end());
    g->store(std::move(next));
    tell<joined>(r.group, r.pids);
  }

  bool handle_call(leave_req r) {
    std::map<pid, int> want;
    for (const pid p : r.pids) ++want[p];
    for (const auto& [p, n] : want) {
      auto it = members_.find(p);
      if (it == members_.end()) return false;
      auto g = it->second.groups.find(r.group);
      if (g == it->second.groups.end() || g->second < n) return false;
    }
    for (const auto& [p, n] : want) forget(p, r.group, n);
    remove_from(r.group, want);
    tell<left>(r.group, r.pids);
    return true;
  }

  monitor_result handle_call(monitor_req r) {
    const std::uint64_t ref = ++next_ref_;
    watches_[ref] = watch_info{r.watcher, r.group};
    watchers_.emplace(r.group, ref);
    if (watcher_mons_[r.watcher].second++ == 0) watcher_mons_[r.watcher].first = troupe::monitor(r.watcher);
    return monitor_result{ref, *s_->find_or_make(r.group)->load()};
  }

  bool handle_call(demonitor_req r) {
    auto it = watches_.find(r.ref);
    if (it == watches_.end()) return false;
    drop_watch(it);
    return true;
  }

  void handle_info(down_message d) {
    if (auto it = members_.find(d.who); it != members_.end() && it->second.mon == d.ref) {
      const std::map<std::string, int, std::less<>> groups = std::move(it->second.groups);
      members_.erase(it);
      for (const auto& [group, n] : groups) {
        remove_from(group, {{d.who, n}});
        tell<left>(group, std::vector<pid>(static_cast<std::size_t>(n), d.who));
      }
    }
    if (auto w = watcher_mons_.find(d.who); w != watcher_mons_.end() && w->second.first == d.ref) {
      watcher_mons_.erase(w);
      std::erase_if(watches_, [&](const auto& kv) {
        if (kv.second.watcher != d.who) return false;
        unlist_watch(kv.first, kv.second.group);
        return true;
      });
    }
  }

 private:
  // One membership fewer, `n` times; the monitor goes with the last.
  void forget(pid p, const std::string& group, int n) {
    member_info& m = members_[p];
    if ((m.groups[group] -= n) <= 0) m.groups.erase(group);
    if (m.groups.empty()) {
      troupe::demonitor(m.mon, true);
      members_.erase(p);
    }
  }

  // A new snapshot of `group` without `n` of each pid in `gone`.
  void remove_from(const std::string& group, std::map<pid, int> gone) {
    auto g = s_->find_or_make(group);
    auto next = std::make_shared<std::vector<pid>>();
    for (const pid p : *g->load()) {
      if (auto it = gone.find(p); it != gone.end() && it->second > 0) {
        --it->second;
        continue;
      }
      next->push_back(p);
    }
    g->store(std::move(next));
  }

  template <class Change>
  void tell(const std::string& group, const std::vector<pid>& pids) {
    auto [b, e] = watchers_.equal_range(group);
    for (auto it = b; it != e; ++it) troupe::send(watches_.at(it->second).watcher, Change{it->second, group, pids});
  }

  void drop_watch(std::unordered_map<std::uint64_t, watch_info>::iterator it) {
    const pid w = it->second.watcher;
    unlist_watch(it->first, it->second.group);
    watches_.erase(it);
    auto m = watcher_mons_.find(w);
    if (m != watcher_mons_.end() && --m->second.second == 0) {
      troupe::demonitor(m->second.first, true);
      watcher_mons_.erase(m);
    }
  }

  void unlist_watch(std::uint64_t ref, const std::string& group) {
    auto [b, e] = watchers_.equal_range(group);
    for (auto it = b; it != e; ++it) {
      if (it->second == ref) {
        watchers_.erase(it);
        return;
      }
    }
  }

  std::shared_ptr<scope_state> s_;
  std::map<pid, member_info> members_;
  std::unordered_map<std::uint64_t, watch_info> watches_;
  std::unordered_multimap<std::string, std::uint64_t> watchers_;       // group -> watch refs
  std::map<pid, std::pair<monitor_ref, int>> watcher_mons_;           // watcher -> its monitor, its watches
  std::uint64_t next_ref_ = 0;
};

namespace {

start_result<pid> start_scope(std::string_view name, bool link) {
  server_options o;
  o.name = std::string(name);
  auto state = std::make_shared<scope_state>(std::string(name));
  if (link) return scope_server::start_link(o, state);
  return scope_server::start(o, state);
}

}  // namespace

}  // namespace detail

start_result<pid> start_link(std::string_view name) { return detail::start_scope(name, true); }

namespace {

server<detail::scope_server> server_of(const std::shared_ptr<detail::scope_state>& s) {
  return server<detail::scope_server>(s->server);
}

}  // namespace

void scope::join(std::string_view name, pid member) const { join(name, std::span<const pid>(&member, 1)); }

void scope::join(std::string_view name, std::span<const pid> members) const {
  troupe::call(server_of(s_), detail::join_req{std::string(name), {members.begin(), members.end()}}, infinity);
}

bool scope::leave(std::string_view name, pid member) const { return leave(name, std::span<const pid>(&member, 1)); }

bool scope::leave(std::string_view name, std::span<const pid> members) const {
  return troupe::call(server_of(s_), detail::leave_req{std::string(name), {members.begin(), members.end()}}, infinity);
}

monitor_result scope::monitor(std::string_view name) const {
  return troupe::call(server_of(s_), detail::monitor_req{std::string(name), self()}, infinity);
}

bool scope::demonitor(std::uint64_t ref) const {
  return troupe::call(server_of(s_), detail::demonitor_req{ref}, infinity);
}
start_result<pid> start(std::string_view name) { return detail::start_scope(name, false); }

}  // namespace troupe::pg
