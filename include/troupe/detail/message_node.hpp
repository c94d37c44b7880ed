#pragma once
// Message nodes: one allocation per send, the payload inline after the header.

#include <atomic>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "troupe/detail/alloc.hpp"

namespace troupe::detail {

/// Link of the intrusive MPSC mailbox queue.
struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

/// A unique address per message type: cheaper to compare than typeid.
template <class T>
struct type_tag {
  static constexpr char id = 0;
};
template <class T>
inline const void* tag_of() noexcept {
  return &type_tag<T>::id;
}

/// Header of every message. `generation` is the receiver incarnation the
/// sender addressed, so a message racing with slot reuse is dropped instead of
/// reaching the wrong process.
struct message_node : mpsc_node {
  const void* tag;
  void (*destroy)(message_node*) noexcept;
  std::uint32_t generation = 0;
};

template <class T>
struct typed_node final : message_node {
  T value;

  template <class... A>
  explicit typed_node(A&&... a) : value(std::forward<A>(a)...) {
    tag = tag_of<T>();
    destroy = &typed_node::destroy_impl;
  }

  static void destroy_impl(message_node* n) noexcept {
    auto* self = static_cast<typed_node*>(n);
    self->~typed_node();
    free_raw(self);
  }
};

template <class T, class... A>
message_node* make_message(A&&... a) {
  void* mem = allocate_raw(sizeof(typed_node<T>), alignof(typed_node<T>));
  try {
    return ::new (mem) typed_node<T>(std::forward<A>(a)...);
  } catch (...) {
    free_raw(mem);
    throw;
  }
}

template <class T>
T& payload(message_node* n) noexcept {
  return static_cast<typed_node<T>*>(n)->value;
}

/// Owns a message node until it is released (frees it on unwinding).
class node_guard {
 public:
  explicit node_guard(message_node* n) noexcept : n_(n) {}
  node_guard(const node_guard&) = delete;
  node_guard& operator=(const node_guard&) = delete;
  ~node_guard() {
    if (n_) n_->destroy(n_);
  }

 private:
  message_node* n_;
};

/// What may be sent: values the receiver can own outright.
template <class T>
inline constexpr bool sendable_v =
    !std::is_pointer_v<T> && !std::is_member_pointer_v<T> && !std::is_array_v<T> &&
    std::is_move_constructible_v<T> && std::is_destructible_v<T> && !std::is_const_v<T>;

}  // namespace troupe::detail
