// Messages and spawn arguments own their memory even when the sender built
// them on its troupe::heap(): that heap is freed when the sender exits, and
// the receiver may read the message long after.

#include <memory_resource>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;

class HeapMessagesTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(HeapMessagesTest);

// Long enough not to fit a string's small buffer.
std::string long_text(int i) { return "a string too long for the small buffer, number " + std::to_string(i); }

std::pmr::vector<std::pmr::string> heap_strings(int n) {
  std::pmr::vector<std::pmr::string> v(troupe::heap());
  for (int i = 0; i < n; ++i) v.emplace_back(long_text(i));
  return v;
}

// Whether `v` and every string in it live outside any process heap, and
// hold what heap_strings(n) put there.
bool owned_and_intact(const std::pmr::vector<std::pmr::string>& v, int n) {
  bool good = v.get_allocator().resource() == std::pmr::new_delete_resource() && static_cast<int>(v.size()) == n;
  for (int i = 0; good && i < n; ++i)
    good = std::string_view(v[i]) == long_text(i) && v[i].get_allocator().resource() == std::pmr::new_delete_resource();
  return good;
}

// A user type holding pmr members, following the allocator protocol.
struct order {
  using allocator_type = std::pmr::polymorphic_allocator<>;
  std::pmr::string item;
  std::pmr::vector<int> quantities;

  explicit order(allocator_type a = {}) : item(a), quantities(a) {}
  order(const order& o, allocator_type a) : item(o.item, a), quantities(o.quantities, a) {}
  order(order&& o, allocator_type a) : item(std::move(o.item), a), quantities(std::move(o.quantities), a) {}
  order(const order&) = default;
  order(order&&) = default;
  allocator_type get_allocator() const { return item.get_allocator(); }
};

// The sender moves or copies a heap-built message, then exits (its heap is
// freed); the receiver reads the message only after the sender is gone.
TEST_P(HeapMessagesTest, APmrMessageFromTheSendersHeapOutlivesTheSender) {
  constexpr int n = 200;
  const std::pair<bool, bool> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto [sender, ref] = troupe::spawn_monitor([me] {
      auto moved = heap_strings(n);
      troupe::send(me, std::move(moved));
      const auto copied = heap_strings(n);
      troupe::send(me, copied);
    });
    (void)sender;
    (void)recv_down(ref);
    const auto first = recv<std::pmr::vector<std::pmr::string>>();
    const auto second = recv<std::pmr::vector<std::pmr::string>>();
    return std::make_pair(owned_and_intact(first, n), owned_and_intact(second, n));
  });
  EXPECT_TRUE(got.first) << "a moved message still points into the dead sender's heap";
  EXPECT_TRUE(got.second) << "a copied message still points into the dead sender's heap";
}

TEST_P(HeapMessagesTest, AUserTypeWithTheAllocatorProtocolIsRebuiltOutOfTheHeap) {
  const bool good = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::monitor_ref ref = troupe::spawn_monitor([me] {
                                      order o{troupe::heap()};
                                      o.item = long_text(7);
                                      o.quantities.assign(1000, 3);
                                      troupe::send(me, std::move(o));
                                    }).second;
    (void)recv_down(ref);
    const order o = recv<order>();
    return std::string_view(o.item) == long_text(7) && o.quantities == std::pmr::vector<int>(1000, 3) &&
           o.item.get_allocator().resource() == std::pmr::new_delete_resource() &&
           o.quantities.get_allocator().resource() == std::pmr::new_delete_resource();
  });
  EXPECT_TRUE(good);
}

TEST_P(HeapMessagesTest, SendAfterFromTheHeapOutlivesTheSender) {
  const bool good = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::monitor_ref ref = troupe::spawn_monitor([me] {
                                      troupe::send_after(me, 20ms, heap_strings(50));
                                    }).second;
    (void)recv_down(ref);
    return owned_and_intact(recv<std::pmr::vector<std::pmr::string>>(), 50);
  });
  EXPECT_TRUE(good);
}

// The parent passes heap data to a child and exits before the child reads it.
TEST_P(HeapMessagesTest, ASpawnArgumentFromTheParentsHeapOutlivesTheParent) {
  const bool good = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::monitor_ref ref = troupe::spawn_monitor([me] {
                                      const troupe::pid child = troupe::spawn(
                                          [me](const std::pmr::vector<std::pmr::string>& v) {
                                            troupe::receive([](const std::string&) {});  // the parent is gone
                                            troupe::send(me, owned_and_intact(v, 100));
                                          },
                                          heap_strings(100));
                                      troupe::send(me, child);
                                    }).second;
    const auto child = recv<troupe::pid>();
    (void)recv_down(ref);
    troupe::send(child, std::string("read it"));
    return recv<bool>();
  });
  EXPECT_TRUE(good);
}

// Memory from a resource the user manages is theirs to keep alive: it is
// passed through as it is.
TEST_P(HeapMessagesTest, OtherResourcesArePassedThrough) {
  const bool kept = rt().run([] {
    std::pmr::monotonic_buffer_resource arena;
    std::pmr::string s(long_text(1), &arena);
    troupe::send(troupe::self(), std::move(s));
    return recv<std::pmr::string>().get_allocator().resource() == &arena;
  });
  EXPECT_TRUE(kept);
}

}  // namespace
