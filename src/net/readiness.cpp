#include "readiness.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <algorithm>

#include "troupe/process.hpp"
#include "troupe/receive.hpp"

namespace troupe::net::detail {

namespace {

// The poller's word that a socket is ready (or that its watch was cancelled).
struct io_ready {
  std::uintptr_t socket;
  std::uint64_t number;
};

}  // namespace

steady::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept {
  if (timeout == forever) return steady::time_point::max();
  const steady::time_point now = steady::now();
  if (timeout > steady::time_point::max() - now) return steady::time_point::max();
  return now + std::max(timeout, std::chrono::nanoseconds::zero());
}

std::chrono::nanoseconds time_left(steady::time_point deadline) noexcept {
  if (deadline == steady::time_point::max()) return forever;
  return std::max(std::chrono::nanoseconds(deadline - steady::now()), std::chrono::nanoseconds::zero());
}

void throw_errno(int err, const char* call) { throw net_error(std::error_code(err, std::system_category()), call); }

template <class Socket>
watch<Socket>::watch(Socket& sock, wait_type what, std::uint64_t& waits)
    : sock_(sock), key_(reinterpret_cast<std::uintptr_t>(&sock)), number_(++waits) {
  sock_.async_wait(what, [to = troupe::self(), key = key_, n = number_](const boost::system::error_code&) {
    troupe::send(to, io_ready{key, n});  // to a process that is gone: dropped
  });
}

template <class Socket>
bool watch<Socket>::wait(steady::time_point deadline) {
  const auto mine = [key = key_, n = number_](const io_ready& r) { return r.socket == key && r.number == n; };
  if (deadline == steady::time_point::max()) {
    troupe::receive(troupe::when(mine, [](const io_ready&) {}));
    return true;
  }
  return troupe::receive(troupe::when(mine, [](const io_ready&) { return true; }),
                         troupe::after(time_left(deadline), [] { return false; }));
}

template <class Socket>
void watch<Socket>::take_back() {
  boost::system::error_code ignored;
  sock_.cancel(ignored);  // its handler still runs, with operation_aborted
  (void)wait(steady::time_point::max());
}

template class watch<boost::asio::ip::tcp::socket>;
template class watch<boost::asio::ip::tcp::acceptor>;

}  // namespace troupe::net::detail
