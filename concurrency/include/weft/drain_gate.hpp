// weft::drain_gate — the schedule/drain handshake of a single-drainer process.
//
// A process has an inbox (any MPSC structure) and at most one drainer at a
// time. Producers put work in the inbox and call schedule(); exactly one of
// them learns that it must enqueue the process on a ready list. The worker that
// dequeues it calls begin_drain(), drains the inbox, and calls finish_drain(),
// which says whether work arrived during the drain and it must drain again.
//
//   producer (any thread)                 worker (whoever dequeued the process)
//   inbox.push(item);                     gate.begin_drain();
//   if (gate.schedule())                  do { drain(inbox); }
//     ready_list.push(process);           while (gate.finish_drain());
//
// Guarantees:
//   - no lost schedule: work published before a schedule() is drained by a
//     begin_drain()/finish_drain() that starts after it, or the process is on
//     the ready list (schedule() returned true to someone);
//   - at most one drainer: schedule() returns true only from IDLE, and only
//     the owner of a QUEUED or DRAINING gate leaves that state;
//   - hand-over is the last touch: a finish_drain() that returns false does
//     nothing after the atomic step that made the gate IDLE, and a schedule()
//     that returns false does nothing after the atomic step that recorded its
//     work. So the moment a gate is IDLE, the next owner may complete the
//     process and free it (memory included) without waiting for anyone.
//   - visibility: everything a producer wrote before schedule() happens-before
//     the drain that handles it; everything a drain wrote happens-before the
//     next drain, on whatever thread.
//
// One 32-bit word, changed only by read-modify-writes:
//
//   [31 ......... 3][ 2 ][1 0]
//    unused          NEED state: IDLE 0, QUEUED 1, DRAINING 2
//
//   IDLE --schedule() wins--> QUEUED --begin_drain()--> DRAINING
//     ^                                                     |
//     +------- finish_drain(): NEED clear, CAS to IDLE -----+
//   DRAINING + NEED --finish_drain(): clear NEED--> DRAINING (drain again)
//
// NEED is set by every schedule() and cleared by the owner before it looks at
// the inbox (begin_drain, or finish_drain deciding to drain again).
//
// Why one word, and no seq_cst. The obvious two-word form (producer: store
// needs_drain, then load state; drainer: store IDLE, then load needs_drain) is
// a Dekker pair and needs all four accesses seq_cst — and, worse, its drainer
// still reads the gate *after* publishing IDLE, and its producer still reads
// the state after publishing its work: by then another worker may have drained,
// completed and freed the process (weft's executor tests caught exactly this
// use-after-free under TSAN). Here every decision is one RMW on one word, so
// the word's modification order decides each race by itself:
//   - schedule() and finish_drain() cannot both miss each other: whichever RMW
//     comes second in the word's order sees the other's effect (NEED set, or
//     the state IDLE);
//   - the orders only carry data: schedule()'s RMW is acq_rel — release
//     publishes the producer's work to the owner that clears NEED (acquire),
//     acquire lets the producer that wins IDLE -> QUEUED inherit the previous
//     drain's writes (released by finish_drain's IDLE step) and pass them on
//     through the ready list; begin_drain() and a re-drain's NEED clear are
//     acquire; the IDLE step is release. Every write to the word is an RMW,
//     so each acquire synchronizes with every earlier release in the chain.
//
// Progress: every call is a CAS loop that retries only when another thread
// changed the word (lock-free); no call blocks.
// Thread safety: schedule() from any thread; begin_drain() and finish_drain()
// only by the current owner (the thread that dequeued the process).
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of drain_gate, for negative controls.
enum class drain_gate_site {
  schedule_publish,  // schedule()'s CAS: acq_rel (release: the producer's work)
  schedule_rmw,      // schedule() updates in one CAS (split_rmw: a load, then a store)
  drain_claim,       // begin_drain()'s CAS: acquire
  finish_publish,    // finish_drain()'s CAS to IDLE: release
  finish_recheck,    // finish_drain() looks at NEED before going IDLE
  reclaim,           // finish_drain()'s NEED clear (drain again): acquire
  last_touch,        // nothing after the IDLE step (drop: a trailing read, the two-word form's use-after-free)
};

template <class S = sync::os, class P = verified>
class drain_gate {
 public:
  enum state_value : std::uint32_t { idle = 0, queued = 1, draining = 2 };
  using site = drain_gate_site;

  drain_gate() : word_(idle) {}
  drain_gate(const drain_gate&) = delete;
  drain_gate& operator=(const drain_gate&) = delete;

  // Any thread, after publishing work. True: the caller must enqueue the
  // process (the gate moved IDLE -> QUEUED and nobody else was told to).
  // False: the owner will see the work; the caller must not touch the gate
  // again for this schedule.
  bool schedule() {
    std::uint32_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      const bool claims = state_of(observed) == idle;
      const std::uint32_t desired = claims ? (queued | need_bit) : (observed | need_bit);
      if (!P::keep(site::schedule_rmw)) {  // negative control only: "a store will do"
        word_.store(desired, std::memory_order_release);
        return claims;
      }
      if (word_.compare_exchange_weak(observed, desired,
                                      P::order(site::schedule_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return claims;
      }
    }
  }

  // Owner only: the process was dequeued (QUEUED -> DRAINING; a compute
  // placement may also call it while DRAINING). Clears NEED; call before
  // looking at the inbox.
  void begin_drain() {
    std::uint32_t observed = word_.load(std::memory_order_relaxed);
    while (!word_.compare_exchange_weak(observed, draining, P::order(site::drain_claim, std::memory_order_acquire),
                                        std::memory_order_relaxed)) {
    }
  }

  // Owner only, after draining. True: work arrived meanwhile, NEED is
  // cleared and the caller still owns the gate; drain again. False: the gate
  // is IDLE and the caller no longer owns the process — it must not touch it
  // (or the gate) again.
  bool finish_drain() {
    std::uint32_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      if (P::keep(site::finish_recheck) && (observed & need_bit) != 0) {
        if (word_.compare_exchange_weak(observed, draining, P::order(site::reclaim, std::memory_order_acquire),
                                        std::memory_order_relaxed)) {
          return true;
        }
        continue;
      }
      if (word_.compare_exchange_weak(observed, idle, P::order(site::finish_publish, std::memory_order_release),
                                      std::memory_order_relaxed)) {
        if (!P::keep(site::last_touch)) {
          // negative control only: the two-word form's trailing read
          static_cast<void>(word_.load(std::memory_order_relaxed));
        }
        return false;
      }
    }
  }

  // A snapshot for diagnostics and tests; stale as soon as it returns.
  state_value state_relaxed() const { return state_of(word_.load(std::memory_order_relaxed)); }
  bool needs_drain_relaxed() const { return (word_.load(std::memory_order_relaxed) & need_bit) != 0; }

 private:
  static constexpr std::uint32_t need_bit = 4;
  static constexpr std::uint32_t state_mask = 3;
  static constexpr state_value state_of(std::uint32_t word) { return static_cast<state_value>(word & state_mask); }

  typename S::template atomic<std::uint32_t> word_;
};

}  // namespace weft
