// The supervisor: a gen_server that traps exits, as OTP's is.

#include "troupe/supervisor.hpp"

#include "troupe/detail/supervision.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "troupe/links.hpp"
#include "troupe/log.hpp"
#include "troupe/receive.hpp"
#include "troupe/registry.hpp"

namespace troupe {

child_spec worker(std::string id, std::function<start_result<pid>()> start, restart_type restart) {
  return {std::move(id), std::move(start), restart, std::nullopt, child_type::worker};
}

child_spec supervisor_child(std::string id, std::function<start_result<pid>()> start, restart_type restart) {
  return {std::move(id), std::move(start), restart, std::nullopt, child_type::supervisor};
}

namespace {

shutdown_policy policy_of(const child_spec& s) { return s.shutdown ? *s.shutdown : detail::default_shutdown(s.type); }

// What an invalid spec is wrong with, or empty.
std::string spec_error(const child_spec& s) {
  if (s.id.empty()) return "a child spec has an empty id";
  if (!s.start) return fmt::format("child \"{}\" has no start function", s.id);
  if (s.shutdown && !s.shutdown->brutal && s.shutdown->timeout.count() < 0)
    return fmt::format("child \"{}\" has a negative shutdown timeout", s.id);
  return {};
}

std::string flags_error(const supervisor_flags& f, const std::vector<child_spec>& children) {
  if (f.max_restarts < 0) return fmt::format("max_restarts is {}: it must be 0 or more", f.max_restarts);
  if (f.max_seconds.count() <= 0) return fmt::format("max_seconds is {} ms: it must be more than 0", f.max_seconds.count());
  std::set<std::string> ids;
  for (const child_spec& c : children) {
    if (std::string e = spec_error(c); !e.empty()) return e;
    if (!ids.insert(c.id).second) return fmt::format("duplicate child id \"{}\"", c.id);
  }
  return {};
}

exit_reason bad_spec(std::string what) { return exit_reason::user(fmt::format("{{start_spec,\"{}\"}}", what)); }

// Requests; the replies are the supervisor module's answers.
struct start_child_req {
  child_spec spec;
};
struct terminate_child_req {
  std::string id;
};
struct restart_child_req {
  std::string id;
};
struct delete_child_req {
  std::string id;
};
struct which_children_req {};
struct count_children_req {};

}  // namespace

namespace detail {

class supervisor_server : public gen_server<supervisor_server> {
 public:
  supervisor_server(supervisor_flags flags, std::vector<child_spec> specs)
      : flags_(flags), restarts_(flags.max_restarts, flags.max_seconds) {
    trap_exit(true);
    for (child_spec& s : specs) children_.push_back({std::move(s), pid{}});
  }

  next_action init() {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      start_result<pid> r = start(children_[i]);
      if (r.status() == start_status::ignore) continue;
      if (!r) {
        report("start_error", r.reason(), children_[i]);
        const std::string id = children_[i].spec.id;
        stop_all();
        return stop(exit_reason::shutdown(fmt::format("{{failed_to_start_child,{},{}}}", id, r.reason())));
      }
    }
    return noreply();
  }

  start_result<pid> handle_call(start_child_req req) {
    if (std::string e = spec_error(req.spec); !e.empty()) return {start_status::error, pid{}, bad_spec(e)};
    if (child* c = find(req.spec.id)) {
      if (c->running) return {start_status::already_started, pid{}, {}, c->running};
      return {start_status::already_present, pid{}};
    }
    children_.push_back({std::move(req.spec), pid{}});
    start_result<pid> r = start(children_.back());
    // OTP keeps the spec of a child that ignored its start (unless temporary),
    // not of one that failed.
    const bool keep = r || (r.status() == start_status::ignore && children_.back().spec.restart != restart_type::temporary);
    if (!keep) children_.pop_back();
    return r;
  }

  child_result handle_call(terminate_child_req req) {
    child* c = find(req.id);
    if (!c) return child_result::not_found;
    shut_down(*c);
    if (c->spec.restart == restart_type::temporary) erase(*c);
    return child_result::ok;
  }

  start_result<pid> handle_call(restart_child_req req) {
    child* c = find(req.id);
    if (!c) return {start_status::not_found, pid{}};
    if (c->running) return {start_status::running, pid{}};
    return start(*c);
  }

  child_result handle_call(delete_child_req req) {
    child* c = find(req.id);
    if (!c) return child_result::not_found;
    if (c->running) return child_result::running;
    erase(*c);
    return child_result::ok;
  }

  std::vector<child_info> handle_call(which_children_req) {
    std::vector<child_info> out;
    for (const child& c : children_) out.push_back({c.spec.id, c.running, c.spec.type});
    return out;
  }

  child_counts handle_call(count_children_req) {
    child_counts n;
    for (const child& c : children_) {
      ++n.specs;
      n.active += static_cast<bool>(c.running);
      (c.spec.type == child_type::supervisor ? n.supervisors : n.workers) += 1;
    }
    return n;
  }

