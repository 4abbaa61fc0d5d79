// weft time helpers — a few conveniences over weft::deadline and
// weft::monotonic_now_ns (concurrency/include/weft/deadline.hpp), which are the
// clock and the timeout type every weft API uses.
//
//   weft::stopwatch watch;                      // starts now
//   run_kernel();
//   report(watch.elapsed_ns());
//   weft::sleep_for_ns(1'000'000);              // tests and benches only
//
// sleep_for_ns is for tests, benches and pacing, never for synchronization:
// waiting for another thread goes through an event_count or idle_set.
// Thread safety: free functions are callable from any thread; a stopwatch is a
// value (one owner at a time).
#pragma once

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "weft/deadline.hpp"

namespace weft {

// CLOCK_MONOTONIC nanoseconds; the same clock as weft::deadline.
inline std::int64_t now_ns() noexcept { return monotonic_now_ns(); }

// Sleeps at least ns nanoseconds (returns at once for ns <= 0). Signals do not
// shorten it: the sleep is to an absolute deadline and resumes after EINTR.
inline void sleep_for_ns(std::int64_t ns) noexcept {
  const deadline until = deadline::after(ns);
  if (until.expired()) return;
  timespec wake_at{};
  wake_at.tv_sec = static_cast<time_t>(until.monotonic_ns() / 1'000'000'000);
  wake_at.tv_nsec = static_cast<long>(until.monotonic_ns() % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake_at, nullptr) == EINTR) {
  }
}

// Elapsed monotonic time since construction or the last start().
struct stopwatch {
  stopwatch() noexcept : started_ns_(now_ns()) {}
  void start() noexcept { started_ns_ = now_ns(); }
  std::int64_t elapsed_ns() const noexcept { return now_ns() - started_ns_; }

 private:
  std::int64_t started_ns_;
};

}  // namespace weft
