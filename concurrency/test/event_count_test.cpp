#include "weft/event_count.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

// The os backend with its futex wakes counted, so tests can assert that a
// notify made no system call.
struct counting_os : weft::sync::os {
  static inline std::atomic<int> wake_calls{0};
  static int wake(atomic<std::uint32_t>& word, int count) noexcept {
    wake_calls.fetch_add(1, std::memory_order_relaxed);
    return weft::sync::os::wake(word, count);
  }
};

using counted_ec = weft::event_count<counting_os>;
using ec_t = weft::event_count<>;

class EventCount : public ::testing::Test {
 protected:
  void SetUp() override { counting_os::wake_calls.store(0); }
  static int wakes() { return counting_os::wake_calls.load(); }
};

TEST_F(EventCount, NotifyWithoutWaitersMakesNoSystemCall) {
  counted_ec ec;
  for (int i = 0; i < 100; ++i) {
    ec.notify_one();
    ec.notify_all();
  }
  EXPECT_EQ(wakes(), 0);
  EXPECT_EQ(ec.epoch_relaxed(), 0u) << "the epoch moves only when someone waits";
}

TEST_F(EventCount, NotifyAfterCancelMakesNoSystemCall) {
  counted_ec ec;
  (void)ec.prepare_wait();
  ec.cancel_wait();
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
  ec.notify_one();
  EXPECT_EQ(wakes(), 0);
}

TEST_F(EventCount, NotifyWithPreparedWaiterMovesEpochAndWakes) {
  counted_ec ec;
  const auto key = ec.prepare_wait();
  EXPECT_EQ(ec.waiters_relaxed(), 1u);
  ec.notify_one();
  EXPECT_EQ(wakes(), 1);
  EXPECT_EQ(ec.epoch_relaxed(), key.epoch + 1);
  EXPECT_TRUE(ec.commit_wait(key, weft::deadline::immediate())) << "the notify came after prepare_wait";
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, NotifyReturnsWhetherAWaiterWasRegistered) {
  counted_ec ec(7);
  EXPECT_FALSE(ec.notify_one()) << "nobody waits";
  EXPECT_FALSE(ec.notify_all());
  EXPECT_EQ(ec.epoch_relaxed(), 7u) << "a false notify leaves the epoch alone";
  EXPECT_EQ(wakes(), 0);

  const auto key = ec.prepare_wait();
  EXPECT_TRUE(ec.notify_one());
  EXPECT_EQ(ec.epoch_relaxed(), 8u);
  EXPECT_TRUE(ec.notify_all()) << "still registered until commit or cancel";
  EXPECT_EQ(ec.epoch_relaxed(), 9u);
  EXPECT_EQ(wakes(), 2);
  EXPECT_TRUE(ec.commit_wait(key, weft::deadline::immediate()));

  EXPECT_FALSE(ec.notify_one()) << "the waiter deregistered";
  EXPECT_EQ(ec.epoch_relaxed(), 9u);
}

TEST_F(EventCount, NotifyAllWithPreparedWaiterWakesOnce) {
  counted_ec ec;
  const auto first = ec.prepare_wait();
  const auto second = ec.prepare_wait();  // a second registration (as if another thread)
  ec.notify_all();
  EXPECT_EQ(wakes(), 1) << "one futex call wakes them all";
  EXPECT_TRUE(ec.commit_wait(first, weft::deadline::immediate()));
  EXPECT_TRUE(ec.commit_wait(second, weft::deadline::immediate()));
}

TEST_F(EventCount, CommitWaitWithImmediateDeadlineTimesOut) {
  ec_t ec;
  const auto key = ec.prepare_wait();
  EXPECT_FALSE(ec.commit_wait(key, weft::deadline::immediate()));
  EXPECT_EQ(ec.waiters_relaxed(), 0u) << "a timed-out waiter deregisters";
}

TEST_F(EventCount, CommitWaitWithShortDeadlineTimesOutAfterIt) {
  ec_t ec;
  const auto start = std::chrono::steady_clock::now();
  const auto key = ec.prepare_wait();
  EXPECT_FALSE(ec.commit_wait(key, weft::deadline::after(std::chrono::milliseconds(3))));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3));
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, StaleKeyReturnsAtOnce) {
  ec_t ec;
  const auto stale = ec.prepare_wait();
  ec.notify_one();
  // A key from before a notify never blocks, even with an infinite deadline.
  EXPECT_TRUE(ec.commit_wait(stale, weft::deadline::infinite()));
}

