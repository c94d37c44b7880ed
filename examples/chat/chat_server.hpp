#pragma once
// The chat and echo servers of examples/chat: a process per connection under
// a supervisor, rooms as pg groups, {packet, 4} frames. See docs/io.md.

#include <cstdint>

#include <troupe/pid.hpp>

namespace chat {

enum class protocol {
  chat,  // the first frame "J<room>" joins a room (answered "J"); later frames go to the room's other members
  echo,  // every frame straight back
};

struct server {
  troupe::pid tree;    // the top supervisor: exit(tree, shutdown) stops it all
  std::uint16_t port;  // where it listens
};

/// Starts the server's supervision tree, linked to the caller (a process):
/// a pg scope for the rooms, a supervisor of connection processes, and a
/// listener on 127.0.0.1:`port` (0: any free port).
server start_link(protocol p, std::uint16_t port);

}  // namespace chat
