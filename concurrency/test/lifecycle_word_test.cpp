#include "weft/lifecycle_word.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using weft::lifecycle;
using word_t = weft::lifecycle_word<>;

// The os backend with S::check counting violations instead of aborting, to
// see what a violated contract leaves behind.
struct counting_os : weft::sync::os {
  static inline int violations = 0;
  static void check(bool condition, const char*) noexcept { violations += condition ? 0 : 1; }
};
using counted_word = weft::lifecycle_word<counting_os>;

TEST(LifecycleWord, StartsSuspendedOnDependenciesOrRunnableWithout) {
  word_t suspended(3);
  EXPECT_EQ(suspended.state(), lifecycle::suspended);
  EXPECT_EQ(suspended.suspend_count_relaxed(), 3u);
  EXPECT_FALSE(suspended.is_terminal());
  EXPECT_FALSE(suspended.resolved_relaxed());
  word_t runnable(0);
  EXPECT_EQ(runnable.state(), lifecycle::runnable);
  EXPECT_EQ(runnable.suspend_count_relaxed(), 0u);
}

TEST(LifecycleWord, OnlyTheLastWakeActivates) {
  word_t word(3);
  EXPECT_FALSE(word.wake());
  EXPECT_FALSE(word.wake());
  EXPECT_EQ(word.state(), lifecycle::suspended);
  EXPECT_EQ(word.suspend_count_relaxed(), 1u);
  EXPECT_TRUE(word.wake());
  EXPECT_EQ(word.state(), lifecycle::runnable);
  EXPECT_EQ(word.suspend_count_relaxed(), 0u);
}

TEST(LifecycleWord, ResolveCompletesARunnableWordOnce) {
  word_t word(1);
  ASSERT_TRUE(word.wake());
  EXPECT_TRUE(word.resolve());
  EXPECT_EQ(word.state(), lifecycle::completed);
  EXPECT_TRUE(word.is_terminal());
  EXPECT_TRUE(word.resolved_relaxed());
  EXPECT_FALSE(word.resolve());
  EXPECT_EQ(word.cancel(), lifecycle::completed) << "a completed process cannot be cancelled";
  EXPECT_EQ(word.state(), lifecycle::completed);
}

TEST(LifecycleWord, CancelOfSuspendedClaimsTheResolution) {
  word_t word(2);
  EXPECT_EQ(word.cancel(), lifecycle::suspended);
  EXPECT_EQ(word.state(), lifecycle::cancelled);
  EXPECT_TRUE(word.resolved_relaxed());
  EXPECT_FALSE(word.resolve()) << "the canceller already resolved it";
  // Dependencies still resolve later: their wakes are recorded, none activates.
  EXPECT_FALSE(word.wake());
  EXPECT_EQ(word.suspend_count_relaxed(), 1u);
  EXPECT_FALSE(word.wake());
  EXPECT_EQ(word.suspend_count_relaxed(), 0u);
  EXPECT_EQ(word.state(), lifecycle::cancelled);
  EXPECT_EQ(word.cancel(), lifecycle::cancelled);
}

TEST(LifecycleWord, CancelOfRunnableLeavesTheResolutionToTheHolder) {
  word_t word(0);
  EXPECT_EQ(word.cancel(), lifecycle::runnable);
  EXPECT_EQ(word.state(), lifecycle::cancelled);
  EXPECT_TRUE(word.is_terminal());
  EXPECT_FALSE(word.resolved_relaxed());
  EXPECT_TRUE(word.resolve());
  EXPECT_EQ(word.state(), lifecycle::cancelled) << "resolving a cancelled word does not complete it";
  EXPECT_FALSE(word.resolve());
}

