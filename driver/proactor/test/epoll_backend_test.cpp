// The epoll backend through detail::backend, with a recording completion sink
// in place of the proactor core.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "weft/base/time.hpp"
#include "weft/io/event.hpp"

namespace {

using weft::deadline;
using weft::status;
using weft::status_code;
using weft::io::backend_kind;
using weft::io::nop_op;
using weft::io::operation;
using weft::io::proactor_options;
using weft::io::timer_op;
using weft::io::detail::backend;
using weft::io::detail::waitable;

constexpr std::int64_t ms = 1'000'000;

class recording_sink final : public weft::io::detail::completion_sink {
 public:
  struct completion {
    operation* op;
    status result;
    std::int64_t at_ns;
  };
  struct fire {
    waitable* w;
    status result;
  };
  void complete(operation& op, status result) override {
    completions.push_back({&op, std::move(result), weft::now_ns()});
  }
  void watch_fired(waitable& w, status result) override { fires.push_back({&w, std::move(result)}); }
  const completion* find(const operation& op) const {
    const completion* found = nullptr;
    for (const completion& c : completions) {
      if (c.op != &op) continue;
      EXPECT_EQ(found, nullptr) << "completed twice";
      found = &c;
    }
    return found;
  }
  std::vector<completion> completions;
  std::vector<fire> fires;
};

std::unique_ptr<backend> make_backend(proactor_options options = {}) {
  options.backend = backend_kind::epoll;
  auto made = weft::io::detail::create_epoll_backend(options);
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) return nullptr;
  EXPECT_TRUE((*made)->bind_poll_thread().is_ok());
  return std::move(*made);
}

// Polls like the core does until `done()` or the deadline; returns done().
template <class Done>
bool poll_until(backend& b, recording_sink& sink, Done done, deadline until = deadline::after(10'000 * ms)) {
  while (!done()) {
    if (until.expired()) return false;
    auto reaped = b.reap(sink);
    EXPECT_TRUE(reaped.ok()) << reaped.status();
    if (done()) break;
    EXPECT_TRUE(b.wait(until).is_ok());
  }
  return true;
}

// ---------------------------------------------------------------- creation

TEST(EpollBackend, CreatesWithKindAndMaskedCapabilities) {
  std::unique_ptr<backend> b = make_backend();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), backend_kind::epoll);
  EXPECT_EQ(b->capabilities() & ~weft::io::capability::nowait_reads, 0u);
  std::unique_ptr<backend> masked = make_backend({.allowed_capabilities = 0});
  ASSERT_NE(masked, nullptr);
  EXPECT_EQ(masked->capabilities(), 0u);
}

TEST(EpollBackend, QueueEntriesOutsideRangeAreRejected) {
  for (std::uint32_t entries : {0u, 32769u}) {
    auto made = weft::io::detail::create_epoll_backend({.queue_entries = entries});
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.status().code(), status_code::invalid_argument);
    EXPECT_NE(made.status().message().find(std::to_string(entries)), std::string::npos) << made.status();
  }
}

// ---------------------------------------------------------------- nop

TEST(EpollBackend, NopCompletesAtTheNextReapInStartOrder) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  nop_op first, second;
  ASSERT_TRUE(b->start(first));
  ASSERT_TRUE(b->start(second));
  EXPECT_TRUE(sink.completions.empty());  // nothing before reap
  auto reaped = b->reap(sink);
  ASSERT_TRUE(reaped.ok()) << reaped.status();
  EXPECT_EQ(*reaped, 2u);
  ASSERT_EQ(sink.completions.size(), 2u);
  EXPECT_EQ(sink.completions[0].op, &first);
  EXPECT_EQ(sink.completions[1].op, &second);
  EXPECT_TRUE(sink.completions[0].result.is_ok());
  b->cancel(first);  // completed: nothing happens
  EXPECT_EQ(*b->reap(sink), 0u);
}

TEST(EpollBackend, CancelledNopStillCompletesOk) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  nop_op nop;
  ASSERT_TRUE(b->start(nop));
  b->cancel(nop);
  ASSERT_EQ(*b->reap(sink), 1u);
  EXPECT_TRUE(sink.completions[0].result.is_ok());
}

