#include "weft/base/block_pool.hpp"
#include "weft/base/time.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "weft/base/thread.hpp"

namespace {

using weft::block_pool;
using weft::status_code;

std::string address_text(const void* p) {
  std::ostringstream out;
  out << p;
  return out.str();
}

TEST(BlockPool, CreateRejectsInvalidSizesNamingTheValue) {
  weft::counting_allocator counted;
  struct bad_request {
    std::size_t block_size;
    std::uint32_t block_count;
    std::size_t alignment;
    const char* named;
  };
  const bad_request cases[] = {
      {0, 8, 64, "block size 0"},
      {64, 0, 64, "block count 0"},
      {64, 8, 48, "alignment 48"},
      {64, 8, 0, "alignment 0"},
      {64, 0xFFFFFFFFu, 64, "block count 4294967295"},
      {SIZE_MAX / 2, 8, 64, "9223372036854775807"},
  };
  for (const bad_request& c : cases) {
    const weft::result<block_pool> pool = block_pool::create(counted, c.block_size, c.block_count, c.alignment);
    ASSERT_FALSE(pool.ok()) << c.named;
    EXPECT_EQ(pool.status().code(), status_code::invalid_argument);
    EXPECT_NE(pool.status().message().find(c.named), std::string::npos) << pool.status();
  }
  EXPECT_EQ(counted.total_allocations(), 0u);
}

TEST(BlockPool, MakesOneSlabAllocationAndFreesIt) {
  weft::counting_allocator counted;
  {
    weft::result<block_pool> pool = block_pool::create(counted, 100, 16, 32);
    ASSERT_TRUE(pool.ok()) << pool.status();
    EXPECT_EQ(counted.live_allocations(), 1u);
    EXPECT_EQ(pool->block_size(), 100u);
    EXPECT_EQ(pool->stride(), 128u);
    EXPECT_EQ(pool->capacity(), 16u);
    void* block = pool->acquire().value();
    EXPECT_TRUE(pool->release(block).is_ok());
    EXPECT_EQ(counted.total_allocations(), 1u) << "acquire and release never allocate";
  }
  EXPECT_EQ(counted.live_allocations(), 0u);
}

TEST(BlockPool, HandsOutDistinctAlignedBlocksUntilExhausted) {
  block_pool pool = block_pool::create(weft::default_allocator(), 100, 8).value();
  std::set<std::uintptr_t> seen;
  for (std::uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(pool.available_relaxed(), 8 - i);
    weft::result<void*> block = pool.acquire();
    ASSERT_TRUE(block.ok()) << block.status();
    const auto address = reinterpret_cast<std::uintptr_t>(*block);
    EXPECT_EQ(address % 64, 0u);
    EXPECT_TRUE(pool.owns(*block));
    for (std::uintptr_t other : seen) EXPECT_GE(address > other ? address - other : other - address, 100u);
    seen.insert(address);
  }
  EXPECT_EQ(pool.available_relaxed(), 0u);
  const weft::result<void*> none = pool.acquire();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), status_code::resource_exhausted);
  EXPECT_EQ(none.status().message(), "block pool of 8 blocks of 100 bytes is exhausted");
  void* back = reinterpret_cast<void*>(*seen.begin());
  ASSERT_TRUE(pool.release(back).is_ok());
  EXPECT_EQ(pool.available_relaxed(), 1u);
  EXPECT_EQ(pool.acquire().value_or(nullptr), back);
}

TEST(BlockPool, ReleaseRejectsForeignAndMisalignedPointersAndCorruptsNothing) {
  block_pool pool = block_pool::create(weft::default_allocator(), 64, 4).value();
  auto* block = static_cast<std::byte*>(pool.acquire().value());
  int local = 0;
  for (void* wrong : {static_cast<void*>(&local), static_cast<void*>(block + 1), static_cast<void*>(block + 64 * 4)}) {
    const weft::status s = pool.release(wrong);
    EXPECT_EQ(s.code(), status_code::invalid_argument);
    EXPECT_NE(s.message().find(address_text(wrong)), std::string::npos) << s;
    EXPECT_FALSE(pool.owns(wrong));
  }
  EXPECT_EQ(pool.available_relaxed(), 3u);
  ASSERT_TRUE(pool.release(block).is_ok());
  std::set<void*> all;
  for (int i = 0; i < 4; ++i) all.insert(pool.acquire().value_or(nullptr));
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(all.count(nullptr), 0u);
  EXPECT_FALSE(pool.acquire().ok());
}

