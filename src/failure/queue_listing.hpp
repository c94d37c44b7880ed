#pragma once
// process_info(p, n): listing the first messages in another process's queue.
//
// Only the owner may walk its queue, so the request travels as a signal: a
// message of an internal type in the target's mailbox, behind whatever the
// requester sent before, with a bit that makes the target pull it at its
// next runtime call (or wakes it if it waits). The target answers when it
// pulls the request, with the messages queued ahead of it, as OTP's
// process_info signal is handled in order with the messages.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "process_record.hpp"
#include "troupe/process_info.hpp"

namespace troupe::detail {

struct listing_request {
  enum : int { waiting, answered, gone };
  explicit listing_request(std::size_t n) : limit(n) {}
  std::size_t limit;
  std::vector<queued_message> messages;  // written by the target before `answered`
  std::atomic<int> state{waiting};

  void finish(int how) noexcept {
    state.store(how, std::memory_order_release);
    state.notify_all();
  }
};

/// The request in the target's mailbox. Destroyed unanswered (the target
/// exited first), it tells the requester so.
struct pending_listing {
  std::shared_ptr<listing_request> request;

  explicit pending_listing(std::shared_ptr<listing_request> r) noexcept : request(std::move(r)) {}
  pending_listing(pending_listing&&) noexcept = default;
  pending_listing& operator=(pending_listing&&) = delete;
  ~pending_listing() {
    if (request && request->state.load(std::memory_order_acquire) == listing_request::waiting)
      request->finish(listing_request::gone);
  }
};

/// The target, pulling a request from its mailbox: answers it from its
/// saved list (everything queued ahead of the request).
void answer_listing(process* p, pending_listing& l) noexcept;

/// The first `n` messages queued for `target`, or nullopt if it exited
/// before it answered. Waits for the target to reach a runtime call.
std::optional<std::vector<queued_message>> list_messages(troupe::pid target, std::size_t n);

}  // namespace troupe::detail