TEST(EpollBackend, WaitReturnsAtOnceWhenACompletionIsQueued) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  nop_op nop;
  ASSERT_TRUE(b->start(nop));
  weft::stopwatch watch;
  EXPECT_TRUE(b->wait(deadline::after(5'000 * ms)).is_ok());
  EXPECT_LT(watch.elapsed_ns(), 1'000 * ms);
  EXPECT_EQ(*b->reap(sink), 1u);
}

// ---------------------------------------------------------------- timers

TEST(EpollBackend, TimersCompleteInDeadlineOrderAndNeverEarly) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  const std::int64_t base = weft::now_ns();
  timer_op t30, t10a, t20, t10b, t1;
  t30.when = deadline::at(base + 30 * ms);
  t10a.when = deadline::at(base + 10 * ms);
  t20.when = deadline::at(base + 20 * ms);
  t10b.when = deadline::at(base + 10 * ms);         // equal deadline: after t10a (start order)
  t1.when = deadline::at(base + 1 * ms + 123'457);  // not a whole millisecond
  for (timer_op* t : {&t30, &t10a, &t20, &t10b, &t1}) ASSERT_TRUE(b->start(*t));
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.completions.size() == 5; }));
  const timer_op* expected[] = {&t1, &t10a, &t10b, &t20, &t30};
  for (std::size_t k = 0; k < 5; ++k) {
    const auto& c = sink.completions[k];
    EXPECT_EQ(c.op, expected[k]) << k;
    EXPECT_TRUE(c.result.is_ok()) << c.result;
    const std::int64_t when = static_cast<const timer_op*>(c.op)->when.monotonic_ns();
    EXPECT_GE(c.at_ns, when) << "timer " << k << " completed before its deadline";
    std::printf("[   info   ] timer %zu lateness %.3f ms\n", k, static_cast<double>(c.at_ns - when) / ms);
  }
}

TEST(EpollBackend, WaitSleepsUntilTheTimerRatherThanSpinning) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  timer_op timer;
  timer.when = deadline::after(20 * ms);
  ASSERT_TRUE(b->start(timer));
  std::size_t waits = 0;
  while (sink.completions.empty()) {
    ASSERT_TRUE(b->reap(sink).ok());
    if (!sink.completions.empty()) break;
    ASSERT_TRUE(b->wait(deadline::infinite()).is_ok());  // the timerfd ends it
    ASSERT_LT(++waits, 100u) << "wait() keeps returning before the timer";
  }
  EXPECT_GE(sink.completions[0].at_ns, timer.when.monotonic_ns());
}

TEST(EpollBackend, WaitTimeoutIsNotCutShort) {
  std::unique_ptr<backend> b = make_backend();
  for (std::int64_t duration : {std::int64_t{1'500'000}, std::int64_t{7'300'000}}) {
    const deadline until = deadline::after(duration);
    EXPECT_TRUE(b->wait(until).is_ok());
    EXPECT_TRUE(until.expired()) << "wait of " << duration << " ns returned " << until.remaining_ns() << " ns early";
  }
}

TEST(EpollBackend, PastAndImmediateDeadlinesCompleteAtTheNextReap) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  timer_op past, immediate;
  past.when = deadline::at(weft::now_ns() - 1'000 * ms);
  immediate.when = deadline::immediate();
  ASSERT_TRUE(b->start(past));
  ASSERT_TRUE(b->start(immediate));
  ASSERT_EQ(*b->reap(sink), 2u);
  EXPECT_TRUE(sink.completions[0].result.is_ok());
  EXPECT_TRUE(sink.completions[1].result.is_ok());
}

TEST(EpollBackend, CancelledTimerCompletesCancelledAndOthersStillFire) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  timer_op soon, cancelled, infinite;
  soon.when = deadline::after(15 * ms);
  cancelled.when = deadline::after(5 * ms);  // the earliest: the timerfd is armed for it
  infinite.when = deadline::infinite();
  for (timer_op* t : {&soon, &cancelled, &infinite}) ASSERT_TRUE(b->start(*t));
  b->cancel(cancelled);
  ASSERT_EQ(*b->reap(sink), 1u);
  ASSERT_EQ(sink.completions[0].op, &cancelled);
  EXPECT_EQ(sink.completions[0].result.code(), status_code::cancelled);
  EXPECT_NE(sink.completions[0].result.message().find("timer"), std::string::npos);

  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.completions.size() == 2; }));
  EXPECT_EQ(sink.completions[1].op, &soon);
  EXPECT_TRUE(sink.completions[1].result.is_ok());

  // The infinite timer never fires on its own.
  ASSERT_FALSE(poll_until(
      *b, sink, [&] { return sink.completions.size() == 3; }, deadline::after(30 * ms)));
  b->cancel(infinite);
  b->cancel(infinite);  // a second cancel adds nothing
  ASSERT_EQ(*b->reap(sink), 1u);
  EXPECT_EQ(sink.completions[2].op, &infinite);
  EXPECT_EQ(sink.completions[2].result.code(), status_code::cancelled);
}

