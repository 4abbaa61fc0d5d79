#include "weft/base/arena.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace {

using weft::status_code;

bool aligned_to(const void* p, std::size_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

TEST(Arena, AllocatesNothingUntilFirstUse) {
  weft::counting_allocator counted;
  const weft::arena scratch(counted, 1024);
  EXPECT_EQ(counted.live_allocations(), 0u);
  EXPECT_EQ(scratch.bytes_reserved(), 0u);
}

TEST(Arena, AllocationsAreAlignedAndDoNotOverlap) {
  weft::counting_allocator counted;
  weft::arena scratch(counted, 1024);
  struct span_of_bytes {
    std::byte* first;
    std::size_t size;
  };
  std::vector<span_of_bytes> given;
  for (int i = 0; i < 300; ++i) {
    const std::size_t size = 1 + static_cast<std::size_t>(i * 7 % 200);
    const std::size_t alignment = std::size_t{1} << (i % 8);
    weft::result<void*> p = scratch.allocate(size, alignment);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(aligned_to(*p, alignment));
    std::memset(*p, i & 0xFF, size);
    given.push_back({static_cast<std::byte*>(*p), size});
  }
  for (int i = 0; i < 300; ++i) {
    const auto expected = static_cast<std::byte>(i & 0xFF);
    EXPECT_TRUE(std::all_of(given[i].first, given[i].first + given[i].size, [&](std::byte b) { return b == expected; }))
        << "allocation " << i << " was overwritten";
  }
  std::sort(given.begin(), given.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < given.size(); ++i) EXPECT_LE(given[i - 1].first + given[i - 1].size, given[i].first);
  EXPECT_GT(counted.live_allocations(), 1u);
  EXPECT_EQ(counted.live_bytes(), counted.live_allocations() * 1024) << "every block is block_size bytes";
  EXPECT_EQ(scratch.bytes_reserved(), counted.live_bytes());
}

TEST(Arena, LargeRequestGetsItsOwnBlockAndTheCurrentBlockKeepsServing) {
  weft::counting_allocator counted;
  weft::arena scratch(counted, 1024);
  auto* small = static_cast<std::byte*>(scratch.allocate(16, 16).value());
  weft::result<void*> big = scratch.allocate(10000, 4096);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_TRUE(aligned_to(*big, 4096));
  std::memset(*big, 1, 10000);
  auto* next = static_cast<std::byte*>(scratch.allocate(16, 16).value());
  EXPECT_EQ(next, small + 16) << "the small block was abandoned";
  EXPECT_EQ(counted.live_allocations(), 2u);
  EXPECT_EQ(scratch.bytes_allocated(), 10032u);
}

TEST(Arena, MakeConstructsInPlace) {
  struct point {
    int x;
    int y;
  };
  class named {
   public:
    named(int id, char tag) : id_(id), tag_(tag) {}
    int id() const { return id_; }
    char tag() const { return tag_; }

   private:
    int id_;
    char tag_;
  };
  weft::arena scratch(weft::default_allocator());
  weft::result<point*> p = scratch.make<point>(3, 4);
  weft::result<named*> n = scratch.make<named>(7, 'q');
  weft::result<double*> d = scratch.make<double>(2.5);
  ASSERT_TRUE(p.ok() && n.ok() && d.ok());
  EXPECT_EQ((*p)->x, 3);
  EXPECT_EQ((*p)->y, 4);
  EXPECT_EQ((*n)->id(), 7);
  EXPECT_EQ((*n)->tag(), 'q');
  EXPECT_EQ(**d, 2.5);
  EXPECT_TRUE(aligned_to(*d, alignof(double)));
}

TEST(Arena, MakeArrayValueInitializesEvenReusedMemory) {
  weft::arena scratch(weft::default_allocator(), 4096);
  void* dirty = scratch.allocate(1024, 16).value();
  std::memset(dirty, 0xAB, 1024);
  scratch.reset();
  weft::result<std::span<std::uint32_t>> numbers = scratch.make_array<std::uint32_t>(256);
  ASSERT_TRUE(numbers.ok()) << numbers.status();
  EXPECT_EQ(static_cast<void*>(numbers->data()), dirty) << "reset should reuse the kept block";
  EXPECT_EQ(numbers->size(), 256u);
  EXPECT_TRUE(std::all_of(numbers->begin(), numbers->end(), [](std::uint32_t v) { return v == 0; }));
  EXPECT_TRUE(scratch.make_array<int>(0).ok());
}

TEST(Arena, ResetKeepsOneBlockAndForgetsAllocations) {
  weft::counting_allocator counted;
  weft::arena scratch(counted, 1024);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(scratch.allocate(100, 8).ok());
  ASSERT_TRUE(scratch.allocate(5000, 8).ok());
  EXPECT_GT(counted.live_allocations(), 2u);
  scratch.reset();
  EXPECT_EQ(counted.live_allocations(), 1u);
  EXPECT_EQ(counted.live_bytes(), 1024u);
  EXPECT_EQ(scratch.bytes_allocated(), 0u);
  EXPECT_EQ(scratch.bytes_reserved(), 1024u);
  const std::size_t before = counted.total_allocations();
  ASSERT_TRUE(scratch.allocate(100, 8).ok());
  EXPECT_EQ(counted.total_allocations(), before) << "the kept block should serve this";
  EXPECT_EQ(scratch.bytes_allocated(), 100u);
}

TEST(Arena, DestructorAndMoveReturnEveryBlock) {
  weft::counting_allocator counted;
  {
    weft::arena first(counted, 512);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(first.allocate(64, 8).ok());
    ASSERT_TRUE(first.allocate(4000, 8).ok());
    weft::arena second = std::move(first);
    EXPECT_EQ(first.bytes_reserved(), 0u);
    EXPECT_EQ(second.bytes_reserved(), counted.live_bytes());
    weft::arena third(counted, 512);
    ASSERT_TRUE(third.allocate(8, 8).ok());
    third = std::move(second);  // third's own block goes back
    EXPECT_EQ(third.bytes_reserved(), counted.live_bytes());
    ASSERT_TRUE(first.allocate(8, 8).ok()) << "a moved-from arena is empty but usable";
  }
  EXPECT_EQ(counted.live_allocations(), 0u);
}

TEST(Arena, RejectsBadRequestsAndChangesNothing) {
  weft::counting_allocator counted;
  weft::arena scratch(counted, 1024);
  const weft::result<void*> misaligned = scratch.allocate(8, 24);
  EXPECT_EQ(misaligned.status().code(), status_code::invalid_argument);
  EXPECT_NE(misaligned.status().message().find("alignment 24"), std::string::npos) << misaligned.status();
  EXPECT_EQ(scratch.allocate(SIZE_MAX - 16, 8).status().code(), status_code::invalid_argument);
  EXPECT_EQ(scratch.make_array<std::uint64_t>(SIZE_MAX / 4).status().code(), status_code::invalid_argument);
  EXPECT_EQ(counted.total_allocations(), 0u);
  EXPECT_EQ(scratch.bytes_allocated(), 0u);
}

TEST(Arena, AllocatorFailureIsPassedOnWithContext) {
  weft::counting_allocator counted;
  weft::arena scratch(counted, 1024);
  counted.fail_after(0);
  const weft::result<int*> p = scratch.make<int>(1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), status_code::resource_exhausted);
  EXPECT_EQ(p.status().message().rfind("arena: ", 0), 0u) << p.status();
  EXPECT_EQ(scratch.bytes_reserved(), 0u);
  counted.fail_never();
  EXPECT_TRUE(scratch.make<int>(1).ok());
}

}  // namespace
