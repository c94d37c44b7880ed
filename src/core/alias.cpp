// Aliases and mailbox marks (troupe/detail/alias.hpp).

#include "troupe/detail/alias.hpp"

#include <stdexcept>

#include "process_ext.hpp"
#include "runtime_impl.hpp"

namespace troupe::detail {

namespace {

process* caller(const char* what) {
  process* p = current_process();
  if (!p) throw std::logic_error(std::string("troupe: ") + what + " called outside a process");
  return p;
}

}  // namespace

namespace {

// Unique for the program's life, not just a runtime's, so that each thread
// can take them in blocks: every call makes one (its monitor and alias), and
// one counter for all would be a cache line passed between the cores on
// each call.
std::atomic<std::uint64_t> ref_blocks{1};
constexpr std::uint64_t ref_block = 4096;

struct ref_range {
  std::uint64_t next = 0, end = 0;
};
thread_local ref_range refs;

}  // namespace

std::uint64_t new_ref() noexcept {
  if (refs.next == refs.end) [[unlikely]] {
    refs.next = ref_blocks.fetch_add(ref_block, std::memory_order_relaxed);
    refs.end = refs.next + ref_block;
  }
  return refs.next++;
}

void set_active_alias(std::uint64_t alias) {
  process* p = current_process();
  if (!p) return;
  if (alias == 0) {
    if (process_ext* x = p->ext.load(std::memory_order_acquire)) x->active_alias.store(0, std::memory_order_relaxed);
    return;
  }
  ext_of(p).active_alias.store(alias, std::memory_order_relaxed);
}

void send_to_alias(pid to, message_node* m) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(to) : nullptr;
  // A racy early look: if the receiver turns the alias off after it, the
  // receiver drops the message when it pulls it.
  const process_ext* x = r ? r->ext.load(std::memory_order_acquire) : nullptr;
  if (!x || r->generation.load(std::memory_order_relaxed) != to.generation() ||
      x->active_alias.load(std::memory_order_relaxed) != m->type->alias(m)) {
    destroy_message(m);
    if (process* me = current_process()) charge_quietly(me, 1);
    return;
  }
  deliver(to, m);
}

recv_mark mark_mailbox() {
  process* p = caller("mark_mailbox");
  pull_mailbox(p);
  return {p->saved_tail};
}

recv_cursor recv_begin_at(recv_mark mark) {
  recv_cursor c = recv_begin();
  c.link = mark.link;
  return c;
}

}  // namespace troupe::detail
