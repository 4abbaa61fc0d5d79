// CTS: nop and timer operations.
#include <algorithm>
#include <array>
#include <random>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE(nop_cts);

TEST_P(nop_cts, one) {
  auto& nop = make<nop_op>();
  EXPECT_FALSE(nop.in_flight());
  WEFT_ASSERT_OK(io().submit(nop));
  ASSERT_TRUE(poll_until([&] { return log.size() == 1; }));
  EXPECT_EQ(log.count(nop), 1u);
  WEFT_EXPECT_CODE(log.result(nop), status_code::ok);
  EXPECT_FALSE(nop.in_flight());
  EXPECT_EQ(poll_for(5ms), 0u) << "a second callback";
}

TEST_P(nop_cts, many) {
  constexpr int count = 1000;
  std::vector<nop_op*> nops;
  for (int i = 0; i < count; ++i) {
    nops.push_back(&make<nop_op>());
    WEFT_ASSERT_OK(io().submit(*nops.back()));
  }
  ASSERT_TRUE(poll_until([&] { return log.size() >= count; })) << log.size() << " of " << count;
  EXPECT_EQ(poll_for(5ms), 0u);
  for (nop_op* nop : nops) {
    ASSERT_EQ(log.count(*nop), 1u);
    WEFT_EXPECT_CODE(log.result(*nop), status_code::ok);
  }
}

TEST_P(nop_cts, many_in_one_batch) {
  constexpr int count = 1000;
  std::vector<operation*> batch;
  for (int i = 0; i < count; ++i) batch.push_back(&make<nop_op>());
  WEFT_ASSERT_OK(io().submit(batch));
  ASSERT_TRUE(poll_until([&] { return log.size() >= count; })) << log.size() << " of " << count;
  for (operation* nop : batch) ASSERT_EQ(log.count(*nop), 1u);
}

struct seen_callback {
  int calls = 0;
  operation* op = nullptr;
  void* user_data = nullptr;
  status result = errors::internal("never called");
};

TEST_P(nop_cts, callback_gets_op_and_user_data) {
  seen_callback seen;
  nop_op nop;
  nop.user_data = &seen;
  nop.on_complete = [](void* user, operation& op, status result) {
    auto* s = static_cast<seen_callback*>(user);
    ++s->calls;
    s->op = &op;
    s->user_data = user;
    s->result = std::move(result);
  };
  WEFT_ASSERT_OK(io().submit(nop));
  ASSERT_TRUE(poll_until([&] { return seen.calls == 1; }));
  EXPECT_EQ(seen.op, &nop);
  EXPECT_EQ(seen.user_data, &seen);
  EXPECT_TRUE(seen.result.is_ok()) << seen.result;
  EXPECT_EQ(nop.type(), op_type::nop);
}

TEST_P(nop_cts, empty_batch_ok) {
  WEFT_EXPECT_CODE(io().submit(std::span<operation* const>()), status_code::ok);
  result<std::size_t> polled = io().poll(deadline::immediate());
  ASSERT_TRUE(polled.ok()) << polled.status();
  EXPECT_EQ(*polled, 0u);
}

struct resubmitter {
  proactor* io = nullptr;
  int remaining = 0;
  int calls = 0;
  status first_error;
};

TEST_P(nop_cts, resubmit_from_callback) {
  resubmitter state;
  state.io = &io();
  state.remaining = 100;
  nop_op nop;
  nop.user_data = &state;
  nop.on_complete = [](void* user, operation& op, status result) {
    auto* s = static_cast<resubmitter*>(user);
    ++s->calls;
    if (!result.is_ok() && s->first_error.is_ok()) s->first_error = result;
    if (--s->remaining > 0) {
      status again = s->io->submit(op);
      if (!again.is_ok() && s->first_error.is_ok()) s->first_error = again;
    }
  };
  WEFT_ASSERT_OK(io().submit(nop));
  ASSERT_TRUE(poll_until([&] { return state.remaining <= 0 || !state.first_error.is_ok(); }));
  EXPECT_TRUE(state.first_error.is_ok()) << state.first_error;
  EXPECT_EQ(state.calls, 100);
  EXPECT_FALSE(nop.in_flight());
  EXPECT_EQ(poll_for(5ms), 0u);
}

