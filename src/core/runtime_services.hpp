#pragma once
// Services that the layers above the core attach to a runtime (the net
// layer's poller thread): made on first use, so a runtime that never asks for
// one pays nothing, and stopped at shutdown once every process is gone, so
// that what a dying process closed on its way out is done first.

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace troupe::detail {

class runtime_impl;

class runtime_service {
 public:
  virtual ~runtime_service() = default;
  /// At shutdown, after the last process has ended (any thread).
  virtual void stop() noexcept = 0;
};

class runtime_services {
 public:
  /// The service registered under `key` (the address of something of the
  /// caller's), made by `make(rt)` if there is none yet. Any thread.
  template <class Service>
  Service& get(const void* key, runtime_impl& rt, std::unique_ptr<Service> (*make)(runtime_impl&)) {
    std::lock_guard lock(mu_);
    for (auto& [k, s] : services_) {
      if (k == key) return static_cast<Service&>(*s);
    }
    std::unique_ptr<Service> made = make(rt);
    Service& ref = *made;
    services_.emplace_back(key, std::move(made));
    return ref;
  }

  /// Stops every service, the newest first, and destroys them.
  void stop_all() noexcept {
    std::vector<std::pair<const void*, std::unique_ptr<runtime_service>>> all;
    {
      std::lock_guard lock(mu_);
      all.swap(services_);
    }
    for (auto it = all.rbegin(); it != all.rend(); ++it) it->second->stop();
    while (!all.empty()) all.pop_back();
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<const void*, std::unique_ptr<runtime_service>>> services_;
};

}  // namespace troupe::detail
