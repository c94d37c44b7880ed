// Active sockets (tcp_socket::set_active): data comes to the owner as
// messages, as much of it as the mode allows, in order, and then the end.

#include <sys/socket.h>

#include <string>
#include <vector>

#include "net_support.hpp"
#include "test_support.hpp"
#include "troupe/net/tcp.hpp"

namespace {

using namespace troupe_test;
using namespace troupe_test::net_support;
using namespace std::chrono_literals;

class NetActiveTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(NetActiveTest);

std::string data_of(net::socket_id s) {
  return recv_matching<net::tcp_data>([s](const net::tcp_data& d) { return d.socket == s; }, "tcp_data", hang_timeout).data;
}

// Frames the client sent (packet4), as the server's active socket delivers them.
TEST_P(NetActiveTest, OnceDeliversOneFrameThenWaitsToBeAskedAgain) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    for (const char* m : {"one", "two", "three"}) client.write_packet(m);
    server.set_framing(net::framing::packet4);
    server.set_active(net::active_once);
    EXPECT_EQ(data_of(server.id()), "one");
    troupe::sleep_for(30ms);  // the other two have come by now, and must wait
    EXPECT_TRUE(no_message_of<net::tcp_data>());
    server.set_active(net::active_once);
    EXPECT_EQ(data_of(server.id()), "two");
    server.set_active(net::active_once);
    EXPECT_EQ(data_of(server.id()), "three");
    EXPECT_TRUE(no_message_of<net::tcp_passive>()) << "once says nothing when it goes passive";
  });
}

TEST_P(NetActiveTest, ACountDeliversThatManyThenSaysPassive) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    for (int i = 0; i < 5; ++i) client.write_packet(std::to_string(i));
    server.set_framing(net::framing::packet4);
    server.set_active(net::active_n(2));
    EXPECT_EQ(data_of(server.id()), "0");
    EXPECT_EQ(data_of(server.id()), "1");
    EXPECT_EQ(recv<net::tcp_passive>().socket, server.id());
    troupe::sleep_for(20ms);
    EXPECT_TRUE(no_message_of<net::tcp_data>());
    server.set_active(net::active_n(1));
    server.set_active(net::active_n(1));  // counts add up, as {active, N} does
    EXPECT_EQ(data_of(server.id()), "2");
    EXPECT_EQ(data_of(server.id()), "3");
    EXPECT_EQ(recv<net::tcp_passive>().socket, server.id());
    server.set_active(net::active_n(0));  // nothing more: passive at once, and said
    EXPECT_EQ(recv<net::tcp_passive>().socket, server.id());
  });
}

TEST_P(NetActiveTest, AlwaysDeliversEveryFrameInOrderThenTheEnd) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::packet4);
    server.set_active(net::active_always);
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i) client.send_packet("frame " + std::to_string(i));
    client.close();
    for (int i = 0; i < n; ++i) ASSERT_EQ(data_of(server.id()), "frame " + std::to_string(i));
    EXPECT_EQ(recv<net::tcp_closed>().socket, server.id());
    EXPECT_TRUE(no_message_of<net::tcp_error>());
  });
}

TEST_P(NetActiveTest, LinesAreCutAtEachNewlineWhateverTheWritesWere) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::line);
    server.set_active(net::active_always);
    client.write_all("first li");
    troupe::sleep_for(10ms);
    client.write_all("ne\nsecond\nthi");
    client.write_all("rd\n");
    EXPECT_EQ(data_of(server.id()), "first line\n");
    EXPECT_EQ(data_of(server.id()), "second\n");
    EXPECT_EQ(data_of(server.id()), "third\n");
  });
}

TEST_P(NetActiveTest, RawDeliversTheBytesAsTheyCome) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_active(net::active_always);
    std::string sent;
    for (int i = 0; i < 100; ++i) {
      const std::string part = "part " + std::to_string(i) + ";";
      client.send(part);
      sent += part;
    }
    client.close();
    std::string got;
    while (got.size() < sent.size()) got += data_of(server.id());
    EXPECT_EQ(got, sent);
    EXPECT_EQ(recv<net::tcp_closed>().socket, server.id());
  });
}

TEST_P(NetActiveTest, AResetPeerGivesTcpErrorThenTcpClosed) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_active(net::active_always);
    const linger hard{1, 0};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    client.close();
    EXPECT_EQ(recv<net::tcp_error>().error, std::errc::connection_reset);
    EXPECT_EQ(recv<net::tcp_closed>().socket, server.id());
  });
}

