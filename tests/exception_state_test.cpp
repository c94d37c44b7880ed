// A process may be switched out inside a catch block and resume on another
// scheduler thread: the exception it is handling must come along.

#include "test_support.hpp"

namespace troupe_test {
namespace {

class ExceptionStateTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(ExceptionStateTest);

TEST_P(ExceptionStateTest, CaughtExceptionSurvivesSwitchesAndMigration) {
  constexpr int processes = 20;
  const int ok = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int i = 0; i < processes; ++i) {
      troupe::spawn([root, i] {
        bool good = false;
        try {
          throw std::runtime_error("mine-" + std::to_string(i));
        } catch (const std::exception&) {
          // Use up several slices inside the handler: the process is switched
          // out, and with several schedulers may come back on another thread.
          for (int k = 0; k < 3 * troupe::reductions_per_slice; ++k) troupe::consume_reductions(1);
          try {
            throw;  // rethrows *this* process's exception
          } catch (const std::runtime_error& again) {
            good = std::string(again.what()) == "mine-" + std::to_string(i) && std::uncaught_exceptions() == 0;
          }
        }
        troupe::send(root, good);
      });
    }
    int n = 0;
    for (int i = 0; i < processes; ++i) n += recv<bool>();
    return n;
  });
  EXPECT_EQ(ok, processes);
}

}  // namespace
}  // namespace troupe_test