TEST(LifecycleWord, CountAtItsLimitKeepsStateBitsIntact) {
  word_t word(word_t::max_suspend_count);
  EXPECT_EQ(word.suspend_count_relaxed(), (1u << 28) - 1);
  EXPECT_EQ(word.state(), lifecycle::suspended);
  EXPECT_FALSE(word.wake());
  EXPECT_EQ(word.suspend_count_relaxed(), (1u << 28) - 2);
  EXPECT_EQ(word.cancel(), lifecycle::suspended);
  EXPECT_EQ(word.state(), lifecycle::cancelled);
  EXPECT_TRUE(word.resolved_relaxed());
  EXPECT_EQ(word.suspend_count_relaxed(), (1u << 28) - 2);
}

TEST(LifecycleWord, MisuseIsCheckedAndChangesNothing) {
  counting_os::violations = 0;
  counted_word runnable(0);
  EXPECT_FALSE(runnable.wake()) << "a wake past the suspend count";
  EXPECT_EQ(counting_os::violations, 1);
  EXPECT_EQ(runnable.state(), lifecycle::runnable);
  EXPECT_EQ(runnable.suspend_count_relaxed(), 0u);

  counted_word suspended(1);
  EXPECT_FALSE(suspended.resolve()) << "resolving a suspended process";
  EXPECT_EQ(counting_os::violations, 2);
  EXPECT_EQ(suspended.state(), lifecycle::suspended);
  EXPECT_FALSE(suspended.resolved_relaxed());

  counted_word too_many(1u << 28);
  EXPECT_EQ(counting_os::violations, 3);
  EXPECT_EQ(too_many.state(), lifecycle::suspended) << "clamped, not spilled into the state bits";
  EXPECT_EQ(too_many.suspend_count_relaxed(), counted_word::max_suspend_count);

  counted_word cancelled(0);
  ASSERT_EQ(cancelled.cancel(), lifecycle::runnable);
  EXPECT_FALSE(cancelled.wake());
  EXPECT_EQ(counting_os::violations, 4);
  EXPECT_EQ(cancelled.state(), lifecycle::cancelled);
}

TEST(LifecycleWord, FinishCompletesWithoutClaimingTheResolution) {
  word_t word(0);
  EXPECT_TRUE(word.finish());
  EXPECT_EQ(word.state(), lifecycle::completed);
  EXPECT_TRUE(word.is_terminal());
  EXPECT_FALSE(word.resolved_relaxed()) << "one resolve() still runs the completion";
  EXPECT_FALSE(word.finish());
  EXPECT_EQ(word.cancel(), lifecycle::completed);
  EXPECT_TRUE(word.resolve());
  EXPECT_EQ(word.state(), lifecycle::completed);
  EXPECT_FALSE(word.resolve());
}

TEST(LifecycleWord, FinishLeavesSuspendedAndCancelledWordsAlone) {
  word_t suspended(1);
  EXPECT_FALSE(suspended.finish());
  EXPECT_EQ(suspended.state(), lifecycle::suspended);
  EXPECT_EQ(suspended.suspend_count_relaxed(), 1u);
  word_t cancelled(0);
  ASSERT_EQ(cancelled.cancel(), lifecycle::runnable);
  EXPECT_FALSE(cancelled.finish());
  EXPECT_EQ(cancelled.state(), lifecycle::cancelled);
  EXPECT_TRUE(cancelled.resolve());
}

TEST(LifecycleWord, UsageExampleFromHeaderCompilesAndRuns) {
  word_t word(2);
  int scheduled = 0, finished = 0;
  lifecycle finished_as = lifecycle::suspended;
  auto finish = [&](lifecycle how) {
    ++finished;
    finished_as = how;
  };
  auto dependency_resolved = [&] {
    if (word.wake()) ++scheduled;
  };
  dependency_resolved();
  dependency_resolved();
  ASSERT_EQ(scheduled, 1);
  // A cancel arrives while the process is queued: the drainer resolves it.
  if (word.cancel() == lifecycle::suspended) finish(lifecycle::cancelled);
  EXPECT_EQ(finished, 0);
  if (word.is_terminal() && word.resolve()) finish(word.state());
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(finished_as, lifecycle::cancelled);
}

}  // namespace
