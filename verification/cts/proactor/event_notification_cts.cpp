// CTS: event waits and sets, notification waits and signals (async and sync),
// and their cancellation.
#include <algorithm>
#include <thread>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE(event_cts);

TEST_P(event_cts, same_thread_set_then_wait) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  WEFT_ASSERT_OK(ready->set());
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
  EXPECT_FALSE(ready->try_consume()) << "the wait did not consume the set";
}

TEST_P(event_cts, wait_then_set) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(20ms), 0u) << "a wait completed without a set";
  WEFT_ASSERT_OK(ready->set());
  WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
  EXPECT_FALSE(ready->try_consume());
}

TEST_P(event_cts, cross_thread_set) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  for (int round = 0; round < 5; ++round) {
    auto& wait = make<event_wait_op>(ready.get());
    WEFT_ASSERT_OK(io().submit(wait));
    EXPECT_EQ(poll_for(0ms), 0u);
    status set;
    std::thread setter([&] { set = ready->set(); });
    const bool done = poll_until([&] { return log.count(wait) == 1; });
    setter.join();
    ASSERT_TRUE(set.is_ok()) << set;
    ASSERT_TRUE(done) << "round " << round << ": a set from another thread did not complete the wait";
    WEFT_EXPECT_CODE(log.result(wait), status_code::ok);
  }
}

TEST_P(event_cts, pre_set_event) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  std::thread setter([&] { EXPECT_TRUE(ready->set().is_ok()); });
  setter.join();
  EXPECT_EQ(poll_for(5ms), 0u);
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
  // reset() drops a pending set: a later wait needs a new one.
  WEFT_ASSERT_OK(ready->set());
  ready->reset();
  auto& after_reset = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(after_reset));
  EXPECT_EQ(poll_for(20ms), 0u) << "a reset event completed a wait";
  WEFT_ASSERT_OK(ready->set());
  ASSERT_TRUE(poll_until([&] { return log.count(after_reset) == 1; }));
}

TEST_P(event_cts, two_sets_coalesce) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  WEFT_ASSERT_OK(ready->set());
  WEFT_ASSERT_OK(ready->set());
  auto& first = make<event_wait_op>(ready.get());
  auto& second = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(first));
  WEFT_ASSERT_OK(io().submit(second));
  ASSERT_TRUE(poll_until([&] { return log.size() >= 1; }));
  EXPECT_EQ(poll_for(20ms), 0u) << "two unconsumed sets completed two waits";
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.order()[0], &first) << "waits on one event complete in submission order";
  WEFT_ASSERT_OK(ready->set());
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  WEFT_EXPECT_CODE(log.result(second), status_code::ok);
}

TEST_P(event_cts, many_events_partial_set) {
  constexpr int count = 8;
  std::vector<event_ptr> events;
  std::vector<event_wait_op*> waits;
  for (int i = 0; i < count; ++i) {
    events.push_back(make_event());
    ASSERT_TRUE(events.back());
    auto& wait = make<event_wait_op>(events.back().get());
    waits.push_back(&wait);
    WEFT_ASSERT_OK(io().submit(wait));
  }
  for (int i = 0; i < count; i += 2) WEFT_ASSERT_OK(events[i]->set());
  ASSERT_TRUE(poll_until([&] { return log.size() == count / 2; }));
  EXPECT_EQ(poll_for(10ms), 0u);
  for (int i = 0; i < count; ++i) EXPECT_EQ(log.count(*waits[i]), i % 2 == 0 ? 1u : 0u) << i;
  for (int i = 1; i < count; i += 2) WEFT_ASSERT_OK(events[i]->set());
  ASSERT_TRUE(poll_until([&] { return log.size() == count; }));
}

