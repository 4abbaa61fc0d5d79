// weft::work_queue — an intrusive FIFO queue that any thread pushes to and any
// thread pops from: weft::mpsc_queue with its consumers serialized by a
// try-claim, plus a count of pushed-but-not-popped nodes that any thread can
// read.
//
// For a scheduler's ready list: producers append without waiting; every
// worker may pop, and a worker that finds another worker popping right now
// does not wait for it — it gets `contended` and goes to its other sources of
// work. Before parking, a worker asks maybe_nonempty(), which (unlike
// mpsc_queue::empty) any thread may call.
//
//   struct job : weft::mpsc_queue_node<job> { int payload; };
//   weft::work_queue<job> ready;
//   if (ready.push(&j)) wake_a_worker();              // any thread
//   // a worker (any thread):
//   for (;;) {
//     if (auto r = ready.try_pop()) { run(r.node); continue; }
//     if (r.status == weft::work_queue_status::empty) break;
//     do_other_work_or_pause();                      // contended or mid_push: come back
//   }
//   // parking: announce idle (an RMW handshake the wakers also do, e.g.
//   // weft::idle_set::prepare_park), then re-check:
//   if (ready.maybe_nonempty()) { cancel_the_park(); /* pop again */ }
//
// Guarantees (mpsc_queue's, for any number of consumers):
//   - every pushed node is returned by exactly one try_pop();
//   - FIFO per producer: one thread's pushes come out in push order, to
//     whichever consumers pop them; across producers the order is the order
//     of the producers' exchanges on the queue's head. Successful pops are
//     totally ordered (by the claim), and each one takes the oldest node;
//   - a node's contents written before push() are visible to the thread whose
//     try_pop() returns it;
//   - try_pop() returns `empty` only if no node was queued at some point
//     during the call (never while a node whose push happened-before the call
//     is untaken); `contended` only if another try_pop() held the claim when
//     this one tried to take it; `mid_push` only while some push is between
//     its two steps, or its link store is not visible yet (mpsc_queue's
//     window);
//   - pending_relaxed() reads the count at some point of its modification
//     order no earlier than every push and pop that happened-before the call.
//     Because a push counts its node before linking it and a pop uncounts the
//     node after taking it, every node's decrement follows its increment in
//     that order: the count never underflows, and counts each node from
//     before it can be popped until after it was. So if push(n) happens-before
//     the call — for a worker about to park, through the RMW handshake it and
//     the waker both perform on one word (idle_set's idle count), whichever
//     came first — the call returns 0 only if n has already been popped.
//     (If the waker's handshake came second, the waker sees the worker
//     announced and wakes it; the handshake closes the other half.)
//   - push() returns true when the count was 0 before it: no pushed node was
//     still unpopped. A wake hint: false means an earlier node is still
//     counted, so some consumer is yet to pop it and come back.
//
// Who may call what: everything, from any thread, concurrently; a node may
// be pushed again once try_pop has returned it, but must not be queued twice.
// The queue is neither copyable nor movable (mpsc_queue's stub lives inside).
//
// Progress, said plainly: push is wait-free (two RMWs, two stores). try_pop
// never blocks and never loops (one exchange, mpsc_queue's bounded try_pop, a
// store, an RMW), but consumers as a group are not lock-free: a popper
// preempted while it holds the claim makes every other try_pop return
// `contended` until it runs again, and a producer preempted inside its window
// makes them return `mid_push` (mpsc_queue's blocking window). Both are
// acceptable for a ready list: the claim is held for a few instructions and
// the window is two, so the stall is bounded by them unless the holder is
// descheduled, and then it costs at most that thread's time slice; a
// scheduler's worker that cannot pop has other places to look (compute slots,
// other queues), and the pending count tells it work exists so it does not
// park on a queue that only looked empty. Neither status is an error and
// neither hides a node: retry later, or go through the park re-check above.
//
// Memory orders (sites in work_queue_site; mpsc_queue's own are argued there
// and reachable through the same policy P):
//   claim_acquire (the claim exchange, acquire) and unclaim_release (the
//     unclaim store, release): each pop reads and writes mpsc_queue's
//     consumer-side plain state (its tail, and the link of the node it holds)
//     and acquires links that producers published to the previous popper.
//     The pair makes everything the previous holder did happen-before the
//     next holder's pop: without it the consumer side races with itself. The
//     unclaim is a plain store: only the holder writes 0, and an exchange
//     that reads 1 changes nothing. It also carries the chain that orders a
//     node's increment before its decrement when the node was reached by an
//     earlier popper (increment, link release, that popper's link acquire,
//     its unclaim, our claim, our decrement).
//   pending_before_link (increment, relaxed): counting, not publication — the
//     node's contents are published by the link store. The increment is
//     sequenced before the link store, which is the only way a popper can
//     reach the node, so with the chain above it happens-before the node's
//     decrement. Counting after linking would let a popper uncount the node
//     first: the count could read 0 (or wrap) while another node whose push
//     happened-before the reader is queued.
//   The decrement and pending_relaxed() are relaxed: coherence is all the
//   re-check needs once the caller's handshake gives it the happens-before.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "weft/mpsc_queue.hpp"
#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

