#include "socket_state.hpp"

#include <atomic>

#include "outbound.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"

namespace troupe::net::detail {

namespace {

std::atomic<std::uint64_t> next_socket_id{1};

// Adds `delta` to what `owner`'s process_info counts as socket buffers; a
// charge for a process that is gone is dropped.
void charge(troupe::pid owner, std::int64_t delta) noexcept {
  using namespace troupe::detail;
  if (delta == 0 || !owner) return;
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* p = rt ? rt->table.lookup(owner) : nullptr;
  if (!p) return;
  try {
    ext_of(p).io_bytes.fetch_add(delta, std::memory_order_relaxed);
  } catch (...) {
    // No memory for its extension record: the count goes without.
  }
}

}  // namespace

socket_state::socket_state(boost::asio::io_context& io)
    : sock(io), id{next_socket_id.fetch_add(1, std::memory_order_relaxed)} {}

socket_state::~socket_state() {
  close_now(sock);
  charge(owner, -charged);
}

void socket_state::on_suspend() noexcept {
  std::shared_ptr<socket_state> self;
  {
    std::lock_guard lock(mu);
    out.hooked = false;
    self = std::move(hook_ref);
  }
  flush(self);
}

void recharge(socket_state& s) noexcept {
  const auto now = s.closed ? 0 : static_cast<std::int64_t>(s.in.buffer.size() + s.out.size());
  charge(s.owner, now - s.charged);
  s.charged = now;
}

void transfer_charge(socket_state& s, troupe::pid to) noexcept {
  charge(s.owner, -s.charged);
  charge(to, s.charged);
  s.owner = to;
}

}  // namespace troupe::net::detail
