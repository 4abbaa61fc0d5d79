// Relacy suite for weft::idle_set.
//
// Models:
//
//   work_model<Workers, Wakers> — each waker publishes one work item (a
//     relaxed counter increment: the guarantee must not depend on the order
//     work is published with) and calls wake_one(); each worker loops
//     "take an item, else park_unless(has items)" until it has taken one.
//     Property "no lost wake": every worker gets an item; a worker left asleep
//     with an item available is a DEADLOCK. (Distinctness is distinct_model's:
//     here one worker may have several idle episodes, each claimed by a
//     different waker, so claims are only counted.)
//
//   distinct_model — two workers are idle before the threads start; two
//     wakers run concurrently from the same hint, so both look at worker 0
//     first. Property "distinct wakees". With the two workers parking as
//     threads of their own (4 threads), each waker calls wake(1) and both
//     workers must be woken (a duplicate claim leaves one asleep: DEADLOCK).
//     Without them (2 threads, fits a full search), each waker calls
//     wake_one() and records whom it claimed in a plain<int>: each worker is
//     claimed exactly once (a duplicate is a data race and an assertion).
//
// Search sizes: a full search of work_model<1, 1> is 4.5M executions (26 s):
// every futex wait may return spuriously and be retried, and every relaxed
// load may be stale. The two-thread passing cases therefore use the
// context-bound scheduler, and full search is kept for distinct_model
// without parkers. (The models' own CAS loops use compare_exchange_strong:
// with _weak, each spurious failure is one more branch and the full search
// did not finish.)
//
// Negative controls:
//   - announce weakened to release (Dekker, worker side): the worker's
//     re-check may miss the item while the waker's check read a count of 0.
//   - check split into a seq_cst load (tokio #1788): same outcome.
//   - announce weakened to acquire: the waker reads the count but its scan may
//     not see the worker's idle bit (set before the announce, now unordered),
//     so it finds nobody.
//   - park_unless without its re-check: the worker sleeps on an item it
//     never looked for.
//   - the claim split into load + store (affinity_set claim_rmw): both wakers
//     take worker 0; worker 1 is never posted.
#include "harness.hpp"
#include "weft/idle_set.hpp"

namespace {

using weft::affinity_set_site;
using weft::idle_set_site;
using weft::park_result;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;

template <unsigned Workers, unsigned Wakers, class Policy>
struct work_model : rl::test_suite<work_model<Workers, Wakers, Policy>, Workers + Wakers> {
  weft::idle_set<Workers, backend, Policy> idle;
  rl::atomic<int> items;
  rl::atomic<int> claims[Workers];  // atomic: one worker's episodes may be claimed by different wakers

  void before() {
    items.store(0, rl::mo_relaxed, $);
    for (auto& c : claims) c.store(0, rl::mo_relaxed, $);
  }

  bool take() {
    int seen = items.load(rl::mo_relaxed, $);
    while (seen > 0) {
      if (items.compare_exchange_strong(seen, seen - 1, rl::mo_relaxed, $)) return true;
    }
    return false;
  }

  void thread(unsigned index) {
    if (index < Workers) {
      while (!take()) {
        idle.park_unless(index, [&] { return items.load(rl::mo_relaxed, $) > 0; });
      }
      return;
    }
    items.fetch_add(1, rl::mo_relaxed, $);
    const std::size_t worker = idle.wake_one(0);
    if (worker != idle.npos) {
      RL_ASSERT(worker < Workers);
      claims[worker].fetch_add(1, rl::mo_relaxed, $);
    }
  }

  void after() {
    RL_ASSERT(items.load(rl::mo_relaxed, $) == static_cast<int>(Wakers - Workers));
    RL_ASSERT(idle.idle_count_relaxed() == 0);
    // At most one claim per idle episode, and a worker has at most Wakers of them.
    for (auto& c : claims) RL_ASSERT(c.load(rl::mo_relaxed, $) <= static_cast<int>(Wakers));
  }
};

template <bool Parkers, class Policy>
struct distinct_model : rl::test_suite<distinct_model<Parkers, Policy>, Parkers ? 4 : 2> {
  static constexpr unsigned first_waker = Parkers ? 2 : 0;
  weft::idle_set<2, backend, Policy> idle;
  backend::plain<int> claims[2];
  park_result results[2];

  void before() {
    // Both workers are idle before any thread runs (prepare_park touches no
    // thread-local state, so the model may do it on their behalf).
    idle.prepare_park(0);
    idle.prepare_park(1);
    results[0] = results[1] = park_result::timed_out;
  }

  void thread(unsigned index) {
    if (index < first_waker) {
      results[index] = idle.park(index);
      return;
    }
    if (Parkers) {
      RL_ASSERT(idle.wake(1, 0) == 1);  // the wake(1) the executor calls
      return;
    }
    const std::size_t worker = idle.wake_one(0);
    RL_ASSERT(worker != idle.npos);
    claims[worker].write(claims[worker].read() + 1);
  }

