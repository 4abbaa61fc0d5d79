// Relacy suite for weft::tile_counter.
//
// Model: `Threads` workers drain `Regions` regions of `Tiles` tiles, one after
// another, starting at epoch 0xFFFFFFFF so that the first reset wraps the
// epoch to 0. Each worker, for a bounded number of rounds: reads the current
// epoch, claims up to `Grab` tiles under it, runs them (a plain<int> hit per
// tile, after reading the region's plain<int> input), and retires them. The
// completer checks every hit of its region, writes the next region's input and
// resets the counter under epoch + 1. Because workers re-read the epoch only
// at the top of a round, a worker preempted between epoch() and claim() is a
// stale worker whenever the others finish the region meanwhile.
//
// Properties:
//   every tile exactly once — a tile run asserts its hit is still 0; the
//     completer and after() assert every hit is 1 (a stale worker that claims
//     in the next region writes a hit of its own, finished region);
//   exactly one completer — each region's completion flag is written once and
//     after() finds every region completed;
//   stale worker fails harmlessly — falls out of the above: a stale claim that
//     took a tile of the next region would run it as a tile of the finished one;
//   visibility — tile runs read the input written before reset(), the
//     completer reads every hit written before retire() (plain<>: Relacy
//     reports a data race if either is unordered).
//
// Negative controls (each must be reported):
//   - epoch_check dropped: a stale worker claims in the new region (it re-runs
//     a tile of its finished region: assertion);
//   - retire_rmw split into a load and a store: two retires of the last tiles
//     both read 2 and store 1 (no completer) or both read 1 (two completers);
//   - retire_publish weakened to release: the completer does not acquire the
//     other workers' tile results (data race); to acquire: the workers do not
//     release them (data race);
//   - claim_acquire weakened to relaxed: a worker of the next region reads its
//     input without synchronizing with the completer that wrote it (data
//     race); reset_publish weakened to relaxed: the same race from the
//     writer's side. (This control was first missed: epoch() then loaded with
//     acquire, which synchronized with reset() on its own and made the claim's
//     acquire redundant. epoch() is now relaxed — it only names the region —
//     and the claim that returns tiles is the one acquire the contract
//     promises, which this control shows is needed.)
//
// The visibility controls need two tiles per region (so that the completer is
// not the only worker of the region) and two regions (so that the input of
// region 1 is written by a thread, not by before()).
#include "harness.hpp"

#include "weft/tile_counter.hpp"

namespace {

using weft::tile_counter_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <unsigned Threads, unsigned Regions, unsigned Tiles, unsigned Grab, class Policy>
struct region_model : rl::test_suite<region_model<Threads, Regions, Tiles, Grab, Policy>, Threads> {
  static constexpr std::uint32_t first_epoch = 0xFFFFFFFFu;
  // Enough rounds for one worker to finish everything alone, plus some to
  // spend on empty claims while another worker holds the last tiles.
  static constexpr int rounds = static_cast<int>(Regions * Tiles) + 3;

  weft::tile_counter<weft::sync::relacy, Policy> tiles;
  plain_int input[Regions];
  plain_int hits[Regions][Tiles];
  plain_int completed[Regions];
  rl::atomic<int> finished;  // regions completed; lets workers stop early

  void before() {
    finished.store(0, rl::mo_relaxed, $);
    input[0].write(1);
    tiles.reset(first_epoch, Tiles);
  }

  void run_tiles(unsigned region, weft::tile_range r) {
    RL_ASSERT(r.end <= Tiles);
    RL_ASSERT(input[region].read() == static_cast<int>(region) + 1);
    for (std::uint32_t i = r.begin; i < r.end; ++i) {
      RL_ASSERT(hits[region][i].read() == 0);
      hits[region][i].write(1);
    }
  }

  void complete(unsigned region, std::uint32_t epoch) {
    RL_ASSERT(completed[region].read() == 0);
    completed[region].write(1);
    for (unsigned i = 0; i < Tiles; ++i) RL_ASSERT(hits[region][i].read() == 1);
    if (region + 1 < Regions) {
      input[region + 1].write(static_cast<int>(region) + 2);
      tiles.reset(epoch + 1, Tiles);
    }
    finished.fetch_add(1, rl::mo_release, $);
  }

