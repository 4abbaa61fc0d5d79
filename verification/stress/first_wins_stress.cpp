// Stress: many slots, taken in batches that all threads start together; three
// offerers offer a fresh message to every slot of the batch while a taker
// walks the same slots taking each once, so that offers and the take of one
// slot collide. Exactly the accepted offers are taken, each slot
// has at most one winner, the taker sees the winner's fields (plain, written
// before offer; TSAN watches them), losers get their own message back intact,
// and every message is deleted exactly once (a live-object count; ASAN reports
// leaks and double frees).
#include <cstdint>
#include <memory>
#include <vector>

#include "stress.hpp"
#include "weft/first_wins.hpp"

namespace {

template <class S>
class FirstWinsStress : public ::testing::Test {};
TYPED_TEST_SUITE(FirstWinsStress, weft::stress::backends, weft::stress::backend_names);

std::atomic<std::int64_t> live_messages{0};

struct message {
  message(std::uint64_t s, unsigned o) : slot(s), offerer(o), check(~s) { live_messages.fetch_add(1); }
  ~message() { live_messages.fetch_sub(1); }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  std::uint64_t slot;
  unsigned offerer;
  std::uint64_t check;
};

// A monotonic spin barrier: all `threads` return once every one has arrived
// for batch `batch`, so that they work on the same slots at the same time.
template <class S>
void meet(std::atomic<std::uint64_t>& arrivals, std::uint64_t batch, unsigned threads) {
  arrivals.fetch_add(1, std::memory_order_acq_rel);
  while (arrivals.load(std::memory_order_acquire) < (batch + 1) * threads) S::yield();
}

TYPED_TEST(FirstWinsStress, OneWinnerPerSlotNothingLostOrLeaked) {
  using S = TypeParam;
  constexpr unsigned offerers = 3;
  constexpr std::uint64_t batch_size = 32;
  const std::uint64_t batches = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 300 : 3'000);
  const std::uint64_t n = batches * batch_size;
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  live_messages.store(0);
  std::atomic<std::uint64_t> accepted{0}, taken{0}, damaged{0}, arrivals{0};
  {
    std::vector<weft::first_wins<message, S>> slots(n);
    std::vector<int> winner_count(n, 0);  // written by the taker only

    weft::stress::run_threads(offerers + 1, [&](unsigned index) {
      for (std::uint64_t b = 0; b < batches; ++b) {
        meet<S>(arrivals, b, offerers + 1);
        for (std::uint64_t i = b * batch_size; i < (b + 1) * batch_size; ++i) {
          if (index == offerers) {  // the taker, racing the offers
            const std::unique_ptr<message> winner = slots[i].take();
            if (!winner) continue;
            taken.fetch_add(1, std::memory_order_relaxed);
            ++winner_count[i];
            if (winner->slot != i || winner->check != ~i || winner->offerer >= offerers) {
              damaged.fetch_add(1, std::memory_order_relaxed);
            }
            continue;
          }
          auto m = std::make_unique<message>(i, index);
          if (slots[i].offer(m)) {
            accepted.fetch_add(1, std::memory_order_relaxed);
          } else if (!m || m->slot != i || m->offerer != index) {
            damaged.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
    });

    EXPECT_EQ(accepted.load(), taken.load()) << "an accepted offer was not taken (lost or slipped in after the close)";
    EXPECT_EQ(damaged.load(), 0u);
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_LE(winner_count[i], 1);
    for (const auto& slot : slots) ASSERT_FALSE(slot.has_value_relaxed());
  }
  EXPECT_EQ(live_messages.load(), 0) << "a message was leaked or deleted twice";
}

// The same slot reused through reset(): rounds of "three offers race a take",
// separated by the taker's reset, which the offerers see through an epoch.
TYPED_TEST(FirstWinsStress, ResetReusesOneSlot) {
  using S = TypeParam;
  constexpr unsigned offerers = 3;
  const std::uint64_t rounds = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 2'000 : 10'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  live_messages.store(0);
  {
    weft::first_wins<message, S> slot;
    std::atomic<std::uint64_t> epoch{0};  // round r is open while epoch == r
    std::atomic<unsigned> offered{0};     // offers made in the current round
    std::atomic<std::uint64_t> accepted{0}, taken{0};

    weft::stress::run_threads(offerers + 1, [&](unsigned index) {
      if (index == offerers) {
        for (std::uint64_t r = 0; r < rounds; ++r) {
          if (r % 2 == 0) {  // half the rounds take before every offer is in
            while (offered.load(std::memory_order_acquire) != offerers) S::yield();
          }
          if (slot.take()) taken.fetch_add(1, std::memory_order_relaxed);
          while (offered.load(std::memory_order_acquire) != offerers) S::yield();
          slot.reset();
          offered.store(0, std::memory_order_relaxed);
          epoch.store(r + 1, std::memory_order_release);
        }
        return;
      }
      for (std::uint64_t r = 0; r < rounds; ++r) {
        while (epoch.load(std::memory_order_acquire) != r) S::yield();
        auto m = std::make_unique<message>(r, index);
        if (slot.offer(m)) accepted.fetch_add(1, std::memory_order_relaxed);
        offered.fetch_add(1, std::memory_order_acq_rel);
      }
    });

    EXPECT_EQ(accepted.load(), taken.load());
    EXPECT_LE(taken.load(), rounds);
    EXPECT_GE(taken.load(), rounds / 2) << "rounds that take after every offer always have a winner";
  }
  EXPECT_EQ(live_messages.load(), 0);
}

}  // namespace
