// weft::deadline — an absolute point on the monotonic clock, used by every
// blocking call in weft.
//
// A deadline is a value: `deadline::infinite()` never expires,
// `deadline::immediate()` has always expired, `deadline::after(ns)` is now plus
// a duration. Deadlines are absolute so that a wait that is woken spuriously
// and retries does not extend its own timeout.
//
// Thread safety: a plain value type; copy freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <limits>

namespace weft {

// Nanoseconds on CLOCK_MONOTONIC, the clock futex waits and timerfd use.
inline std::int64_t monotonic_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class deadline {
 public:
  static constexpr std::int64_t infinite_ns = std::numeric_limits<std::int64_t>::max();

  static constexpr deadline infinite() noexcept { return deadline{infinite_ns}; }
  static constexpr deadline immediate() noexcept { return deadline{0}; }
  static constexpr deadline at(std::int64_t monotonic_ns) noexcept { return deadline{monotonic_ns}; }
  // Saturates instead of overflowing: after(INT64_MAX) is infinite.
  static deadline after(std::int64_t duration_ns) noexcept {
    if (duration_ns <= 0) return immediate();
    const std::int64_t now = monotonic_now_ns();
    if (duration_ns >= infinite_ns - now) return infinite();
    return deadline{now + duration_ns};
  }
  template <class Rep, class Period>
  static deadline after(std::chrono::duration<Rep, Period> d) noexcept {
    return after(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  constexpr bool is_infinite() const noexcept { return ns_ == infinite_ns; }
  constexpr std::int64_t monotonic_ns() const noexcept { return ns_; }
  bool expired() const noexcept { return !is_infinite() && monotonic_now_ns() >= ns_; }
  // Time left, clamped at zero; infinite_ns when infinite.
  std::int64_t remaining_ns() const noexcept {
    if (is_infinite()) return infinite_ns;
    const std::int64_t left = ns_ - monotonic_now_ns();
    return left > 0 ? left : 0;
  }

  friend constexpr bool operator==(deadline a, deadline b) noexcept { return a.ns_ == b.ns_; }
  friend constexpr auto operator<=>(deadline a, deadline b) noexcept { return a.ns_ <=> b.ns_; }

 private:
  constexpr explicit deadline(std::int64_t ns) noexcept : ns_(ns) {}
  std::int64_t ns_;
};

}  // namespace weft
