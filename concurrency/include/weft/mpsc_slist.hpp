// weft::mpsc_slist — an intrusive lock-free LIFO list: many producers, one consumer.
//
// The ready lists and inboxes of weft's executor are this list: producers push
// single nodes or pre-linked chains with one CAS; the consumer takes everything
// at once with flush() (LIFO, or reversed to FIFO), or one node at a time with
// pop(). push() tells the producer whether the list was empty, which is the
// cheap hook for "the first producer wakes the consumer".
//
//   struct job : weft::slist_node<job> { int payload; };
//   weft::mpsc_slist<job> inbox;
//   if (inbox.push(&j)) wake_consumer();         // any thread
//   for (job* n = inbox.flush_fifo(); n;) {      // consumer thread only
//     job* next = weft::mpsc_slist<job>::next(n); run(n); n = next;
//   }
//
// Guarantees:
//   - every pushed node is returned exactly once by a flush()/pop() that
//     starts after the push completed;
//   - a node's contents written before push() are visible to the consumer
//     that receives it (release on the pushing CAS, acquire on the taking one);
//   - flush() returns nodes newest-first; flush_fifo() oldest-first per
//     producer. push_chain(first, last) acts like pushing last, ..., first one
//     at a time (Linux llist_add_batch): flush() returns the chain as linked.
//
// Concurrency: push/push_chain from any number of threads; flush, flush_fifo,
// pop and discard from ONE consumer thread at a time (pop reads head->next and
// is ABA-free only because no other thread can remove a node). empty() is a
// relaxed snapshot for any thread.
//
// Progress: push is lock-free (a CAS loop that fails only when another push or
// the consumer moved the head); flush is wait-free (one exchange); pop is
// lock-free.
//
// Memory orders: push's successful CAS is release (publishes the node's
// contents and its next link); flush's exchange and pop's CAS are acquire (see
// them). Later pushes' CASes are read-modify-writes, so they continue each
// earlier push's release sequence: one acquire of the newest head
// synchronizes with every push below it (a plain store there would break that;
// the push_rmw control in the Relacy suite shows the race). The CAS failure
// order is relaxed: a failed CAS only reloads the head, whose pointee the
// producer never dereferences.
#pragma once

#include <atomic>
#include <cstddef>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// Base class a node derives from to be linked into an mpsc_slist. The link is
// plain data: written by the producer before publication, read by the consumer
// after it.
template <class Node, class S = sync::os>
struct slist_node {
  typename S::template plain<Node*> slist_next{nullptr};
};

enum class mpsc_slist_site {
  push_publish,  // the pushing CAS, on success: release
  take_acquire,  // flush's exchange and pop's CAS: acquire
  push_rmw,      // push's head update is a CAS (split_rmw: a load and a store)
  pop_rmw,       // pop's head update is a CAS (split_rmw: a store, losing a concurrent push)
};

template <class Node, class S = sync::os, class P = verified>
class mpsc_slist {
 public:
  using site = mpsc_slist_site;

  mpsc_slist() : head_(nullptr) {}
  mpsc_slist(const mpsc_slist&) = delete;
  mpsc_slist& operator=(const mpsc_slist&) = delete;

  // The node after `node` in a chain returned by flush/flush_fifo.
  static Node* next(Node* node) { return link(node).read(); }

  // Any thread. Returns true if the list was empty before this push.
  bool push(Node* node) { return push_chain(node, node); }

  // Any thread. Pushes a pre-linked chain first..last (linked through
  // slist_next; last's link is overwritten) in one step, as if last, ..., first
  // had been pushed one by one: flush() yields first..last, flush_fifo() the
  // reverse. Returns true if the list was empty.
  bool push_chain(Node* first, Node* last) {
    Node* observed = head_.load(std::memory_order_relaxed);
    if (!P::keep(site::push_rmw)) {  // negative control only
      link(last).write(observed);
      head_.store(first, P::order(site::push_publish, std::memory_order_release));
      return observed == nullptr;
    }
    do {
      link(last).write(observed);
    } while (!head_.compare_exchange_weak(observed, first, P::order(site::push_publish, std::memory_order_release),
                                          std::memory_order_relaxed));
    return observed == nullptr;
  }

  // Consumer only. Takes every node, newest first; nullptr if empty.
  Node* flush() {
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;  // no RMW on an empty list
    return head_.exchange(nullptr, P::order(site::take_acquire, std::memory_order_acquire));
  }

  // Consumer only. Takes every node, oldest first.
  Node* flush_fifo() { return reverse(flush()); }

  // Consumer only. Takes the newest node, or nullptr.
  Node* pop() {
    Node* observed = head_.load(P::order(site::take_acquire, std::memory_order_acquire));
    while (observed != nullptr) {
      Node* const rest = link(observed).read();
      if (!P::keep(site::pop_rmw)) {  // negative control only: "one consumer, so a store will do"
        head_.store(rest, std::memory_order_relaxed);
        link(observed).write(nullptr);
        return observed;
      }
      if (head_.compare_exchange_weak(observed, rest, P::order(site::take_acquire, std::memory_order_acquire),
                                      P::order(site::take_acquire, std::memory_order_acquire))) {
        link(observed).write(nullptr);
        return observed;
      }
    }
    return nullptr;
  }

  // Consumer only. Drops every node (they stay owned by whoever allocated
  // them) and returns how many there were.
  std::size_t discard() {
    std::size_t count = 0;
    for (Node* n = flush(); n != nullptr; n = next(n)) ++count;
    return count;
  }

  // Any thread; a relaxed snapshot (may be stale by the time it returns).
  bool empty() const { return head_.load(std::memory_order_relaxed) == nullptr; }

  // Reverses a chain in place; returns the new first node.
  static Node* reverse(Node* chain) {
    Node* reversed = nullptr;
    while (chain != nullptr) {
      Node* const rest = link(chain).read();
      link(chain).write(reversed);
      reversed = chain;
      chain = rest;
    }
    return reversed;
  }

 private:
  static auto& link(Node* node) { return static_cast<slist_node<Node, S>*>(node)->slist_next; }

  typename S::template atomic<Node*> head_;
};

}  // namespace weft
