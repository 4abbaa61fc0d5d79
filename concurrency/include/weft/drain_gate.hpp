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
//   - visibility: everything a producer wrote before schedule() happens-before
//     the drain that handles it; everything a drain wrote happens-before the
//     next drain, on whatever thread.
//
// States (one 32-bit word) and who moves them:
//
//   IDLE --schedule() wins CAS--> QUEUED --begin_drain()--> DRAINING
//     ^                                                         |
//     +---------------- finish_drain() returns false -----------+
//   DRAINING --finish_drain() sees needs_drain, re-claims--> DRAINING
//
// `needs_drain` (a second word) is set by every schedule() and cleared by the
// drainer before it looks at the inbox.
//
// Memory orders (the Dekker pair this primitive exists for):
//   schedule():      needs_drain.exchange(1, seq_cst)  ->  state.load(seq_cst)
//   finish_drain():  state.store(IDLE, seq_cst)        ->  needs_drain.load(seq_cst)
// This is store-buffering: with both pairs seq_cst, at least one side sees the
// other's store, so either the producer sees IDLE and enqueues, or the drainer
// sees needs_drain and drains again. With either side weakened to
// release/acquire both may read the old value and the schedule is lost (the
// negative controls in verification/relacy/drain_gate_suite.cpp show Relacy
// finding exactly that). needs_drain is set with an RMW rather than a store so
// that producers' publications form one release sequence: the drainer's
// acquire exchange then synchronizes with every producer whose flag it clears,
// not only the last one.
//
// Progress: schedule() is lock-free (its CAS retries only while another
// producer changes the state); begin_drain() and finish_drain() are wait-free.
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
  schedule_publish,  // needs_drain.exchange(1) in schedule(): seq_cst (Dekker store)
  schedule_check,    // state.load() in schedule(): seq_cst (Dekker load)
  drain_claim,       // needs_drain.exchange(0) before draining: acquire
  finish_publish,    // state.store(IDLE) in finish_drain(): seq_cst (Dekker store)
  finish_check,      // needs_drain.load() in finish_drain(): seq_cst (Dekker load)
  finish_recheck,    // finish_drain() looks at needs_drain at all
  reclaim,           // the IDLE -> DRAINING CAS of a re-drain: acquire
};

template <class S = sync::os, class P = verified>
class drain_gate {
 public:
  enum state_value : std::uint32_t { idle = 0, queued = 1, draining = 2 };
  using site = drain_gate_site;

  drain_gate() : state_(idle), needs_drain_(0) {}
  drain_gate(const drain_gate&) = delete;
  drain_gate& operator=(const drain_gate&) = delete;

  // Any thread, after publishing work. True: the caller must enqueue the
  // process (the gate moved IDLE -> QUEUED and nobody else was told to).
  bool schedule() {
    needs_drain_.exchange(1, P::order(site::schedule_publish, std::memory_order_seq_cst));
    std::uint32_t observed = state_.load(P::order(site::schedule_check, std::memory_order_seq_cst));
    while (observed == idle) {
      // acquire: the previous drain's writes (released by its IDLE store) must
      // be visible to whoever drains next; we hand the process to them.
      if (state_.compare_exchange_weak(observed, queued, std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;  // QUEUED or DRAINING: the owner will see needs_drain
  }

  // Owner only: the process was dequeued (QUEUED -> DRAINING). Call before
  // looking at the inbox.
  void begin_drain() {
    // relaxed: schedule() treats QUEUED and DRAINING alike, and the owner is
    // the only writer while the gate is not IDLE.
    state_.store(draining, std::memory_order_relaxed);
    claim();
  }

  // Owner only, after draining. True: work arrived meanwhile and the caller
  // still owns the gate; drain again. False: the gate is IDLE, or a producer
  // has already re-queued it; the caller must not touch the process's inbox.
  bool finish_drain() {
    state_.store(idle, P::order(site::finish_publish, std::memory_order_seq_cst));
    if (!P::keep(site::finish_recheck)) return false;
    if (needs_drain_.load(P::order(site::finish_check, std::memory_order_seq_cst)) == 0) return false;
    std::uint32_t expected = idle;
    // acquire: between our IDLE store and this CAS a producer may have queued
    // the process and another worker drained it and stored IDLE again; we then
    // re-claim after that drain and must see its writes (Relacy's 2-worker
    // model reports a data race with relaxed here). A failure means a producer
    // won the IDLE -> QUEUED race and will enqueue.
    if (!state_.compare_exchange_strong(expected, draining, P::order(site::reclaim, std::memory_order_acquire),
                                        std::memory_order_relaxed)) {
      return false;
    }
    claim();
    return true;
  }

  // A snapshot for diagnostics and tests; stale as soon as it returns.
  state_value state_relaxed() const { return static_cast<state_value>(state_.load(std::memory_order_relaxed)); }
  bool needs_drain_relaxed() const { return needs_drain_.load(std::memory_order_relaxed) != 0; }

 private:
  void claim() {
    // acquire: pairs with the producers' release sequence on needs_drain, so
    // the work they published before schedule() is visible to this drain.
    needs_drain_.exchange(0, P::order(site::drain_claim, std::memory_order_acquire));
  }

  typename S::template atomic<std::uint32_t> state_;
  typename S::template atomic<std::uint32_t> needs_drain_;
};

}  // namespace weft
