#include "weft/base/time.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

constexpr std::int64_t millisecond = 1'000'000;

TEST(Time, NowIsTheDeadlineClockAndNeverGoesBack) {
  const std::int64_t a = weft::now_ns();
  const std::int64_t b = weft::monotonic_now_ns();
  const std::int64_t c = weft::now_ns();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
  EXPECT_TRUE(weft::deadline::at(a).expired());
}

TEST(Time, SleepLastsAtLeastTheRequestedTime) {
  const weft::stopwatch watch;
  weft::sleep_for_ns(3 * millisecond);
  EXPECT_GE(watch.elapsed_ns(), 3 * millisecond);
}

TEST(Time, NonPositiveSleepReturnsAtOnce) {
  const weft::stopwatch watch;
  weft::sleep_for_ns(0);
  weft::sleep_for_ns(-2000 * millisecond);
  weft::sleep_for_ns(INT64_MIN);
  EXPECT_LT(watch.elapsed_ns(), 1000 * millisecond);  // a sleep for the magnitude would take 2 s
}

TEST(Time, StopwatchStartRestartsTheMeasurement) {
  weft::stopwatch watch;
  weft::sleep_for_ns(2 * millisecond);
  const std::int64_t first = watch.elapsed_ns();
  EXPECT_GE(first, 2 * millisecond);
  // Without the restart, elapsed would include the 2 ms above and exceed
  // the time measured around the restart alone.
  const std::int64_t before = weft::now_ns();
  watch.start();
  const std::int64_t elapsed = watch.elapsed_ns();
  const std::int64_t after = weft::now_ns();
  EXPECT_GE(elapsed, 0);
  EXPECT_LE(elapsed, after - before);
}

}  // namespace
