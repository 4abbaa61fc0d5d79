// Stress: producers push every node exactly once while one consumer drains
// with a mix of flush_fifo() and pop(); every node must arrive exactly once
// and, within each producer, in push order when taken by flush_fifo().
#include <algorithm>

#include "stress.hpp"
#include "weft/drain_gate.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

template <class S>
class MpscSlistStress : public ::testing::Test {};
TYPED_TEST_SUITE(MpscSlistStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct item : weft::slist_node<item<S>, S> {
  unsigned producer = 0;
  std::uint64_t sequence = 0;
  int received = 0;  // written by the one consumer, read after join
};

// Per producer, its nodes numbered 0, 1, ... in the order it pushes them.
template <class S>
std::vector<std::vector<item<S>>> numbered_nodes(unsigned producers, std::uint64_t per_producer) {
  std::vector<std::vector<item<S>>> nodes(producers);
  for (unsigned p = 0; p < producers; ++p) {
    nodes[p] = std::vector<item<S>>(per_producer);
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      nodes[p][i].producer = p;
      nodes[p][i].sequence = i;
    }
  }
  return nodes;
}

// Producers hand their numbered nodes to `push_all(list, nodes, index)`; one
// consumer takes them with flush_fifo() (and, if `mix_pop`, every fourth round
// with pop(), which takes the newest node and is not order-checked). At the end every
// node must have arrived exactly once and, in flush_fifo() batches, in each
// producer's sequence order.
template <class S, class PushAll>
void expect_exactly_once_in_order(std::uint64_t per_producer_plain, bool mix_pop, PushAll push_all) {
  using list_t = weft::mpsc_slist<item<S>, S>;
  constexpr unsigned producers = 3;
  const std::uint64_t per_producer =
      weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? per_producer_plain / 10 : per_producer_plain);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  auto nodes = numbered_nodes<S>(producers, per_producer);
  list_t list;
  std::atomic<unsigned> producers_done{0};
  std::uint64_t received = 0;
  std::vector<std::uint64_t> next_expected(producers, 0);
  bool order_ok = true;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      push_all(list, nodes[index], index);
      producers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    for (std::uint64_t round = 1;; ++round) {
      const bool finished = producers_done.load(std::memory_order_acquire) == producers;
      if (mix_pop && round % 4 == 0) {
        if (item<S>* n = list.pop()) {
          // Not order-checked: pop takes the newest node. Nodes still in the
          // list stay newer than any flushed before, so the check below holds.
          ++n->received;
          ++received;
        }
      } else {
        for (item<S>* n = list.flush_fifo(); n != nullptr;) {
          item<S>* next = list_t::next(n);
          if (n->sequence < next_expected[n->producer]) order_ok = false;
          next_expected[n->producer] = n->sequence + 1;
          ++n->received;
          ++received;
          n = next;
        }
      }
      if (finished && list.empty()) break;
      S::yield();
    }
  });

  EXPECT_EQ(received, producers * per_producer);
  EXPECT_TRUE(order_ok) << "flush_fifo returned a producer's nodes out of push order";
  for (auto& per : nodes)
    for (auto& n : per) ASSERT_EQ(n.received, 1) << "producer " << n.producer << " node " << n.sequence;
}

TYPED_TEST(MpscSlistStress, EveryNodeExactlyOnce) {
  using S = TypeParam;
  expect_exactly_once_in_order<S>(200'000, /*mix_pop=*/true, [](auto& list, auto& mine, unsigned) {
    for (auto& n : mine) list.push(&n);
  });
}

// The two primitives together, as the executor uses them: producers push into
// an inbox and schedule; whoever is told to enqueue hands the process to a
// drainer thread. Nothing may be stranded in the inbox at the end.
TYPED_TEST(MpscSlistStress, InboxWithDrainGateStrandsNothing) {
  using S = TypeParam;
  constexpr unsigned producers = 2;
  const std::uint64_t per_producer = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 10'000 : 100'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::vector<std::vector<item<S>>> nodes(producers, std::vector<item<S>>(per_producer));
  weft::mpsc_slist<item<S>, S> inbox;
  weft::drain_gate<S> gate;
  std::atomic<int> ready{0};  // the ready list: how many times the process was enqueued
  std::atomic<unsigned> producers_done{0};
  std::uint64_t drained = 0;
  int drains = 0;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      for (auto& n : nodes[index]) {
        inbox.push(&n);
        if (gate.schedule()) ready.fetch_add(1, std::memory_order_release);
      }
      producers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    for (;;) {
      const bool finished = producers_done.load(std::memory_order_acquire) == producers;
      int tokens = ready.load(std::memory_order_acquire);
      if (tokens > 0 && ready.compare_exchange_strong(tokens, tokens - 1, std::memory_order_acquire)) {
        gate.begin_drain();
        do {
          ++drains;
          for (item<S>* n = inbox.flush(); n != nullptr; n = weft::mpsc_slist<item<S>, S>::next(n)) ++drained;
        } while (gate.finish_drain());
      } else if (finished) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
  });

  EXPECT_EQ(drained, producers * per_producer) << "work stranded in the inbox: a lost schedule";
  EXPECT_EQ(ready.load(), 0);
  EXPECT_GE(drains, 1);
}

// push_chain under real threads: producers push their nodes in chains of 1 to
// 4, linked newest-first so that flush_fifo() yields them in sequence order (as
// push_chain documents); every node must arrive exactly once and each
// producer's nodes in order, across chains and single pushes alike.
TYPED_TEST(MpscSlistStress, ChainsArriveExactlyOnceInProducerOrder) {
  using S = TypeParam;
  expect_exactly_once_in_order<S>(200'000, /*mix_pop=*/false, [](auto& list, auto& mine, unsigned index) {
    const std::uint64_t count = mine.size();
    std::uint64_t i = 0;
    for (unsigned round = 0; i < count; ++round) {
      const std::uint64_t length = std::min<std::uint64_t>(1 + (round + index) % 4, count - i);
      // Newest first: mine[i + length - 1] -> ... -> mine[i].
      for (std::uint64_t k = i + length - 1; k > i; --k) mine[k].slist_next.write(&mine[k - 1]);
      list.push_chain(&mine[i + length - 1], &mine[i]);
      i += length;
    }
  });
}

}  // namespace
