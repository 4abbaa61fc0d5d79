// Stress: four producers push every node once while three consumers pop
// concurrently; every node must arrive exactly once and each producer's nodes
// in push order across consumers. A second test sends a small pool of nodes
// around the queue many times: a consumer that pops a node pushes it again, so
// nodes are re-pushed while other consumers are right behind them.
//
// Per-producer order across consumers: each producer has a "floor" (1 + the
// highest sequence taken so far), raised with release after each take. A
// consumer reads the floors with acquire BEFORE its try_pop; the node it then
// gets must be at or above its producer's floor, since every take it has seen
// happened-before its own pop, and pops take the oldest node in claim order.
#include <cstdio>
#include <memory>

#include "stress.hpp"
#include "weft/work_queue.hpp"

namespace {

using weft::work_queue_status;

template <class S>
class WorkQueueStress : public ::testing::Test {};
TYPED_TEST_SUITE(WorkQueueStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct item : weft::mpsc_queue_node<item<S>, S> {
  unsigned producer = 0;
  std::uint64_t sequence = 0;
  std::atomic<int> received{0};
  int trips = 0;  // plain: written by each taker before it re-pushes (TSAN checks the hand-off)
};

template <class S>
std::uint64_t scaled_count(std::uint64_t os_count) {
  return weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? os_count / 10 : os_count);
}

// Tallies of what try_pop said, for the log line.
struct status_counts {
  std::atomic<std::uint64_t> contended{0}, mid_push{0}, empty{0};
  void note(work_queue_status s) {
    auto& counter = s == work_queue_status::contended ? contended : s == work_queue_status::mid_push ? mid_push : empty;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  void print(std::uint64_t moved) const {
    std::printf("[ info     ] %llu nodes moved; %llu contended, %llu mid_push, %llu empty results\n",
                static_cast<unsigned long long>(moved), static_cast<unsigned long long>(contended.load()),
                static_cast<unsigned long long>(mid_push.load()), static_cast<unsigned long long>(empty.load()));
  }
};

TYPED_TEST(WorkQueueStress, EveryNodeExactlyOnceInProducerOrderAcrossConsumers) {
  using S = TypeParam;
  constexpr unsigned producers = 4;
  constexpr unsigned consumers = 3;
  const std::uint64_t per_producer = scaled_count<S>(100'000);
  const std::uint64_t total = producers * per_producer;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::vector<std::unique_ptr<item<S>[]>> nodes(producers);
  for (unsigned p = 0; p < producers; ++p) {
    nodes[p] = std::make_unique<item<S>[]>(per_producer);
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      nodes[p][i].producer = p;
      nodes[p][i].sequence = i;
    }
  }
  weft::work_queue<item<S>, S> queue;
  std::atomic<std::uint64_t> taken_floor[producers] = {};
  std::atomic<std::uint64_t> received{0}, order_violations{0}, first_pushes{0};
  status_counts statuses;

  weft::stress::run_threads(producers + consumers, [&](unsigned index) {
    if (index < producers) {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        if (queue.push(&nodes[index][i])) first_pushes.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    while (received.load(std::memory_order_relaxed) < total) {
      std::uint64_t floor_seen[producers];
      for (unsigned p = 0; p < producers; ++p) floor_seen[p] = taken_floor[p].load(std::memory_order_acquire);
      const auto r = queue.try_pop();
      if (!r) {
        statuses.note(r.status);
        S::pause();
        continue;
      }
      item<S>* n = r.node;
      if (n->sequence < floor_seen[n->producer]) order_violations.fetch_add(1, std::memory_order_relaxed);
      std::uint64_t seen = taken_floor[n->producer].load(std::memory_order_relaxed);
      while (seen <= n->sequence && !taken_floor[n->producer].compare_exchange_weak(
                                        seen, n->sequence + 1, std::memory_order_release, std::memory_order_relaxed)) {
      }
      n->received.fetch_add(1, std::memory_order_relaxed);
      received.fetch_add(1, std::memory_order_relaxed);
    }
  });

  EXPECT_EQ(received.load(), total);
  EXPECT_EQ(order_violations.load(), 0u) << "a producer's node came out after a later one of the same producer";
  EXPECT_GE(first_pushes.load(), 1u);
  EXPECT_EQ(queue.pending_relaxed(), 0u);
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
  for (unsigned p = 0; p < producers; ++p) {
    EXPECT_EQ(taken_floor[p].load(), per_producer) << "producer " << p;
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      ASSERT_EQ(nodes[p][i].received.load(), 1) << "producer " << p << " node " << i;
    }
  }
  statuses.print(received.load());
}

// Each of a few nodes makes `trips` journeys: whoever pops it counts the
// delivery, bumps its plain trip count and, until the journeys are done,
// pushes it again. Producers only seed the pool; after that the consumers are
// the producers.
TYPED_TEST(WorkQueueStress, RepushedNodesAreDeliveredOncePerTrip) {
  using S = TypeParam;
  constexpr unsigned consumers = 3;
  constexpr unsigned pool_size = 8;
  const int trips = static_cast<int>(scaled_count<S>(100'000) / pool_size);
  const std::uint64_t total = static_cast<std::uint64_t>(trips) * pool_size;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  item<S> pool[pool_size];
  weft::work_queue<item<S>, S> queue;
  std::atomic<std::uint64_t> received{0}, trip_mismatches{0};
  status_counts statuses;

  weft::stress::run_threads(consumers + 1, [&](unsigned index) {
    if (index == consumers) {
      for (auto& n : pool) queue.push(&n);
      return;
    }
    while (received.load(std::memory_order_relaxed) < total) {
      const auto r = queue.try_pop();
      if (!r) {
        statuses.note(r.status);
        S::pause();
        continue;
      }
      item<S>* n = r.node;
      const int delivery = n->received.fetch_add(1, std::memory_order_relaxed);
      if (delivery != n->trips) trip_mismatches.fetch_add(1, std::memory_order_relaxed);
      ++n->trips;
      received.fetch_add(1, std::memory_order_relaxed);
      if (n->trips < trips) queue.push(n);
    }
  });

  EXPECT_EQ(received.load(), total);
  EXPECT_EQ(trip_mismatches.load(), 0u) << "a node was delivered twice for one push, or a taker's write was lost";
  for (auto& n : pool) {
    EXPECT_EQ(n.received.load(), trips);
    EXPECT_EQ(n.trips, trips);
  }
  EXPECT_EQ(queue.pending_relaxed(), 0u);
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
  statuses.print(received.load());
}

}  // namespace
