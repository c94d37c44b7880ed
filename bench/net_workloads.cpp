// The TCP workloads: troupe's echo or chat server (examples/chat) in a process
// of its own, faced by troupe-loadgen (bench/loadgen), the same client the
// Erlang and Go servers face in bench/peers/run.sh. troupe-bench starts both
// and prints the generator's RESULT line.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "workloads.hpp"

namespace bench {

namespace {

// A child process running `argv`, its stdout read through a pipe.
class child {
 public:
  explicit child(std::vector<std::string> argv) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::perror(args[0]);
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_) ::fclose(out_);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  /// The next line of its stdout, without the newline; empty at the end.
  std::string line() {
    std::string s;
    for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) s.push_back(static_cast<char>(c));
    return s;
  }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Signals it and waits for it; its exit status.
  int stop(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
};

// Runs `server` on a free port and the generator against it with `params`.
void run_against(const char* server, const std::string& workload, const std::vector<std::string>& params) {
  child srv({server, "--port", "0"});
  const std::string hello = srv.line();  // "listening on 127.0.0.1:PORT"
  const auto colon = hello.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(std::string(server) + " did not start: " + hello);
  std::vector<std::string> argv{TROUPE_LOADGEN, workload};
  argv.insert(argv.end(), params.begin(), params.end());
  argv.push_back("port=" + hello.substr(colon + 1));
  argv.push_back("server_pid=" + std::to_string(srv.pid()));
  argv.push_back("label=troupe");
  child gen(argv);
  std::string result;
  for (std::string l; !(l = gen.line()).empty();) {
    if (l.rfind("RESULT ", 0) == 0) result = l;
  }
  const int status = gen.wait();
  if (result.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("troupe-loadgen " + workload + " failed against " + server);
  }
  // As bench/peers/run.sh does: the label's place gets the scheduler count.
  const auto label = result.find(" server=troupe");
  if (label != std::string::npos) {
    result.replace(label, 14, " schedulers=" + std::to_string(std::thread::hardware_concurrency()));
  }
  std::printf("%s\n", result.c_str());
  std::fflush(stdout);
  const int stopped = srv.stop(SIGTERM);
  if (!WIFEXITED(stopped) || WEXITSTATUS(stopped) != 0) throw std::runtime_error(std::string(server) + " did not stop cleanly");
}

std::string kv(const char* key, std::int64_t v) { return std::string(key) + "=" + std::to_string(v); }

}  // namespace

void tcp_echo(const args& a) {
  const bool q = a.quick();
  run_against(TROUPE_ECHO_SERVER, "tcp_echo",
              {kv("c", a.get("c", q ? 50 : 1000)), kv("m", a.get("m", q ? 100 : 1000)), kv("s", a.get("s", 64))});
}

void tcp_hold(const args& a) {
  run_against(TROUPE_ECHO_SERVER, "tcp_hold", {kv("c", a.get("c", a.quick() ? 200 : 10000))});
}

void chat(const args& a) {
  const bool q = a.quick();
  run_against(TROUPE_CHAT_SERVER, "chat",
              {kv("c", a.get("c", q ? 50 : 1000)), kv("r", a.get("r", q ? 5 : 10)), kv("m", a.get("m", q ? 20 : 100))});
}

}  // namespace bench
