#include "weft/drain_gate.hpp"

#include <gtest/gtest.h>

namespace {

using gate_t = weft::drain_gate<>;

TEST(DrainGate, FirstScheduleFromIdleMustEnqueue) {
  gate_t gate;
  EXPECT_EQ(gate.state_relaxed(), gate_t::idle);
  EXPECT_TRUE(gate.schedule());
  EXPECT_EQ(gate.state_relaxed(), gate_t::queued);
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
  EXPECT_TRUE(gate.schedule());  // and the next schedule enqueues again
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

TEST(DrainGate, ManySchedulesDuringOneDrainCauseOneRedrain) {
  gate_t gate;
  ASSERT_TRUE(gate.schedule());
  gate.begin_drain();
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(gate.schedule());
  EXPECT_TRUE(gate.finish_drain());
  EXPECT_FALSE(gate.finish_drain());
}

TEST(DrainGate, UsageExampleFromHeaderCompilesAndRuns) {
  // The pattern in drain_gate.hpp with a counter as the inbox.
  gate_t gate;
  int inbox = 0, drained = 0, enqueued = 0;
  auto produce = [&] { ++inbox; if (gate.schedule()) ++enqueued; };
  produce();
  produce();
  EXPECT_EQ(enqueued, 1);
  gate.begin_drain();
  do { drained += inbox; inbox = 0; } while (gate.finish_drain());
  EXPECT_EQ(drained, 2);
}

}  // namespace
