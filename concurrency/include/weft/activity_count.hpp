// weft::activity_count — how many things are outstanding, and waiting until
// none are.
//
// A scope counts its outstanding work (processes, operations): begin() when
// one is created, end() when it is finished; wait_idle() blocks until the
// count is zero. end() makes no system call unless somebody is waiting.
//
//   scope.begin();                       // before handing the work out
//   submit(work);                        // ... which eventually calls:
//   finish(work); scope.end();           // any thread
//   scope.wait_idle(deadline);           // any thread: true once nothing is outstanding
//
// Guarantees:
//   - end() returns true to exactly the caller whose end() took the count to
//     zero; that call wakes every thread blocked in wait_idle();
//   - everything done before an end() happens-before the return of an idle()
//     or wait_idle() that returns true after it, and of the end() that returns
//     true (the count's changes form one release sequence);
//   - no lost wake: a wait_idle() that starts before (or while) the count
//     reaches zero returns true, unless the count rises again before it
//     looks — it waits for the count to be zero when it checks, not for an
//     earlier moment at which it was.
//
// Who may call what: every member from any thread. An end() must match an
// earlier begin() of at least as many (more ends than begins is a caller bug:
// S::check, and the count is left unchanged). begin() of more than 2^32 - 1
// outstanding is a caller bug too (S::check). To keep wait_idle() meaningful,
// call begin() for new work from a thread that still holds an activity of the
// same scope, or before the work could be waited for.
//
// Progress: begin is wait-free (one RMW); end is lock-free (a CAS loop, plus a
// futex wake when a waiter is registered); idle is wait-free; wait_idle blocks.
//
// Memory orders:
//   begin: fetch_add relaxed. It publishes nothing, and the end() of the same
//          activity is ordered after it by whatever hands the work over, so
//          coherence puts the decrement after the increment.
//   end:   acq_rel CAS. release: the caller's work reaches whoever observes the
//          count at zero; acquire: the end() that reaches zero sees every
//          other end()'s work too (all changes are RMWs, so they continue one
//          release sequence, including the relaxed begins).
//   idle, wait_idle: acquire load, pairing with end's release.
//   The sleep race (waiter checks the count, then sleeps; end() stores zero,
//   then checks for sleepers) is a store-buffering pair that event_count
//   closes: its announce and check are RMWs on one word (see
//   event_count.hpp), so the count itself needs no seq_cst.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>

#include "weft/deadline.hpp"
#include "weft/event_count.hpp"
#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of activity_count, for negative controls. The
// wait loop is event_count::await: mutate its event_count_site::await_recheck
// to remove the waiter's re-check.
enum class activity_count_site {
  end_publish,   // end's CAS: acq_rel
  idle_acquire,  // idle() / wait_idle()'s check: acquire
  notify_idle,   // the end() that reaches zero notifies the waiters
};

template <class S = sync::os, class P = verified>
class activity_count {
 public:
  using site = activity_count_site;

  activity_count() : count_(0) {}
  activity_count(const activity_count&) = delete;
  activity_count& operator=(const activity_count&) = delete;

  // Any thread. n more outstanding.
  void begin(std::uint32_t n = 1) {
    const std::uint32_t before = count_.fetch_add(n, std::memory_order_relaxed);
    S::check(before <= std::numeric_limits<std::uint32_t>::max() - n, "activity_count::begin: count overflow");
    static_cast<void>(before);
  }

  // Any thread. n fewer outstanding. True if this call took the count to
  // zero (and woke the waiters). More ends than begins: S::check, false, no
  // change. end(0) changes nothing and returns false.
  bool end(std::uint32_t n = 1) {
    if (n == 0) return false;
    std::uint32_t seen = count_.load(std::memory_order_relaxed);
    for (;;) {
      if (seen < n) {
        S::check(false, "activity_count::end: more ends than begins");
        return false;
      }
      if (count_.compare_exchange_weak(seen, seen - n, P::order(site::end_publish, std::memory_order_acq_rel),
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    if (seen != n) return false;
    if (P::keep(site::notify_idle)) idle_.notify_all();
    return true;
  }

  // Any thread. Nothing outstanding; everything done before the matching
  // end() calls is visible to the caller when this returns true.
  bool idle() const { return count_.load(P::order(site::idle_acquire, std::memory_order_acquire)) == 0; }

  // Any thread. Blocks until the count is zero (true) or `until` passes with
  // it still non-zero (false).
  bool wait_idle(deadline until = deadline::infinite()) {
    return idle_.await([this] { return idle(); }, until);
  }

  // A snapshot for diagnostics and tests; stale as soon as it returns.
  std::uint32_t count_relaxed() const { return count_.load(std::memory_order_relaxed); }

 private:
  typename S::template atomic<std::uint32_t> count_;
  event_count<S, P> idle_;
};

}  // namespace weft