TEST_P(nop_cts, poll_returns_the_number_of_callbacks) {
  constexpr int count = 300;
  for (int i = 0; i < count; ++i) WEFT_ASSERT_OK(io().submit(make<nop_op>()));
  std::size_t reported = 0;
  const deadline until = deadline::after(10s);
  while (log.size() < count && !until.expired()) {
    result<std::size_t> polled = io().poll(until);
    ASSERT_TRUE(polled.ok()) << polled.status();
    reported += *polled;
    EXPECT_EQ(reported, log.size()) << "poll's count differs from the callbacks it ran";
  }
  EXPECT_EQ(reported, static_cast<std::size_t>(count));
}

struct canceller_state {
  proactor* io = nullptr;
  operation* victim = nullptr;
  status cancelled = errors::internal("not run");
};

TEST_P(nop_cts, callback_cancels_and_wakes) {
  auto& victim = make<timer_op>();
  victim.when = deadline::infinite();
  WEFT_ASSERT_OK(io().submit(victim));
  canceller_state state;
  state.io = &io();
  state.victim = &victim;
  nop_op trigger;
  trigger.user_data = &state;
  trigger.on_complete = [](void* user, operation&, status) {
    auto* s = static_cast<canceller_state*>(user);
    s->cancelled = s->io->cancel(*s->victim);
    s->io->wake();
  };
  WEFT_ASSERT_OK(io().submit(trigger));
  ASSERT_TRUE(poll_until([&] { return log.count(victim) == 1; }));
  EXPECT_TRUE(state.cancelled.is_ok()) << state.cancelled;
  WEFT_EXPECT_CODE(log.result(victim), status_code::cancelled);
}

WEFT_CTS_SUITE(timer_cts);

TEST_P(timer_cts, ordering) {
  constexpr int count = 6;
  std::array<int, count> slot{};
  for (int i = 0; i < count; ++i) slot[i] = i;
  std::shuffle(slot.begin(), slot.end(), std::mt19937(12345));
  // Deadlines 10 ms apart, the first 50 ms away: far enough that all of them
  // are armed before the first expires even on a loaded machine.
  const std::int64_t base = monotonic_now_ns() + 50'000'000;
  std::array<timer_op*, count> by_deadline{};
  for (int i = 0; i < count; ++i) {
    auto& timer = make<timer_op>();
    timer.when = deadline::at(base + slot[i] * 10'000'000);
    by_deadline[slot[i]] = &timer;
    WEFT_ASSERT_OK(io().submit(timer));
  }
  ASSERT_TRUE(poll_until([&] { return log.size() == count; }));
  const std::vector<const operation*> order = log.order();
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(order[i], by_deadline[i]) << "callback " << i << " is not the timer with the " << i << "th deadline";
    WEFT_EXPECT_CODE(log.result(*by_deadline[i]), status_code::ok);
    EXPECT_GE(log.time_of(*by_deadline[i]), by_deadline[i]->when.monotonic_ns()) << "timer " << i << " fired early";
  }
}