  next_action handle_info(exit_message e) {
    auto it = std::find_if(children_.begin(), children_.end(), [&](const child& c) { return c.running == e.from; });
    if (it == children_.end()) return noreply();  // a link that is not a child's: nothing to do, as OTP
    it->running = pid{};
    if (!e.reason.is_quiet()) report("child_terminated", e.reason, *it, e.from);
    const restart_type how = it->spec.restart;
    if (how == restart_type::temporary) {
      children_.erase(it);
      return noreply();
    }
    if (how == restart_type::transient && e.reason.is_quiet()) return noreply();
    return restart(static_cast<std::size_t>(it - children_.begin()));
  }

  void terminate(const exit_reason&) { stop_all(); }

 private:
  struct child {
    child_spec spec;
    pid running;
  };

  child* find(const std::string& id) {
    auto it = std::find_if(children_.begin(), children_.end(), [&](const child& c) { return c.spec.id == id; });
    return it == children_.end() ? nullptr : &*it;
  }
  void erase(const child& c) {
    children_.erase(children_.begin() + (&c - children_.data()));
  }

  start_result<pid> start(child& c) {
    start_result<pid> r;
    try {
      r = c.spec.start();
    } catch (...) {
      if (handling_forced_exit()) throw;
      r = start_result<pid>(start_status::error, pid{}, reason_from_current_exception());
    }
    if (r) {
      c.running = r.handle();
    } else if (r.status() == start_status::already_started) {
      // OTP takes a child that finds itself already started as started.
      c.running = r.holder();
      r = start_result<pid>(start_status::ok, r.holder());
    }
    return r;
  }

  next_action restart(std::size_t i) {
    for (;;) {
      if (!restarts_.add()) {
        report("shutdown", exit_reason::user("reached_max_restart_intensity"), children_[i]);
        return stop(exit_reason::shutdown());
      }
      const std::size_t first = flags_.strategy == strategy::one_for_all ? 0 : i;
      std::size_t last = flags_.strategy == strategy::one_for_one ? i + 1 : children_.size();
      // Stop the others of the group, the last started first.
      for (std::size_t k = last; k-- > first;) shut_down(children_[k]);
      // Temporary children stopped for the group are not restarted.
      bool failed = false;
      std::size_t failed_at = i;
      for (std::size_t k = first; k < children_.size() && k < last;) {
        child& c = children_[k];
        if (k != i && c.spec.restart == restart_type::temporary) {
          children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(k));
          if (k < i) --i;
          --last;
          continue;
        }
        start_result<pid> r = start(c);
        if (!r && r.status() != start_status::ignore) {
          report("start_error", r.reason(), c);
          failed = true;
          failed_at = k;
          break;
        }
        ++k;
      }
      if (!failed) return noreply();
      i = failed_at;  // try again, counting it as another restart (OTP's try_again_restart)
    }
  }

  // Stops a running child by its shutdown policy and forgets its pid.
  void shut_down(child& c) {
    const pid p = std::exchange(c.running, pid{});
    if (p) shut_down_child(p, policy_of(c.spec), c.spec.id, c.spec.restart, c.spec.type);
  }

  void stop_all() {
    for (std::size_t k = children_.size(); k-- > 0;) shut_down(children_[k]);
  }

  void report(std::string_view context, const exit_reason& reason, const child& c, pid p = {}) const {
    report_supervisor(context, reason, p, c.spec.id, c.spec.restart, c.spec.type);
  }

  supervisor_flags flags_;
  std::vector<child> children_;
  restart_window restarts_;
};

}  // namespace detail

namespace {
server<detail::supervisor_server> at(pid sup) { return server<detail::supervisor_server>(sup); }
}  // namespace

start_result<pid> supervisor::start_link(supervisor_flags flags, std::vector<child_spec> children,
                                         const server_options& options) {
  if (std::string e = flags_error(flags, children); !e.empty()) return {start_status::error, pid{}, bad_spec(e)};
  return detail::supervisor_server::start_link(options, flags, std::move(children));
}

start_result<pid> supervisor::start_child(pid sup, child_spec spec) {
  return call(at(sup), start_child_req{std::move(spec)}, infinity);
}
child_result supervisor::terminate_child(pid sup, const std::string& id) {
  return call(at(sup), terminate_child_req{id}, infinity);
}
start_result<pid> supervisor::restart_child(pid sup, const std::string& id) {
  return call(at(sup), restart_child_req{id}, infinity);
}
child_result supervisor::delete_child(pid sup, const std::string& id) {
  return call(at(sup), delete_child_req{id}, infinity);
}
std::vector<child_info> supervisor::which_children(pid sup) { return call(at(sup), which_children_req{}, infinity); }
child_counts supervisor::count_children(pid sup) { return call(at(sup), count_children_req{}, infinity); }

}  // namespace troupe
