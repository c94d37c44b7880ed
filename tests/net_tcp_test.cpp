// TCP for processes (troupe/net/tcp.hpp): a process waiting on a socket
// suspends only itself, and every error stays in the process that met it.

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <algorithm>

#include "net_support.hpp"
#include "test_support.hpp"
#include "troupe/net/tcp.hpp"

namespace {

using namespace troupe_test;
using namespace troupe_test::net_support;
using namespace std::chrono_literals;
namespace net = troupe::net;

class NetTcpTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(NetTcpTest);

// An echo server process for `rounds` connections, each served by a process
// of its own; sends its port to `to` once it listens.
troupe::pid spawn_echo_server(troupe::pid to, int rounds) {
  return troupe::spawn([to, rounds] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    troupe::send(to, l.local_endpoint().port);
    for (int i = 0; i < rounds; ++i) {
      auto c = std::make_shared<net::tcp_socket>(l.accept());
      troupe::spawn([c] {
        std::array<std::byte, 4096> buf;
        while (std::size_t n = c->read_some(buf)) c->write_all({buf.data(), n});
      });
    }
  });
}

TEST_P(NetTcpTest, ManyConnectionsEchoThroughProcessesOfTheirOwn) {
  rt().run([] {
    spawn_echo_server(troupe::self(), 50);
    const auto port = recv<std::uint16_t>();
    // 50 clients at once, each a process making 20 round trips.
    for (int c = 0; c < 50; ++c) {
      troupe::spawn([me = troupe::self(), port, c] {
        net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port});
        bool ok = true;
        for (int i = 0; i < 20; ++i) {
          const std::string msg = "client " + std::to_string(c) + " message " + std::to_string(i);
          s.write_packet(msg);
          ok = ok && s.read_packet() == msg;
        }
        troupe::send(me, ok);
      });
    }
    int good = 0;
    for (int c = 0; c < 50; ++c) good += recv<bool>() ? 1 : 0;
    EXPECT_EQ(good, 50);
  });
}

// One scheduler: a process waiting in accept and one waiting in read must
// leave it free for the process that connects and writes.
TEST_P(NetTcpTest, AWaitOnASocketHoldsNoScheduler) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::spawn([me] {
      net::tcp_listener l = net::tcp_listener::listen(any_local);
      troupe::send(me, l.local_endpoint().port);
      net::tcp_socket c = l.accept();
      troupe::send(me, c.read_packet());
    });
    const auto port = recv<std::uint16_t>();
    net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port});
    troupe::sleep_for(20ms);  // the server now waits in read_packet
    s.write_packet("hello");
    EXPECT_EQ(recv<std::string>(), "hello");
  });
}

TEST_P(NetTcpTest, AReadPastItsDeadlineThrowsTimedOutAndTheSocketStillWorks) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    std::array<std::byte, 16> buf;
    EXPECT_EQ(error_of([&] { (void)server.read_some(buf, 30ms); }, "read_some returned with nothing sent"), std::errc::timed_out);
    client.write_all("late");
    EXPECT_EQ(server.read_some(buf, 5s), 4u);
    // The cancelled wait left nothing behind in the mailbox.
    EXPECT_EQ(troupe::process_info(troupe::self())->message_queue_len, 0u);
  });
}

TEST_P(NetTcpTest, AcceptHasADeadlineToo) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    EXPECT_EQ(error_of([&] { (void)l.accept(20ms); }, "accept returned with nobody connecting"), std::errc::timed_out);
  });
}

TEST_P(NetTcpTest, ARefusedConnectIsAClearError) {
  rt().run([] {
    std::uint16_t port = 0;
    {
      net::tcp_listener l = net::tcp_listener::listen(any_local);
      port = l.local_endpoint().port;
    }  // closed: nobody listens there now
    // Many times: the refusal can come between two looks at the socket (its
    // error, then its writability), which once made a refused connect look
    // connected.
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(error_of([&] { (void)net::tcp_socket::connect({"127.0.0.1", port}, 5s); }, "connected to a closed port"),
                std::errc::connection_refused);
    }
  });
}

TEST_P(NetTcpTest, ABadAddressIsInvalidArgument) {
  rt().run([] {
    try {
      (void)net::tcp_socket::connect({"not an address", 80});
      ADD_FAILURE();
    } catch (const net::net_error& e) {
      EXPECT_EQ(e.code(), std::errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("not an address"), std::string::npos) << e.what();
    }
  });
}

