// Stress: idle_set as the parking lot of a small worker pool. Producers
// publish items and wake(1); workers take items or park. Every item must be
// taken exactly once; every wake a waker reports must be matched by exactly
// one worker that returned `woken` (a duplicate post or a post to nobody
// breaks the balance); at the end no worker is left idle or counted. Workers
// park with an infinite deadline in the first test, so a lost wake leaves an
// item untaken and the watchdog fails the run; the second mixes timeouts.
#include <atomic>
#include <cstdint>

#include "stress.hpp"
#include "weft/idle_set.hpp"

namespace {

template <class S>
class IdleSetStress : public ::testing::Test {};
TYPED_TEST_SUITE(IdleSetStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
void run_pool(std::uint64_t per_producer, bool timed_waits) {
  constexpr unsigned workers = 3, producers = 2;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::idle_set<64, S> idle;
  std::atomic<std::int64_t> items{0};
  std::atomic<std::uint64_t> taken{0}, wakes_reported{0}, wakes_received{0}, timeouts{0};
  std::atomic<bool> stop{false};
  const std::uint64_t total = producers * per_producer;

  auto take = [&] {
    std::int64_t seen = items.load(std::memory_order_acquire);
    while (seen > 0) {
      if (items.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire, std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  };
  auto has_work = [&] { return items.load(std::memory_order_acquire) > 0 || stop.load(std::memory_order_acquire); };

  weft::stress::run_threads(workers + producers + 1, [&](unsigned index) {
    if (index < workers) {
      while (!stop.load(std::memory_order_acquire)) {
        if (take()) {
          taken.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        const weft::deadline until = timed_waits && index == 0
                                         ? weft::deadline::after(std::chrono::microseconds(30))
                                         : weft::deadline::infinite();
        switch (idle.park_unless(index, has_work, until)) {
          case weft::park_result::woken: wakes_received.fetch_add(1, std::memory_order_relaxed); break;
          case weft::park_result::timed_out: timeouts.fetch_add(1, std::memory_order_relaxed); break;
          case weft::park_result::work_found: break;
        }
      }
      return;
    }
    if (index < workers + producers) {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        items.fetch_add(1, std::memory_order_release);
        wakes_reported.fetch_add(idle.wake(1, index), std::memory_order_relaxed);
      }
      return;
    }
    // The controller: once every item is taken, stop the pool.
    while (taken.load(std::memory_order_acquire) < total) S::yield();
    stop.store(true, std::memory_order_release);
    wakes_reported.fetch_add(idle.wake_all(), std::memory_order_relaxed);
  });

  EXPECT_EQ(taken.load(), total);
  EXPECT_EQ(items.load(), 0);
  EXPECT_EQ(wakes_reported.load(), wakes_received.load()) << "a wake was duplicated or went to nobody";
  EXPECT_EQ(idle.idle_count_relaxed(), 0u) << "a worker's idle episode never ended";
  EXPECT_TRUE(idle.idle_workers().empty());
  if (timed_waits) {
    // Not an assertion on timing: timeouts merely happened or not.
    ::testing::Test::RecordProperty("timeouts", static_cast<int>(timeouts.load()));
  }
}

TYPED_TEST(IdleSetStress, EveryItemTakenEveryWakeReceived) {
  using S = TypeParam;
  run_pool<S>(weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000), false);
}

TYPED_TEST(IdleSetStress, TimeoutsRacingClaimsStayBalanced) {
  using S = TypeParam;
  run_pool<S>(weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000), true);
}

}  // namespace
