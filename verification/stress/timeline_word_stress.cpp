// Stress: weft::timeline_word on real threads.
//
// RacingSignallersAndReaders: three signallers advance one word through the
// values 1..N in ascending order. Value v belongs to signaller v % 3; every
// fourth value is contested, also requested by signaller (v + 1) % 3, so two
// CASes race for the same value. Before advancing to an uncontested value its
// owner writes that value's payload (plain memory); two readers load the word
// in a loop and read the payload of every uncontested value they see (only its
// owner can have stored it). TSAN checks that advance_to/load order those
// plain accesses. At the end: the value is N, and the successes form one
// chain 0 -> ... -> N (each `previous` is the success before it), so no value
// was advanced twice and no advance was overwritten.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "stress.hpp"
#include "weft/timeline_word.hpp"

namespace {

template <class S>
class TimelineWordStress : public ::testing::Test {};
TYPED_TEST_SUITE(TimelineWordStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(TimelineWordStress, RacingSignallersAndReaders) {
  using S = TypeParam;
  constexpr unsigned signallers = 3;
  constexpr unsigned readers = 2;
  const std::uint64_t top = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 200'000 : 2'000'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::timeline_word<S> word;
  std::vector<std::uint64_t> payload(top + 1, 0);  // of uncontested values, by their owner
  std::mutex chain_mutex;                             // the test's own log, not under test
  std::vector<std::pair<std::uint64_t, std::uint64_t>> chain;  // (value, previous) of every success
  std::atomic<unsigned> signallers_done{0};
  std::atomic<std::uint64_t> bad_payloads{0}, went_back{0}, bad_failures{0};

  auto contested = [](std::uint64_t v) { return v % 4 == 0; };
  auto requests = [&](std::uint64_t v, unsigned t) {
    return v % signallers == t || (contested(v) && (v + 1) % signallers == t);
  };
  auto payload_of = [](std::uint64_t v) { return v * 1'000 + 7; };

  weft::stress::run_threads(signallers + readers, [&](unsigned index) {
    if (index < signallers) {
      std::vector<std::pair<std::uint64_t, std::uint64_t>> mine;
      for (std::uint64_t v = 1; v <= top; ++v) {
        if (!requests(v, index)) continue;
        if (!contested(v)) payload[v] = payload_of(v);
        const auto r = word.advance_to(v);
        if (r.advanced) {
          mine.emplace_back(v, r.previous);
        } else if (r.previous < v) {
          bad_failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
      {
        const std::lock_guard<std::mutex> lock(chain_mutex);
        chain.insert(chain.end(), mine.begin(), mine.end());
      }
      signallers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    std::uint64_t last = 0;
    for (;;) {
      const bool finished = signallers_done.load(std::memory_order_acquire) == signallers;
      const std::uint64_t now = word.load();
      if (now < last) went_back.fetch_add(1, std::memory_order_relaxed);
      if (now > 0 && !contested(now) && payload[now] != payload_of(now)) {
        bad_payloads.fetch_add(1, std::memory_order_relaxed);
      }
      last = now;
      if (finished) return;
      S::yield();
    }
  });

  EXPECT_EQ(word.load(), top);
  EXPECT_EQ(bad_payloads.load(), 0u) << "a reader saw a value before its signaller's payload";
  EXPECT_EQ(went_back.load(), 0u) << "a reader saw the value go down";
  EXPECT_EQ(bad_failures.load(), 0u) << "a failed advance reported a value below its own";
  std::sort(chain.begin(), chain.end());
  std::uint64_t link = 0;
  std::size_t broken = 0;
  for (auto [v, p] : chain) {
    if (p != link || v <= p) ++broken;
    link = v;
  }
  EXPECT_EQ(broken, 0u) << "the successes do not form one chain (a value claimed twice or an advance lost)";
  EXPECT_EQ(link, top);
}

}  // namespace
