// Stress: an affinity_set as a pool of 256 claimable slots. Threads claim any
// slot (from different hints), hold it briefly, and set it back. A slot may
// have one holder at a time; every claim is matched by exactly one set that
// reports "changed"; at the end every slot is back in the set.
#include <atomic>
#include <cstdint>
#include <vector>

#include "stress.hpp"
#include "weft/affinity_set.hpp"

namespace {

template <class S>
class AffinitySetStress : public ::testing::Test {};
TYPED_TEST_SUITE(AffinitySetStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(AffinitySetStress, EachSlotHasOneHolderAtATime) {
  using S = TypeParam;
  constexpr std::size_t slots = 256;
  constexpr unsigned threads = 4;
  const std::uint64_t rounds = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 200'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::affinity_set<slots, S> pool;
  for (std::size_t b = 0; b < slots; ++b) ASSERT_TRUE(pool.set(b));
  std::vector<std::atomic<int>> holders(slots);
  std::atomic<std::uint64_t> claims{0}, returns{0}, overlaps{0}, lost_sets{0};

  weft::stress::run_threads(threads, [&](unsigned index) {
    std::uint64_t hint = index * (slots / threads);
    std::size_t held[3];
    for (std::uint64_t r = 0; r < rounds; ++r) {
      // Hold up to three slots at once so that words drain and refill.
      unsigned n = 0;
      for (; n < 1 + r % 3; ++n) {
        const std::size_t b = pool.claim_any(static_cast<std::size_t>(hint % slots));
        if (b == pool.npos) break;
        if (holders[b].fetch_add(1, std::memory_order_relaxed) != 0) overlaps.fetch_add(1);
        held[n] = b;
        claims.fetch_add(1, std::memory_order_relaxed);
        hint = hint * 6364136223846793005ULL + 1442695040888963407ULL;  // wander the hint
      }
      for (unsigned i = 0; i < n; ++i) {
        holders[held[i]].fetch_sub(1, std::memory_order_relaxed);
        if (!pool.set(held[i])) lost_sets.fetch_add(1);
        returns.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });

  EXPECT_EQ(overlaps.load(), 0u) << "two claimers held the same slot";
  EXPECT_EQ(lost_sets.load(), 0u) << "a returned slot was already set";
  EXPECT_EQ(claims.load(), returns.load());
  EXPECT_GT(claims.load(), 0u);
  EXPECT_EQ(pool.count(), slots);
}

// Setters of different bits in the same words never lose each other's bits,
// and each bit is set once and claimed once.
TYPED_TEST(AffinitySetStress, ConcurrentSettersAndClaimersBalance) {
  using S = TypeParam;
  constexpr std::size_t slots = 256;
  constexpr unsigned setters = 2, claimers = 2;
  const std::uint64_t passes = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 100 : 1'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::affinity_set<slots, S> set;
  std::vector<std::atomic<std::uint32_t>> claimed(slots);
  std::atomic<unsigned> setters_done{0};

  weft::stress::run_threads(setters + claimers, [&](unsigned index) {
    if (index < setters) {
      // Setter k owns the bits b with b % setters == k and re-sets each one
      // only after a claimer took it, `passes` times.
      for (std::uint64_t p = 0; p < passes; ++p) {
        for (std::size_t b = index; b < slots; b += setters) {
          while (claimed[b].load(std::memory_order_acquire) != p) S::yield();
          ASSERT_TRUE(set.set(b)) << "bit " << b << " was still set";
        }
      }
      setters_done.fetch_add(1, std::memory_order_release);
      return;
    }
    for (;;) {
      const bool finished = setters_done.load(std::memory_order_acquire) == setters;
      const std::size_t b = set.claim_any(index * 97);
      if (b != set.npos) {
        claimed[b].fetch_add(1, std::memory_order_release);
      } else if (finished) {
        break;
      } else {
        S::yield();
      }
    }
  });

  for (std::size_t b = 0; b < slots; ++b) ASSERT_EQ(claimed[b].load(), passes) << "bit " << b;
  EXPECT_TRUE(set.empty());
}

}  // namespace
