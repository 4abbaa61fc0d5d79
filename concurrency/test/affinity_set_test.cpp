#include "weft/affinity_set.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using set256 = weft::affinity_set<256>;
using bits256 = weft::affinity_bits<256>;

std::vector<std::size_t> members(const set256& s) {
  std::vector<std::size_t> out;
  s.for_each([&](std::size_t b) { out.push_back(b); });
  return out;
}

TEST(AffinitySet, EmptySetHasNothingToFindOrClaim) {
  set256 s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.find_first(), set256::npos);
  EXPECT_EQ(s.find_first(130), set256::npos);
  EXPECT_EQ(s.claim_any(), set256::npos);
  EXPECT_TRUE(members(s).empty());
  EXPECT_FALSE(s.clear(7)) << "clearing a clear bit changes nothing";
}

TEST(AffinitySet, SetAndClearReportWhetherThisCallChangedTheBit) {
  set256 s;
  EXPECT_TRUE(s.set(70));
  EXPECT_FALSE(s.set(70));
  EXPECT_TRUE(s.test(70));
  EXPECT_FALSE(s.test(71));
  EXPECT_TRUE(s.try_claim(70));
  EXPECT_FALSE(s.try_claim(70)) << "a bit is claimed once per set";
  EXPECT_FALSE(s.test(70));
}

TEST(AffinitySet, WordBoundaryBits) {
  set256 s;
  for (std::size_t b : {0u, 63u, 64u, 127u, 128u, 255u}) EXPECT_TRUE(s.set(b));
  EXPECT_EQ(s.count(), 6u);
  EXPECT_EQ(members(s), (std::vector<std::size_t>{0, 63, 64, 127, 128, 255}));
  EXPECT_EQ(s.find_first(1), 63u);
  EXPECT_EQ(s.find_first(65), 127u);
  EXPECT_EQ(s.find_first(129), 255u);
}

TEST(AffinitySet, FindFirstWrapsAroundFromStart) {
  set256 s;
  s.set(5);
  s.set(200);
  EXPECT_EQ(s.find_first(0), 5u);
  EXPECT_EQ(s.find_first(5), 5u);
  EXPECT_EQ(s.find_first(6), 200u);
  EXPECT_EQ(s.find_first(201), 5u) << "wraps past the end";
  EXPECT_EQ(s.find_first(1000), 5u) << "an out-of-range start begins at 0";
  set256 t;
  t.set(3);
  EXPECT_EQ(t.find_first(10), 3u) << "bits below the start in the start word come last";
}

TEST(AffinitySet, ClaimAnyTakesFromTheHintAndWraps) {
  set256 s;
  s.set(10);
  s.set(100);
  EXPECT_EQ(s.claim_any(50), 100u);
  EXPECT_EQ(s.claim_any(50), 10u);
  EXPECT_EQ(s.claim_any(50), set256::npos);
}

TEST(AffinitySet, FullSetClaimsEveryBitOnce) {
  set256 s;
  for (std::size_t b = 0; b < 256; ++b) s.set(b);
  EXPECT_EQ(s.count(), 256u);
  EXPECT_EQ(s.load(), bits256::first_n(256));
  std::vector<int> claimed(256, 0);
  for (int i = 0; i < 256; ++i) {
    const std::size_t b = s.claim_any(static_cast<std::size_t>(i * 37) % 256);
    ASSERT_NE(b, set256::npos);
    ++claimed[b];
  }
  for (int c : claimed) EXPECT_EQ(c, 1);
  EXPECT_TRUE(s.empty());
}

TEST(AffinitySet, SingleBitSet) {
  weft::affinity_set<1> s;
  EXPECT_EQ(s.word_count, 1u);
  EXPECT_EQ(s.claim_any(), s.npos);
  EXPECT_TRUE(s.set(0));
  EXPECT_EQ(s.find_first(0), 0u);
  EXPECT_EQ(s.count(), 1u);
  EXPECT_EQ(s.claim_any(), 0u);
  EXPECT_TRUE(s.empty());
}

TEST(AffinitySet, SizeThatIsNotAMultipleOf64) {
  weft::affinity_set<100> s;
  EXPECT_EQ(s.word_count, 2u);
  s.set(99);
  s.set(1);
  EXPECT_EQ(s.find_first(2), 99u);
  EXPECT_EQ(s.find_first(99), 99u);
  EXPECT_EQ(s.find_first(100), 1u);
  EXPECT_EQ(weft::affinity_bits<100>::first_n(500).count(), 100u);
}

TEST(AffinityBits, FirstNAndValueOperations) {
  EXPECT_TRUE(bits256::first_n(0).empty());
  EXPECT_EQ(bits256::first_n(64).word(0), ~std::uint64_t{0});
  EXPECT_EQ(bits256::first_n(64).word(1), 0u);
  EXPECT_EQ(bits256::first_n(65).word(1), 1u);
  bits256 b;
  b.set(129);
  b.set(2);
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(b.find_first(3), 129u);
  EXPECT_EQ(b.find_first(130), 2u);
  b.clear(2);
  EXPECT_FALSE(b.test(2));
  EXPECT_EQ(b.find_first(), 129u);
}

TEST(AffinitySet, ConcurrentClaimersNeverShareABit) {
  set256 s;
  for (std::size_t b = 0; b < 256; ++b) s.set(b);
  std::vector<std::atomic<int>> claimed(256);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t b; (b = s.claim_any(t * 64)) != set256::npos;) claimed[b].fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  for (auto& c : claimed) EXPECT_EQ(c.load(), 1);
}

TEST(AffinitySet, UsageExampleFromHeader) {
  weft::affinity_set<256> idle;
  std::vector<std::size_t> posted;
  auto post = [&](std::size_t w) { posted.push_back(w); };
  const std::size_t worker = 77, hint = 0;
  idle.set(worker);
  std::size_t w = idle.claim_any(hint);
  if (w != idle.npos) post(w);
  EXPECT_EQ(posted, std::vector<std::size_t>{77});
}

}  // namespace
