#include "weft/io/semaphore.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/event_count.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/testing/watchdog.hpp"

namespace {

using weft::deadline;
using weft::status;
using weft::status_code;
using weft::io::frontier_entry;
using weft::io::semaphore;
using weft::io::wait_mode;
using namespace std::chrono_literals;

// ---- test scaffolding (driver/ holds no std::atomic: weft primitives and mutexes)

using weft::testing::watchdog;  // aborts the binary if a test hangs past its limit

// A count that callbacks bump and a test thread waits on.
class counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.fetch_add(n);
    changed_.notify_all();
  }
  std::uint64_t get() const { return value_.load(); }
  bool wait_at_least(std::uint64_t n, std::chrono::nanoseconds limit = std::chrono::seconds(30)) {
    return changed_.await([&] { return value_.load() >= n; }, deadline::after(limit));
  }

 private:
  weft::relaxed_cell<std::uint64_t> value_{0};
  weft::event_count<> changed_;
};

// Callback results in arrival order.
class recorder {
 public:
  struct entry {
    int id;
    status result;
    std::thread::id thread;
  };
  void record(int id, const status& s) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      entries_.push_back({id, s, std::this_thread::get_id()});
    }
    count_.add();
  }
  std::vector<entry> entries() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }
  std::vector<int> ids() const {
    std::vector<int> out;
    for (const auto& e : entries()) out.push_back(e.id);
    return out;
  }
  std::size_t size() const { return entries().size(); }
  counter& count() { return count_; }

 private:
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
  counter count_;
};

// A timepoint that reports to a recorder under an id.
struct recorded_timepoint {
  recorded_timepoint(recorder& r, int id, std::uint64_t minimum) : log(&r), tag(id) {
    tp.fn = &on_done;
    tp.user_data = this;
    tp.minimum_value = minimum;
  }
  static void on_done(void* user_data, semaphore::timepoint&, status result) {
    auto* self = static_cast<recorded_timepoint*>(user_data);
    self->log->record(self->tag, result);
  }
  recorder* log;
  int tag;
  semaphore::timepoint tp;
};

std::int64_t elapsed_ns(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - since).count();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- value and signal -------------------------------------------------------

TEST(Semaphore, CreateAndQuery) {
  semaphore zero;
  EXPECT_EQ(zero.query(), 0u);
  EXPECT_FALSE(zero.failed());
  EXPECT_TRUE(zero.failure().is_ok());
  EXPECT_EQ(zero.frontier_capacity(), 16u);
  EXPECT_EQ(zero.query_frontier({}), 0u);
  semaphore started(42, 3);
  EXPECT_EQ(started.query(), 42u);
  EXPECT_EQ(started.frontier_capacity(), 3u);
}

TEST(Semaphore, SignalAdvancesValue) {
  semaphore sem(1);
  EXPECT_TRUE(sem.signal(2).is_ok());
  EXPECT_EQ(sem.query(), 2u);
  EXPECT_TRUE(sem.signal(100).is_ok());  // jumps are fine
  EXPECT_EQ(sem.query(), 100u);
  EXPECT_TRUE(sem.signal(UINT64_MAX).is_ok());
  EXPECT_EQ(sem.query(), UINT64_MAX);
}

TEST(Semaphore, NonMonotonicSignalFailsNamingBothValuesAndChangesNothing) {
  semaphore sem(5);
  const status equal = sem.signal(5);
  EXPECT_EQ(equal.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(equal.message(), "value 5 does not exceed the current value 5")) << equal;
  const status lower = sem.signal(3);
  EXPECT_EQ(lower.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(lower.message(), "3")) << lower;
  EXPECT_TRUE(contains(lower.message(), "5")) << lower;
  EXPECT_EQ(sem.query(), 5u);
  EXPECT_FALSE(sem.failed());  // a rejected signal is not a failure
}

TEST(Semaphore, SignalWithFrontierMergesIt) {
  semaphore sem(0, 4);
  const frontier_entry first[] = {{10, 1}, {20, 5}};
  ASSERT_TRUE(sem.signal(1, first).is_ok());
  const frontier_entry second[] = {{10, 3}, {30, 2}};
  ASSERT_TRUE(sem.signal(2, second).is_ok());
  EXPECT_EQ(sem.query(), 2u);
  frontier_entry out[4];
  ASSERT_EQ(sem.query_frontier(out), 3u);
  EXPECT_EQ(out[0], (frontier_entry{10, 3}));
  EXPECT_EQ(out[1], (frontier_entry{20, 5}));
  EXPECT_EQ(out[2], (frontier_entry{30, 2}));
}

