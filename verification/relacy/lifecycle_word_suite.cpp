// Relacy suite for weft::lifecycle_word.
//
// Models:
//   wake_cancel_model — a process suspended on `Wakers` dependencies; each
//     waker writes its dependency's output (a plain<int>) and wakes it. The
//     waker that activates it reads every output, "drains" it and resolves.
//     With a canceller: it writes a cancel reason and cancels; a cancel that
//     finds the process suspended runs the resolution inline.
//   resolve_race_model — a runnable process. The drainer writes its output and
//     resolves; a canceller writes a reason and cancels; a second holder waits
//     (bounded) for is_terminal(), reads the output if it sees COMPLETED, and
//     also tries to resolve. Whoever wins the resolution reads the reason if
//     the final state is CANCELLED.
//   finish_model — finish() (COMPLETED without claiming the resolution)
//     racing a cancel and a holder's resolve(); see below.
//
// Properties:
//   exactly one of {activation, inline cancel resolution}, and never an
//     activation after a cancel that found the process suspended;
//   every wake is recorded (the count ends at zero);
//   exactly one resolution among the concurrent resolve() calls and cancel;
//   visibility — the activator reads the wakers' outputs, the resolver reads
//     the canceller's reason, a thread that sees COMPLETED reads the drainer's
//     output (each a plain<>: a data race otherwise).
//
// Negative controls (each must be reported):
//   - wake_publish weakened to relaxed / release / acquire: the activator
//     reads a waker's output without synchronizing with it (data race);
//   - wake_rmw split: two wakers store the same decremented count, so the
//     count never reaches zero (the "every wake recorded" assertion);
//   - cancel_rmw split: the canceller loads SUSPENDED and its store overwrites
//     the wakes in between: if the last one activated the process, an
//     activation and an inline resolution both happen; otherwise their
//     decrements are lost and the count never reaches zero (assertions);
//   - resolution_claim dropped: the second holder resolves a process the
//     drainer already completed (two resolutions, assertion);
//   - resolve_rmw split: a resolve that loaded RUNNABLE stores COMPLETED +
//     RESOLVED over a cancel and another holder's resolution of it (two
//     resolutions, assertion);
//   - resolve_publish weakened to relaxed: the drainer's resolve after a
//     cancel does not acquire the reason (data race);
//   - cancel_publish weakened to relaxed: the reason is not released to the
//     resolver (data race);
//   - state_acquire weakened to relaxed: the holder that sees COMPLETED reads
//     the output without synchronizing with the drainer (data race);
//   - resolve_publish (which finish() shares) weakened to relaxed in the
//     finish model: the error recorded before finish() is not published to
//     the holder that resolves (data race).
#include "harness.hpp"
#include "weft/lifecycle_word.hpp"

namespace {

using weft::lifecycle;
using weft::lifecycle_word_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

constexpr int reason_code = 7;

template <unsigned Wakers, bool Canceller, class Policy>
struct wake_cancel_model : rl::test_suite<wake_cancel_model<Wakers, Canceller, Policy>, Wakers + (Canceller ? 1 : 0)> {
  weft::lifecycle_word<weft::sync::relacy, Policy> word{Wakers};
  plain_int output[Wakers];  // each dependency's output, read by the activated process
  plain_int reason;          // the canceller's
  rl::atomic<int> activations, inline_resolutions, resolutions;

  void before() {
    activations.store(0, rl::mo_relaxed, $);
    inline_resolutions.store(0, rl::mo_relaxed, $);
    resolutions.store(0, rl::mo_relaxed, $);
  }

  void thread(unsigned index) {
    if (index == Wakers) {
      reason.write(reason_code);
      if (word.cancel() == lifecycle::suspended) inline_resolutions.fetch_add(1, rl::mo_relaxed, $);
      return;
    }
    output[index].write(static_cast<int>(index) + 1);
    if (!word.wake()) return;
    activations.fetch_add(1, rl::mo_relaxed, $);
    for (unsigned w = 0; w < Wakers; ++w) RL_ASSERT(output[w].read() == static_cast<int>(w) + 1);
    if (word.resolve()) {
      resolutions.fetch_add(1, rl::mo_relaxed, $);
      if (word.state() == lifecycle::cancelled) RL_ASSERT(reason.read() == reason_code);
    }
  }

  void after() {
    const int activated = activations.load(rl::mo_relaxed, $);
    const int cancelled_inline = inline_resolutions.load(rl::mo_relaxed, $);
    RL_ASSERT(activated + cancelled_inline == 1);
    RL_ASSERT(word.suspend_count_relaxed() == 0);  // every wake recorded
    RL_ASSERT(resolutions.load(rl::mo_relaxed, $) == activated);
    RL_ASSERT(word.resolved_relaxed());
  }
};

template <class Policy>
struct resolve_race_model : rl::test_suite<resolve_race_model<Policy>, 3> {
  weft::lifecycle_word<weft::sync::relacy, Policy> word{0};
  plain_int output;  // the drainer's work
  plain_int reason;  // the canceller's
  rl::atomic<int> resolutions;

  void before() { resolutions.store(0, rl::mo_relaxed, $); }

  void resolve_and_check() {
    if (!word.resolve()) return;
    resolutions.fetch_add(1, rl::mo_relaxed, $);
    if (word.state() == lifecycle::cancelled) RL_ASSERT(reason.read() == reason_code);
  }

