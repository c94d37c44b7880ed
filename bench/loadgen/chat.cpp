// chat: c clients in r rooms (client i in room i % r). A client joins with
// the frame "J<room>" and waits for the reply "J"; once every client has its
// reply, each sends m messages, which the server forwards to every other
// member of the sender's room.
//
// Pacing: the generator is all the clients at once, so it knows when a
// message has reached every other member of its room. A sender keeps at most
// w of its own messages not yet delivered everywhere (its window); the rest
// wait in the generator and take their timestamp when they are written. So
// the server holds at most c * w messages in flight, and the latency is the
// server's (and the kernel's), not a queue in the generator.
//
// Payload (s bytes, s >= 16): sender id (u32), sequence number (u32), send
// time in ns (i64, CLOCK_MONOTONIC), then a pattern of sender and sequence.

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "frames.hpp"
#include "stats.hpp"
#include "workloads.hpp"

namespace loadgen {

namespace {

constexpr std::size_t read_buffer = 32 * 1024;
constexpr std::size_t stamp_size = 16;

struct chat_client {
  chat_client(tcp::socket s, std::size_t send_buffer) : sock(std::move(s)), in(read_buffer), out(new char[send_buffer]) {}
  tcp::socket sock;
  frame_reader in;
  std::unique_ptr<char[]> out;
  bool joined = false;
  bool writing = false;
  std::uint32_t next = 0;   // next sequence number to send
  std::uint32_t acked = 0;  // lowest sequence number not yet delivered to every other member
};

struct chat_config {
  std::uint32_t c, r, m, w;
  std::size_t s;
  std::uint32_t members(std::uint32_t room) const { return c / r + (room < c % r ? 1 : 0); }
  std::uint32_t max_members() const { return (c + r - 1) / r; }
  std::uint64_t deliveries() const {
    std::uint64_t total = 0;
    for (std::uint32_t room = 0; room < r; ++room) total += std::uint64_t{members(room)} * (members(room) - 1) * m;
    return total;
  }
};

class chat_run {
 public:
  chat_run(std::vector<tcp::socket>& sockets, const chat_config& cfg, std::uint64_t& progress, latencies& lat)
      : cfg_(cfg),
        progress_(progress),
        lat_(lat),
        next_from_(std::size_t{cfg.c} * cfg.max_members(), 0),
        window_(std::size_t{cfg.c} * cfg.w, 0),
        total_(cfg.deliveries()) {
    clients_.reserve(sockets.size());
    for (auto& s : sockets)
      clients_.push_back(std::make_unique<chat_client>(std::move(s), cfg.w * (header_size + cfg.s)));
  }

  bool all_joined = false;
  bool finished = false;
  std::int64_t last_delivery_at = 0;

  void join() {
    for (std::uint32_t id = 0; id < cfg_.c; ++id) {
      chat_client& cl = *clients_[id];
      const std::string room = std::to_string(id % cfg_.r);
      put_u32be(cl.out.get(), static_cast<std::uint32_t>(1 + room.size()));
      cl.out[header_size] = 'J';
      std::memcpy(cl.out.get() + header_size + 1, room.data(), room.size());
      read(id);
      cl.writing = true;
      if (write_now_or_later(cl.sock, cl.out.get(), header_size + 1 + room.size(), [this, id] {
            clients_[id]->writing = false;
            pump(id);
          }))
        cl.writing = false;
    }
  }

  void send_all() {
    sending_ = true;
    for (std::uint32_t id = 0; id < cfg_.c; ++id) pump(id);
  }

  std::string describe() const {
    std::uint32_t joined = 0, sending = 0;
    for (const auto& cl : clients_) joined += cl->joined, sending += cl->next < cfg_.m;
    std::string d = std::to_string(joined) + " of " + std::to_string(cfg_.c) + " clients joined, " +
                    std::to_string(delivered_) + " of " + std::to_string(total_) + " messages delivered, " +
                    std::to_string(sending) + " clients still to send some";
    for (std::uint32_t id = 0; id < cfg_.c; ++id) {
      const std::uint32_t room = id % cfg_.r;
      for (std::uint32_t k = 0; k < cfg_.members(room); ++k) {
        const std::uint32_t sender = room + k * cfg_.r;
        const std::uint32_t got = next_from_[std::size_t{id} * cfg_.max_members() + k];
        if (sender != id && got < clients_[sender]->next)
          return d + "; e.g. client " + std::to_string(id) + " (room " + std::to_string(room) + ") lacks message " +
                 std::to_string(got) + " of client " + std::to_string(sender) + ", which has sent " +
                 std::to_string(clients_[sender]->next);
      }
    }
    return d;
  }

