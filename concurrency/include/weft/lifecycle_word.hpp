// weft::lifecycle_word — a process's forward-only lifecycle, its suspend count
// and its one-time resolution, in one 32-bit word.
//
// A process starts SUSPENDED on N unresolved dependencies (or RUNNABLE when
// N == 0). Each dependency that resolves wakes it once; the wake that takes the
// count to zero makes it RUNNABLE and that waker schedules it. A drainer that
// finishes the work resolves it (COMPLETED). Any thread may cancel it. Whatever
// happens, exactly one thread *resolves* the process: runs its completion
// callback and wakes its dependents.
//
//   // a dependency resolved (any thread):
//   if (word.wake()) schedule(process);
//   // the drainer, when the work is done or when it finds is_terminal():
//   if (word.resolve()) finish(process, word.state());   // completed or cancelled
//   // a canceller (any thread):
//   if (word.cancel() == weft::lifecycle::suspended) finish(process, weft::lifecycle::cancelled);
//   // (found runnable: whoever holds or drains it resolves it; found terminal: nothing to do)
//
// The state only moves forward: SUSPENDED -> RUNNABLE -> COMPLETED, and
// SUSPENDED or RUNNABLE -> CANCELLED.
//
// Guarantees:
//   - wake() returns true to exactly one caller, the one whose decrement took
//     a SUSPENDED word's count to zero; never after a cancel() that found it
//     SUSPENDED (that cancel and the activation are the same word's two
//     mutually exclusive moves out of SUSPENDED);
//   - over the word's life exactly one of {a resolve() returning true, a
//     cancel() returning suspended} happens, provided someone resolves a
//     process that was activated or found runnable by a cancel;
//   - visibility: everything each waker wrote before wake() happens-before the
//     return of the wake() that activates, and of a cancel() that finds the
//     word SUSPENDED after that waker's wake; everything a drainer wrote before
//     the resolve() that completes the word happens-before any state(),
//     is_terminal() or cancel() that sees it COMPLETED; everything a canceller
//     wrote before cancel() happens-before the resolve() that wins after it;
//   - finish() moves RUNNABLE -> COMPLETED without claiming the resolution
//     (a drainer that hit an error stops everyone; one resolve() still wins),
//     and what its caller wrote before it (the recorded error) happens-before
//     that resolve() and anything that sees the word COMPLETED.
//
// Who may call what:
//   wake: any thread, at most once per dependency (a wake past the count is a
//     caller bug: S::check, and the word is left unchanged).
//   cancel: any thread, any number of times.
//   resolve: a thread allowed to finish the process: its drainer when the work
//     is done, or a holder that saw is_terminal(). Resolving a SUSPENDED word
//     is a caller bug (S::check).
//   finish: a drainer of a RUNNABLE process (a no-op on a SUSPENDED or
//     terminal word).
//   state, is_terminal, *_relaxed: any thread.
//
// Progress: wake, cancel and resolve are lock-free (CAS loops that retry only
// when another thread changed the word); the readers are wait-free.
//
// Memory orders. After construction the word only changes through successful
// CASes, each with release semantics, so every change heads a release sequence
// that runs through every later change; an acquire that reads the word
// synchronizes with every earlier writer, not only the last one.
//   wake:    acq_rel CAS. release: the waker's writes (the output of the
//            dependency it resolves) go to the activator; acquire: the
//            activator sees every earlier waker's writes. Closes the race
//            between the process reading its inputs and a producer writing
//            them.
//   cancel:  acq_rel CAS. release: the canceller's writes (a reason, a status)
//            reach the resolve() that wins after it; acquire: a cancel that
//            claims the resolution sees what the wakers so far published, as
//            an activator would. A cancel that finds the word terminal read it
//            with acquire (initial load / failed CAS), like state().
//   resolve: acq_rel CAS. release: the drainer's writes reach whoever later
//            sees the terminal state; acquire: the winner sees a canceller's
//            writes and the wakers'.
//   state, is_terminal: acquire loads, pairing with those releases.
//   No seq_cst: every decision is made by an RMW on this one word, whose
//   modification order is already total; there is no store->load pair.
//   Failure orders are relaxed except where the failed read is reported.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

