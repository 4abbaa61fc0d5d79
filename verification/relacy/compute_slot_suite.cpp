// Relacy suite for weft::compute_slot.
//
// Every model shares one record (`slot_record`): placements 1..Placements,
// each with its own item whose plain<int> payload the placer sets to the
// epoch before try_place and the releaser tears down to 0 before vacate; a
// plain<int> scratch cell per (placement, thread) that a drainer writes while
// inside; a plain<int> note the external closer writes before close(); and a
// plain<int> released flag. The release step checks and tears down; a drainer
// checks what it joined. The placer, after each successful try_place, reads
// the previous item's payload (torn down by whoever released it).
//
// Properties:
//   exactly one release per placement — released[k] is asserted 0 then set,
//     and after() finds every placement released;
//   release only after every drainer left — a drainer reads its item's
//     payload while inside; a release that ran early tears it down under it
//     (plain<>: a data race, or the payload assertion), and the releaser reads
//     every drainer's scratch (a data race if one is still inside);
//   drainers of placement k+1 never see placement k's item — a drainer asserts
//     entry.item == &items[entry.epoch] and that the payload equals the epoch;
//   epochs 1, 2, ... — the placer asserts each try_place returns k;
//   visibility — placer -> drainers (payload), drainers -> releaser (scratch),
//     closer -> releaser (note), releaser -> next placer (the torn-down
//     payload), all as plain<> accesses that Relacy race-checks.
//
// Models:
//   cycle_model (3 threads, random scheduler): a placer that places 3 items
//     one after another and closes each externally after a yield, and two
//     drainers (a bounded number of rounds) that take two units of work per
//     placement; the drainer that finds the work finished closes it: thread 1
//     with close(epoch) while inside, thread 2 with leave(true). So releases
//     go to the placer, to a leave(false) or to a leave(true), and two
//     drainers are often inside at once.
//   pair_model<DrainerCloses> (2 threads, context-bound search): a
//     placer/closer/releaser over 2 placements and one drainer with 2
//     attempts. With DrainerCloses the drainer leaves with close_if_last;
//     otherwise only the placer closes and the note is checked. (Not full
//     search: the placer's spin-wait for the slot makes the schedule tree
//     explode; even a non-spinning variant took millions of executions.)
//   stale_closer_model (2 threads, full search): thread 1 remembers epoch 1
//     and closes it at a moment the scheduler picks (releasing item 1 if the
//     close says so); thread 0 places 1, closes 1, places 2 and must be the
//     one that closes 2.
//
// Negative controls (each must be reported; what Relacy reported when each
// was checked, in the model named):
//   join_acquire -> relaxed, open_publish -> relaxed: try_enter's read of
//     item_ races with the placer's write (data race) [pair, cycle];
//   open_check dropped: a drainer joins the slot before the first placement
//     (epoch 0 assertion) or while PLACING (payload assertion) [pair];
//   leave_publish -> release or relaxed: the drainer that gets the release
//     reads the closer's note [pair], or the other drainer's scratch [cycle],
//     without having acquired it (data race);
//   leave_publish -> acquire: a closer that gets the release reads the
//     drainer's scratch, which the leave did not publish (data race) [pair];
//   leave_rmw split: the leave's store erases the placer's close, so the
//     placement is never released (after() assertion) [pair]; or erases the
//     other drainer's enter, and the release runs while it is inside (data
//     race on its scratch) [cycle];
//   close_publish -> relaxed: the note is not published to the drainer that
//     gets the release (data race) [pair];
//   close_rmw split: the close's store erases a drainer's enter; the slot is
//     released, vacated and re-placed under it (its read of item_ races with
//     the next placement's write) [pair], or released while it is still
//     inside (data race on its scratch) [cycle];
//   epoch_check dropped: the stale closer closes placement 2 and releases
//     item 1 a second time (assertion) [stale]. The cycle model cannot catch
//     this one: its closers always hold the epoch of a live entry;
//   vacate_publish -> relaxed: the next placer's read of the torn-down
//     payload races with the releaser's write (data race) [pair, cycle];
//   place_acquire -> relaxed: the next placer's write of item_ races with the
//     previous drainer's read of it (data race) [pair].
#include "harness.hpp"

#include "weft/compute_slot.hpp"

