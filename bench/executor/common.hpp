// What every executor benchmark shares: how a caller waits for completion,
// how a repetition starts from a quiet machine, the tiny tiles a parallel-for
// runs, and how a weft executor is made with an explicit placement.
//
//   completion_flag done;                  // set by on_complete (or a peer's last tile)
//   done.reset(); start(); done.wait(caller_wait::blocks);
//
// Bench code only: driver/ never uses std::atomic or futexes directly, but a
// benchmark's caller may (the brief allows it), and every row waits through
// the same completion_flag, so the waiting costs the same for weft and peers.
//
// Thread safety: completion_flag members from any thread as documented on
// each; the free functions from any thread.
#pragma once

#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.hpp"
#include "weft/base/topology.hpp"
#include "weft/exec/executor.hpp"

namespace weft::bench {

// How the benchmark thread waits for a dispatch it started: spinning on the
// flag (it keeps its CPU awake) or blocked in FUTEX_WAIT (its vCPU may halt, so
// the completion pays a wake of the caller too).
enum class caller_wait { spins, blocks };

inline long futex_call(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) noexcept {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

// A one-shot flag: one thread sets it, one thread waits for it. The setter
// makes a system call only when the waiter is asleep.
class completion_flag {
 public:
  // The waiting thread, before the dispatch it will wait for.
  void reset() noexcept { word_.store(clear, std::memory_order_relaxed); }
  // Any thread. release: what the setter wrote before set() is visible to
  // the waiter that sees the flag.
  void set() noexcept {
    if (word_.exchange(is_set_value, std::memory_order_acq_rel) == sleeping) futex_call(word_, FUTEX_WAKE_PRIVATE, 1);
  }
  bool is_set() const noexcept { return word_.load(std::memory_order_acquire) == is_set_value; }
  // The one waiting thread.
  void wait(caller_wait how) noexcept {
    if (how == caller_wait::spins) {
      // No pause: like the probe, the spinner should see the line the moment
      // it changes (pause costs ~140 cycles on these CPUs).
      while (!is_set()) {
      }
      return;
    }
    std::uint32_t seen = clear;
    if (!word_.compare_exchange_strong(seen, sleeping, std::memory_order_acquire) && seen == is_set_value) return;
    while (word_.load(std::memory_order_acquire) != is_set_value) futex_call(word_, FUTEX_WAIT_PRIVATE, sleeping);
  }

 private:
  static constexpr std::uint32_t clear = 0;
  static constexpr std::uint32_t is_set_value = 1;
  static constexpr std::uint32_t sleeping = 2;
  alignas(line_size) std::atomic<std::uint32_t> word_{clear};
};

inline std::int64_t process_cpu_ns() noexcept {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

inline void busy_wait_until(std::int64_t until_ns) noexcept {
  while (now_ns() < until_ns) {
  }
}

inline void sleep_until(std::int64_t until_ns) noexcept {
  // steady_clock is CLOCK_MONOTONIC on Linux, the clock now_ns() reads.
  timespec t{static_cast<time_t>(until_ns / 1'000'000'000), static_cast<long>(until_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) != 0) {
  }
}

// Every peer's threads live in this one process, and some keep spinning after
// their last dispatch (libgomp for ~ms, TBB briefly, weft for its spin
// budget). Before a repetition starts, wait (asleep) until the process burns
// less than 5% of a core over a 2 ms window, so a repetition never shares its
// CPUs with another peer's leftover spinning. Gives up after 500 ms; returns
// how long it waited (ms).
inline double wait_until_quiet() noexcept {
  constexpr std::int64_t window_ns = 2'000'000;
  const std::int64_t start = now_ns();
  while (now_ns() - start < 500'000'000) {
    const std::int64_t cpu_before = process_cpu_ns();
    sleep_until(now_ns() + window_ns);
    if (process_cpu_ns() - cpu_before < window_ns / 20) break;
  }
  return static_cast<double>(now_ns() - start) / 1e6;
}

// The tiny tiles of the parallel-for rows: tile i mixes a value on its own
// cache line (about 50 ns here; the serial_loop row measures it) and counts
// that it ran. After a repetition every tile must have run exactly once per
// dispatch (a lost or repeated tile fails the repetition).
class tile_set {
 public:
  explicit tile_set(std::uint32_t count) : lines_(std::make_unique<line[]>(count)), count_(count) {}

  std::uint32_t size() const noexcept { return count_; }

  // The one thread that claimed tile `index` in this dispatch.
  void run(std::uint32_t index) noexcept {
    line& l = lines_[index];
    std::uint64_t x = l.value + index + 1;
    for (int round = 0; round < mix_rounds; ++round) {
      x ^= x >> 31;
      x *= 0x9e3779b97f4a7c15ull;
    }
    l.value = x;
    ++l.runs;
  }

  // After the dispatches, on the benchmark thread: tiles [0, used) ran
  // `dispatches` times each. Otherwise fills `why`.
  bool check(std::uint32_t used, std::uint64_t dispatches, std::string& why) const {
    for (std::uint32_t i = 0; i < used; ++i) {
      if (lines_[i].runs != dispatches) {
        why = "tile " + std::to_string(i) + " ran " + std::to_string(lines_[i].runs) + " times in " +
              std::to_string(dispatches) + " dispatches";
        return false;
      }
    }
    return true;
  }

  void clear_counts() noexcept {
    for (std::uint32_t i = 0; i < count_; ++i) lines_[i].runs = 0;
  }

 private:
  static constexpr int mix_rounds = 24;
  struct alignas(line_size) line {
    std::uint64_t value = 0;
    std::uint64_t runs = 0;
  };
  std::unique_ptr<line[]> lines_;
  std::uint32_t count_;
};

// A weft executor for one benchmark: `workers` workers, spin budget `spin_ns`,
// pinned to `cpus` (one per worker, in order) or unpinned when empty. Returns
// nullptr and fills `why` if it cannot be made as asked.
inline std::unique_ptr<exec::executor> make_executor(std::uint32_t workers, std::int64_t spin_ns,
                                                     const std::vector<std::uint32_t>& cpus, std::string& why) {
  exec::executor_options options;
  options.worker_count = workers;
  options.spin_ns = spin_ns;
  options.thread_name_prefix = "weft-bench";
  topology placed;
  if (!cpus.empty()) {
    placed = topology::detect().restricted_to(cpus);
    options.cpu_topology = &placed;
    options.pin_workers = true;
  }
  auto made = exec::executor::create(options);
  if (!made.ok()) {
    why = "cannot create the executor: " + made.status().to_string();
    return nullptr;
  }
  std::unique_ptr<exec::executor> executor = std::move(*made);
  if (!cpus.empty() && executor->worker_cpus() != cpus) {
    why =
        "executor workers were placed on " + format_cpulist(executor->worker_cpus()) + ", not " + format_cpulist(cpus);
    return nullptr;
  }
  return executor;
}

// CPU time the whole process spent per operation, for the counters: shows
// what spinning costs beside the latency it buys.
inline void report_process_cpu(benchmark::State& state, std::int64_t cpu_ns, std::uint64_t operations) {
  if (operations == 0) return;
  state.counters["process_cpu_ns_per_op"] = static_cast<double>(cpu_ns) / static_cast<double>(operations);
}

}  // namespace weft::bench