TEST(EpollBackend, CancelOfAPastDeadlineBeforeTheReapWinsAfterItDoesNothing) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  timer_op early, late;
  early.when = deadline::immediate();
  late.when = deadline::immediate();
  ASSERT_TRUE(b->start(early));
  ASSERT_TRUE(b->start(late));
  b->cancel(early);  // not completed yet: cancel wins
  ASSERT_EQ(*b->reap(sink), 2u);
  EXPECT_EQ(sink.completions[0].op, &early);
  EXPECT_EQ(sink.completions[0].result.code(), status_code::cancelled);
  EXPECT_EQ(sink.completions[1].op, &late);
  EXPECT_TRUE(sink.completions[1].result.is_ok());
  b->cancel(late);  // completed: nothing more
  EXPECT_EQ(*b->reap(sink), 0u);
}

TEST(EpollBackend, ManyTimersWithCancelsInterleavedAllCompleteOnce) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  constexpr std::size_t count = 300;
  std::vector<timer_op> timers(count);
  const std::int64_t base = weft::now_ns();
  for (std::size_t k = 0; k < count; ++k) {
    timers[k].when = deadline::at(base + static_cast<std::int64_t>((k * 7919) % 40) * ms);
    ASSERT_TRUE(b->start(timers[k]));
  }
  for (std::size_t k = 0; k < count; k += 3) b->cancel(timers[k]);
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.completions.size() == count; }));
  std::int64_t previous_ok_deadline = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const auto* c = sink.find(timers[k]);
    ASSERT_NE(c, nullptr) << k;
    if (k % 3 == 0 && c->result.code() == status_code::cancelled) continue;
    EXPECT_TRUE(c->result.is_ok()) << k << ": " << c->result;
    EXPECT_GE(c->at_ns, timers[k].when.monotonic_ns()) << k;
  }
  for (const auto& c : sink.completions) {  // OK completions come in deadline order
    if (!c.result.is_ok()) continue;
    const std::int64_t when = static_cast<const timer_op*>(c.op)->when.monotonic_ns();
    EXPECT_GE(when, previous_ok_deadline);
    previous_ok_deadline = when;
  }
}

TEST(EpollBackend, NonTimerOperationsCompleteUnimplemented) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  weft::io::file_close_op close;
  close.fd = 12345;
  ASSERT_TRUE(b->start(close));
  ASSERT_EQ(*b->reap(sink), 1u);
  EXPECT_EQ(sink.completions[0].result.code(), status_code::unimplemented);
  EXPECT_NE(sink.completions[0].result.message().find("file_close fd 12345"), std::string::npos);
}

// ---------------------------------------------------------------- watches

TEST(EpollBackend, WatchFiresOncePerArmWhenReadable) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  auto made = weft::io::event::create();
  ASSERT_TRUE(made.ok()) << made.status();
  weft::io::event& ready = **made;
  ASSERT_TRUE(b->arm_watch(ready));
  EXPECT_EQ(*b->reap(sink), 0u);  // not readable yet
  ASSERT_TRUE(ready.set().is_ok());
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.fires.size() == 1; }));
  EXPECT_EQ(sink.fires[0].w, &ready);
  EXPECT_TRUE(sink.fires[0].result.is_ok());
  // Still readable (nobody consumed), but one-shot: no second fire without a re-arm.
  ASSERT_FALSE(poll_until(
      *b, sink, [&] { return sink.fires.size() == 2; }, deadline::after(20 * ms)));
  // Re-arm (EPOLL_CTL_MOD of the kept registration): fires again at once.
  ASSERT_TRUE(b->arm_watch(ready));
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.fires.size() == 2; }));
  EXPECT_TRUE(sink.fires[1].result.is_ok());
  EXPECT_TRUE(ready.try_consume());
}