TEST_P(timer_cts, past_deadline_completes_ok) {
  auto& zero = make<timer_op>();
  zero.when = deadline::immediate();
  auto& past = make<timer_op>();
  past.when = deadline::at(monotonic_now_ns() - 1'000'000'000);
  const std::int64_t start = monotonic_now_ns();
  WEFT_ASSERT_OK(io().submit(zero));
  WEFT_ASSERT_OK(io().submit(past));
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_LT(monotonic_now_ns() - start, 2'000'000'000) << "past deadlines did not complete promptly";
  WEFT_EXPECT_CODE(log.result(zero), status_code::ok);
  WEFT_EXPECT_CODE(log.result(past), status_code::ok);
}

TEST_P(timer_cts, not_before_deadline) {
  for (const std::int64_t delay_ns : {20'000'000, 3'000'000, 1'000'000}) {
    auto& timer = make<timer_op>();
    timer.when = deadline::after(delay_ns);
    WEFT_EXPECT_CODE(submit_and_await(timer), status_code::ok);
    EXPECT_GE(log.time_of(timer), timer.when.monotonic_ns())
        << "fired " << (timer.when.monotonic_ns() - log.time_of(timer)) << " ns early (delay " << delay_ns << ")";
  }
}

TEST_P(timer_cts, cancel_pending) {
  // Started (after a poll), and still on the submission list (before one).
  auto& started = make<timer_op>();
  started.when = deadline::after(1h);
  WEFT_ASSERT_OK(io().submit(started));
  EXPECT_EQ(poll_for(5ms), 0u);
  auto& unstarted = make<timer_op>();
  unstarted.when = deadline::after(1h);
  WEFT_ASSERT_OK(io().submit(unstarted));
  WEFT_EXPECT_CODE(io().cancel(started), status_code::ok);
  WEFT_EXPECT_CODE(io().cancel(unstarted), status_code::ok);
  WEFT_EXPECT_CODE(io().cancel(started), status_code::ok);  // a second request while in flight
  const std::int64_t start = monotonic_now_ns();
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_LT(monotonic_now_ns() - start, 2'000'000'000);
  WEFT_EXPECT_CODE(log.result(started), status_code::cancelled);
  WEFT_EXPECT_CODE(log.result(unstarted), status_code::cancelled);
  EXPECT_EQ(poll_for(5ms), 0u) << "a second callback";
}

TEST_P(timer_cts, cancel_after_completion_not_found) {
  auto& timer = make<timer_op>();
  timer.when = deadline::immediate();
  WEFT_ASSERT_OK(io().submit(timer));
  ASSERT_TRUE(poll_until([&] { return log.size() == 1; }));
  WEFT_EXPECT_CODE(io().cancel(timer), status_code::not_found);
  EXPECT_FALSE(timer.in_flight());
  EXPECT_EQ(poll_for(5ms), 0u) << "cancel of a completed timer produced a callback";
  WEFT_EXPECT_CODE(log.result(timer), status_code::ok);
  // Never submitted: NOT_FOUND as well.
  auto& fresh = make<timer_op>();
  WEFT_EXPECT_CODE(io().cancel(fresh), status_code::not_found);
  // The stale cancel left nothing behind: a resubmission completes OK.
  timer.when = deadline::after(2ms);
  WEFT_ASSERT_OK(io().submit(timer));
  ASSERT_TRUE(poll_until([&] { return log.count(timer) == 2; }));
  EXPECT_TRUE(log.entries()[1].result.is_ok()) << log.entries()[1].result;
  EXPECT_EQ(log.size(), 2u);
}

TEST_P(timer_cts, infinite_completes_only_by_cancel) {
  auto& timer = make<timer_op>();
  timer.when = deadline::infinite();
  WEFT_ASSERT_OK(io().submit(timer));
  EXPECT_EQ(poll_for(30ms), 0u);
  EXPECT_TRUE(timer.in_flight());
  WEFT_EXPECT_CODE(io().cancel(timer), status_code::ok);
  WEFT_EXPECT_CODE(await_callback(timer), status_code::cancelled);
}

TEST_P(timer_cts, many_concurrent) {
  const int count = 200;
  const std::int64_t base = monotonic_now_ns();
  std::vector<timer_op*> timers;
  for (int i = 0; i < count; ++i) {
    auto& timer = make<timer_op>();
    timer.when = deadline::at(base + (i * 7919 % count) * 50'000);  // spread over 10 ms
    timers.push_back(&timer);
    WEFT_ASSERT_OK(io().submit(timer));
  }
  ASSERT_TRUE(poll_until([&] { return log.size() == count; }));
  for (timer_op* timer : timers) {
    WEFT_EXPECT_CODE(log.result(*timer), status_code::ok);
    EXPECT_GE(log.time_of(*timer), timer->when.monotonic_ns());
  }
}

}  // namespace
}  // namespace weft::io::cts
