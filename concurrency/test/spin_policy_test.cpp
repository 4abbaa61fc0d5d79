#include "weft/spin_policy.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace {

// The os backend with a scripted clock and counted pauses: each clock read
// advances time by `tick_ns` (0 freezes it, as under Relacy).
struct scripted_clock : weft::sync::os {
  static inline std::int64_t now = 1'000'000;
  static inline std::int64_t tick_ns = 100;
  static inline std::uint64_t pauses = 0;
  static inline std::uint64_t clock_reads = 0;
  static std::int64_t now_ns() noexcept {
    ++clock_reads;
    now += tick_ns;
    return now;
  }
  static void pause() noexcept { ++pauses; }
  static void reset(std::int64_t tick) {
    now = 1'000'000;
    tick_ns = tick;
    pauses = 0;
    clock_reads = 0;
  }
};

using scripted = weft::spin_policy<scripted_clock>;

TEST(SpinPolicy, DefaultsComeFromTuning) {
  constexpr weft::spin_policy<> policy;
  EXPECT_EQ(policy.budget_ns(), weft::tuning::spin_budget_ns);
  EXPECT_EQ(policy.iteration_cap(), weft::tuning::spin_iteration_cap);
}

TEST(SpinPolicy, TrueConditionReturnsWithoutSpinning) {
  scripted_clock::reset(100);
  EXPECT_TRUE(scripted{}.spin([] { return true; }));
  EXPECT_EQ(scripted_clock::pauses, 0u);
  EXPECT_EQ(scripted_clock::clock_reads, 0u) << "the fast path does not read the clock";
}

TEST(SpinPolicy, StopsWhenTheTimeBudgetIsSpent) {
  scripted_clock::reset(100);  // every clock read is 100 ns later
  EXPECT_FALSE(scripted(1'000, 1'000'000).spin([] { return false; }));
  // 1,000 ns at 100 ns per read: 10 reads after the start, one every
  // spin_clock_check_interval pauses.
  EXPECT_EQ(scripted_clock::clock_reads, 11u);
  EXPECT_EQ(scripted_clock::pauses, 10u * weft::tuning::spin_clock_check_interval);
}

TEST(SpinPolicy, IterationCapEndsASpinWhoseClockIsFrozen) {
  scripted_clock::reset(0);
  EXPECT_FALSE(scripted(1'000, 37).spin([] { return false; }));
  EXPECT_EQ(scripted_clock::pauses, 37u);
}

TEST(SpinPolicy, ReturnsAsSoonAsTheConditionTurnsTrue) {
  scripted_clock::reset(0);
  int calls = 0;
  EXPECT_TRUE(scripted(1'000, 100).spin([&] { return ++calls == 5; }));
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(scripted_clock::pauses, 4u);
}

TEST(SpinPolicy, NoneAndZeroBudgetCheckOnce) {
  scripted_clock::reset(100);
  int calls = 0;
  EXPECT_FALSE(scripted::none().spin([&] { return ++calls > 1; }));
  EXPECT_FALSE(scripted(0, 100).spin([&] { return ++calls > 2; }));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(scripted_clock::pauses, 0u);
}

TEST(SpinPolicy, NeverSpinsPastTheDeadline) {
  scripted_clock::reset(100);
  EXPECT_FALSE(scripted(1'000'000, 1'000'000).spin([] { return false; }, weft::deadline::immediate()));
  EXPECT_EQ(scripted_clock::pauses, 0u);
  // A deadline 300 ns after the start cuts a 1 ms budget to 300 ns.
  scripted_clock::reset(100);
  EXPECT_FALSE(scripted(1'000'000, 1'000'000).spin([] { return false; }, weft::deadline::at(1'000'100 + 300)));
  EXPECT_EQ(scripted_clock::pauses, 3u * weft::tuning::spin_clock_check_interval);
}

TEST(SpinPolicy, RealClockBudgetEndsTheSpin) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(weft::spin_policy<>(200'000, UINT32_MAX).spin([] { return false; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::microseconds(200));
}

TEST(SpinThenWait, ConditionAlreadyTrue) {
  weft::event_count<> ec;
  EXPECT_TRUE(weft::spin_then_wait(ec, [] { return true; }, weft::deadline::immediate()));
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST(SpinThenWait, TimesOutWithImmediateAndShortDeadlines) {
  weft::event_count<> ec;
  EXPECT_FALSE(weft::spin_then_wait(ec, [] { return false; }, weft::deadline::immediate()));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(weft::spin_then_wait(ec, [] { return false; }, weft::deadline::after(std::chrono::milliseconds(2))));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2));
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST(SpinThenWait, ParksAfterTheSpinAndIsWoken) {
  weft::event_count<> ec;
  std::atomic<int> flag{0};
  // No spin at all: the waiter must reach the event_count; the notifier waits
  // until it is registered, so the wake goes through the futex path.
  std::thread waiter([&] {
    EXPECT_TRUE(weft::spin_then_wait(ec, [&] { return flag.load(std::memory_order_acquire) != 0; },
                                     weft::deadline::infinite(), weft::spin_policy<>::none()));
  });
  while (ec.waiters_relaxed() == 0) std::this_thread::yield();
  flag.store(1, std::memory_order_release);
  ec.notify_one();
  waiter.join();
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST(SpinThenWait, UsageExampleFromHeader) {
  weft::event_count<> ec;
  std::atomic<bool> ready_flag{false};
  auto ready = [&] { return ready_flag.load(std::memory_order_acquire); };
  std::thread notifier([&] {
    ready_flag.store(true, std::memory_order_release);
    ec.notify_one();
  });
  const weft::deadline deadline = weft::deadline::after(std::chrono::seconds(30));
  weft::spin_policy<> spin;
  bool timed_out = false;
  if (!weft::spin_then_wait(ec, [&] { return ready(); }, deadline, spin)) timed_out = true;
  notifier.join();
  EXPECT_FALSE(timed_out);
}

}  // namespace
