#pragma once
// troupe/any_message.hpp — the catch-all receive clause (Erlang's `Other -> ...`).
//
//   troupe::receive(
//       [](int n) { ... },
//       [](const troupe::any_message& m) {               // everything else
//         spdlog::warn("dropped a {}: {}", m.type_name(), m.describe());
//       });

#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>

#include <cxxabi.h>

#include "troupe/detail/message_node.hpp"

namespace troupe {

namespace detail {
struct any_message_access;
}

/// Thrown by any_message::get<T>() when the message is not a T.
class bad_message_access : public std::bad_cast {
 public:
  explicit bad_message_access(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

/// A message of any type, as a receive handler taking `any_message&` or
/// `const any_message&` sees it: such a clause accepts every message. Clauses
/// are tried in order for each message, so a catch-all placed last takes
/// only the messages no earlier clause accepts (but, like Erlang's `Other`,
/// it does take an unexpected message that arrived before an expected one).
/// Exit and down messages of a process that traps exits or monitors are
/// ordinary messages, and it sees them too.
///
/// It refers to the message receive took, which lives until the handler
/// returns: take the value out with `std::move(m.get<T>())` to keep it.
/// Neither copyable nor movable, and cannot be sent.
class any_message {
 public:
  any_message(const any_message&) = delete;
  any_message& operator=(const any_message&) = delete;

  /// The message's type, demangled: "int", "troupe::exit_message", ...
  [[nodiscard]] std::string type_name() const { return demangled(*node_->type->id); }
  [[nodiscard]] const std::type_info& type() const noexcept { return *node_->type->id; }
  /// The value formatted with fmt when its type is formattable, else empty.
  [[nodiscard]] std::string describe() const { return node_->type->describe(node_); }

  /// Whether the message is a T (exactly: no conversions, no base classes).
  template <class T>
  [[nodiscard]] bool is() const noexcept {
    return node_->type == detail::type_of<std::remove_cv_t<T>>();
  }
  /// The value if the message is a T, else nullptr.
  template <class T>
  [[nodiscard]] T* as() noexcept {
    return is<T>() ? &detail::payload<std::remove_cv_t<T>>(node_) : nullptr;
  }
  template <class T>
  [[nodiscard]] const T* as() const noexcept {
    return is<T>() ? &detail::payload<std::remove_cv_t<T>>(node_) : nullptr;
  }
  /// The value; bad_message_access if the message is not a T.
  template <class T>
  [[nodiscard]] T& get() {
    if (T* v = as<T>()) return *v;
    throw_bad_access(typeid(T));
  }
  template <class T>
  [[nodiscard]] const T& get() const {
    if (const T* v = as<T>()) return *v;
    throw_bad_access(typeid(T));
  }

 private:
  friend struct detail::any_message_access;
  explicit any_message(detail::message_node* n) noexcept : node_(n) {}

  static std::string demangled(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(t.name());
  }
  [[noreturn]] void throw_bad_access(const std::type_info& wanted) const {
    throw bad_message_access("troupe::any_message::get: the message is a " + type_name() + ", not a " +
                             demangled(wanted));
  }

  detail::message_node* node_;
};

/// A view of the receiver's message: never a message itself.
template <>
struct is_non_owning<any_message> : std::true_type {};

namespace detail {
struct any_message_access {
  static any_message wrap(message_node* n) noexcept { return any_message(n); }
};
}  // namespace detail

}  // namespace troupe
