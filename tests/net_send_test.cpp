// Buffered writes (tcp_socket::send): what a process sends leaves when it
// next stops running, in order, and a full buffer holds the sender back.

#include <sys/socket.h>

#include <string>

#include "net_support.hpp"
#include "test_support.hpp"
#include "troupe/net/tcp.hpp"
#include "troupe/process_info.hpp"

namespace {

using namespace troupe_test;
using namespace troupe_test::net_support;
using namespace std::chrono_literals;

class NetSendTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(NetSendTest);

// Reads from `s` (passively) until `n` bytes have come.
std::string read_n(net::tcp_socket& s, std::size_t n) {
  std::string got(n, '\0');
  s.read_exact(std::as_writable_bytes(std::span(got.data(), got.size())), 10s);
  return got;
}

TEST_P(NetSendTest, SendsLeaveTogetherWhenTheSenderStopsRunning) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    for (int i = 0; i < 100; ++i) server.send("x");
    // Still running: nothing has gone to the kernel, so nothing reached the peer.
    EXPECT_EQ(readable_now(client), "");
    EXPECT_GE(troupe::process_info(troupe::self())->socket_buffer_bytes, 100u);
    troupe::yield();
    EXPECT_EQ(read_n(client, 100), std::string(100, 'x'));
    EXPECT_EQ(troupe::process_info(troupe::self())->socket_buffer_bytes, 0u);
  });
}

TEST_P(NetSendTest, ABigSendLeavesAtOnce) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.send(std::string(100 << 10, 'y'));
    EXPECT_FALSE(readable_now(client).empty()) << "past 64 KiB a send writes without waiting for the switch";
  });
}

TEST_P(NetSendTest, WriteAllAndFlushKeepTheOrderOfWhatWasSent) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.send("one ");
    server.write_all("two ");
    server.send_packet("three");
    server.flush();
    EXPECT_EQ(readable_now(client).substr(0, 8), "one two ");
  });
}

TEST_P(NetSendTest, AProcessThatEndsFlushesWhatItSent) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    troupe::spawn([port = l.local_endpoint().port] {
      net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port});
      for (int i = 0; i < 1000; ++i) s.send_packet("message " + std::to_string(i));
    });  // ends at once: the socket closes with its buffer full
    net::tcp_socket server = l.accept();
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(server.read_packet(10s), "message " + std::to_string(i));
    std::array<std::byte, 1> b;
    EXPECT_EQ(server.read_some(b, 10s), 0u);
  });
}

// A client that stops reading: the writer's buffer stays bounded, and a send
// that finds it full waits (up to its timeout) or fails at once.
TEST_P(NetSendTest, ASlowReaderHoldsTheWriterBackAndItsMemoryStaysBounded) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    constexpr std::size_t limit = 64 << 10;
    server.set_send_buffer(limit);
    const std::string chunk(1024, 'z');
    std::size_t sent = 0;
    const auto e = error_of(
        [&] {
          for (;;) {
            server.send(chunk, 100ms);
            sent += chunk.size();
            ASSERT_LE(troupe::process_info(troupe::self())->socket_buffer_bytes, limit);
            ASSERT_LT(sent, std::size_t{1} << 30) << "the buffer grew without bound";
          }
        },
        "sends to a reader that never reads never stopped");
    EXPECT_EQ(e, std::errc::timed_out);
    EXPECT_GT(sent, limit) << "the kernel took some too";
    server.set_send_buffer(limit, net::when_full::fail);
    EXPECT_EQ(error_of([&] { server.send(chunk); }, "no error"), std::errc::no_buffer_space);
    // The reader catches up: everything sent arrives, in order, and sending works again.
    const std::string got = read_n(client, sent);
    EXPECT_EQ(got, std::string(sent, 'z'));
    server.send("after");
    server.flush(5s);
    EXPECT_EQ(read_n(client, 5), "after");
  });
}

// A writer waiting for room is woken by the poller as the reader drains.
TEST_P(NetSendTest, AWriterWaitingForRoomGoesOnAsThePeerReads) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_send_buffer(16 << 10);
    constexpr std::size_t total = 8 << 20;
    const troupe::pid me = troupe::self();
    troupe::spawn([me, c = std::make_shared<net::tcp_socket>(std::move(client))] {
      std::size_t got = 0;
      std::vector<std::byte> buf(65536);
      while (got < total) got += c->read_some(buf, 10s);
      troupe::send(me, got);
    });
    const std::string chunk(4096, 'w');
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) server.send(chunk, 10s);
    EXPECT_EQ(recv<std::size_t>(), total);
  });
}

TEST_P(NetSendTest, SendsToAResetPeerFailWithTheResetAndNothingElseNotices) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    const linger hard{1, 0};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    client.close();
    troupe::sleep_for(10ms);
    const auto e = error_of(
        [&] {
          for (int i = 0; i < 1000; ++i) {
            server.send("into the void");
            troupe::yield();  // the flush meets the reset
          }
        },
        "sends to a reset peer went on failing to fail");
    EXPECT_TRUE(e == std::errc::connection_reset || e == std::errc::broken_pipe) << e.message();
  });
}

}  // namespace
