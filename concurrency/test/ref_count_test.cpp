#include "weft/ref_count.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace {

using refs_t = weft::ref_count<>;
constexpr std::uint32_t max_u32 = std::numeric_limits<std::uint32_t>::max();

TEST(RefCount, StartsAtOneByDefault) {
  refs_t refs;
  EXPECT_EQ(refs.count_relaxed(), 1u);
}

TEST(RefCount, SingleReferenceReleaseIsLast) {
  refs_t refs;
  EXPECT_TRUE(refs.release());
  EXPECT_EQ(refs.count_relaxed(), 0u);
}

TEST(RefCount, OnlyTheLastReleaseReturnsTrue) {
  refs_t refs;
  refs.acquire();
  refs.acquire();
  EXPECT_EQ(refs.count_relaxed(), 3u);
  EXPECT_FALSE(refs.release());
  EXPECT_FALSE(refs.release());
  EXPECT_TRUE(refs.release());
}

TEST(RefCount, TryAcquireFailsAtZeroAndNeverRevives) {
  refs_t refs;
  EXPECT_TRUE(refs.try_acquire());
  EXPECT_EQ(refs.count_relaxed(), 2u);
  EXPECT_FALSE(refs.release());
  EXPECT_TRUE(refs.release());
  EXPECT_FALSE(refs.try_acquire());
  EXPECT_EQ(refs.count_relaxed(), 0u);
}

TEST(RefCount, StartingAtZeroIsDead) {
  refs_t refs(0);
  EXPECT_FALSE(refs.try_acquire());
}

TEST(RefCount, ResetRevivesARecycledObject) {
  refs_t refs;
  ASSERT_TRUE(refs.release());
  refs.reset(2);
  EXPECT_TRUE(refs.try_acquire());
  EXPECT_FALSE(refs.release());
  EXPECT_FALSE(refs.release());
  EXPECT_TRUE(refs.release());
}

TEST(RefCount, CountsUpToTheMaximum) {
  refs_t refs(max_u32 - 2);
  refs.acquire();
  EXPECT_TRUE(refs.try_acquire());
  EXPECT_EQ(refs.count_relaxed(), max_u32);
  EXPECT_FALSE(refs.release());
  EXPECT_EQ(refs.count_relaxed(), max_u32 - 1);
}

TEST(RefCount, UsageExampleFromHeaderCompilesAndRuns) {
  struct buffer {
    weft::ref_count<> refs;
    int destroyed = 0;
  } b;
  b.refs.acquire();
  int used = 0;
  if (b.refs.try_acquire()) {
    ++used;
    if (b.refs.release()) ++b.destroyed;
  }
  if (b.refs.release()) ++b.destroyed;
  if (b.refs.release()) ++b.destroyed;
  EXPECT_EQ(used, 1);
  EXPECT_EQ(b.destroyed, 1);
}

}  // namespace
