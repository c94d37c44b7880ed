// process_info(p, n): the target lists its own queue (see queue_listing.hpp).

#include "queue_listing.hpp"

#include <chrono>

#include "crash_report.hpp"
#include "runtime_impl.hpp"
#include "troupe/process.hpp"
#include "troupe/timer.hpp"

namespace troupe::detail {

namespace {

// The first `n` messages of `p`'s saved list (the owner, or a requester the
// owner cannot race: itself).
std::vector<queued_message> first_saved(process* p, std::size_t n) {
  std::vector<queued_message> out;
  for (mpsc_node* node = p->saved.next.load(std::memory_order_relaxed); node && out.size() < n;
       node = node->next.load(std::memory_order_relaxed)) {
    const auto* m = static_cast<const message_node*>(node);
    queued_message q;
    q.type = demangle(m->type->id->name());
    try {
      q.value = m->type->describe(m);
    } catch (...) {
      // A formatter that throws: the type alone is still worth listing.
    }
    out.push_back(std::move(q));
  }
  return out;
}

// A requester that is a process gives its scheduler to others (the target
// may be waiting for it) and stays killable; a plain thread sleeps.
void wait_for_answer(listing_request& r) {
  if (!in_process()) {
    r.state.wait(listing_request::waiting, std::memory_order_acquire);
    return;
  }
  for (int round = 0; r.state.load(std::memory_order_acquire) == listing_request::waiting; ++round) {
    if (round < 16) {
      troupe::yield();
    } else {
      troupe::sleep_for(std::chrono::microseconds(100));
    }
  }
}

}  // namespace

void answer_listing(process* p, pending_listing& l) noexcept {
  listing_request& r = *l.request;
  try {
    r.messages = first_saved(p, r.limit);
    r.finish(listing_request::answered);
  } catch (...) {
    r.finish(listing_request::gone);  // out of memory
  }
}

std::optional<std::vector<queued_message>> list_messages(troupe::pid target, std::size_t n) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) return std::nullopt;
  if (process* me = current_process(); me && me->pid() == target) {
    pull_mailbox(me);
    return first_saved(me, n);
  }
  auto request = std::make_shared<listing_request>(n);
  post_signal(target, make_message<pending_listing>(pending_listing{request}), sig_listing);
  wait_for_answer(*request);
  if (request->state.load(std::memory_order_acquire) != listing_request::answered) return std::nullopt;
  return std::move(request->messages);
}

}  // namespace troupe::detail
