// The measurement harness every weft benchmark shares.
//
// These VMs have two vCPUs that halt when idle (waking one costs ~25 us) and
// that the host moves between a near placement (~60 ns cache-line round trip)
// and a far one (~400-550 ns) while a run is in progress. So each repetition of
// every benchmark:
//   - records the cache-line probe right before and right after its timed loop
//     (counters `probe_before_ns` / `probe_after_ns`), which tells the report
//     which placement that repetition ran in;
//   - pins its threads where the question is about placement (consumer or
//     waiter on CPU 0, producer or waker on CPU 1);
//   - verifies that every item it handed over arrived exactly once, and fails
//     the repetition (SkipWithError) if not;
//   - for latencies, times every round trip and reports p50 / p99 / mean.
//
// Thread safety: free functions are callable from any thread; the classes are
// documented per member.
#pragma once

#include <benchmark/benchmark.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace weft::bench {

// The CPUs the benchmarks pin to: the consumer/waiter side and the
// producer/waker side.
inline constexpr int consumer_cpu = 0;
inline constexpr int producer_cpu = 1;

// Cache-line size of the x86-64 machines this runs on; shared words and jobs
// are aligned to it so that no two of them share a line by accident.
inline constexpr std::size_t line_size = 64;

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Pins the calling thread to `cpu`; false if the machine has no such CPU or
// the call failed.
bool pin_current_thread(int cpu) noexcept;

// Pins the calling thread for its lifetime and restores the previous affinity
// mask afterwards (the benchmark thread runs pinned and unpinned cases).
class scoped_pin {
 public:
  explicit scoped_pin(int cpu) noexcept;
  ~scoped_pin();
  scoped_pin(const scoped_pin&) = delete;
  scoped_pin& operator=(const scoped_pin&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  bool ok_ = false;
  bool saved_ = false;
  cpu_set_t previous_{};
};

// A thread pinned to `cpu` before it runs `body` (cpu < 0: not pinned).
// pinned_ok() says whether the pin succeeded; read it after join().
class pinned_thread {
 public:
  pinned_thread() = default;
  template <class Body>
  pinned_thread(int cpu, Body&& body)
      : thread_([this, cpu, body = std::forward<Body>(body)]() mutable {
          pinned_ok_ = cpu < 0 || pin_current_thread(cpu);
          body();
        }) {}
  pinned_thread(pinned_thread&&) = delete;
  pinned_thread& operator=(pinned_thread&&) = delete;
  ~pinned_thread() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool pinned_ok() const noexcept { return pinned_ok_; }

 private:
  bool pinned_ok_ = false;
  std::thread thread_;
};

// Cache-line ping-pong between two pinned spinning threads on CPU 0 and CPU 1:
// the median over batches of the mean round-trip time, in ns. Costs about a
// millisecond. Returns a negative value if the threads could not be pinned.
double cache_line_round_trip_ns();

// Records the probe into state.counters[name].
void record_probe(benchmark::State& state, const char* name);

// Idle policy of a consumer (or a producer facing a full queue) that found
// nothing to do: pause for a while, then yield so that a thread sharing its CPU
// can run. Every peer's benchmark loop uses this same policy.
class idle_backoff {
 public:
  void reset() noexcept { polls_ = 0; }
  void wait() noexcept;

 private:
  std::uint32_t polls_ = 0;
};

// Releases worker threads round by round: the benchmark thread opens round r,
// workers waiting for it poll briefly and then block in a futex wait.
class round_gate {
 public:
  // Benchmark thread: start the next round (or, with stop = true, tell
  // workers to exit). Returns the round number.
  std::uint32_t open(bool stop = false) noexcept;
  // Worker thread: wait until a round after `seen` opens; returns it, or 0 when
  // told to stop.
  std::uint32_t wait_after(std::uint32_t seen) noexcept;

 private:
  alignas(line_size) std::atomic<std::uint32_t> round_{0};
  std::atomic<bool> stop_{false};
};

// Per-operation latencies of one repetition: p50, p99 and mean go into the
// state's counters (p50_ns, p99_ns, mean_ns, max_ns).
class latency_samples {
 public:
  explicit latency_samples(std::size_t expected) { samples_.reserve(expected); }
  void add(std::int64_t ns) { samples_.push_back(ns); }
  std::size_t size() const noexcept { return samples_.size(); }
  void report(benchmark::State& state);

 private:
  std::vector<std::int64_t> samples_;
};

// Exactly-once accounting for pointer handoff: each job carries a stamp; the
// producer writes 2r into it before handing it over in round r, the consumer
// checks that it reads 2r and writes 2r+1. A job delivered twice, from the
// wrong round, or never (count short) is an error.
class handoff_check {
 public:
  void start_round(std::uint32_t round) noexcept {
    expected_ = 2 * static_cast<std::uint64_t>(round);
    received_ = 0;
  }
  void receive(std::uint64_t& stamp) noexcept {
    if (stamp != expected_) ++errors_;
    stamp = expected_ + 1;
    ++received_;
  }
  std::uint64_t received() const noexcept { return received_; }
  std::uint64_t errors() const noexcept { return errors_; }
  // After the round: true if exactly `total` distinct jobs of this round
  // arrived. Otherwise fills `why`.
  bool round_ok(std::uint64_t total, std::string& why) const;

 private:
  std::uint64_t expected_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t errors_ = 0;
};

// Fails the repetition with `why` (Google Benchmark reports it as an error,
// and the report script refuses to use the row).
void fail(benchmark::State& state, const std::string& why);

}  // namespace weft::bench
