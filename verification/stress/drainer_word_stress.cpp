// Stress: one slot's drainer_word recycled through thousands of items, the
// generation wrapping through 2^32 early in the run. Workers enter, take work
// units, close when the work runs out, leave; the release sets up the next
// item. Every item must have exactly one completer and exactly one release,
// the release must come after every drainer left (a drainer checks the item is
// alive, a plain field TSAN watches), and stale enters with a remembered old
// generation must never succeed.
#include <cstdint>
#include <limits>
#include <vector>

#include "stress.hpp"
#include "weft/drainer_word.hpp"

namespace {

template <class S>
class DrainerWordStress : public ::testing::Test {};
TYPED_TEST_SUITE(DrainerWordStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(DrainerWordStress, OnceCompletionOnceReleaseAcrossGenerationWrap) {
  using S = TypeParam;
  constexpr unsigned workers = 4;
  constexpr int units_per_item = 6;
  const std::uint64_t items = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000);
  const std::uint32_t first_generation = std::numeric_limits<std::uint32_t>::max() - 50;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::drainer_word<S> word(first_generation);
  // The item: plain fields, set up by the releaser before recycle().
  struct item_state {
    int alive = 1;
    std::uint64_t serial = 0;      // which item this is
    int completions = 0;           // written by the completer
    int work_done[workers] = {};   // written by each drainer, read by the releaser
  } item;
  std::atomic<int> units{units_per_item};
  std::atomic<bool> done{false};
  std::uint64_t released = 0;  // written by releasers only, in turn
  std::atomic<std::uint64_t> completions{0}, stale_entries{0}, early_releases{0};

  weft::stress::run_threads(workers, [&](unsigned index) {
    std::uint32_t remembered = first_generation - 1;
    std::uint64_t turn = index;
    while (!done.load(std::memory_order_acquire)) {
      const std::uint32_t g = word.generation();
      if (++turn % 5 == 0 && remembered != g && word.enter(remembered)) {
        stale_entries.fetch_add(1, std::memory_order_relaxed);
        static_cast<void>(word.leave());
      }
      if (!word.enter(g)) {
        S::pause();
        continue;
      }
      if (item.alive != 1) early_releases.fetch_add(1, std::memory_order_relaxed);
      const int left = units.fetch_sub(1, std::memory_order_relaxed);
      if (left > 0) ++item.work_done[index];
      if (left <= 1) {
        const auto c = word.close(g);
        if (c.completer) {
          ++item.completions;
          completions.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (item.alive != 1) early_releases.fetch_add(1, std::memory_order_relaxed);
      remembered = g;
      if (!word.leave()) continue;
      // The release: every drainer has left.
      int work = 0;
      for (int w : item.work_done) work += w;
      EXPECT_EQ(work, units_per_item) << "item " << item.serial;
      EXPECT_EQ(item.completions, 1) << "item " << item.serial;
      item.alive = 0;
      if (++released == items) {
        done.store(true, std::memory_order_release);
        break;
      }
      item = item_state{};
      item.serial = released;
      units.store(units_per_item, std::memory_order_relaxed);
      word.recycle(g + 1);
    }
  });

  EXPECT_EQ(released, items);
  EXPECT_EQ(completions.load(), items);
  EXPECT_EQ(stale_entries.load(), 0u) << "a stale generation entered a later item";
  EXPECT_EQ(early_releases.load(), 0u) << "an item was released while a drainer was inside";
  EXPECT_EQ(word.generation(), static_cast<std::uint32_t>(first_generation + items - 1));
}

// A canceller that never enters races the drainers to close each item: still
// one completer, and the release goes to the closer only when nobody was in.
TYPED_TEST(DrainerWordStress, ExternalCloserRacesDrainers) {
  using S = TypeParam;
  constexpr unsigned drainers = 3;
  const std::uint64_t items = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 2'000 : 20'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::drainer_word<S> word(0);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> completions{0}, releases{0}, closer_releases{0};
  std::uint64_t recycled = 0;  // written by releasers only, in turn
  auto release = [&](std::uint32_t g) {
    releases.fetch_add(1, std::memory_order_relaxed);
    if (++recycled == items) {
      done.store(true, std::memory_order_release);
      return;
    }
    word.recycle(g + 1);
  };

  weft::stress::run_threads(drainers + 1, [&](unsigned index) {
    std::uint64_t turn = index;
    while (!done.load(std::memory_order_acquire)) {
      const std::uint32_t g = word.generation();
      if (index == drainers) {  // the canceller
        const auto c = word.close(g);
        if (c.completer) completions.fetch_add(1, std::memory_order_relaxed);
        if (c.release) {
          closer_releases.fetch_add(1, std::memory_order_relaxed);
          release(g);
        }
        S::pause();
        continue;
      }
      if (!word.enter(g)) {
        S::pause();
        continue;
      }
      if (++turn % 3 == 0 && word.close(g).completer) completions.fetch_add(1, std::memory_order_relaxed);
      if (word.leave()) release(g);
    }
  });

  EXPECT_EQ(recycled, items);
  EXPECT_EQ(releases.load(), items);
  EXPECT_EQ(completions.load(), items);
  EXPECT_LE(closer_releases.load(), items);
}

}  // namespace
