#include "weft/relaxed_cell.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

namespace {

// The negative control's load + store path, run single-threaded: it must do
// the same arithmetic (so that a Relacy control fails only for atomicity).
using split = weft::mutation::split_rmw<weft::relaxed_cell_site::update_rmw>;

template <class Cell>
class RelaxedCellBothPaths : public ::testing::Test {};
using cells = ::testing::Types<weft::relaxed_cell<int>, weft::relaxed_cell<int, weft::sync::os, split>>;
TYPED_TEST_SUITE(RelaxedCellBothPaths, cells);

TYPED_TEST(RelaxedCellBothPaths, OperationsReturnThePreviousValue) {
  TypeParam cell(10);
  EXPECT_EQ(cell.load(), 10);
  EXPECT_EQ(cell.fetch_add(5), 10);
  EXPECT_EQ(cell.fetch_sub(3), 15);
  EXPECT_EQ(cell.exchange(-4), 12);
  EXPECT_EQ(cell.load(), -4);
  cell.store(9);
  EXPECT_EQ(cell.load(), 9);
}

TYPED_TEST(RelaxedCellBothPaths, SignedArithmeticWraps) {
  TypeParam cell(std::numeric_limits<int>::max());
  EXPECT_EQ(cell.fetch_add(1), std::numeric_limits<int>::max());
  EXPECT_EQ(cell.load(), std::numeric_limits<int>::min());
  EXPECT_EQ(cell.fetch_sub(1), std::numeric_limits<int>::min());
  EXPECT_EQ(cell.load(), std::numeric_limits<int>::max());
}

TEST(RelaxedCell, DefaultsToZero) {
  weft::relaxed_cell<std::uint64_t> cell;
  EXPECT_EQ(cell.load(), 0u);
}

TEST(RelaxedCell, UnsignedArithmeticWrapsInTheCellsWidth) {
  weft::relaxed_cell<std::uint8_t> byte(250);
  EXPECT_EQ(byte.fetch_add(10), 250);
  EXPECT_EQ(byte.load(), 4);
  EXPECT_EQ(byte.fetch_sub(5), 4);
  EXPECT_EQ(byte.load(), 255);
  weft::relaxed_cell<std::uint8_t, weft::sync::os, split> split_byte(250);
  EXPECT_EQ(split_byte.fetch_add(10), 250);
  EXPECT_EQ(split_byte.load(), 4);
  weft::relaxed_cell<std::uint64_t> wide(std::numeric_limits<std::uint64_t>::max());
  wide.fetch_add(2);
  EXPECT_EQ(wide.load(), 1u);
}

TEST(RelaxedCell, ConcurrentAddsAreNeverLost) {
  weft::relaxed_cell<std::uint64_t> total;
  constexpr int threads = 4, per_thread = 20'000;
  std::vector<std::thread> adders;
  for (int t = 0; t < threads; ++t) {
    adders.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) total.fetch_add(1);
    });
  }
  for (auto& a : adders) a.join();
  EXPECT_EQ(total.load(), std::uint64_t{threads} * per_thread);
}

TEST(RelaxedCell, UsageExampleFromHeaderCompilesAndRuns) {
  weft::relaxed_cell<std::uint64_t> completed;
  completed.fetch_add(1);
  completed.fetch_add(1);
  EXPECT_EQ(completed.load(), 2u);
}

}  // namespace
