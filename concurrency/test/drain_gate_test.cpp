#include "weft/drain_gate.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "weft/mpsc_slist.hpp"

namespace {

using gate_t = weft::drain_gate<>;

TEST(DrainGate, FirstScheduleFromIdleMustEnqueue) {
  gate_t gate;
  EXPECT_EQ(gate.state_relaxed(), gate_t::idle);
  EXPECT_FALSE(gate.needs_drain_relaxed());
  EXPECT_TRUE(gate.schedule());
  EXPECT_EQ(gate.state_relaxed(), gate_t::queued);
  EXPECT_TRUE(gate.needs_drain_relaxed());
}

TEST(DrainGate, ScheduleWhileQueuedDoesNotEnqueueTwice) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  EXPECT_FALSE(gate.schedule());
  EXPECT_FALSE(gate.schedule());
  EXPECT_EQ(gate.state_relaxed(), gate_t::queued);
}

TEST(DrainGate, DrainWithNoNewWorkReturnsToIdle) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  EXPECT_EQ(gate.state_relaxed(), gate_t::draining);
  EXPECT_FALSE(gate.needs_drain_relaxed());  // begin_drain consumed the flag
  EXPECT_FALSE(gate.finish_drain());
  EXPECT_EQ(gate.state_relaxed(), gate_t::idle);
  EXPECT_FALSE(gate.needs_drain_relaxed());
  EXPECT_TRUE(gate.schedule());  // and the next schedule enqueues again
  EXPECT_EQ(gate.state_relaxed(), gate_t::queued);
}

TEST(DrainGate, ScheduleDuringDrainMakesTheDrainerGoAgain) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  EXPECT_FALSE(gate.schedule());  // the drainer owns it
  EXPECT_TRUE(gate.finish_drain());
  EXPECT_EQ(gate.state_relaxed(), gate_t::draining);
  EXPECT_FALSE(gate.finish_drain());
  EXPECT_EQ(gate.state_relaxed(), gate_t::idle);
}

TEST(DrainGate, ScheduleWhileDrainingWithNeedSetReturnsFalseAndKeepsNeed) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  ASSERT_FALSE(gate.schedule());
  ASSERT_TRUE(gate.needs_drain_relaxed());
  EXPECT_FALSE(gate.schedule());  // NEED already set: still not the caller's to enqueue
  EXPECT_TRUE(gate.needs_drain_relaxed());
  EXPECT_EQ(gate.state_relaxed(), gate_t::draining);
}

TEST(DrainGate, FinishDrainWithNeedReturnsTrueAndClearsIt) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  ASSERT_FALSE(gate.schedule());
  EXPECT_TRUE(gate.finish_drain());
  EXPECT_FALSE(gate.needs_drain_relaxed());
  EXPECT_EQ(gate.state_relaxed(), gate_t::draining);  // the caller still owns it
  EXPECT_FALSE(gate.schedule());                      // so a new schedule does not enqueue
  EXPECT_TRUE(gate.needs_drain_relaxed());
}

TEST(DrainGate, ManySchedulesDuringOneDrainCauseOneRedrain) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(gate.schedule());
  EXPECT_TRUE(gate.finish_drain());
  EXPECT_FALSE(gate.finish_drain());
}

TEST(DrainGate, BeginDrainWhileDrainingClearsNeed) {
  // A compute placement may claim again while it already drains.
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  ASSERT_FALSE(gate.schedule());
  gate.begin_drain();
  EXPECT_EQ(gate.state_relaxed(), gate_t::draining);
  EXPECT_FALSE(gate.needs_drain_relaxed());
  EXPECT_FALSE(gate.finish_drain());
  EXPECT_EQ(gate.state_relaxed(), gate_t::idle);
}

// The pattern in drain_gate.hpp's header comment, with an mpsc_slist inbox and
// a deque as the ready list. A producer publishes while the worker drains (from
// inside the drain, standing in for another thread): the worker drains again.
struct item : weft::slist_node<item> {
  int value = 0;
};

struct process {
  weft::mpsc_slist<item> inbox;
  gate_t gate;
  std::vector<int> handled;
};

TEST(DrainGate, UsageExampleFromHeaderCompilesAndRuns) {
  process p;
  std::deque<process*> ready_list;
  std::vector<item> items(4);
  for (int i = 0; i < 4; ++i) items[static_cast<std::size_t>(i)].value = i;

  auto produce = [&](item& it) {  // producer (any thread)
    p.inbox.push(&it);
    if (p.gate.schedule()) ready_list.push_back(&p);
  };
  int passes = 0;
  auto drain = [&](process& q) {
    ++passes;
    for (item* n = q.inbox.flush_fifo(); n != nullptr; n = weft::mpsc_slist<item>::next(n))
      q.handled.push_back(n->value);
    if (passes == 1) produce(items[2]);  // arrives during the drain
  };

  produce(items[0]);
  produce(items[1]);
  ASSERT_EQ(ready_list.size(), 1u);  // one enqueue for two schedules

  // worker (whoever dequeued the process)
  process* q = ready_list.front();
  ready_list.pop_front();
  q->gate.begin_drain();
  do {
    drain(*q);
  } while (q->gate.finish_drain());

  EXPECT_EQ(passes, 2);
  EXPECT_EQ(q->handled, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q->gate.state_relaxed(), gate_t::idle);
  EXPECT_TRUE(ready_list.empty());

  produce(items[3]);  // the gate is IDLE again: this producer enqueues
  EXPECT_EQ(ready_list.size(), 1u);
}

}  // namespace