 private:
  // Sends as much of the window as is open, in one write.
  void pump(std::uint32_t id) {
    chat_client& cl = *clients_[id];
    while (sending_ && !cl.writing && cl.next < cfg_.m && cl.next < cl.acked + cfg_.w) {
      const std::uint32_t n = std::min(cfg_.m, cl.acked + cfg_.w) - cl.next;
      const std::int64_t now = now_ns();
      char* p = cl.out.get();
      for (std::uint32_t i = 0; i < n; ++i, p += header_size + cfg_.s) {
        const std::uint32_t seq = cl.next + i;
        put_u32be(p, static_cast<std::uint32_t>(cfg_.s));
        char* payload = p + header_size;
        std::memcpy(payload, &id, 4);
        std::memcpy(payload + 4, &seq, 4);
        std::memcpy(payload + 8, &now, 8);
        for (std::size_t j = stamp_size; j < cfg_.s; ++j) payload[j] = pattern(id, seq, j);
      }
      cl.next += n;
      if (cfg_.members(id % cfg_.r) == 1) cl.acked = cl.next;  // no one to deliver to
      cl.writing = true;
      if (write_now_or_later(cl.sock, cl.out.get(), n * (header_size + cfg_.s), [this, id] {
            clients_[id]->writing = false;
            pump(id);
          }))
        cl.writing = false;
    }
  }

  static char pattern(std::uint32_t sender, std::uint32_t seq, std::size_t j) {
    return static_cast<char>(sender * 7 + seq * 13 + j);
  }

  void read(std::uint32_t id) {
    chat_client& cl = *clients_[id];
    read_more(cl.sock, cl.in, [this, id](const boost::system::error_code& ec, std::size_t n) { on_read(id, ec, n); });
  }

  void on_read(std::uint32_t id, const boost::system::error_code& ec, std::size_t n) {
    chat_client& cl = *clients_[id];
    if (ec == asio::error::eof) fail("chat: client %u: the server closed the connection", id);
    if (ec) fail("chat: client %u: read: %s", id, ec.message().c_str());
    // One receive time for the whole batch: when the frames reached the
    // generator, which is what the latency is to measure.
    const std::int64_t now = now_ns();
    cl.in.commit(n);
    std::span<const char> frame;
    while (cl.in.next(frame)) {
      if (cl.joined) {
        deliver(id, frame, now);
      } else if (frame.size() == 1 && frame[0] == 'J') {
        cl.joined = true;
        ++progress_;
        if (++joined_ == cfg_.c) all_joined = true;
      } else {
        fail("chat: client %u: a %zu-byte frame before the join reply \"J\"", id, frame.size());
      }
    }
    read(id);
  }

  void deliver(std::uint32_t id, std::span<const char> frame, std::int64_t now) {
    if (frame.size() != cfg_.s)
      fail("chat: client %u: a %zu-byte message, all are %zu bytes", id, frame.size(), cfg_.s);
    std::uint32_t sender, seq;
    std::int64_t sent_at;
    std::memcpy(&sender, frame.data(), 4);
    std::memcpy(&seq, frame.data() + 4, 4);
    std::memcpy(&sent_at, frame.data() + 8, 8);
    const std::uint32_t room = id % cfg_.r;
    if (sender >= cfg_.c) fail("chat: client %u: a message from client %u, which does not exist", id, sender);
    if (sender == id) fail("chat: client %u: got its own message %u back", id, seq);
    if (sender % cfg_.r != room)
      fail("chat: client %u (room %u): a message from client %u of room %u", id, room, sender, sender % cfg_.r);
    std::uint32_t& expected = next_from_[std::size_t{id} * cfg_.max_members() + sender / cfg_.r];
    if (seq != expected) {
      if (seq < expected)
        fail("chat: client %u: message %u of client %u again (duplicate or out of order; expected %u)", id, seq, sender,
             expected);
      fail("chat: client %u: message %u of client %u, but %u is missing before it", id, seq, sender, expected);
    }
    if (seq >= cfg_.m || seq >= clients_[sender]->next)
      fail("chat: client %u: message %u of client %u, which was never sent", id, seq, sender);
    for (std::size_t j = stamp_size; j < cfg_.s; ++j)
      if (frame[j] != pattern(sender, seq, j))
        fail("chat: client %u: message %u of client %u differs from the one sent at byte %zu", id, seq, sender, j);
    ++expected;
    lat_.add(now - sent_at);
    ++progress_;
    if (++delivered_ == total_) {
      finished = true;
      last_delivery_at = now;
    }
    acknowledge(sender, seq);
  }

