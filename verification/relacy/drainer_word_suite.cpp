// Relacy suite for weft::drainer_word.
//
// Model: a slot that holds `Items` work items one after another, starting at
// generation 0xFFFFFFFF so that the first recycle wraps it to 0. Each item has
// `Units` units of work (an atomic counter) and a plain<int> resource that is
// 1 while the item is alive. Workers, for a bounded number of rounds: read the
// generation, enter, check the resource is alive, take a unit (writing a
// plain<int> scratch cell of their own), close the item if no work is left
// (every such drainer tries; one is the completer), leave, and, if leave()
// says so, release: check completion happened, read every drainer's scratch,
// free the resource (write 0), set up the next item and recycle.
//
// Properties:
//   exactly-once completion — a completion flag written once per item;
//   exactly-once release — a release flag written once per item, and after()
//     finds every item completed and released;
//   release after the last drainer left — a drainer checks the resource is
//     alive while inside; a release that ran early would free it under it
//     (plain<>: a data race, or the assertion);
//   stale generation cannot enter — a worker that read the generation of a
//     released item and enters would find that item's resource freed;
//   visibility — the releaser reads every drainer's scratch and the
//     completer's flag; drainers of a new item read the resource the releaser
//     set up before recycle().
//
// Negative controls (each must be reported):
//   - generation_check dropped: a stale worker enters the next item while
//     believing it is in the released one (assertion on the freed resource);
//   - leave_rmw split: two leavers store the same decremented count (the item
//     is never released), or a leave overwrites a concurrent enter or close
//     and the item is released with a drainer inside or released twice
//     (reported as a data race on the freed resource or an assertion);
//   - close_rmw split: a drainer's enter or leave between the closer's load
//     and store is lost, so the count is wrong at release (same reports);
//   - leave_publish weakened to release: the last leaver runs the release
//     without acquiring the other drainers' scratch (data race); weakened to
//     acquire: drainers do not publish their scratch (data race);
//   - close_publish weakened to relaxed or to release: with an external
//     closer (one that never entered), the completion flag is not published
//     to the last leaver, or the closer that gets the release does not
//     acquire the drainer's writes (data race);
//   - enter_acquire weakened to relaxed: a drainer of the next item reads
//     its resource without synchronizing with the recycle (data race).
#include "harness.hpp"

#include "weft/drainer_word.hpp"

namespace {

using weft::drainer_word_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

constexpr std::uint32_t first_generation = 0xFFFFFFFFu;

// The per-item state and the drain/complete/release steps shared by both
// models. `Item` counts and `Threads` scratch cells are fixed arrays: no
// allocation inside a simulation.
template <unsigned Threads, unsigned Items, unsigned Units, class Policy>
struct slot_state {
  weft::drainer_word<weft::sync::relacy, Policy> word{first_generation};
  rl::atomic<int> units[Items];
  plain_int resource[Items];
  plain_int scratch[Items][Threads];
  plain_int completed[Items];
  plain_int released[Items];
  rl::atomic<int> finished;

  void set_up() {
    for (unsigned i = 0; i < Items; ++i) units[i].store(static_cast<int>(Units), rl::mo_relaxed, $);
    finished.store(0, rl::mo_relaxed, $);
    resource[0].write(1);
  }

  // One pass of a worker; false if it could not enter.
  bool drain_once(unsigned index, std::uint32_t generation) {
    if (!word.enter(generation)) return false;
    const unsigned item = generation - first_generation;
    RL_ASSERT(item < Items);
    RL_ASSERT(resource[item].read() == 1);
    const int left = units[item].fetch_sub(1, rl::mo_relaxed, $);
    if (left > 0) scratch[item][index].write(scratch[item][index].read() + 1);
    if (left <= 1) {
      const auto c = word.close(generation);
      if (c.completer) {
        RL_ASSERT(completed[item].read() == 0);
        completed[item].write(1);
      }
      RL_ASSERT(!c.release);  // the closer is inside: its leave decides
    }
    RL_ASSERT(resource[item].read() == 1);
    if (word.leave()) release(item, generation);
    return true;
  }

  void release(unsigned item, std::uint32_t generation) {
    RL_ASSERT(completed[item].read() == 1);
    RL_ASSERT(released[item].read() == 0);
    released[item].write(1);
    int work = 0;
    for (unsigned t = 0; t < Threads; ++t) work += scratch[item][t].read();
    RL_ASSERT(work == static_cast<int>(Units));
    resource[item].write(0);
    if (item + 1 < Items) {
      resource[item + 1].write(1);
      word.recycle(generation + 1);
    }
    finished.fetch_add(1, rl::mo_relaxed, $);
  }
};

template <unsigned Threads, unsigned Items, unsigned Units, class Policy>
struct slot_model : rl::test_suite<slot_model<Threads, Items, Units, Policy>, Threads> {
  static constexpr int rounds = static_cast<int>(2 * Items * (Units + 2) + 4);
  slot_state<Threads, Items, Units, Policy> slot;

  void before() { slot.set_up(); }

  void thread(unsigned index) {
    for (int round = 0; round < rounds; ++round) {
      if (slot.finished.load(rl::mo_relaxed, $) == static_cast<int>(Items)) return;
      if (!slot.drain_once(index, slot.word.generation())) rl::yield(1, $);
    }
  }