  void thread(unsigned index) {
    if (index == 0) {  // the drainer
      output.write(1);
      resolve_and_check();
    } else if (index == 1) {  // the canceller
      reason.write(reason_code);
      const lifecycle found = word.cancel();
      RL_ASSERT(found != lifecycle::suspended);
    } else {  // a second holder, allowed to resolve once it sees the process terminal
      for (int attempt = 0; attempt < 3 && !word.is_terminal(); ++attempt) rl::yield(1, $);
      if (!word.is_terminal()) return;
      if (word.state() == lifecycle::completed) RL_ASSERT(output.read() == 1);
      resolve_and_check();
    }
  }

  void after() {
    RL_ASSERT(resolutions.load(rl::mo_relaxed, $) == 1);
    RL_ASSERT(word.is_terminal());
  }
};

// finish(): a drainer that hit a fatal error records it and marks the
// process COMPLETED without resolving it; a second holder waits for the
// terminal state and resolves, reading the error if it sees COMPLETED; a
// canceller races both. Exactly one resolution; the error is visible.
template <class Policy>
struct finish_model : rl::test_suite<finish_model<Policy>, 3> {
  weft::lifecycle_word<weft::sync::relacy, Policy> word{0};
  plain_int error;
  rl::atomic<int> resolutions, finished;

  void before() {
    resolutions.store(0, rl::mo_relaxed, $);
    finished.store(0, rl::mo_relaxed, $);
  }

  void thread(unsigned index) {
    if (index == 0) {
      error.write(5);
      if (word.finish()) finished.fetch_add(1, rl::mo_relaxed, $);
    } else if (index == 1) {
      RL_ASSERT(word.cancel() != lifecycle::suspended);
    } else {
      while (!word.is_terminal()) rl::yield(1, $);  // finish or cancel always makes it terminal
      if (!word.resolve()) return;
      resolutions.fetch_add(1, rl::mo_relaxed, $);
      if (word.state() == lifecycle::completed) RL_ASSERT(error.read() == 5);
    }
  }

  void after() {
    RL_ASSERT(resolutions.load(rl::mo_relaxed, $) == 1);
    RL_ASSERT((finished.load(rl::mo_relaxed, $) == 1) == (word.state() == lifecycle::completed));
  }
};

using verified = weft::verified;
using wake_relaxed = mutation::weaken<lifecycle_word_site::wake_publish, std::memory_order_relaxed>;
using wake_release_only = mutation::weaken<lifecycle_word_site::wake_publish, std::memory_order_release>;
using wake_acquire_only = mutation::weaken<lifecycle_word_site::wake_publish, std::memory_order_acquire>;
using split_wake = mutation::split_rmw<lifecycle_word_site::wake_rmw>;
using split_cancel = mutation::split_rmw<lifecycle_word_site::cancel_rmw>;
using no_claim = mutation::drop<lifecycle_word_site::resolution_claim>;
using split_resolve = mutation::split_rmw<lifecycle_word_site::resolve_rmw>;
using resolve_relaxed = mutation::weaken<lifecycle_word_site::resolve_publish, std::memory_order_relaxed>;
using cancel_relaxed = mutation::weaken<lifecycle_word_site::cancel_publish, std::memory_order_relaxed>;
using state_relaxed = mutation::weaken<lifecycle_word_site::state_acquire, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(lifecycle_word, "wakes + cancel: one outcome, inputs visible", random, pass,
                 wake_cancel_model<3, true, verified>);
WEFT_RELACY_CASE(lifecycle_word, "wakes + cancel: one outcome, inputs visible", bound, pass,
                 wake_cancel_model<2, true, verified>);
WEFT_RELACY_CASE(lifecycle_word, "3 wakes: exactly one activation", random, pass,
                 wake_cancel_model<3, false, verified>);
WEFT_RELACY_CASE(lifecycle_word, "resolve x2 + cancel: one resolution", random, pass, resolve_race_model<verified>);
WEFT_RELACY_CASE(lifecycle_word, "resolve x2 + cancel: one resolution", bound, pass, resolve_race_model<verified>);
WEFT_RELACY_CASE(lifecycle_word, "control: wake relaxed", random, caught, wake_cancel_model<3, true, wake_relaxed>);
WEFT_RELACY_CASE(lifecycle_word, "control: wake release only", random, caught,
                 wake_cancel_model<3, false, wake_release_only>);
WEFT_RELACY_CASE(lifecycle_word, "control: wake acquire only", random, caught,
                 wake_cancel_model<3, false, wake_acquire_only>);
WEFT_RELACY_CASE(lifecycle_word, "control: wake as load + store", random, caught,
                 wake_cancel_model<3, true, split_wake>);
WEFT_RELACY_CASE(lifecycle_word, "control: cancel as load + store", random, caught,
                 wake_cancel_model<3, true, split_cancel>);
WEFT_RELACY_CASE(lifecycle_word, "control: resolve without its claim", random, caught, resolve_race_model<no_claim>);
WEFT_RELACY_CASE(lifecycle_word, "control: resolve as load + store", random, caught, resolve_race_model<split_resolve>);
WEFT_RELACY_CASE(lifecycle_word, "control: resolve relaxed", random, caught, resolve_race_model<resolve_relaxed>);
WEFT_RELACY_CASE(lifecycle_word, "control: cancel relaxed", random, caught, resolve_race_model<cancel_relaxed>);
WEFT_RELACY_CASE(lifecycle_word, "control: state() relaxed", random, caught, resolve_race_model<state_relaxed>);
WEFT_RELACY_CASE(lifecycle_word, "finish + cancel + resolve: one resolution", random, pass, finish_model<verified>);
WEFT_RELACY_CASE(lifecycle_word, "finish + cancel + resolve: one resolution", bound, pass, finish_model<verified>);
WEFT_RELACY_CASE(lifecycle_word, "control: finish relaxed", random, caught, finish_model<resolve_relaxed>);
