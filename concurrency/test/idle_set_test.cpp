#include "weft/idle_set.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

struct counting_os : weft::sync::os {
  static inline std::atomic<int> wake_calls{0};
  static int wake(atomic<std::uint32_t>& word, int count) noexcept {
    wake_calls.fetch_add(1, std::memory_order_relaxed);
    return weft::sync::os::wake(word, count);
  }
};

using counted = weft::idle_set<8, counting_os>;
using weft::park_result;

class IdleSet : public ::testing::Test {
 protected:
  void SetUp() override { counting_os::wake_calls.store(0); }
  static int wakes() { return counting_os::wake_calls.load(); }
};

TEST_F(IdleSet, WakeWithNobodyIdleMakesNoSystemCall) {
  counted idle;
  EXPECT_EQ(idle.wake(1), 0u);
  EXPECT_EQ(idle.wake(0), 0u);
  EXPECT_EQ(idle.wake_one(), counted::npos);
  EXPECT_FALSE(idle.wake_worker(3));
  EXPECT_EQ(idle.wake_all(), 0u);
  EXPECT_EQ(wakes(), 0);
}

TEST_F(IdleSet, PostBeforeParkMakesParkReturnAtOnce) {
  counted idle;
  idle.prepare_park(2);
  EXPECT_TRUE(idle.is_idle(2));
  EXPECT_EQ(idle.idle_count_relaxed(), 1u);
  EXPECT_EQ(idle.wake(1), 1u);
  EXPECT_FALSE(idle.is_idle(2)) << "the waker claimed it";
  EXPECT_EQ(wakes(), 0) << "the worker was not on the futex: no system call";
  EXPECT_EQ(idle.park(2, weft::deadline::immediate()), park_result::woken) << "the token was waiting";
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
}

TEST_F(IdleSet, CancelBeforeAnyClaimWithdraws) {
  counted idle;
  idle.prepare_park(0);
  EXPECT_TRUE(idle.cancel_park(0));
  EXPECT_FALSE(idle.is_idle(0));
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
  EXPECT_EQ(idle.wake(1), 0u);
}

TEST_F(IdleSet, CancelAfterAClaimConsumesThePostAndLeavesNoStaleToken) {
  counted idle;
  idle.prepare_park(0);
  EXPECT_EQ(idle.wake(1), 1u);
  EXPECT_FALSE(idle.cancel_park(0)) << "the wake was spent on this worker";
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
  // The next episode starts clean: no leftover token makes it return early.
  idle.prepare_park(0);
  EXPECT_EQ(idle.park(0, weft::deadline::immediate()), park_result::timed_out);
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
}

TEST_F(IdleSet, ParkTimesOutWithImmediateAndShortDeadlines) {
  counted idle;
  idle.prepare_park(1);
  EXPECT_EQ(idle.park(1, weft::deadline::immediate()), park_result::timed_out);
  EXPECT_FALSE(idle.is_idle(1)) << "a timed-out worker withdraws";
  const auto start = std::chrono::steady_clock::now();
  idle.prepare_park(1);
  EXPECT_EQ(idle.park(1, weft::deadline::after(std::chrono::milliseconds(3))), park_result::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3));
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
  EXPECT_EQ(idle.wake(1), 0u);
}

TEST_F(IdleSet, WakeClaimsDistinctWorkers) {
  counted idle;
  for (std::size_t w = 0; w < 4; ++w) idle.prepare_park(w);
  EXPECT_EQ(idle.wake(2), 2u);
  EXPECT_EQ(idle.idle_workers().count(), 2u);
  EXPECT_EQ(idle.wake(5), 2u) << "only two were left";
  EXPECT_EQ(idle.wake(1), 0u) << "the count is still 4 (episodes not ended), but no bit is left";
  for (std::size_t w = 0; w < 4; ++w) EXPECT_EQ(idle.park(w, weft::deadline::immediate()), park_result::woken);
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
}

