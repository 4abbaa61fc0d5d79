// weft::sync::fuzz — the os backend with seeded schedule perturbation.
//
// Real-thread stress finds few interleavings on its own: two threads on two
// cores rarely preempt each other between two atomic operations. This backend
// runs the same primitives on real atomics and a real futex, but before each
// atomic operation it may spin a little, yield, or sleep for a few
// microseconds, chosen by a per-thread xorshift generator seeded from one
// process-wide seed. The perturbation widens exactly the windows a lost-wake or
// ABA bug needs (between a load and the CAS that depends on it, between
// publishing and checking for sleepers), the way ClickHouse's ThreadFuzzer and
// YACLib's fault-injection mode do.
//
// Use: instantiate a primitive with weft::sync::fuzz instead of sync::os.
// `fuzz::configure({.seed = s})` before starting threads makes a run
// repeatable in its choices (not in the OS scheduler's). WEFT_FUZZ_SEED in the
// environment overrides the seed when `configure` is never called.
//
// Thread safety: all members are static; configure() before starting threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "weft/sync/os.hpp"

namespace weft::sync {

struct fuzz_options {
  std::uint64_t seed = 0x5eed'0f'3a'7e'15ULL;
  unsigned yield_one_in = 16;   // probability 1/N of sched_yield before an operation
  unsigned sleep_one_in = 512;  // probability 1/N of a short sleep
  unsigned max_sleep_ns = 20'000;
  unsigned spin_one_in = 8;     // probability 1/N of a short pause burst
};

struct fuzz {
  static constexpr const char* name = "fuzz";

  static void configure(const fuzz_options& options) noexcept {
    state().options = options;
    state().generation.fetch_add(1, std::memory_order_relaxed);
  }
  static const fuzz_options& options() noexcept { return state().options; }

  // Maybe delay the calling thread; called before every atomic operation.
  static void perturb() noexcept {
    thread_rng& rng = local_rng();
    const fuzz_options& o = state().options;
    const std::uint64_t r = rng.next();
    if (o.sleep_one_in != 0 && r % o.sleep_one_in == 0) {
      timespec ts{0, static_cast<long>((r >> 32) % (o.max_sleep_ns + 1))};
      nanosleep(&ts, nullptr);
    } else if (o.yield_one_in != 0 && (r >> 8) % o.yield_one_in == 0) {
      os::yield();
    } else if (o.spin_one_in != 0 && (r >> 16) % o.spin_one_in == 0) {
      for (unsigned i = 0, n = static_cast<unsigned>((r >> 40) % 64); i < n; ++i) os::pause();
    }
  }

  template <class T>
  class atomic {
   public:
    constexpr atomic() noexcept : value_{} {}
    constexpr atomic(T initial) noexcept : value_(initial) {}  // NOLINT: mirrors std::atomic
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order order) const noexcept { perturb(); return value_.load(order); }
    void store(T desired, std::memory_order order) noexcept { perturb(); value_.store(desired, order); }
    T exchange(T desired, std::memory_order order) noexcept { perturb(); return value_.exchange(desired, order); }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
      perturb();
      return value_.compare_exchange_weak(expected, desired, success, failure);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
      perturb();
      return value_.compare_exchange_strong(expected, desired, success, failure);
    }
    template <class U = T>
    U fetch_add(U delta, std::memory_order order) noexcept { perturb(); return value_.fetch_add(delta, order); }
    template <class U = T>
    U fetch_sub(U delta, std::memory_order order) noexcept { perturb(); return value_.fetch_sub(delta, order); }
    T fetch_and(T bits, std::memory_order order) noexcept { perturb(); return value_.fetch_and(bits, order); }
    T fetch_or(T bits, std::memory_order order) noexcept { perturb(); return value_.fetch_or(bits, order); }
    T fetch_xor(T bits, std::memory_order order) noexcept { perturb(); return value_.fetch_xor(bits, order); }

    std::atomic<T>& raw() noexcept { return value_; }

   private:
    std::atomic<T> value_;
  };

  template <class T>
  using plain = os::plain<T>;

  static void fence(std::memory_order order) noexcept { perturb(); os::fence(order); }

  static wait_result wait(atomic<std::uint32_t>& word, std::uint32_t expected, deadline until) noexcept {
    perturb();
    return os::wait(word.raw(), expected, until);
  }
  static int wake(atomic<std::uint32_t>& word, int count) noexcept {
    perturb();
    return os::wake(word.raw(), count);
  }
  static void pause() noexcept { os::pause(); }
  static void yield() noexcept { os::yield(); }
  static std::int64_t now_ns() noexcept { return os::now_ns(); }
  static void check(bool condition, const char* message) noexcept { os::check(condition, message); }

 private:
  struct shared_state {
    fuzz_options options = from_environment();
    std::atomic<std::uint64_t> generation{0};
    std::atomic<std::uint64_t> threads{0};
  };
  struct thread_rng {
    std::uint64_t state = 0;
    std::uint64_t generation = ~0ULL;
    std::uint64_t next() noexcept {
      // xorshift64*: cheap, and good enough to pick delays.
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      return state * 0x2545F4914F6CDD1DULL;
    }
  };

  static fuzz_options from_environment() noexcept {
    fuzz_options o;
    if (const char* s = std::getenv("WEFT_FUZZ_SEED")) o.seed = std::strtoull(s, nullptr, 0);
    return o;
  }
  static shared_state& state() noexcept {
    static shared_state s;
    return s;
  }
  static thread_rng& local_rng() noexcept {
    thread_local thread_rng rng;
    const std::uint64_t generation = state().generation.load(std::memory_order_relaxed);
    if (rng.generation != generation) {
      // Thread k of a configuration gets seed + k: a run's choices depend only
      // on the seed and the order in which threads first touch an atomic.
      const std::uint64_t index = state().threads.fetch_add(1, std::memory_order_relaxed);
      rng.state = (state().options.seed ^ (index * 0x9E3779B97F4A7C15ULL)) | 1;
      rng.generation = generation;
    }
    return rng;
  }
};

}  // namespace weft::sync
