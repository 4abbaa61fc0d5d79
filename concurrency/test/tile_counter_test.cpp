#include "weft/tile_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace {

using counter_t = weft::tile_counter<>;
constexpr std::uint32_t max_u32 = std::numeric_limits<std::uint32_t>::max();

TEST(TileCounter, DefaultHasNoRegion) {
  counter_t tiles;
  EXPECT_EQ(tiles.epoch(), 0u);
  EXPECT_TRUE(tiles.claim(0, 8).empty());
  EXPECT_FALSE(tiles.retire(0, 0));  // retiring nothing completes nothing
}

TEST(TileCounter, SingleTileRegion) {
  counter_t tiles;
  tiles.reset(1, 1);
  const weft::tile_range r = tiles.claim(1, 4);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 1u);
  EXPECT_TRUE(tiles.claim(1, 4).empty());
  EXPECT_TRUE(tiles.retire(1, 1));
}

TEST(TileCounter, ClaimsAreAscendingDisjointAndBounded) {
  counter_t tiles;
  tiles.reset(7, 10);
  std::vector<int> seen(10, 0);
  std::uint32_t expected_begin = 0;
  for (weft::tile_range r; !(r = tiles.claim(7, 3)).empty();) {
    EXPECT_EQ(r.begin, expected_begin);
    EXPECT_LE(r.end, 10u);
    for (std::uint32_t i = r.begin; i < r.end; ++i) ++seen[i];
    expected_begin = r.end;
  }
  EXPECT_EQ(expected_begin, 10u);  // the last claim was cut to 1 tile
  for (int hits : seen) EXPECT_EQ(hits, 1);
  EXPECT_EQ(tiles.unclaimed_relaxed(), 0u);
  EXPECT_EQ(tiles.remaining_relaxed(), 10u);
}

TEST(TileCounter, ExactlyTheLastRetireCompletes) {
  counter_t tiles;
  tiles.reset(3, 5);
  ASSERT_EQ(tiles.claim(3, 5).size(), 5u);
  EXPECT_FALSE(tiles.retire(3, 2));
  EXPECT_FALSE(tiles.retire(3, 1));
  EXPECT_TRUE(tiles.retire(3, 2));
  EXPECT_EQ(tiles.remaining_relaxed(), 0u);
}

TEST(TileCounter, ZeroMaxTilesClaimsNothing) {
  counter_t tiles;
  tiles.reset(1, 4);
  EXPECT_TRUE(tiles.claim(1, 0).empty());
  EXPECT_EQ(tiles.unclaimed_relaxed(), 4u);
}

TEST(TileCounter, EmptyRegionHandsOutNothingAndHasNoCompleter) {
  counter_t tiles;
  tiles.reset(9, 0);
  EXPECT_TRUE(tiles.claim(9, 1).empty());
  EXPECT_FALSE(tiles.retire(8, 1));  // a stale retire finds nothing either
}

TEST(TileCounter, StaleEpochFailsHarmlessly) {
  counter_t tiles;
  tiles.reset(1, 2);
  ASSERT_EQ(tiles.claim(1, 2).size(), 2u);
  ASSERT_TRUE(tiles.retire(1, 2));
  tiles.reset(2, 3);
  // A worker that still believes in region 1:
  EXPECT_TRUE(tiles.claim(1, 1).empty());
  EXPECT_FALSE(tiles.retire(1, 1));
  // ... took nothing from region 2.
  EXPECT_EQ(tiles.unclaimed_relaxed(), 3u);
  EXPECT_EQ(tiles.remaining_relaxed(), 3u);
  // And a worker from the future is rejected as well.
  EXPECT_TRUE(tiles.claim(3, 1).empty());
  EXPECT_EQ(tiles.claim(2, 8).size(), 3u);
  EXPECT_TRUE(tiles.retire(2, 3));
}

TEST(TileCounter, FullWidthCountDoesNotTouchTheEpoch) {
  counter_t tiles;
  tiles.reset(5, max_u32);
  const weft::tile_range first = tiles.claim(5, max_u32 - 1);
  EXPECT_EQ(first.begin, 0u);
  EXPECT_EQ(first.end, max_u32 - 1);
  const weft::tile_range last = tiles.claim(5, max_u32);
  EXPECT_EQ(last.begin, max_u32 - 1);
  EXPECT_EQ(last.end, max_u32);
  EXPECT_TRUE(tiles.claim(5, 1).empty());
  EXPECT_EQ(tiles.epoch(), 5u);
  EXPECT_FALSE(tiles.retire(5, max_u32 - 1));
  EXPECT_TRUE(tiles.retire(5, 1));
  EXPECT_EQ(tiles.epoch(), 5u);
}

TEST(TileCounter, EpochWrapsThroughZero) {
  counter_t tiles(max_u32 - 2, 0);
  std::uint32_t epoch = max_u32 - 2;
  for (int region = 0; region < 6; ++region) {  // epochs max-1, max, 0, 1, 2, 3
    const std::uint32_t previous = epoch;
    ++epoch;
    tiles.reset(epoch, 2);
    EXPECT_EQ(tiles.epoch(), epoch);
    EXPECT_TRUE(tiles.claim(previous, 1).empty()) << "stale claim across the wrap, epoch " << epoch;
    EXPECT_FALSE(tiles.retire(previous, 1));
    EXPECT_EQ(tiles.claim(epoch, 1).begin, 0u);
    EXPECT_EQ(tiles.claim(epoch, 1).begin, 1u);
    EXPECT_FALSE(tiles.retire(epoch, 1));
    EXPECT_TRUE(tiles.retire(epoch, 1));
  }
  EXPECT_EQ(epoch, 3u);
}

TEST(TileCounter, UsageExampleFromHeaderCompilesAndRuns) {
  counter_t tiles;
  std::vector<int> ran(6, 0);
  int completions = 0, regions = 0;
  tiles.reset(1, 6);
  while (regions < 3) {  // one worker, three regions
    const std::uint32_t e = tiles.epoch();
    for (weft::tile_range r; !(r = tiles.claim(e, 4)).empty();) {
      for (std::uint32_t i = r.begin; i < r.end; ++i) ++ran[i];
      if (tiles.retire(e, r.size())) {
        ++completions;
        ++regions;
        tiles.reset(e + 1, 6);
      }
    }
  }
  EXPECT_EQ(completions, 3);
  for (int hits : ran) EXPECT_EQ(hits, 3);
}

}  // namespace
