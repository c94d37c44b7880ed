// A gen_server's reports, worded as OTP's.

#include <string>

#include <fmt/format.h>

#include "troupe/any_message.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/log.hpp"
#include "troupe/registry.hpp"

namespace troupe::detail {

namespace {

std::string who(pid p) {
  if (auto name = registered_name(p)) return *name;
  return fmt::format("{}", p);
}

std::string describe(const message_node* m) {
  if (!m) return "timeout";
  // A request its callback took by value or moved from prints empty: then
  // its type is all we can say.
  const any_message any = any_message_access::wrap(const_cast<message_node*>(m));
  std::string text = any.describe();
  return text.empty() ? any.type_name() : text;
}

}  // namespace

void report_server_crash(pid self, const message_node* last, const std::string& state, const exit_reason& reason) {
  try {
    std::string text = fmt::format(
        "** Generic server {} terminating\n** Last message in was {}\n** When Server state == {}\n"
        "** Reason for termination ==\n** {}",
        who(self), describe(last), state, reason);
    // (The stack of an exception follows in the process's crash report.)
    logger()->error("{}", text);
  } catch (...) {
    // Out of memory: the runtime's own crash report still follows.
  }
}

void report_unexpected(pid self, const message_node* m) {
  try {
    logger()->warn("** Undefined handle_info in {}\n** Unhandled message: {}", who(self), describe(m));
  } catch (...) {
  }
}

void report_misaddressed(pid self, const message_node* m) {
  try {
    logger()->error("** Generic server {} got a request for another server class, dropped: {}", who(self),
                    describe(m));
  } catch (...) {
  }
}

}  // namespace troupe::detail

namespace troupe {

namespace {

exit_reason call_exit_reason(const exit_reason& cause, pid server, const char* function) {
  call_failure f{cause, server, function};
  // {shutdown,_} stays a shutdown for whoever watches the caller, as in OTP.
  if (cause.is(exit_kind::shutdown)) return exit_reason::shutdown(std::move(f));
  return exit_reason::user(std::move(f));
}

}  // namespace

call_error::call_error(exit_reason cause, pid server, const char* function)
    : process_error(call_exit_reason(cause, server, function)), cause_(std::move(cause)), server_(server) {}

}  // namespace troupe
