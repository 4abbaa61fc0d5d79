// weft::compute_slot — one slot of the executor's compute-slot array: a
// budget-N item is placed in it, drained by many workers at once, closed, and
// released by exactly one thread after the last drainer has left; the releaser
// then vacates the slot so the next item can be placed.
//
// The whole cycle is one object because each step must see the previous one
// (place -> enter -> leave / close -> release -> vacate -> place again), and
// the anchor's bugs were in the seams between separate words: a slot released
// twice, a stale drainer of an earlier item joining the recycled slot, and a
// 32-bit placement epoch wrapping to its 0 sentinel. Here every decision is a
// read-modify-write of one 64-bit control word, so none of them can happen.
//
//   weft::compute_slot<process> slot;
//   // placer (any thread):
//   if (!slot.try_place(&p)) overflow.push_back(&p); // the slot was taken
//   // a worker scanning the slot (any thread):
//   if (slot.open_relaxed()) {
//     if (auto e = slot.try_enter()) {               // e->item, e->epoch: what it joined
//       const bool finished = drain(*e->item);
//       if (slot.leave(/*close_if_last=*/finished)) {
//         release(*e->item);                         // nobody can reach it through the slot
//         slot.vacate();
//       }
//     }
//   }
//   // a canceller, or a drainer that must close while others are inside:
//   const auto c = slot.close(epoch);                // c.closed: exactly one caller
//   if (c.release) { release(*item); slot.vacate(); }
//
// Guarantees, per placement:
//   - epochs are 1, 2, 3, ... in placement order (64-bit: never 0, never
//     repeated);
//   - try_enter joins only an OPEN placement and reports the item and epoch of
//     the placement it actually joined;
//   - each placement is closed once: by the one close() that returns
//     closed == true, or by a last leave(true); nothing re-opens it;
//   - exactly one call (a leave() or the close()) reports the release, after
//     every drainer that joined has left; RELEASE_CLAIMED is set in the same
//     atomic step that leaves the placement CLOSED with no drainer inside;
//   - visibility: the placer's writes before try_place happen-before each of
//     its drainers' return from try_enter; every drainer's writes before
//     leave() and every closer's writes before close() happen-before the
//     release; the releaser's writes before vacate() (so, transitively, all of
//     the above) happen-before the next successful try_place and its drainers.
//
// Who may call what:
//   try_place, try_enter, close, the snapshots: any thread.
//   leave: only a thread whose try_enter succeeded, once per enter.
//   vacate: only the thread that got the release, once.
//   Misuse that the word can see (place nullptr, leave with nobody inside,
//   vacate of an unreleased placement, 2^29 drainers) is reported through
//   S::check and changes nothing. A leave without enter while others are
//   inside cannot be told apart from theirs.
//
// Epochs. The word carries the low 32 bits of the epoch as a tag; it exists
// for close(epoch) by an external closer (a canceller that remembers an epoch
// and may run late): a close whose tag does not match the OPEN placement
// changes nothing. Residual ABA: a closer that read epoch e and stalls while
// exactly a multiple of 2^32 placements go through the slot would close the
// placement that then holds tag e. try_enter needs no epoch: it joins whatever
// placement is OPEN at the instant of its CAS and reads item and epoch only
// afterwards, when its drainer count pins that placement (it cannot be
// released, so not vacated or re-placed); a stale view of the slot can make
// the CAS fail, never make it join one placement while reporting another.
//
// Progress: try_place and vacate are wait-free (one CAS / one store: while the
// slot is EMPTY, PLACING or released, nothing else can change the word);
// try_enter, leave and close are lock-free CAS loops that retry only when
// another thread changed the word; the snapshots are wait-free.
//
// Memory orders (no seq_cst: there is no store->load pair across two
// locations; every decision is an RMW of the one word, ordered by its
// modification order):
//   try_place CAS EMPTY->PLACING: acquire, pairs with vacate's release store:
//     the previous releaser's teardown, and through the acq_rel leave/close
//     chain every previous drainer's writes, happen-before the new setup.
//   OPEN store: release, publishes item_, epoch_ and the placer's setup of the
//     item to the join CAS. A store suffices: while PLACING nobody else may
//     write the word. Later enters, leaves and closes are RMWs, so they
//     extend this store's release sequence.
//   try_enter CAS: acquire, pairs with the OPEN store (closes the race of a
//     drainer reading item_ or the item's fields before the placer wrote them).
//   leave CAS: acq_rel. Release: this drainer's writes reach whoever gets the
//     release. Acquire: a leave that gets the release sees every other
//     drainer's and every closer's writes (all of them are RMWs of the word,
//     one release sequence).
//   close CAS: acq_rel, for the same two reasons (a closer that gets the
//     release must see the drainers that left; a closer's writes must reach a
//     last leaver that gets the release).
//   vacate store: release, pairs with the next try_place's acquire. A store
//     suffices: after the release nothing else may write the word.
//   Failure orders are relaxed: a failed CAS only re-reads the word.
//   epoch_ is relaxed: only a placer writes it, while PLACING; every reader
//   that relies on it is ordered after that write by the acquires above.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of compute_slot, for negative controls.
enum class compute_slot_site {
  place_acquire,   // try_place's CAS EMPTY->PLACING: acquire (pairs with vacate_publish)
  open_publish,    // try_place's store of OPEN: release
  join_acquire,    // try_enter's CAS: acquire (pairs with open_publish)
  open_check,      // try_enter joins only an OPEN placement
  leave_publish,   // leave's CAS: acq_rel
  leave_rmw,       // leave updates in one CAS (split_rmw: a load, then a store)
  close_publish,   // close's CAS: acq_rel
  close_rmw,       // close updates in one CAS (split_rmw: a load, then a store)
  epoch_check,     // close compares the word's epoch tag with the caller's epoch
  vacate_publish,  // vacate's store: release
};

