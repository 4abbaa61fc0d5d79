// Relacy suite for weft::drain_gate.
//
// Model 1, ready_list_model<Producers, Units, Workers>: the gate as the
// executor uses it. Producers publish units (a relaxed counter bump standing
// in for the inbox, so only the gate can make a unit visible) and call
// schedule(); a true result puts a token on a modeled ready list. Workers poll
// the list `Polls` times and, holding a token, drain:
// begin_drain(), read the counter, repeat while finish_drain() says so.
//   no lost schedule — at the end every unit was seen by a drain, or a token
//     is still on the ready list;
//   single drainer — never two tokens, and drains never overlap (in_drain, a
//     plain<int>: a data race or the assertion);
//   drain-to-drain visibility — `seen` is plain data every drain reads and
//     writes, on whichever worker runs it.
//
// Model 2, handoff_model: hand-over is the last touch. The gate lives on the
// heap and whoever owns the process at the end frees it, so an access after a
// hand-over reaches freed memory (ACCESS TO FREED MEMORY) or races. Set-up:
// unit 0 is published and scheduled, and W has begun draining it.
//   W: drains, then finish_drain() until false; then waits, on an atomic
//      outside the gate, for P's outcome, and frees the gate if P lost.
//   P: writes unit 1's payload (plain<int>) and calls schedule(). Lost: it
//      records that (release) and touches nothing more. Won: it owns the
//      process; it reads the process state (as a waker choosing a ready list
//      would; WakerReadsState), drains unit 1 itself and frees the gate
//      without waiting for W.
// The drain that must handle unit 1 is the one the contract names: W's
// re-drain if finish_drain() returned true, else P's own. There is no inbox to
// read, so a drain not ordered after P's schedule races on the payload rather
// than quietly missing it (an inbox read with a relaxed load could see the
// unit early, unordered, and race in the correct gate too). `state` is the
// process's own data: every drain reads and writes it.
//   every unit drained exactly once, by someone (counts, in after());
//   no leak, no double free (Relacy's allocator checks);
//   nothing touches the gate after the step that handed it over.
//
// Negative controls, each with the report that catches it:
//   - last_touch dropped (model 2, full search): finish_drain() reads the word
//     after its IDLE step, the two-word form's trailing read. P wins, drains
//     and frees the gate before that read: ACCESS TO FREED MEMORY. (The
//     random scheduler misses it, even in 10^6 iterations: its generator,
//     x = 257x + 1 with bit 16 choosing between two threads, gives about 7
//     equal choices in a row at most, and P needs 8 uninterrupted steps.)
//   - finish_recheck dropped (both models): the owner goes IDLE with NEED
//     set, and the producer that set it lost: a unit is never drained
//     (assertion).
//   - schedule_rmw split into a load and a store (both models). Model 1: two
//     producers load IDLE and both store QUEUED, the second overwriting the
//     first's claim: two tokens (assertion). Model 2: P claims IDLE through a
//     relaxed load and a plain store, which acquires nothing and breaks the
//     release sequence of W's IDLE step, so P's drain races W's on `state`.
//   - schedule_publish relaxed (model 2, waker not reading): W's re-claim
//     reads P's NEED without synchronizing; its re-drain races on the payload.
//   - schedule_publish release, no acquire half (model 2): P wins without
//     acquiring W's last drain and reads `state`: data race.
//   - reclaim relaxed (model 2): W's re-claim does not acquire P's schedule:
//     the same payload race, from the drainer's side.
//   - finish_publish relaxed (model 2): W's IDLE step does not release W's
//     drain; P wins and reads `state`: data race.
//   - drain_claim relaxed (model 1; model 2 has no claim racing a schedule:
//     W's is in the set-up and P's follows its own acquiring schedule): a
//     producer that set NEED on a QUEUED gate is not synchronized with by the
//     begin_drain() that clears NEED; the drain reads a stale count, goes
//     IDLE, and that unit is never drained (assertion).
#include <cstring>
#include <new>

