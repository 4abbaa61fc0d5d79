// Stress: many processes, each suspended on 8 dependencies woken by 4 threads
// (two wakes each). The threads take the processes in batches that they all
// start together and walk in the same order, so that the wakes of one process
// collide. Each waker writes its input cell before wake(); exactly one wake
// per process activates it, and the activator must see all 8 inputs (plain
// fields TSAN watches). With a canceller racing the wakers, each process gets
// exactly one of {activation, inline cancel resolution}, and exactly one
// resolution. A third test races two holders' resolve() with cancel() on
// runnable processes.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "stress.hpp"
#include "weft/lifecycle_word.hpp"

namespace {

using weft::lifecycle;

template <class S>
class LifecycleWordStress : public ::testing::Test {};
TYPED_TEST_SUITE(LifecycleWordStress, weft::stress::backends, weft::stress::backend_names);

constexpr unsigned wakers = 4;
constexpr unsigned wakes_per_waker = 2;
constexpr unsigned dependencies = wakers * wakes_per_waker;
constexpr std::uint64_t batch_size = 32;

template <class S>
struct process {
  weft::lifecycle_word<S> word{dependencies};
  int input[dependencies] = {};  // plain: each written by its waker, read by the activator
  int reason = 0;                // plain: written by the canceller before cancel()
  std::atomic<int> activations{0}, inline_cancels{0}, resolutions{0};
};

// Whole batches.
template <class S>
std::uint64_t process_count() {
  const std::uint64_t n = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000);
  return (n / batch_size + 1) * batch_size;
}

// The activator's work: check the inputs, then resolve.
template <class S>
void run_activated(process<S>& p, std::atomic<std::uint64_t>& missing_inputs) {
  p.activations.fetch_add(1, std::memory_order_relaxed);
  for (unsigned d = 0; d < dependencies; ++d) {
    if (p.input[d] != static_cast<int>(d) + 1) missing_inputs.fetch_add(1, std::memory_order_relaxed);
  }
  if (!p.word.resolve()) return;
  p.resolutions.fetch_add(1, std::memory_order_relaxed);
  if (p.word.state() == lifecycle::cancelled && p.reason != 1) missing_inputs.fetch_add(1, std::memory_order_relaxed);
}

// A monotonic spin barrier: every one of `threads` threads returns once all of
// them have arrived for batch `batch`, so that they work on the same
// processes at the same time.
template <class S>
void meet(std::atomic<std::uint64_t>& arrivals, std::uint64_t batch, unsigned threads) {
  arrivals.fetch_add(1, std::memory_order_acq_rel);
  while (arrivals.load(std::memory_order_acquire) < (batch + 1) * threads) S::yield();
}

template <class S>
void wake_batch(process<S>* batch, unsigned index, std::atomic<std::uint64_t>& missing_inputs) {
  for (std::uint64_t i = 0; i < batch_size; ++i) {
    process<S>& p = batch[i];
    for (unsigned round = 0; round < wakes_per_waker; ++round) {
      const unsigned slot = index * wakes_per_waker + round;
      p.input[slot] = static_cast<int>(slot) + 1;
      if (p.word.wake()) run_activated(p, missing_inputs);
    }
  }
}

TYPED_TEST(LifecycleWordStress, EightWakesOneActivationEach) {
  using S = TypeParam;
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  std::vector<process<S>> pool(process_count<S>());
  std::atomic<std::uint64_t> missing_inputs{0}, arrivals{0};

  weft::stress::run_threads(wakers, [&](unsigned index) {
    for (std::uint64_t b = 0; b < pool.size() / batch_size; ++b) {
      meet<S>(arrivals, b, wakers);
      wake_batch(&pool[b * batch_size], index, missing_inputs);
    }
  });

  EXPECT_EQ(missing_inputs.load(), 0u) << "an activator did not see a waker's input";
  for (const auto& p : pool) {
    ASSERT_EQ(p.activations.load(), 1);
    ASSERT_EQ(p.resolutions.load(), 1);
    ASSERT_EQ(p.word.state(), lifecycle::completed);
    ASSERT_EQ(p.word.suspend_count_relaxed(), 0u);
  }
}

TYPED_TEST(LifecycleWordStress, CancelRacingWakesResolvesOnce) {
  using S = TypeParam;
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  std::vector<process<S>> pool(process_count<S>());
  std::atomic<std::uint64_t> missing_inputs{0}, arrivals{0}, inline_total{0};

  weft::stress::run_threads(wakers + 1, [&](unsigned index) {
    for (std::uint64_t b = 0; b < pool.size() / batch_size; ++b) {
      meet<S>(arrivals, b, wakers + 1);
      process<S>* batch = &pool[b * batch_size];
      if (index < wakers) {
        wake_batch(batch, index, missing_inputs);
        continue;
      }
      // The canceller: every other process, once a few of its wakes are in,
      // so that the cancel meets the last wakes.
      for (std::uint64_t i = b % 2; i < batch_size; i += 2) {
        process<S>& p = batch[i];
        for (int spin = 0; spin < 256 && p.word.suspend_count_relaxed() > 2; ++spin) S::pause();
        p.reason = 1;
        if (p.word.cancel() == lifecycle::suspended) {
          p.inline_cancels.fetch_add(1, std::memory_order_relaxed);
          p.resolutions.fetch_add(1, std::memory_order_relaxed);
          inline_total.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  });

  EXPECT_EQ(missing_inputs.load(), 0u);
  for (const auto& p : pool) {
    ASSERT_EQ(p.activations.load() + p.inline_cancels.load(), 1);
    ASSERT_EQ(p.resolutions.load(), 1);
    ASSERT_TRUE(p.word.is_terminal());
    ASSERT_EQ(p.word.suspend_count_relaxed(), 0u) << "every wake is recorded, even after a cancel";
  }
  std::printf("[          ] %llu of %zu cancels found the process suspended\n",
              static_cast<unsigned long long>(inline_total.load()), pool.size() / 2);
}

TYPED_TEST(LifecycleWordStress, TwoHoldersAndACancelResolveOnce) {
  using S = TypeParam;
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  struct runnable_process {
    weft::lifecycle_word<S> word{0};
    int output = 0;  // plain: written by the drainer before resolve()
    std::atomic<int> resolutions{0};
  };
  std::vector<runnable_process> pool(process_count<S>());
  std::atomic<std::uint64_t> stale_outputs{0}, arrivals{0};

  weft::stress::run_threads(3, [&](unsigned index) {
    for (std::uint64_t b = 0; b < pool.size() / batch_size; ++b) {
      meet<S>(arrivals, b, 3);
      for (std::uint64_t i = 0; i < batch_size; ++i) {
        runnable_process& p = pool[b * batch_size + i];
        if (index == 0) {  // the drainer
          p.output = 1;
          if (p.word.resolve()) p.resolutions.fetch_add(1, std::memory_order_relaxed);
        } else if (index == 1) {  // the canceller
          if (i % 2 == 0) static_cast<void>(p.word.cancel());
        } else {  // a second holder, which may resolve once it sees the process terminal
          for (int spin = 0; spin < 64 && !p.word.is_terminal(); ++spin) S::pause();
          if (!p.word.is_terminal()) continue;
          if (p.word.state() == lifecycle::completed && p.output != 1) {
            stale_outputs.fetch_add(1, std::memory_order_relaxed);
          }
          if (p.word.resolve()) p.resolutions.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  });

  EXPECT_EQ(stale_outputs.load(), 0u);
  for (const auto& p : pool) ASSERT_EQ(p.resolutions.load(), 1);
}

}  // namespace