  void thread(unsigned) {
    for (int round = 0; round < rounds; ++round) {
      if (finished.load(rl::mo_relaxed, $) == static_cast<int>(Regions)) return;
      const std::uint32_t epoch = tiles.epoch();
      const unsigned region = epoch - first_epoch;  // wraps: 0xFFFFFFFF -> 0, 0 -> 1, ...
      const weft::tile_range r = tiles.claim(epoch, Grab);
      if (r.empty()) {
        rl::yield(1, $);
        continue;
      }
      RL_ASSERT(region < Regions);
      run_tiles(region, r);
      if (tiles.retire(epoch, r.size())) complete(region, epoch);
    }
  }

  void after() {
    for (unsigned region = 0; region < Regions; ++region) {
      RL_ASSERT(completed[region].read() == 1);
      for (unsigned i = 0; i < Tiles; ++i) RL_ASSERT(hits[region][i].read() == 1);
    }
  }
};

// The exhaustive-search model: two workers, two regions of two tiles, and a
// fixed two claim attempts per worker instead of a round loop (a loop with
// yields multiplies the schedules beyond what full or bounded search can
// enumerate in seconds). Not every schedule finishes region 1, so after()
// checks the conditional form: a region whose tiles all ran has exactly one
// completer, and a region with a tile not run has none.
template <class Policy>
struct two_attempts_model : rl::test_suite<two_attempts_model<Policy>, 2> {
  static constexpr std::uint32_t first_epoch = 0xFFFFFFFFu;
  static constexpr unsigned regions = 2, tile_count = 2;

  weft::tile_counter<weft::sync::relacy, Policy> tiles;
  plain_int input[regions];
  plain_int hits[regions][tile_count];
  plain_int completed[regions];

  void before() {
    input[0].write(1);
    tiles.reset(first_epoch, tile_count);
  }

  void thread(unsigned) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const std::uint32_t epoch = tiles.epoch();
      const unsigned region = epoch - first_epoch;
      const weft::tile_range r = tiles.claim(epoch, 1);
      if (r.empty()) continue;
      RL_ASSERT(region < regions && r.end <= tile_count);
      RL_ASSERT(input[region].read() == static_cast<int>(region) + 1);
      RL_ASSERT(hits[region][r.begin].read() == 0);
      hits[region][r.begin].write(1);
      if (!tiles.retire(epoch, 1)) continue;
      RL_ASSERT(completed[region].read() == 0);
      completed[region].write(1);
      for (unsigned i = 0; i < tile_count; ++i) RL_ASSERT(hits[region][i].read() == 1);
      if (region == 0) {
        input[1].write(2);
        tiles.reset(epoch + 1, tile_count);
      }
    }
  }

  void after() {
    for (unsigned region = 0; region < regions; ++region) {
      const bool all_ran = hits[region][0].read() == 1 && hits[region][1].read() == 1;
      RL_ASSERT(completed[region].read() == (all_ran ? 1 : 0));
    }
  }
};

// A worker that read the epoch of region 0 and resumes at a moment the
// scheduler picks: its claim and retire must fail once region 0 is finished,
// and must leave region 1 intact. Thread 0 runs both regions alone.
template <class Policy>
struct stale_worker_model : rl::test_suite<stale_worker_model<Policy>, 2> {
  static constexpr std::uint32_t first_epoch = 0xFFFFFFFFu;

  weft::tile_counter<weft::sync::relacy, Policy> tiles;
  plain_int hits[2];       // one tile per region
  plain_int stale_took;    // the stale worker's tile, if it got one
  rl::atomic<int> region_done[2];

