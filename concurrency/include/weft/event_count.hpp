// weft::event_count — block until a condition you own becomes true, without
// losing a notify that races with going to sleep.
//
// An event_count adds sleeping to any lock-free condition ("the queue is not
// empty", "the flag is set"). It holds no state of the condition itself: the
// waiter announces itself, re-checks the condition, and only then sleeps; the
// notifier publishes the condition and then notifies. A notify costs one
// atomic read-modify-write and no system call when nobody is waiting.
//
//   waiter (any thread)                          notifier (any thread)
//   while (!ready()) {                           make_ready();      // any order
//     auto key = ec.prepare_wait();              ec.notify_one();   // or notify_all()
//     if (ready()) { ec.cancel_wait(); break; }
//     ec.commit_wait(key, deadline);             // false: the deadline passed
//   }
//
// or, the same loop in one call: `ec.await([&] { return ready(); }, deadline)`.
//
// Guarantee (happens-before form): if a notifier's make_ready() is sequenced
// before its notify_*(), and a waiter's prepare_wait() and re-check of ready()
// both happen, then either that re-check sees make_ready()'s effect, or the
// waiter's commit_wait() on that key returns (it is not left asleep). A
// notify_one() with several waiters wakes at least one of those whose
// prepare_wait() preceded it; commit_wait() may also return for a notify that
// was meant for someone else, so callers always re-check their condition.
//
// Who may call what: every member from any thread. A prepare_wait() must be
// followed by exactly one cancel_wait() or commit_wait() on the same thread
// (commit_wait takes the key prepare_wait returned). Up to 2^32 - 1 waits may
// be prepared at once.
//
// Progress: prepare_wait, cancel_wait and notify_* are wait-free (one or two
// RMWs; notify_* adds one futex wake when a waiter is registered, and returns
// whether it did: false means no waiter was registered when it checked).
// commit_wait blocks (futex) until the epoch moves or the deadline passes.
//
// State: two 32-bit words, because a futex (and Relacy's futex model) can only
// wait on a 32-bit word.
//
//   epoch_    [31 ............................. 0]  notify count mod 2^32; the futex word
//   waiters_  [31 ............................. 0]  prepared waiters not yet cancelled/committed
//
// Memory orders. The sleep race is the store-buffering (Dekker) shape:
//   waiter:    waiters_ += 1 (announce)   ->  load the condition (re-check)
//   notifier:  store the condition        ->  read waiters_ (check)
// With plain loads on both sides both could read the old value: the waiter
// sleeps and the notifier skips the wake (the lost wakeup). weft closes it the
// way folly's EventCount does, by making both sides read-modify-writes of the
// SAME word: announce is waiters_.fetch_add(1) and check is
// waiters_.fetch_add(0). Two RMWs on one atomic are totally ordered by its
// modification order and each reads the latest value, so:
//   - if announce comes first, check reads a count >= 1 and the notifier bumps
//     the epoch and wakes (the key was read after announce, so the futex sees
//     the new epoch or is woken);
//   - if check comes first, announce reads the value check wrote; check is
//     release and announce is acquire, so the store of the condition
//     happens-before the waiter's re-check, which sees it.
// That needs release on check and acquire on announce, nothing stronger: a
// seq_cst order would add no edge (seq_cst RMWs cost the same instructions on
// x86 and ARMv8, so nothing is saved either way; the argument is about what is
// required). It also does not depend on the order the caller uses for the
// condition: relaxed suffices, because the edge runs through waiters_. A check
// done as a plain load — even a seq_cst one — does NOT work unless the
// caller's condition store and load are seq_cst as well: a release store of the
// condition is not in the seq_cst order, and the load may read 0 (tokio PR
// #1788 replaced such a load with fetch_add(0)). The Relacy suite has each of
// these weakenings as a negative control.
//   epoch_: bumped with release, read with acquire, so a waiter that reads a
// bumped epoch as its key (announce came before check) also sees the
// condition; the futex re-reads the word atomically with respect to wake.
//   cancel/commit decrement waiters_ relaxed: any RMW continues the release
// sequence headed by a check, so a later announce still synchronizes with it.
//
// Epoch wraparound is harmless: the epoch is only compared for equality with a
// key taken moments before. A waiter could sleep through notifies only if
// exactly k * 2^32 notifies happened between its prepare_wait() and its futex
// entering the kernel (ABA), which is not a practical window. The constructor
// takes the initial epoch so tests can start next to the wrap.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

