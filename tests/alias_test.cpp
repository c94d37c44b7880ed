// Core, aliases and mailbox marks (troupe/detail/alias.hpp): what a reply
// wait is built on.

#include "test_support.hpp"
#include "troupe/detail/alias.hpp"
#include "troupe/process_info.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
namespace d = troupe::detail;

class AliasTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(AliasTest);

struct note : d::alias_header {
  int value = 0;
};

d::message_node* make_note(std::uint64_t alias, int v) {
  d::message_node* m = d::make_message<note>();
  d::payload<note>(m).alias = alias;
  d::payload<note>(m).value = v;
  return m;
}

// Sends `n` notes to `to` on `alias` from another process, then says so.
void send_notes(troupe::pid to, std::uint64_t alias, int n) {
  troupe::spawn([to, alias, n] {
    for (int i = 0; i < n; ++i) d::send_to_alias(to, make_note(alias, i));
    troupe::send(to, std::string("sent"));
  });
}

int count_notes() {
  int n = 0;
  while (troupe::receive([&](note&&) { ++n; return true; }, troupe::after(0ms, [] { return false; }))) {
  }
  return n;
}

TEST_P(AliasTest, MessagesToAnAliasArriveOnlyWhileItIsActive) {
  const std::vector<int> got = rt().run([] {
    const troupe::pid me = troupe::self();
    const std::uint64_t a = d::new_ref();
    std::vector<int> r;
    send_notes(me, a, 5);  // not active yet: dropped
    recv<std::string>();
    r.push_back(count_notes());
    d::set_active_alias(a);
    send_notes(me, a, 5);
    recv<std::string>();
    send_notes(me, d::new_ref(), 5);  // another alias: dropped
    recv<std::string>();
    r.push_back(count_notes());
    d::set_active_alias(0);
    send_notes(me, a, 5);
    recv<std::string>();
    r.push_back(static_cast<int>(troupe::process_info(me)->message_queue_len));
    r.push_back(count_notes());
    return r;
  });
  EXPECT_EQ(got, (std::vector<int>{0, 5, 0, 0}));
}

TEST_P(AliasTest, AMessageThatArrivesAfterTheAliasWentOffIsDroppedOnPull) {
  // The sender's early look passes (the alias is on), the receiver turns it
  // off before it pulls: the receiver drops it.
  const int got = rt().run([] {
    const troupe::pid me = troupe::self();
    const std::uint64_t a = d::new_ref();
    d::set_active_alias(a);
    d::send_to_alias(me, make_note(a, 1));  // to ourselves: in the mailbox, not pulled
    d::set_active_alias(0);
    return count_notes();
  });
  EXPECT_EQ(got, 0);
}

TEST_P(AliasTest, AReceiveAtAMarkSeesOnlyLaterMessages) {
  const std::vector<int> got = rt().run([] {
    const troupe::pid me = troupe::self();
    for (int i = 0; i < 100; ++i) troupe::send(me, i);
    const d::recv_mark mark = d::mark_mailbox();
    troupe::send(me, 1000);
    std::vector<int> r;
    d::recv_cursor c = d::recv_begin_at(mark);
    while (d::message_node* m = d::recv_peek(c)) {
      r.push_back(d::payload<int>(m));
      d::recv_skip(c);
    }
    r.push_back(static_cast<int>(drain<int>().size()));  // all still there, in order
    return r;
  });
  EXPECT_EQ(got, (std::vector<int>{1000, 101}));
}

}  // namespace