enum class lifecycle : std::uint8_t { suspended, runnable, completed, cancelled };

// The argued orders and steps of lifecycle_word, for negative controls.
enum class lifecycle_word_site {
  wake_publish,      // wake's CAS: acq_rel
  cancel_publish,    // cancel's CAS: acq_rel
  resolve_publish,   // resolve's CAS: acq_rel
  state_acquire,     // state() / is_terminal(): acquire
  resolution_claim,  // resolve refuses a word whose RESOLVED bit is set
  wake_rmw,          // wake updates in one CAS (split_rmw: a load, then a store)
  cancel_rmw,        // cancel updates in one CAS (split_rmw: a load, then a store)
  resolve_rmw,       // resolve updates in one CAS (split_rmw: a load, then a store)
};

template <class S = sync::os, class P = verified>
class lifecycle_word {
 public:
  using site = lifecycle_word_site;

  static constexpr std::uint32_t max_suspend_count = (1u << 28) - 1;

  // SUSPENDED on `suspend_count` dependencies, or RUNNABLE if it is 0.
  // suspend_count must not exceed max_suspend_count (S::check; clamped).
  explicit lifecycle_word(std::uint32_t suspend_count) : word_(initial(suspend_count)) {
    S::check(suspend_count <= max_suspend_count, "lifecycle_word: suspend count must be below 2^28");
  }
  lifecycle_word(const lifecycle_word&) = delete;
  lifecycle_word& operator=(const lifecycle_word&) = delete;

  // Any thread.
  lifecycle state() const { return state_of(word_.load(P::order(site::state_acquire, std::memory_order_acquire))); }
  bool is_terminal() const { return state() >= lifecycle::completed; }

