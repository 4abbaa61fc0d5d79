// The frontier tracker: registration, advance, waits, cancellation, failure
// and retirement, re-entrant callbacks, concurrent advances, bridge
// semaphores, and the anchor's scenarios.
#include "weft/io/frontier_tracker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/base/allocator.hpp"
#include "weft/io/semaphore.hpp"
#include "weft/testing/watchdog.hpp"

namespace weft::io {
namespace {

using entries = std::vector<frontier_entry>;

constexpr std::uint64_t queue(std::uint32_t n) { return make_queue_axis(1, 0, 0, n); }
const std::uint64_t A = queue(1), B = queue(2), C = queue(3);

// Aborts the binary if a test hangs, so a lost wake-up fails instead of
// stalling CI.
using weft::testing::watchdog;

// A waiter that records its completions (thread-safe: callbacks may run on
// any thread) and lets the test block until it has completed.
struct recorder {
  frontier_waiter waiter{&recorder::on_done, this};
  std::mutex mutex;  // guards the fields below
  std::condition_variable completed_cv;
  int calls = 0;
  status result;
  std::vector<frontier_entry> seen_frontier;

  static void on_done(void* self, frontier_waiter& waiter, status result) {
    auto& r = *static_cast<recorder*>(self);
    {
      std::lock_guard lock(r.mutex);
      ++r.calls;
      r.result = std::move(result);
      r.seen_frontier.assign(waiter.frontier().begin(), waiter.frontier().end());
    }
    r.completed_cv.notify_all();
  }
  int call_count() {
    std::lock_guard lock(mutex);
    return calls;
  }
  status last() {
    std::lock_guard lock(mutex);
    return result;
  }
  void await_call() {
    std::unique_lock lock(mutex);
    completed_cv.wait(lock, [this] { return calls > 0; });
  }
};

std::unique_ptr<frontier_tracker> make_tracker(std::size_t capacity = 8,
                                               std::initializer_list<std::uint64_t> axes = {A, B, C}) {
  auto made = frontier_tracker::create({.axis_capacity = capacity});
  EXPECT_TRUE(made.ok()) << made.status();
  for (std::uint64_t axis : axes) EXPECT_TRUE((*made)->register_axis(axis).is_ok());
  return std::move(made).value();
}

bool mentions(const status& s, const std::string& text) { return s.message().find(text) != std::string::npos; }

// --- creation and registration --------------------------------------------

TEST(FrontierTracker, CreateRejectsCapacityOutsideRange) {
  auto zero = frontier_tracker::create({.axis_capacity = 0});
  EXPECT_EQ(zero.status().code(), status_code::invalid_argument);
  auto huge = frontier_tracker::create({.axis_capacity = frontier_tracker::max_axis_capacity + 1});
  EXPECT_EQ(huge.status().code(), status_code::invalid_argument);
  EXPECT_TRUE(mentions(huge.status(), "65537")) << huge.status();
}

TEST(FrontierTracker, CreateTakesTheTableFromTheGivenAllocator) {
  counting_allocator memory;
  {
    auto made = frontier_tracker::create({.axis_capacity = 32, .memory = &memory});
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(memory.live_allocations(), 1u);
    EXPECT_EQ((*made)->axis_capacity(), 32u);
  }
  EXPECT_EQ(memory.live_allocations(), 0u);
  memory.fail_after(0);
  auto failed = frontier_tracker::create({.axis_capacity = 32, .memory = &memory});
  EXPECT_EQ(failed.status().code(), status_code::resource_exhausted);
}

TEST(FrontierTracker, RegisteredAxesStartAtEpochZero) {
  auto tracker = make_tracker();
  EXPECT_EQ(tracker->axis_count(), 3u);
  EXPECT_EQ(tracker->current_epoch(A).value_or(99), 0u);
  EXPECT_TRUE(tracker->query_epoch_reached(A, 0).value_or(false));
  EXPECT_FALSE(tracker->query_epoch_reached(A, 1).value_or(true));
}

TEST(FrontierTracker, DuplicateAxisIsAlreadyExists) {
  auto tracker = make_tracker();
  const status s = tracker->register_axis(B);
  EXPECT_EQ(s.code(), status_code::already_exists);
  EXPECT_TRUE(mentions(s, axis_to_string(B))) << s;
  EXPECT_EQ(tracker->axis_count(), 3u);
}

TEST(FrontierTracker, FullTableIsResourceExhaustedNamingCapacity) {
  auto tracker = make_tracker(3);
  const status s = tracker->register_axis(queue(4));
  EXPECT_EQ(s.code(), status_code::resource_exhausted);
  EXPECT_TRUE(mentions(s, "capacity of 3")) << s;
}

TEST(FrontierTracker, RegistrationInAnyOrderKeepsLookupsRight) {
  auto tracker = make_tracker(16, {});
  for (std::uint32_t i = 10; i > 0; --i) ASSERT_TRUE(tracker->register_axis(queue(i * 7 % 11)).is_ok());
  for (std::uint32_t i = 1; i <= 10; ++i) ASSERT_TRUE(tracker->advance(queue(i * 7 % 11), i).ok());
  for (std::uint32_t i = 1; i <= 10; ++i) EXPECT_EQ(tracker->current_epoch(queue(i * 7 % 11)).value_or(0), i);
}

// --- advance -------------------------------------------------------------------

TEST(FrontierTracker, AdvanceAboveRaisesTheEpoch) {
  auto tracker = make_tracker();
  EXPECT_EQ(tracker->advance(A, 5).value_or(99), 0u);
  EXPECT_EQ(tracker->current_epoch(A).value_or(0), 5u);
  EXPECT_TRUE(tracker->query_epoch_reached(A, 5).value_or(false));
  EXPECT_FALSE(tracker->query_epoch_reached(A, 6).value_or(true));
  EXPECT_EQ(tracker->current_epoch(B).value_or(99), 0u);
}

TEST(FrontierTracker, AdvanceBelowOrEqualChangesNothing) {
  auto tracker = make_tracker();
  ASSERT_TRUE(tracker->advance(A, 5).ok());
  recorder r;
  const entries needed = {{A, 6}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(tracker->advance(A, 5).value_or(99), 0u);
  EXPECT_EQ(tracker->advance(A, 3).value_or(99), 0u);
  EXPECT_EQ(tracker->current_epoch(A).value_or(0), 5u);
  EXPECT_EQ(r.call_count(), 0);
  EXPECT_TRUE(tracker->cancel_wait(r.waiter));
}

TEST(FrontierTracker, UnknownAxisIsNotFoundEverywhere) {
  auto tracker = make_tracker();
  const std::uint64_t unknown = queue(77);
  EXPECT_EQ(tracker->advance(unknown, 1).status().code(), status_code::not_found);
  EXPECT_TRUE(mentions(tracker->advance(unknown, 1).status(), axis_to_string(unknown)));
  EXPECT_EQ(tracker->current_epoch(unknown).status().code(), status_code::not_found);
  EXPECT_EQ(tracker->query_epoch_reached(unknown, 1).status().code(), status_code::not_found);
  EXPECT_EQ(tracker->fail_axis(unknown, errors::aborted("x")).status().code(), status_code::not_found);
  recorder r;
  const entries needed = {{A, 1}, {unknown, 1}};
  const status s = tracker->wait(needed, r.waiter);
  EXPECT_EQ(s.code(), status_code::not_found);
  EXPECT_TRUE(mentions(s, axis_to_string(unknown))) << s;
  ASSERT_TRUE(tracker->advance(A, 1).ok());
  EXPECT_EQ(r.call_count(), 0);
}

// --- waits ------------------------------------------------------------------------

TEST(FrontierTracker, WaitAlreadyReachedCompletesInsideWait) {
  auto tracker = make_tracker();
  ASSERT_TRUE(tracker->advance(A, 3).ok());
  recorder r;
  const entries needed = {{A, 2}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_TRUE(r.last().is_ok());
  EXPECT_FALSE(tracker->cancel_wait(r.waiter));
}

TEST(FrontierTracker, EmptyFrontierIsReachedAtOnce) {
  auto tracker = make_tracker();
  recorder r;
  ASSERT_TRUE(tracker->wait({}, r.waiter).is_ok());
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_TRUE(r.last().is_ok());
}

TEST(FrontierTracker, PendingWaitCompletesOnTheAdvanceThatReachesIt) {
  auto tracker = make_tracker();
  recorder r;
  const entries needed = {{A, 4}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(tracker->advance(A, 3).value_or(99), 0u);
  EXPECT_EQ(r.call_count(), 0);
  EXPECT_EQ(tracker->advance(A, 4).value_or(99), 1u);
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_TRUE(r.last().is_ok());
  EXPECT_EQ(tracker->advance(A, 9).value_or(99), 0u);  // exactly once
  EXPECT_EQ(r.call_count(), 1);
}

TEST(FrontierTracker, MultiEntryWaitNeedsEveryAxis) {
  auto tracker = make_tracker();
  recorder r;
  const entries needed = {{A, 2}, {B, 1}, {C, 5}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  ASSERT_TRUE(tracker->advance(C, 9).ok());  // one jump past the need
  ASSERT_TRUE(tracker->advance(A, 2).ok());
  EXPECT_EQ(r.call_count(), 0);
  EXPECT_EQ(tracker->advance(B, 1).value_or(99), 1u);
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_EQ(r.seen_frontier, needed);  // the callback sees the copied frontier
}

TEST(FrontierTracker, PartlyReachedAtWaitCountsOnlyTheRest) {
  auto tracker = make_tracker();
  ASSERT_TRUE(tracker->advance(A, 5).ok());
  recorder r;
  const entries needed = {{A, 5}, {B, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(r.call_count(), 0);
  EXPECT_EQ(tracker->advance(B, 1).value_or(99), 1u);
  EXPECT_EQ(r.call_count(), 1);
}

TEST(FrontierTracker, AdvanceDispatchesOnlySatisfiedWaitersInRegistrationOrder) {
  auto tracker = make_tracker();
  std::vector<int> order;
  struct tagged {
    frontier_waiter waiter;
    std::vector<int>* order;
    int tag;
  };
  const auto note = [](void* self, frontier_waiter&, status) {
    auto& t = *static_cast<tagged*>(self);
    t.order->push_back(t.tag);
  };
  std::deque<tagged> waiters;
  const std::uint64_t needs[] = {3, 1, 5, 2, 3};
  for (int i = 0; i < 5; ++i) {
    tagged& t = waiters.emplace_back();
    t.waiter.fn = note;
    t.waiter.user_data = &t;
    t.order = &order;
    t.tag = i;
    const entries needed = {{A, needs[i]}};
    ASSERT_TRUE(tracker->wait(needed, t.waiter).is_ok());
  }
  EXPECT_EQ(tracker->advance(A, 3).value_or(99), 4u);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 4}));
  EXPECT_EQ(tracker->advance(A, 5).value_or(99), 1u);
  EXPECT_EQ(order.back(), 2);
}

TEST(FrontierTracker, WaitRejectsBadInputWithoutCallback) {
  auto tracker = make_tracker();
  recorder r;
  const entries unsorted = {{B, 1}, {A, 1}};
  const status s = tracker->wait(unsorted, r.waiter);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_TRUE(mentions(s, "frontier wait")) << s;
  const entries zero = {{A, 0}};
  EXPECT_EQ(tracker->wait(zero, r.waiter).code(), status_code::invalid_argument);
  frontier_waiter no_callback;
  const entries fine = {{A, 1}};
  EXPECT_EQ(tracker->wait(fine, no_callback).code(), status_code::invalid_argument);
  ASSERT_TRUE(tracker->advance(A, 1).ok());
  EXPECT_EQ(r.call_count(), 0);
}

TEST(FrontierTracker, LargeFrontierIsCopiedIntoTheWaitersStorage) {
  auto tracker = make_tracker(8, {queue(1), queue(2), queue(3), queue(4), queue(5)});
  entries needed = {{queue(1), 1}, {queue(2), 1}, {queue(3), 1}, {queue(4), 1}, {queue(5), 1}};
  recorder r;
  const status s = tracker->wait(needed, r.waiter);  // 5 > inline capacity, no storage
  EXPECT_EQ(s.code(), status_code::resource_exhausted);
  EXPECT_TRUE(mentions(s, "storage of 0")) << s;

  std::vector<frontier_entry> room(5);
  r.waiter.storage = room;
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  const entries original = needed;
  needed.assign(5, frontier_entry{queue(9), 9});  // the caller's copy may change at once
  EXPECT_EQ(room, original);
  for (std::uint32_t i = 1; i <= 5; ++i) ASSERT_TRUE(tracker->advance(queue(i), 1).ok());
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_EQ(r.seen_frontier, original);
}

TEST(FrontierTracker, WaitingTwiceOnOneWaiterIsRefused) {
  auto tracker = make_tracker();
  recorder r;
  const entries needed = {{A, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(tracker->wait(needed, r.waiter).code(), status_code::failed_precondition);
  EXPECT_EQ(tracker->advance(A, 1).value_or(99), 1u);
  EXPECT_EQ(r.call_count(), 1);
}

TEST(FrontierTracker, WaiterIsReusableAfterItsCallback) {
  auto tracker = make_tracker();
  recorder r;
  for (std::uint64_t epoch = 1; epoch <= 3; ++epoch) {
    const entries needed = {{A, epoch}};
    ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
    ASSERT_EQ(tracker->advance(A, epoch).value_or(99), 1u);
  }
  EXPECT_EQ(r.call_count(), 3);
}

// --- cancel -----------------------------------------------------------------------

TEST(FrontierTracker, CancelRemovesAPendingWaiter) {
  auto tracker = make_tracker();
  recorder r;
  const entries needed = {{A, 1}, {B, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_TRUE(tracker->cancel_wait(r.waiter));
  EXPECT_FALSE(tracker->cancel_wait(r.waiter));  // double cancel
  EXPECT_EQ(tracker->advance(A, 1).value_or(99), 0u);
  EXPECT_EQ(tracker->advance(B, 1).value_or(99), 0u);
  EXPECT_EQ(tracker->fail_axis(A, errors::aborted("gone")).value_or(99), 0u);
  EXPECT_EQ(r.call_count(), 0);
}

TEST(FrontierTracker, CancelAfterDispatchOrWithoutWaitIsFalse) {
  auto tracker = make_tracker();
  recorder never;
  EXPECT_FALSE(tracker->cancel_wait(never.waiter));
  recorder r;
  const entries needed = {{A, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  ASSERT_TRUE(tracker->advance(A, 1).ok());
  EXPECT_FALSE(tracker->cancel_wait(r.waiter));
  // A waiter pending on another tracker is not this one's to cancel.
  auto other = make_tracker();
  const entries later = {{A, 2}};
  ASSERT_TRUE(other->wait(later, r.waiter).is_ok());
  EXPECT_FALSE(tracker->cancel_wait(r.waiter));
  EXPECT_TRUE(other->cancel_wait(r.waiter));
}

// --- failure and retirement ----------------------------------------------------

TEST(FrontierTracker, FailAxisFailsOnlyWaitersMentioningIt) {
  auto tracker = make_tracker();
  recorder on_a, on_b, on_both;
  const entries need_a = {{A, 1}}, need_b = {{B, 1}}, need_both = {{A, 1}, {B, 1}};
  ASSERT_TRUE(tracker->wait(need_a, on_a.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_b, on_b.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_both, on_both.waiter).is_ok());
  const status failure = errors::data_loss("queue a: kernel returned 7");
  EXPECT_EQ(tracker->fail_axis(A, failure).value_or(99), 2u);
  EXPECT_EQ(on_a.last(), failure);
  EXPECT_EQ(on_both.last(), failure);
  EXPECT_EQ(on_b.call_count(), 0);
  EXPECT_EQ(tracker->advance(B, 1).value_or(99), 1u);
  EXPECT_TRUE(on_b.last().is_ok());
  EXPECT_EQ(on_both.call_count(), 1);
}

TEST(FrontierTracker, FirstFailureWinsAndLaterWaitsFailAtOnce) {
  auto tracker = make_tracker();
  const status first = errors::data_loss("first");
  EXPECT_EQ(tracker->fail_axis(A, first).value_or(99), 0u);
  EXPECT_EQ(tracker->fail_axis(A, errors::aborted("second")).value_or(99), 0u);
  recorder r;
  const entries needed = {{A, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(r.call_count(), 1);
  EXPECT_EQ(r.last(), first);
  // Even an entry the axis had already reached fails: failure is checked first.
  recorder reached;
  const entries zero_needed = {{A, 1}, {B, 1}};
  ASSERT_TRUE(tracker->advance(B, 1).ok());
  ASSERT_TRUE(tracker->wait(zero_needed, reached.waiter).is_ok());
  EXPECT_EQ(reached.last(), first);
}

TEST(FrontierTracker, FailedAxisRefusesAdvanceAndQueries) {
  auto tracker = make_tracker();
  ASSERT_TRUE(tracker->advance(A, 4).ok());
  const status failure = errors::unavailable("device lost");
  ASSERT_TRUE(tracker->fail_axis(A, failure).ok());
  EXPECT_EQ(tracker->advance(A, 5).status(), failure);
  EXPECT_EQ(tracker->query_epoch_reached(A, 1).status(), failure);
  EXPECT_EQ(tracker->current_epoch(A).value_or(0), 4u);
  EXPECT_TRUE(tracker->advance(B, 1).ok());  // other axes carry on
}

TEST(FrontierTracker, FailAxisNeedsANonOkStatus) {
  auto tracker = make_tracker();
  EXPECT_EQ(tracker->fail_axis(A, status::ok()).status().code(), status_code::invalid_argument);
  EXPECT_TRUE(tracker->advance(A, 1).ok());
}

TEST(FrontierTracker, RetireAxisFailsItsWaitersForGood) {
  auto tracker = make_tracker();
  recorder r;
  const entries needed = {{A, 3}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  EXPECT_EQ(tracker->retire_axis(A, errors::cancelled("queue retired")).value_or(99), 1u);
  EXPECT_EQ(r.last().code(), status_code::cancelled);
  recorder later;
  ASSERT_TRUE(tracker->wait(needed, later.waiter).is_ok());
  EXPECT_EQ(later.last().code(), status_code::cancelled);
  EXPECT_EQ(tracker->register_axis(A).code(), status_code::already_exists);  // axes are never reused
}

TEST(FrontierTracker, DestructionCancelsPendingWaiters) {
  auto tracker = make_tracker();
  recorder a, b;
  const entries need_a = {{A, 1}}, need_ab = {{A, 1}, {B, 2}};
  ASSERT_TRUE(tracker->wait(need_a, a.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_ab, b.waiter).is_ok());
  tracker.reset();
  EXPECT_EQ(a.last().code(), status_code::cancelled);
  EXPECT_EQ(b.last().code(), status_code::cancelled);
  EXPECT_TRUE(mentions(b.last(), "frontier tracker destroyed")) << b.last();
  EXPECT_EQ(a.call_count(), 1);
}

// --- re-entrant callbacks -----------------------------------------------------
// Callbacks run with no tracker lock held: each of these would deadlock on a
// non-recursive mutex otherwise.

struct reentrant {
  frontier_waiter waiter;
  frontier_tracker* tracker = nullptr;
  recorder inner;
  int calls = 0;
};

TEST(FrontierTracker, CallbackMayWaitOnTheSameTracker) {
  auto tracker = make_tracker();
  reentrant r;
  r.tracker = tracker.get();
  r.waiter.user_data = &r;
  r.waiter.fn = [](void* self, frontier_waiter&, status) {
    auto& me = *static_cast<reentrant*>(self);
    ++me.calls;
    const entries reached = {{A, 1}}, pending = {{B, 1}};
    EXPECT_TRUE(me.tracker->wait(reached, me.inner.waiter).is_ok());  // completes inside
    EXPECT_EQ(me.inner.call_count(), 1);
    EXPECT_TRUE(me.tracker->wait(pending, me.inner.waiter).is_ok());  // registers
  };
  const entries needed = {{A, 1}};
  ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
  ASSERT_EQ(tracker->advance(A, 1).value_or(99), 1u);
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(tracker->advance(B, 1).value_or(99), 1u);
  EXPECT_EQ(r.inner.call_count(), 2);
}

TEST(FrontierTracker, CallbackMayAdvanceAChain) {
  // Waiter i needs queue(i):1 and, when it runs, advances queue(i + 1).
  auto tracker = make_tracker(8, {queue(1), queue(2), queue(3), queue(4), queue(5)});
  struct link {
    frontier_waiter waiter;
    frontier_tracker* tracker = nullptr;
    std::uint32_t next = 0;
    int* completed = nullptr;
  };
  int completed = 0;
  std::deque<link> chain;
  for (std::uint32_t i = 1; i <= 4; ++i) {
    link& l = chain.emplace_back();
    l.tracker = tracker.get();
    l.next = i + 1;
    l.completed = &completed;
    l.waiter.user_data = &l;
    l.waiter.fn = [](void* self, frontier_waiter&, status result) {
      auto& me = *static_cast<link*>(self);
      EXPECT_TRUE(result.is_ok());
      ++*me.completed;
      EXPECT_TRUE(me.tracker->advance(queue(me.next), 1).ok());
    };
    const entries needed = {{queue(i), 1}};
    ASSERT_TRUE(tracker->wait(needed, l.waiter).is_ok());
  }
  ASSERT_TRUE(tracker->advance(queue(1), 1).ok());
  EXPECT_EQ(completed, 4);
  EXPECT_EQ(tracker->current_epoch(queue(5)).value_or(0), 1u);
}

TEST(FrontierTracker, CallbackMayFailAnAxisAndCancelAnotherWaiter) {
  auto tracker = make_tracker();
  reentrant r;
  r.tracker = tracker.get();
  recorder on_c, cancelled;
  struct context {
    reentrant* self;
    recorder* cancelled;
  } ctx{&r, &cancelled};
  r.waiter.user_data = &ctx;
  r.waiter.fn = [](void* raw, frontier_waiter&, status) {
    auto& c = *static_cast<context*>(raw);
    EXPECT_EQ(c.self->tracker->fail_axis(C, errors::aborted("from a callback")).value_or(99), 1u);
    EXPECT_TRUE(c.self->tracker->cancel_wait(c.cancelled->waiter));
  };
  const entries need_a = {{A, 1}}, need_c = {{C, 1}}, need_b = {{B, 1}};
  ASSERT_TRUE(tracker->wait(need_a, r.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_c, on_c.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_b, cancelled.waiter).is_ok());
  ASSERT_TRUE(tracker->advance(A, 1).ok());
  EXPECT_EQ(on_c.last().code(), status_code::aborted);
  ASSERT_TRUE(tracker->advance(B, 1).ok());
  EXPECT_EQ(cancelled.call_count(), 0);
}

// --- threads ------------------------------------------------------------------

// Several threads advance one axis through interleaved epochs; one waiter per
// epoch must complete exactly once, and the epoch ends at the maximum.
TEST(FrontierTracker, ConcurrentAdvanceOnTheSameAxis) {
  watchdog guard;
  auto tracker = make_tracker();
  constexpr std::uint64_t epochs = 400;
  constexpr int threads = 4;
  std::deque<recorder> waiters(epochs);
  for (std::uint64_t e = 1; e <= epochs; ++e) {
    const entries needed = {{A, e}};
    ASSERT_TRUE(tracker->wait(needed, waiters[e - 1].waiter).is_ok());
  }
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::uint64_t e = 1 + t; e <= epochs; e += threads) EXPECT_TRUE(tracker->advance(A, e).ok());
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(tracker->current_epoch(A).value_or(0), epochs);
  for (auto& r : waiters) {
    ASSERT_EQ(r.call_count(), 1);
    EXPECT_TRUE(r.last().is_ok());
  }
}

// Each thread owns an axis; waiters need all axes at various epochs, and
// waits are registered while the advances run.
TEST(FrontierTracker, ConcurrentAdvanceOnDifferentAxesWithRacingWaits) {
  watchdog guard;
  auto tracker = make_tracker();
  constexpr std::uint64_t epochs = 300;
  const std::uint64_t axes[] = {A, B, C};
  std::deque<recorder> waiters(epochs);
  std::vector<std::thread> workers;
  for (std::uint64_t axis : axes) {
    workers.emplace_back([&, axis] {
      for (std::uint64_t e = 1; e <= epochs; ++e) EXPECT_TRUE(tracker->advance(axis, e).ok());
    });
  }
  for (std::uint64_t e = 1; e <= epochs; ++e) {
    const entries needed = {{A, e}, {B, epochs + 1 - e}, {C, (e * 7) % epochs + 1}};
    ASSERT_TRUE(tracker->wait(needed, waiters[e - 1].waiter).is_ok());
  }
  for (auto& w : workers) w.join();
  for (auto& r : waiters) {
    r.await_call();  // a lost wake-up hangs here and the watchdog fires
    EXPECT_EQ(r.call_count(), 1);
    EXPECT_TRUE(r.last().is_ok());
  }
}

// A waiter thread and an advancer race wait-vs-advance on the next epoch,
// over and over: every wait completes (no lost wake-up between the check
// and the registration).
TEST(FrontierTracker, WaitRacingAdvanceNeverLosesTheWakeup) {
  watchdog guard;
  auto tracker = make_tracker();
  constexpr std::uint64_t rounds = 2000;
  std::thread advancer([&] {
    for (std::uint64_t e = 1; e <= rounds; ++e) EXPECT_TRUE(tracker->advance(A, e).ok());
  });
  recorder r;
  for (std::uint64_t e = 1; e <= rounds; ++e) {
    {
      std::lock_guard lock(r.mutex);
      r.calls = 0;
    }
    const entries needed = {{A, e}};
    ASSERT_TRUE(tracker->wait(needed, r.waiter).is_ok());
    r.await_call();
  }
  advancer.join();
}

// cancel_wait racing the advance that satisfies the waiter: exactly one of
// "cancel returned true" and "the callback ran" happens.
TEST(FrontierTracker, CancelRacingAdvanceIsExactlyOnce) {
  watchdog guard;
  auto tracker = make_tracker();
  constexpr std::uint64_t rounds = 1000;
  std::deque<recorder> waiters(rounds);
  for (std::uint64_t e = 1; e <= rounds; ++e) {
    const entries needed = {{A, e}};
    ASSERT_TRUE(tracker->wait(needed, waiters[e - 1].waiter).is_ok());
  }
  std::vector<bool> cancelled(rounds);
  std::thread canceller([&] {
    for (std::uint64_t i = rounds; i-- > 0;) cancelled[i] = tracker->cancel_wait(waiters[i].waiter);
  });
  for (std::uint64_t e = 1; e <= rounds; ++e) ASSERT_TRUE(tracker->advance(A, e).ok());
  canceller.join();
  int cancels = 0;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    ASSERT_EQ(waiters[i].call_count() + (cancelled[i] ? 1 : 0), 1) << "waiter " << i;
    cancels += cancelled[i] ? 1 : 0;
  }
  RecordProperty("cancelled", cancels);
}

// --- bridge semaphores -----------------------------------------------------------

TEST(FrontierTracker, BridgeSemaphoreFollowsTheAxis) {
  auto tracker = make_tracker(8, {});
  semaphore bridge(0);
  ASSERT_TRUE(tracker->register_axis(A, &bridge).is_ok());
  ASSERT_TRUE(tracker->advance(A, 3).ok());
  EXPECT_EQ(bridge.query(), 3u);
  ASSERT_TRUE(tracker->advance(A, 2).ok());  // not an advance: the bridge stays
  ASSERT_TRUE(tracker->advance(A, 7).ok());
  EXPECT_EQ(bridge.query(), 7u);
  EXPECT_FALSE(bridge.failed());
}

TEST(FrontierTracker, BridgeSeesRacingAdvancesInOrder) {
  watchdog guard;
  auto tracker = make_tracker(8, {});
  semaphore bridge(0);
  ASSERT_TRUE(tracker->register_axis(A, &bridge).is_ok());
  // Out-of-order hand-offs need a preemption in a short window; many rounds
  // make one likely if the per-axis bridge driver is broken.
  constexpr std::uint64_t epochs = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      for (std::uint64_t e = 1 + t; e <= epochs; e += 3) EXPECT_TRUE(tracker->advance(A, e).ok());
    });
  }
  for (auto& w : workers) w.join();
  // A racing pair handed to the semaphore out of order would have failed it.
  EXPECT_FALSE(bridge.failed()) << bridge.failure();
  EXPECT_EQ(bridge.query(), epochs);
}

TEST(FrontierTracker, AxisFailureFailsTheBridge) {
  auto tracker = make_tracker(8, {});
  semaphore bridge(0);
  ASSERT_TRUE(tracker->register_axis(A, &bridge).is_ok());
  const status failure = errors::unavailable("device lost");
  ASSERT_TRUE(tracker->fail_axis(A, failure).ok());
  EXPECT_EQ(bridge.failure(), failure);
}

TEST(FrontierTracker, BridgeTimepointMayReenterTheTracker) {
  // The bridge's timepoint callback advances the tracker (same and another
  // axis) and retires the bridged axis: all from inside the bridge call.
  auto tracker = make_tracker(8, {B});
  semaphore bridge(0);
  ASSERT_TRUE(tracker->register_axis(A, &bridge).is_ok());
  struct context {
    frontier_tracker* tracker;
    int calls = 0;
  } ctx{tracker.get()};
  semaphore::timepoint tp;
  tp.minimum_value = 2;
  tp.user_data = &ctx;
  tp.fn = [](void* raw, semaphore::timepoint&, status result) {
    auto& c = *static_cast<context*>(raw);
    ++c.calls;
    EXPECT_TRUE(result.is_ok());
    EXPECT_TRUE(c.tracker->advance(A, 3).ok());  // queued for the driving call
    EXPECT_TRUE(c.tracker->advance(B, 1).ok());
    EXPECT_TRUE(c.tracker->retire_axis(A, errors::cancelled("retired")).ok());
  };
  bridge.acquire_timepoint(tp);
  ASSERT_TRUE(tracker->advance(A, 2).ok());
  EXPECT_EQ(ctx.calls, 1);
  EXPECT_EQ(tracker->current_epoch(B).value_or(0), 1u);
  EXPECT_EQ(bridge.failure().code(), status_code::cancelled);  // retire failed it before detaching
}

TEST(FrontierTracker, RetireDetachesTheBridge) {
  auto tracker = make_tracker(8, {});
  {
    semaphore bridge(0);
    ASSERT_TRUE(tracker->register_axis(A, &bridge).is_ok());
    ASSERT_TRUE(tracker->advance(A, 1).ok());
    ASSERT_TRUE(tracker->retire_axis(A, errors::cancelled("queue retired")).ok());
    EXPECT_EQ(bridge.failure().code(), status_code::cancelled);
  }  // the semaphore is gone; the tracker must not touch it again
  EXPECT_FALSE(tracker->advance(A, 2).ok());
  EXPECT_EQ(tracker->fail_axis(A, errors::aborted("again")).value_or(99), 0u);
}

// --- scenarios -------------------------------------------------------------------

// Three queues in a pipeline: stage k waits for stage k-1's epoch i before
// doing its own epoch i. Driven in order, every stage's waiter fires once per
// epoch and the last stage ends at N.
TEST(FrontierTrackerScenario, GpuPipeline) {
  auto tracker = make_tracker();
  constexpr std::uint64_t n = 20;
  struct stage {
    frontier_waiter waiter;
    frontier_tracker* tracker;
    std::uint64_t own_axis;
    std::uint64_t epoch;
  };
  stage second{{}, tracker.get(), B, 0}, third{{}, tracker.get(), C, 0};
  const auto run = [](void* raw, frontier_waiter&, status result) {
    auto& s = *static_cast<stage*>(raw);
    EXPECT_TRUE(result.is_ok());
    EXPECT_TRUE(s.tracker->advance(s.own_axis, s.epoch).ok());
  };
  for (stage* s : {&second, &third}) {
    s->waiter.fn = run;
    s->waiter.user_data = s;
  }
  for (std::uint64_t i = 1; i <= n; ++i) {
    second.epoch = third.epoch = i;
    const entries after_first = {{A, i}}, after_second = {{B, i}};
    ASSERT_TRUE(tracker->wait(after_first, second.waiter).is_ok());
    ASSERT_TRUE(tracker->wait(after_second, third.waiter).is_ok());
    ASSERT_EQ(tracker->current_epoch(C).value_or(0), i - 1);  // nothing runs early
    ASSERT_TRUE(tracker->advance(A, i).ok());                 // cascades through B to C
    ASSERT_EQ(tracker->current_epoch(C).value_or(0), i);
  }
}

// One producer fans out to three consumers on other threads; a join waiter
// needs all three. Consumers run on their own threads.
TEST(FrontierTrackerScenario, FanOutFanIn) {
  watchdog guard;
  const std::uint64_t producer = queue(10);
  auto tracker = make_tracker(8, {producer, A, B, C});
  recorder join, started_a, started_b, started_c;
  const entries all_done = {{A, 1}, {B, 1}, {C, 1}};
  ASSERT_TRUE(tracker->wait(all_done, join.waiter).is_ok());
  const entries produced = {{producer, 1}};
  recorder* starts[] = {&started_a, &started_b, &started_c};
  for (recorder* s : starts) ASSERT_TRUE(tracker->wait(produced, s->waiter).is_ok());
  std::vector<std::thread> consumers;
  const std::uint64_t axes[] = {A, B, C};
  for (int k = 0; k < 3; ++k) {
    consumers.emplace_back([&, k] {
      starts[k]->await_call();
      EXPECT_TRUE(tracker->advance(axes[k], 1).ok());
    });
  }
  EXPECT_EQ(join.call_count(), 0);
  ASSERT_EQ(tracker->advance(producer, 1).value_or(0), 3u);
  for (auto& c : consumers) c.join();
  EXPECT_EQ(join.call_count(), 1);
  EXPECT_TRUE(join.last().is_ok());
}

// A device with two queues is lost: retiring its axes fails every waiter
// that mentions either queue, including mixed ones, while the other device's
// waiters complete normally.
TEST(FrontierTrackerScenario, DeviceLost) {
  const std::uint64_t d0q0 = make_queue_axis(1, 0, 0, 0), d0q1 = make_queue_axis(1, 0, 0, 1);
  const std::uint64_t d1q0 = make_queue_axis(1, 0, 1, 0);
  auto tracker = make_tracker(8, {d0q0, d0q1, d1q0});
  recorder lost_q0, lost_q1, mixed, healthy;
  const entries need_q0 = {{d0q0, 2}}, need_q1 = {{d0q1, 1}}, need_mixed = {{d0q1, 5}, {d1q0, 1}},
                need_healthy = {{d1q0, 1}};
  ASSERT_TRUE(tracker->wait(need_q0, lost_q0.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_q1, lost_q1.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_mixed, mixed.waiter).is_ok());
  ASSERT_TRUE(tracker->wait(need_healthy, healthy.waiter).is_ok());
  const status lost = errors::unavailable("device 0 lost");
  for (std::uint64_t axis : {d0q0, d0q1}) ASSERT_TRUE(tracker->retire_axis(axis, lost).ok());
  EXPECT_EQ(lost_q0.last(), lost);
  EXPECT_EQ(lost_q1.last(), lost);
  EXPECT_EQ(mixed.last(), lost);
  EXPECT_EQ(healthy.call_count(), 0);
  EXPECT_EQ(tracker->query_epoch_reached(d0q0, 1).status(), lost);
  EXPECT_EQ(tracker->advance(d1q0, 1).value_or(0), 1u);
  EXPECT_TRUE(healthy.last().is_ok());
  EXPECT_EQ(mixed.call_count(), 1);
}

}  // namespace
}  // namespace weft::io