TEST(EpollBackend, DisarmFiresCancelledExactlyOnce) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  auto made = weft::io::event::create();
  ASSERT_TRUE(made.ok());
  weft::io::event& ready = **made;
  ASSERT_TRUE(b->arm_watch(ready));
  b->disarm_watch(ready);
  b->disarm_watch(ready);  // not armed any more: nothing
  ASSERT_EQ(*b->reap(sink), 1u);
  EXPECT_EQ(sink.fires[0].result.code(), status_code::cancelled);
  ASSERT_TRUE(ready.set().is_ok());  // no registration left: no fire
  ASSERT_FALSE(poll_until(
      *b, sink, [&] { return sink.fires.size() == 2; }, deadline::after(20 * ms)));

  // Readable, and disarmed after wait() saw it: still only CANCELLED.
  ASSERT_TRUE(b->arm_watch(ready));
  ASSERT_TRUE(b->wait(deadline::after(1'000 * ms)).is_ok());  // returns the readable event
  b->disarm_watch(ready);
  ASSERT_EQ(*b->reap(sink), 1u);
  ASSERT_EQ(sink.fires.size(), 2u);
  EXPECT_EQ(sink.fires[1].result.code(), status_code::cancelled);
  ASSERT_FALSE(poll_until(
      *b, sink, [&] { return sink.fires.size() == 3; }, deadline::after(20 * ms)));

  // Re-arm after a disarm (ADD again after DEL) works.
  ASSERT_TRUE(b->arm_watch(ready));
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.fires.size() == 3; }));
  EXPECT_TRUE(sink.fires[2].result.is_ok());
}

TEST(EpollBackend, WatchOnTwoEventsReportsEach) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  auto first = weft::io::event::create();
  auto second = weft::io::event::create();
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(b->arm_watch(**first));
  ASSERT_TRUE(b->arm_watch(**second));
  ASSERT_TRUE((*second)->set().is_ok());
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.fires.size() == 1; }));
  EXPECT_EQ(sink.fires[0].w, second->get());
  b->disarm_watch(**first);
  ASSERT_EQ(*b->reap(sink), 1u);
  EXPECT_EQ(sink.fires[1].w, first->get());
  EXPECT_EQ(sink.fires[1].result.code(), status_code::cancelled);
}

TEST(EpollBackend, RefusedWatchFiresWithTheKernelError) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  auto made = weft::io::event::create();
  ASSERT_TRUE(made.ok());
  weft::io::event& ready = **made;
  // Put a regular file (which epoll refuses, EPERM) under the event's fd number;
  // the event's destructor closes it.
  const int file = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::dup3(file, ready.fd(), O_CLOEXEC), ready.fd());
  ::close(file);
  ASSERT_TRUE(b->arm_watch(ready));
  ASSERT_EQ(*b->reap(sink), 1u);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].result.code(), status_code::permission_denied) << sink.fires[0].result;
  EXPECT_NE(sink.fires[0].result.message().find("fd " + std::to_string(ready.fd())), std::string::npos);
  b->disarm_watch(ready);  // it fired (with the error): nothing more
  EXPECT_EQ(*b->reap(sink), 0u);
}

// ---------------------------------------------------------------- wake

TEST(EpollBackend, WakeFromAnotherThreadEndsAnInfiniteWait) {
  std::unique_ptr<backend> b = make_backend();
  recording_sink sink;
  weft::stopwatch watch;  // started before the waker, so its 20 ms sleep lies inside the measurement
  std::thread waker([&] {
    weft::sleep_for_ns(20 * ms);
    b->wake();
  });
  const status s = b->wait(deadline::infinite());
  waker.join();
  EXPECT_TRUE(s.is_ok()) << s;  // OK, not DEADLINE_EXCEEDED
  EXPECT_GE(watch.elapsed_ns(), 19 * ms);
  EXPECT_EQ(*b->reap(sink), 0u);  // a wake is no completion; it drains
  // Drained: the next wait times out instead of returning at once.
  const deadline until = deadline::after(10 * ms);
  EXPECT_TRUE(b->wait(until).is_ok());
  EXPECT_TRUE(until.expired());
}

TEST(EpollBackend, WakeBeforeWaitMakesItReturnAndCoalesces) {
  std::unique_ptr<backend> b = make_backend();
  b->wake();
  b->wake();
  weft::stopwatch watch;
  EXPECT_TRUE(b->wait(deadline::after(5'000 * ms)).is_ok());
  EXPECT_LT(watch.elapsed_ns(), 1'000 * ms);
}

TEST(EpollBackend, SmallEventBatchStillDeliversEverything) {
  std::unique_ptr<backend> b = make_backend({.queue_entries = 1});
  recording_sink sink;
  std::vector<weft::io::event_ptr> events;
  for (int k = 0; k < 5; ++k) {
    auto made = weft::io::event::create();
    ASSERT_TRUE(made.ok());
    events.push_back(std::move(*made));
    ASSERT_TRUE(b->arm_watch(*events.back()));
    ASSERT_TRUE(events.back()->set().is_ok());
  }
  b->wake();
  timer_op timer;
  timer.when = deadline::after(1 * ms);
  ASSERT_TRUE(b->start(timer));
  ASSERT_TRUE(poll_until(*b, sink, [&] { return sink.fires.size() == 5 && sink.completions.size() == 1; }));
}

}  // namespace