namespace {

using weft::compute_slot_site;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;
using plain_int = backend::plain<int>;

struct item {
  plain_int payload;
};

template <unsigned Threads, unsigned Placements, class Policy>
struct slot_record {
  weft::compute_slot<item, backend, Policy> slot;
  item items[Placements + 1];  // items[k] is placed under epoch k; [0] unused
  plain_int scratch[Placements + 1][Threads];
  plain_int note[Placements + 1];
  plain_int released[Placements + 1];
  rl::atomic<int> releases;
  rl::atomic<int> units[Placements + 1];

  void set_up(int units_per_placement) {
    releases.store(0, rl::mo_relaxed, $);
    for (auto& u : units) u.store(units_per_placement, rl::mo_relaxed, $);
  }

  // The placer: sets up item k and places it, spinning while the slot is
  // still held by placement k - 1.
  void place(unsigned k) {
    items[k].payload.write(static_cast<int>(k));
    for (;;) {
      const auto epoch = slot.try_place(&items[k]);
      if (epoch) {
        RL_ASSERT(*epoch == k);
        break;
      }
      rl::yield(1, $);
    }
    if (k > 1) RL_ASSERT(items[k - 1].payload.read() == 0);  // the releaser's teardown
  }

  // A drainer's checks of what it joined, and its own write.
  unsigned drain(const typename weft::compute_slot<item, backend, Policy>::entry& e, unsigned index) {
    RL_ASSERT(e.epoch >= 1 && e.epoch <= Placements);
    const auto k = static_cast<unsigned>(e.epoch);
    RL_ASSERT(e.item == &items[k]);
    RL_ASSERT(e.item->payload.read() == static_cast<int>(k));
    scratch[k][index].write(scratch[k][index].read() + 1);
    return k;
  }

  void release(unsigned k, bool read_note) {
    RL_ASSERT(released[k].read() == 0);
    released[k].write(1);
    for (unsigned t = 0; t < Threads; ++t) static_cast<void>(scratch[k][t].read());
    if (read_note) RL_ASSERT(note[k].read() == 1);
    RL_ASSERT(items[k].payload.read() == static_cast<int>(k));
    items[k].payload.write(0);
    slot.vacate();
    releases.fetch_add(1, rl::mo_relaxed, $);
  }

  void check_all_released() {
    for (unsigned k = 1; k <= Placements; ++k) RL_ASSERT(released[k].read() == 1);
    RL_ASSERT(!slot.occupied_relaxed());
    RL_ASSERT(slot.epoch_relaxed() == Placements);
  }
};

template <unsigned Placements, int Units, int Rounds, class Policy>
struct cycle_model : rl::test_suite<cycle_model<Placements, Units, Rounds, Policy>, 3> {
  static constexpr unsigned placements = Placements;
  slot_record<3, placements, Policy> record;

  void before() { record.set_up(Units); }

  void thread(unsigned index) {
    auto& slot = record.slot;
    if (index == 0) {
      for (unsigned k = 1; k <= placements; ++k) {
        record.place(k);
        rl::yield(1, $);
        if (slot.close(k).release) record.release(k, false);
      }
      return;
    }
    for (int round = 0; round < Rounds; ++round) {
      if (record.releases.load(rl::mo_relaxed, $) == static_cast<int>(placements)) return;
      const auto e = slot.try_enter();
      if (!e) {
        rl::yield(1, $);
        continue;
      }
      const unsigned k = record.drain(*e, index);
      const bool finished = record.units[k].fetch_sub(1, rl::mo_relaxed, $) <= 1;
      if (finished && index == 1) RL_ASSERT(!slot.close(e->epoch).release);  // inside: its leave decides
      if (slot.leave(finished && index == 2)) record.release(k, false);
    }
  }

  void after() { record.check_all_released(); }
};

template <bool DrainerCloses, class Policy>
struct pair_model : rl::test_suite<pair_model<DrainerCloses, Policy>, 2> {
  static constexpr unsigned placements = 2;
  slot_record<2, placements, Policy> record;

  void before() { record.set_up(1); }

  void thread(unsigned index) {
    auto& slot = record.slot;
    if (index == 0) {
      for (unsigned k = 1; k <= placements; ++k) {
        record.place(k);
        if (!DrainerCloses) record.note[k].write(1);
        const auto c = slot.close(k);
        if (!DrainerCloses) RL_ASSERT(c.closed);
        if (c.release) record.release(k, !DrainerCloses);
      }
      return;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      const auto e = slot.try_enter();
      if (!e) continue;
      const unsigned k = record.drain(*e, 1);
      if (slot.leave(DrainerCloses)) record.release(k, !DrainerCloses);
    }
  }