TEST(BlockPool, NeverTouchesTheBytesOfAFreeBlock) {
  block_pool pool = block_pool::create(weft::default_allocator(), 32, 6, 16).value();
  std::vector<void*> blocks;
  for (int i = 0; i < 6; ++i) {
    blocks.push_back(pool.acquire().value());
    std::memset(blocks.back(), 0x40 + i, 32);
  }
  for (void* b : blocks) ASSERT_TRUE(pool.release(b).is_ok());
  for (int i = 0; i < 6; ++i) {
    auto* b = static_cast<unsigned char*>(pool.acquire().value());
    const auto index = static_cast<int>(std::find(blocks.begin(), blocks.end(), b) - blocks.begin());
    ASSERT_LT(index, 6);
    EXPECT_TRUE(std::all_of(b, b + 32, [&](unsigned char c) { return c == 0x40 + index; }));
  }
}

TEST(BlockPool, ReportsTheAllocatorsFailure) {
  weft::counting_allocator counted;
  counted.fail_after(0);
  const weft::result<block_pool> pool = block_pool::create(counted, 4096, 4);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), status_code::resource_exhausted);
  EXPECT_EQ(pool.status().message().rfind("block_pool: slab for 4 blocks of 4096 bytes: ", 0), 0u) << pool.status();
}

TEST(BlockPool, MoveTransfersTheSlab) {
  weft::counting_allocator counted;
  block_pool first = block_pool::create(counted, 64, 4).value();
  void* block = first.acquire().value();
  block_pool second = std::move(first);
  EXPECT_EQ(first.acquire().status().code(), status_code::failed_precondition);
  EXPECT_EQ(first.release(block).code(), status_code::failed_precondition);
  EXPECT_EQ(first.capacity(), 0u);
  EXPECT_TRUE(second.release(block).is_ok());
  EXPECT_EQ(second.available_relaxed(), 4u);
  block_pool third = block_pool::create(counted, 64, 2).value();
  EXPECT_EQ(counted.live_allocations(), 2u);
  third = std::move(second);
  EXPECT_EQ(counted.live_allocations(), 1u);
  EXPECT_EQ(third.capacity(), 4u);
}

// Four threads each take two blocks at a time, stamp them with their id, give
// other threads a chance to run, and check the stamps before giving the
// blocks back. A block handed to two owners at once shows up as a stamp that
// changed under its owner.
TEST(BlockPool, ConcurrentAcquireReleaseHandsEachBlockToOneOwnerAtATime) {
  constexpr int threads = 4;
  constexpr int rounds = 20000;
  constexpr std::size_t block_size = 64;
  block_pool pool = block_pool::create(weft::default_allocator(), block_size, threads * 2).value();
  struct tally {
    int acquire_failures = 0;
    int release_failures = 0;
    int shared_blocks = 0;  // a block this thread held changed under it, or came twice
  };
  std::vector<tally> tallies(threads);
  const auto stamp_and_check = [&pool, &tallies](int t) {
    tally& mine = tallies[t];
    const auto stamped = [t](const void* block) {
      const auto* bytes = static_cast<const unsigned char*>(block);
      return std::all_of(bytes, bytes + block_size, [t](unsigned char c) { return c == t; });
    };
    for (int i = 0; i < rounds; ++i) {
      weft::result<void*> a = pool.acquire();
      weft::result<void*> b = pool.acquire();
      if (!a.ok() || !b.ok()) {
        ++mine.acquire_failures;
        return;
      }
      if (*a == *b) ++mine.shared_blocks;
      std::memset(*a, t, block_size);
      std::memset(*b, t, block_size);
      // Hold the blocks across a short sleep now and then, so other threads
      // run while these are out (a sleep perturbs, it synchronizes nothing).
      if (i % 1024 == 0) weft::sleep_for_ns(1000);
      for (void* block : {*a, *b}) {
        if (!stamped(block)) ++mine.shared_blocks;
        if (!pool.release(block).is_ok()) ++mine.release_failures;
      }
    }
  };
  {
    std::vector<weft::thread> workers;
    for (int t = 0; t < threads; ++t) {
      weft::result<weft::thread> worker =
          weft::thread::start({.name = "pool-" + std::to_string(t)}, [&stamp_and_check, t] { stamp_and_check(t); });
      ASSERT_TRUE(worker.ok()) << worker.status();
      workers.push_back(std::move(worker).value());
    }
  }
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(tallies[t].acquire_failures, 0) << "thread " << t;
    EXPECT_EQ(tallies[t].release_failures, 0) << "thread " << t;
    EXPECT_EQ(tallies[t].shared_blocks, 0) << "thread " << t;
  }
  EXPECT_EQ(pool.available_relaxed(), pool.capacity());
  std::set<void*> all;
  for (std::uint32_t i = 0; i < pool.capacity(); ++i) all.insert(pool.acquire().value_or(nullptr));
  EXPECT_EQ(all.size(), pool.capacity()) << "a block was lost or duplicated";
  EXPECT_EQ(all.count(nullptr), 0u);
}

}  // namespace
