// Relacy suite for weft::work_queue.
//
// Models:
//
//   mpmc_model<Producers, PerProducer, Consumers, Pops> — each producer
//     writes a plain<int> payload into its nodes and pushes them; each
//     consumer calls try_pop() `Pops` times (pausing when it gets no node).
//     after() runs once every thread has finished and pops the rest: with no
//     producer in its window and no popper holding the claim, it must reach
//     `empty` (never `contended` or `mid_push`) with nothing pending. With
//     `Preloaded`, before() pushes every node and only the consumers run
//     (2 threads: small enough for a full search of the claim hand-off).
//     Properties:
//       exactly once — a node is one of the model's (not mpsc_queue's stub)
//         and is taken once: its plain `taken` cell is written by its taker,
//         so a second taker is an assertion or a DATA RACE; after() finds
//         every node taken;
//       FIFO per producer, across consumers — pops are ordered by the claim,
//         which the model cannot see, so it checks what it can without
//         false alarms: each producer has an atomic "floor" (1 + the highest
//         sequence taken, raised with release by each taker). A consumer
//         reads the floors with acquire BEFORE its try_pop; a node it then
//         receives must be at or above its producer's floor, because a take
//         the consumer has seen happened-before its own pop;
//       contents visible, consumer side race-free — the payload read is a
//         plain access, and so are mpsc_queue's tail and the `taken` cells.
//
//   repush_model<Rounds, Pops> — one producer pushes two nodes; two consumers
//     call try_pop() `Pops` times each, and one that receives a node with
//     fewer than `Rounds` trips behind it writes the node's plain trip count
//     and pushes it again (a consumer turned producer, often while the other
//     consumer is right behind it); after() finishes the trips. Each node is
//     delivered exactly Rounds + 1 times and each delivery reads the previous
//     taker's writes (a DATA RACE otherwise).
//
//   parker_model — the re-check a worker does before parking. Two producers
//     each push one node, then do the waker's handshake: an acq_rel RMW on a
//     shared word (idle_set's idle count), noting whether it saw the parker
//     announced. The parker pops once (it is a worker that just ran out of
//     work), announces with an acq_rel RMW on the same word, and reads
//     maybe_nonempty(); false means it sleeps. Property "no stranded node":
//     if the parker slept, every producer that did not see it announced had
//     its push happen-before the re-check, so its node must already have
//     been popped. (A producer that saw the announce wakes the parker.)
//
// Negative controls (each must be reported):
//   - claim_acquire weakened to relaxed: the next popper reads mpsc_queue's
//     plain tail without synchronizing with the previous popper's write:
//     DATA RACE;
//   - unclaim_release weakened to relaxed: the same race from the other end;
//   - claim dropped: two consumers inside mpsc_queue::try_pop at once: DATA
//     RACE on the tail (and nodes handed out twice);
//   - pending_before_link dropped (a push counts its node after linking it):
//     the parker pops node A before A's producer counted it, so the count
//     goes 0 -> "-1"; B's producer links and counts (-> 0) and does its
//     handshake before the parker announces; the parker reads 0 and sleeps
//     with B queued. (A's producer then sees the parker, but B's did not.)
//   The pending increment is relaxed by argument, so there is no weaker
//   order to try; placement is what the re-check depends on.
#include "harness.hpp"
#include "weft/work_queue.hpp"

