// Stress: workers drain thousands of consecutive regions through one
// tile_counter, the epoch wrapping through 2^32 early in the run. Every tile of
// every region must run exactly once, every region must have exactly one
// completer, and stale claims/retires (made on purpose with a remembered old
// epoch, and by workers that were simply preempted) must never take anything.
#include <cstdint>
#include <limits>
#include <vector>

#include "stress.hpp"
#include "weft/tile_counter.hpp"

namespace {

template <class S>
class TileCounterStress : public ::testing::Test {};
TYPED_TEST_SUITE(TileCounterStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(TileCounterStress, EveryTileOnceOneCompleterAcrossEpochWrap) {
  using S = TypeParam;
  constexpr unsigned workers = 4;
  constexpr std::uint32_t max_tiles = 64;
  const std::uint64_t regions = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000);
  const std::uint32_t first_epoch = std::numeric_limits<std::uint32_t>::max() - 100;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::tile_counter<S> tiles;
  // Per-region state, reused: written by tile runners, checked and cleared by
  // the completer, whose reset() publishes the cleared state (plain ints, so
  // TSAN checks the protocol's ordering).
  std::vector<int> hits(max_tiles, 0);
  std::uint32_t region_count = 1;  // tiles of the current region; written before reset()
  std::uint64_t completed = 0;     // written by completers only, in turn
  std::uint64_t tiles_run_total = 0;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> tiles_run{0};
  std::atomic<std::uint64_t> stale_successes{0};

  auto count_for = [](std::uint64_t region) { return static_cast<std::uint32_t>(1 + (region * 37) % max_tiles); };
  region_count = count_for(0);
  tiles.reset(first_epoch, region_count);

  weft::stress::run_threads(workers, [&](unsigned index) {
    std::uint32_t remembered = first_epoch - 1;  // an epoch from the past, for deliberate stale probes
    std::uint64_t local_run = 0;
    std::uint64_t probe = index;
    while (!done.load(std::memory_order_acquire)) {
      const std::uint32_t epoch = tiles.epoch();
      if (++probe % 7 == 0 && remembered != epoch) {
        if (!tiles.claim(remembered, 1).empty() || tiles.retire(remembered, 1)) {
          stale_successes.fetch_add(1, std::memory_order_relaxed);
        }
      }
      const weft::tile_range r = tiles.claim(epoch, 1 + static_cast<std::uint32_t>(probe % 3));
      if (r.empty()) {
        S::pause();
        continue;
      }
      if (r.end > region_count) stale_successes.fetch_add(1, std::memory_order_relaxed);  // out of bounds
      for (std::uint32_t i = r.begin; i < r.end && i < max_tiles; ++i) ++hits[i];
      local_run += r.size();
      if (!tiles.retire(epoch, r.size())) continue;
      // The completer: every tile of this region ran once, and only once.
      for (std::uint32_t i = 0; i < max_tiles; ++i) {
        EXPECT_EQ(hits[i], i < region_count ? 1 : 0) << "region " << completed << " tile " << i;
        hits[i] = 0;
      }
      tiles_run_total += region_count;
      remembered = epoch;
      if (++completed == regions) {
        done.store(true, std::memory_order_release);
        break;
      }
      region_count = count_for(completed);
      tiles.reset(epoch + 1, region_count);
    }
    tiles_run.fetch_add(local_run, std::memory_order_relaxed);
  });

  EXPECT_EQ(completed, regions);
  EXPECT_EQ(tiles_run.load(), tiles_run_total) << "tiles claimed and run != tiles in all regions";
  EXPECT_EQ(stale_successes.load(), 0u) << "a stale epoch claimed or retired something, or a claim overran count";
  EXPECT_EQ(tiles.epoch(), static_cast<std::uint32_t>(first_epoch + regions - 1));
}

// Many workers race for the last few tiles of large claims: the bound must
// hold (no index >= count), which is where a fetch_add counter would overshoot.
TYPED_TEST(TileCounterStress, GreedyClaimsNeverOverrunCount) {
  using S = TypeParam;
  constexpr unsigned workers = 4;
  const std::uint64_t regions = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 2'000 : 20'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  weft::tile_counter<S> tiles;
  constexpr std::uint32_t count = 5;
  std::atomic<int> hits[count] = {};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> overruns{0}, completers{0};
  tiles.reset(1, count);

  weft::stress::run_threads(workers, [&](unsigned index) {
    std::uint32_t turn = index;
    while (!done.load(std::memory_order_acquire)) {
      const std::uint32_t epoch = tiles.epoch();
      // Mostly small claims that race for the last tiles, sometimes "everything".
      const std::uint32_t want = ++turn % 4 == 0 ? std::numeric_limits<std::uint32_t>::max() : 1 + turn % 3;
      const weft::tile_range r = tiles.claim(epoch, want);
      if (r.empty()) {
        S::pause();
        continue;
      }
      if (r.end > count) overruns.fetch_add(1, std::memory_order_relaxed);
      for (std::uint32_t i = r.begin; i < r.end && i < count; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
      if (!tiles.retire(epoch, r.size())) continue;
      for (auto& h : hits) {
        if (h.exchange(0, std::memory_order_relaxed) != 1) overruns.fetch_add(1, std::memory_order_relaxed);
      }
      if (completers.fetch_add(1, std::memory_order_relaxed) + 1 == regions) {
        done.store(true, std::memory_order_release);
      } else {
        tiles.reset(epoch + 1, count);
      }
    }
  });
  EXPECT_EQ(overruns.load(), 0u);
  EXPECT_EQ(completers.load(), regions);
}

}  // namespace
