#include "weft/drainer_word.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace {

using word_t = weft::drainer_word<>;
constexpr std::uint32_t max_u32 = std::numeric_limits<std::uint32_t>::max();

TEST(DrainerWord, StartsOpenAndEmpty) {
  word_t word(5);
  EXPECT_EQ(word.generation(), 5u);
  EXPECT_EQ(word.drainers_relaxed(), 0u);
  EXPECT_FALSE(word.closed_relaxed());
  EXPECT_FALSE(word.release_claimed_relaxed());
}

TEST(DrainerWord, EnterRequiresTheCurrentGeneration) {
  word_t word(5);
  EXPECT_FALSE(word.enter(4));
  EXPECT_FALSE(word.enter(6));
  EXPECT_TRUE(word.enter(5));
  EXPECT_TRUE(word.enter(5));
  EXPECT_EQ(word.drainers_relaxed(), 2u);
}

TEST(DrainerWord, LeaveBeforeCloseNeverReleases) {
  word_t word(1);
  ASSERT_TRUE(word.enter(1));
  ASSERT_TRUE(word.enter(1));
  EXPECT_FALSE(word.leave());
  EXPECT_FALSE(word.leave());
  EXPECT_EQ(word.drainers_relaxed(), 0u);
  EXPECT_FALSE(word.release_claimed_relaxed());
}

TEST(DrainerWord, CloseWithNobodyInsideGivesTheCloserTheRelease) {
  word_t word(1);
  const auto c = word.close(1);
  EXPECT_TRUE(c.completer);
  EXPECT_EQ(c.drainers, 0u);
  EXPECT_TRUE(c.release);
  EXPECT_TRUE(word.closed_relaxed());
  EXPECT_TRUE(word.release_claimed_relaxed());
  EXPECT_FALSE(word.enter(1)) << "closed: no new drainers";
}

TEST(DrainerWord, LastLeaverAfterCloseGetsTheRelease) {
  word_t word(1);
  ASSERT_TRUE(word.enter(1));
  ASSERT_TRUE(word.enter(1));
  ASSERT_TRUE(word.enter(1));
  const auto c = word.close(1);  // a closer that did not enter
  EXPECT_TRUE(c.completer);
  EXPECT_EQ(c.drainers, 3u);
  EXPECT_FALSE(c.release);
  EXPECT_FALSE(word.enter(1));
  EXPECT_FALSE(word.leave());
  EXPECT_FALSE(word.leave());
  EXPECT_FALSE(word.release_claimed_relaxed());
  EXPECT_TRUE(word.leave());
  EXPECT_TRUE(word.release_claimed_relaxed());
}

TEST(DrainerWord, OnlyTheFirstCloseCompletes) {
  word_t word(1);
  ASSERT_TRUE(word.enter(1));
  ASSERT_TRUE(word.enter(1));
  const auto first = word.close(1);   // drainer A closes while inside
  const auto second = word.close(1);  // drainer B found the work finished too
  EXPECT_TRUE(first.completer);
  EXPECT_EQ(first.drainers, 2u);
  EXPECT_FALSE(first.release);
  EXPECT_FALSE(second.completer);
  EXPECT_FALSE(second.release);
  EXPECT_FALSE(word.leave());
  EXPECT_TRUE(word.leave());
}

TEST(DrainerWord, StaleCloseChangesNothing) {
  word_t word(2);
  ASSERT_TRUE(word.enter(2));
  const auto c = word.close(1);
  EXPECT_FALSE(c.completer);
  EXPECT_FALSE(c.release);
  EXPECT_FALSE(word.closed_relaxed());
  EXPECT_FALSE(word.leave());
}

TEST(DrainerWord, RecycleReopensForTheNextGenerationOnly) {
  word_t word(1);
  ASSERT_TRUE(word.enter(1));
  ASSERT_TRUE(word.close(1).completer);
  ASSERT_TRUE(word.leave());
  word.recycle(2);
  EXPECT_EQ(word.generation(), 2u);
  EXPECT_FALSE(word.closed_relaxed());
  EXPECT_FALSE(word.release_claimed_relaxed());
  EXPECT_EQ(word.drainers_relaxed(), 0u);
  EXPECT_FALSE(word.enter(1)) << "a worker that read generation 1 must not enter item 2";
  EXPECT_FALSE(word.close(1).completer);
  EXPECT_TRUE(word.enter(2));
}

TEST(DrainerWord, GenerationWrapsThroughZero) {
  word_t word(max_u32 - 2);
  std::uint32_t generation = max_u32 - 2;
  for (int item = 0; item < 6; ++item) {  // generations max-2 .. 2
    EXPECT_EQ(word.generation(), generation);
    ASSERT_TRUE(word.enter(generation));
    EXPECT_FALSE(word.enter(generation - 1));
    const auto c = word.close(generation);
    EXPECT_TRUE(c.completer);
    EXPECT_EQ(c.drainers, 1u);
    EXPECT_TRUE(word.leave());
    const std::uint32_t stale = generation;
    ++generation;
    word.recycle(generation);
    EXPECT_FALSE(word.enter(stale));
  }
  EXPECT_EQ(generation, 3u);
}

TEST(DrainerWord, ManyDrainersCountsExactly) {
  word_t word(0);
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(word.enter(0));
  EXPECT_EQ(word.drainers_relaxed(), static_cast<std::uint32_t>(n));
  EXPECT_EQ(word.close(0).drainers, static_cast<std::uint32_t>(n));
  int releases = 0;
  for (int i = 0; i < n; ++i) releases += word.leave() ? 1 : 0;
  EXPECT_EQ(releases, 1);
}

TEST(DrainerWord, UsageExampleFromHeaderCompilesAndRuns) {
  word_t word(7);
  int completions = 0, releases = 0;
  auto worker = [&](bool finds_work_finished) {
    const std::uint32_t g = word.generation();
    if (word.enter(g)) {
      if (finds_work_finished && word.close(g).completer) ++completions;
      if (word.leave()) ++releases;
    }
  };
  ASSERT_TRUE(word.enter(7));  // a drainer that stays inside meanwhile
  worker(false);
  worker(true);
  worker(true);  // closed: does not enter
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(releases, 0);
  if (word.leave()) ++releases;
  EXPECT_EQ(releases, 1);
  word.recycle(8);
  EXPECT_EQ(word.generation(), 8u);
}

}  // namespace