namespace {

using weft::work_queue_site;
using weft::work_queue_status;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;
using plain_int = backend::plain<int>;

template <class Policy>
struct model_item : weft::mpsc_queue_node<model_item<Policy>, backend> {
  plain_int payload;
  plain_int taken;
};

template <class Policy>
using queue_of = weft::work_queue<model_item<Policy>, backend, Policy>;

template <unsigned Producers, unsigned PerProducer, unsigned Consumers, unsigned Pops, class Policy,
          bool Preloaded = false>
struct mpmc_model : rl::test_suite<mpmc_model<Producers, PerProducer, Consumers, Pops, Policy, Preloaded>,
                                   (Preloaded ? 0 : Producers) + Consumers> {
  using item = model_item<Policy>;
  static constexpr unsigned total = Producers * PerProducer;
  static constexpr unsigned producer_threads = Preloaded ? 0 : Producers;

  queue_of<Policy> queue;
  item items[Producers][PerProducer];
  backend::atomic<int> taken_floor[Producers];

  static int payload_of(unsigned producer, unsigned sequence) {
    return static_cast<int>(100 + producer * 10 + sequence);
  }

  void take(item* node, const int (&floor_seen)[Producers]) {
    // Identify the node by address before touching it: a broken queue may
    // hand out its stub, which is not an item.
    for (unsigned p = 0; p < Producers; ++p) {
      for (unsigned k = 0; k < PerProducer; ++k) {
        if (node != &items[p][k]) continue;
        RL_ASSERT(node->taken.read() == 0);  // exactly once
        node->taken.write(1);
        RL_ASSERT(node->payload.read() == payload_of(p, k));  // contents visible
        RL_ASSERT(static_cast<int>(k) >= floor_seen[p]);      // FIFO per producer
        int seen = taken_floor[p].load(std::memory_order_relaxed);
        while (seen <= static_cast<int>(k) &&
               !taken_floor[p].compare_exchange_strong(seen, static_cast<int>(k) + 1, std::memory_order_release,
                                                       std::memory_order_relaxed)) {
        }
        return;
      }
    }
    RL_ASSERT(!"try_pop returned something that was never pushed");
  }

  void produce(unsigned producer) {
    for (unsigned k = 0; k < PerProducer; ++k) {
      items[producer][k].payload.write(payload_of(producer, k));
      queue.push(&items[producer][k]);
    }
  }

  void before() {
    if (Preloaded) {
      for (unsigned p = 0; p < Producers; ++p) produce(p);
    }
  }

  void thread(unsigned index) {
    if (index < producer_threads) {
      produce(index);
      return;
    }
    for (unsigned i = 0; i < Pops; ++i) {
      int floor_seen[Producers];
      for (unsigned p = 0; p < Producers; ++p) floor_seen[p] = taken_floor[p].load(std::memory_order_acquire);
      const auto r = queue.try_pop();
      if (r.node != nullptr) {
        RL_ASSERT(r.status == work_queue_status::popped);
        take(r.node, floor_seen);
      } else {
        backend::pause();
      }
    }
  }

  void after() {
    // Bounded: a broken queue may cycle.
    for (unsigned i = 0; i <= total; ++i) {
      int floor_seen[Producers];
      for (unsigned p = 0; p < Producers; ++p) floor_seen[p] = taken_floor[p].load(std::memory_order_relaxed);
      const auto r = queue.try_pop();
      if (r.node == nullptr) {
        RL_ASSERT(r.status == work_queue_status::empty);
        break;
      }
      take(r.node, floor_seen);
    }
    RL_ASSERT(queue.pending_relaxed() == 0);
    for (unsigned p = 0; p < Producers; ++p) {
      for (unsigned k = 0; k < PerProducer; ++k) RL_ASSERT(items[p][k].taken.read() == 1);  // nothing lost
    }
  }
};

template <unsigned Rounds, unsigned Pops, class Policy>
struct repush_model : rl::test_suite<repush_model<Rounds, Pops, Policy>, 3> {
  using item = model_item<Policy>;  // payload counts the node's trips; taken counts deliveries
  queue_of<Policy> queue;
  item items[2];

  // Takes a node; pushes it again if it has trips left.
  void deliver(item* node) {
    RL_ASSERT(node == &items[0] || node == &items[1]);
    const int trips = node->payload.read();
    node->taken.write(node->taken.read() + 1);
    RL_ASSERT(node->taken.read() == trips + 1);
    if (trips < static_cast<int>(Rounds)) {
      node->payload.write(trips + 1);
      queue.push(node);
    }
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (item& node : items) queue.push(&node);
      return;
    }
    for (unsigned i = 0; i < Pops; ++i) {
      const auto r = queue.try_pop();
      if (r.node != nullptr) {
        deliver(r.node);
      } else {
        backend::pause();
      }
    }
  }