TEST_P(NetActiveTest, AFrameOverTheLimitIsAnErrorAndTheEnd) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::packet4, 10);
    server.set_active(net::active_always);
    client.write_packet("short");
    client.write_packet(std::string(100, 'x'));
    EXPECT_EQ(data_of(server.id()), "short");
    EXPECT_EQ(recv<net::tcp_error>().error, std::errc::message_size);
    EXPECT_EQ(recv<net::tcp_closed>().socket, server.id());
  });
}

TEST_P(NetActiveTest, AnActiveSocketRefusesReadCallsAndAPassiveOneReadsWhatWasReadAhead) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::packet4);
    server.set_active(net::active_once);
    for (const char* m : {"a", "b", "c"}) client.write_packet(m);
    EXPECT_EQ(data_of(server.id()), "a");
    server.set_active(net::active_always);
    EXPECT_EQ(data_of(server.id()), "b");
    EXPECT_EQ(data_of(server.id()), "c");
    EXPECT_EQ(error_of([&] { (void)server.read_packet(1s); }, "read an active socket"), std::errc::operation_not_permitted);
    server.set_active(net::passive);
    client.write_packet("d");
    EXPECT_EQ(server.read_packet(5s), "d");
  });
}

// Bytes the socket read ahead while it was active are the first a passive
// read returns.
TEST_P(NetActiveTest, ReadAheadBytesComeFirstOnceThePassiveReadsBegin) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::packet4);
    client.send_packet("x");
    client.send_packet("y");
    client.send_packet("z");
    client.flush();
    troupe::sleep_for(20ms);  // all three are in the server's kernel buffer
    server.set_active(net::active_once);
    EXPECT_EQ(data_of(server.id()), "x");
    EXPECT_EQ(server.read_packet(5s), "y");
    EXPECT_EQ(server.read_packet(5s), "z");
  });
}

TEST_P(NetActiveTest, ControllingProcessSendsTheMessagesToTheNewOwner) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    const troupe::pid me = troupe::self();
    const net::socket_id id = server.id();
    const troupe::pid heir = troupe::spawn([me, id] {
      net::tcp_socket s = troupe::receive([](net::tcp_socket&& s) { return std::move(s); });
      s.set_framing(net::framing::packet4);
      s.set_active(net::active_once);
      troupe::send(me, data_of(id));
    });
    EXPECT_EQ(server.owner(), me);
    server.controlling_process(heir);
    EXPECT_EQ(server.owner(), heir);
    troupe::send(heir, std::move(server));
    client.write_packet("to the heir");
    EXPECT_EQ(recv<std::string>(), "to the heir");
    EXPECT_TRUE(no_message_of<net::tcp_data>());
  });
}

TEST_P(NetActiveTest, OnlyTheOwnerMayHandASocketOn) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    auto shared = std::make_shared<net::tcp_socket>(std::move(server));
    const troupe::pid me = troupe::self();
    troupe::spawn([shared, me] {
      troupe::send(me, error_of([&] { shared->controlling_process(troupe::self()); }, "a non-owner handed the socket on"));
    });
    EXPECT_EQ(recv<std::error_code>(), std::errc::operation_not_permitted);
    EXPECT_EQ(shared->owner(), me);
  });
}

// The owner waits for its socket and for other messages in one receive.
TEST_P(NetActiveTest, OneReceiveWaitsForTheSocketAndForMessages) {
  rt().run([] {
    auto [l, client, server] = connected_pair();
    server.set_framing(net::framing::packet4);
    server.set_active(net::active_always);
    troupe::send_after(troupe::self(), 20ms, std::string("tick"));
    std::vector<std::string> seen;
    troupe::spawn([c = std::make_shared<net::tcp_socket>(std::move(client))] {
      troupe::sleep_for(40ms);
      c->write_packet("data");
    });
    while (seen.size() < 2) {
      troupe::receive([&](net::tcp_data&& d) { seen.push_back("socket: " + d.data); },
                      [&](std::string&& s) { seen.push_back("message: " + s); });
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"message: tick", "socket: data"}));
  });
}

TEST_P(NetActiveTest, AnOwnerThatDiesClosesItsSocket) {
  rt().run([] {
    net::tcp_listener l = net::tcp_listener::listen(any_local);
    const troupe::pid me = troupe::self();
    const troupe::pid owner = troupe::spawn([me, port = l.local_endpoint().port] {
      net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port});
      s.set_active(net::active_always);
      troupe::send(me, std::string("connected"));
      troupe::receive([](int) {});  // never comes
    });
    net::tcp_socket server = l.accept();
    EXPECT_EQ(recv<std::string>(), "connected");
    const auto ref = troupe::monitor(owner);
    troupe::exit(owner, troupe::exit_reason::killed());
    (void)recv_down(ref);
    std::array<std::byte, 16> buf;
    EXPECT_EQ(server.read_some(buf, 5s), 0u);
  });
}

}  // namespace
