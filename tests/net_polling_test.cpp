// Who looks at the sockets (src/net/poller.hpp): the schedulers themselves,
// so these check the two cases where no scheduler runs out of work to
// prompt a look: all of them busy for good, and all of them asleep.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <array>
#include <atomic>
#include <thread>

#include "net_support.hpp"
#include "test_support.hpp"
#include "troupe/net/tcp.hpp"

namespace {

using namespace troupe_test;
using namespace troupe_test::net_support;
using namespace std::chrono_literals;

class NetPollingTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(NetPollingTest);

// Writes `bytes` to `s`'s descriptor from a plain thread after `delay`,
// when the reader is sure to be waiting.
std::thread write_later(const net::tcp_socket& s, std::string bytes, std::chrono::milliseconds delay) {
  return std::thread([fd = s.native_handle(), bytes = std::move(bytes), delay] {
    std::this_thread::sleep_for(delay);
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  });
}

// What one read of `s` takes, within the hang timeout (0 if it timed out).
std::size_t bytes_read_in_time(net::tcp_socket& s) {
  std::array<std::byte, 16> buf;
  try {
    return s.read_some(buf, hang_timeout);
  } catch (const net::net_error& e) {
    ADD_FAILURE() << "the read never heard of the data: " << e.what();
    return 0;
  }
}

// Every scheduler's queue always holds a process that yields, so none runs
// dry and looks at the sockets on its own: the watchdog must.
TEST_P(NetPollingTest, ASocketIsHeardWhileEverySchedulerIsBusyForGood) {
  const unsigned spinners = 2 * schedulers();
  rt().run([spinners] {
    auto [l, client, server] = connected_pair();
    auto stop = std::make_shared<std::atomic<bool>>(false);
    for (unsigned i = 0; i < spinners; ++i) {
      troupe::spawn([stop] {
        while (!stop->load(std::memory_order_relaxed)) troupe::yield();
      });
    }
    std::thread writer = write_later(client, "ping", 50ms);
    EXPECT_EQ(bytes_read_in_time(server), 4u);
    stop->store(true);
    writer.join();
  });
}

// Every scheduler is asleep when the data comes, and no timer is due before
// the read's distant deadline: the one asleep in epoll_wait must wake.
TEST_P(NetPollingTest, AnIdleRuntimeWakesForASocket) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    std::thread writer = write_later(client, "ping", 100ms);
    EXPECT_EQ(bytes_read_in_time(server), 4u);
    writer.join();
  });
}

std::chrono::nanoseconds process_cpu_time() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Waiting for a socket is sleeping: one scheduler sleeps in epoll_wait, the
// others and the watchdog on their futexes. (A bound ten times what an idle
// runtime spends, not a speed requirement: a runtime that polled in a loop
// spent the whole half second.)
TEST_P(NetPollingTest, AnIdleRuntimeWaitingForASocketSpendsNoCpu) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    troupe::sleep_for(50ms);  // what connecting set going has settled
    const auto before = process_cpu_time();
    std::thread writer = write_later(client, "ping", 500ms);
    std::array<std::byte, 16> buf;
    EXPECT_EQ(server.read_some(buf, hang_timeout), 4u);
    const auto spent = process_cpu_time() - before;
    EXPECT_LT(spent, 50ms) << "the runtime spent " << spent.count() / 1000 << " us of CPU waiting 500 ms";
    writer.join();
  });
}

// The same for an accept, whose readiness comes through the listener.
TEST_P(NetPollingTest, AnIdleRuntimeWakesForAConnection) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    const std::uint16_t port = l.local_endpoint().port;
    std::thread dialer([port] {
      std::this_thread::sleep_for(100ms);
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      (void)::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      std::this_thread::sleep_for(50ms);
      ::close(fd);
    });
    bool accepted = false;
    try {
      (void)l.accept(hang_timeout);
      accepted = true;
    } catch (const net::net_error& e) {
      ADD_FAILURE() << "the accept never heard of the connection: " << e.what();
    }
    EXPECT_TRUE(accepted);
    dialer.join();
  });
}

}  // namespace
