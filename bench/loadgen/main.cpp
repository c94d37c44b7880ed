// troupe-loadgen WORKLOAD key=value... port=N [host=127.0.0.1] [server_pid=PID]
//                [label=NAME] [timeout=SECONDS]
//
// One TCP load generator for every server compared in the TCP benchmarks
// (troupe's, Erlang's, Go's), so that they differ only in the server. See
// README.md in this directory for the workloads and their metrics.

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "workloads.hpp"

namespace {

using workload_fn = void (*)(loadgen::options&, const loadgen::setup&, loadgen::result&);

const std::map<std::string, workload_fn> workloads = {
    {"tcp_echo", loadgen::tcp_echo},
    {"tcp_hold", loadgen::tcp_hold},
    {"chat", loadgen::chat},
};

// tcp_hold opens 10,000 sockets and more; the soft limit is often 1024.
void raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
      std::fprintf(stderr, "troupe-loadgen: warning: cannot raise RLIMIT_NOFILE: %s\n", std::strerror(errno));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || workloads.count(argv[1]) == 0) {
    std::fprintf(stderr,
                 "usage: troupe-loadgen WORKLOAD key=value... port=N [host=127.0.0.1] [server_pid=PID] "
                 "[label=NAME] [timeout=SECONDS]\n"
                 "  tcp_echo c=1000 m=1000 s=64\n"
                 "  tcp_hold c=10000 (needs server_pid)\n"
                 "  chat c=1000 r=10 m=100 s=32 w=16\n");
    return 2;
  }
  const std::string workload = argv[1];
  loadgen::options opts(argc - 2, argv + 2);
  if (!opts.has("port")) loadgen::options::usage_error("port=N is required");

  loadgen::setup s;
  const auto port = opts.integer("port", 0, 1);
  if (port > 65535) loadgen::options::usage_error("port=%lld is not a TCP port", static_cast<long long>(port));
  const auto host = opts.text("host", "127.0.0.1");
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) loadgen::options::usage_error("host=%s is not an IP address", host.c_str());
  s.server = {address, static_cast<unsigned short>(port)};
  s.server_pid = static_cast<long>(opts.integer("server_pid", 0, 1));
  s.timeout = std::chrono::seconds(opts.integer("timeout", 10, 1));
  const auto label = opts.text("label", "");

  raise_open_file_limit();
  loadgen::result out;
  workloads.at(workload)(opts, s, out);
  out.print(workload, label);
  return 0;
}
