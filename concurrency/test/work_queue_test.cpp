#include "weft/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "queue_test_nodes.hpp"

namespace {

using namespace weft::test;  // job, pop_all and the probe pieces (queue_test_nodes.hpp)
using weft::work_queue_status;
using queue_t = weft::work_queue<job>;

TEST(WorkQueue, EmptyQueueReportsEmptyAndNothingPending) {
  queue_t queue;
  EXPECT_EQ(queue.pending_relaxed(), 0u);
  EXPECT_FALSE(queue.maybe_nonempty());
  const auto r = queue.try_pop();
  EXPECT_EQ(r.node, nullptr);
  EXPECT_EQ(r.status, work_queue_status::empty);
  EXPECT_FALSE(r);
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty) << "an empty pop must release the claim";
}

TEST(WorkQueue, PopsInPushOrder) {
  queue_t queue;
  job n[6] = {job{0}, job{1}, job{2}, job{3}, job{4}, job{5}};
  for (job& j : n) queue.push(&j);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
}

TEST(WorkQueue, InterleavedPushAndPopStayFifo) {
  queue_t queue;
  job n[5] = {job{0}, job{1}, job{2}, job{3}, job{4}};
  queue.push(&n[0]);
  queue.push(&n[1]);
  EXPECT_EQ(queue.try_pop().node, &n[0]);
  queue.push(&n[2]);
  EXPECT_EQ(queue.try_pop().node, &n[1]);
  EXPECT_EQ(queue.try_pop().node, &n[2]);
  queue.push(&n[3]);
  queue.push(&n[4]);
  EXPECT_EQ(pop_all(queue), (std::vector<int>{3, 4}));
}

TEST(WorkQueue, PushReturnsTrueOnlyWhenNothingWasPending) {
  queue_t queue;
  job a{1}, b{2}, c{3};
  EXPECT_TRUE(queue.push(&a));
  EXPECT_FALSE(queue.push(&b));
  EXPECT_EQ(queue.try_pop().node, &a);
  EXPECT_FALSE(queue.push(&c)) << "b is still pending";
  EXPECT_EQ(pop_all(queue), (std::vector<int>{2, 3}));
  EXPECT_TRUE(queue.push(&a)) << "drained: the next push is the first again";
  EXPECT_EQ(queue.try_pop().node, &a);
}

TEST(WorkQueue, PendingCountsPushedNotYetPopped) {
  queue_t queue;
  job n[3] = {job{0}, job{1}, job{2}};
  for (unsigned i = 0; i < 3; ++i) {
    queue.push(&n[i]);
    EXPECT_EQ(queue.pending_relaxed(), i + 1);
  }
  EXPECT_TRUE(queue.maybe_nonempty());
  for (unsigned i = 3; i > 0; --i) {
    ASSERT_TRUE(queue.try_pop());
    EXPECT_EQ(queue.pending_relaxed(), i - 1);
  }
  EXPECT_FALSE(queue.maybe_nonempty());
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
  EXPECT_EQ(queue.pending_relaxed(), 0u) << "an empty pop uncounts nothing";
}

TEST(WorkQueue, APoppedNodeCanBePushedAgainManyTimes) {
  queue_t queue;
  job a{1}, b{2};
  for (int round = 0; round < 1000; ++round) {
    EXPECT_TRUE(queue.push(&a));
    EXPECT_FALSE(queue.push(&b));
    ASSERT_EQ(queue.try_pop().node, &a) << "round " << round;
    EXPECT_FALSE(queue.push(&a));  // re-pushed while b is still queued
    ASSERT_EQ(queue.try_pop().node, &b) << "round " << round;
    ASSERT_EQ(queue.try_pop().node, &a) << "round " << round;
    ASSERT_EQ(queue.try_pop().status, work_queue_status::empty) << "round " << round;
  }
  EXPECT_EQ(queue.pending_relaxed(), 0u);
}

