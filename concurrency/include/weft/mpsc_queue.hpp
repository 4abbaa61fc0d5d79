// weft::mpsc_queue — an intrusive FIFO queue: many producers, one consumer
// (Vyukov's node-based MPSC queue with a stub node).
//
// For ready lists that must stay in arrival order. A producer appends with one
// exchange and one store, never retries and never allocates; the consumer takes
// the oldest node with try_pop(), which tells "nothing queued" apart from "a
// producer is in the middle of a push and the consumer has to wait for it".
//
//   struct job : weft::mpsc_queue_node<job> { int payload; };
//   weft::mpsc_queue<job> ready;
//   if (ready.push(&j)) wake_consumer();           // any thread
//   for (;;) {                                     // consumer thread only
//     auto r = ready.try_pop();
//     if (r.node) { run(r.node); continue; }
//     if (r.status == weft::mpsc_queue_status::mid_push) { pause(); continue; }
//     break;                                       // empty: sleep until woken
//   }
//
// Guarantees:
//   - every pushed node is returned by try_pop() exactly once;
//   - FIFO per producer: nodes pushed by one thread are returned in push order
//     (and a push_chain's nodes in chain order). Across producers the order is
//     the order of the producers' exchanges on the head;
//   - a node's contents written before push() are visible to the consumer that
//     receives it;
//   - try_pop() returns `empty` only if no node is queued at some point during
//     the call: never while a node whose push happened-before the call is
//     still untaken;
//   - push()/push_chain() return true when the node they appended behind was
//     the stub, i.e. the queue held no node the consumer had yet to take (or the
//     consumer was just taking its last one: a spurious true, harmless as a wake
//     hint). False means an older node was still queued and untaken when this
//     push linked behind it, so the consumer must take that node, and then
//     reaches this one, before it can see the queue empty: "the first producer
//     wakes the consumer" works without a lost wake from this side (the
//     consumer's own sleep/recheck still needs its event count).
//
// The blocking window (the price of the one-exchange push): a push first swaps
// itself into the head, then stores the link from its predecessor to itself.
// Between those two steps the node, and every node pushed after it, is in the
// queue but unreachable, and the node before it cannot be handed out either
// (the consumer keeps the last reachable node until it has a successor to move
// to): try_pop() returns `mid_push` for as long as that producer is preempted
// there (two instructions normally; a descheduled producer can hold the
// consumer up for a time slice). `mid_push` is a state, not an error: retry,
// or do something else and come back. It is also what a link store that has
// happened but is not visible yet looks like. Use mpsc_slist when a preempted
// producer must never stall the consumer.
//
// Concurrency: push/push_chain from any number of threads, including the
// consumer; try_pop and empty from ONE consumer thread at a time. A node may be
// pushed again once try_pop has returned it (the queue keeps no reference to
// it), but must not be in the queue twice. The queue is neither copyable nor
// movable: the stub node lives inside it and queued nodes point at it.
//
// Progress: push is wait-free (one exchange, one store). try_pop is wait-free
// as a call (at most one internal stub push), but the queue as a whole is
// blocking: a producer stopped inside its window stops delivery of its node and
// of everything behind it.
//
// Memory orders (sites in mpsc_queue_site):
//   push_exchange (acq_rel): release publishes the node's cleared link, acquire
//     makes the predecessor's clearing happen-before our store into its link;
//     without both, the two stores to one link are unordered and the link could
//     end as nullptr, orphaning the rest of the queue. (Relacy orders stores to
//     one atomic in execution order, so it cannot show this mutant; the order is
//     argued, not model-checked.)
//   link_publish (release) / link_acquire (acquire): the consumer reaches every
//     node through its predecessor's link, so this pair is what makes the
//     node's contents — and, transitively, a chain's inner links — visible.
//   The consumer's head loads are relaxed: the head is only compared, never
//     dereferenced, and coherence already keeps them from reading a head older
//     than the node the consumer holds (that node's link was acquired after its
//     exchange) or older than the consumer's own stub push.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// Base class a node derives from to be queued in an mpsc_queue. The link points
// at the base (not at Node) because the queue's stub is a bare base object:
// casting it to Node* would be undefined behaviour. Copying a node copies none
// of its queue state: the copy starts unlinked, and assigning leaves the
// target's link alone (as intrusive hooks do), so a Node stays copyable.
template <class Node, class S = sync::os>
struct mpsc_queue_node {
  mpsc_queue_node() : queue_next(nullptr) {}
  mpsc_queue_node(const mpsc_queue_node&) : queue_next(nullptr) {}
  mpsc_queue_node& operator=(const mpsc_queue_node&) { return *this; }

  typename S::template atomic<mpsc_queue_node*> queue_next;
};

enum class mpsc_queue_status : std::uint8_t {
  popped,    // `node` is the oldest node; it now belongs to the caller
  empty,     // nothing was queued when try_pop looked
  mid_push,  // a producer has swapped itself into the head but not yet linked
             // its node: the consumer cannot get past it; retry later
};

