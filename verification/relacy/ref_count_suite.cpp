// Relacy suite for weft::ref_count.
//
// Models:
//   holders — `Threads` threads each hold one reference (the count starts at
//     Threads); each writes its own plain<int> cell and releases. The thread
//     whose release() returns true reads every cell and "destroys" the object
//     (a plain<int> destroy counter).
//   weak — thread 0 holds the only reference; threads 1 and 2 try_acquire()
//     it (a pool lookup), and if they get it, check it is alive, write their
//     cell and release. Whoever releases last checks every cell written by a
//     holder and marks the object dead. A try_acquire after that must fail.
//   recycle — see recycle_model below.
//
// Properties:
//   exactly-once release — the destroy counter is 1 at the end;
//   writes before every release visible to the destroyer — the destroyer's
//     plain reads of the cells (data race otherwise);
//   no revival — a successful try_acquire sees the object alive (assertion;
//     a revival after the destroy would also race with its plain write).
//
// Negative controls (each must be reported):
//   - release_publish weakened to relaxed: holders' cell writes are not
//     released to the destroyer (data race);
//   - last_acquire weakened to relaxed: the destroyer does not acquire them
//     (data race);
//   - try_acquire weakened to relaxed: a lookup of a recycled object reads
//     the payload without synchronizing with the reset() that published it
//     (data race; the recycle model);
//   - release_rmw split into a load and a store: two releases that read the
//     same count both store count - 1 and nobody reaches zero (no destroy).
//     The holders model keeps try_acquire out of this control: a revived
//     count would reach a release at zero, a contract check, not the
//     atomicity bug the control is about.
#include "harness.hpp"

#include "weft/ref_count.hpp"

namespace {

using weft::ref_count_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <unsigned Threads, class Policy>
struct holders_model : rl::test_suite<holders_model<Threads, Policy>, Threads> {
  weft::ref_count<weft::sync::relacy, Policy> refs{Threads};
  plain_int cell[Threads];
  plain_int destroyed;

  void thread(unsigned index) {
    cell[index].write(static_cast<int>(index) + 1);
    if (refs.release()) {
      for (unsigned t = 0; t < Threads; ++t) RL_ASSERT(cell[t].read() == static_cast<int>(t) + 1);
      destroyed.write(destroyed.read() + 1);
    }
  }

  void after() { RL_ASSERT(destroyed.read() == 1); }
};

template <class Policy>
struct weak_model : rl::test_suite<weak_model<Policy>, 3> {
  weft::ref_count<weft::sync::relacy, Policy> refs{1};
  plain_int alive;
  plain_int cell[3];
  rl::atomic<int> held[3];  // which threads got a reference (for the destroyer's check)
  plain_int destroyed;

  void before() {
    alive.write(1);
    for (auto& h : held) h.store(0, rl::mo_relaxed, $);
  }

  void destroy() {
    RL_ASSERT(alive.read() == 1);
    for (unsigned t = 0; t < 3; ++t) {
      if (held[t].load(rl::mo_relaxed, $) != 0) RL_ASSERT(cell[t].read() == static_cast<int>(t) + 1);
    }
    alive.write(0);
    destroyed.write(destroyed.read() + 1);
  }

  void thread(unsigned index) {
    if (index != 0) {
      if (!refs.try_acquire()) return;
      RL_ASSERT(alive.read() == 1);
    }
    held[index].store(1, rl::mo_relaxed, $);
    cell[index].write(static_cast<int>(index) + 1);
    if (refs.release()) destroy();
  }

  void after() {
    RL_ASSERT(destroyed.read() == 1);
    RL_ASSERT(!refs.try_acquire());
  }
};

// A pool recycles an object: it writes the payload and brings the count from
// 0 to 1 with reset() (the pool's own reference), then drops that reference.
// A lookup that try_acquire()s meanwhile reads the payload: its CAS must
// acquire what reset() released.
template <class Policy>
struct recycle_model : rl::test_suite<recycle_model<Policy>, 2> {
  weft::ref_count<weft::sync::relacy, Policy> refs{0};
  plain_int payload;
  plain_int destroyed;

  void destroy() {
    RL_ASSERT(payload.read() == 1);
    payload.write(0);
    destroyed.write(destroyed.read() + 1);
  }

  void thread(unsigned index) {
    if (index == 0) {
      payload.write(1);
      refs.reset(1);
      if (refs.release()) destroy();
      return;
    }
    if (!refs.try_acquire()) return;
    RL_ASSERT(payload.read() == 1);
    if (refs.release()) destroy();
  }

  void after() { RL_ASSERT(destroyed.read() == 1); }
};

using verified = weft::verified;
using release_relaxed = mutation::weaken<ref_count_site::release_publish, std::memory_order_relaxed>;
using last_relaxed = mutation::weaken<ref_count_site::last_acquire, std::memory_order_relaxed>;
using try_relaxed = mutation::weaken<ref_count_site::try_acquire, std::memory_order_relaxed>;
using split_release = mutation::split_rmw<ref_count_site::release_rmw>;

}  // namespace

WEFT_RELACY_CASE(ref_count, "once release, holders' writes visible", random, pass, holders_model<3, verified>);
WEFT_RELACY_CASE(ref_count, "once release, holders' writes visible", full, pass, holders_model<2, verified>);
WEFT_RELACY_CASE(ref_count, "once release, no revival by try_acquire", random, pass, weak_model<verified>);
WEFT_RELACY_CASE(ref_count, "once release, no revival by try_acquire", bound, pass, weak_model<verified>);
WEFT_RELACY_CASE(ref_count, "control: release fetch_sub relaxed", full, caught, holders_model<2, release_relaxed>);
WEFT_RELACY_CASE(ref_count, "control: release fetch_sub relaxed", random, caught, weak_model<release_relaxed>);
WEFT_RELACY_CASE(ref_count, "control: last drop without acquire", full, caught, holders_model<2, last_relaxed>);
WEFT_RELACY_CASE(ref_count, "control: release as load + store", random, caught, holders_model<3, split_release>);
WEFT_RELACY_CASE(ref_count, "control: release as load + store", full, caught, holders_model<2, split_release>);
WEFT_RELACY_CASE(ref_count, "recycled object: try_acquire sees the payload", full, pass, recycle_model<verified>);
WEFT_RELACY_CASE(ref_count, "control: try_acquire without acquire", full, caught, recycle_model<try_relaxed>);
