// A process's exit unwinds it as a forced unwind (src/failure/forced_unwind.hpp):
// what C++ code on its stack sees of it must be what it would see of a throw,
// apart from named handlers, which are passed over.

#include <exception>
#include <stdexcept>
#include <string>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class FailureForcedUnwindTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureForcedUnwindTest);


// Spawns `body` under a monitor and returns the reason it ended with.
template <class F>
troupe::exit_reason end_of(F body) {
  auto [p, ref] = troupe::spawn_monitor(std::move(body));
  return recv_down(ref).reason;
}

// Destructors run by the unwinding see an exception in flight, as in a throw.
TEST_P(FailureForcedUnwindTest, DestructorsSeeTheExitAsAnExceptionInFlight) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    struct reporter {
      troupe::pid to;
      ~reporter() { troupe::send(to, std::uncaught_exceptions()); }
    };
    const auto reason = end_of([me] {
      reporter r{me};
      troupe::exit(troupe::exit_reason::user("done"));
    });
    EXPECT_EQ(reason, troupe::exit_reason::user("done"));
    EXPECT_EQ(recv<int>(), 1);
  });
}

// An exit from inside a catch block, through a catch (...) that rethrows,
// while the first exception is still caught: the process ends with the
// exit's reason and the program goes on.
TEST_P(FailureForcedUnwindTest, AnExitInsideACatchBlockUnwindsThroughIt) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    const auto reason = end_of([me] {
      try {
        throw std::runtime_error("first");
      } catch (const std::exception&) {
        try {
          troupe::exit(troupe::exit_reason::user("inner"));
        } catch (...) {
          troupe::send(me, std::string("rethrowing"));
          throw;
        }
      }
    });
    EXPECT_EQ(reason, troupe::exit_reason::user("inner"));
    EXPECT_EQ(recv<std::string>(), "rethrowing");
  });
}

// A handler for a named type does not catch an exit (forced_exit is no
// std::exception, and a forced unwind passes named handlers over anyway).
TEST_P(FailureForcedUnwindTest, ANamedHandlerDoesNotCatchAnExit) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    const auto reason = end_of([me] {
      try {
        troupe::exit(troupe::exit_reason::user("out"));
      } catch (const std::exception&) {
        troupe::send(me, std::string("caught"));
      }
    });
    EXPECT_EQ(reason, troupe::exit_reason::user("out"));
    EXPECT_TRUE(drain<std::string>().empty());
  });
}

// An exit captured with std::current_exception and raised again later (as a
// future or a task would carry it) still ends the process with its reason.
TEST_P(FailureForcedUnwindTest, AnExitCapturedAndRethrownLaterEndsTheProcess) {
  rt().run([] {
    const auto reason = end_of([] {
      std::exception_ptr held;
      try {
        troupe::exit(troupe::exit_reason::user("carried"));
      } catch (...) {
        held = std::current_exception();
      }
      ASSERT_TRUE(held);
      std::rethrow_exception(held);
    });
    EXPECT_EQ(reason, troupe::exit_reason::user("carried"));
  });
}

}  // namespace
