// Relacy suite for weft::spin_policy composed with weft::event_count.
//
// Model: waiters call spin_then_wait() until a counter reaches 2; one
// notifier increments it twice and then notifies. The spin is capped at `Spins` iterations (now_ns() is frozen
// under Relacy, so the cap is what ends it, as in production when the clock is
// not trusted); each spin iteration is a scheduling point, so the flag may be
// set before, during or after the spin, and the notify may land in any of
// those windows or in the park. A lost wake is a DEADLOCK.
//
// Properties: no lost wake across the spin -> park transition, for
// notify_one (one waiter) and notify_all (two waiters).
//
// Why the counter goes through 1: Relacy lets a thread read a stale value only
// if it had not already seen the older value before its last yield (its
// model of a spinning thread eventually seeing the latest store). The spin
// reads the initial value and yields, so with a 0 -> 1 flag no later load can
// be stale and every Dekker mutant survives (a first version of this model
// missed the weakened announce exactly so). With 0 -> 1 -> 2 the re-check can
// still read the intermediate 1, which the spin never saw, and the store-
// buffering outcome stays reachable.
//
// Negative controls: spin_policy has no ordering of its own (it only calls the
// condition and pause), so there is nothing in it to weaken; what can break
// is the composition. Each control keeps the spin and breaks the park it hands
// over to:
//   - the event_count announce weakened to release (Dekker, waiter side);
//   - await() without its re-check between prepare and commit, the bug of a
//     spin loop that "already checked" and parks without looking again.
#include "harness.hpp"
#include "weft/spin_policy.hpp"

namespace {

using weft::event_count_site;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;

template <unsigned Waiters, unsigned Spins, class Policy>
struct spin_park_model : rl::test_suite<spin_park_model<Waiters, Spins, Policy>, Waiters + 1> {
  weft::event_count<backend, Policy> ec;
  rl::atomic<int> count;

  void before() { count.store(0, rl::mo_relaxed, $); }

  void thread(unsigned index) {
    if (index == Waiters) {
      count.fetch_add(1, rl::mo_relaxed, $);
      count.fetch_add(1, rl::mo_relaxed, $);
      if (Waiters == 1) ec.notify_one(); else ec.notify_all();
      return;
    }
    const weft::spin_policy<backend> spin(1'000, Spins);
    RL_ASSERT(weft::spin_then_wait(ec, [&] { return count.load(rl::mo_relaxed, $) == 2; },
                                   weft::deadline::infinite(), spin));
  }

  void after() { RL_ASSERT(ec.waiters_relaxed() == 0); }
};

using verified = weft::verified;
using weak_announce = mutation::weaken<event_count_site::announce, std::memory_order_release>;
using no_recheck = mutation::drop<event_count_site::await_recheck>;

}  // namespace

WEFT_RELACY_CASE(spin_policy, "spin then park loses no wake (notify_all)", random, pass, spin_park_model<2, 3, verified>);
WEFT_RELACY_CASE(spin_policy, "spin then park loses no wake (notify_one)", full, pass, spin_park_model<1, 1, verified>);
WEFT_RELACY_CASE(spin_policy, "spin then park loses no wake (notify_one)", bound, pass, spin_park_model<1, 1, verified>);
WEFT_RELACY_CASE(spin_policy, "control: park with announce release", full, caught, spin_park_model<1, 1, weak_announce>);
WEFT_RELACY_CASE(spin_policy, "control: park without re-check", full, caught, spin_park_model<1, 1, no_recheck>);