#include "harness.hpp"
#include "weft/drain_gate.hpp"

namespace {

using weft::drain_gate_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <unsigned Producers, unsigned Units, unsigned Workers, class Policy, int Polls = 3>
struct ready_list_model
    : rl::test_suite<ready_list_model<Producers, Units, Workers, Policy, Polls>, Producers + Workers> {
  weft::drain_gate<weft::sync::relacy, Policy> gate;
  rl::atomic<int> work;          // units published
  rl::atomic<int> ready_tokens;  // the modeled ready list
  plain_int seen;                // units seen by the latest drain
  plain_int in_drain;            // overlapping drains race on this

  void before() {
    work.store(0, rl::mo_relaxed, $);
    ready_tokens.store(0, rl::mo_relaxed, $);
  }

  void drain_once() {
    RL_ASSERT(in_drain.read() == 0);
    in_drain.write(1);
    const int now = work.load(rl::mo_relaxed, $);
    if (now > seen.read()) seen.write(now);
    in_drain.write(0);
  }

  void thread(unsigned index) {
    if (index < Producers) {
      for (unsigned u = 0; u < Units; ++u) {
        work.fetch_add(1, rl::mo_relaxed, $);
        if (gate.schedule()) ready_tokens.fetch_add(1, rl::mo_release, $);
      }
      return;
    }
    for (int i = 0; i < Polls; ++i) {
      int tokens = ready_tokens.load(rl::mo_acquire, $);
      if (tokens > 0 && ready_tokens.compare_exchange_strong(tokens, tokens - 1, rl::mo_acquire, $)) {
        gate.begin_drain();
        do {
          drain_once();
        } while (gate.finish_drain());
      } else {
        rl::yield(1, $);
      }
    }
  }

  void after() {
    const bool all_seen = seen.read() == static_cast<int>(Producers * Units);
    const bool still_queued = ready_tokens.load(rl::mo_relaxed, $) > 0;
    RL_ASSERT(all_seen || still_queued);
    RL_ASSERT(ready_tokens.load(rl::mo_relaxed, $) <= 1);
  }
};

template <class Policy, bool WakerReadsState = true>
struct handoff_model : rl::test_suite<handoff_model<Policy, WakerReadsState>, 2> {
  using gate_type = weft::drain_gate<weft::sync::relacy, Policy>;
  enum outcome_value { pending = 0, producer_won = 1, producer_lost = 2 };
  static constexpr int unit_payload = 42;
  static constexpr unsigned worker = 0;

  gate_type* gate = nullptr;  // set before the threads start, deleted by its last owner
  plain_int payload;          // unit 1, written by P before its schedule()
  plain_int state;            // the process's own data: every drain reads and writes it
  plain_int drained[2];       // how often each unit was drained
  rl::atomic<int> outcome;    // outside the gate: what P's schedule() returned

  // Relacy's allocator, explicitly: its replacement operator delete is inline
  // and unsized, so g++'s sized delete of a delete-expression bypasses it.
  // Relacy tracks the block (leak, double free) and marks a destroyed
  // rl::atomic dead in its destructor — a store g++ -O2 removes (lifetime
  // dead-store elimination), so the block is poisoned here to keep Relacy's
  // use-after-free check working.
  static gate_type* make_gate() { return new (rl::rl_malloc(sizeof(gate_type), $)) gate_type; }
  static void free_gate(gate_type* g) {
    g->~gate_type();
    std::memset(static_cast<void*>(g), 0xdd, sizeof(gate_type));
    rl::rl_free(g, $);
  }

  void before() {
    outcome.store(pending, rl::mo_relaxed, $);
    gate = make_gate();
    const bool enqueue = gate->schedule();  // unit 0
    RL_ASSERT(enqueue);
    gate->begin_drain();  // W owns the process: DRAINING
  }

  void drain(unsigned unit) {
    if (unit == 1) RL_ASSERT(payload.read() == unit_payload);
    drained[unit].write(drained[unit].read() + 1);
    state.write(state.read() + 1);
  }