template <class T, class S = sync::os, class P = verified>
class compute_slot {
 public:
  using site = compute_slot_site;

  struct entry {
    T* item;
    std::uint64_t epoch;
  };
  struct close_result {
    bool closed = false;   // this call closed the placement (exactly one caller per placement)
    bool release = false;  // ... with nobody inside: the caller releases and vacates
  };

  static constexpr std::uint32_t max_drainers = (1u << 29) - 1;

  compute_slot() = default;
  compute_slot(const compute_slot&) = delete;
  compute_slot& operator=(const compute_slot&) = delete;

  // Any thread. Places `item` under epoch last + 1 if the slot is EMPTY.
  std::optional<std::uint64_t> try_place(T* item) {
    if (item == nullptr) {
      S::check(false, "compute_slot::try_place: item must not be null");
      return std::nullopt;
    }
    std::uint64_t observed = word_.load(std::memory_order_relaxed);
    if (phase_of(observed) != empty) return std::nullopt;
    const std::uint64_t placing_word = (observed & ~phase_mask) | placing;
    // Strong, once: while EMPTY only another placer can change the word.
    if (!word_.compare_exchange_strong(observed, placing_word, P::order(site::place_acquire, std::memory_order_acquire),
                                       std::memory_order_relaxed)) {
      return std::nullopt;
    }
    const std::uint64_t epoch = epoch_.load(std::memory_order_relaxed) + 1;
    epoch_.store(epoch, std::memory_order_relaxed);
    item_.write(item);
    word_.store((epoch << 32) | open, P::order(site::open_publish, std::memory_order_release));
    return epoch;
  }

