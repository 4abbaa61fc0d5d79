// Wake latency of weft::event_count against the blocking primitives a user
// would pick instead, and the cost of a notify that finds nobody waiting.
//
// wake_round_trip/<peer>/<placement>: two threads and two auto-reset events
// built from the primitive. The benchmark thread posts `ping` and waits for
// `pong`; the partner waits for `ping` and posts `pong`. Each side blocks in
// the primitive when idle (after whatever spinning the primitive does by
// itself), so one round trip is two wakeups. Every round trip is timed (p50,
// p99); the request number travels to the partner and back, and a round trip
// that returns the wrong number fails the repetition. cross_cpu: benchmark
// thread on CPU 0, partner on CPU 1; same_cpu: both on CPU 0.
//
//   futex_raw            the floor: a flag word, FUTEX_WAIT when it is clear,
//                        FUTEX_WAKE on every post
//   weft_event_count     a flag plus weft::event_count (await / notify_one)
//   weft_event_count_counted  the same through a backend that counts futex
//                        calls (reports futex_wakes_per_round_trip)
//   weft_spin_then_wait  the same event waited with spin_then_wait (spin for
//                        weft's tuning budget, then park on the event_count)
//   std_condition_variable, std_atomic_wait (libstdc++ 12), and
//   moodycamel_lwsem (LightweightSemaphore, default 10000 spins) plus
//   moodycamel_lwsem_nospin (maxSpins = 0) for a pure-blocking comparison.
//
// notify_no_waiter/<peer>: ns per notify when no thread waits. The counted
// event_count row reports futex_wakes_per_op, which must be 0; futex_wake_raw
// is what a notify costs when it makes the system call anyway.
// lightweightsemaphore.h is not self-contained: it expects concurrentqueue.h
// (its macros) and <cassert> before it, as blockingconcurrentqueue.h does.
#include <cassert>
#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>

#include "harness/harness.hpp"
#include "weft/event_count.hpp"
#include "weft/spin_policy.hpp"