  void thread(unsigned index) {
    if (index == worker) {
      unsigned unit = 0;
      do {
        drain(unit);
        unit = 1;  // a re-drain: P's schedule set NEED
      } while (gate->finish_drain());
      // No longer the owner: wait outside the gate for P's outcome.
      int seen;
      while ((seen = outcome.load(rl::mo_acquire, $)) == pending) rl::yield(1, $);
      if (seen == producer_lost) free_gate(gate);  // P's last access was its RMW
      return;
    }
    payload.write(unit_payload);
    if (!gate->schedule()) {
      outcome.store(producer_lost, rl::mo_release, $);
      return;
    }
    outcome.store(producer_won, rl::mo_release, $);
    if (WakerReadsState) static_cast<void>(state.read());  // the waker looks at the process it now owns
    gate->begin_drain();
    do {
      drain(1);
    } while (gate->finish_drain());
    free_gate(gate);  // no wait for W: its IDLE step was its last touch
  }

  void after() {
    RL_ASSERT(drained[0].read() == 1);
    RL_ASSERT(drained[1].read() == 1);
    RL_ASSERT(state.read() == 2);
  }
};

using verified = weft::verified;
using trailing_read = mutation::drop<drain_gate_site::last_touch>;
using no_recheck = mutation::drop<drain_gate_site::finish_recheck>;
using split_schedule = mutation::split_rmw<drain_gate_site::schedule_rmw>;
using schedule_relaxed = mutation::weaken<drain_gate_site::schedule_publish, std::memory_order_relaxed>;
using schedule_release_only = mutation::weaken<drain_gate_site::schedule_publish, std::memory_order_release>;
using reclaim_relaxed = mutation::weaken<drain_gate_site::reclaim, std::memory_order_relaxed>;
using finish_relaxed = mutation::weaken<drain_gate_site::finish_publish, std::memory_order_relaxed>;
using claim_relaxed = mutation::weaken<drain_gate_site::drain_claim, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", random, pass, ready_list_model<2, 1, 1, verified>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", random, pass, ready_list_model<1, 2, 2, verified>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", full, pass, ready_list_model<1, 2, 1, verified, 2>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", bound, pass, ready_list_model<2, 1, 1, verified>);
WEFT_RELACY_CASE(drain_gate, "control: no re-check before IDLE", random, caught, ready_list_model<2, 1, 1, no_recheck>);
WEFT_RELACY_CASE(drain_gate, "control: schedule as load + store", random, caught,
                 ready_list_model<2, 1, 1, split_schedule>);
WEFT_RELACY_CASE(drain_gate, "control: claim without acquire", random, caught,
                 ready_list_model<2, 1, 1, claim_relaxed>);
WEFT_RELACY_CASE(drain_gate, "hand-over is the last touch", random, pass, handoff_model<verified>);
WEFT_RELACY_CASE(drain_gate, "hand-over is the last touch", full, pass, handoff_model<verified>);
WEFT_RELACY_CASE(drain_gate, "control: read after the IDLE step", full, caught, handoff_model<trailing_read>);
WEFT_RELACY_CASE(drain_gate, "control: no re-check before IDLE", full, caught, handoff_model<no_recheck>);
WEFT_RELACY_CASE(drain_gate, "control: schedule as load + store", full, caught, handoff_model<split_schedule, false>);
WEFT_RELACY_CASE(drain_gate, "control: schedule relaxed", full, caught, handoff_model<schedule_relaxed, false>);
WEFT_RELACY_CASE(drain_gate, "control: schedule release only", full, caught, handoff_model<schedule_release_only>);
WEFT_RELACY_CASE(drain_gate, "control: re-claim without acquire", full, caught, handoff_model<reclaim_relaxed>);
WEFT_RELACY_CASE(drain_gate, "control: IDLE step relaxed", full, caught, handoff_model<finish_relaxed>);