  void after() { record.check_all_released(); }
};

template <class Policy>
struct stale_closer_model : rl::test_suite<stale_closer_model<Policy>, 2> {
  slot_record<2, 2, Policy> record;

  void before() { record.set_up(1); }

  void thread(unsigned index) {
    auto& slot = record.slot;
    if (index == 1) {
      if (slot.close(1).release) record.release(1, false);
      return;
    }
    record.place(1);
    if (slot.close(1).release) record.release(1, false);
    record.place(2);
    const auto c = slot.close(2);
    RL_ASSERT(c.closed);  // nobody else holds epoch 2
    RL_ASSERT(c.release);
    record.release(2, false);
  }

  void after() { record.check_all_released(); }
};

using verified = weft::verified;
template <compute_slot_site Site>
using relaxed_at = mutation::weaken<Site, std::memory_order_relaxed>;
using join_relaxed = relaxed_at<compute_slot_site::join_acquire>;
using open_relaxed = relaxed_at<compute_slot_site::open_publish>;
using no_open_check = mutation::drop<compute_slot_site::open_check>;
using leave_release_only = mutation::weaken<compute_slot_site::leave_publish, std::memory_order_release>;
using leave_acquire_only = mutation::weaken<compute_slot_site::leave_publish, std::memory_order_acquire>;
using leave_relaxed = relaxed_at<compute_slot_site::leave_publish>;
using split_leave = mutation::split_rmw<compute_slot_site::leave_rmw>;
using close_relaxed = relaxed_at<compute_slot_site::close_publish>;
using split_close = mutation::split_rmw<compute_slot_site::close_rmw>;
using no_epoch_check = mutation::drop<compute_slot_site::epoch_check>;
using vacate_relaxed = relaxed_at<compute_slot_site::vacate_publish>;
using place_relaxed = relaxed_at<compute_slot_site::place_acquire>;

}  // namespace

// Properties of the real primitive.
WEFT_RELACY_CASE(compute_slot, "one release per placement, after the last leave; no stale item", random, pass,
                 cycle_model<3, 2, 8, verified>);
WEFT_RELACY_CASE(compute_slot, "place/close/release cycle, external closer", bound, pass, pair_model<false, verified>);
WEFT_RELACY_CASE(compute_slot, "place/close/release cycle, close_if_last", bound, pass, pair_model<true, verified>);
WEFT_RELACY_CASE(compute_slot, "stale close changes nothing", full, pass, stale_closer_model<verified>);

// Negative controls: each in the 2-thread search, and the drainer-side ones
// also with two drainers inside at once.
WEFT_RELACY_CASE(compute_slot, "control: join without acquire", bound, caught, pair_model<false, join_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: join without acquire", random, caught, cycle_model<3, 2, 8, join_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: OPEN published relaxed", bound, caught, pair_model<false, open_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: enter without OPEN check", bound, caught, pair_model<false, no_open_check>);
WEFT_RELACY_CASE(compute_slot, "control: leave release only", bound, caught, pair_model<false, leave_release_only>);
WEFT_RELACY_CASE(compute_slot, "control: leave release only", random, caught,
                 cycle_model<3, 2, 8, leave_release_only>);
WEFT_RELACY_CASE(compute_slot, "control: leave acquire only", bound, caught, pair_model<false, leave_acquire_only>);
WEFT_RELACY_CASE(compute_slot, "control: leave relaxed", bound, caught, pair_model<false, leave_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: leave as load + store", bound, caught, pair_model<false, split_leave>);
WEFT_RELACY_CASE(compute_slot, "control: leave as load + store", random, caught, cycle_model<3, 2, 8, split_leave>);
WEFT_RELACY_CASE(compute_slot, "control: close relaxed", bound, caught, pair_model<false, close_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: close as load + store", bound, caught, pair_model<false, split_close>);
WEFT_RELACY_CASE(compute_slot, "control: close as load + store", random, caught, cycle_model<3, 2, 8, split_close>);
WEFT_RELACY_CASE(compute_slot, "control: no epoch check in close", full, caught, stale_closer_model<no_epoch_check>);
WEFT_RELACY_CASE(compute_slot, "control: vacate relaxed", bound, caught, pair_model<false, vacate_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: vacate relaxed", random, caught, cycle_model<3, 2, 8, vacate_relaxed>);
WEFT_RELACY_CASE(compute_slot, "control: place without acquire", bound, caught, pair_model<false, place_relaxed>);
