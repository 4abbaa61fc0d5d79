// Relacy suite for weft::drain_gate.
//
// Model: `Producers` threads each publish one unit of work (a relaxed counter
// bump, standing in for an inbox push) and call schedule(); a true result puts
// a token on a modeled ready list. `Workers` threads poll the ready list a
// bounded number of times and, holding a token, drain: begin_drain(), read the
// work counter, repeat while finish_drain() says so.
//
// Properties:
//   no lost schedule — at the end, either every unit of work was seen by a
//     drain, or the process is still on the ready list (someone must drain it);
//   single drainer — two drains never overlap (a plain<int> written inside the
//     drain: Relacy reports a data race if they do, and an assertion checks it).
//
// Negative controls (each must be reported):
//   - schedule_publish weakened to release: the producer's Dekker store. Both
//     sides may then read stale values — the producer sees DRAINING, the
//     drainer sees needs_drain == 0 — and the work is stranded: the lost
//     schedule of the store-buffering pattern.
//   - finish_check weakened to acquire: the drainer's Dekker load. Same race
//     from the other side.
//   - finish_recheck dropped: the drainer goes IDLE without looking again, the
//     anchor's original bug.
//   - drain_claim weakened to relaxed: the drainer clears needs_drain without
//     synchronizing with the producer, so its drain may read stale work.
//
//   - finish_publish weakened to release: the drainer's Dekker store.
//   - reclaim weakened to relaxed: a stale finisher re-claims after another
//     worker's drain without seeing its writes (data race; needs 2 workers).
//
// Why the Dekker controls need a producer that publishes twice: with one
// publish per producer and one producer, the only schedule() happens before
// any drain, so no schedule can race a running drain and every mutant of the
// Dekker pair passes (a model that misses the drainer-store mutant is this
// shape). With two publishes, the second races the drain the first caused, and
// full search reaches the store-buffering outcome for every weakened side.
#include "harness.hpp"
#include "weft/drain_gate.hpp"

namespace {

using weft::drain_gate_site;
namespace mutation = weft::mutation;

template <unsigned Producers, unsigned Units, unsigned Workers, class Policy>
struct schedule_drain_model
    : rl::test_suite<schedule_drain_model<Producers, Units, Workers, Policy>, Producers + Workers> {
  static constexpr int polls = 3;

  weft::drain_gate<weft::sync::relacy, Policy> gate;
  rl::atomic<int> work;          // units published
  rl::atomic<int> ready_tokens;  // the modeled ready list
  weft::sync::relacy::plain<int> seen;        // work seen by the latest drain
  weft::sync::relacy::plain<int> in_drain;    // overlapping drains race on this

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
    for (int i = 0; i < polls; ++i) {
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

using verified = weft::verified;
using weak_publish = mutation::weaken<drain_gate_site::schedule_publish, std::memory_order_release>;
using weak_finish_check = mutation::weaken<drain_gate_site::finish_check, std::memory_order_acquire>;
using no_recheck = mutation::drop<drain_gate_site::finish_recheck>;
using weak_claim = mutation::weaken<drain_gate_site::drain_claim, std::memory_order_relaxed>;
using weak_reclaim = mutation::weaken<drain_gate_site::reclaim, std::memory_order_relaxed>;
using weak_finish_publish = mutation::weaken<drain_gate_site::finish_publish, std::memory_order_release>;

}  // namespace

WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", random, pass, schedule_drain_model<2, 1, 1, verified>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", random, pass, schedule_drain_model<2, 1, 2, verified>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", full, pass, schedule_drain_model<1, 2, 1, verified>);
WEFT_RELACY_CASE(drain_gate, "no lost schedule, single drainer", bound, pass, schedule_drain_model<2, 1, 1, verified>);
WEFT_RELACY_CASE(drain_gate, "control: producer Dekker store release", full, caught, schedule_drain_model<1, 2, 1, weak_publish>);
WEFT_RELACY_CASE(drain_gate, "control: drainer Dekker load acquire", full, caught, schedule_drain_model<1, 2, 1, weak_finish_check>);
WEFT_RELACY_CASE(drain_gate, "control: drainer Dekker store release", full, caught, schedule_drain_model<1, 2, 1, weak_finish_publish>);
WEFT_RELACY_CASE(drain_gate, "control: no re-check after IDLE", random, caught, schedule_drain_model<2, 1, 1, no_recheck>);
WEFT_RELACY_CASE(drain_gate, "control: claim without acquire", random, caught, schedule_drain_model<2, 1, 1, weak_claim>);
WEFT_RELACY_CASE(drain_gate, "control: re-claim without acquire", random, caught, schedule_drain_model<2, 1, 2, weak_reclaim>);