template <class Node>
struct mpsc_queue_result {
  Node* node;  // non-null exactly when status == popped
  mpsc_queue_status status;
  explicit operator bool() const { return node != nullptr; }
};

enum class mpsc_queue_site {
  push_exchange,  // the producers' head exchange: acq_rel; split_rmw: a load and a store
  link_publish,   // predecessor->queue_next = node: release
  link_acquire,   // the consumer's queue_next loads: acquire
  clear_link,     // a push clears the new last node's link before publishing it
  stub_guard,     // try_pop re-queues the stub only when the head is still the node it holds
};

template <class Node, class S = sync::os, class P = verified>
class mpsc_queue {
  using link = mpsc_queue_node<Node, S>;

 public:
  using site = mpsc_queue_site;
  using result = mpsc_queue_result<Node>;

  mpsc_queue() : head_(&stub_), tail_(&stub_) {}
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  // Any thread. Appends `node`. Returns true if the queue had no untaken node
  // before it (see the header comment for the exact meaning).
  bool push(Node* node) { return append(as_link(node), as_link(node)) == &stub_; }

  // Any thread. Appends first..last, linked beforehand with set_next(), as one
  // step: the consumer receives them in chain order, with nothing in between.
  bool push_chain(Node* first, Node* last) { return append(as_link(first), as_link(last)) == &stub_; }

  // Builds a chain for push_chain: `next` follows `node`. Call it only on nodes
  // not yet pushed; the link store is relaxed and is published by push_chain.
  static void set_next(Node* node, Node* next) { as_link(node)->queue_next.store(as_link(next), std::memory_order_relaxed); }

  // Consumer only. Takes the oldest node, or says why there is none.
  result try_pop() {
    link* tail = tail_.read();
    link* next = load_link(tail);
    if (tail == &stub_) {
      if (next == nullptr) {
        // Nothing is linked after the stub. If the head moved anyway, a
        // producer is between its exchange and its link store.
        const bool nothing_swapped = head_.load(std::memory_order_relaxed) == &stub_;
        return {nullptr, nothing_swapped ? mpsc_queue_status::empty : mpsc_queue_status::mid_push};
      }
      tail_.write(next);  // step over the stub
      tail = next;
      next = load_link(tail);
    }
    if (next != nullptr) {
      tail_.write(next);
      return {as_node(tail), mpsc_queue_status::popped};
    }
    // `tail` is the last linked node. It can be handed out only if something
    // stays in the queue for the next push to link behind, so the stub is
    // queued after it — but only if `tail` is still the head: otherwise a
    // producer is linking behind it, and the stub may already be queued (a
    // second push of the stub would clear its link and orphan whatever
    // follows it).
    if (P::keep(site::stub_guard) && head_.load(std::memory_order_relaxed) != tail) {
      return {nullptr, mpsc_queue_status::mid_push};
    }
    append(&stub_, &stub_);
    next = load_link(tail);
    if (next != nullptr) {
      tail_.write(next);
      return {as_node(tail), mpsc_queue_status::popped};
    }
    // A producer swapped in between our head check and the stub's exchange;
    // `tail` stays queued until it links.
    return {nullptr, mpsc_queue_status::mid_push};
  }

  // Consumer only; a relaxed snapshot. True when no node is queued, including
  // none mid-push. (Only the consumer can answer this: the head alone cannot
  // tell an empty queue from one whose stub was re-queued behind untaken
  // nodes, so an any-thread empty() would sometimes say "empty" with work
  // queued.)
  bool empty() const {
    return tail_.read() == &stub_ && stub_.queue_next.load(std::memory_order_relaxed) == nullptr &&
           head_.load(std::memory_order_relaxed) == &stub_;
  }

 private:
  static link* as_link(Node* node) { return static_cast<link*>(node); }
  static Node* as_node(link* l) { return static_cast<Node*>(l); }

  link* load_link(link* from) const {
    return from->queue_next.load(P::order(site::link_acquire, std::memory_order_acquire));
  }

  // Appends first..last; returns the node it linked behind.
  link* append(link* first, link* last) {
    // relaxed: published by the release half of the exchange below.
    if (P::keep(site::clear_link)) last->queue_next.store(nullptr, std::memory_order_relaxed);
    link* prev;
    if (P::keep(site::push_exchange)) {
      prev = head_.exchange(last, P::order(site::push_exchange, std::memory_order_acq_rel));
    } else {
      prev = head_.load(std::memory_order_acquire);
      head_.store(last, std::memory_order_release);
    }
    // The window: `first` is in the queue but not reachable until this store.
    prev->queue_next.store(first, P::order(site::link_publish, std::memory_order_release));
    return prev;
  }

  // The newest node (the producers' end). Starts at, and returns to, the stub.
  typename S::template atomic<link*> head_;
  // The consumer's position: the oldest node not yet returned, or the stub.
  typename S::template plain<link*> tail_;
  link stub_;
};

}  // namespace weft