TEST(Semaphore, NonMonotonicSignalWithFrontierLeavesTheFrontierAlone) {
  semaphore sem(5, 4);
  const frontier_entry f[] = {{10, 1}};
  EXPECT_EQ(sem.signal(4, f).code(), status_code::invalid_argument);
  EXPECT_EQ(sem.query_frontier({}), 0u);
  EXPECT_EQ(sem.query(), 5u);
}

TEST(Semaphore, InvalidFrontierIsRejectedAndChangesNothing) {
  semaphore sem(0, 4);
  const frontier_entry unsorted[] = {{20, 1}, {10, 1}};
  const status s = sem.signal(1, unsorted);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(s.message(), "semaphore signal")) << s;
  EXPECT_EQ(sem.query(), 0u);
  EXPECT_EQ(sem.query_frontier({}), 0u);
}

TEST(Semaphore, FrontierCapacityOverflowKeepsTheOldFrontierAndStillSignals) {
  semaphore sem(0, 2);
  const frontier_entry fits[] = {{1, 1}, {2, 1}};
  ASSERT_TRUE(sem.signal(1, fits).is_ok());
  const frontier_entry too_many[] = {{3, 1}, {4, 1}, {5, 1}};
  ASSERT_TRUE(sem.signal(2, too_many).is_ok());  // overflow is not an error
  EXPECT_EQ(sem.query(), 2u);
  frontier_entry out[2];
  ASSERT_EQ(sem.query_frontier(out), 2u);
  EXPECT_EQ(out[0], (frontier_entry{1, 1}));
  EXPECT_EQ(out[1], (frontier_entry{2, 1}));
}

TEST(Semaphore, QueryFrontierReportsTheRealCountWhenTruncated) {
  semaphore sem(0, 8);
  const frontier_entry f[] = {{1, 1}, {2, 2}, {3, 3}};
  ASSERT_TRUE(sem.signal(1, f).is_ok());
  frontier_entry out[1];
  EXPECT_EQ(sem.query_frontier(out), 3u);
  EXPECT_EQ(out[0], (frontier_entry{1, 1}));
}

TEST(Semaphore, ZeroFrontierCapacityKeepsNothing) {
  semaphore sem(0, 0);
  const frontier_entry f[] = {{1, 1}};
  EXPECT_TRUE(sem.signal(1, f).is_ok());
  EXPECT_EQ(sem.query_frontier({}), 0u);
}

// ---- failure ----------------------------------------------------------------

TEST(Semaphore, FailIsStickyAndFirstFailureWins) {
  semaphore sem(3);
  sem.fail(weft::errors::data_loss("device lost"));
  EXPECT_TRUE(sem.failed());
  sem.fail(weft::errors::aborted("second failure"));
  EXPECT_EQ(sem.failure(), weft::errors::data_loss("device lost"));
  const status s = sem.signal(4);  // a failed semaphore refuses signals with its failure
  EXPECT_EQ(s, weft::errors::data_loss("device lost"));
  EXPECT_EQ(sem.query(), 3u);
}

TEST(Semaphore, FailWithOkStatusBecomesInternal) {
  semaphore sem;
  sem.fail(status::ok());
  EXPECT_TRUE(sem.failed());
  EXPECT_EQ(sem.failure().code(), status_code::internal);
}

TEST(Semaphore, FailReachesPendingTimepoints) {
  semaphore sem;
  recorder log;
  recorded_timepoint a(log, 1, 5), b(log, 2, 9);
  sem.acquire_timepoint(a.tp);
  sem.acquire_timepoint(b.tp);
  sem.fail(weft::errors::aborted("queue torn down"));
  ASSERT_EQ(log.size(), 2u);
  for (const auto& e : log.entries()) EXPECT_EQ(e.result, weft::errors::aborted("queue torn down"));
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 2}));
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

// Failure is checked before the value: even a timepoint or a host wait for a
// value the semaphore had reached gets the failure.
TEST(Semaphore, FailReachesFutureWaitersEvenAtReachedValues) {
  semaphore sem(10);
  sem.fail(weft::errors::data_loss("device lost"));
  recorder log;
  recorded_timepoint reached(log, 1, 5), unreached(log, 2, 50);
  sem.acquire_timepoint(reached.tp);
  sem.acquire_timepoint(unreached.tp);
  ASSERT_EQ(log.size(), 2u);  // both synchronously
  for (const auto& e : log.entries()) EXPECT_EQ(e.result.code(), status_code::data_loss);
  EXPECT_EQ(sem.wait(5, deadline::infinite()).code(), status_code::data_loss);
  EXPECT_EQ(sem.wait(50, deadline::infinite()).code(), status_code::data_loss);
}