TEST_F(EventCount, EpochWrapsFromMaxToZeroHarmlessly) {
  ec_t ec{UINT32_MAX - 1};
  for (std::uint32_t expected : {UINT32_MAX - 1, UINT32_MAX, 0u, 1u}) {
    const auto key = ec.prepare_wait();
    EXPECT_EQ(key.epoch, expected);
    ec.notify_one();
    EXPECT_TRUE(ec.commit_wait(key, weft::deadline::immediate()));
  }
  EXPECT_EQ(ec.epoch_relaxed(), 2u);
  const auto key = ec.prepare_wait();
  EXPECT_FALSE(ec.commit_wait(key, weft::deadline::immediate())) << "no notify, no wake, across the wrap";
}

TEST_F(EventCount, BlockedWaiterIsWokenAcrossTheEpochWrap) {
  ec_t ec{UINT32_MAX};
  std::atomic<int> flag{0};
  std::thread waiter([&] { EXPECT_TRUE(ec.await([&] { return flag.load(std::memory_order_acquire) != 0; })); });
  flag.store(1, std::memory_order_release);
  ec.notify_one();
  waiter.join();
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, AwaitReturnsAtOnceWhenConditionHolds) {
  counted_ec ec;
  EXPECT_TRUE(ec.await([] { return true; }, weft::deadline::immediate()));
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, AwaitTimesOutWhenConditionStaysFalse) {
  ec_t ec;
  EXPECT_FALSE(ec.await([] { return false; }, weft::deadline::immediate()));
  EXPECT_FALSE(ec.await([] { return false; }, weft::deadline::after(std::chrono::milliseconds(2))));
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, AwaitSeesConditionThatTurnsTrueAtTheLastCheck) {
  ec_t ec;
  int calls = 0;
  // False at the loop check and the re-check, true after the timed-out commit.
  EXPECT_TRUE(ec.await([&] { return ++calls >= 3; }, weft::deadline::immediate()));
}

TEST_F(EventCount, NotifyAllWakesEveryBlockedWaiter) {
  ec_t ec;
  std::atomic<int> flag{0};
  std::atomic<int> done{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&] {
      ec.await([&] { return flag.load(std::memory_order_acquire) != 0; });
      done.fetch_add(1);
    });
  }
  // Let some of them reach the futex (not required for correctness: the test
  // passes whatever the interleaving, it only makes the blocked case likely).
  while (ec.waiters_relaxed() < 2 && done.load() == 0) std::this_thread::yield();
  flag.store(1, std::memory_order_release);
  ec.notify_all();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(done.load(), 4);
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

TEST_F(EventCount, NotifyOnePerItemServesEveryConsumer) {
  ec_t ec;
  std::atomic<int> items{0};
  constexpr int consumers = 3, per_consumer = 200;
  auto take = [&] {
    int seen = items.load(std::memory_order_acquire);
    while (seen > 0) {
      if (items.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire)) return true;
    }
    return false;
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_consumer; ++i) ec.await(take);
    });
  }
  for (int i = 0; i < consumers * per_consumer; ++i) {
    items.fetch_add(1, std::memory_order_release);
    ec.notify_one();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(items.load(), 0);
}

TEST_F(EventCount, UsageExampleFromHeader) {
  ec_t ec;
  std::atomic<bool> ready_flag{false};
  auto ready = [&] { return ready_flag.load(std::memory_order_acquire); };
  auto make_ready = [&] { ready_flag.store(true, std::memory_order_release); };
  std::thread notifier([&] {
    make_ready();
    ec.notify_one();
  });
  const weft::deadline deadline = weft::deadline::infinite();
  while (!ready()) {
    auto key = ec.prepare_wait();
    if (ready()) {
      ec.cancel_wait();
      break;
    }
    ec.commit_wait(key, deadline);
  }
  notifier.join();
  EXPECT_TRUE(ready());
}

}  // namespace
