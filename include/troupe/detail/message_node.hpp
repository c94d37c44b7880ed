#pragma once
// Message nodes: one allocation per send, the payload inline after the header.

#include <atomic>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <fmt/format.h>

#include "troupe/detail/alloc.hpp"

namespace troupe::detail {

/// Link of the intrusive mailbox stack and of a process's saved list.
struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

struct message_node;

/// What the runtime knows of a message type: one static instance per type,
/// whose address doubles as the type's identity (cheaper than typeid).
struct message_type {
  void (*destroy)(message_node*) noexcept;
  /// For crash reports: the value printed with fmt if it can be, else empty.
  std::string (*describe)(const message_node*);
  const std::type_info* id;
};

/// Header of every message. `generation` is the receiver incarnation the
/// sender addressed, so a message racing with slot reuse is dropped instead of
/// reaching the wrong process.
struct message_node : mpsc_node {
  const message_type* type;
  std::uint32_t generation = 0;
};

template <class T>
struct typed_node final : message_node {
  T value;

  template <class... A>
  explicit typed_node(A&&... a) : value(std::forward<A>(a)...) {
    type = &info;
  }

  static void destroy_impl(message_node* n) noexcept {
    auto* self = static_cast<typed_node*>(n);
    self->~typed_node();
    free_raw(self, sizeof(typed_node), alignof(typed_node));
  }
  static std::string describe_impl(const message_node* n) {
    if constexpr (fmt::is_formattable<T>::value) {
      return fmt::format("{}", static_cast<const typed_node*>(n)->value);
    } else {
      return {};
    }
  }
  static constexpr message_type info{&destroy_impl, &describe_impl, &typeid(T)};
};

template <class T>
inline const message_type* type_of() noexcept {
  return &typed_node<T>::info;
}

inline void destroy_message(message_node* n) noexcept { n->type->destroy(n); }

template <class T, class... A>
message_node* make_message(A&&... a) {
  void* mem = allocate_raw(sizeof(typed_node<T>), alignof(typed_node<T>));
  try {
    return ::new (mem) typed_node<T>(std::forward<A>(a)...);
  } catch (...) {
    free_raw(mem, sizeof(typed_node<T>), alignof(typed_node<T>));
    throw;
  }
}

template <class T>
T& payload(message_node* n) noexcept {
  return static_cast<typed_node<T>*>(n)->value;
}

/// Notes the message a process was handling when an exception escaped its
/// handler (for the crash report).
void note_crash_message(const message_node* n) noexcept;

/// Owns a message node taken by receive until its handler is done. While the
/// handler runs the node sits on the process's `handling` list (linked
/// through its now unused `next`), so that the runtime can free it if the
/// process dies without unwinding (a stack overflow).
class node_guard {
 public:
  node_guard(message_node* n, std::atomic<mpsc_node*>* handling) noexcept : n_(n), handling_(handling) {
    n->next.store(handling->load(std::memory_order_relaxed), std::memory_order_relaxed);
    handling->store(n, std::memory_order_relaxed);
  }
  node_guard(const node_guard&) = delete;
  node_guard& operator=(const node_guard&) = delete;
  ~node_guard() {
    handling_->store(n_->next.load(std::memory_order_relaxed), std::memory_order_relaxed);
    destroy_message(n_);
  }

 private:
  message_node* n_;
  std::atomic<mpsc_node*>* handling_;
};

/// What may be sent: values the receiver can own outright.
template <class T>
inline constexpr bool sendable_v =
    !std::is_pointer_v<T> && !std::is_member_pointer_v<T> && !std::is_array_v<T> &&
    std::is_move_constructible_v<T> && std::is_destructible_v<T> && !std::is_const_v<T>;

}  // namespace troupe::detail
