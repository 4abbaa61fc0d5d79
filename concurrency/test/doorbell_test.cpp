#include "weft/doorbell.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "weft/mpsc_slist.hpp"

namespace {

using bell_t = weft::doorbell<>;
constexpr std::uint32_t sleeping = bell_t::sleeping_bit;
constexpr std::uint32_t pending = bell_t::pending_bit;

TEST(Doorbell, StartsAwakeWithNothingToTake) {
  bell_t bell;
  EXPECT_EQ(bell.state_relaxed(), 0u);
  EXPECT_FALSE(bell.sleeping_relaxed());
  EXPECT_FALSE(bell.take());
}

TEST(Doorbell, RingWhileAwakeNeverAsksForAWake) {
  bell_t bell;
  EXPECT_FALSE(bell.ring());
  EXPECT_EQ(bell.state_relaxed(), pending);
  EXPECT_TRUE(bell.take());
  EXPECT_EQ(bell.state_relaxed(), 0u);
  EXPECT_FALSE(bell.take()) << "one ring, one take";
}

TEST(Doorbell, RingsWhileAwakeCoalesceIntoOneTake) {
  bell_t bell;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(bell.ring());
  EXPECT_TRUE(bell.take());
  EXPECT_FALSE(bell.take());
}

TEST(Doorbell, PrepareSleepRefusesWhenARingIsPending) {
  bell_t bell;
  ASSERT_FALSE(bell.ring());
  EXPECT_FALSE(bell.prepare_sleep()) << "work arrived: the owner must not sleep";
  EXPECT_EQ(bell.state_relaxed(), pending) << "a refused sleep leaves PENDING for take()";
  EXPECT_TRUE(bell.take());
  EXPECT_TRUE(bell.prepare_sleep());
  EXPECT_TRUE(bell.sleeping_relaxed());
}

TEST(Doorbell, ExactlyOneRingPerSleepAsksForTheWake) {
  bell_t bell;
  ASSERT_TRUE(bell.prepare_sleep());
  EXPECT_EQ(bell.state_relaxed(), sleeping);
  int told_to_wake = 0;
  for (int i = 0; i < 8; ++i) told_to_wake += bell.ring() ? 1 : 0;
  EXPECT_EQ(told_to_wake, 1);
  EXPECT_EQ(bell.state_relaxed(), sleeping | pending);
  EXPECT_TRUE(bell.finish_sleep()) << "the rings during the sleep must be drained";
  EXPECT_EQ(bell.state_relaxed(), 0u);
  EXPECT_FALSE(bell.take()) << "finish_sleep consumed PENDING";
}

TEST(Doorbell, FinishSleepWithoutARingReportsNothing) {
  bell_t bell;  // e.g. the blocking call timed out
  ASSERT_TRUE(bell.prepare_sleep());
  EXPECT_FALSE(bell.finish_sleep());
  EXPECT_EQ(bell.state_relaxed(), 0u);
  EXPECT_FALSE(bell.ring()) << "awake again: no wake needed";
}

TEST(Doorbell, EverySleepGetsItsOwnWake) {
  bell_t bell;
  for (int sleep = 0; sleep < 3; ++sleep) {
    ASSERT_TRUE(bell.prepare_sleep());
    EXPECT_TRUE(bell.ring()) << "sleep " << sleep;
    EXPECT_FALSE(bell.ring());
    EXPECT_TRUE(bell.finish_sleep());
  }
}

TEST(Doorbell, RingBetweenTakeAndSleepStopsTheSleep) {
  bell_t bell;
  ASSERT_FALSE(bell.ring());
  ASSERT_TRUE(bell.take());
  EXPECT_FALSE(bell.ring());  // arrives while the owner drains
  EXPECT_FALSE(bell.prepare_sleep());
  EXPECT_TRUE(bell.take());
  EXPECT_TRUE(bell.prepare_sleep());
}

// The pattern in doorbell.hpp's header comment: producers push on an
// mpsc_slist and ring; the owner blocks in read() on an eventfd that only a
// ring() told `true` writes. A lost wake hangs the owner (the test's timeout),
// a duplicate wake shows as an eventfd count above one.
struct job : weft::slist_node<job> {
  int value = 0;
};

TEST(Doorbell, UsageExampleWithAnEventfd) {
  constexpr int producers = 2;
  constexpr int per_producer = 2000;
  const int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  weft::mpsc_slist<job> list;
  bell_t bell;
  std::vector<job> jobs(producers * per_producer);
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].value = static_cast<int>(i);

  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        list.push(&jobs[static_cast<std::size_t>(p * per_producer + i)]);
        if (bell.ring()) {
          const std::uint64_t one = 1;
          ASSERT_EQ(write(efd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
        }
      }
    });
  }

  std::vector<int> seen(jobs.size(), 0);
  std::size_t received = 0;
  int sleeps = 0;
  bool duplicate_wake = false;
  auto drain = [&] {
    for (job* n = list.flush(); n != nullptr; n = weft::mpsc_slist<job>::next(n)) {
      ++seen[static_cast<std::size_t>(n->value)];
      ++received;
    }
  };
  while (received < jobs.size()) {
    if (bell.take()) {
      drain();
      continue;
    }
    if (!bell.prepare_sleep()) continue;
    ++sleeps;
    std::uint64_t count = 0;
    ASSERT_EQ(read(efd, &count, sizeof count), static_cast<ssize_t>(sizeof count));
    duplicate_wake = duplicate_wake || count != 1;
    if (bell.finish_sleep()) drain();
  }
  for (auto& t : threads) t.join();
  close(efd);

  EXPECT_FALSE(duplicate_wake) << "a sleep was woken by more than one ring";
  for (int s : seen) ASSERT_EQ(s, 1);
  EXPECT_EQ(bell.state_relaxed(), 0u);
  RecordProperty("sleeps", sleeps);
}

}  // namespace
