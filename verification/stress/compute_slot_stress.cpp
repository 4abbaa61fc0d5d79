// Stress: one compute slot recycled through a million placements (fewer under
// the fuzz backend and the sanitizers). Thread 0 places items from a small
// ring one after another, cancels every fourth placement at once (close(epoch)
// from outside, racing the drainers' entries), and while it waits for the slot
// to empty sends a close with an epoch it knows is stale. Threads 1 and 2
// enter, take units of work, close when the work runs out (thread 1 with
// close(epoch) while inside, thread 2 with leave(true)), and leave; whoever
// gets the release checks the item, tears it down and vacates. Every entry's
// (item, epoch) must be the pair the placer recorded and the item must be
// alive; every placement is released exactly once; no stale entry or stale
// close has any effect.
#include <cstdint>
#include <vector>

#include "stress.hpp"
#include "weft/compute_slot.hpp"

namespace {

template <class S>
class ComputeSlotStress : public ::testing::Test {};
TYPED_TEST_SUITE(ComputeSlotStress, weft::stress::backends, weft::stress::backend_names);

constexpr unsigned threads = 3;  // 0: placer (and canceller), 1 and 2: drainers
constexpr int units_per_item = 2;
constexpr std::uint64_t cancel_every = 4;
constexpr unsigned ring_size = 8;

// Plain fields: written by the placer before try_place, by drainers while
// inside, torn down by the releaser before vacate. TSAN watches them.
struct item {
  std::uint64_t epoch = 0;
  int alive = 0;
  int work[threads] = {};
  std::atomic<int> units{0};
};

TYPED_TEST(ComputeSlotStress, EveryPlacementReleasedOnceNoStaleEntry) {
  using S = TypeParam;
  const std::uint64_t placements = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 100'000 : 1'000'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::compute_slot<item, S> slot;
  item ring[ring_size];
  std::vector<item*> recorded(placements + 1, nullptr);  // by the placer, before placing
  std::vector<std::uint8_t> releases(placements + 1, 0);  // by releasers, in turn
  std::atomic<std::uint64_t> released{0}, entries{0}, overlapping{0}, mismatched{0}, dead{0}, stale{0},
      stale_close_effects{0}, cancels{0};

  auto release = [&](item* it, std::uint64_t epoch) {
    ++releases[epoch];
    int work = 0;
    for (int w : it->work) work += w;
    const int left = it->units.load(std::memory_order_relaxed);
    EXPECT_EQ(work, units_per_item - (left > 0 ? left : 0)) << "epoch " << epoch;
    it->alive = 0;
    slot.vacate();
    released.fetch_add(1, std::memory_order_release);
  };

  weft::stress::run_threads(threads, [&](unsigned index) {
    if (index == 0) {
      for (std::uint64_t k = 1; k <= placements; ++k) {
        item* it = &ring[k % ring_size];
        // Ring reuse is safe: placement k - ring_size was vacated before
        // placement k - 1 could succeed.
        it->epoch = k;
        it->alive = 1;
        for (int& w : it->work) w = 0;
        it->units.store(units_per_item, std::memory_order_relaxed);
        recorded[k] = it;
        for (unsigned spins = 1;; ++spins) {
          if (const auto epoch = slot.try_place(it)) {
            if (*epoch != k) mismatched.fetch_add(1, std::memory_order_relaxed);
            break;
          }
          if (spins % 16 == 0) {
            // k - 2 was vacated before k - 1 was placed: certainly stale.
            if (k > 2 && slot.close(k - 2).closed) stale_close_effects.fetch_add(1, std::memory_order_relaxed);
            S::yield();  // a drainer preempted inside holds the slot
          } else {
            S::pause();
          }
        }
        // Cancel every few placements at once, racing the drainers' entries.
        if (k % cancel_every == 0) {
          const auto c = slot.close(k);
          if (c.closed) cancels.fetch_add(1, std::memory_order_relaxed);
          if (c.release) release(it, k);
        }
      }
      const auto c = slot.close(placements);
      if (c.release) release(recorded[placements], placements);
      return;
    }
    std::uint64_t last_epoch = 0;
    unsigned idle = 0;
    for (;;) {
      const auto e = slot.try_enter();
      if (!e) {
        if (released.load(std::memory_order_acquire) == placements) break;
        if (++idle % 16 == 0) S::yield(); else S::pause();
        continue;
      }
      entries.fetch_add(1, std::memory_order_relaxed);
      if (slot.drainers_relaxed() > 1) overlapping.fetch_add(1, std::memory_order_relaxed);
      if (e->epoch < last_epoch || e->epoch == 0 || e->epoch > placements) {
        stale.fetch_add(1, std::memory_order_relaxed);
        if (slot.leave()) ADD_FAILURE() << "a stale entry got a release";
        continue;
      }
      last_epoch = e->epoch;
      item* it = e->item;
      if (recorded[e->epoch] != it || it->epoch != e->epoch) mismatched.fetch_add(1, std::memory_order_relaxed);
      if (it->alive != 1) dead.fetch_add(1, std::memory_order_relaxed);
      const int left = it->units.fetch_sub(1, std::memory_order_relaxed);
      if (left > 0) ++it->work[index];
      for (int i = 0; i < 8; ++i) S::pause();  // stay inside a little: let the other drainer join
      const bool finished = left <= 1;
      if (finished && index == 1 && slot.close(e->epoch).release) ADD_FAILURE() << "a closer inside got the release";
      if (it->alive != 1) dead.fetch_add(1, std::memory_order_relaxed);
      if (slot.leave(finished && index == 2)) release(it, e->epoch);
    }
  });

  EXPECT_EQ(released.load(), placements);
  std::uint64_t once = 0;
  for (std::uint64_t k = 1; k <= placements; ++k) once += releases[k] == 1 ? 1 : 0;
  EXPECT_EQ(once, placements) << "every placement released exactly once";
  EXPECT_EQ(mismatched.load(), 0u) << "an entry's (item, epoch) differed from the placer's record";
  EXPECT_EQ(dead.load(), 0u) << "a drainer saw its item released while inside";
  EXPECT_EQ(stale.load(), 0u) << "a drainer joined an earlier placement after a later one";
  EXPECT_EQ(stale_close_effects.load(), 0u) << "a stale close closed the current placement";
  EXPECT_EQ(slot.epoch_relaxed(), placements);
  EXPECT_FALSE(slot.occupied_relaxed());
  EXPECT_GT(entries.load(), 0u);
  this->RecordProperty("entries", static_cast<int>(entries.load()));
  this->RecordProperty("overlapping", static_cast<int>(overlapping.load()));  // both drainers inside
  this->RecordProperty("cancels", static_cast<int>(cancels.load()));
}

}  // namespace
