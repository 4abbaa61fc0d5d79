#include "weft/tagged_freelist.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>

namespace {

using list_t = weft::tagged_freelist<>;
constexpr std::uint32_t max_u32 = std::numeric_limits<std::uint32_t>::max();

TEST(TaggedFreelist, StartsEmpty) {
  std::array<list_t::link, 4> links;
  list_t list(links);
  EXPECT_EQ(list.capacity(), 4u);
  EXPECT_TRUE(list.empty_relaxed());
  EXPECT_FALSE(list.pop().has_value());
}

TEST(TaggedFreelist, ZeroCapacityFillStaysEmpty) {
  std::span<list_t::link> none;
  list_t list(none);
  list.fill();
  EXPECT_TRUE(list.empty_relaxed());
  EXPECT_FALSE(list.pop().has_value());
}

TEST(TaggedFreelist, FillHandsOutEverySlotInOrderThenEmpty) {
  std::array<list_t::link, 5> links;
  list_t list(links);
  list.fill();
  for (std::uint32_t i = 0; i < 5; ++i) {
    const auto slot = list.pop();
    ASSERT_TRUE(slot.has_value());
    EXPECT_EQ(*slot, i);
  }
  EXPECT_FALSE(list.pop().has_value());
  EXPECT_TRUE(list.empty_relaxed());
}

TEST(TaggedFreelist, SingleSlot) {
  std::array<list_t::link, 1> links;
  list_t list(links);
  list.push(0);
  EXPECT_FALSE(list.empty_relaxed());
  EXPECT_EQ(list.pop(), std::optional<std::uint32_t>(0));
  EXPECT_FALSE(list.pop().has_value());
  list.push(0);
  EXPECT_EQ(list.pop(), std::optional<std::uint32_t>(0));
}

TEST(TaggedFreelist, PushPopIsLastInFirstOut) {
  std::array<list_t::link, 4> links;
  list_t list(links);
  list.push(2);
  list.push(0);
  list.push(3);
  EXPECT_EQ(*list.pop(), 3u);
  EXPECT_EQ(*list.pop(), 0u);
  list.push(1);
  EXPECT_EQ(*list.pop(), 1u);
  EXPECT_EQ(*list.pop(), 2u);
  EXPECT_FALSE(list.pop().has_value());
}

TEST(TaggedFreelist, EveryHeadChangeBumpsTheTag) {
  std::array<list_t::link, 2> links;
  list_t list(links, 10);
  EXPECT_EQ(list.tag_relaxed(), 10u);
  list.push(1);
  EXPECT_EQ(list.tag_relaxed(), 11u);
  ASSERT_TRUE(list.pop().has_value());
  EXPECT_EQ(list.tag_relaxed(), 12u);
  EXPECT_FALSE(list.pop().has_value());
  EXPECT_EQ(list.tag_relaxed(), 12u) << "a pop of an empty list changes nothing";
}

TEST(TaggedFreelist, TagWrapsThroughZero) {
  std::array<list_t::link, 3> links;
  list_t list(links, max_u32 - 2);
  list.fill();  // tag max-1
  for (int round = 0; round < 4; ++round) {
    std::set<std::uint32_t> got;
    for (int i = 0; i < 3; ++i) got.insert(*list.pop());
    EXPECT_EQ(got.size(), 3u);
    EXPECT_FALSE(list.pop().has_value());
    for (std::uint32_t slot : got) list.push(slot);
  }
  EXPECT_EQ(list.tag_relaxed(), static_cast<std::uint32_t>(max_u32 - 1 + 4 * 6));
}

TEST(TaggedFreelist, UsageExampleFromHeaderCompilesAndRuns) {
  std::array<list_t::link, 64> links;
  std::array<int, 64> pool{};
  list_t free_slots(links);
  free_slots.fill();
  if (auto slot = free_slots.pop()) {
    pool[*slot] = 42;
    free_slots.push(*slot);
  }
  EXPECT_EQ(pool[0], 42);
  int count = 0;
  while (free_slots.pop()) ++count;
  EXPECT_EQ(count, 64);
}

}  // namespace