  // Counts a delivery against the sender's window, and once its oldest
  // messages have reached every other member, lets it send more.
  void acknowledge(std::uint32_t sender, std::uint32_t seq) {
    const std::uint32_t others = cfg_.members(sender % cfg_.r) - 1;
    std::uint32_t* win = window_.data() + std::size_t{sender} * cfg_.w;
    if (++win[seq % cfg_.w] < others) return;
    chat_client& snd = *clients_[sender];
    bool moved = false;
    while (snd.acked < snd.next && win[snd.acked % cfg_.w] == others) {
      win[snd.acked % cfg_.w] = 0;
      ++snd.acked;
      moved = true;
    }
    if (moved) pump(sender);
  }

  chat_config cfg_;
  std::uint64_t& progress_;
  latencies& lat_;
  std::vector<std::unique_ptr<chat_client>> clients_;
  std::vector<std::uint32_t> next_from_;  // [client][index of the sender in the room]: next sequence number due
  std::vector<std::uint32_t> window_;     // [sender][seq % w]: deliveries so far of that message
  std::uint64_t total_;
  std::uint64_t delivered_ = 0;
  std::uint32_t joined_ = 0;
  bool sending_ = false;  // not before every client has joined
};

}  // namespace

void chat(options& opts, const setup& st, result& out) {
  chat_config cfg{};
  cfg.c = static_cast<std::uint32_t>(opts.integer("c", 1000, 1));
  cfg.r = static_cast<std::uint32_t>(opts.integer("r", 10, 1));
  cfg.m = static_cast<std::uint32_t>(opts.integer("m", 100, 1));
  cfg.s = static_cast<std::size_t>(opts.integer("s", 32, stamp_size));
  cfg.w = static_cast<std::uint32_t>(opts.integer("w", 16, 1));
  opts.reject_unused();
  if (cfg.s + header_size > read_buffer) options::usage_error("s=%zu: at most %zu", cfg.s, read_buffer - header_size);
  if (cfg.deliveries() == 0) options::usage_error("chat: every room has one client, so nothing would be delivered");
  out.param("c", cfg.c);
  out.param("r", cfg.r);
  out.param("m", cfg.m);
  out.param("s", static_cast<std::int64_t>(cfg.s));
  out.param("w", cfg.w);

  asio::io_context io(1);
  std::uint64_t progress = 0;
  latencies lat;
  std::unique_ptr<chat_run> run;
  watchdog dog(io, st.timeout, progress, [&] {
    return run ? run->describe() : std::to_string(progress) + " of " + std::to_string(cfg.c) + " connected";
  });
  auto sockets = connect_all(io, st.server, cfg.c, progress);
  run = std::make_unique<chat_run>(sockets, cfg, progress, lat);
  lat.reserve(cfg.deliveries());

  run->join();
  run_until(io, run->all_joined);
  const std::int64_t start = now_ns();
  run->send_all();
  run_until(io, run->finished);
  const double seconds = static_cast<double>(run->last_delivery_at - start) / 1e9;
  expect_silence(io);

  out.metric("deliveries", static_cast<std::int64_t>(cfg.deliveries()));
  out.metric("delivered_per_sec", static_cast<std::int64_t>(static_cast<double>(cfg.deliveries()) / seconds));
  out.metric("p50_us", lat.percentile_us(50), 1);
  out.metric("p99_us", lat.percentile_us(99), 1);
  out.metric("max_us", lat.max_us(), 1);
  out.metric("seconds", seconds, 6);
}

}  // namespace loadgen