TEST(Semaphore, FailWakesABlockedHostWait) {
  watchdog guard;
  semaphore sem;
  status waited;
  std::thread waiter([&] { waited = sem.wait(7, deadline::infinite()); });
  sem.fail(weft::errors::unavailable("device gone"));
  waiter.join();
  EXPECT_EQ(waited, weft::errors::unavailable("device gone"));
}

// ---- timepoints -------------------------------------------------------------

TEST(Semaphore, TimepointAlreadyReachedRunsSynchronously) {
  semaphore sem(5);
  recorder log;
  recorded_timepoint tp(log, 1, 5);
  sem.acquire_timepoint(tp.tp);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_EQ(log.entries()[0].thread, std::this_thread::get_id());
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST(Semaphore, TimepointPendingThenSignal) {
  semaphore sem(0);
  recorder log;
  recorded_timepoint tp(log, 1, 5);
  sem.acquire_timepoint(tp.tp);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(sem.pending_timepoints(), 1u);
  ASSERT_TRUE(sem.signal(4).is_ok());
  EXPECT_EQ(log.size(), 0u);  // below the minimum
  ASSERT_TRUE(sem.signal(6).is_ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_EQ(sem.pending_timepoints(), 0u);
  ASSERT_TRUE(sem.signal(7).is_ok());
  EXPECT_EQ(log.size(), 1u);  // exactly once
}

TEST(Semaphore, CancelledTimepointNeverRuns) {
  semaphore sem(0);
  recorder log;
  recorded_timepoint tp(log, 1, 5);
  sem.acquire_timepoint(tp.tp);
  EXPECT_TRUE(sem.cancel_timepoint(tp.tp));
  EXPECT_FALSE(sem.cancel_timepoint(tp.tp));  // already gone
  ASSERT_TRUE(sem.signal(10).is_ok());
  sem.fail(weft::errors::aborted("late"));
  EXPECT_EQ(log.size(), 0u);
}

TEST(Semaphore, CancelAfterFireReturnsFalse) {
  semaphore sem(0);
  recorder log;
  recorded_timepoint tp(log, 1, 5);
  sem.acquire_timepoint(tp.tp);
  ASSERT_TRUE(sem.signal(5).is_ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_FALSE(sem.cancel_timepoint(tp.tp));
  recorded_timepoint immediate(log, 2, 1);
  sem.acquire_timepoint(immediate.tp);
  EXPECT_FALSE(sem.cancel_timepoint(immediate.tp));
}

TEST(Semaphore, SatisfiedTimepointsRunInRegistrationOrder) {
  semaphore sem(0);
  recorder log;
  recorded_timepoint t1(log, 1, 5), t2(log, 2, 3), t3(log, 3, 9), t4(log, 4, 4), t5(log, 5, 1);
  for (auto* t : {&t1, &t2, &t3, &t4, &t5}) sem.acquire_timepoint(t->tp);
  ASSERT_TRUE(sem.cancel_timepoint(t4.tp));  // a cancel in the middle keeps the list intact
  ASSERT_TRUE(sem.signal(5).is_ok());
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 2, 5}));
  EXPECT_EQ(sem.pending_timepoints(), 1u);
  ASSERT_TRUE(sem.signal(9).is_ok());
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 2, 5, 3}));
}

