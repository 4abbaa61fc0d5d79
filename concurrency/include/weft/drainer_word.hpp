// weft::drainer_word — who is inside a shared work item, who completes it, and
// who releases it.
//
// A budget-N work item (an executor compute slot's process, a command-buffer
// recording) is drained by several workers at once. Two things must each
// happen exactly once: completion, when the item's work is done, and release,
// when no worker can touch the item any more (its memory may then be reused).
// Completion can run while drainers are still inside; release must wait for
// the last of them to leave. One 64-bit word decides both:
//
//   // a worker (any thread):
//   const std::uint32_t g = word.generation();
//   if (word.enter(g)) {
//     if (drain(item) == finished && word.close(g).completer) complete(item);
//     if (word.leave()) release_item(item);    // the last one out after the close
//   }
//   // a completer that is not a drainer (e.g. a canceller):
//   const auto c = word.close(g);
//   if (c.completer) complete(item);
//   if (c.release) release_item(item);         // nobody was inside
//   // whoever ran release_item, once the slot holds the next item:
//   word.recycle(g + 1);
//
// A closer that entered is still inside until its own leave(): close() counts
// it, so its c.release is false and one of the leave() calls decides.
//
// Guarantees, per generation:
//   - enter(g) succeeds only while the word is at generation g and not
//     CLOSED: a worker that read the generation of an item that has since been
//     closed, released and recycled cannot enter the next item (the 32-bit
//     generation is the ABA tag; see ABA below);
//   - close(g) returns completer == true to exactly one caller;
//   - exactly one of {the completer's close(), the leave() of the last drainer
//     after the close} reports the release, and it comes after every drainer
//     that entered has called leave(); the RELEASE_CLAIMED bit records that it
//     was handed out, in the same atomic step that observed CLOSED with no
//     drainers inside, so no other call can also see that state as "mine";
//   - visibility: everything a drainer wrote before leave(), and everything
//     the completer wrote before close(), happens-before the release;
//     everything the owner wrote before recycle() happens-before the work of
//     every drainer that enters the new generation.
//
// Who may call what:
//   generation, enter, close: any thread.
//   leave: only a thread whose enter() returned true, once per enter.
//   recycle: only the thread that got the release, after it is done with the
//   item; new_generation should be generation() + 1 (it wraps through 0).
//
// Progress: enter, leave and close are lock-free (CAS loops that retry only
// when another thread changed the word); generation and recycle are wait-free.
//
// Memory orders:
//   enter:   the CAS acquires (pairs with recycle's release store, and with
//            nothing else it needs).
//   leave:   acq_rel CAS. release: this drainer's writes reach whoever
//            releases; acquire: if this call gets the release, it sees every
//            other drainer's and the completer's writes (all earlier updates
//            of the word are RMWs, so they form one release sequence).
//   close:   acq_rel CAS, for the same two reasons.
//   recycle: release store; nothing else can write the word then (CLOSED
//            stops enters, no drainer is left to leave, close needs the old
//            generation), so a store is enough.
//   Failure orders are relaxed: a failed CAS only re-reads the word.
//   ABA: a stale enter(g) whose CAS expected an open generation-g word can
//   only match again after 2^32 recycles while it is preempted.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of drainer_word, for negative controls.
enum class drainer_word_site {
  enter_acquire,     // enter's CAS: acquire (pairs with recycle_publish)
  leave_publish,     // leave's CAS: acq_rel
  close_publish,     // close's CAS: acq_rel
  recycle_publish,   // recycle's store: release
  generation_check,  // enter and close compare the generation with the caller's
  leave_rmw,         // leave updates in one CAS (split_rmw: a load, then a store)
  close_rmw,         // close updates in one CAS (split_rmw: a load, then a store)
};

template <class S = sync::os, class P = verified>
class drainer_word {
 public:
  using site = drainer_word_site;

  struct close_result {
    bool completer = false;        // this call closed the item: run the completion
    std::uint32_t drainers = 0;    // drainers inside when it closed (the caller too, if it entered)
    bool release = false;          // nobody was inside: the caller also runs the release
  };

  static constexpr std::uint32_t max_drainers = (1u << 30) - 1;

