// weft::sync::os — the production sync backend.
//
// Every weft primitive is a template over a backend S that provides:
//   S::atomic<T>        std::atomic's member functions; weft code always passes
//                       the memory order explicitly
//   S::plain<T>         non-atomic shared data: read()/write(v); a bare T here,
//                       a race-checked rl::var under Relacy
//   S::fence(order)     a standalone fence
//   S::wait(w, v, d)    futex wait on a 32-bit atomic while it holds v, until
//                       deadline d; returns wait_result
//   S::wake(w, n)       wake up to n waiters on w; returns how many were woken
//   S::pause()          a spin-loop hint (and a scheduling point under Relacy)
//   S::yield()          give up the CPU (a scheduling point under Relacy)
//   S::now_ns()         the monotonic clock the spin budgets read
//   S::check(c, msg)    a caller-contract check: aborts with msg in debug
//                       builds here; a reported test failure under Relacy
//
// This backend maps them onto std::atomic, the Linux futex and the CPU's pause
// instruction, with no wrapper cost. `wait` and `wake` are the only system
// calls; everything else stays in user space.
//
// Thread safety: all members are static and callable from any thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "weft/deadline.hpp"
#include "weft/sync/wait_result.hpp"

namespace weft::sync {

namespace detail {

// TSAN does not model std::atomic_thread_fence (GCC warns with -Wtsan). Under
// TSAN a fence becomes an RMW on one process-wide word, which TSAN does see.
// It synchronizes more than the fence would (every fencing thread with every
// other), so TSAN may miss a race that only the fence form allows; the Relacy
// suites check the real fence form.
#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif

#ifdef WEFT_TSAN
inline std::atomic<int> tsan_fence_word{0};
#endif

inline long futex_call(std::uint32_t* address, int op, std::uint32_t value, const timespec* timeout,
                       std::uint32_t bitset) noexcept {
  return ::syscall(SYS_futex, address, op, value, timeout, nullptr, bitset);
}

}  // namespace detail

struct os {
  static constexpr const char* name = "os";

  template <class T>
  using atomic = std::atomic<T>;

  // Non-atomic shared data. Production code pays nothing for the wrapper; the
  // Relacy backend uses the same two calls to detect data races.
  template <class T>
  class plain {
   public:
    constexpr plain() noexcept(noexcept(T{})) : value_{} {}
    constexpr explicit plain(T value) noexcept(noexcept(T(value))) : value_(value) {}
    T read() const noexcept { return value_; }
    void write(T value) noexcept { value_ = value; }

   private:
    T value_;
  };

  static void fence(std::memory_order order) noexcept {
#ifdef WEFT_TSAN
    detail::tsan_fence_word.fetch_add(0, order);
#else
    std::atomic_thread_fence(order);
#endif
  }

  // Blocks while `word` holds `expected`, until woken or `until` passes.
  // Spurious returns are reported as `woken`; callers re-check their condition.
  static wait_result wait(atomic<std::uint32_t>& word, std::uint32_t expected, deadline until) noexcept {
    static_assert(sizeof(atomic<std::uint32_t>) == sizeof(std::uint32_t));
    static_assert(atomic<std::uint32_t>::is_always_lock_free);
    auto* address = reinterpret_cast<std::uint32_t*>(&word);
    long rc;
    if (until.is_infinite()) {
      rc = detail::futex_call(address, FUTEX_WAIT_PRIVATE, expected, nullptr, 0);
    } else {
      if (until.expired()) {
        return word.load(std::memory_order_acquire) == expected ? wait_result::timed_out
                                                                : wait_result::value_changed;
      }
      // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a retried
      // wait never extends the caller's deadline.
      timespec at{};
      at.tv_sec = static_cast<time_t>(until.monotonic_ns() / 1'000'000'000);
      at.tv_nsec = static_cast<long>(until.monotonic_ns() % 1'000'000'000);
      rc = detail::futex_call(address, FUTEX_WAIT_BITSET_PRIVATE, expected, &at, FUTEX_BITSET_MATCH_ANY);
    }
    if (rc == 0) return wait_result::woken;
    switch (errno) {
      case EAGAIN: return wait_result::value_changed;
      case ETIMEDOUT: return wait_result::timed_out;
      default: return wait_result::woken;  // EINTR: spurious, the caller re-checks
    }
  }

  // Wakes up to `count` threads blocked in wait() on `word`.
  static int wake(atomic<std::uint32_t>& word, int count) noexcept {
    auto* address = reinterpret_cast<std::uint32_t*>(&word);
    const long rc = detail::futex_call(address, FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count), nullptr, 0);
    return rc > 0 ? static_cast<int>(rc) : 0;
  }

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
  }

  static void yield() noexcept { sched_yield(); }

  static std::int64_t now_ns() noexcept { return monotonic_now_ns(); }

  // A violated caller contract (leaving a drainer word nobody entered, ...).
  // Debug builds stop here with the message; NDEBUG builds compile it away.
  static void check([[maybe_unused]] bool condition, [[maybe_unused]] const char* message) noexcept {
#ifndef NDEBUG
    if (!condition) {
      std::fprintf(stderr, "weft: contract violated: %s\n", message);
      std::abort();
    }
#endif
  }
};

}  // namespace weft::sync
