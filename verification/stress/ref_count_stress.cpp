// Stress: many objects, each shared by every thread; each thread writes its
// cell of an object and releases its reference, and exactly one release per
// object must report "last", after which the destroyer sees every cell. A
// second test races try_acquire (a pool lookup) against the owner's last
// release: no object is ever revived, and each is destroyed exactly once.
#include <cstdint>
#include <memory>
#include <vector>

#include "stress.hpp"
#include "weft/ref_count.hpp"

namespace {

template <class S>
class RefCountStress : public ::testing::Test {};
TYPED_TEST_SUITE(RefCountStress, weft::stress::backends, weft::stress::backend_names);

constexpr unsigned threads = 4;

template <class S>
struct object {
  weft::ref_count<S> refs{threads};
  int cell[threads] = {};  // plain: each holder writes its own, the destroyer reads all
  int destroyed = 0;
};

TYPED_TEST(RefCountStress, ExactlyOneDestroyerSeesEveryHolder) {
  using S = TypeParam;
  const std::uint64_t objects = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 200'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  std::vector<object<S>> pool(objects);
  std::atomic<std::uint64_t> destroys{0}, missing_writes{0};

  weft::stress::run_threads(threads, [&](unsigned index) {
    for (std::uint64_t i = 0; i < objects; ++i) {
      // Threads walk the objects from different offsets, half of them
      // backwards, so that releases of one object interleave.
      const std::uint64_t offset = index * objects / threads;
      const std::uint64_t step = index % 2 == 0 ? i : objects - 1 - i;
      object<S>& o = pool[(step + offset) % objects];
      o.cell[index] = static_cast<int>(index) + 1;
      if (!o.refs.release()) continue;
      for (unsigned t = 0; t < threads; ++t) {
        if (o.cell[t] != static_cast<int>(t) + 1) missing_writes.fetch_add(1, std::memory_order_relaxed);
      }
      ++o.destroyed;
      destroys.fetch_add(1, std::memory_order_relaxed);
    }
  });

  EXPECT_EQ(destroys.load(), objects);
  EXPECT_EQ(missing_writes.load(), 0u);
  for (const auto& o : pool) ASSERT_EQ(o.destroyed, 1);
}

TYPED_TEST(RefCountStress, TryAcquireNeverRevives) {
  using S = TypeParam;
  const std::uint64_t objects = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 200'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  struct weak_object {
    weft::ref_count<S> refs{1};
    std::atomic<int> alive{1};
    std::atomic<int> destroyed{0};
  };
  std::unique_ptr<weak_object[]> pool(new weak_object[objects]);
  std::atomic<std::uint64_t> revivals{0}, lookups{0};

  auto drop = [&](weak_object& o) {
    if (!o.refs.release()) return;
    o.alive.store(0, std::memory_order_relaxed);
    o.destroyed.fetch_add(1, std::memory_order_relaxed);
  };
  weft::stress::run_threads(threads, [&](unsigned index) {
    std::uint64_t found = 0;
    for (std::uint64_t i = 0; i < objects; ++i) {
      weak_object& o = pool[i];
      if (index == 0) {  // the owner drops its reference
        drop(o);
        continue;
      }
      if (!o.refs.try_acquire()) continue;
      ++found;
      if (o.alive.load(std::memory_order_relaxed) != 1) revivals.fetch_add(1, std::memory_order_relaxed);
      drop(o);
    }
    lookups.fetch_add(found, std::memory_order_relaxed);
  });

  EXPECT_EQ(revivals.load(), 0u);
  for (std::uint64_t i = 0; i < objects; ++i) {
    ASSERT_EQ(pool[i].destroyed.load(), 1) << "object " << i;
    ASSERT_EQ(pool[i].refs.count_relaxed(), 0u);
  }
}

}  // namespace
