// weft::idle_set — worker parking: idle workers sleep on their own futex word,
// and a waker claims distinct idle workers before posting to them.
//
// A worker that runs out of work announces itself idle, re-checks for work,
// and sleeps. A thread that publishes work calls wake(n): it CLAIMS up to n
// idle workers (clears each one's idle bit with an RMW; of concurrent wakers
// exactly one wins a given worker) and only then posts to the ones it won. So
// two wakers never post to the same worker while another stays asleep (the
// anchor's duplicate-wake weakness: a relaxed snapshot of the idle mask,
// cleared only by the woken worker).
//
//   worker i (its own thread)                      waker (any thread)
//   for (;;) {                                      queue.push(job);       // any order
//     if (auto job = find_work()) { run(job); continue; }
//     idle.park_unless(i, [&] { return has_work(); }, deadline);
//   }                                               idle.wake(1);
//
// park_unless is prepare_park(i); if (has_work()) cancel_park(i); else park(i, d)
// — the three calls are public for callers that need to do more in between.
// For the executor's relay rule (the last searcher that finds work wakes a
// successor), wake_one(hint) says whom it woke, and a hint of the caller's
// own index + 1 spreads successive wakes around the set; the rule itself
// (who counts as searching) lives in the executor.
//
// Guarantees:
//   - no lost wake: if a waker's publication is sequenced before its wake(),
//     then every worker that re-checks after announcing either sees the work
//     or is counted by the waker; a waker that finds nobody idle (returns
//     fewer than n) leaves the work to workers that are awake and will
//     re-check before they sleep;
//   - distinct wakees: each idle episode (prepare_park ... park/cancel_park)
//     is claimed by at most one wake and receives at most one post; wake(n)
//     wakes min(n, idle-and-unclaimed) distinct workers;
//   - unpark-before-park: a post that arrives between prepare_park and park
//     (or before the worker reaches the futex) makes park return at once;
//   - what the waker wrote before wake() is visible to the worker it woke.
//
// Who may call what: prepare_park, cancel_park, park and park_unless only by
// worker `i` itself, in that protocol (prepare_park, then exactly one of
// cancel_park or park); wake, wake_one, wake_worker and the snapshots from any
// thread.
//
// Progress: wake* are lock-free (claim_any retries only when another waker
// won the bit it found) and make no system call when nobody is idle (one
// RMW), one futex wake per worker that is asleep. prepare_park is wait-free;
// park blocks until posted or the deadline; cancel_park and a timed-out park
// block only if a waker claimed the worker and has not posted yet (the post
// follows the claim immediately; the block lasts while that waker is
// preempted between the two).
//
// State:
//   idle_        affinity_set<Workers>: bit i set = worker i is idle and unclaimed
//   idle_count_  [31 .......... 0]  workers in an idle episode (announced, not yet
//                                   back at work); the Dekker word; only ever RMW'd
//   slot i       [31 .......... 0]  token: 0 EMPTY, 1 PARKED (owner on the futex or
//                                   about to be), 2 NOTIFIED (a post waits); futex word
//
// Memory orders. The sleep race is a Dekker pair, closed as in event_count by
// two RMWs on one word (idle_count_), so it does not depend on the order the
// caller publishes work with:
//   worker:  idle_.set(i); idle_count_ += 1 (announce)  ->  re-check work
//   waker:   publish work;  idle_count_ += 0 (check)     ->  scan idle_
// The two RMWs are ordered by idle_count_'s modification order and each reads
// the latest value; every write to idle_count_ is an RMW, so each one extends
// the release sequence of every earlier announce and check:
//   - announce first: check reads a count >= 1; announce is release and the
//     bit was set before it, check is acquire, so the scan sees the bit (or a
//     later clear by another waker, who then owns waking that worker);
//   - check first: check is release, announce acquire, so the worker's
//     re-check sees the work.
// So both are acq_rel. A check done as a load (even seq_cst) is the tokio
// #1788 bug; the Relacy suite has it as a negative control.
//   The count is decremented by the worker when its episode ends (relaxed: an
// RMW continues the release sequence of every check before it). Decrementing
// in the claimer would let it run before the worker's increment, and a
// transiently low count (the underflow of tokio #8372) lets a later check
// read 0 while an unclaimed worker is idle.
//   The claim is affinity_set's fetch_and (acq_rel): exclusive regardless of
// order. The post is the token exchange (release), consumed by the worker's
// acquire: the waker's work is visible to the woken worker. The owner's
// EMPTY -> PARKED and PARKED -> EMPTY CASes are acquire: when they fail, a
// post won and is consumed right there.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "weft/affinity_set.hpp"
#include "weft/deadline.hpp"
#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

enum class idle_set_site {
  announce,      // idle_count_.fetch_add(1) in prepare_park(): acq_rel (Dekker, worker side)
  check,         // idle_count_.fetch_add(0) in wake*(): acq_rel (Dekker, waker side);
                 // split_rmw makes it a seq_cst load
  post,          // the waker's token exchange: release
  consume,       // the worker's token read: acquire
  park_recheck,  // park_unless() re-checks for work between prepare_park and park
};

enum class park_result {
  woken,       // a waker claimed this worker and posted to it
  timed_out,   // the deadline passed; the worker withdrew unclaimed
  work_found,  // park_unless only: the re-check found work; withdrew unclaimed
};

template <std::size_t Workers, class S = sync::os, class P = verified>
class idle_set {
 public:
  using site = idle_set_site;
  static constexpr std::size_t worker_count = Workers;
  static constexpr std::size_t npos = affinity_set<Workers, S, P>::npos;

