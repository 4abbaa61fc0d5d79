// Relacy suite for weft::activity_count.
//
// Model: the count starts with two activities, one per worker. Worker 0 also
// begins and ends a nested activity while it still holds its own (the way a
// process spawns a child; left out of the context-bound search, which it
// would make too long). Each worker writes a result (plain<int>) before
// each end(). A third thread waits in wait_idle() and then reads every
// result. With a deadline, the waiter may time out; it reads the results only
// when wait_idle() says idle.
//
// Properties:
//   no lost wake — the infinite waiter returns (Relacy reports a DEADLOCK if
//     it sleeps after the count reached zero with nobody left to notify);
//   the work done before each end() is visible after wait_idle() returns true
//     (plain<>: a data race otherwise), and to the end() that returns true;
//   exactly one end() returns true, and the count ends at zero.
//
// Negative controls (each must be reported):
//   - end_publish weakened to relaxed: the waiter reads a result without
//     synchronizing with its end() (data race);
//   - idle_acquire weakened to relaxed: the same race from the waiter's side;
//   - the waiter's re-check dropped (event_count_site::await_recheck): the
//     last end() lands between the waiter's first check and its
//     prepare_wait(), sees no waiter and does not notify; the waiter commits
//     and sleeps forever (DEADLOCK);
//   - notify_idle dropped: the end() that reaches zero wakes nobody
//     (DEADLOCK).
#include "harness.hpp"
#include "weft/activity_count.hpp"

namespace {

using weft::activity_count_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <bool Nested, bool Timed, class Policy>
struct scope_model : rl::test_suite<scope_model<Nested, Timed, Policy>, 3> {
  weft::activity_count<weft::sync::relacy, Policy> scope;
  plain_int child_result, result[2];
  rl::atomic<int> zero_reports;

  void before() {
    scope.begin(2);
    zero_reports.store(0, rl::mo_relaxed, $);
  }

  void read_all() {
    if (Nested) RL_ASSERT(child_result.read() == 3);
    RL_ASSERT(result[0].read() == 1);
    RL_ASSERT(result[1].read() == 2);
  }

  void end() {
    if (!scope.end()) return;
    zero_reports.fetch_add(1, rl::mo_relaxed, $);
    read_all();
  }

  void thread(unsigned index) {
    if (index == 0) {
      if (Nested) {
        scope.begin();  // a child, begun while this worker still holds its own activity
        child_result.write(3);
        end();
      }
      result[0].write(1);
      end();
    } else if (index == 1) {
      result[1].write(2);
      end();
    } else if (Timed) {
      if (scope.wait_idle(weft::deadline::after(1'000'000))) read_all();
    } else {
      RL_ASSERT(scope.wait_idle());
      read_all();
    }
  }

  void after() {
    RL_ASSERT(scope.idle());
    RL_ASSERT(scope.count_relaxed() == 0);
    RL_ASSERT(zero_reports.load(rl::mo_relaxed, $) == 1);
  }
};

using verified = weft::verified;
using end_relaxed = mutation::weaken<activity_count_site::end_publish, std::memory_order_relaxed>;
using idle_relaxed = mutation::weaken<activity_count_site::idle_acquire, std::memory_order_relaxed>;
using no_recheck = mutation::drop<weft::event_count_site::await_recheck>;
using no_notify = mutation::drop<activity_count_site::notify_idle>;

}  // namespace

WEFT_RELACY_CASE(activity_count, "no lost wake, work visible to wait_idle", random, pass,
                 scope_model<true, false, verified>);
WEFT_RELACY_CASE(activity_count, "no lost wake, work visible to wait_idle", bound, pass,
                 scope_model<false, false, verified>);
WEFT_RELACY_CASE(activity_count, "timed wait_idle: true only when idle", random, pass,
                 scope_model<true, true, verified>);
WEFT_RELACY_CASE(activity_count, "control: end relaxed", random, caught, scope_model<true, false, end_relaxed>);
WEFT_RELACY_CASE(activity_count, "control: idle() relaxed", random, caught, scope_model<true, false, idle_relaxed>);
WEFT_RELACY_CASE(activity_count, "control: waiter without its re-check", random, caught,
                 scope_model<true, false, no_recheck>);
WEFT_RELACY_CASE(activity_count, "control: waiter without its re-check", bound, caught,
                 scope_model<false, false, no_recheck>);
WEFT_RELACY_CASE(activity_count, "control: no notify at zero", random, caught, scope_model<true, false, no_notify>);