TEST_P(event_cts, cancel_pending_wait_event_still_usable) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(5ms), 0u);
  WEFT_EXPECT_CODE(io().cancel(wait), status_code::ok);
  WEFT_EXPECT_CODE(await_callback(wait), status_code::cancelled);
  WEFT_EXPECT_CODE(io().cancel(wait), status_code::not_found);
  // The event still works, and the cancelled wait consumed nothing.
  WEFT_ASSERT_OK(ready->set());
  auto& again = make<event_wait_op>(ready.get());
  WEFT_EXPECT_CODE(submit_and_await(again), status_code::ok);
  // Resubmitting the cancelled operation works too.
  WEFT_ASSERT_OK(io().submit(wait));
  WEFT_ASSERT_OK(ready->set());
  WEFT_EXPECT_CODE(await_callback(wait, 2), status_code::ok);
}

TEST_P(event_cts, cancel_from_another_thread_while_poll_sleeps) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(0ms), 0u);
  status cancelled;
  std::thread canceller([&] { cancelled = io().cancel(wait); });
  const bool done = poll_until([&] { return log.size() == 1; });
  canceller.join();
  EXPECT_TRUE(cancelled.is_ok()) << cancelled;
  ASSERT_TRUE(done) << "a cross-thread cancel did not wake the poll";
  WEFT_EXPECT_CODE(log.result(wait), status_code::cancelled);
}

TEST_P(event_cts, cancel_racing_with_set) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& wait = make<event_wait_op>(ready.get());
  const int rounds = iterations(200);
  int won_by_set = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t before = log.size();
    WEFT_ASSERT_OK(io().submit(wait));
    static_cast<void>(poll_for(0ms));
    status set;
    std::thread setter([&] { set = ready->set(); });
    const status cancelled = io().cancel(wait);
    ASSERT_TRUE(poll_until([&] { return log.size() == before + 1; }));
    setter.join();
    ASSERT_TRUE(set.is_ok()) << set;
    EXPECT_TRUE(cancelled.is_ok() || cancelled.code() == status_code::not_found) << cancelled;
    const status result = log.entries()[before].result;
    ASSERT_TRUE(result.is_ok() || result.code() == status_code::cancelled) << result;
    if (result.is_ok()) {
      ++won_by_set;
      // The wait consumed the set.
      EXPECT_FALSE(ready->try_consume()) << "round " << round << ": the set was consumed twice";
    } else {
      // The cancelled wait must not have eaten the set.
      EXPECT_TRUE(ready->try_consume()) << "round " << round << ": a cancelled wait consumed the set (lost signal)";
    }
    ASSERT_EQ(poll_for(0ms), 0u) << "round " << round << ": a second callback";
  }
  RecordProperty("won_by_set", won_by_set);
}

TEST_P(event_cts, last_reference_released_while_waited_on) {
  // Not made through the fixture: the test's handle is the only reference.
  result<event_ptr> created = event::create();
  ASSERT_TRUE(created.ok()) << created.status();
  event_ptr ready = std::move(created).value();
  auto& wait = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(5ms), 0u);
  ready = event_ptr();  // the proactor's reference keeps it alive
  EXPECT_EQ(poll_for(5ms), 0u);
  WEFT_EXPECT_CODE(io().cancel(wait), status_code::ok);
  WEFT_EXPECT_CODE(await_callback(wait), status_code::cancelled);
  // The event's eventfd is closed once the proactor lets go: TearDown's fd
  // count checks that (after the proactor is destroyed).
}

TEST_P(event_cts, waits_from_two_proactors_rejected) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& first = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK(io().submit(first));
  EXPECT_EQ(poll_for(0ms), 0u);
  proactor_options options;
  options.backend = config().kind;
  options.allowed_capabilities = config().allowed_capabilities;
  result<std::unique_ptr<proactor>> other = proactor::create(options);
  ASSERT_TRUE(other.ok()) << other.status();
  auto& second = make<event_wait_op>(ready.get());
  WEFT_ASSERT_OK((*other)->submit(second));
  const deadline until = deadline::after(10s);
  while (log.count(second) == 0 && !until.expired()) {
    WEFT_ASSERT_OK((*other)->poll(until).status());
  }
  WEFT_EXPECT_CODE(log.result(second), status_code::failed_precondition);
  other->reset();
  // The first proactor's wait is undisturbed.
  WEFT_ASSERT_OK(ready->set());
  WEFT_EXPECT_CODE(await_callback(first), status_code::ok);
}