  idle_set() = default;
  idle_set(const idle_set&) = delete;
  idle_set& operator=(const idle_set&) = delete;

  // ---- worker i only ----

  // Announces worker i idle. Then re-check for work, and call cancel_park(i)
  // or park(i, deadline).
  void prepare_park(std::size_t worker) {
    idle_.set(worker);
    idle_count_.fetch_add(1, P::order(site::announce, std::memory_order_acq_rel));
  }

  // The re-check found work. True: withdrew before any waker claimed this
  // worker. False: a waker claimed it first; its post has been consumed (the
  // wake was spent on this worker, which is awake anyway).
  bool cancel_park(std::size_t worker) {
    if (idle_.try_claim(worker)) {
      end_episode();
      return true;
    }
    await_post(worker, deadline::infinite());
    end_episode();
    return false;
  }

  // Sleeps until a waker claims and posts to worker i (woken) or `until`
  // passes unclaimed (timed_out). A claim that races the timeout wins: the
  // worker then waits for the post and reports woken.
  park_result park(std::size_t worker, deadline until = deadline::infinite()) {
    if (!await_post(worker, until)) {
      if (idle_.try_claim(worker)) {
        end_episode();
        return park_result::timed_out;
      }
      await_post(worker, deadline::infinite());  // claimed: the post is on its way
    }
    end_episode();
    return park_result::woken;
  }

  // prepare_park; if has_work() cancel_park; else park. `has_work` must not
  // block. Returns work_found only if the worker withdrew unclaimed; a worker
  // that found work but had been claimed meanwhile reports woken.
  template <class HasWork>
  park_result park_unless(std::size_t worker, HasWork&& has_work, deadline until = deadline::infinite()) {
    prepare_park(worker);
    if (P::keep(site::park_recheck) && has_work()) {
      return cancel_park(worker) ? park_result::work_found : park_result::woken;
    }
    return park(worker, until);
  }

  // ---- any thread ----

  // After publishing work: claims up to n distinct idle workers, searching
  // from `hint` (wrapping), and posts to each. Returns how many it woke.
  unsigned wake(unsigned n, std::size_t hint = 0) {
    if (n == 0 || !has_idle()) return 0;
    unsigned woken = 0;
    while (woken < n) {
      const std::size_t worker = idle_.claim_any(hint);
      if (worker == npos) break;
      post(worker);
      ++woken;
      hint = worker + 1;
    }
    return woken;
  }

  // wake(1) that says whom it woke: the worker index, or npos.
  std::size_t wake_one(std::size_t hint = 0) {
    if (!has_idle()) return npos;
    const std::size_t worker = idle_.claim_any(hint);
    if (worker != npos) post(worker);
    return worker;
  }

  // Wakes worker i if it is idle and unclaimed; true if this call woke it.
  bool wake_worker(std::size_t worker) {
    if (!has_idle() || !idle_.try_claim(worker)) return false;
    post(worker);
    return true;
  }

  // Wakes every idle worker (shutdown: set the stop flag first).
  unsigned wake_all() { return wake(static_cast<unsigned>(Workers)); }

  // Snapshots for diagnostics, tests and heuristics; stale as they return.
  std::uint32_t idle_count_relaxed() const { return idle_count_.load(std::memory_order_relaxed); }
  bool is_idle(std::size_t worker) const { return idle_.test(worker); }
  typename affinity_set<Workers, S, P>::value_type idle_workers() const { return idle_.load(); }

 private:
  enum token_value : std::uint32_t { empty = 0, parked = 1, notified = 2 };

  struct alignas(64) slot {
    typename S::template atomic<std::uint32_t> token{empty};
  };

  // The waker side of the Dekker pair (see the header comment).
  bool has_idle() {
    if (P::keep(site::check)) {
      return idle_count_.fetch_add(0, P::order(site::check, std::memory_order_acq_rel)) != 0;
    }
    return idle_count_.load(std::memory_order_seq_cst) != 0;  // split_rmw control only
  }

  void post(std::size_t worker) {
    auto& token = slots_[worker].token;
    if (token.exchange(notified, P::order(site::post, std::memory_order_release)) == parked) {
      S::wake(token, 1);
    }
  }

  // Waits for a post to worker i; true if one was consumed, false if `until`
  // passed first (the token is then EMPTY again).
  bool await_post(std::size_t worker, deadline until) {
    auto& token = slots_[worker].token;
    const std::memory_order consume = P::order(site::consume, std::memory_order_acquire);
    std::uint32_t observed = empty;
    // Both CASes are acquire on success too: only their failure (a post won)
    // needs it, but Relacy follows the pre-C++17 rule that the failure order
    // is no stronger than the success order and would silently model a
    // relaxed failure (its 2-worker model reported the lost acquire).
    if (token.compare_exchange_strong(observed, parked, consume, consume)) {
      for (;;) {
        const sync::wait_result r = S::wait(token, parked, until);
        if (token.load(consume) == notified) break;
        if (r == sync::wait_result::timed_out) {
          // Withdraw from the futex word; a post that lands first wins.
          observed = parked;
          if (token.compare_exchange_strong(observed, empty, consume, consume)) return false;
          break;
        }
      }
    }
    // NOTIFIED: only the owner writes EMPTY, and one episode gets one post.
    token.store(empty, std::memory_order_relaxed);
    return true;
  }

  void end_episode() { idle_count_.fetch_sub(1, std::memory_order_relaxed); }

  affinity_set<Workers, S, P> idle_;
  typename S::template atomic<std::uint32_t> idle_count_{0};
  slot slots_[Workers];
};

}  // namespace weft
