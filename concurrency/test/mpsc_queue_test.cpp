#include "weft/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "queue_test_nodes.hpp"

namespace {

using namespace weft::test;  // job, pop_all and the probe pieces (queue_test_nodes.hpp)
using weft::mpsc_queue_status;
using queue_t = weft::mpsc_queue<job>;

TEST(MpscQueue, EmptyQueueReportsEmpty) {
  queue_t queue;
  EXPECT_TRUE(queue.empty());
  const auto r = queue.try_pop();
  EXPECT_EQ(r.node, nullptr);
  EXPECT_EQ(r.status, mpsc_queue_status::empty);
  EXPECT_FALSE(r);
  EXPECT_TRUE(queue.empty());  // looking did not change anything
}

TEST(MpscQueue, SingleElementRoundTrip) {
  queue_t queue;
  job a{7};
  EXPECT_TRUE(queue.push(&a));
  EXPECT_FALSE(queue.empty());
  const auto r = queue.try_pop();
  ASSERT_EQ(r.node, &a);
  EXPECT_EQ(r.status, mpsc_queue_status::popped);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::empty);
}

TEST(MpscQueue, PopsInPushOrder) {
  queue_t queue;
  job n[6] = {job{0}, job{1}, job{2}, job{3}, job{4}, job{5}};
  for (job& j : n) queue.push(&j);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, InterleavedPushAndPopStayFifo) {
  // Every pop of the last node re-queues the stub; the order must survive it.
  queue_t queue;
  job n[5] = {job{0}, job{1}, job{2}, job{3}, job{4}};
  queue.push(&n[0]);
  queue.push(&n[1]);
  EXPECT_EQ(queue.try_pop().node, &n[0]);
  queue.push(&n[2]);
  EXPECT_EQ(queue.try_pop().node, &n[1]);
  EXPECT_EQ(queue.try_pop().node, &n[2]);  // the last node: the stub goes behind it
  EXPECT_TRUE(queue.empty());
  queue.push(&n[3]);
  queue.push(&n[4]);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{3, 4}));
}

TEST(MpscQueue, PushReportsWhetherAnUntakenNodeWasAhead) {
  queue_t queue;
  job a{1}, b{2}, c{3};
  EXPECT_TRUE(queue.push(&a));
  EXPECT_FALSE(queue.push(&b));
  EXPECT_EQ(queue.try_pop().node, &a);
  EXPECT_FALSE(queue.push(&c));  // b is still queued
  EXPECT_EQ(pop_all(queue), (std::vector<int>{2, 3}));
  EXPECT_TRUE(queue.push(&a));  // drained: the next push is the first again
  EXPECT_EQ(queue.try_pop().node, &a);
}

TEST(MpscQueue, PoppedNodesCanBePushedAgain) {
  queue_t queue;
  job a{1}, b{2};
  for (int round = 0; round < 4; ++round) {
    queue.push(&a);
    queue.push(&b);
    EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2})) << "round " << round;
    queue.push(&b);
    queue.push(&a);
    EXPECT_EQ(pop_all(queue), (std::vector<int>{2, 1})) << "round " << round;
  }
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, PushChainKeepsChainOrderBehindEarlierNodes) {
  queue_t queue;
  job x{10}, y{20};
  job chain[3] = {job{1}, job{2}, job{3}};
  queue_t::set_next(&chain[0], &chain[1]);
  queue_t::set_next(&chain[1], &chain[2]);
  EXPECT_TRUE(queue.push(&x));
  EXPECT_FALSE(queue.push_chain(&chain[0], &chain[2]));
  queue.push(&y);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{10, 1, 2, 3, 20}));
}

TEST(MpscQueue, PushChainIntoEmptyQueueAndChainOfOne) {
  queue_t queue;
  job chain[2] = {job{1}, job{2}};
  queue_t::set_next(&chain[0], &chain[1]);
  EXPECT_TRUE(queue.push_chain(&chain[0], &chain[1]));
  EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2}));
  job single{5};
  EXPECT_TRUE(queue.push_chain(&single, &single));
  EXPECT_EQ(pop_all(queue), (std::vector<int>{5}));
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, CopyOfAQueuedNodeIsAnUnlinkedNode) {
  queue_t queue;
  job a{1}, b{2};
  queue.push(&a);
  queue.push(&b);
  job copy = a;  // a is linked to b; the copy must not be
  std::vector<job> more(2, copy);
  queue.push(&copy);
  queue.push(&more[1]);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2, 1, 1}));
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, UsageExampleFromHeaderCompilesAndRuns) {
  queue_t ready;
  job j{42};
  int wakes = 0, ran = 0;
  if (ready.push(&j)) ++wakes;
  for (;;) {
    auto r = ready.try_pop();
    if (r.node) { ran += r.node->value; continue; }
    if (r.status == mpsc_queue_status::mid_push) continue;
    break;
  }
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(ran, 42);
}

// ---------------------------------------------------------------------------
// The blocking window, made deterministic by the probe backend
// (queue_test_nodes.hpp): a producer stopped between its exchange and its link
// store (the only release store of a non-null link), or code run right after a
// relaxed load (the consumer's head checks).
using probe_queue = weft::mpsc_queue<probe_job, probe>;

TEST(MpscQueueWindow, ProducerInsideItsWindowIsReportedAsMidPushNotEmpty) {
  probe_queue queue;
  probe_job a{1};
  parked_producer producer(queue, a);
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::mid_push);
  EXPECT_FALSE(queue.empty());
  producer.release_and_join();
  const auto r = queue.try_pop();
  ASSERT_EQ(r.node, &a);
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::empty);
}

TEST(MpscQueueWindow, NodeBeforeTheWindowIsHeldBackAndLaterOnesQueueBehindIt) {
  probe_queue queue;
  probe_job a{1}, b{2}, c{3};
  queue.push(&a);
  parked_producer producer(queue, b);  // swapped in behind a, not linked
  // a is reachable, but handing it out needs its successor's link.
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::mid_push);
  EXPECT_FALSE(queue.push(&c));  // queues behind b's window
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::mid_push);
  producer.release_and_join();
  EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueueWindow, ProducerSlippingInBeforeTheStubIsRequeuedLosesNothing) {
  // The consumer holds a, sees a is the head, and decides to queue the stub
  // behind it; before its exchange a producer swaps b in and stops in its
  // window. The stub lands behind b; a must wait for b's link; a later push
  // lands behind the stub and is reported as "first" (the documented spurious
  // true); nothing is lost or duplicated.
  probe_queue queue;
  probe_job a{1}, b{2}, c{3};
  queue.push(&a);
  std::unique_ptr<parked_producer<probe_queue>> producer;
  probe::after_relaxed_load = [&] { producer = std::make_unique<parked_producer<probe_queue>>(queue, b); };
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::mid_push);
  ASSERT_NE(producer, nullptr) << "the hook did not run inside try_pop";
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::mid_push);
  EXPECT_FALSE(queue.empty());
  EXPECT_TRUE(queue.push(&c));
  producer->release_and_join();
  EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop().status, mpsc_queue_status::empty);
}

}  // namespace