  // Any thread: one dependency resolved. True for exactly the caller whose
  // decrement took a SUSPENDED word to zero: it is now RUNNABLE and that caller
  // must schedule it. On a CANCELLED word the decrement is recorded and false
  // returned. A wake with the count already at zero is a caller bug: S::check,
  // false, the word unchanged.
  bool wake() {
    // The split_rmw control reads with acquire and writes with release, so
    // that only the atomicity of the update is missing.
    std::uint32_t observed =
        word_.load(P::keep(site::wake_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (count_of(observed) == 0) {
        S::check(false, "lifecycle_word::wake: more wakes than the suspend count");
        return false;
      }
      std::uint32_t desired = observed - 1;
      const bool activates = state_of(observed) == lifecycle::suspended && count_of(desired) == 0;
      if (activates) desired = with_state(desired, lifecycle::runnable);
      if (!P::keep(site::wake_rmw)) {
        word_.store(desired, std::memory_order_release);
        return activates;
      }
      if (word_.compare_exchange_weak(observed, desired, P::order(site::wake_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return activates;
      }
    }
  }

  // Any thread. Moves the word to CANCELLED and returns the state it found:
  //   suspended — now cancelled, and the resolution is this caller's: nobody
  //               will drain it; the caller runs completion and dependents;
  //   runnable  — now cancelled; whoever holds or drains it resolves it;
  //   completed, cancelled — nothing changed.
  lifecycle cancel() {
    std::uint32_t observed = word_.load(std::memory_order_acquire);
    for (;;) {
      const lifecycle found = state_of(observed);
      if (found == lifecycle::completed || found == lifecycle::cancelled) return found;
      const std::uint32_t desired =
          with_state(observed, lifecycle::cancelled) | (found == lifecycle::suspended ? resolved_bit : 0);
      if (!P::keep(site::cancel_rmw)) {
        word_.store(desired, std::memory_order_release);
        return found;
      }
      if (word_.compare_exchange_weak(observed, desired, P::order(site::cancel_publish, std::memory_order_acq_rel),
                                      std::memory_order_acquire)) {
        return found;
      }
    }
  }

  // A thread allowed to finish the process (see the header). A RUNNABLE word
  // becomes COMPLETED; a CANCELLED one stays so. True for exactly one caller
  // over the word's life (counting a cancel() that found it suspended): that
  // caller runs the completion and resolves dependents; state() tells it
  // completed from cancelled. False if already resolved, or (a caller bug,
  // S::check) if the word is SUSPENDED.
  bool resolve() {
    std::uint32_t observed =
        word_.load(P::keep(site::resolve_rmw) ? std::memory_order_relaxed : std::memory_order_acquire);
    for (;;) {
      if (P::keep(site::resolution_claim) && (observed & resolved_bit) != 0) return false;
      const lifecycle found = state_of(observed);
      if (found == lifecycle::suspended) {
        S::check(false, "lifecycle_word::resolve: the process is still suspended");
        return false;
      }
      const std::uint32_t desired =
          (found == lifecycle::runnable ? with_state(observed, lifecycle::completed) : observed) | resolved_bit;
      if (!P::keep(site::resolve_rmw)) {
        word_.store(desired, std::memory_order_release);
        return true;
      }
      if (word_.compare_exchange_weak(observed, desired, P::order(site::resolve_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // A drainer that hit a fatal error (any thread while the process runs):
  // a RUNNABLE word becomes COMPLETED *without* claiming the resolution, so
  // every drainer stops at its next is_terminal() and one resolve() still
  // runs the completion. True if this call moved it; false if it was already
  // terminal, or still SUSPENDED (left alone: an error recorded before the
  // process runs is delivered by whoever resolves it).
  //   acq_rel CAS, as resolve(): release publishes what the drainer recorded
  //   (its error) to whoever sees the terminal state and to the resolver.
  bool finish() {
    std::uint32_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      const lifecycle found = state_of(observed);
      if (found != lifecycle::runnable) return false;
      if (word_.compare_exchange_weak(observed, with_state(observed, lifecycle::completed),
                                      P::order(site::resolve_publish, std::memory_order_acq_rel),
                                      std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  std::uint32_t suspend_count_relaxed() const { return count_of(word_.load(std::memory_order_relaxed)); }
  bool resolved_relaxed() const { return (word_.load(std::memory_order_relaxed) & resolved_bit) != 0; }

 private:
  static constexpr unsigned state_shift = 30;
  static constexpr std::uint32_t state_mask = 3u << state_shift;
  static constexpr std::uint32_t resolved_bit = 1u << 29;
  static constexpr std::uint32_t count_mask = max_suspend_count;

  static constexpr lifecycle state_of(std::uint32_t word) { return static_cast<lifecycle>(word >> state_shift); }
  static constexpr std::uint32_t count_of(std::uint32_t word) { return word & count_mask; }
  static constexpr std::uint32_t with_state(std::uint32_t word, lifecycle s) {
    return (word & ~state_mask) | (static_cast<std::uint32_t>(s) << state_shift);
  }
  static constexpr std::uint32_t initial(std::uint32_t suspend_count) {
    const std::uint32_t count = suspend_count < max_suspend_count ? suspend_count : max_suspend_count;
    return with_state(count, count == 0 ? lifecycle::runnable : lifecycle::suspended);
  }

  //   31     30  29         28         27                       0
  //  +---------+----------+----------+---------------------------+
  //  |  state  | RESOLVED | (unused) |   suspend count (< 2^28)  |
  //  +---------+----------+----------+---------------------------+
  // state: a lifecycle value. count > 0 only while SUSPENDED, or CANCELLED
  // after a cancel that found it SUSPENDED (later wakes still count down).
  // RESOLVED is set in the same CAS that completes a RUNNABLE word through
  // resolve(), that resolves a COMPLETED (by finish()) or CANCELLED one, or
  // that cancels a SUSPENDED one. finish() completes without it.
  typename S::template atomic<std::uint32_t> word_;
};

}  // namespace weft