  void after() {
    if (!Parkers) RL_ASSERT(claims[0].read() == 1 && claims[1].read() == 1);
    RL_ASSERT(!idle.is_idle(0) && !idle.is_idle(1));
    if (Parkers) {
      RL_ASSERT(results[0] == park_result::woken && results[1] == park_result::woken);
      RL_ASSERT(idle.idle_count_relaxed() == 0);
    }
  }
};

// A worker that parks with a finite deadline (Relacy times the futex wait out
// at a point of its choosing) against wakers: the timeout's withdrawal races
// the claim. Every claim a waker reports must be received by the worker as
// `woken` — none lost to a timeout, none received twice.
template <unsigned Wakers>
struct timeout_model : rl::test_suite<timeout_model<Wakers>, 1 + Wakers> {
  weft::idle_set<1, backend> idle;
  rl::atomic<int> items;
  rl::atomic<int> claims;
  int received = 0;  // worker thread only; read in after()

  void before() {
    items.store(0, rl::mo_relaxed, $);
    claims.store(0, rl::mo_relaxed, $);
    received = 0;
  }

  bool take() {
    int seen = items.load(rl::mo_relaxed, $);
    while (seen > 0) {
      if (items.compare_exchange_strong(seen, seen - 1, rl::mo_relaxed, $)) return true;
    }
    return false;
  }

  void thread(unsigned index) {
    if (index == 0) {
      int taken = 0;
      while (taken < static_cast<int>(Wakers)) {
        if (take()) {
          ++taken;
          continue;
        }
        const park_result r = idle.park_unless(0, [&] { return items.load(rl::mo_relaxed, $) > 0; },
                                               weft::deadline::after(1'000'000));
        if (r == park_result::woken) ++received;
      }
      return;
    }
    items.fetch_add(1, rl::mo_relaxed, $);
    if (idle.wake_one(0) != idle.npos) claims.fetch_add(1, rl::mo_relaxed, $);
  }

  void after() {
    RL_ASSERT(received == claims.load(rl::mo_relaxed, $));
    RL_ASSERT(idle.idle_count_relaxed() == 0);
    RL_ASSERT(!idle.is_idle(0));
  }
};

using verified = weft::verified;
using weak_announce_release = mutation::weaken<idle_set_site::announce, std::memory_order_release>;
using weak_announce_acquire = mutation::weaken<idle_set_site::announce, std::memory_order_acquire>;
// The split check with the announce made seq_cst too: only load-versus-RMW differs.
using split_check = mutation::both<mutation::split_rmw<idle_set_site::check>,
                                   mutation::weaken<idle_set_site::announce, std::memory_order_seq_cst>>;
using no_recheck = mutation::drop<idle_set_site::park_recheck>;
using split_claim = mutation::split_rmw<affinity_set_site::claim_rmw>;

}  // namespace

WEFT_RELACY_CASE(idle_set, "no lost wake (2 workers, 2 wakers)", random, pass, work_model<2, 2, verified>);
WEFT_RELACY_CASE(idle_set, "no lost wake (1 worker, 2 wakers)", random, pass, work_model<1, 2, verified>);
WEFT_RELACY_CASE(idle_set, "no lost wake (1 worker, 1 waker)", bound, pass, work_model<1, 1, verified>);
WEFT_RELACY_CASE(idle_set, "no lost wake (1 worker, 2 wakers)", bound, pass, work_model<1, 2, verified>);
WEFT_RELACY_CASE(idle_set, "distinct wakees (2 parked, 2 x wake(1))", random, pass, distinct_model<true, verified>);
WEFT_RELACY_CASE(idle_set, "distinct wakees (2 idle, 2 x wake_one)", full, pass, distinct_model<false, verified>);
WEFT_RELACY_CASE(idle_set, "timeout racing a claim: every claim received", random, pass, timeout_model<1>);
WEFT_RELACY_CASE(idle_set, "timeout racing a claim: every claim received", random, pass, timeout_model<2>);
WEFT_RELACY_CASE(idle_set, "control: announce release (no acquire)", bound, caught, work_model<1, 1, weak_announce_release>);
WEFT_RELACY_CASE(idle_set, "control: announce acquire (no release)", random, caught, work_model<1, 1, weak_announce_acquire>);
WEFT_RELACY_CASE(idle_set, "control: check as seq_cst load", bound, caught, work_model<1, 1, split_check>);
WEFT_RELACY_CASE(idle_set, "control: park without re-check", bound, caught, work_model<1, 1, no_recheck>);
WEFT_RELACY_CASE(idle_set, "control: claim as load + store", full, caught, distinct_model<false, split_claim>);
WEFT_RELACY_CASE(idle_set, "control: claim as load + store (parked)", random, caught, distinct_model<true, split_claim>);
