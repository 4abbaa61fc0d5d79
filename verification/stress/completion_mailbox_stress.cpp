// Stress: producers push numbered messages into a small ring, retrying when it
// is full; one consumer drains. Every message must arrive exactly once, each
// producer's in push order, and intact (a check word over the other fields).
// Variants: a two-slot ring (full nearly all the time, maximal slot reuse) and
// positions started just below 2^64 so the counters wrap mid-run.
#include <cstdio>
#include <limits>

#include "stress.hpp"
#include "weft/completion_mailbox.hpp"

namespace {

template <class S>
class CompletionMailboxStress : public ::testing::Test {};
TYPED_TEST_SUITE(CompletionMailboxStress, weft::stress::backends, weft::stress::backend_names);

struct message {
  std::uint32_t producer;
  std::uint32_t padding;
  std::uint64_t sequence;
  std::uint64_t check;  // a function of the fields above: a torn copy shows up here
};

std::uint64_t check_of(std::uint32_t producer, std::uint64_t sequence) {
  return (sequence * 0x9E3779B97F4A7C15ULL) ^ (std::uint64_t{producer} << 56) ^ 0x5a5a5a5aULL;
}

struct outcome {
  std::uint64_t received = 0;
  std::uint64_t refused = 0;  // try_push calls that found the ring full
  bool order_ok = true;
  bool intact = true;
};

template <class Mailbox, class S>
outcome run_mailbox(Mailbox& mailbox, unsigned producers, std::uint64_t per_producer) {
  outcome result;
  std::vector<std::uint64_t> next_expected(producers, 0);
  std::atomic<std::uint64_t> refused{0};
  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      std::uint64_t my_refused = 0;
      for (std::uint64_t seq = 0; seq < per_producer; ++seq) {
        const message m{index, 0, seq, check_of(index, seq)};
        while (!mailbox.try_push(m)) {
          ++my_refused;
          S::yield();
        }
      }
      refused.fetch_add(my_refused, std::memory_order_relaxed);
      return;
    }
    const std::uint64_t total = producers * per_producer;
    while (result.received < total) {
      const std::size_t got = mailbox.drain([&](const message& m) {
        ++result.received;  // counted even when broken, so a bad run ends instead of hanging
        if (m.producer >= producers || m.check != check_of(m.producer, m.sequence)) {
          result.intact = false;
          return;
        }
        if (m.sequence != next_expected[m.producer]) result.order_ok = false;
        next_expected[m.producer] = m.sequence + 1;
      });
      if (got == 0) S::yield();  // 4 threads share 2 cores in CI: let the producers run
    }
  });
  result.refused = refused.load(std::memory_order_relaxed);
  for (unsigned p = 0; p < producers; ++p)
    if (next_expected[p] != per_producer) result.order_ok = false;
  return result;
}

template <class S>
std::uint64_t per_producer_count(std::uint64_t os_count) {
  return weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? os_count / 10 : os_count);
}

void expect_exact(const outcome& r, unsigned producers, std::uint64_t per_producer) {
  EXPECT_EQ(r.received, producers * per_producer);
  EXPECT_TRUE(r.intact) << "a torn or invented message was delivered";
  EXPECT_TRUE(r.order_ok) << "a producer's messages were lost, duplicated or reordered";
  std::printf("[ info     ] %llu messages, %llu refused pushes (ring full)\n",
              static_cast<unsigned long long>(r.received), static_cast<unsigned long long>(r.refused));
}

TYPED_TEST(CompletionMailboxStress, EveryMessageOnceInOrder) {
  using S = TypeParam;
  constexpr unsigned producers = 3;
  const std::uint64_t per_producer = per_producer_count<S>(100'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::completion_mailbox<message, 16, S> mailbox;
  expect_exact(run_mailbox<decltype(mailbox), S>(mailbox, producers, per_producer), producers, per_producer);
  EXPECT_FALSE(mailbox.has_pending());
  EXPECT_EQ(mailbox.drain([](const message&) {}), 0u);
}

TYPED_TEST(CompletionMailboxStress, TwoSlotRingUnderConstantBackPressure) {
  using S = TypeParam;
  constexpr unsigned producers = 2;
  const std::uint64_t per_producer = per_producer_count<S>(50'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::completion_mailbox<message, 2, S> mailbox;
  expect_exact(run_mailbox<decltype(mailbox), S>(mailbox, producers, per_producer), producers, per_producer);
  EXPECT_FALSE(mailbox.has_pending());
}

TYPED_TEST(CompletionMailboxStress, PositionsWrapPast2To64MidRun) {
  using S = TypeParam;
  constexpr unsigned producers = 3;
  const std::uint64_t per_producer = per_producer_count<S>(100'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::completion_mailbox<message, 8, S> mailbox;
  // The wrap lands about a third of the way through the run.
  mailbox.for_test_start_at(std::numeric_limits<std::uint64_t>::max() - per_producer + 1);
  expect_exact(run_mailbox<decltype(mailbox), S>(mailbox, producers, per_producer), producers, per_producer);
  EXPECT_FALSE(mailbox.has_pending());
  EXPECT_TRUE(mailbox.try_push(message{0, 0, 0, check_of(0, 0)}));
  EXPECT_TRUE(mailbox.has_pending());
}

}  // namespace