  void before() {
    region_done[0].store(0, rl::mo_relaxed, $);
    region_done[1].store(0, rl::mo_relaxed, $);
    tiles.reset(first_epoch, 1);
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (unsigned region = 0; region < 2; ++region) {
        const std::uint32_t epoch = first_epoch + region;
        weft::tile_range r;
        for (int tries = 0; tries < 3 && (r = tiles.claim(epoch, 1)).empty(); ++tries) rl::yield(1, $);
        if (r.empty()) return;  // the stale worker took it: after() reports it
        hits[region].write(hits[region].read() + 1);
        if (tiles.retire(epoch, 1)) {
          region_done[region].store(1, rl::mo_release, $);
          if (region == 0) tiles.reset(first_epoch + 1, 1);
        }
      }
      return;
    }
    // The epoch this worker read before thread 0 started (reading it here
    // could already give region 1's, which is not stale).
    const std::uint32_t epoch = first_epoch;
    rl::yield(1, $);
    const weft::tile_range r = tiles.claim(epoch, 1);
    if (r.empty()) return;
    // Only a claim of the still-running region 0 may succeed; the stale worker
    // then owns region 0's tile and must retire it.
    RL_ASSERT(epoch == first_epoch);
    RL_ASSERT(region_done[0].load(rl::mo_acquire, $) == 0);
    stale_took.write(1);
    if (tiles.retire(epoch, 1)) region_done[0].store(1, rl::mo_release, $);
  }

  void after() {
    const int stale = stale_took.read();
    // Region 0's tile ran once, by either thread; region 1's ran only if
    // thread 0 got through region 0 itself.
    RL_ASSERT(hits[0].read() + stale == 1);
    RL_ASSERT(hits[1].read() <= 1);
    RL_ASSERT(region_done[0].load(rl::mo_relaxed, $) == 1);
    if (hits[1].read() == 1) RL_ASSERT(region_done[1].load(rl::mo_relaxed, $) == 1);
  }
};

using verified = weft::verified;
using no_epoch_check = mutation::drop<tile_counter_site::epoch_check>;
using split_retire = mutation::split_rmw<tile_counter_site::retire_rmw>;
using retire_release_only = mutation::weaken<tile_counter_site::retire_publish, std::memory_order_release>;
using retire_acquire_only = mutation::weaken<tile_counter_site::retire_publish, std::memory_order_acquire>;
using claim_relaxed = mutation::weaken<tile_counter_site::claim_acquire, std::memory_order_relaxed>;
using reset_relaxed = mutation::weaken<tile_counter_site::reset_publish, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(tile_counter, "every tile once, one completer", random, pass, region_model<3, 3, 3, 1, verified>);
WEFT_RELACY_CASE(tile_counter, "every tile once, one completer (grab 2)", random, pass,
                 region_model<3, 2, 3, 2, verified>);
WEFT_RELACY_CASE(tile_counter, "every tile once, one completer", bound, pass, two_attempts_model<verified>);
WEFT_RELACY_CASE(tile_counter, "stale worker fails harmlessly", full, pass, stale_worker_model<verified>);
WEFT_RELACY_CASE(tile_counter, "control: no epoch check (stale claim)", full, caught,
                 stale_worker_model<no_epoch_check>);
WEFT_RELACY_CASE(tile_counter, "control: no epoch check (stale claim)", random, caught,
                 region_model<3, 3, 3, 1, no_epoch_check>);
WEFT_RELACY_CASE(tile_counter, "control: retire as load + store", random, caught,
                 region_model<3, 2, 3, 1, split_retire>);
WEFT_RELACY_CASE(tile_counter, "control: retire as load + store", bound, caught, two_attempts_model<split_retire>);
WEFT_RELACY_CASE(tile_counter, "control: retire release only", bound, caught, two_attempts_model<retire_release_only>);
WEFT_RELACY_CASE(tile_counter, "control: retire acquire only", bound, caught, two_attempts_model<retire_acquire_only>);
WEFT_RELACY_CASE(tile_counter, "control: claim without acquire", bound, caught, two_attempts_model<claim_relaxed>);
WEFT_RELACY_CASE(tile_counter, "control: reset without release", bound, caught, two_attempts_model<reset_relaxed>);