  explicit drainer_word(std::uint32_t generation = 0) : word_(std::uint64_t{generation} << 32) {}
  drainer_word(const drainer_word&) = delete;
  drainer_word& operator=(const drainer_word&) = delete;

  // Any thread. The current generation; relaxed, since enter() validates it.
  std::uint32_t generation() const { return generation_of(word_.load(std::memory_order_relaxed)); }

  // Any thread. Joins generation `generation` as a drainer. False, with no
  // effect, if the word is at another generation or the item is closed.
  bool enter(std::uint32_t generation) {
    std::uint64_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (P::keep(site::generation_check) && generation_of(observed) != generation) return false;
      if ((observed & closed_bit) != 0) return false;
      if (count_of(observed) == max_drainers) {
        S::check(false, "drainer_word::enter: too many drainers inside");
        return false;
      }
      if (word_.compare_exchange_weak(observed, observed + 1, P::order(site::enter_acquire, std::memory_order_acquire),
                                      std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // A drainer that entered. True for exactly one caller per generation when
  // the item was closed with drainers inside: the last one out, who must run
  // the release.
  bool leave() {
    // The split_rmw control reads with acquire and writes with release, so
    // that only the atomicity of the update is missing.
    std::uint64_t observed =
        word_.load(P::keep(site::leave_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (count_of(observed) == 0) {
        S::check(false, "drainer_word::leave: no drainer inside");
        return false;
      }
      std::uint64_t desired = observed - 1;
      const bool release = (desired & (closed_bit | release_claimed_bit)) == closed_bit && count_of(desired) == 0;
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

  // Any thread that found the item's work finished (usually a drainer). Closes
  // generation `generation` to new drainers. The first close of a generation
  // is its completer; later ones, and ones with a stale generation, get
  // completer == false and change nothing.
  close_result close(std::uint32_t generation) {
    std::uint64_t observed =
        word_.load(P::keep(site::close_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (P::keep(site::generation_check) && generation_of(observed) != generation) return {};
      if ((observed & closed_bit) != 0) return {};
      close_result result{true, count_of(observed), count_of(observed) == 0};
      const std::uint64_t desired = observed | closed_bit | (result.release ? release_claimed_bit : 0);
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

  // The thread that ran the release, after it has set up the next item.
  // Reopens the word, empty, at `new_generation`.
  void recycle(std::uint32_t new_generation) {
    const std::uint64_t observed = word_.load(std::memory_order_relaxed);
    S::check((observed & release_claimed_bit) != 0 && count_of(observed) == 0,
                        "drainer_word::recycle: the item was not released");
    S::check(generation_of(observed) != new_generation,
                        "drainer_word::recycle: the new generation must differ from the old one");
    static_cast<void>(observed);
    word_.store(std::uint64_t{new_generation} << 32, P::order(site::recycle_publish, std::memory_order_release));
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  std::uint32_t drainers_relaxed() const { return count_of(word_.load(std::memory_order_relaxed)); }
  bool closed_relaxed() const { return (word_.load(std::memory_order_relaxed) & closed_bit) != 0; }
  bool release_claimed_relaxed() const { return (word_.load(std::memory_order_relaxed) & release_claimed_bit) != 0; }

 private:
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 31;
  static constexpr std::uint64_t release_claimed_bit = std::uint64_t{1} << 30;
  static constexpr std::uint64_t count_mask = (std::uint64_t{1} << 30) - 1;

  static constexpr std::uint32_t generation_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }
  static constexpr std::uint32_t count_of(std::uint64_t word) { return static_cast<std::uint32_t>(word & count_mask); }

  //   63              32  31       30            29           0
  //  +------------------+--------+-----------------+-------------+
  //  |    generation    | CLOSED | RELEASE_CLAIMED |    count    |
  //  +------------------+--------+-----------------+-------------+
  // count: drainers inside (enter()ed, not yet leave()d); enter adds 1 only
  // while CLOSED is clear, so after CLOSED it only falls. RELEASE_CLAIMED is
  // set together with the step that leaves CLOSED and count == 0.
  typename S::template atomic<std::uint64_t> word_;
};

}  // namespace weft
