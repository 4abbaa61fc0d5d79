#include "weft/compute_slot.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

struct job {
  int id = 0;
  int drained = 0;
  bool released = false;
};
using slot_t = weft::compute_slot<job>;

TEST(ComputeSlot, StartsEmpty) {
  slot_t slot;
  EXPECT_FALSE(slot.occupied_relaxed());
  EXPECT_FALSE(slot.open_relaxed());
  EXPECT_EQ(slot.epoch_relaxed(), 0u);
  EXPECT_EQ(slot.drainers_relaxed(), 0u);
  EXPECT_FALSE(slot.try_enter().has_value());
  EXPECT_FALSE(slot.close(0).closed);
  EXPECT_FALSE(slot.close(1).closed);
}

TEST(ComputeSlot, BasicCycle) {
  slot_t slot;
  job a{1};
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  EXPECT_EQ(*epoch, 1u);
  EXPECT_TRUE(slot.occupied_relaxed());
  EXPECT_TRUE(slot.open_relaxed());
  EXPECT_EQ(slot.epoch_relaxed(), 1u);

  const auto e = slot.try_enter();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->item, &a);
  EXPECT_EQ(e->epoch, 1u);
  EXPECT_EQ(slot.drainers_relaxed(), 1u);
  EXPECT_TRUE(slot.leave(/*close_if_last=*/true)) << "the only drainer closes and releases";
  EXPECT_FALSE(slot.open_relaxed());
  EXPECT_TRUE(slot.occupied_relaxed()) << "released but not vacated: still occupied";
  EXPECT_FALSE(slot.try_place(&a).has_value());
  slot.vacate();
  EXPECT_FALSE(slot.occupied_relaxed());
  EXPECT_EQ(slot.epoch_relaxed(), 1u) << "the last placement's epoch stays visible";
}

TEST(ComputeSlot, EpochsCountUpAcrossRecycles) {
  slot_t slot;
  std::vector<job> jobs(5);
  for (std::uint64_t k = 1; k <= jobs.size(); ++k) {
    job* j = &jobs[k - 1];
    const auto epoch = slot.try_place(j);
    ASSERT_TRUE(epoch.has_value());
    EXPECT_EQ(*epoch, k);
    const auto e = slot.try_enter();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->item, j);
    EXPECT_EQ(e->epoch, k);
    const auto c = slot.close(k);
    EXPECT_TRUE(c.closed);
    EXPECT_FALSE(c.release) << "the closer's own drainer is still inside";
    EXPECT_TRUE(slot.leave());
    slot.vacate();
  }
  EXPECT_EQ(slot.epoch_relaxed(), jobs.size());
}

TEST(ComputeSlot, TryEnterOnClosedFails) {
  slot_t slot;
  job a;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  ASSERT_TRUE(slot.close(*epoch).closed);
  EXPECT_FALSE(slot.try_enter().has_value());
  EXPECT_EQ(slot.drainers_relaxed(), 1u);
  EXPECT_TRUE(slot.leave());
  EXPECT_FALSE(slot.try_enter().has_value()) << "released, not yet vacated";
  slot.vacate();
  EXPECT_FALSE(slot.try_enter().has_value()) << "empty";
}

TEST(ComputeSlot, CloseWithDrainersInsideGivesReleaseToLastLeave) {
  slot_t slot;
  job a;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(slot.try_enter().has_value());
  const auto c = slot.close(*epoch);  // a closer that did not enter
  EXPECT_TRUE(c.closed);
  EXPECT_FALSE(c.release);
  EXPECT_FALSE(slot.leave());
  EXPECT_FALSE(slot.leave(/*close_if_last=*/true));
  EXPECT_TRUE(slot.leave());
  EXPECT_EQ(slot.drainers_relaxed(), 0u);
}

TEST(ComputeSlot, CloseWithNobodyInsideGivesTheCloserTheRelease) {
  slot_t slot;
  job a;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  const auto c = slot.close(*epoch);
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(c.release);
  slot.vacate();
  EXPECT_TRUE(slot.try_place(&a).has_value());
}

TEST(ComputeSlot, LastLeaveWithCloseIfLastClosesAndReleases) {
  slot_t slot;
  job a;
  ASSERT_TRUE(slot.try_place(&a).has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  EXPECT_FALSE(slot.leave(/*close_if_last=*/false));
  EXPECT_TRUE(slot.open_relaxed());
  EXPECT_TRUE(slot.leave(/*close_if_last=*/true));
  EXPECT_FALSE(slot.open_relaxed());
  EXPECT_FALSE(slot.try_enter().has_value());
}

TEST(ComputeSlot, NonLastLeaveWithCloseIfLastDoesNotClose) {
  slot_t slot;
  job a;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  EXPECT_FALSE(slot.leave(/*close_if_last=*/true));
  EXPECT_TRUE(slot.open_relaxed());
  EXPECT_TRUE(slot.try_enter().has_value()) << "still open to new drainers";
  EXPECT_FALSE(slot.leave());
  EXPECT_FALSE(slot.leave()) << "open: leaving without close_if_last never releases";
  EXPECT_TRUE(slot.open_relaxed());
  EXPECT_EQ(slot.drainers_relaxed(), 0u);
  const auto c = slot.close(*epoch);
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(c.release);
}

TEST(ComputeSlot, SecondCloseChangesNothing) {
  slot_t slot;
  job a;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  ASSERT_TRUE(slot.try_enter().has_value());
  const auto first = slot.close(*epoch);
  const auto second = slot.close(*epoch);
  EXPECT_TRUE(first.closed);
  EXPECT_FALSE(first.release);
  EXPECT_FALSE(second.closed);
  EXPECT_FALSE(second.release);
  EXPECT_TRUE(slot.leave());
  const auto late = slot.close(*epoch);
  EXPECT_FALSE(late.closed);
  EXPECT_FALSE(late.release) << "a close after the release must not hand it out again";
}

TEST(ComputeSlot, StaleEpochCloseChangesNothing) {
  slot_t slot;
  job a, b;
  const auto first = slot.try_place(&a);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(slot.close(*first).release);
  slot.vacate();
  const auto second = slot.try_place(&b);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, *first + 1);
  const auto stale = slot.close(*first);
  EXPECT_FALSE(stale.closed);
  EXPECT_FALSE(stale.release);
  EXPECT_TRUE(slot.open_relaxed());
  EXPECT_FALSE(slot.close(*second + 1).closed) << "a future epoch is not current either";
  const auto e = slot.try_enter();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->item, &b);
  EXPECT_EQ(e->epoch, *second);
  EXPECT_FALSE(slot.leave());
}

