// weft::tile_counter — hands out the tiles of a parallel region and elects the
// one thread that completes it.
//
// A region is `count` independent tiles (workgroups, rows, blocks) drained by
// any number of workers. Each worker claims a few tile indices at a time, runs
// them, and retires them; the worker whose retire() brings the region's
// remaining-tile count to zero is its completer. The completer (or the owner,
// before the first region) calls reset() to start the next region under a new
// epoch. Workers name the region they think they are in by its epoch, so a
// worker that read the epoch of a finished region and was preempted fails
// harmlessly when it resumes: its claim() returns an empty range and its
// retire() returns false, instead of taking tiles of (or decrementing the count
// of) the region that now occupies the counter — the hang the anchor's block
// processor had before it tagged its counter with an epoch.
//
//   weft::tile_counter<> tiles;                  // owner: tiles.reset(e, count)
//   // worker (any thread):
//   const std::uint32_t e = tiles.epoch();
//   for (weft::tile_range r; !(r = tiles.claim(e, 4)).empty();) {
//     for (std::uint32_t i = r.begin; i < r.end; ++i) run_tile(i);
//     if (tiles.retire(e, r.size())) {           // exactly one worker gets true
//       complete_region();                       // sees every tile's writes
//       tiles.reset(e + 1, next_count);          // or stop
//     }
//   }
//
// Guarantees:
//   - every tile index in [0, count) of a region is handed out exactly once,
//     and never an index >= count, however many workers claim at once;
//   - exactly one retire() of a region returns true, provided each claimed tile
//     is retired exactly once by the epoch it was claimed under;
//   - claim(e, ...) and retire(e, ...) with an epoch that is not the current one
//     change nothing (empty range / false);
//   - visibility: everything the owner wrote before reset() happens-before
//     every tile run under that epoch (claim acquires what reset released), and
//     everything a worker wrote before retire() happens-before the completer's
//     return from its retire() (each retire releases, the completing one also
//     acquires, and the retires form one release sequence).
//
// Who may call what:
//   claim, retire, epoch, and the snapshots: any thread, at any time.
//   reset: only when no region is in flight — by the completer of the previous
//   region, or by the owner before the first one. new_epoch must differ from
//   the current epoch (epoch + 1 is the intended choice; it may wrap through
//   2^32 -> 0, nothing treats an epoch value as special).
//   A region with count == 0 hands out nothing and has no completer: whoever
//   resets it to zero tiles completes it itself.
//
// Progress: claim and retire are lock-free (a CAS loop that retries only when
// another claim/retire of the same region moved the word); epoch, reset and
// the snapshots are wait-free.
//
// Why CAS and not fetch_add: a fetch_add claim overshoots past count when
// several workers claim the last tiles together, and enough overshoot carries
// into the epoch bits; a fetch_sub retire from a stale worker would corrupt the
// next region's count. The CAS checks the epoch and the bound in the same step
// as the update, so neither can happen. The claim word counts the tiles NOT
// YET handed out, down to zero, so the bound needs no second word: a claim
// takes min(max_tiles, unclaimed) and can never go below zero. The index range
// is then [count - unclaimed, count - unclaimed + taken), ascending.
//
// Memory orders:
//   reset():  count_ and remaining_ relaxed, then unclaimed_.store(release).
//   claim():  the CAS acquires on success (pairs with reset's release; later
//             claims are RMWs, so they extend its release sequence). After a
//             successful CAS, count_ is read relaxed: reset(e) wrote it
//             before its release, so it is visible; a later reset cannot have
//             written it yet, because that reset follows this region's
//             completion, which follows this worker's retire of the tiles it
//             just claimed, which follows this read.
//   retire(): acq_rel CAS. release: publishes the tile's results; acquire: the
//             completer reads the last value of a chain of RMWs, each of which
//             released, so it synchronizes with every earlier retire.
//   Failure orders are relaxed: a failed CAS only re-reads the word.
//   ABA: a claim or retire that read the word under epoch e and is delayed
//   across exactly 2^32 resets could match a later region's identical word;
//   at one region per microsecond that is over an hour of one preempted
//   thread, and the anchor's counter had the same width.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// A half-open range of tile indices [begin, end).
struct tile_range {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  bool empty() const noexcept { return begin == end; }
  std::uint32_t size() const noexcept { return end - begin; }
};

// The argued orders and steps of tile_counter, for negative controls.
enum class tile_counter_site {
  claim_acquire,   // claim's CAS on success: acquire (pairs with reset_publish)
  retire_publish,  // retire's CAS: acq_rel
  reset_publish,   // reset's store of the claim word: release
  epoch_check,     // claim and retire compare the word's epoch with the caller's
  retire_rmw,      // retire decrements in one CAS (split_rmw: a load, then a store)
};

template <class S = sync::os, class P = verified>
class tile_counter {
 public:
  using site = tile_counter_site;

