#include "chat_server.hpp"

#include <troupe/dynamic_supervisor.hpp>
#include <troupe/handler.hpp>
#include <troupe/net/tcp.hpp>
#include <troupe/pg.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace chat {

namespace {

namespace net = troupe::net;

// The names a server's processes are registered under: its own, so that
// servers can run side by side (the check runs a chat and an echo server).
struct names {
  std::string rooms;
  std::string connections;
};

// Frames for the other members of a room, with their {packet, 4} headers:
// one copy, shared by all, which each member sends on in one append.
struct deliver {
  std::shared_ptr<const std::string> frames;
};

// One connection: a handler process, so an idle connection holds no stack.
// Its first message is its socket; then it is told of the socket's frames
// (active mode, a batch at a time) and of frames from its room.
//
// The frames of one read come as a run of tcp_data messages. They go to the
// room as one message when the run ends (another message, or none:
// next_or_idle), so a member is sent one message per read of each sender
// rather than one per frame. Order per sender is kept; a frame waits at most
// until its owner's mailbox holds something else or nothing.
class connection {
 public:
  connection(protocol p, std::string rooms) : protocol_(p), rooms_(std::move(rooms)) {}

  troupe::handler_step operator()(troupe::any_message& m) {
    if (auto* d = m.as<net::tcp_data>()) return on_frame(std::move(d->data));
    broadcast_pending();
    return on_other(m);
  }

 private:
  static constexpr int batch = 64;

  troupe::handler_step on_other(troupe::any_message& m) {
    if (auto* d = m.as<deliver>()) {
      sock_->send(*d->frames);
      return troupe::handler_step::next;
    }
    if (m.is<net::tcp_passive>()) {
      sock_->set_active(net::active_n(batch));
      return troupe::handler_step::next;
    }
    if (m.is<net::tcp_closed>()) return troupe::handler_step::stop;
    if (auto* s = m.as<net::tcp_socket>()) {
      sock_.emplace(std::move(*s));
      sock_->set_framing(net::framing::packet4, 1 << 20);
      // A client that does not read its room's messages is dropped, not
      // waited for: its buffer is bounded and the room goes on.
      sock_->set_send_buffer(1 << 20, net::when_full::fail);
      sock_->set_active(net::active_n(batch));
    }
    return troupe::handler_step::next;  // idle_timeout, or tcp_error (its tcp_closed follows)
  }

  troupe::handler_step on_frame(std::string frame) {
    if (protocol_ == protocol::echo) {
      sock_->send_packet(frame);
      return troupe::handler_step::next;
    }
    if (!room_) {
      if (frame.empty() || frame[0] != 'J') return troupe::handler_step::stop;  // not our protocol
      troupe::pg::scope rooms(rooms_);
      rooms.join(std::string_view(frame).substr(1));
      room_ = rooms.get_group(std::string_view(frame).substr(1));
      sock_->send_packet("J");
      return troupe::handler_step::next;
    }
    net::append_packet(pending_, frame);
    if (++pending_frames_ == batch) broadcast_pending();
    return pending_.empty() ? troupe::handler_step::next : troupe::handler_step::next_or_idle;
  }

  void broadcast_pending() {
    if (pending_.empty()) return;
    room_->broadcast(deliver{std::make_shared<const std::string>(std::move(pending_))}, troupe::self());
    pending_.clear();
    pending_frames_ = 0;
  }

  protocol protocol_;
  std::string rooms_;
  std::optional<net::tcp_socket> sock_;
  std::optional<troupe::pg::group> room_;
  std::string pending_;  // frames read, not yet broadcast, with their headers
  int pending_frames_ = 0;
};

using connections = troupe::dynamic_supervisor<>;

// Accepts for ever, handing each connection to a new connection process.
void accept_loop(const std::shared_ptr<net::tcp_listener>& listener, const std::string& connections_name) {
  const connections sup(troupe::whereis(connections_name));
  for (;;) {
    net::tcp_socket s;
    try {
      s = listener->accept();
    } catch (const net::net_error& e) {
      if (e.code() == std::errc::too_many_files_open) {
        troupe::sleep_for(std::chrono::milliseconds(10));  // until some connection ends
        continue;
      }
      throw;
    }
    const auto child = sup.start_child();
    if (!child) continue;  // the supervisor is full: the socket closes
    s.controlling_process(*child);
    troupe::send(*child, std::move(s));
  }
}

}  // namespace

server start_link(protocol p, std::uint16_t port) {
  static std::atomic<int> started{0};
  const int n = started.fetch_add(1);
  const names my{fmt::format("chat_rooms_{}", n), fmt::format("chat_connections_{}", n)};
  auto bound = std::make_shared<std::atomic<std::uint16_t>>(0);
  troupe::supervisor_flags flags;
  flags.strategy = troupe::rest_for_one;  // the listener needs the rest; the rooms need nothing
  std::vector<troupe::child_spec> children;
  children.push_back(troupe::worker("rooms", [my] { return troupe::pg::start_link(my.rooms); }));
  children.push_back(troupe::supervisor_child("connections", [p, my] {
    troupe::dynamic_options o;
    o.restart = troupe::restart_type::temporary;  // a connection that ends is gone with its client
    o.server.name = my.connections;
    return connections::start_link(
        [p, rooms = my.rooms] {
          return troupe::start_result<troupe::pid>(troupe::start_status::ok,
                                                   troupe::spawn_handler({.link = true}, connection(p, rooms)));
        },
        o);
  }));
  children.push_back(troupe::worker("listener", [port, bound, my] {
    auto l = std::make_shared<net::tcp_listener>(net::tcp_listener::listen({"127.0.0.1", port}));
    bound->store(l->local_endpoint().port);
    return troupe::start_result<troupe::pid>(troupe::start_status::ok, troupe::spawn_link([l, c = my.connections] { accept_loop(l, c); }));
  }));
  const troupe::pid tree = troupe::supervisor::start_link(flags, std::move(children)).value();
  return server{tree, bound->load()};
}

}  // namespace chat
