#include "weft/base/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "weft/base/thread.hpp"

namespace {

using weft::status_code;

bool aligned_to(const void* p, std::size_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

TEST(DefaultAllocator, HonoursEveryPowerOfTwoAlignment) {
  weft::allocator& heap = weft::default_allocator();
  for (std::size_t alignment = 1; alignment <= 8192; alignment *= 2) {
    weft::result<void*> p = heap.allocate(100, alignment);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(aligned_to(*p, alignment)) << alignment;
    std::memset(*p, 0x5A, 100);
    heap.deallocate(*p, 100, alignment);
  }
}

TEST(DefaultAllocator, RejectsAlignmentsThatAreNotPowersOfTwo) {
  for (std::size_t alignment : {0, 3, 48, 100}) {
    const weft::result<void*> p = weft::default_allocator().allocate(64, alignment);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), status_code::invalid_argument);
    EXPECT_NE(p.status().message().find("alignment " + std::to_string(alignment)), std::string::npos) << p.status();
  }
}

TEST(DefaultAllocator, ReportsAnImpossibleSizeWithoutThrowing) {
  const weft::result<void*> p = weft::default_allocator().allocate(SIZE_MAX - 8, 16);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), status_code::resource_exhausted);
  EXPECT_NE(p.status().message().find(std::to_string(SIZE_MAX - 8)), std::string::npos) << p.status();
}

TEST(DefaultAllocator, SizeZeroGivesDistinctPointers) {
  weft::allocator& heap = weft::default_allocator();
  const weft::result<void*> a = heap.allocate(0, 8);
  const weft::result<void*> b = heap.allocate(0, 8);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  heap.deallocate(*a, 0, 8);
  heap.deallocate(*b, 0, 8);
  heap.deallocate(nullptr, 0, 8);  // ignored
}

TEST(CountingAllocator, CountsLiveAndTotalAllocations) {
  weft::counting_allocator counted;
  void* a = counted.allocate(100, 8).value();
  void* b = counted.allocate(28, 64).value();
  EXPECT_EQ(counted.live_allocations(), 2u);
  EXPECT_EQ(counted.live_bytes(), 128u);
  EXPECT_EQ(counted.total_allocations(), 2u);
  counted.deallocate(a, 100, 8);
  EXPECT_EQ(counted.live_allocations(), 1u);
  EXPECT_EQ(counted.live_bytes(), 28u);
  counted.deallocate(b, 28, 64);
  EXPECT_EQ(counted.live_allocations(), 0u);
  EXPECT_EQ(counted.live_bytes(), 0u);
  EXPECT_EQ(counted.total_allocations(), 2u);
}

TEST(CountingAllocator, FailAfterLetsNAllocationsThroughThenFails) {
  weft::counting_allocator counted;
  counted.fail_after(2);
  std::vector<void*> kept;
  for (int i = 0; i < 2; ++i) {
    weft::result<void*> p = counted.allocate(16, 16);
    ASSERT_TRUE(p.ok()) << i;
    kept.push_back(*p);
  }
  for (int i = 0; i < 2; ++i) {
    const weft::result<void*> p = counted.allocate(16, 16);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), status_code::resource_exhausted);
    EXPECT_NE(p.status().message().find("16 bytes"), std::string::npos) << p.status();
  }
  EXPECT_EQ(counted.failed_allocations(), 2u);
  EXPECT_EQ(counted.live_allocations(), 2u);
  counted.fail_never();
  weft::result<void*> p = counted.allocate(16, 16);
  ASSERT_TRUE(p.ok());
  kept.push_back(*p);
  for (void* block : kept) counted.deallocate(block, 16, 16);
  EXPECT_EQ(counted.live_allocations(), 0u);
}

TEST(CountingAllocator, InnerFailuresPassThroughUncounted) {
  weft::counting_allocator inner;
  weft::counting_allocator outer(static_cast<weft::allocator&>(inner));  // not the (deleted) copy
  inner.fail_after(0);
  const weft::result<void*> p = outer.allocate(8, 8);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), status_code::resource_exhausted);
  EXPECT_EQ(outer.live_allocations(), 0u);
  EXPECT_EQ(outer.total_allocations(), 0u);
  EXPECT_EQ(outer.failed_allocations(), 1u);
  inner.fail_never();
  const weft::result<void*> bad = outer.allocate(8, 3);
  EXPECT_EQ(bad.status().code(), status_code::invalid_argument);
}

TEST(CountingAllocator, CountsStayExactUnderConcurrentUse) {
  weft::counting_allocator counted;
  constexpr int threads = 4;
  constexpr int rounds = 2000;
  std::vector<int> failures(threads, 0);
  const auto churn = [&counted, &failures](int t) {
    for (int i = 0; i < rounds; ++i) {
      const std::size_t size = 8 + static_cast<std::size_t>(i % 64);
      weft::result<void*> p = counted.allocate(size, 8);
      if (!p.ok()) {
        ++failures[t];
        continue;
      }
      counted.deallocate(*p, size, 8);
    }
  };
  {
    std::vector<weft::thread> workers;
    for (int t = 0; t < threads; ++t) {
      weft::result<weft::thread> worker =
          weft::thread::start({.name = "alloc-" + std::to_string(t)}, [&churn, t] { churn(t); });
      ASSERT_TRUE(worker.ok()) << worker.status();
      workers.push_back(std::move(worker).value());
    }
  }
  for (int f : failures) EXPECT_EQ(f, 0);
  EXPECT_EQ(counted.live_allocations(), 0u);
  EXPECT_EQ(counted.live_bytes(), 0u);
  EXPECT_EQ(counted.total_allocations(), std::size_t{threads} * rounds);
}

}  // namespace
