#include <gtest/gtest.h>

#include <troupe/troupe.hpp>

TEST(Smoke, SpawnSendReceive) {
  troupe::runtime rt({.schedulers = 2});
  int got = rt.run([] {
    troupe::pid me = troupe::self();
    troupe::spawn([me] { troupe::send(me, 42); });
    return troupe::receive<int>();
  });
  EXPECT_EQ(got, 42);
}
