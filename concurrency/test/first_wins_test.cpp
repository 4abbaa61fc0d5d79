#include "weft/first_wins.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

// A value that counts its destructions, to see who deleted what.
struct tracked {
  explicit tracked(int v, int* destroyed) : value(v), destructions(destroyed) {}
  ~tracked() { ++*destructions; }
  int value;
  int* destructions;
};

struct counting_os : weft::sync::os {
  static inline int violations = 0;
  static void check(bool condition, const char*) noexcept { violations += condition ? 0 : 1; }
};

TEST(FirstWins, FirstOfferWinsAndLosersKeepTheirValue) {
  weft::first_wins<std::string> slot;
  auto first = std::make_unique<std::string>("first");
  auto second = std::make_unique<std::string>("second");
  EXPECT_TRUE(slot.offer(first));
  EXPECT_EQ(first, nullptr) << "ownership moved into the slot";
  EXPECT_TRUE(slot.has_value_relaxed());
  EXPECT_FALSE(slot.offer(second));
  ASSERT_NE(second, nullptr) << "a loser keeps its value";
  EXPECT_EQ(*second, "second");
  auto winner = slot.take();
  ASSERT_NE(winner, nullptr);
  EXPECT_EQ(*winner, "first");
  EXPECT_FALSE(slot.has_value_relaxed());
}

TEST(FirstWins, TakeClosesTheSlot) {
  weft::first_wins<int> slot;
  EXPECT_EQ(slot.take(), nullptr) << "nobody offered";
  auto late = std::make_unique<int>(7);
  EXPECT_FALSE(slot.offer(late)) << "offers after the close are refused";
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(*late, 7);
  EXPECT_FALSE(slot.has_value_relaxed());
}

TEST(FirstWins, OnlyTheFirstTakeGetsTheWinner) {
  weft::first_wins<int> slot;
  auto value = std::make_unique<int>(1);
  ASSERT_TRUE(slot.offer(value));
  auto first = slot.take();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(slot.take(), nullptr);
  auto late = std::make_unique<int>(2);
  EXPECT_FALSE(slot.offer(late));
}

TEST(FirstWins, DestructorDeletesAnUntakenWinnerOnly) {
  int destroyed = 0;
  auto loser = std::make_unique<tracked>(2, &destroyed);
  {
    weft::first_wins<tracked> slot;
    auto winner = std::make_unique<tracked>(1, &destroyed);
    ASSERT_TRUE(slot.offer(winner));
    ASSERT_FALSE(slot.offer(loser));
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1) << "the untaken winner, and nothing else";
  EXPECT_EQ(loser->value, 2);
  {
    weft::first_wins<tracked> slot;
    ASSERT_TRUE(slot.offer(loser));
    auto taken = slot.take();
  }
  EXPECT_EQ(destroyed, 2) << "a taken winner belongs to the taker, deleted once";
}

TEST(FirstWins, ResetDeletesAnUntakenWinnerAndReopens) {
  int destroyed = 0;
  weft::first_wins<tracked> slot;
  auto a = std::make_unique<tracked>(1, &destroyed);
  ASSERT_TRUE(slot.offer(a));
  slot.reset();
  EXPECT_EQ(destroyed, 1);
  EXPECT_FALSE(slot.has_value_relaxed());
  auto b = std::make_unique<tracked>(2, &destroyed);
  EXPECT_TRUE(slot.offer(b)) << "open again after reset";
  EXPECT_EQ(slot.take()->value, 2);
  EXPECT_EQ(destroyed, 2);
  slot.reset();  // closed and empty: reopens, deletes nothing
  EXPECT_EQ(destroyed, 2);
  auto c = std::make_unique<tracked>(3, &destroyed);
  EXPECT_TRUE(slot.offer(c));
}

TEST(FirstWins, NullOfferIsACheckedMisuse) {
  counting_os::violations = 0;
  weft::first_wins<int, counting_os> slot;
  std::unique_ptr<int> nothing;
  EXPECT_FALSE(slot.offer(nothing));
  EXPECT_EQ(counting_os::violations, 1);
  auto value = std::make_unique<int>(3);
  EXPECT_TRUE(slot.offer(value)) << "the null offer did not take the slot";
}

// A slot may live inside the type it holds (T incomplete where it is declared).
struct error_node {
  int code = 0;
  weft::first_wins<error_node> cause;
};

TEST(FirstWins, SlotInsideItsOwnValueType) {
  error_node outer;
  auto inner = std::make_unique<error_node>();
  inner->code = 5;
  ASSERT_TRUE(outer.cause.offer(inner));
  EXPECT_EQ(outer.cause.take()->code, 5);
}

TEST(FirstWins, UsageExampleFromHeaderCompilesAndRuns) {
  struct status {
    int code;
  };
  weft::first_wins<status> slot;
  int kept_by_producer = 0;
  for (int code : {3, 4}) {
    auto error = std::make_unique<status>(status{code});
    if (!slot.offer(error)) kept_by_producer += error->code;
  }
  std::unique_ptr<status> first = slot.take();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->code, 3);
  EXPECT_EQ(kept_by_producer, 4);
}

}  // namespace
