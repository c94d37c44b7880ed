#pragma once
// Message nodes: one allocation per send, the payload inline after the header.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "troupe/detail/alloc.hpp"

namespace troupe {

/// True for types that refer to data they do not own: a message of such a
/// type would leave the receiver pointing into the sender's memory, which may
/// be gone (or change) by the time it looks, so send and send_after reject
/// them at compile time, as they do raw pointers.
///
/// True for std::basic_string_view, std::span, std::reference_wrapper,
/// std::initializer_list and pointers, and for std::pair, std::tuple,
/// std::optional, std::variant and std::array holding any of those.
/// Specialise it for your own view types:
///
///   template <> struct troupe::is_non_owning<my_view> : std::true_type {};
template <class T>
struct is_non_owning : std::bool_constant<std::is_pointer_v<T> || std::is_member_pointer_v<T>> {};
template <class T>
inline constexpr bool is_non_owning_v = is_non_owning<std::remove_cv_t<T>>::value;

template <class C, class Tr>
struct is_non_owning<std::basic_string_view<C, Tr>> : std::true_type {};
template <class T, std::size_t N>
struct is_non_owning<std::span<T, N>> : std::true_type {};
template <class T>
struct is_non_owning<std::reference_wrapper<T>> : std::true_type {};
template <class T>
struct is_non_owning<std::initializer_list<T>> : std::true_type {};
// Composites hold what they hold: one view inside makes the whole a view.
template <class A, class B>
struct is_non_owning<std::pair<A, B>> : std::bool_constant<is_non_owning_v<A> || is_non_owning_v<B>> {};
template <class... Ts>
struct is_non_owning<std::tuple<Ts...>> : std::bool_constant<(is_non_owning_v<Ts> || ...)> {};
template <class... Ts>
struct is_non_owning<std::variant<Ts...>> : std::bool_constant<(is_non_owning_v<Ts> || ...)> {};
template <class T>
struct is_non_owning<std::optional<T>> : std::bool_constant<is_non_owning_v<T>> {};
template <class T, std::size_t N>
struct is_non_owning<std::array<T, N>> : std::bool_constant<is_non_owning_v<T>> {};

}  // namespace troupe

namespace troupe::detail {

/// Link of the intrusive mailbox stack and of a process's saved list.
struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

struct message_node;

/// Base of a payload addressed to an alias (detail/alias.hpp): such a message
/// reaches its receiver only while the receiver holds that alias active, so
/// a reply that comes after its caller gave up is dropped on arrival.
struct alias_header {
  std::uint64_t alias = 0;
};

/// What the runtime knows of a message type: one static instance per type,
/// whose address doubles as the type's identity (cheaper than typeid).
struct message_type {
  void (*destroy)(message_node*) noexcept;
  /// For crash reports: the value printed with fmt if it can be, else empty.
  std::string (*describe)(const message_node*);
  const std::type_info* id;
  /// For a payload deriving from alias_header: the alias it is addressed to.
  std::uint64_t (*alias)(const message_node*) noexcept;
  /// The protocol a message belongs to (a behaviour's request envelopes name
  /// theirs: `static constexpr const void* protocol`), or null.
  const void* protocol;
};

/// message_node::flags
enum message_flags : std::uint32_t {
  to_alias = 1u << 0,  // the payload derives from alias_header
};

/// Header of every message. `generation` is the receiver incarnation the
/// sender addressed, so a message racing with slot reuse is dropped instead of
/// reaching the wrong process.
struct message_node : mpsc_node {
  const message_type* type;
  std::uint32_t generation = 0;
  std::uint32_t flags = 0;  // message_flags; in what was padding, so the pull loop tests it for free
};

template <class T>
constexpr const void* protocol_of() noexcept {
  if constexpr (requires { T::protocol; }) return T::protocol;
  else return nullptr;
}

template <class T>
struct typed_node final : message_node {
  T value;

  template <class... A>
  explicit typed_node(A&&... a) : value(std::forward<A>(a)...) {
    type = &info;
    if constexpr (std::is_base_of_v<alias_header, T>) flags = to_alias;
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
  static std::uint64_t alias_impl(const message_node* n) noexcept {
    if constexpr (std::is_base_of_v<alias_header, T>) {
      return static_cast<const alias_header&>(static_cast<const typed_node*>(n)->value).alias;
    } else {
      return 0;
    }
  }
  static constexpr message_type info{&destroy_impl, &describe_impl, &typeid(T), &alias_impl, protocol_of<T>()};
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

/// Whether `r` is a process's heap (troupe::heap()), which is freed with its
/// process: a message or spawn argument must not keep memory there.
bool is_process_heap(const std::pmr::memory_resource* r) noexcept;

/// Types that allocate through a std::pmr resource and can be rebuilt with
/// another one: the std::pmr containers, and user types that follow the
/// allocator protocol (allocator_type, get_allocator(), allocator-extended
/// constructors).
template <class T>
concept pmr_allocated = std::uses_allocator_v<T, std::pmr::polymorphic_allocator<>> && requires(const T& v) {
  { v.get_allocator().resource() } -> std::convertible_to<std::pmr::memory_resource*>;
};

/// `a` as a value that owns all its memory: a pmr-allocated value whose
/// memory is in a process heap is rebuilt in the global heap (uses-allocator
/// construction, so nested pmr members move with it); anything else is
/// passed through untouched.
template <class A>
decltype(auto) owned(A&& a) {
  using V = std::remove_cvref_t<A>;
  if constexpr (pmr_allocated<V>) {
    if (is_process_heap(a.get_allocator().resource()))
      return std::make_obj_using_allocator<V>(std::pmr::polymorphic_allocator<>(std::pmr::new_delete_resource()),
                                              std::forward<A>(a));
    return V(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
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

/// Why a message of type V cannot be built from a `From`, or `ok`. One
/// reason per type, the first in this order, so that send and send_after
/// state exactly one rule (one static_assert each) and build nothing else.
enum class message_error {
  ok,
  pointer,       // raw or member pointer
  array,         // C array (a string literal is one)
  non_owning,    // is_non_owning<V>: a view of data the sender owns
  not_movable,   // cannot be moved into the message
  throwing_destructor,  // the runtime destroys messages in noexcept code
  not_constructible,    // cannot be built from what was passed (a move-only lvalue)
};

template <class V, class From = V&&>
constexpr message_error message_error_of() noexcept {
  if constexpr (std::is_pointer_v<V> || std::is_member_pointer_v<V>) return message_error::pointer;
  else if constexpr (std::is_array_v<V>) return message_error::array;
  else if constexpr (is_non_owning_v<V>) return message_error::non_owning;
  else if constexpr (!std::is_move_constructible_v<V>) return message_error::not_movable;
  else if constexpr (!std::is_nothrow_destructible_v<V>) return message_error::throwing_destructor;
  else if constexpr (!std::is_constructible_v<V, From>) return message_error::not_constructible;
  else return message_error::ok;
}

}  // namespace troupe::detail