TEST_F(IdleSet, WakeOneSearchesFromTheHintAndWraps) {
  counted idle;
  idle.prepare_park(3);
  idle.prepare_park(6);
  EXPECT_EQ(idle.wake_one(5), 6u);
  EXPECT_EQ(idle.wake_one(5), 3u);
  EXPECT_EQ(idle.wake_one(5), counted::npos);
  EXPECT_EQ(idle.park(3, weft::deadline::immediate()), park_result::woken);
  EXPECT_EQ(idle.park(6, weft::deadline::immediate()), park_result::woken);
}

TEST_F(IdleSet, WakeWorkerTargetsOneWorker) {
  counted idle;
  idle.prepare_park(1);
  idle.prepare_park(2);
  EXPECT_TRUE(idle.wake_worker(2));
  EXPECT_FALSE(idle.wake_worker(2)) << "already claimed";
  EXPECT_FALSE(idle.wake_worker(5)) << "not idle";
  EXPECT_TRUE(idle.is_idle(1));
  EXPECT_EQ(idle.park(2, weft::deadline::immediate()), park_result::woken);
  EXPECT_TRUE(idle.cancel_park(1));
}

TEST_F(IdleSet, AllOf256WorkersCanBeWoken) {
  weft::idle_set<256> idle;
  for (std::size_t w = 0; w < 256; ++w) idle.prepare_park(w);
  EXPECT_EQ(idle.idle_workers().count(), 256u);
  EXPECT_EQ(idle.wake_all(), 256u);
  for (std::size_t w = 0; w < 256; ++w) ASSERT_EQ(idle.park(w, weft::deadline::immediate()), park_result::woken);
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
}

TEST_F(IdleSet, ParkUnlessFindsWorkWithoutSleeping) {
  counted idle;
  EXPECT_EQ(idle.park_unless(4, [] { return true; }, weft::deadline::infinite()), park_result::work_found);
  EXPECT_FALSE(idle.is_idle(4));
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
  EXPECT_EQ(idle.park_unless(4, [] { return false; }, weft::deadline::immediate()), park_result::timed_out);
}

TEST_F(IdleSet, SleepingWorkerIsWokenByTheFutex) {
  counted idle;
  std::atomic<int> work{0};
  park_result result = park_result::timed_out;
  std::thread worker([&] {
    while (work.load(std::memory_order_acquire) == 0) {
      result = idle.park_unless(0, [&] { return work.load(std::memory_order_acquire) != 0; });
    }
  });
  while (!idle.is_idle(0)) std::this_thread::yield();  // make the blocked case likely, not required
  work.store(1, std::memory_order_release);
  idle.wake(1);
  worker.join();
  EXPECT_NE(result, park_result::timed_out);
  EXPECT_EQ(idle.idle_count_relaxed(), 0u);
}

TEST_F(IdleSet, UsageExampleFromHeader) {
  weft::idle_set<4> idle;
  std::atomic<int> queue{0};
  std::atomic<bool> stop{false};
  int ran = 0;
  auto find_work = [&] {
    int seen = queue.load(std::memory_order_acquire);
    while (seen > 0 && !queue.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire)) {
    }
    return seen > 0;
  };
  auto has_work = [&] { return queue.load(std::memory_order_acquire) > 0 || stop.load(); };
  std::thread worker([&] {
    const std::size_t i = 0;
    const weft::deadline deadline = weft::deadline::infinite();
    while (!stop.load()) {
      if (find_work()) {
        ++ran;
        continue;
      }
      idle.park_unless(i, [&] { return has_work(); }, deadline);
    }
  });
  for (int j = 0; j < 3; ++j) {
    queue.fetch_add(1, std::memory_order_release);
    idle.wake(1);
  }
  while (queue.load() != 0) std::this_thread::yield();
  stop.store(true);
  idle.wake_all();
  worker.join();
  EXPECT_EQ(ran, 3);
}

}  // namespace