TEST(Semaphore, TimepointCrossThread) {
  watchdog guard;
  semaphore sem(0);
  recorder log;
  recorded_timepoint tp(log, 1, 3);
  sem.acquire_timepoint(tp.tp);
  std::thread::id signaller_id;
  std::thread signaller([&] {
    signaller_id = std::this_thread::get_id();
    for (std::uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(sem.signal(v).is_ok());
  });
  ASSERT_TRUE(log.count().wait_at_least(1));
  signaller.join();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_EQ(log.entries()[0].thread, signaller_id);  // ran on the thread that resolved it
}

TEST(Semaphore, DestroyCancelsPendingTimepoints) {
  recorder log;
  recorded_timepoint a(log, 1, 5), b(log, 2, 6);
  {
    semaphore sem(0);
    sem.acquire_timepoint(a.tp);
    sem.acquire_timepoint(b.tp);
    ASSERT_TRUE(sem.signal(5).is_ok());
  }
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_EQ(log.entries()[1].result.code(), status_code::cancelled);
  EXPECT_TRUE(contains(log.entries()[1].result.message(), "semaphore destroyed"));
}

TEST(Semaphore, CallbackMayFreeItsTimepoint) {
  semaphore sem(0);
  counter freed;
  struct owned {
    semaphore::timepoint tp;
    counter* done;
  };
  for (int i = 0; i < 3; ++i) {
    auto* o = new owned{};
    o->done = &freed;
    o->tp.user_data = o;
    o->tp.minimum_value = 1;
    o->tp.fn = [](void* user_data, semaphore::timepoint&, status) {
      auto* self = static_cast<owned*>(user_data);
      counter* done = self->done;
      delete self;  // the semaphore must not touch it again
      done->add();
    };
    sem.acquire_timepoint(o->tp);
  }
  ASSERT_TRUE(sem.signal(1).is_ok());
  EXPECT_EQ(freed.get(), 3u);
}

// Callbacks run without the lock: they may re-enter this semaphore (signal it
// further, register or cancel timepoints on it) and signal or fail others.
TEST(Semaphore, ReentrantCallbacks) {
  semaphore sem(0);
  semaphore other(0);
  recorder log;
  struct context {
    semaphore* sem;
    semaphore* other;
    recorder* log;
    recorded_timepoint* later;      // registered from inside the first callback
    recorded_timepoint* to_cancel;  // cancelled from inside the first callback
  };
  recorded_timepoint later(log, 2, 3), to_cancel(log, 3, 100), chained(log, 4, 2);
  context ctx{&sem, &other, &log, &later, &to_cancel};
  semaphore::timepoint first;
  first.minimum_value = 1;
  first.user_data = &ctx;
  first.fn = [](void* user_data, semaphore::timepoint&, status result) {
    auto* c = static_cast<context*>(user_data);
    c->log->record(1, result);
    EXPECT_TRUE(c->sem->cancel_timepoint(c->to_cancel->tp));
    c->sem->acquire_timepoint(c->later->tp);         // pending: value is 1
    EXPECT_TRUE(c->sem->signal(2).is_ok());          // nested signal resolves `chained`
    EXPECT_TRUE(c->other->signal(7).is_ok());        // another semaphore
    c->sem->fail(weft::errors::aborted("from a callback"));  // fails `later`
  };
  sem.acquire_timepoint(first);
  sem.acquire_timepoint(to_cancel.tp);
  sem.acquire_timepoint(chained.tp);
  ASSERT_TRUE(sem.signal(1).is_ok());
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 4, 2}));
  const auto entries = log.entries();
  EXPECT_TRUE(entries[1].result.is_ok());
  EXPECT_EQ(entries[2].result.code(), status_code::aborted);
  EXPECT_EQ(other.query(), 7u);
  EXPECT_EQ(sem.query(), 2u);
  EXPECT_TRUE(sem.failed());
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST(Semaphore, NullCallbackIsIgnored) {
  semaphore sem(0);
  semaphore::timepoint tp;
  tp.minimum_value = 1;
  sem.acquire_timepoint(tp);
  EXPECT_EQ(sem.pending_timepoints(), 0u);
  EXPECT_TRUE(sem.signal(1).is_ok());
}

// ---- link -------------------------------------------------------------------------

TEST(SemaphoreLink, RelaysTheValueToTheTarget) {
  semaphore source(0), target(0);
  semaphore::relay r;
  source.link(5, target, 10, r);
  ASSERT_TRUE(source.signal(4).is_ok());
  EXPECT_EQ(target.query(), 0u);
  ASSERT_TRUE(source.signal(5).is_ok());
  EXPECT_EQ(target.query(), 10u);
  EXPECT_FALSE(target.failed());
  EXPECT_FALSE(source.unlink(r));  // already ran
}

TEST(SemaphoreLink, AlreadyReachedRelaysInsideLink) {
  semaphore source(7), target(0);
  semaphore::relay r;
  source.link(5, target, 1, r);
  EXPECT_EQ(target.query(), 1u);
}

TEST(SemaphoreLink, ChainsRelayThroughSeveralSemaphores) {
  semaphore a(0), b(0), c(0);
  semaphore::relay ab, bc;
  b.link(2, c, 3, bc);
  a.link(1, b, 2, ab);
  ASSERT_TRUE(a.signal(1).is_ok());
  EXPECT_EQ(b.query(), 2u);
  EXPECT_EQ(c.query(), 3u);
}

