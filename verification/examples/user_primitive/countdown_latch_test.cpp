// The example primitive in production: weft::sync::os with real threads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "countdown_latch.hpp"

TEST(ExampleCountdownLatch, WaitReturnsAfterAllPartiesWithTheirWrites) {
  constexpr int parties = 4;
  example::countdown_latch<> latch{parties};
  int slots[parties] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < parties; ++i) threads.emplace_back([&, i] { slots[i] = i + 1; latch.count_down(); });
  latch.wait();
  int sum = 0;
  for (int v : slots) sum += v;
  EXPECT_EQ(sum, 1 + 2 + 3 + 4);
  for (auto& t : threads) t.join();
}

TEST(ExampleCountdownLatch, ZeroPartiesIsAlreadyOpen) {
  example::countdown_latch<> latch{0};
  latch.wait();  // must not block
  SUCCEED();
}