  // An empty region under epoch 0: claims return nothing until reset().
  tile_counter() : tile_counter(0, 0) {}
  tile_counter(std::uint32_t epoch, std::uint32_t count)
      : unclaimed_(pack(epoch, count)), remaining_(pack(epoch, count)), count_(count) {}
  tile_counter(const tile_counter&) = delete;
  tile_counter& operator=(const tile_counter&) = delete;

  // Any thread. The epoch of the current region. relaxed: the value is only a
  // name to claim under; a stale one fails harmlessly, and what the owner
  // published before reset() is acquired by the claim that returns tiles, not
  // here (read the region's description after a successful claim).
  std::uint32_t epoch() const { return epoch_of(unclaimed_.load(std::memory_order_relaxed)); }

  // Any thread. Takes up to max_tiles of the next unclaimed tiles of region
  // `epoch`; empty if that region is not the current one or has none left.
  // The caller must run and retire(epoch, range.size()) every tile it gets.
  tile_range claim(std::uint32_t epoch, std::uint32_t max_tiles) {
    if (max_tiles == 0) return {};
    std::uint64_t observed = unclaimed_.load(std::memory_order_relaxed);
    for (;;) {
      if (P::keep(site::epoch_check) && epoch_of(observed) != epoch) return {};
      const std::uint32_t unclaimed = value_of(observed);
      if (unclaimed == 0) return {};
      const std::uint32_t taken = std::min(unclaimed, max_tiles);
      // taken <= unclaimed: the subtraction never borrows from the epoch.
      if (unclaimed_.compare_exchange_weak(observed, observed - taken,
                                           P::order(site::claim_acquire, std::memory_order_acquire),
                                           std::memory_order_relaxed)) {
        const std::uint32_t begin = count_.load(std::memory_order_relaxed) - unclaimed;
        return {begin, begin + taken};
      }
    }
  }

  // Any thread, after running `tiles` tiles claimed under `epoch`. True for
  // exactly one caller per region: the one that retired its last tile. False,
  // with no effect, if `epoch` is not the current region.
  bool retire(std::uint32_t epoch, std::uint32_t tiles) {
    if (tiles == 0) return false;  // retiring nothing completes nothing
    // The split_rmw control reads with acquire and writes with release, so that
    // only the atomicity of the update is missing, not its ordering.
    std::uint64_t observed =
        remaining_.load(P::keep(site::retire_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (P::keep(site::epoch_check) && epoch_of(observed) != epoch) return false;
      const std::uint32_t remaining = value_of(observed);
      if (tiles > remaining) {
        S::check(false, "tile_counter::retire: more tiles retired than the region has left");
        return false;
      }
      const std::uint64_t desired = observed - tiles;
      if (!P::keep(site::retire_rmw)) {
        remaining_.store(desired, std::memory_order_release);
        return tiles == remaining;
      }
      if (remaining_.compare_exchange_weak(observed, desired,
                                           P::order(site::retire_publish, std::memory_order_acq_rel),
                                           std::memory_order_relaxed)) {
        return tiles == remaining;
      }
    }
  }

  // The completer of the previous region, or the owner before the first one.
  // Starts region `new_epoch` with tiles [0, count).
  void reset(std::uint32_t new_epoch, std::uint32_t count) {
    S::check(new_epoch != epoch_of(unclaimed_.load(std::memory_order_relaxed)),
                        "tile_counter::reset: the new epoch must differ from the current one");
    // relaxed: both are published by the release store below, and claim()
    // reads count_ only after acquiring it.
    count_.store(count, std::memory_order_relaxed);
    remaining_.store(pack(new_epoch, count), std::memory_order_relaxed);
    unclaimed_.store(pack(new_epoch, count), P::order(site::reset_publish, std::memory_order_release));
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  std::uint32_t unclaimed_relaxed() const { return value_of(unclaimed_.load(std::memory_order_relaxed)); }
  std::uint32_t remaining_relaxed() const { return value_of(remaining_.load(std::memory_order_relaxed)); }
  std::uint32_t count_relaxed() const { return count_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint64_t pack(std::uint32_t epoch, std::uint32_t value) {
    return (std::uint64_t{epoch} << 32) | value;
  }
  static constexpr std::uint32_t epoch_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }
  static constexpr std::uint32_t value_of(std::uint64_t word) { return static_cast<std::uint32_t>(word); }

  // Tiles of the current region not yet handed out:
  //   63            32 31             0
  //  +----------------+----------------+
  //  |     epoch      |   unclaimed    |
  //  +----------------+----------------+
  typename S::template atomic<std::uint64_t> unclaimed_;
  // Tiles of the current region handed out or not, but not yet retired:
  //   63            32 31             0
  //  +----------------+----------------+
  //  |     epoch      |   remaining    |
  //  +----------------+----------------+
  typename S::template atomic<std::uint64_t> remaining_;
  // The current region's tile count; read by claim() to turn "unclaimed" into
  // ascending indices.
  typename S::template atomic<std::uint32_t> count_;
};

}  // namespace weft