TEST(SemaphoreLink, SourceFailureFailsTheTarget) {
  semaphore source(0), target(0);
  semaphore::relay r;
  source.link(5, target, 10, r);
  source.fail(weft::errors::data_loss("upstream lost"));
  EXPECT_EQ(target.failure(), weft::errors::data_loss("upstream lost"));
}

TEST(SemaphoreLink, SourceDestroyedFailsTheTargetCancelled) {
  semaphore target(0);
  semaphore::relay r;
  {
    semaphore source(0);
    source.link(5, target, 10, r);
  }
  EXPECT_EQ(target.failure().code(), status_code::cancelled);
}

TEST(SemaphoreLink, TargetAlreadyBeyondTheValueIsFailedNamingIt) {
  semaphore source(0), target(20);
  semaphore::relay r;
  source.link(1, target, 10, r);
  ASSERT_TRUE(source.signal(1).is_ok());
  const status s = target.failure();
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(s.message(), "semaphore link")) << s;
  EXPECT_TRUE(contains(s.message(), "10")) << s;
}

TEST(SemaphoreLink, UnlinkBeforeItRunsLeavesTheTargetAlone) {
  semaphore source(0), target(0);
  semaphore::relay r;
  source.link(5, target, 10, r);
  EXPECT_TRUE(source.unlink(r));
  ASSERT_TRUE(source.signal(5).is_ok());
  source.fail(weft::errors::aborted("later"));
  EXPECT_EQ(target.query(), 0u);
  EXPECT_FALSE(target.failed());
}

// ---- host waits ---------------------------------------------------------------

TEST(Semaphore, HostWaitAlreadyReachedReturnsAtOnce) {
  semaphore sem(5);
  EXPECT_TRUE(sem.wait(5, deadline::immediate()).is_ok());
  EXPECT_TRUE(sem.wait(1, deadline::infinite()).is_ok());
}

TEST(Semaphore, HostWaitTimeoutHonoursTheDeadline) {
  semaphore sem(1);
  for (const auto timeout : {0ms, 1ms, 30ms}) {
    const auto start = std::chrono::steady_clock::now();
    const status s = sem.wait(2, deadline::after(timeout));
    const std::int64_t took = elapsed_ns(start);
    EXPECT_EQ(s.code(), status_code::deadline_exceeded);
    EXPECT_TRUE(contains(s.message(), "value 2")) << s;
    EXPECT_TRUE(contains(s.message(), "current value 1")) << s;
    EXPECT_GE(took, std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count()) << "returned early";
  }
}

TEST(Semaphore, HostWaitIsWokenBySignal) {
  watchdog guard;
  semaphore sem(0);
  std::vector<int> payload(4, 0);
  std::thread signaller([&] {
    for (std::uint64_t v = 1; v <= 3; ++v) {
      payload[v] = static_cast<int>(v) * 11;  // published by signal(v)
      ASSERT_TRUE(sem.signal(v).is_ok());
    }
  });
  ASSERT_TRUE(sem.wait(3, deadline::after(30s)).is_ok());
  EXPECT_EQ(payload[3], 33);
  EXPECT_EQ(payload[1], 11);
  signaller.join();
}

// ---- wait_multiple --------------------------------------------------------------

TEST(SemaphoreWaitMultiple, RejectsBadArguments) {
  semaphore a, b;
  semaphore* sems[] = {&a, &b};
  semaphore* with_null[] = {&a, nullptr};
  const std::uint64_t values[] = {1, 2, 3};
  auto r = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::immediate());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(r.status().message(), "2 semaphores but 3 values")) << r.status();
  r = semaphore::wait_multiple(wait_mode::any, {}, {}, deadline::immediate());
  EXPECT_EQ(r.status().code(), status_code::invalid_argument);
  r = semaphore::wait_multiple(wait_mode::all, with_null, std::span(values, 2), deadline::immediate());
  EXPECT_EQ(r.status().code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(r.status().message(), "semaphore 1 is null")) << r.status();
}

TEST(SemaphoreWaitMultiple, AllAlreadyReached) {
  semaphore a(3), b(5);
  semaphore* sems[] = {&a, &b};
  const std::uint64_t values[] = {3, 4};
  auto r = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::immediate());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 0u);
}

TEST(SemaphoreWaitMultiple, AnyReturnsTheIndexOfAReachedOne) {
  semaphore a(0), b(5), c(0);
  semaphore* sems[] = {&a, &b, &c};
  const std::uint64_t values[] = {1, 5, 1};
  auto r = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::immediate());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 1u);
}