  void after() {
    for (unsigned i = 0; i < Items; ++i) {
      RL_ASSERT(slot.completed[i].read() == 1);
      RL_ASSERT(slot.released[i].read() == 1);
    }
  }
};

// For exhaustive search: two workers, two items of one unit, two attempts
// each and no round loop. Every drainer leaves within its attempt, so at the
// end an item is released exactly when it was completed; item 0 always is.
template <class Policy>
struct two_attempts_model : rl::test_suite<two_attempts_model<Policy>, 2> {
  slot_state<2, 2, 1, Policy> slot;

  void before() { slot.set_up(); }

  void thread(unsigned index) {
    for (int attempt = 0; attempt < 2; ++attempt) slot.drain_once(index, slot.word.generation());
  }

  void after() {
    RL_ASSERT(slot.completed[0].read() == 1);
    for (unsigned i = 0; i < 2; ++i) RL_ASSERT(slot.released[i].read() == slot.completed[i].read());
  }
};

// A worker that read generation 0xFFFFFFFF before anything ran, and tries to
// enter at a moment the scheduler picks; thread 0 drains item 0, releases and
// recycles it, then drains item 1. The stale worker may enter only item 0.
template <class Policy>
struct stale_worker_model : rl::test_suite<stale_worker_model<Policy>, 2> {
  slot_state<2, 2, 1, Policy> slot;

  void before() { slot.set_up(); }

  void thread(unsigned index) {
    if (index == 0) {
      for (int attempt = 0; attempt < 3; ++attempt) {
        if (!slot.drain_once(0, slot.word.generation())) rl::yield(1, $);
      }
      return;
    }
    rl::yield(1, $);
    slot.drain_once(1, first_generation);
  }

  void after() {
    RL_ASSERT(slot.completed[0].read() == 1);
    for (unsigned i = 0; i < 2; ++i) RL_ASSERT(slot.released[i].read() == slot.completed[i].read());
  }
};

// A completer that never enters (a canceller) closes while one drainer may
// be inside. Here close() carries the ordering alone: if the drainer already
// left, the closer gets the release and must acquire the drainer's scratch;
// if the drainer is still inside, its leave() gets the release and must
// acquire the closer's completion flag. (In the other models every closer is
// a drainer whose own acq_rel leave() follows its close, which hides a
// weakened close: that is why the close control uses this model.)
template <class Policy>
struct external_closer_model : rl::test_suite<external_closer_model<Policy>, 2> {
  weft::drainer_word<weft::sync::relacy, Policy> word{first_generation};
  plain_int scratch;
  plain_int completed;
  plain_int released;

  void release() {
    RL_ASSERT(completed.read() == 1);
    static_cast<void>(scratch.read());  // the drainer's write, if it entered
    released.write(released.read() + 1);
  }

  void thread(unsigned index) {
    if (index == 0) {
      if (!word.enter(first_generation)) return;
      scratch.write(1);
      if (word.leave()) release();
      return;
    }
    completed.write(1);
    const auto c = word.close(first_generation);
    RL_ASSERT(c.completer);
    if (c.release) release();
  }

  void after() { RL_ASSERT(released.read() == 1); }
};

using verified = weft::verified;
using no_generation_check = mutation::drop<drainer_word_site::generation_check>;
using split_leave = mutation::split_rmw<drainer_word_site::leave_rmw>;
using split_close = mutation::split_rmw<drainer_word_site::close_rmw>;
using leave_release_only = mutation::weaken<drainer_word_site::leave_publish, std::memory_order_release>;
using leave_acquire_only = mutation::weaken<drainer_word_site::leave_publish, std::memory_order_acquire>;
using close_relaxed = mutation::weaken<drainer_word_site::close_publish, std::memory_order_relaxed>;
using close_release_only = mutation::weaken<drainer_word_site::close_publish, std::memory_order_release>;
using enter_relaxed = mutation::weaken<drainer_word_site::enter_acquire, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(drainer_word, "once completion, once release, release after last leave", random, pass,
                 slot_model<3, 3, 2, verified>);
WEFT_RELACY_CASE(drainer_word, "once completion, once release, release after last leave", bound, pass,
                 two_attempts_model<verified>);
WEFT_RELACY_CASE(drainer_word, "stale generation cannot enter", bound, pass, stale_worker_model<verified>);
WEFT_RELACY_CASE(drainer_word, "control: no generation check", bound, caught, stale_worker_model<no_generation_check>);
WEFT_RELACY_CASE(drainer_word, "control: no generation check", random, caught,
                 slot_model<3, 3, 2, no_generation_check>);
WEFT_RELACY_CASE(drainer_word, "control: leave as load + store", random, caught, slot_model<3, 2, 2, split_leave>);
WEFT_RELACY_CASE(drainer_word, "control: close as load + store", random, caught, slot_model<3, 2, 2, split_close>);
WEFT_RELACY_CASE(drainer_word, "control: leave release only", bound, caught, two_attempts_model<leave_release_only>);
WEFT_RELACY_CASE(drainer_word, "control: leave acquire only", bound, caught, two_attempts_model<leave_acquire_only>);
WEFT_RELACY_CASE(drainer_word, "external closer: once release, visibility", full, pass,
                 external_closer_model<verified>);
WEFT_RELACY_CASE(drainer_word, "control: close without acq_rel", full, caught, external_closer_model<close_relaxed>);
WEFT_RELACY_CASE(drainer_word, "control: close release only", full, caught, external_closer_model<close_release_only>);
WEFT_RELACY_CASE(drainer_word, "control: enter without acquire", bound, caught, two_attempts_model<enter_relaxed>);