WEFT_CTS_SUITE(notification_cts);

TEST_P(notification_cts, async_wait_then_signal) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  auto& wait = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(20ms), 0u) << "a wait completed without a signal";
  changed->signal();
  WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
}

TEST_P(notification_cts, async_wait_cross_thread_signal) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  for (int round = 0; round < 5; ++round) {
    auto& first = make<notification_wait_op>(changed.get());
    auto& second = make<notification_wait_op>(changed.get());
    WEFT_ASSERT_OK(io().submit(first));
    WEFT_ASSERT_OK(io().submit(second));
    EXPECT_EQ(poll_for(0ms), 0u);
    std::thread signaller([&] { changed->signal(1); });  // every async wait completes, whatever the count
    const bool done = poll_until([&] { return log.count(first) == 1 && log.count(second) == 1; });
    signaller.join();
    ASSERT_TRUE(done) << "round " << round << ": a signal did not complete every async wait";
    WEFT_EXPECT_CODE(log.result(first), status_code::ok);
    WEFT_EXPECT_CODE(log.result(second), status_code::ok);
  }
}

TEST_P(notification_cts, signal_before_submit_needs_token) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  // Without a token the epoch at submit counts: an earlier signal is not seen.
  const std::uint32_t old_token = changed->begin_observe();
  changed->signal();
  changed->end_observe();
  auto& plain = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(plain));
  EXPECT_EQ(poll_for(20ms), 0u);
  // With the token taken before the signal, the signal is not lost.
  const std::uint32_t token = changed->begin_observe();
  EXPECT_NE(token, old_token);
  changed->signal();
  auto& observed = make<notification_wait_op>(changed.get());
  observed.use_token = true;
  observed.token = token;
  WEFT_ASSERT_OK(io().submit(observed));
  changed->end_observe();
  WEFT_EXPECT_CODE(await_callback(observed), status_code::ok);
  // The plain wait was submitted before that signal: it completes too.
  WEFT_EXPECT_CODE(await_callback(plain), status_code::ok);
}

TEST_P(notification_cts, sync_wait_cross_thread) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  handshake observing;
  bool woke = false;
  std::int64_t waited_ns = 0;
  std::thread waiter([&] {
    const std::uint32_t token = changed->begin_observe();
    observing.raise();
    const std::int64_t start = monotonic_now_ns();
    woke = changed->wait(token, deadline::after(10s));
    waited_ns = monotonic_now_ns() - start;
  });
  ASSERT_TRUE(observing.wait());
  changed->signal();  // after begin_observe: the wait must return true
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(waited_ns, 5'000'000'000);
}

TEST_P(notification_cts, sync_wait_timeout) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  const std::uint32_t token = changed->begin_observe();
  const deadline until = deadline::after(20ms);
  EXPECT_FALSE(changed->wait(token, until));
  EXPECT_GE(monotonic_now_ns(), until.monotonic_ns()) << "a sync wait timed out early";
}

TEST_P(notification_cts, signal_without_observers) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  for (int i = 0; i < 1000; ++i) changed->signal();
  // A later observation still works in both directions.
  const std::uint32_t token = changed->begin_observe();
  EXPECT_FALSE(changed->wait(token, deadline::immediate()));
  const std::uint32_t again = changed->begin_observe();
  changed->signal();
  EXPECT_TRUE(changed->wait(again, deadline::immediate()));
  // An async wait submitted after all that waits for the next signal.
  auto& wait = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(10ms), 0u);
  changed->signal();
  ASSERT_TRUE(poll_until([&] { return log.size() == 1; }));
}