TEST(SemaphoreWaitMultiple, AllPartialTimesOutAfterTheDeadlineAndLeavesNothingRegistered) {
  semaphore a(0), b(0);
  semaphore* sems[] = {&a, &b};
  const std::uint64_t values[] = {1, 1};
  ASSERT_TRUE(a.signal(1).is_ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::after(20ms));
  EXPECT_GE(elapsed_ns(start), 20'000'000) << "returned early";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), status_code::deadline_exceeded);
  EXPECT_TRUE(contains(r.status().message(), "1 of 2")) << r.status();
  EXPECT_EQ(a.pending_timepoints(), 0u);
  EXPECT_EQ(b.pending_timepoints(), 0u);
  EXPECT_TRUE(b.signal(1).is_ok());  // nothing left to call back into the dead frame
}

TEST(SemaphoreWaitMultiple, AnyTimesOutAfterTheDeadline) {
  semaphore a(0), b(0);
  semaphore* sems[] = {&a, &b};
  const std::uint64_t values[] = {1, 1};
  const auto start = std::chrono::steady_clock::now();
  auto r = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::after(20ms));
  EXPECT_GE(elapsed_ns(start), 20'000'000) << "returned early";
  EXPECT_EQ(r.status().code(), status_code::deadline_exceeded);
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints(), 0u);
  auto immediate = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::immediate());
  EXPECT_EQ(immediate.status().code(), status_code::deadline_exceeded);
}

TEST(SemaphoreWaitMultiple, AllCompletesWhenSignalledFromAnotherThread) {
  watchdog guard;
  semaphore a(0), b(0), c(0);
  semaphore* sems[] = {&a, &b, &c};
  const std::uint64_t values[] = {2, 1, 3};
  std::thread signaller([&] {
    ASSERT_TRUE(c.signal(3).is_ok());
    ASSERT_TRUE(a.signal(1).is_ok());
    ASSERT_TRUE(b.signal(1).is_ok());
    ASSERT_TRUE(a.signal(2).is_ok());
  });
  auto r = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::after(30s));
  signaller.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints() + c.pending_timepoints(), 0u);
}

TEST(SemaphoreWaitMultiple, AnyCompletesWithTheSignalledIndex) {
  watchdog guard;
  semaphore a(0), b(0), c(0);
  semaphore* sems[] = {&a, &b, &c};
  const std::uint64_t values[] = {1, 1, 1};
  std::thread signaller([&] { ASSERT_TRUE(c.signal(1).is_ok()); });
  auto r = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::after(30s));
  signaller.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 2u);
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints() + c.pending_timepoints(), 0u);
}

TEST(SemaphoreWaitMultiple, AlreadyFailedSemaphoreFailsTheWait) {
  semaphore a(5), b(0);
  b.fail(weft::errors::data_loss("b lost"));
  semaphore* sems[] = {&a, &b};
  const std::uint64_t values[] = {1, 1};
  for (const auto mode : {wait_mode::all, wait_mode::any}) {  // any: even though a is reached
    auto r = semaphore::wait_multiple(mode, sems, values, deadline::infinite());
    EXPECT_EQ(r.status(), weft::errors::data_loss("b lost"));
  }
}

TEST(SemaphoreWaitMultiple, FailureDuringTheWaitEndsIt) {
  watchdog guard;
  semaphore a(0), b(0);
  semaphore* sems[] = {&a, &b};
  const std::uint64_t values[] = {1, 1};
  std::thread failer([&] {
    ASSERT_TRUE(a.signal(1).is_ok());
    b.fail(weft::errors::aborted("b torn down"));
  });
  auto r = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::after(30s));
  failer.join();
  EXPECT_EQ(r.status(), weft::errors::aborted("b torn down"));
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints(), 0u);
}

TEST(SemaphoreWaitMultiple, SingleSemaphore) {
  semaphore a(0);
  semaphore* sems[] = {&a};
  const std::uint64_t values[] = {1};
  EXPECT_EQ(semaphore::wait_multiple(wait_mode::all, sems, values, deadline::immediate()).status().code(),
            status_code::deadline_exceeded);
  ASSERT_TRUE(a.signal(1).is_ok());
  auto r = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::immediate());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
}

