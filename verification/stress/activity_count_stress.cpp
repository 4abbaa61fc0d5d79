// Stress: rounds of begin/end storms with a waiter. In each round the waiter
// begins one activity per worker and opens the round; each worker runs a
// burst of nested begin()/end() pairs (spawning and finishing children while
// it holds its own activity), writes its round result (plain, TSAN watches
// it) and ends its activity. The waiter blocks in wait_idle() and must return
// with every worker's result visible; exactly one end() per round reports
// zero. A lost wake hangs the waiter, which the watchdog turns into a failure.
// A second test uses short deadlines, so that waits time out and retry.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "stress.hpp"
#include "weft/activity_count.hpp"

namespace {

template <class S>
class ActivityCountStress : public ::testing::Test {};
TYPED_TEST_SUITE(ActivityCountStress, weft::stress::backends, weft::stress::backend_names);

constexpr unsigned workers = 3;

template <class S>
void run_rounds(std::uint64_t rounds, weft::deadline (*next_deadline)()) {
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::activity_count<S> scope;
  std::atomic<std::uint64_t> round{0};             // the last round the waiter opened
  std::vector<std::uint64_t> results(workers, 0);  // plain: written before end(), read after wait_idle()
  std::atomic<std::uint64_t> zero_reports{0}, missing_results{0}, timeouts{0};

  weft::stress::run_threads(workers + 1, [&](unsigned index) {
    if (index == workers) {  // the waiter
      for (std::uint64_t r = 1; r <= rounds; ++r) {
        scope.begin(workers);
        round.store(r, std::memory_order_release);
        while (!scope.wait_idle(next_deadline())) timeouts.fetch_add(1, std::memory_order_relaxed);
        for (unsigned w = 0; w < workers; ++w) {
          if (results[w] != r) missing_results.fetch_add(1, std::memory_order_relaxed);
        }
      }
      return;
    }
    for (std::uint64_t r = 1; r <= rounds; ++r) {
      while (round.load(std::memory_order_acquire) < r) S::yield();
      for (unsigned child = 0; child < 1 + (r + index) % 4; ++child) {
        scope.begin();
        if (scope.end()) zero_reports.fetch_add(1, std::memory_order_relaxed);  // never: the parent holds one
      }
      results[index] = r;
      if (scope.end()) zero_reports.fetch_add(1, std::memory_order_relaxed);
    }
  });

  EXPECT_EQ(zero_reports.load(), rounds) << "exactly one end() per round reaches zero";
  EXPECT_EQ(missing_results.load(), 0u) << "wait_idle returned before a worker's work was visible";
  EXPECT_TRUE(scope.idle());
  if (timeouts.load() != 0) {
    std::printf("[          ] %llu waits timed out and retried\n", static_cast<unsigned long long>(timeouts.load()));
  }
}

TYPED_TEST(ActivityCountStress, StormsWithABlockingWaiter) {
  using S = TypeParam;
  run_rounds<S>(weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 2'000 : 20'000),
                [] { return weft::deadline::infinite(); });
}

TYPED_TEST(ActivityCountStress, StormsWithAWaiterThatTimesOut) {
  using S = TypeParam;
  run_rounds<S>(weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 1'000 : 10'000),
                [] { return weft::deadline::after(std::chrono::microseconds(20)); });
}

}  // namespace