#include "weft/deadline.hpp"
#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of event_count, for negative controls.
enum class event_count_site {
  announce,      // waiters_.fetch_add(1) in prepare_wait(): acquire (Dekker, waiter side)
  check,         // waiters_.fetch_add(0) in notify_*(): release (Dekker, notifier side);
                 // split_rmw makes it a seq_cst load, the tokio #1788 bug
  epoch_bump,    // epoch_.fetch_add(1) in notify_*(): release
  key_read,      // epoch_.load() in prepare_wait() and commit_wait(): acquire
  await_recheck, // await() re-checks the condition between prepare and commit
};

template <class S = sync::os, class P = verified>
class event_count {
 public:
  using site = event_count_site;

  // What prepare_wait() hands to commit_wait(): the epoch it saw.
  struct key {
    std::uint32_t epoch;
  };

  explicit event_count(std::uint32_t initial_epoch = 0) : epoch_(initial_epoch), waiters_(0) {}
  event_count(const event_count&) = delete;
  event_count& operator=(const event_count&) = delete;

  // Any thread. Registers the caller as a waiter; the caller must then
  // re-check its condition and call cancel_wait() or commit_wait(key, ...).
  key prepare_wait() {
    waiters_.fetch_add(1, P::order(site::announce, std::memory_order_acquire));
    return key{epoch_.load(P::order(site::key_read, std::memory_order_acquire))};
  }

  // The thread that called prepare_wait(), when its re-check found the
  // condition true.
  void cancel_wait() { waiters_.fetch_sub(1, std::memory_order_relaxed); }

  // The thread that called prepare_wait(). Sleeps until a notify moves the
  // epoch past `k` or `until` passes. True: notified (at least one notify
  // happened after prepare_wait); false: the deadline passed first. Either
  // way the waiter is deregistered. Spurious futex returns are absorbed.
  bool commit_wait(key k, deadline until = deadline::infinite()) {
    bool notified = false;
    for (;;) {
      if (epoch_.load(P::order(site::key_read, std::memory_order_acquire)) != k.epoch) {
        notified = true;
        break;
      }
      if (S::wait(epoch_, k.epoch, until) == sync::wait_result::timed_out) {
        // One last look: a notify that landed with the timeout still counts.
        notified = epoch_.load(P::order(site::key_read, std::memory_order_acquire)) != k.epoch;
        break;
      }
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return notified;
  }

  // Any thread, after making the condition true. Wakes at least one waiter
  // that prepared before this call (if any). No system call without waiters.
  // Returns true iff a waiter was registered: the epoch was bumped and a futex
  // wake issued. False: nobody was waiting (the epoch is unchanged), so a
  // caller that mirrors the notify elsewhere (an eventfd write) may skip it.
  bool notify_one() { return notify(1); }

  // Any thread. Wakes every waiter that prepared before this call. Returns
  // as notify_one() does.
  bool notify_all() { return notify(INT_MAX); }

  // Any thread. Blocks until `condition()` is true (returns true) or `until`
  // passes with it still false (returns false). `condition` is called
  // repeatedly and must not block.
  template <class Condition>
  bool await(Condition&& condition, deadline until = deadline::infinite()) {
    while (!condition()) {
      const key k = prepare_wait();
      if (P::keep(site::await_recheck) && condition()) {
        cancel_wait();
        return true;
      }
      if (!commit_wait(k, until)) return condition();
    }
    return true;
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  std::uint32_t epoch_relaxed() const { return epoch_.load(std::memory_order_relaxed); }
  std::uint32_t waiters_relaxed() const { return waiters_.load(std::memory_order_relaxed); }

  // The epoch, acquire: a reader that sees an epoch moved by a notify also sees
  // what the notifier wrote before it (the release of the epoch bump).
  // weft::io::notification compares it with an observation's token.
  std::uint32_t epoch() const { return epoch_.load(P::order(site::key_read, std::memory_order_acquire)); }

 private:
  bool notify(int count) {
    if (!has_waiters()) return false;  // the no-waiter fast path: one RMW, no syscall
    epoch_.fetch_add(1, P::order(site::epoch_bump, std::memory_order_release));
    S::wake(epoch_, count);
    return true;
  }

  bool has_waiters() {
    if (P::keep(site::check)) {
      return waiters_.fetch_add(0, P::order(site::check, std::memory_order_release)) != 0;
    }
    // split_rmw control: the load the RMW replaces. Wrong even as seq_cst.
    return waiters_.load(std::memory_order_seq_cst) != 0;
  }

  typename S::template atomic<std::uint32_t> epoch_;
  typename S::template atomic<std::uint32_t> waiters_;
};

}  // namespace weft
