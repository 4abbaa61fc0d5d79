// Stress: four threads update one relaxed_cell with fetch_add, fetch_sub and
// exchange; no update may be lost. A second test checks coherence: a reader
// of a cell that only grows never sees it go backwards.
#include <cstdint>

#include "stress.hpp"
#include "weft/relaxed_cell.hpp"

namespace {

template <class S>
class RelaxedCellStress : public ::testing::Test {};
TYPED_TEST_SUITE(RelaxedCellStress, weft::stress::backends, weft::stress::backend_names);

constexpr unsigned threads = 4;

TYPED_TEST(RelaxedCellStress, NoUpdateIsLost) {
  using S = TypeParam;
  const std::uint64_t per_thread = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 50'000 : 500'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::relaxed_cell<std::uint64_t, S> total;
  // exchange(x) moves x - (old) into the cell; each swapper hands the value
  // it took back with fetch_add, so the swaps cancel out.
  weft::relaxed_cell<std::uint64_t, S> parked(0);

  weft::stress::run_threads(threads, [&](unsigned index) {
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      total.fetch_add(index + 2);
      total.fetch_sub(1);
      if (index == 0 && i % 16 == 0) total.fetch_add(parked.exchange(i % 7));
    }
  });
  total.fetch_add(parked.exchange(0));

  std::uint64_t expected = 0;
  for (unsigned t = 0; t < threads; ++t) expected += per_thread * (t + 1);
  for (std::uint64_t i = 0; i < per_thread; i += 16) expected += i % 7;
  EXPECT_EQ(total.load(), expected);
}

TYPED_TEST(RelaxedCellStress, AGrowingCellNeverGoesBackwards) {
  using S = TypeParam;
  const std::uint64_t per_thread = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 50'000 : 500'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::relaxed_cell<std::uint64_t, S> counter;
  std::atomic<unsigned> writers_done{0};
  std::atomic<std::uint64_t> backwards{0};

  weft::stress::run_threads(threads, [&](unsigned index) {
    if (index == 0) {  // the reader
      std::uint64_t last = 0;
      while (writers_done.load(std::memory_order_relaxed) != threads - 1) {
        const std::uint64_t now = counter.load();
        if (now < last) backwards.fetch_add(1, std::memory_order_relaxed);
        last = now;
      }
      return;
    }
    for (std::uint64_t i = 0; i < per_thread; ++i) counter.fetch_add(1);
    writers_done.fetch_add(1, std::memory_order_relaxed);
  });

  EXPECT_EQ(counter.load(), (threads - 1) * per_thread);
  EXPECT_EQ(backwards.load(), 0u);
}

}  // namespace
