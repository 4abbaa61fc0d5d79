// Stress: event_count as the sleep half of a blocking queue and of a
// broadcast. Counts must balance exactly (every item taken once, no waiter
// left registered) and a lost wakeup hangs a thread, which the watchdog turns
// into a failure. The epoch starts just below 2^32 so every run crosses the
// wrap.
#include <atomic>
#include <cstdint>

#include "stress.hpp"
#include "weft/event_count.hpp"

namespace {

template <class S>
class EventCountStress : public ::testing::Test {};
TYPED_TEST_SUITE(EventCountStress, weft::stress::backends, weft::stress::backend_names);

constexpr std::uint32_t near_wrap = UINT32_MAX - 500;

template <class S>
std::uint64_t per_thread(std::uint64_t plain) {
  return weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? plain / 10 : plain);
}

// Producers add items and notify_one each; consumers take exactly their quota
// through await(). Some consumers use short deadlines and retry, so timed-out
// waits are mixed with woken ones.
TYPED_TEST(EventCountStress, NotifyOneHandsEveryItemToAConsumer) {
  using S = TypeParam;
  constexpr unsigned producers = 2, consumers = 2;
  const std::uint64_t per_producer = per_thread<S>(100'000);
  const std::uint64_t quota = producers * per_producer / consumers;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::event_count<S> ec{near_wrap};
  std::atomic<std::int64_t> items{0};
  std::atomic<std::uint64_t> taken{0}, timeouts{0};
  auto take = [&] {
    std::int64_t seen = items.load(std::memory_order_acquire);
    while (seen > 0) {
      if (items.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire, std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  };

  weft::stress::run_threads(producers + consumers, [&](unsigned index) {
    if (index < producers) {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        items.fetch_add(1, std::memory_order_release);
        ec.notify_one();
      }
      return;
    }
    const bool timed = index == producers;  // the first consumer waits with deadlines
    for (std::uint64_t i = 0; i < quota; ++i) {
      if (timed) {
        while (!ec.await(take, weft::deadline::after(std::chrono::microseconds(50)))) {
          timeouts.fetch_add(1, std::memory_order_relaxed);
        }
      } else {
        ASSERT_TRUE(ec.await(take));
      }
      taken.fetch_add(1, std::memory_order_relaxed);
    }
  });

  EXPECT_EQ(taken.load(), producers * per_producer);
  EXPECT_EQ(items.load(), 0);
  EXPECT_EQ(ec.waiters_relaxed(), 0u) << "a waiter stayed registered";
}

// One broadcaster advances a generation and calls notify_all; every listener
// waits for each generation in turn (and may skip ahead). No listener may be
// left asleep on an old generation.
TYPED_TEST(EventCountStress, NotifyAllReachesEveryListener) {
  using S = TypeParam;
  constexpr unsigned listeners = 3;
  const std::uint64_t generations = per_thread<S>(20'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::event_count<S> ec{near_wrap};
  std::atomic<std::uint64_t> generation{0};
  std::atomic<unsigned> arrived{0};  // listeners that saw the last generation

  weft::stress::run_threads(listeners + 1, [&](unsigned index) {
    if (index == listeners) {
      for (std::uint64_t g = 1; g <= generations; ++g) {
        generation.store(g, std::memory_order_release);
        ec.notify_all();
      }
      return;
    }
    std::uint64_t target = 1;
    while (target <= generations) {
      ec.await([&] { return generation.load(std::memory_order_acquire) >= target; });
      target = generation.load(std::memory_order_acquire) + 1;
    }
    arrived.fetch_add(1, std::memory_order_relaxed);
  });

  EXPECT_EQ(arrived.load(), listeners);
  EXPECT_EQ(ec.waiters_relaxed(), 0u);
}

}  // namespace