// A timepoint wait_multiple cannot cancel (its callback is about to run on
// the signalling thread) keeps wait_multiple from returning until the
// callback has run: the frame it reports to lives on wait_multiple's stack.
// b's dispatch runs `gate` first (FIFO); gate satisfies the wait through a,
// then gives wait_multiple 200 ms to return early, which it must not do.
TEST(SemaphoreWaitMultiple, WaitsForACallbackItCouldNotCancel) {
  watchdog guard;
  semaphore a(0), b(0);
  counter returned;
  struct gate_context {
    semaphore* a;
    counter* returned;
    bool returned_while_pending = true;
  } ctx{&a, &returned};
  semaphore::timepoint gate;
  gate.minimum_value = 1;
  gate.user_data = &ctx;
  gate.fn = [](void* user_data, semaphore::timepoint&, status) {
    auto* c = static_cast<gate_context*>(user_data);
    EXPECT_TRUE(c->a->signal(1).is_ok());  // wait_multiple is now satisfied
    c->returned_while_pending = c->returned->wait_at_least(1, 200ms);
  };
  b.acquire_timepoint(gate);
  weft::result<std::size_t> r = weft::errors::internal("not run");
  std::thread waiter([&] {
    semaphore* sems[] = {&b, &a};
    const std::uint64_t values[] = {1, 1};
    r = semaphore::wait_multiple(wait_mode::any, sems, values, deadline::after(30s));
    returned.add();
  });
  // Until the waiter has registered on both (nothing signals this state).
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (b.pending_timepoints() < 2 || a.pending_timepoints() < 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(100us);
  }
  ASSERT_TRUE(b.signal(1).is_ok());  // runs gate, then the waiter's timepoint on b
  waiter.join();
  EXPECT_FALSE(ctx.returned_while_pending) << "wait_multiple returned while its callback was still to run";
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 1u);  // a's timepoint reported first
}

// More than the 8 inline timepoints: the heap path.
TEST(SemaphoreWaitMultiple, LargeCountAllAndAny) {
  watchdog guard;
  constexpr std::size_t n = 20;
  std::vector<std::unique_ptr<semaphore>> owned;
  std::vector<semaphore*> sems;
  std::vector<std::uint64_t> values;
  for (std::size_t i = 0; i < n; ++i) {
    owned.push_back(std::make_unique<semaphore>(0));
    sems.push_back(owned.back().get());
    values.push_back(i + 1);
  }
  std::thread signaller([&] {
    for (std::size_t i = n; i-- > 0;) ASSERT_TRUE(sems[i]->signal(values[i]).is_ok());
  });
  auto all = semaphore::wait_multiple(wait_mode::all, sems, values, deadline::after(30s));
  signaller.join();
  ASSERT_TRUE(all.ok()) << all.status();
  for (auto* s : sems) EXPECT_EQ(s->pending_timepoints(), 0u);

  std::vector<std::uint64_t> higher(values);
  for (auto& v : higher) v += 100;
  std::thread one([&] { ASSERT_TRUE(sems[13]->signal(higher[13]).is_ok()); });
  auto any = semaphore::wait_multiple(wait_mode::any, sems, higher, deadline::after(30s));
  one.join();
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(*any, 13u);
  for (auto* s : sems) EXPECT_EQ(s->pending_timepoints(), 0u);

  const auto start = std::chrono::steady_clock::now();
  auto late = semaphore::wait_multiple(wait_mode::all, sems, higher, deadline::after(10ms));
  EXPECT_GE(elapsed_ns(start), 10'000'000);
  EXPECT_EQ(late.status().code(), status_code::deadline_exceeded);
  for (auto* s : sems) EXPECT_EQ(s->pending_timepoints(), 0u);
}

// ---- concurrency ------------------------------------------------------------------

