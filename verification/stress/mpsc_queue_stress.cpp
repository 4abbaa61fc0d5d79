// Stress: producers push every node exactly once (one of them in chains) while
// one consumer pops; every node must arrive exactly once and each producer's
// nodes in push order. A second test recycles a small pool of nodes through
// the queue and back, so links are cleared and nodes re-pushed while the
// consumer still walks the queue.
#include <cstdio>

#include "stress.hpp"
#include "weft/mpsc_queue.hpp"

namespace {

using weft::mpsc_queue_status;

template <class S>
class MpscQueueStress : public ::testing::Test {};
TYPED_TEST_SUITE(MpscQueueStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct item : weft::mpsc_queue_node<item<S>, S> {
  unsigned producer = 0;
  std::uint64_t sequence = 0;
  int received = 0;  // written by the one consumer, read after join
};

template <class S>
std::uint64_t per_producer_count(std::uint64_t os_count) {
  return weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? os_count / 10 : os_count);
}

TYPED_TEST(MpscQueueStress, EveryNodeExactlyOnceInProducerOrder) {
  using S = TypeParam;
  using queue_t = weft::mpsc_queue<item<S>, S>;
  constexpr unsigned producers = 3;
  constexpr std::uint64_t chain_length = 4;  // the last producer pushes chains
  const std::uint64_t per_producer = per_producer_count<S>(200'000) / chain_length * chain_length;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::vector<std::vector<item<S>>> nodes(producers);
  for (unsigned p = 0; p < producers; ++p) {
    nodes[p] = std::vector<item<S>>(per_producer);
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      nodes[p][i].producer = p;
      nodes[p][i].sequence = i;
    }
  }
  queue_t queue;
  std::uint64_t received = 0, mid_push_seen = 0;
  std::vector<std::uint64_t> next_expected(producers, 0);
  bool order_ok = true;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      auto& mine = nodes[index];
      if (index + 1 < producers) {
        for (auto& n : mine) queue.push(&n);
        return;
      }
      for (std::uint64_t i = 0; i < per_producer; i += chain_length) {
        for (std::uint64_t k = i; k + 1 < i + chain_length; ++k) queue_t::set_next(&mine[k], &mine[k + 1]);
        queue.push_chain(&mine[i], &mine[i + chain_length - 1]);
      }
      return;
    }
    const std::uint64_t total = producers * per_producer;
    while (received < total) {
      const auto r = queue.try_pop();
      if (r.node == nullptr) {
        if (r.status == mpsc_queue_status::mid_push) ++mid_push_seen;
        S::pause();
        continue;
      }
      item<S>* n = r.node;
      if (n->sequence != next_expected[n->producer]) order_ok = false;
      next_expected[n->producer] = n->sequence + 1;
      ++n->received;
      ++received;
    }
  });

  EXPECT_EQ(received, producers * per_producer);
  EXPECT_TRUE(order_ok) << "a producer's nodes came out of push order";
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::empty);
  for (auto& per : nodes)
    for (auto& n : per) ASSERT_EQ(n.received, 1) << "producer " << n.producer << " node " << n.sequence;
  std::printf("[ info     ] %llu mid_push results while %llu nodes moved\n",
              static_cast<unsigned long long>(mid_push_seen), static_cast<unsigned long long>(received));
}

// Each producer owns a pool of a few nodes. It stamps a node with its next
// sequence number and pushes it; the consumer checks the order and returns the
// node through the producer's own return queue (an mpsc_queue whose consumer
// is that producer). Nodes are therefore re-pushed constantly, often while the
// consumer is still right behind them.
TYPED_TEST(MpscQueueStress, RecycledNodesStayFifoAndExactlyOnce) {
  using S = TypeParam;
  using queue_t = weft::mpsc_queue<item<S>, S>;
  constexpr unsigned producers = 2;
  constexpr unsigned pool_size = 4;
  const std::uint64_t per_producer = per_producer_count<S>(100'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::vector<std::vector<item<S>>> pools(producers);
  for (auto& pool : pools) pool = std::vector<item<S>>(pool_size);
  queue_t work;
  std::vector<queue_t> returns(producers);
  std::uint64_t received = 0;
  std::vector<std::uint64_t> next_expected(producers, 0);
  bool order_ok = true;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      unsigned fresh = 0;  // pool nodes never pushed yet
      for (std::uint64_t seq = 0; seq < per_producer; ++seq) {
        item<S>* n = nullptr;
        if (fresh < pool_size) {
          n = &pools[index][fresh++];
        } else {
          for (;;) {
            const auto r = returns[index].try_pop();
            if (r.node != nullptr) { n = r.node; break; }
            S::yield();  // the pool is empty: let the consumer run
          }
        }
        n->producer = index;
        n->sequence = seq;
        work.push(n);
      }
      return;
    }
    const std::uint64_t total = producers * per_producer;
    while (received < total) {
      const auto r = work.try_pop();
      if (r.node == nullptr) {
        S::pause();
        continue;
      }
      item<S>* n = r.node;
      const unsigned p = n->producer;
      if (n->sequence != next_expected[p]) order_ok = false;
      next_expected[p] = n->sequence + 1;
      ++received;
      returns[p].push(n);
    }
  });

  EXPECT_EQ(received, producers * per_producer);
  EXPECT_TRUE(order_ok) << "a recycled node came out of order (or twice)";
  for (unsigned p = 0; p < producers; ++p) EXPECT_EQ(next_expected[p], per_producer) << "producer " << p;
  EXPECT_TRUE(work.empty());
}

}  // namespace
