// Relacy suite for weft::mpsc_queue.
//
// Model: `Producers` threads each push `PerProducer` nodes (producer 0 pushes
// its nodes as one push_chain when `Chain`), writing a plain<int> payload into
// each node before pushing it. One consumer calls try_pop() `Pops` times,
// yielding whenever it gets no node. after() runs once every thread has
// finished and pops the rest: with no producer left inside its window, it must
// reach `empty` without ever seeing `mid_push`.
//
// Properties (checked on every node the consumer takes, in the consumer and
// in after()):
//   exactly once      — the node is one of the model's nodes (not the stub) and
//                       was not received before; all are received in the end;
//   FIFO per producer — a producer's nodes arrive in push order (chain order
//                       for the chain);
//   contents visible  — the payload reads back as written; the read is a plain
//                       access, so Relacy reports a DATA RACE if the push did
//                       not happen-before the pop.
//
// Negative controls (each must be reported):
//   - link_publish weakened to relaxed: the store linking a node to its
//     predecessor no longer releases the payload: DATA RACE on the payload;
//   - link_acquire weakened to relaxed: the consumer's load of that link no
//     longer acquires it: DATA RACE on the payload;
//   - push_exchange split into a load and a store: two producers link behind
//     the same predecessor and one node is orphaned: after() sees mid_push or
//     empty with nodes missing;
//   - clear_link dropped: the stub is re-queued with its old link, and the
//     consumer walks to an already-delivered node again: "exactly once" fails;
//   - stub_guard dropped: the consumer queues the stub while it is already
//     queued behind a producer's unlinked node, clearing its link (orphaning
//     what follows: after() finds nodes missing, the usual report) or linking
//     it to itself (try_pop then hands out the stub).
//
// A mutant this suite does not use: push_exchange weakened to release (or
// relaxed). Its acquire half orders the predecessor's link clearing before our
// store into that link; without it the C++ model lets the two stores to one
// link be unordered. Relacy keeps stores to one atomic in execution order, so
// the clearing store is always earlier and the mutant survives every model
// (checked: it was "missed" by the full, bound and 100,000-iteration random
// searches of the models below). The order is argued in the header instead.
#include "harness.hpp"
#include "weft/mpsc_queue.hpp"

namespace {

using weft::mpsc_queue_site;
using weft::mpsc_queue_status;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;

template <unsigned Producers, unsigned PerProducer, unsigned Pops, bool Chain, class Policy>
struct queue_model : rl::test_suite<queue_model<Producers, PerProducer, Pops, Chain, Policy>, Producers + 1> {
  static constexpr unsigned total = Producers * PerProducer;

  struct item : weft::mpsc_queue_node<item, backend> {
    backend::plain<int> payload;
  };
  using queue_t = weft::mpsc_queue<item, backend, Policy>;

  queue_t queue;
  item items[Producers][PerProducer];
  // Consumer-side bookkeeping: touched by the consumer thread, then by after().
  int received[Producers][PerProducer];
  unsigned next_sequence[Producers];

  static int payload_of(unsigned producer, unsigned sequence) { return static_cast<int>(100 + producer * 10 + sequence); }

  void before() {
    for (unsigned p = 0; p < Producers; ++p) {
      next_sequence[p] = 0;
      for (unsigned k = 0; k < PerProducer; ++k) received[p][k] = 0;
    }
  }

  void take(item* node) {
    // Identify the node by address before touching it: a broken queue may
    // hand out its stub, which is not an item.
    for (unsigned p = 0; p < Producers; ++p) {
      for (unsigned k = 0; k < PerProducer; ++k) {
        if (node != &items[p][k]) continue;
        RL_ASSERT(received[p][k] == 0);                      // exactly once
        received[p][k] = 1;
        RL_ASSERT(k == next_sequence[p]);                    // FIFO per producer
        next_sequence[p] = k + 1;
        RL_ASSERT(node->payload.read() == payload_of(p, k)); // contents visible
        return;
      }
    }
    RL_ASSERT(!"try_pop returned something that was never pushed");
  }

  void thread(unsigned index) {
    if (index < Producers) {
      item* mine = items[index];
      for (unsigned k = 0; k < PerProducer; ++k) mine[k].payload.write(payload_of(index, k));
      if (Chain && index == 0) {
        for (unsigned k = 0; k + 1 < PerProducer; ++k) queue_t::set_next(&mine[k], &mine[k + 1]);
        queue.push_chain(&mine[0], &mine[PerProducer - 1]);
      } else {
        for (unsigned k = 0; k < PerProducer; ++k) queue.push(&mine[k]);
      }
      return;
    }
    for (unsigned i = 0; i < Pops; ++i) {
      const auto r = queue.try_pop();
      if (r.node != nullptr) {
        RL_ASSERT(r.status == mpsc_queue_status::popped);
        take(r.node);
      } else {
        backend::pause();
      }
    }
  }

  void after() {
    // Every producer has returned, so no push is inside its window: the rest
    // must come out, then `empty`. Bounded: a broken queue may cycle.
    for (unsigned i = 0; i <= total; ++i) {
      const auto r = queue.try_pop();
      if (r.node == nullptr) {
        RL_ASSERT(r.status == mpsc_queue_status::empty);
        break;
      }
      take(r.node);
    }
    RL_ASSERT(queue.empty());
    for (unsigned p = 0; p < Producers; ++p) RL_ASSERT(next_sequence[p] == PerProducer);  // nothing lost
  }
};

using verified = weft::verified;
using weak_link_publish = mutation::weaken<mpsc_queue_site::link_publish, std::memory_order_relaxed>;
using weak_link_acquire = mutation::weaken<mpsc_queue_site::link_acquire, std::memory_order_relaxed>;
using split_exchange = mutation::split_rmw<mpsc_queue_site::push_exchange>;
using stale_link = mutation::drop<mpsc_queue_site::clear_link>;
using no_stub_guard = mutation::drop<mpsc_queue_site::stub_guard>;

}  // namespace

WEFT_RELACY_CASE(mpsc_queue, "exactly once, FIFO per producer, contents visible", random, pass,
                 queue_model<3, 2, 6, false, verified>);
WEFT_RELACY_CASE(mpsc_queue, "exactly once, FIFO per producer, with push_chain", random, pass,
                 queue_model<3, 2, 6, true, verified>);
WEFT_RELACY_CASE(mpsc_queue, "exactly once, FIFO per producer, contents visible", full, pass,
                 queue_model<2, 1, 2, false, verified>);
WEFT_RELACY_CASE(mpsc_queue, "exactly once, FIFO per producer, with push_chain", bound, pass,
                 queue_model<2, 2, 4, true, verified>);
WEFT_RELACY_CASE(mpsc_queue, "control: link store relaxed", random, caught, queue_model<3, 2, 6, false, weak_link_publish>);
WEFT_RELACY_CASE(mpsc_queue, "control: link store relaxed", full, caught, queue_model<2, 1, 2, false, weak_link_publish>);
WEFT_RELACY_CASE(mpsc_queue, "control: consumer link load relaxed", random, caught,
                 queue_model<3, 2, 6, false, weak_link_acquire>);
WEFT_RELACY_CASE(mpsc_queue, "control: push exchange split into load+store", random, caught,
                 queue_model<3, 2, 6, false, split_exchange>);
WEFT_RELACY_CASE(mpsc_queue, "control: push does not clear the link", random, caught, queue_model<3, 2, 6, false, stale_link>);
WEFT_RELACY_CASE(mpsc_queue, "control: stub re-queued without head check", random, caught,
                 queue_model<3, 2, 6, false, no_stub_guard>);