enum class work_queue_status {
  popped,     // `node` is the oldest node; it now belongs to the caller
  empty,      // nothing was queued when try_pop looked
  contended,  // another try_pop holds the claim; it takes the oldest node: retry later
  mid_push,   // a producer is between its exchange and its link store: retry later
};

template <class Node>
struct work_queue_result {
  Node* node;  // non-null exactly when status == popped
  work_queue_status status;
  explicit operator bool() const { return node != nullptr; }
};

enum class work_queue_site {
  claim,                // try_pop takes the consumer claim (drop: consumers run unserialized)
  claim_acquire,        // the claim exchange: acquire
  unclaim_release,      // the unclaim store: release
  pending_before_link,  // push counts the node before linking it (drop: after)
};

template <class Node, class S = sync::os, class P = verified>
class work_queue {
 public:
  using site = work_queue_site;
  using result = work_queue_result<Node>;

  work_queue() : claim_(0), pending_(0) {}
  work_queue(const work_queue&) = delete;
  work_queue& operator=(const work_queue&) = delete;

  // Any thread. Appends `node`, which must not be in any queue. Returns true
  // if the pending count was 0 before.
  bool push(Node* node) {
    static_assert(std::is_base_of_v<mpsc_queue_node<Node, S>, Node>,
                  "work_queue: Node must derive from mpsc_queue_node<Node, S>");
    if (!P::keep(site::pending_before_link)) {
      queue_.push(node);
      return count_one() == 0;
    }
    const std::uint32_t before = count_one();
    queue_.push(node);
    return before == 0;
  }

  // Any thread. Takes the oldest node, or says why there is none.
  result try_pop() {
    const bool claimed = P::keep(site::claim);
    if (claimed && claim_.exchange(1, P::order(site::claim_acquire, std::memory_order_acquire)) != 0) {
      return {nullptr, work_queue_status::contended};
    }
    const auto r = queue_.try_pop();
    if (claimed) claim_.store(0, P::order(site::unclaim_release, std::memory_order_release));
    if (r.node != nullptr) {
      // relaxed: see the header comment; the node's increment happens-before.
      pending_.fetch_sub(1, std::memory_order_relaxed);
      return {r.node, work_queue_status::popped};
    }
    return {nullptr, r.status == mpsc_queue_status::mid_push ? work_queue_status::mid_push : work_queue_status::empty};
  }

  // Any thread; a relaxed snapshot: nodes pushed and not yet popped,
  // including ones mid-push. Never 0 while a node whose push happened-before
  // the call is still queued (see the header comment).
  std::uint32_t pending_relaxed() const { return pending_.load(std::memory_order_relaxed); }
  bool maybe_nonempty() const { return pending_relaxed() != 0; }

 private:
  // relaxed: see pending_before_link in the header comment.
  std::uint32_t count_one() { return pending_.fetch_add(1, std::memory_order_relaxed); }

  mpsc_queue<Node, S, P> queue_;
  // 0: no try_pop inside; 1: one try_pop holds the consumer side.
  typename S::template atomic<std::uint32_t> claim_;
  // Nodes pushed and not yet popped; only ever changed by RMWs.
  typename S::template atomic<std::uint32_t> pending_;
};

}  // namespace weft
