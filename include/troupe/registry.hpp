#pragma once
// troupe/registry.hpp — registered names (Erlang's register/2, whereis/1).

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "troupe/pid.hpp"
#include "troupe/process.hpp"

namespace troupe {

/// Registers `name` for the live process `p`; the name is freed when `p`
/// exits. Throws std::invalid_argument if the name is taken, if `p` already
/// has a name, or if `p` is not alive (Erlang raises badarg for the same).
/// (`register` is a C++ keyword, hence the longer name.)
void register_name(std::string name, pid p);

/// Removes a registration; false if the name was not registered.
bool unregister(std::string_view name);

/// The process registered under `name`, or the null pid.
pid whereis(std::string_view name);

/// The name `p` is registered under, if any.
std::optional<std::string> registered_name(pid p);

[[noreturn]] void throw_unregistered(std::string_view name);

/// Sends to the process registered as `name`. Throws std::invalid_argument
/// if no process is registered under it (Erlang's badarg).
template <class T>
void send(std::string_view name, T&& msg) {
  const pid p = whereis(name);
  if (!p) throw_unregistered(name);
  send(p, std::forward<T>(msg));
}

}  // namespace troupe