  void after() {
    for (unsigned i = 0; i <= 2 * (Rounds + 1); ++i) {
      const auto r = queue.try_pop();
      if (r.node == nullptr) {
        RL_ASSERT(r.status == work_queue_status::empty);
        break;
      }
      deliver(r.node);
    }
    RL_ASSERT(queue.pending_relaxed() == 0);
    for (item& node : items) RL_ASSERT(node.taken.read() == static_cast<int>(Rounds) + 1);
  }
};

template <class Policy>
struct parker_model : rl::test_suite<parker_model<Policy>, 3> {
  using item = model_item<Policy>;
  queue_of<Policy> queue;
  item items[2];
  backend::atomic<std::uint32_t> idle_count;  // the handshake word
  plain_int saw_parker[2];
  plain_int slept;

  void before() { idle_count.store(0, std::memory_order_relaxed); }

  void thread(unsigned index) {
    if (index < 2) {
      queue.push(&items[index]);
      // The waker's check (idle_set::wake*): an RMW that reads the latest count.
      saw_parker[index].write(idle_count.fetch_add(0, std::memory_order_acq_rel) != 0);
      return;
    }
    if (auto r = queue.try_pop()) r.node->taken.write(1);
    idle_count.fetch_add(1, std::memory_order_acq_rel);  // announce (idle_set::prepare_park)
    slept.write(!queue.maybe_nonempty());
  }

  void after() {
    if (slept.read() == 0) return;
    for (unsigned p = 0; p < 2; ++p) {
      if (saw_parker[p].read() == 0) RL_ASSERT(items[p].taken.read() == 1);  // no stranded node
    }
  }
};

using verified = weft::verified;
using claim_relaxed = mutation::weaken<work_queue_site::claim_acquire, std::memory_order_relaxed>;
using unclaim_relaxed = mutation::weaken<work_queue_site::unclaim_release, std::memory_order_relaxed>;
using no_claim = mutation::drop<work_queue_site::claim>;
using count_after_link = mutation::drop<work_queue_site::pending_before_link>;

}  // namespace

WEFT_RELACY_CASE(work_queue, "exactly once, FIFO per producer, race-free (2 producers, 2 consumers)", random, pass,
                 mpmc_model<2, 2, 2, 3, verified>);
WEFT_RELACY_CASE(work_queue, "exactly once, FIFO per producer, race-free (1 producer, 2 consumers)", bound, pass,
                 mpmc_model<1, 2, 2, 2, verified>);
WEFT_RELACY_CASE(work_queue, "exactly once, FIFO, race-free (2 consumers, 2 nodes queued before)", full, pass,
                 mpmc_model<1, 2, 2, 1, verified, true>);
WEFT_RELACY_CASE(work_queue, "re-push of a popped node", random, pass, repush_model<2, 4, verified>);
WEFT_RELACY_CASE(work_queue, "re-push of a popped node", bound, pass, repush_model<1, 2, verified>);
WEFT_RELACY_CASE(work_queue, "parker re-check: no stranded node", random, pass, parker_model<verified>);
WEFT_RELACY_CASE(work_queue, "parker re-check: no stranded node", bound, pass, parker_model<verified>);
WEFT_RELACY_CASE(work_queue, "control: claim relaxed", random, caught, mpmc_model<2, 2, 2, 3, claim_relaxed>);
WEFT_RELACY_CASE(work_queue, "control: claim relaxed", full, caught, mpmc_model<1, 2, 2, 1, claim_relaxed, true>);
WEFT_RELACY_CASE(work_queue, "control: unclaim relaxed", random, caught, mpmc_model<2, 2, 2, 3, unclaim_relaxed>);
WEFT_RELACY_CASE(work_queue, "control: unclaim relaxed", full, caught, mpmc_model<1, 2, 2, 1, unclaim_relaxed, true>);
WEFT_RELACY_CASE(work_queue, "control: no claim", random, caught, mpmc_model<2, 2, 2, 3, no_claim>);
WEFT_RELACY_CASE(work_queue, "control: no claim", full, caught, mpmc_model<1, 2, 2, 1, no_claim, true>);
WEFT_RELACY_CASE(work_queue, "control: pending counted after linking", random, caught, parker_model<count_after_link>);
WEFT_RELACY_CASE(work_queue, "control: pending counted after linking", bound, caught, parker_model<count_after_link>);
