#include "weft/timeline_word.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace {

using word_t = weft::timeline_word<>;

TEST(TimelineWord, StartsAtTheInitialValue) {
  word_t zero;
  EXPECT_EQ(zero.load(), 0u);
  word_t seven(7);
  EXPECT_EQ(seven.load(), 7u);
  EXPECT_EQ(seven.load_relaxed(), 7u);
}

TEST(TimelineWord, AdvanceUpwardReportsThePreviousValue) {
  word_t word(3);
  const auto r = word.advance_to(10);
  EXPECT_TRUE(r.advanced);
  EXPECT_EQ(r.previous, 3u);
  EXPECT_EQ(word.load(), 10u);
  const auto s = word.advance_to(11);
  EXPECT_TRUE(s.advanced);
  EXPECT_EQ(s.previous, 10u);
}

TEST(TimelineWord, AdvanceToTheCurrentOrALowerValueChangesNothing) {
  word_t word(5);
  const auto same = word.advance_to(5);
  EXPECT_FALSE(same.advanced);
  EXPECT_EQ(same.previous, 5u);
  const auto lower = word.advance_to(2);
  EXPECT_FALSE(lower.advanced);
  EXPECT_EQ(lower.previous, 5u);
  EXPECT_EQ(word.load(), 5u);
}

TEST(TimelineWord, TheFullSixtyFourBitRangeIsUsable) {
  constexpr std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  word_t word((std::uint64_t{1} << 32) - 1);
  EXPECT_TRUE(word.advance_to(std::uint64_t{1} << 32).advanced);  // crosses the 32-bit boundary
  EXPECT_EQ(word.load(), std::uint64_t{1} << 32);
  EXPECT_TRUE(word.advance_to(top).advanced);
  EXPECT_EQ(word.load(), top);
  EXPECT_FALSE(word.advance_to(top).advanced);  // nothing is above the top: no wrap
  EXPECT_EQ(word.load(), top);
}

// The usage pattern from the header: results published per value.
TEST(TimelineWord, UsageExampleFromHeaderCompilesAndRuns) {
  word_t word;
  std::vector<int> results(4, 0);
  std::thread signaller([&] {
    for (std::uint64_t v = 1; v < 4; ++v) {
      results[v] = static_cast<int>(v * 10);
      EXPECT_TRUE(word.advance_to(v).advanced);
    }
  });
  std::uint64_t last = 0;
  while (last < 3) {
    const std::uint64_t now = word.load();
    ASSERT_GE(now, last);  // monotonic as seen by one reader
    for (std::uint64_t v = last + 1; v <= now; ++v) EXPECT_EQ(results[v], static_cast<int>(v * 10));
    last = now;
    std::this_thread::yield();
  }
  signaller.join();
}

// Several threads race to advance to interleaved values: the successes form
// one chain from the initial value to the max, and no value succeeds twice.
TEST(TimelineWord, RacingSignallersFormOneChainEndingAtTheMax) {
  constexpr unsigned threads = 4;
  constexpr std::uint64_t top = 4'000;
  word_t word;
  std::mutex log_mutex;  // the test's own log, not under test
  std::vector<std::pair<std::uint64_t, std::uint64_t>> chain;  // (value, previous) of every success
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<std::pair<std::uint64_t, std::uint64_t>> mine;  // (value, previous)
      for (std::uint64_t v = 1 + t; v <= top; v += 2) {          // values overlap between thread pairs
        const auto r = word.advance_to(v);
        if (r.advanced) {
          mine.emplace_back(v, r.previous);
        } else {
          EXPECT_GE(r.previous, v);
        }
      }
      const std::lock_guard<std::mutex> lock(log_mutex);
      chain.insert(chain.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(word.load(), top);
  std::sort(chain.begin(), chain.end());
  std::uint64_t expected_previous = 0;
  for (auto [v, p] : chain) {
    ASSERT_EQ(p, expected_previous) << "success at " << v << " did not replace the previous success";
    ASSERT_GT(v, p);
    expected_previous = v;
  }
  EXPECT_EQ(expected_previous, top);
}

}  // namespace