namespace weft::bench {
namespace {

constexpr int round_trips_per_repetition = 3000;
constexpr int warmup_round_trips = 50;

// weft's os backend with its two system calls counted.
struct counting_os : sync::os {
  static inline std::atomic<std::uint64_t> waits{0};
  static inline std::atomic<std::uint64_t> wakes{0};
  static sync::wait_result wait(atomic<std::uint32_t>& word, std::uint32_t expected, deadline until) noexcept {
    waits.fetch_add(1, std::memory_order_relaxed);
    return sync::os::wait(word, expected, until);
  }
  static int wake(atomic<std::uint32_t>& word, int count) noexcept {
    wakes.fetch_add(1, std::memory_order_relaxed);
    return sync::os::wake(word, count);
  }
};

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

// Auto-reset events: post() sets, wait() blocks until set and clears.

struct futex_event {
  alignas(line_size) std::atomic<std::uint32_t> word{0};
  void post() {
    word.store(1, std::memory_order_release);
    futex(word, FUTEX_WAKE_PRIVATE, 1);
  }
  void wait() {
    while (word.exchange(0, std::memory_order_acquire) == 0) futex(word, FUTEX_WAIT_PRIVATE, 0);
  }
};

// Takes the flag if it is set; reads before it writes, so a spinning waiter
// does not pull the line away from the poster on every check.
inline bool take_flag(std::atomic<bool>& flag) {
  return flag.load(std::memory_order_relaxed) && flag.exchange(false, std::memory_order_acquire);
}

template <class Backend>
struct event_count_event {
  alignas(line_size) std::atomic<bool> flag{false};
  event_count<Backend> count;
  void post() {
    flag.store(true, std::memory_order_release);
    count.notify_one();
  }
  void wait() {
    count.await([this] { return take_flag(flag); });
  }
};

// The same event, waited on the way weft's own blocking code waits: spin for
// the tuning budget (spin_policy), then park on the event_count.
struct spin_then_wait_event {
  alignas(line_size) std::atomic<bool> flag{false};
  event_count<> count;
  void post() {
    flag.store(true, std::memory_order_release);
    count.notify_one();
  }
  void wait() {
    spin_then_wait(count, [this] { return take_flag(flag); });
  }
};

struct condition_variable_event {
  alignas(line_size) std::mutex mutex;  // the peer under test
  std::condition_variable ready;
  bool flag = false;
  void post() {
    {
      std::lock_guard lock(mutex);
      flag = true;
    }
    ready.notify_one();
  }
  void wait() {
    std::unique_lock lock(mutex);
    ready.wait(lock, [this] { return flag; });
    flag = false;
  }
};

struct atomic_wait_event {
  alignas(line_size) std::atomic<std::uint32_t> word{0};
  void post() {
    word.store(1, std::memory_order_release);
    word.notify_one();
  }
  void wait() {
    while (word.exchange(0, std::memory_order_acquire) == 0) word.wait(0, std::memory_order_acquire);
  }
};

template <int MaxSpins>
struct lwsem_event {
  alignas(line_size) moodycamel::LightweightSemaphore semaphore{0, MaxSpins};
  void post() { semaphore.signal(); }
  void wait() {
    while (!semaphore.wait()) {
    }
  }
};

enum class placement { cross_cpu, same_cpu };

template <class Event>
void run_round_trip(benchmark::State& state, placement where) {
  scoped_pin pin(consumer_cpu);
  if (!pin.ok()) return fail(state, "cannot pin the benchmark thread to CPU 0");
  record_probe(state, "probe_before_ns");
  const std::uint64_t wakes_before = counting_os::wakes.load();

  Event ping;
  Event pong;
  struct alignas(line_size) mailbox {
    std::uint64_t request = 0;  // written before ping, read after it
    std::uint64_t reply = 0;    // written before pong, read after it
    bool stop = false;
  } box;
  pinned_thread partner(where == placement::cross_cpu ? producer_cpu : consumer_cpu, [&] {
    for (;;) {
      ping.wait();
      if (box.stop) return;
      box.reply = box.request;
      pong.post();
    }
  });

  std::uint64_t sequence = 0;
  bool ok = true;
  auto round_trip = [&] {
    box.request = ++sequence;
    ping.post();
    pong.wait();
    ok = ok && box.reply == sequence;
  };
  for (int i = 0; i < warmup_round_trips; ++i) round_trip();

  latency_samples samples(round_trips_per_repetition);
  for (auto _ : state) {
    const std::int64_t start = now_ns();
    round_trip();
    samples.add(now_ns() - start);
  }
  const std::uint64_t wakes = counting_os::wakes.load() - wakes_before;

  box.stop = true;
  ping.post();
  partner.join();
  if (!partner.pinned_ok()) return fail(state, "cannot pin the partner thread");
  if (!ok) return fail(state, "a round trip returned the wrong request number");

  samples.report(state);
  record_probe(state, "probe_after_ns");
  if constexpr (std::is_same_v<Event, event_count_event<counting_os>>) {
    state.counters["futex_wakes_per_round_trip"] =
        static_cast<double>(wakes) / static_cast<double>(round_trips_per_repetition + warmup_round_trips);
  }
}

template <class Event>
void register_round_trip(const char* peer) {
  for (placement where : {placement::cross_cpu, placement::same_cpu}) {
    const std::string name =
        std::string("wake_round_trip/") + peer + (where == placement::cross_cpu ? "/cross_cpu" : "/same_cpu");
    benchmark::RegisterBenchmark(name.c_str(), [where](benchmark::State& state) { run_round_trip<Event>(state, where); })
        ->Iterations(round_trips_per_repetition)
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
  }
}

// Notify with nobody waiting. Notify is the whole loop body; the probe is
// recorded only so that every row carries one.
template <class Notify>
void run_notify_no_waiter(benchmark::State& state, Notify notify) {
  scoped_pin pin(consumer_cpu);
  record_probe(state, "probe_before_ns");
  const std::uint64_t wakes_before = counting_os::wakes.load();
  const std::uint64_t waits_before = counting_os::waits.load();
  for (auto _ : state) notify();
  const std::uint64_t wakes = counting_os::wakes.load() - wakes_before;
  const std::uint64_t waits = counting_os::waits.load() - waits_before;
  record_probe(state, "probe_after_ns");
  state.counters["futex_calls_per_op"] =
      static_cast<double>(wakes + waits) / static_cast<double>(state.iterations());
}

template <class Notify>
void register_notify(const char* peer, Notify notify) {
  const std::string name = std::string("notify_no_waiter/") + peer;
  benchmark::RegisterBenchmark(name.c_str(), [notify](benchmark::State& state) { run_notify_no_waiter(state, notify); })
      ->UseRealTime()
      ->MinTime(0.05)
      ->Unit(benchmark::kNanosecond);
}

const bool registered = [] {
  register_round_trip<futex_event>("futex_raw");
  register_round_trip<event_count_event<sync::os>>("weft_event_count");
  register_round_trip<event_count_event<counting_os>>("weft_event_count_counted");
  register_round_trip<spin_then_wait_event>("weft_spin_then_wait");
  register_round_trip<condition_variable_event>("std_condition_variable");
  register_round_trip<atomic_wait_event>("std_atomic_wait");
  register_round_trip<lwsem_event<10000>>("moodycamel_lwsem");
  register_round_trip<lwsem_event<0>>("moodycamel_lwsem_nospin");

  // The objects notified live for the whole process; nobody ever waits on them.
  static event_count<sync::os> idle_count;
  static event_count<counting_os> idle_counted;
  static futex_event idle_futex;
  static std::condition_variable idle_condition;
  static std::atomic<std::uint32_t> idle_word{0};
  static moodycamel::LightweightSemaphore idle_semaphore;
  register_notify("weft_event_count_notify_one", [] { idle_count.notify_one(); });
  register_notify("weft_event_count_notify_all", [] { idle_count.notify_all(); });
  register_notify("weft_event_count_counted_notify_one", [] { idle_counted.notify_one(); });
  register_notify("futex_wake_raw", [] { futex(idle_futex.word, FUTEX_WAKE_PRIVATE, 1); });
  register_notify("std_condition_variable_notify_one", [] { idle_condition.notify_one(); });
  register_notify("std_atomic_notify_one", [] { idle_word.notify_one(); });
  // The count only grows (by one per call; no overflow within a run).
  register_notify("moodycamel_lwsem_signal", [] { idle_semaphore.signal(); });
  return true;
}();

}  // namespace
}  // namespace weft::bench
