#pragma once
// troupe/application.hpp — a service's main in a few lines: start the runtime
// and the top supervisor, turn SIGTERM/SIGINT into an ordered shutdown of the
// whole tree, and return an exit status.
//
//   int main() {
//     return troupe::application::run([] {
//       return troupe::supervisor::start_link({}, {troupe::worker("api", [] { return api::start_link(); })});
//     });
//   }

#include <functional>

#include "troupe/pid.hpp"
#include "troupe/runtime.hpp"
#include "troupe/start_result.hpp"

namespace troupe {

class application {
 public:
  /// Starts a runtime with `options`, runs `start_top` in a process that
  /// traps exits (it must start_link the top supervisor), and waits. On
  /// SIGTERM or SIGINT, or stop(), the top supervisor is sent `shutdown`
  /// (it stops its children in reverse order, down the tree) and run returns
  /// 0 once it is gone. If the top supervisor fails to start, or exits by
  /// itself (its restart intensity was exceeded), the failure is logged and
  /// run returns 1. The signals are blocked in every runtime thread and
  /// taken by one waiting thread, so call run from main before starting
  /// other threads.
  static int run(std::function<start_result<pid>()> start_top, runtime_options options = {});

  /// Asks a running application to shut down, as SIGTERM does (any thread).
  static void stop() noexcept;
};

}  // namespace troupe