TEST_P(NetTcpTest, APeerThatResetsGivesConnectionResetToItsReaderAlone) {
  rt().run([] {
    // Many times: a close once waited for a poller's epoll_wait to return
    // before it sent its reset (about 1 close in 300, see close_now).
    for (int i = 0; i < 300; ++i) {
      auto [l, client, server] = connected_pair();
      // SO_LINGER 0: close sends a reset.
      const linger hard{1, 0};
      ::setsockopt(client.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      client.close();
      std::array<std::byte, 16> buf;
      ASSERT_EQ(error_of([&] { (void)server.read_some(buf, 5s); }, "read a reset connection"),
                std::errc::connection_reset)
          << "round " << i;
    }
  });
}

TEST_P(NetTcpTest, AReadSeesTheEndWhenThePeerCloses) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    client.write_all("bye");
    client.close();
    std::array<std::byte, 16> buf;
    EXPECT_EQ(server.read_some(buf, 5s), 3u);
    EXPECT_EQ(server.read_some(buf, 5s), 0u);
    EXPECT_EQ(error_of([&] { (void)server.read_exact(buf, 5s); }, "no error"), std::errc::connection_aborted);
  });
}

// A process killed while it waits in a read ends (its socket closed as it
// unwinds), and nothing else notices.
TEST_P(NetTcpTest, KillEndsAProcessWaitingOnASocketAndClosesIt) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    const troupe::pid me = troupe::self();
    const troupe::pid reader = troupe::spawn([me, port = l.local_endpoint().port] {
      net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port});
      troupe::send(me, std::string("connected"));
      std::array<std::byte, 16> buf;
      (void)s.read_some(buf);  // nobody writes
    });
    net::tcp_socket server = l.accept();
    EXPECT_EQ(recv<std::string>(), "connected");
    const auto ref = troupe::monitor(reader);
    troupe::exit(reader, troupe::exit_reason::killed());
    EXPECT_TRUE(recv_down(ref).reason.is(troupe::exit_kind::killed));
    std::array<std::byte, 16> buf;
    EXPECT_EQ(server.read_some(buf, 5s), 0u) << "the killed process's socket was not closed";
  });
}

TEST_P(NetTcpTest, APacketOverTheLimitIsRefused) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    client.write_packet(std::string(100, 'x'));
    EXPECT_EQ(error_of([&] { (void)server.read_packet(5s, 10); }, "no error"), std::errc::message_size);
  });
}

// Out of descriptors, accept fails with too_many_files_open; once some are
// free again the same listener accepts the waiting connection.
TEST_P(NetTcpTest, AcceptWorksAgainAfterTheDescriptorsRanOut) {
#ifdef TROUPE_SANITIZE_UNDEFINED
  // UBSan's vptr check opens a pipe to test memory, and there is no
  // descriptor left for it: it reports the exception being constructed.
  GTEST_SKIP() << "UBSan needs descriptors of its own";
#endif
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    net::tcp_socket client = net::tcp_socket::connect(l.local_endpoint());
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    rlimit low = old;
    low.rlim_cur = std::min<rlim_t>(old.rlim_cur, 512);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<int> filler;
    for (int fd; (fd = ::dup(0)) >= 0;) filler.push_back(fd);
    EXPECT_EQ(error_of([&] { (void)l.accept(5s); }, "accepted with no descriptor left"), std::errc::too_many_files_open);
    for (int fd : filler) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &old);
    net::tcp_socket server = l.accept(5s);
    client.write_all("after");
    std::array<std::byte, 16> buf;
    EXPECT_EQ(server.read_some(buf, 5s), 5u);
  });
}

TEST_P(NetTcpTest, ACallOnAClosedSocketIsBadFileDescriptor) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    net::tcp_socket client = net::tcp_socket::connect(l.local_endpoint());
    client.close();
    client.close();  // idempotent
    EXPECT_FALSE(client.is_open());
    EXPECT_EQ(error_of([&] { (void)client.write_all("x"); }, "no error"), std::errc::bad_file_descriptor);
  });
}

TEST(NetTcpOutsideAProcess, SocketsAreForProcesses) {
  troupe::runtime rt({.schedulers = 1});
  EXPECT_THROW((void)net::tcp_listener::listen(any_local), std::logic_error);
}

}  // namespace
