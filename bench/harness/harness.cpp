#include "harness/harness.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>

namespace weft::bench {

bool pin_current_thread(int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

scoped_pin::scoped_pin(int cpu) noexcept {
  saved_ = pthread_getaffinity_np(pthread_self(), sizeof(previous_), &previous_) == 0;
  ok_ = pin_current_thread(cpu);
}

scoped_pin::~scoped_pin() {
  if (saved_) pthread_setaffinity_np(pthread_self(), sizeof(previous_), &previous_);
}

namespace {

// Spins without a pause instruction: on this CPU model pause costs ~140
// cycles, as much as the near-placement round trip it would be measuring.
void spin_until_equal(const std::atomic<std::uint32_t>& word, std::uint32_t value) noexcept {
  while (word.load(std::memory_order_acquire) != value) {
  }
}

}  // namespace

double cache_line_round_trip_ns() {
  constexpr std::uint32_t warmup_round_trips = 200;
  constexpr std::uint32_t batches = 9;
  constexpr std::uint32_t round_trips_per_batch = 200;
  constexpr std::uint32_t total = warmup_round_trips + batches * round_trips_per_batch;

  scoped_pin pin(consumer_cpu);
  if (!pin.ok()) return -1.0;

  struct alignas(line_size) shared_line {
    std::atomic<std::uint32_t> word{0};
  };
  shared_line line;
  std::atomic<bool> helper_pinned{false};
  {
    // The helper answers every odd value with the next even one.
    pinned_thread helper(producer_cpu, [&] {
      helper_pinned.store(true, std::memory_order_release);
      for (std::uint32_t i = 0; i < total; ++i) {
        spin_until_equal(line.word, 2 * i + 1);
        line.word.store(2 * i + 2, std::memory_order_release);
      }
    });
    std::array<double, batches> batch_ns{};
    std::uint32_t next = 0;
    auto round_trip = [&] {
      line.word.store(2 * next + 1, std::memory_order_release);
      spin_until_equal(line.word, 2 * next + 2);
      ++next;
    };
    for (std::uint32_t i = 0; i < warmup_round_trips; ++i) round_trip();
    for (std::uint32_t b = 0; b < batches; ++b) {
      const std::int64_t start = now_ns();
      for (std::uint32_t i = 0; i < round_trips_per_batch; ++i) round_trip();
      batch_ns[b] = static_cast<double>(now_ns() - start) / round_trips_per_batch;
    }
    helper.join();
    if (!helper.pinned_ok()) return -1.0;
    std::nth_element(batch_ns.begin(), batch_ns.begin() + batches / 2, batch_ns.end());
    return batch_ns[batches / 2];
  }
}

void record_probe(benchmark::State& state, const char* name) {
  state.counters[name] = benchmark::Counter(cache_line_round_trip_ns());
}

void idle_backoff::wait() noexcept {
  // ~64 pauses is a few microseconds here: long enough to catch a producer
  // that is about to publish, short enough not to starve one sharing the CPU.
  if (++polls_ < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    sched_yield();
  }
}

std::uint32_t round_gate::open(bool stop) noexcept {
  if (stop) stop_.store(true, std::memory_order_relaxed);
  const std::uint32_t round = round_.fetch_add(1, std::memory_order_release) + 1;
  round_.notify_all();
  return round;
}

std::uint32_t round_gate::wait_after(std::uint32_t seen) noexcept {
  // Poll (yielding, so a worker that shares the consumer's CPU lets it run)
  // for up to ~50 us: a worker is usually released right after it finished
  // the previous round. Then block, so that an idle worker costs nothing.
  const std::int64_t spin_until = now_ns() + 50'000;
  std::uint32_t round = round_.load(std::memory_order_acquire);
  while (round == seen && now_ns() < spin_until) {
    sched_yield();
    round = round_.load(std::memory_order_acquire);
  }
  while (round == seen) {
    round_.wait(seen, std::memory_order_acquire);
    round = round_.load(std::memory_order_acquire);
  }
  return stop_.load(std::memory_order_relaxed) ? 0 : round;
}

void latency_samples::report(benchmark::State& state) {
  if (samples_.empty()) return;
  std::vector<std::int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double quantile) {
    const auto index = static_cast<std::size_t>(quantile * static_cast<double>(sorted.size() - 1) + 0.5);
    return static_cast<double>(sorted[index]);
  };
  double sum = 0;
  for (std::int64_t ns : sorted) sum += static_cast<double>(ns);
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["max_ns"] = static_cast<double>(sorted.back());
  state.counters["mean_ns"] = sum / static_cast<double>(sorted.size());
  state.counters["samples"] = static_cast<double>(sorted.size());
}

bool handoff_check::round_ok(std::uint64_t total, std::string& why) const {
  if (errors_ == 0 && received_ == total) return true;
  why = "handoff check failed: expected " + std::to_string(total) + " jobs, received " + std::to_string(received_) +
        ", " + std::to_string(errors_) + " duplicated or stale";
  return false;
}

void fail(benchmark::State& state, const std::string& why) { state.SkipWithError(why.c_str()); }

}  // namespace weft::bench