// Two signallers take turns (each signals its parity of values after waiting
// for the previous one), writing a plain payload per value before signalling;
// host waiters and timepoint callbacks check the payload of every value up to
// what they observed. A third signaller races on values it knows are taken,
// exercising the non-monotonic path concurrently.
TEST(SemaphoreConcurrency, SignallersAndWaiters) {
  watchdog guard(std::chrono::seconds(120));
#if defined(WEFT_SANITIZER_THREAD)
  constexpr std::uint64_t top = 4'000;
#else
  constexpr std::uint64_t top = 40'000;
#endif
  constexpr int waiters = 2;
  constexpr int timepoints_per_waiter = 200;
  semaphore sem(0);
  std::vector<std::uint64_t> payload(top + 1, 0);
  counter fired;
  weft::relaxed_cell<std::uint64_t> bad{0};

  struct checked_timepoint {
    semaphore::timepoint tp;
    semaphore* sem;
    const std::vector<std::uint64_t>* payload;
    counter* fired;
    weft::relaxed_cell<std::uint64_t>* bad;
    weft::relaxed_cell<std::uint32_t> runs{0};
  };
  std::vector<std::unique_ptr<checked_timepoint>> tps;
  for (int i = 0; i < waiters * timepoints_per_waiter; ++i) {
    auto t = std::make_unique<checked_timepoint>();
    t->sem = &sem;
    t->payload = &payload;
    t->fired = &fired;
    t->bad = &bad;
    t->tp.user_data = t.get();
    t->tp.minimum_value = 1 + static_cast<std::uint64_t>(i) * top / (waiters * timepoints_per_waiter);
    t->tp.fn = [](void* user_data, semaphore::timepoint& tp, status result) {
      auto* self = static_cast<checked_timepoint*>(user_data);
      const std::uint64_t m = tp.minimum_value;
      if (!result.is_ok() || (*self->payload)[m] != m * 3) self->bad->fetch_add(1);
      self->runs.fetch_add(1);
      self->fired->add();
    };
    tps.push_back(std::move(t));
  }

  std::vector<std::thread> threads;
  for (std::uint64_t parity = 0; parity < 2; ++parity) {
    threads.emplace_back([&, parity] {
      for (std::uint64_t v = 1 + parity; v <= top; v += 2) {
        if (!sem.wait(v - 1, deadline::after(60s)).is_ok()) {
          bad.fetch_add(1);
          return;
        }
        payload[v] = v * 3;
        if (!sem.signal(v).is_ok()) bad.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {  // racing stale signals: always rejected, never harmful
    for (std::uint64_t i = 0; i < top; ++i) {
      const std::uint64_t current = sem.query();
      if (current == 0) continue;
      const status s = sem.signal(current);
      if (s.code() != status_code::invalid_argument) bad.fetch_add(1);
    }
  });
  for (int w = 0; w < waiters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < timepoints_per_waiter; ++i) {
        sem.acquire_timepoint(tps[static_cast<std::size_t>(w * timepoints_per_waiter + i)]->tp);
        const std::uint64_t target = 1 + static_cast<std::uint64_t>(i) * top / timepoints_per_waiter;
        if (!sem.wait(target, deadline::after(60s)).is_ok()) {
          bad.fetch_add(1);
          continue;
        }
        const std::uint64_t seen = sem.query();
        for (std::uint64_t v = seen > 8 ? seen - 8 : 1; v <= seen; ++v) {
          if (payload[v] != v * 3) bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(fired.wait_at_least(tps.size()));
  EXPECT_EQ(sem.query(), top);
  EXPECT_EQ(bad.load(), 0u);
  for (const auto& t : tps) EXPECT_EQ(t->runs.load(), 1u);
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

// wait_multiple racing the signals it waits for, in lockstep rounds: the
// signaller starts round r only when the waiter finished round r - 1 (through
// a fourth semaphore), so each call races registration against signal and
// dispatch. Every call succeeds and leaves nothing registered.
TEST(SemaphoreConcurrency, WaitMultipleRacingSignals) {
  watchdog guard(std::chrono::seconds(120));
#if defined(WEFT_SANITIZER_THREAD)
  constexpr std::uint64_t rounds = 2'000;
#else
  constexpr std::uint64_t rounds = 20'000;
#endif
  semaphore a(0), b(0), c(0), round_done(0);
  semaphore* sems[] = {&a, &b, &c};
  weft::relaxed_cell<std::uint64_t> bad{0};
  std::thread signaller([&] {
    for (std::uint64_t r = 1; r <= rounds; ++r) {
      if (!round_done.wait(r - 1, deadline::after(60s)).is_ok()) {
        bad.fetch_add(1);
        return;
      }
      for (auto* s : sems) {
        if (!s->signal(r).is_ok()) bad.fetch_add(1);
      }
    }
  });
  for (std::uint64_t r = 1; r <= rounds; ++r) {
    const std::uint64_t values[] = {r, r, r};
    const auto mode = r % 2 == 0 ? wait_mode::all : wait_mode::any;
    auto result = semaphore::wait_multiple(mode, sems, values, deadline::after(60s));
    if (!result.ok()) bad.fetch_add(1);
    // any: wait for the rest of the round too, so the next round starts clean
    if (!c.wait(r, deadline::after(60s)).is_ok()) bad.fetch_add(1);
    for (auto* s : sems) {
      if (s->pending_timepoints() != 0) bad.fetch_add(1);
    }
    if (!round_done.signal(r).is_ok()) bad.fetch_add(1);
  }
  signaller.join();
  EXPECT_EQ(bad.load(), 0u);
}

}  // namespace