  // Any thread. Joins the OPEN placement as a drainer; its item and epoch are
  // read after joining. nullopt if the slot is empty, being placed, or closed.
  std::optional<entry> try_enter() {
    std::uint64_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (P::keep(site::open_check) && phase_of(observed) != open) return std::nullopt;
      if (count_of(observed) == max_drainers) {
        S::check(false, "compute_slot::try_enter: too many drainers inside");
        return std::nullopt;
      }
      if (word_.compare_exchange_weak(observed, observed + 1, P::order(site::join_acquire, std::memory_order_acquire),
                                      std::memory_order_relaxed)) {
        return entry{item_.read(), epoch_.load(std::memory_order_relaxed)};
      }
    }
  }

  // A drainer, once per successful try_enter. With close_if_last, the last
  // drainer out of an OPEN placement closes it in the same step. True iff the
  // caller must release: CLOSED, nobody left inside, and this call claimed it.
  bool leave(bool close_if_last = false) {
    // The split_rmw control reads with acquire and writes with release, so
    // that only the atomicity of the update is missing.
    std::uint64_t observed =
        word_.load(P::keep(site::leave_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (count_of(observed) == 0) {
        S::check(false, "compute_slot::leave: no drainer inside");
        return false;
      }
      std::uint64_t desired = observed - 1;
      if (close_if_last && count_of(desired) == 0 && phase_of(desired) == open) {
        desired = (desired & ~phase_mask) | closed;
      }
      const bool release =
          phase_of(desired) == closed && (desired & release_claimed_bit) == 0 && count_of(desired) == 0;
      if (release) desired |= release_claimed_bit;
      if (!P::keep(site::leave_rmw)) {
        word_.store(desired, std::memory_order_release);
        return release;
      }
      if (word_.compare_exchange_weak(observed, desired, P::order(site::leave_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return release;
      }
    }
  }

  // Any thread. Closes placement `epoch` to new drainers. A stale epoch or a
  // placement that is not OPEN gives {false, false} and changes nothing.
  close_result close(std::uint64_t epoch) {
    std::uint64_t observed =
        word_.load(P::keep(site::close_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (P::keep(site::epoch_check) && tag_of(observed) != static_cast<std::uint32_t>(epoch)) return {};
      if (phase_of(observed) != open) return {};
      const close_result result{true, count_of(observed) == 0};
      const std::uint64_t desired = (observed & ~phase_mask) | closed | (result.release ? release_claimed_bit : 0);
      if (!P::keep(site::close_rmw)) {
        word_.store(desired, std::memory_order_release);
        return result;
      }
      if (word_.compare_exchange_weak(observed, desired, P::order(site::close_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return result;
      }
    }
  }

  // The thread that got the release, once, when done with the item through
  // the slot. Empties the slot (keeping the epoch tag).
  void vacate() {
    const std::uint64_t observed = word_.load(std::memory_order_relaxed);
    if (phase_of(observed) != closed || (observed & release_claimed_bit) == 0 || count_of(observed) != 0) {
      S::check(false, "compute_slot::vacate: the placement was not released");
      return;
    }
    word_.store((observed & tag_mask) | empty, P::order(site::vacate_publish, std::memory_order_release));
  }

  // Snapshots for diagnostics, tests and scans; stale as soon as they return.
  bool occupied_relaxed() const { return phase_of(word_.load(std::memory_order_relaxed)) != empty; }
  bool open_relaxed() const { return phase_of(word_.load(std::memory_order_relaxed)) == open; }
  std::uint64_t epoch_relaxed() const { return epoch_.load(std::memory_order_relaxed); }
  std::uint32_t drainers_relaxed() const { return count_of(word_.load(std::memory_order_relaxed)); }

 private:
  static constexpr std::uint64_t tag_mask = ~std::uint64_t{0} << 32;
  static constexpr std::uint64_t phase_mask = std::uint64_t{3} << 30;
  static constexpr std::uint64_t empty = std::uint64_t{0} << 30;
  static constexpr std::uint64_t placing = std::uint64_t{1} << 30;
  static constexpr std::uint64_t open = std::uint64_t{2} << 30;
  static constexpr std::uint64_t closed = std::uint64_t{3} << 30;
  static constexpr std::uint64_t release_claimed_bit = std::uint64_t{1} << 29;
  static constexpr std::uint64_t count_mask = (std::uint64_t{1} << 29) - 1;

  static constexpr std::uint64_t phase_of(std::uint64_t word) { return word & phase_mask; }
  static constexpr std::uint32_t tag_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }
  static constexpr std::uint32_t count_of(std::uint64_t word) { return static_cast<std::uint32_t>(word & count_mask); }

  //   63            32 31   30  29                28             0
  //  +----------------+-------+-----------------+----------------+
  //  |   epoch tag    | phase | RELEASE_CLAIMED |     count      |
  //  +----------------+-------+-----------------+----------------+
  // epoch tag: low 32 bits of the placement's epoch, set with OPEN and kept
  //   through CLOSED, EMPTY and the next PLACING (0 before the first
  //   placement). No tag value is special: it wraps through 0 harmlessly,
  //   since every step also checks the phase.
  // phase: EMPTY -> PLACING (try_place's CAS) -> OPEN (the placer's store)
  //   -> CLOSED (close, or the last leave(true)) -> EMPTY (vacate).
  // count: drainers inside; rises only while OPEN, so after CLOSED it only
  //   falls. RELEASE_CLAIMED is set in the step that leaves CLOSED with
  //   count == 0, and cleared only by vacate.
  typename S::template atomic<std::uint64_t> word_{0};
  // The full epoch of the current (or last) placement; written only while
  // PLACING, so relaxed (see the memory-order notes above).
  typename S::template atomic<std::uint64_t> epoch_{0};
  // Written only while PLACING, read by drainers after their join.
  typename S::template plain<T*> item_{};
};

}  // namespace weft