TEST_P(notification_cts, cancel_async_wait_completes_promptly) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  for (int round = 0; round < 3; ++round) {
    auto& wait = make<notification_wait_op>(changed.get());
    WEFT_ASSERT_OK(io().submit(wait));
    if (round > 0) {  // round 0: cancelled before it started
      EXPECT_EQ(poll_for(5ms), 0u);
    }
    const std::int64_t start = monotonic_now_ns();
    status cancelled;
    bool done = false;
    if (round == 2) {  // from another thread, while the poll sleeps
      std::thread canceller([&] { cancelled = io().cancel(wait); });
      done = poll_until([&] { return log.count(wait) == 1; }, 2s);
      canceller.join();
    } else {
      cancelled = io().cancel(wait);
      done = poll_until([&] { return log.count(wait) == 1; }, 2s);
    }
    WEFT_EXPECT_CODE(cancelled, status_code::ok);
    ASSERT_TRUE(done) << "round " << round << ": a cancelled notification wait waits for the next signal";
    EXPECT_LT(monotonic_now_ns() - start, 1'000'000'000);
    WEFT_EXPECT_CODE(log.result(wait), status_code::cancelled);
  }
  // Still usable.
  auto& wait = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(0ms), 0u);
  changed->signal();
  WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
}

TEST_P(notification_cts, signal_op_in_linked_sequence) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  auto& waiting = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(waiting));
  EXPECT_EQ(poll_for(0ms), 0u);
  const std::uint32_t token = changed->begin_observe();

  auto& before = make<timer_op>();
  before.when = deadline::after(5ms);
  before.flags = op_flag::linked;
  auto& signal = make<notification_signal_op>(changed.get());
  signal.flags = op_flag::linked;
  auto& after = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&before, &signal, &after}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 4; }));
  for (const operation* op : {static_cast<const operation*>(&before), static_cast<const operation*>(&signal),
                              static_cast<const operation*>(&after), static_cast<const operation*>(&waiting)}) {
    WEFT_EXPECT_CODE(log.result(*op), status_code::ok);
  }
  const std::vector<const operation*> order = log.order();
  const auto position = [&](const operation& op) { return std::find(order.begin(), order.end(), &op) - order.begin(); };
  EXPECT_LT(position(before), position(signal));
  EXPECT_LT(position(signal), position(after));
  EXPECT_GE(log.time_of(waiting), log.time_of(before)) << "the signal ran before its linked predecessor completed";
  EXPECT_TRUE(changed->wait(token, deadline::immediate())) << "the signal op did not move the epoch";
}

TEST_P(notification_cts, signal_op_wakes_sync_waiter) {
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  handshake observing;
  bool woke = false;
  std::thread waiter([&] {
    const std::uint32_t token = changed->begin_observe();
    observing.raise();
    woke = changed->wait(token, deadline::after(10s));
  });
  ASSERT_TRUE(observing.wait());
  auto& signal = make<notification_signal_op>(changed.get());
  signal.wake_count = 1;
  WEFT_EXPECT_CODE(submit_and_await(signal), status_code::ok);
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST_P(notification_cts, broadcast_leaves_nothing_signalled) {
  // A broadcast (wake_count INT32_MAX) completes the waits of its time and
  // nothing later: no leftover readiness that completes the next wait early
  // or makes a sync wait spin.
  notification_ptr changed = make_notification();
  ASSERT_TRUE(changed);
  for (int round = 0; round < 3; ++round) {
    auto& wait = make<notification_wait_op>(changed.get());
    WEFT_ASSERT_OK(io().submit(wait));
    EXPECT_EQ(poll_for(0ms), 0u);
    changed->signal();
    WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
  }
  auto& later = make<notification_wait_op>(changed.get());
  WEFT_ASSERT_OK(io().submit(later));
  EXPECT_EQ(poll_for(20ms), 0u) << "a wait after a broadcast completed without a signal";
  const std::uint32_t token = changed->begin_observe();
  const deadline until = deadline::after(20ms);
  EXPECT_FALSE(changed->wait(token, until));
  EXPECT_GE(monotonic_now_ns(), until.monotonic_ns());
  changed->signal();
  ASSERT_TRUE(poll_until([&] { return log.count(later) == 1; }));
}

}  // namespace
}  // namespace weft::io::cts
