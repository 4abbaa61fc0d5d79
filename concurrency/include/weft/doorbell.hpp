// weft::doorbell — wake a sleeping owner thread only when it may be asleep.
//
// One thread (the owner: the proactor's poll thread) sleeps in a blocking
// system call it alone may make; any thread may hand it work (push on an
// mpsc_slist) and must then wake it — with a second system call (an eventfd
// write) that is wasted whenever the owner is awake. The doorbell tells each
// producer whether that wake is needed, and coalesces: one wake per sleep.
//
//   producer (any thread)               owner (one thread)
//   list.push(&item);                   for (;;) {
//   if (bell.ring()) wake_owner();        if (bell.take()) { drain(list); continue; }
//                                         if (!bell.prepare_sleep()) continue;  // work arrived
//                                         blocking_wait();   // returns for any reason
//                                         if (bell.finish_sleep()) drain(list);
//                                       }
//
// Guarantees:
//   - no lost wake: work published before a ring() is drained by the owner
//     after a take() or finish_sleep() that returns true (or is seen by
//     prepare_sleep(), which then returns false and the owner takes), or that
//     ring() returned true while the owner is asleep, and the caller wakes it;
//   - coalescing: per sleep (prepare_sleep() true .. finish_sleep()) at most
//     one ring() returns true; a ring() while the owner is awake never does;
//   - visibility: everything a producer wrote before ring() happens-before the
//     owner's return from the take()/finish_sleep() that consumed that ring
//     (or a later one); everything the owner wrote before a successful
//     prepare_sleep() (e.g. a lazily created wake target) happens-before the
//     return of the ring() told to wake it.
// A ringer told true may do its wake after the owner already returned (a
// timeout, a signal): the next sleep then returns at once. That is a spurious
// wake, harmless by construction — the owner always re-takes.
//
// Who may call what: ring() from any thread; prepare_sleep(), finish_sleep()
// and take() from the owner only, in the order above (take() while awake).
// Progress: ring() and finish_sleep() are one RMW (wait-free); prepare_sleep()
// one CAS; take() a relaxed load plus at most one RMW. Nothing here blocks.
//
// One 32-bit word, changed only by read-modify-writes (owner and ringers):
//
//   [31 ............. 2][    1    ][    0    ]
//    unused              PENDING   SLEEPING
//
//   SLEEPING: set by prepare_sleep() (CAS 0 -> SLEEPING, so never while
//             PENDING), cleared by finish_sleep(); only the owner writes it.
//   PENDING:  set by every ring(), cleared by the owner (take, finish_sleep).
//
// Why one word and no seq_cst. The textbook form — producer: publish work,
// then load `sleeping`; owner: store `sleeping`, then re-check for work — is
// a store->load (Dekker) pair on two locations and needs seq_cst on all four
// accesses. Here the owner's "announce sleep + re-check" is ONE CAS on the
// word, and the producer's "announce work + check sleep" is ONE fetch_or on
// the same word: two RMWs on one atomic are totally ordered by its
// modification order and each reads the value just before it, so
//   - ring before prepare_sleep: the CAS sees PENDING (unless the owner
//     cleared it in between, by a take that acquired this ring) and fails;
//   - ring after prepare_sleep (before finish_sleep): the ring sees SLEEPING;
//     the first such ring sees PENDING clear and returns true.
// The orders then only carry data:
//   - ring(): acq_rel. Release publishes the producer's work to the owner RMW
//     that clears PENDING (acquire: take, finish_sleep); later rings are RMWs
//     and continue the release sequence, so one acquire covers every ring
//     coalesced into it. Acquire: the ringer that must wake inherits what the
//     owner wrote before its prepare_sleep() (release).
//   - prepare_sleep(): release on success (see above); its failure needs no
//     order — the owner then calls take(), which acquires.
//   - take(), finish_sleep(): acquire.
// take()'s relaxed first load may miss a fresh PENDING; then prepare_sleep()'s
// CAS sees it and fails, and by coherence the next take() sees it too.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of doorbell, for negative controls.
enum class doorbell_site {
  ring_publish,    // ring()'s fetch_or: acq_rel (release: the work; acquire: the owner's set-up)
  ring_rmw,        // ring() is one RMW (split_rmw: a load, then a store)
  sleep_claim,     // prepare_sleep()'s CAS on success: release
  sleep_recheck,   // prepare_sleep() only goes 0 -> SLEEPING (drop: stores SLEEPING over PENDING)
  take_acquire,    // take()'s PENDING clear: acquire
  finish_acquire,  // finish_sleep()'s exchange: acquire
};

template <class S = sync::os, class P = verified>
class doorbell {
 public:
  using site = doorbell_site;
  static constexpr std::uint32_t sleeping_bit = 1;
  static constexpr std::uint32_t pending_bit = 2;

  doorbell() : word_(0) {}
  doorbell(const doorbell&) = delete;
  doorbell& operator=(const doorbell&) = delete;

  // Any thread, after publishing work. True: the owner is asleep and this is
  // the first ring since it went to sleep — the caller must wake it (exactly
  // one caller per sleep is told so). False: the owner will see the work.
  bool ring() {
    std::uint32_t old;
    if (P::keep(site::ring_rmw)) {
      old = word_.fetch_or(pending_bit, P::order(site::ring_publish, std::memory_order_acq_rel));
    } else {  // negative control only: "a load and a store will do"
      old = word_.load(std::memory_order_acquire);
      word_.store(old | pending_bit, std::memory_order_release);
    }
    return (old & (sleeping_bit | pending_bit)) == sleeping_bit;
  }

  // Owner only, after it found no work. True: the owner may block; the next
  // ring() returns true to its caller. False: a ring arrived — do not sleep,
  // call take() and drain.
  bool prepare_sleep() {
    if (!P::keep(site::sleep_recheck)) {  // negative control only: sleep regardless
      word_.store(sleeping_bit, P::order(site::sleep_claim, std::memory_order_release));
      return true;
    }
    std::uint32_t expected = 0;
    return word_.compare_exchange_strong(expected, sleeping_bit, P::order(site::sleep_claim, std::memory_order_release),
                                         std::memory_order_relaxed);
  }

  // Owner only, after its blocking call returned (woken, timed out,
  // interrupted). True: a ring arrived during the sleep; drain.
  bool finish_sleep() {
    return (word_.exchange(0, P::order(site::finish_acquire, std::memory_order_acquire)) & pending_bit) != 0;
  }

  // Owner only, while awake. True: a ring arrived since the last take; its
  // PENDING is cleared and the owner must drain. Cheap when nothing rang.
  bool take() {
    if ((word_.load(std::memory_order_relaxed) & pending_bit) == 0) return false;
    word_.fetch_and(~pending_bit, P::order(site::take_acquire, std::memory_order_acquire));
    return true;
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  std::uint32_t state_relaxed() const { return word_.load(std::memory_order_relaxed); }
  bool sleeping_relaxed() const { return (state_relaxed() & sleeping_bit) != 0; }

 private:
  typename S::template atomic<std::uint32_t> word_;
};

}  // namespace weft
