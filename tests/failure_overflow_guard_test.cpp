// Failure model, guard pages at the memory-mapping limit: with the program
// a few mappings short of vm.max_map_count, a big stack (its own mapping)
// either gets its guard page or the spawn is refused with std::system_error.
// No process runs on a stack without a guard, and none ends as "could not
// start" after its spawn returned.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "overflow_support.hpp"
#include "test_support.hpp"

namespace {

using namespace troupe_test;
using kind = troupe::exit_kind;

class FailureOverflowGuardTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureOverflowGuardTest);

std::size_t count_lines(const char* path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Takes memory mappings until only `spare` are left: one reservation of
// pages made read-only one page in two splits into a mapping per page.
class mapping_filler {
 public:
  explicit mapping_filler(std::size_t spare) {
    const std::size_t limit = count_lines("/proc/sys/vm/max_map_count") == 1 ? read_limit() : 0;
    const std::size_t used = count_lines("/proc/self/maps");
    if (limit <= used + spare) return;
    const std::size_t take = limit - used - spare;  // mappings to add
    pages_ = 2 * take;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* p = ::mmap(nullptr, pages_ * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<char*>(p);
    for (std::size_t i = 0; i < pages_; i += 2) {
      if (::mprotect(base_ + i * page, page, PROT_READ) != 0) break;
    }
  }
  ~mapping_filler() {
    if (base_) ::munmap(base_, pages_ * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  }
  mapping_filler(const mapping_filler&) = delete;
  mapping_filler& operator=(const mapping_filler&) = delete;
  [[nodiscard]] bool filled() const { return base_ != nullptr; }

 private:
  static std::size_t read_limit() {
    std::ifstream in("/proc/sys/vm/max_map_count");
    std::size_t n = 0;
    in >> n;
    return n;
  }
  char* base_ = nullptr;
  std::size_t pages_ = 0;
};

TEST_P(FailureOverflowGuardTest, BigStacksNearTheMappingLimitAreGuardedOrRefused) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers need mappings of their own: at the limit they abort";
#endif
  log_capture quiet;
  struct outcome {
    int spawned = 0, refused = 0, overflowed = 0;
    std::vector<std::string> other_reasons;
    std::string refusal;
  };
  const outcome o = rt().run([] {
    outcome r;
    std::vector<std::pair<troupe::pid, troupe::monitor_ref>> procs;
    {
      const mapping_filler filler(24);
      EXPECT_TRUE(filler.filled()) << "could not fill the mapping table";
      // Each waits, holding its 2 MiB stack (a mapping of its own), until
      // told to overflow; more of them than there are mappings left.
      for (int i = 0; i < 64; ++i) {
        try {
          const troupe::pid p = troupe::spawn(troupe::spawn_options{.stack_size = 2 << 20}, [] {
            if (troupe::receive([](const std::string& s) { return s == "overflow"; })) (void)recurse_forever(0);
          });
          procs.emplace_back(p, troupe::monitor(p));
          // Until it runs (on its stack) or is gone: while the limit holds.
          for (auto info = troupe::process_info(p); info && info->status != troupe::process_status::waiting;
               info = troupe::process_info(p)) {
            troupe::yield();
          }
          ++r.spawned;
        } catch (const std::system_error& e) {
          ++r.refused;
          r.refusal = e.what();
        }
      }
    }  // the mappings come back: the rest of the test needs some
    for (auto& [p, ref] : procs) troupe::send(p, std::string("overflow"));
    for (auto& [p, ref] : procs) {
      const troupe::exit_reason why = recv_down(ref).reason;
      if (why.is(kind::stack_overflow)) {
        ++r.overflowed;
      } else {
        r.other_reasons.push_back(fmt::format("{}", why));
      }
    }
    return r;
  });
  EXPECT_GT(o.refused, 0) << "the limit was never reached: the test proves nothing";
  EXPECT_GT(o.spawned, 0);
  EXPECT_EQ(o.overflowed, o.spawned) << "every process that was spawned had a guard page";
  EXPECT_TRUE(o.other_reasons.empty()) << fmt::format("{}", fmt::join(o.other_reasons, "; "));
  EXPECT_NE(o.refusal.find("vm.max_map_count"), std::string::npos) << o.refusal;
}

}  // namespace
