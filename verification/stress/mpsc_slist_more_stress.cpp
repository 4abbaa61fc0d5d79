// Stress: push_chain under real threads. Producers push their nodes in chains
// of 1 to 4 (linked newest-first, so that flush_fifo() yields them in sequence
// order, as push_chain documents); the consumer takes everything with
// flush_fifo(). Every node must arrive exactly once and each producer's nodes
// in sequence order, across chains and single pushes alike.
#include <algorithm>

#include "stress.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

template <class S>
class MpscSlistChainStress : public ::testing::Test {};
TYPED_TEST_SUITE(MpscSlistChainStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct item : weft::slist_node<item<S>, S> {
  unsigned producer = 0;
  std::uint64_t sequence = 0;
  int received = 0;  // written by the one consumer, read after join
};

TYPED_TEST(MpscSlistChainStress, ChainsArriveExactlyOnceInProducerOrder) {
  using S = TypeParam;
  using list_t = weft::mpsc_slist<item<S>, S>;
  constexpr unsigned producers = 3;
  const std::uint64_t per_producer = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 200'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::vector<std::vector<item<S>>> nodes(producers);
  for (unsigned p = 0; p < producers; ++p) {
    nodes[p] = std::vector<item<S>>(per_producer);
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      nodes[p][i].producer = p;
      nodes[p][i].sequence = i;
    }
  }
  list_t list;
  std::atomic<unsigned> producers_done{0};
  std::uint64_t received = 0;
  std::vector<std::uint64_t> next_expected(producers, 0);
  bool order_ok = true;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      auto& mine = nodes[index];
      std::uint64_t i = 0;
      for (unsigned round = 0; i < per_producer; ++round) {
        const std::uint64_t length = std::min<std::uint64_t>(1 + (round + index) % 4, per_producer - i);
        // Newest first: mine[i + length - 1] -> ... -> mine[i].
        for (std::uint64_t k = i + length - 1; k > i; --k) mine[k].slist_next.write(&mine[k - 1]);
        list.push_chain(&mine[i + length - 1], &mine[i]);
        i += length;
      }
      producers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    for (;;) {
      const bool finished = producers_done.load(std::memory_order_acquire) == producers;
      item<S>* n = list.flush_fifo();
      for (; n != nullptr; n = list_t::next(n)) {
        if (n->sequence != next_expected[n->producer]) order_ok = false;
        next_expected[n->producer] = n->sequence + 1;
        ++n->received;
        ++received;
      }
      if (finished && list.empty()) break;
      S::yield();
    }
  });

  EXPECT_EQ(received, producers * per_producer);
  EXPECT_TRUE(order_ok) << "flush_fifo returned a producer's nodes out of order across chains";
  for (auto& per : nodes)
    for (auto& n : per) ASSERT_EQ(n.received, 1) << "producer " << n.producer << " node " << n.sequence;
}

}  // namespace
