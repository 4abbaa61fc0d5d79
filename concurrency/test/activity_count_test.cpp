#include "weft/activity_count.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

namespace {

using count_t = weft::activity_count<>;
constexpr std::uint32_t max_u32 = std::numeric_limits<std::uint32_t>::max();

struct counting_os : weft::sync::os {
  static inline int violations = 0;
  static void check(bool condition, const char*) noexcept { violations += condition ? 0 : 1; }
};

TEST(ActivityCount, StartsIdle) {
  count_t scope;
  EXPECT_TRUE(scope.idle());
  EXPECT_EQ(scope.count_relaxed(), 0u);
  EXPECT_TRUE(scope.wait_idle(weft::deadline::immediate()));
  EXPECT_TRUE(scope.wait_idle());
}

TEST(ActivityCount, OnlyTheEndThatReachesZeroReportsIt) {
  count_t scope;
  scope.begin();
  scope.begin(2);
  EXPECT_EQ(scope.count_relaxed(), 3u);
  EXPECT_FALSE(scope.idle());
  EXPECT_FALSE(scope.end());
  EXPECT_FALSE(scope.end());
  EXPECT_TRUE(scope.end());
  EXPECT_TRUE(scope.idle());
  scope.begin(5);
  EXPECT_FALSE(scope.end(2));
  EXPECT_TRUE(scope.end(3));
  EXPECT_EQ(scope.count_relaxed(), 0u);
}

TEST(ActivityCount, EndOfZeroChangesNothing) {
  count_t scope;
  EXPECT_FALSE(scope.end(0));
  scope.begin();
  EXPECT_FALSE(scope.end(0));
  EXPECT_EQ(scope.count_relaxed(), 1u);
}

TEST(ActivityCount, CountAtItsLimit) {
  count_t scope;
  scope.begin(max_u32);
  EXPECT_EQ(scope.count_relaxed(), max_u32);
  EXPECT_FALSE(scope.end(max_u32 - 1));
  EXPECT_TRUE(scope.end(1));
}

TEST(ActivityCount, MisuseIsCheckedAndEndChangesNothing) {
  counting_os::violations = 0;
  weft::activity_count<counting_os> scope;
  scope.begin(2);
  EXPECT_FALSE(scope.end(3)) << "more ends than begins";
  EXPECT_EQ(counting_os::violations, 1);
  EXPECT_EQ(scope.count_relaxed(), 2u) << "an underflowing end leaves the count alone";
  EXPECT_TRUE(scope.end(2));
  EXPECT_FALSE(scope.end());
  EXPECT_EQ(counting_os::violations, 2);
  EXPECT_TRUE(scope.idle());
  scope.begin(max_u32);
  scope.begin(1);
  EXPECT_EQ(counting_os::violations, 3) << "begin past 2^32 - 1 outstanding";
}

TEST(ActivityCount, WaitIdleTimesOutWhileWorkIsOutstanding) {
  count_t scope;
  scope.begin();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(scope.wait_idle(weft::deadline::after(std::chrono::milliseconds(5))));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5));
  EXPECT_FALSE(scope.wait_idle(weft::deadline::immediate()));
  EXPECT_TRUE(scope.end());
  EXPECT_TRUE(scope.wait_idle(weft::deadline::immediate()));
}

TEST(ActivityCount, WaitIdleReturnsWhenTheLastEndsAndSeesTheirWork) {
  count_t scope;
  constexpr int workers = 3;
  int results[workers] = {};  // written by each worker before its end()
  scope.begin(workers);
  std::thread threads[workers];
  for (int i = 0; i < workers; ++i) {
    threads[i] = std::thread([&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * (i + 1)));
      results[i] = i + 1;
      scope.end();
    });
  }
  EXPECT_TRUE(scope.wait_idle());
  for (int i = 0; i < workers; ++i) EXPECT_EQ(results[i], i + 1);
  for (auto& t : threads) t.join();
}

TEST(ActivityCount, UsageExampleFromHeaderCompilesAndRuns) {
  count_t scope;
  int finished = 0;
  scope.begin();
  std::thread worker([&] {
    ++finished;
    scope.end();
  });
  EXPECT_TRUE(scope.wait_idle(weft::deadline::after(std::chrono::seconds(10))));
  EXPECT_EQ(finished, 1);
  worker.join();
}

}  // namespace