TEST(WorkQueue, UsageExampleFromHeaderCompilesAndRuns) {
  queue_t ready;
  job j{42};
  int wakes = 0, ran = 0, retries = 0;
  if (ready.push(&j)) ++wakes;
  for (;;) {
    if (auto r = ready.try_pop()) {
      ran += r.node->value;
      continue;
    } else if (r.status == work_queue_status::empty) {
      break;
    }
    ++retries;
  }
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(ran, 42);
  EXPECT_EQ(retries, 0);
  EXPECT_FALSE(ready.maybe_nonempty());
}

TEST(WorkQueue, ConcurrentProducersAndConsumersDeliverEachNodeOnce) {
  // A smoke test; verification/stress has the real one.
  constexpr int per_thread = 2000;
  queue_t queue;
  std::vector<job> nodes(2 * per_thread);
  std::vector<std::atomic<int>> received(nodes.size());
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        nodes[static_cast<std::size_t>(t * per_thread + i)].value = t * per_thread + i;
        queue.push(&nodes[static_cast<std::size_t>(t * per_thread + i)]);
      }
    });
    threads.emplace_back([&] {
      while (taken.load(std::memory_order_relaxed) < 2 * per_thread) {
        if (auto r = queue.try_pop()) {
          received[static_cast<std::size_t>(r.node->value)].fetch_add(1, std::memory_order_relaxed);
          taken.fetch_add(1, std::memory_order_relaxed);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& r : received) EXPECT_EQ(r.load(), 1);
  EXPECT_EQ(queue.pending_relaxed(), 0u);
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
}

// ---------------------------------------------------------------------------
// Deterministic windows, through the probe backend (queue_test_nodes.hpp):
// its before_acquire_load hook fires while a try_pop holds the claim (only the
// consumer's link loads are acquire loads); a parked_producer stops after
// counting and swapping its node in, before linking it.
using probe_queue = weft::work_queue<probe_job, probe>;

TEST(WorkQueueWindow, APopWhileAnotherHoldsTheClaimIsContendedAndTakesNothing) {
  probe_queue queue;
  probe_job a{1}, b{2};
  queue.push(&a);
  queue.push(&b);
  weft::work_queue_result<probe_job> inner{nullptr, work_queue_status::popped};
  std::uint32_t pending_inside = 0;
  probe::before_acquire_load = [&] {
    inner = queue.try_pop();  // the outer try_pop holds the claim right now
    pending_inside = queue.pending_relaxed();
  };
  const auto outer = queue.try_pop();
  EXPECT_EQ(inner.node, nullptr);
  EXPECT_EQ(inner.status, work_queue_status::contended);
  EXPECT_EQ(pending_inside, 2u) << "a contended pop uncounts nothing";
  ASSERT_EQ(outer.node, &a) << "the holder still takes the oldest";
  EXPECT_EQ(queue.try_pop().node, &b) << "the claim is free again";
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
}

TEST(WorkQueueWindow, ContendedAlsoOnAnEmptyQueue) {
  probe_queue queue;
  probe_job a{1};
  work_queue_status inner = work_queue_status::popped;
  probe::before_acquire_load = [&] { inner = queue.try_pop().status; };
  EXPECT_EQ(queue.try_pop().status, work_queue_status::empty);
  EXPECT_EQ(inner, work_queue_status::contended);
  queue.push(&a);
  EXPECT_EQ(queue.try_pop().node, &a);
}

TEST(WorkQueueWindow, AMidPushNodeIsPendingButNotYetPoppable) {
  probe_queue queue;
  probe_job a{1}, b{2};
  parked_producer producer(queue, a);
  EXPECT_EQ(queue.pending_relaxed(), 1u) << "counted before it is linked";
  EXPECT_TRUE(queue.maybe_nonempty());
  EXPECT_EQ(queue.try_pop().status, work_queue_status::mid_push);
  EXPECT_FALSE(queue.push(&b)) << "a is already counted";
  EXPECT_EQ(queue.try_pop().status, work_queue_status::mid_push) << "b waits behind a's window";
  EXPECT_TRUE(producer.release_and_join()) << "a's push was the first";
  EXPECT_EQ(pop_all(queue), (std::vector<int>{1, 2}));
  EXPECT_EQ(queue.pending_relaxed(), 0u);
}

}  // namespace