TEST(ComputeSlot, TryPlaceOnOccupiedSlotFails) {
  slot_t slot;
  job a, b;
  const auto epoch = slot.try_place(&a);
  ASSERT_TRUE(epoch.has_value());
  EXPECT_FALSE(slot.try_place(&b).has_value()) << "open";
  ASSERT_TRUE(slot.try_enter().has_value());
  ASSERT_TRUE(slot.close(*epoch).closed);
  EXPECT_FALSE(slot.try_place(&b).has_value()) << "closed, drainer inside";
  ASSERT_TRUE(slot.leave());
  EXPECT_FALSE(slot.try_place(&b).has_value()) << "released, not vacated";
  EXPECT_EQ(slot.epoch_relaxed(), *epoch) << "failed placements do not consume epochs";
  slot.vacate();
  const auto next = slot.try_place(&b);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, *epoch + 1);
}

TEST(ComputeSlot, ExactlyOneReleasePerPlacement) {
  // Every mix of leaves (with and without close_if_last) and an optional
  // external close, for up to 4 drainers: exactly one release each time.
  slot_t slot;
  job a;
  for (unsigned drainers = 0; drainers <= 4; ++drainers) {
    for (unsigned close_mask = 0; close_mask < (1u << drainers); ++close_mask) {
      for (unsigned close_at = 0; close_at <= drainers + 1; ++close_at) {  // drainers + 1: no external close
        const auto epoch = slot.try_place(&a);
        ASSERT_TRUE(epoch.has_value());
        for (unsigned d = 0; d < drainers; ++d) ASSERT_TRUE(slot.try_enter().has_value());
        int releases = 0, closes = 0;
        for (unsigned d = 0; d <= drainers; ++d) {
          if (d == close_at) {
            const auto c = slot.close(*epoch);
            closes += c.closed ? 1 : 0;
            releases += c.release ? 1 : 0;
          }
          if (d < drainers) {
            const bool last = d + 1 == drainers;
            const bool was_open = slot.open_relaxed();
            const bool close_if_last = ((close_mask >> d) & 1u) != 0;
            releases += slot.leave(close_if_last) ? 1 : 0;
            if (last && was_open && close_if_last) ++closes;
          }
        }
        if (releases == 0) {  // nobody closed it: a late external close releases it
          ASSERT_TRUE(slot.open_relaxed());
          const auto c = slot.close(*epoch);
          closes += c.closed ? 1 : 0;
          releases += c.release ? 1 : 0;
        }
        EXPECT_EQ(closes, 1) << drainers << " drainers, mask " << close_mask << ", close at " << close_at;
        EXPECT_EQ(releases, 1) << drainers << " drainers, mask " << close_mask << ", close at " << close_at;
        EXPECT_EQ(slot.drainers_relaxed(), 0u);
        slot.vacate();
      }
    }
  }
}

// The usage example from the header comment, run with three workers that
// find the work finished at different times, and a canceller.
TEST(ComputeSlot, UsageExampleFromHeaderCompilesAndRuns) {
  slot_t slot;
  std::vector<job*> overflow;
  job p{7};
  auto drain = [](job& j) { return ++j.drained >= 2; };
  auto release = [](job& j) { j.released = true; };

  // placer:
  if (!slot.try_place(&p)) overflow.push_back(&p);
  EXPECT_TRUE(overflow.empty());
  job q{8};
  if (!slot.try_place(&q)) overflow.push_back(&q);
  EXPECT_EQ(overflow.size(), 1u) << "the slot was taken";

  auto worker = [&] {
    if (slot.open_relaxed()) {
      if (auto e = slot.try_enter()) {
        const bool finished = drain(*e->item);
        if (slot.leave(/*close_if_last=*/finished)) {
          release(*e->item);
          slot.vacate();
        }
      }
    }
  };
  worker();  // drains once, not finished
  EXPECT_FALSE(p.released);
  worker();  // finished, last out: closes and releases
  EXPECT_TRUE(p.released);
  EXPECT_FALSE(slot.occupied_relaxed());

  // A canceller with the epoch of the next placement.
  const auto epoch = slot.try_place(&q);
  ASSERT_TRUE(epoch.has_value());
  job* item = &q;
  const auto c = slot.close(*epoch);
  if (c.release) {
    release(*item);
    slot.vacate();
  }
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(q.released);
  EXPECT_EQ(q.drained, 0);
}

#ifndef NDEBUG
TEST(ComputeSlotDeathTest, MisuseIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        slot_t slot;
        static_cast<void>(slot.try_place(nullptr));
      },
      "item must not be null");
  EXPECT_DEATH(
      {
        slot_t slot;
        static_cast<void>(slot.leave());
      },
      "no drainer inside");
  EXPECT_DEATH(
      {
        slot_t slot;
        job a;
        static_cast<void>(slot.try_place(&a));
        slot.vacate();
      },
      "not released");
}
#endif

}  // namespace
