// CTS: back-pressure with a tiny kernel queue, cancellation racing with
// completion, and a cross-thread submit storm that recycles operation slots.
#include <thread>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

class backpressure_cts : public proactor_cts {
 protected:
  void customize(proactor_options& options) override { options.queue_entries = 4; }
};
INSTANTIATE_TEST_SUITE_P(cts, backpressure_cts, ::testing::ValuesIn(all_configs()), config_name);

TEST_P(backpressure_cts, thousands_of_ops_through_four_entries) {
  constexpr int nops = 2000;
  constexpr int timers = 200;
  std::vector<operation*> all;
  const std::int64_t base = monotonic_now_ns();
  for (int i = 0; i < timers; ++i) {
    auto& timer = make<timer_op>();
    timer.when = deadline::at(base + (i % 20) * 500'000);
    all.push_back(&timer);
  }
  for (int i = 0; i < nops; ++i) all.push_back(&make<nop_op>());
  // Half one at a time, half as one batch.
  for (std::size_t i = 0; i < all.size() / 2; ++i) WEFT_ASSERT_OK(io().submit(*all[i]));
  WEFT_ASSERT_OK(io().submit(std::span<operation* const>(all).subspan(all.size() / 2)));
  ASSERT_TRUE(poll_until([&] { return log.size() >= all.size(); }, 30s)) << log.size() << " of " << all.size();
  EXPECT_EQ(poll_for(5ms), 0u);
  for (operation* op : all) {
    ASSERT_EQ(log.count(*op), 1u);
    WEFT_EXPECT_CODE(log.result(*op), status_code::ok);
  }
}

TEST_P(backpressure_cts, linked_sequences_longer_than_the_queue) {
  constexpr int chains = 10;
  constexpr int length = 9;
  std::vector<std::vector<operation*>> sequences(chains);
  std::vector<operation*> batch;
  for (int c = 0; c < chains; ++c) {
    for (int i = 0; i < length; ++i) {
      operation* op = nullptr;
      if (i % 3 == 1) {
        auto& timer = make<timer_op>();
        timer.when = deadline::immediate();
        op = &timer;
      } else {
        op = &make<nop_op>();
      }
      if (i + 1 < length) op->flags = op_flag::linked;
      sequences[c].push_back(op);
      batch.push_back(op);
    }
  }
  WEFT_ASSERT_OK(io().submit(batch));
  ASSERT_TRUE(poll_until([&] { return log.size() >= batch.size(); }, 30s)) << log.size() << " of " << batch.size();
  const std::vector<const operation*> order = log.order();
  for (const std::vector<operation*>& sequence : sequences) {
    std::ptrdiff_t previous = -1;
    for (operation* op : sequence) {
      WEFT_EXPECT_CODE(log.result(*op), status_code::ok);
      const std::ptrdiff_t at = std::find(order.begin(), order.end(), op) - order.begin();
      EXPECT_GT(at, previous) << "a linked sequence completed out of order";
      previous = at;
    }
  }
}

WEFT_CTS_SUITE(cancel_race_cts);

TEST_P(cancel_race_cts, cancel_from_another_thread_while_completing) {
  const int rounds = iterations(300);
  auto& timer = make<timer_op>();
  auto& nop = make<nop_op>();
  int cancelled_count = 0;
  for (int round = 0; round < rounds; ++round) {
    operation& op = round % 3 == 0 ? static_cast<operation&>(nop) : static_cast<operation&>(timer);
    timer.when = deadline::after(static_cast<std::int64_t>(round % 5) * 20'000);
    const std::size_t before = log.size();
    WEFT_ASSERT_OK(io().submit(op));
    status cancelled;
    std::thread canceller([&] { cancelled = io().cancel(op); });
    const bool done = poll_until([&] { return log.size() > before; });
    canceller.join();  // before the op is reused
    ASSERT_TRUE(done) << "round " << round;
    EXPECT_EQ(poll_for(0ms), 0u) << "round " << round << ": a second callback";
    ASSERT_EQ(log.size(), before + 1);
    const status result = log.entries()[before].result;
    ASSERT_TRUE(result.is_ok() || result.code() == status_code::cancelled) << "round " << round << ": " << result;
    EXPECT_TRUE(cancelled.is_ok() || cancelled.code() == status_code::not_found) << cancelled;
    if (result.code() == status_code::cancelled) {
      ++cancelled_count;
      EXPECT_TRUE(cancelled.is_ok()) << "CANCELLED although cancel() said " << cancelled;
    }
    EXPECT_FALSE(op.in_flight());
  }
  RecordProperty("cancelled", cancelled_count);
}

TEST_P(cancel_race_cts, cancel_same_op_from_two_threads) {
  const int rounds = iterations(100);
  auto& timer = make<timer_op>();
  timer.when = deadline::infinite();
  for (int round = 0; round < rounds; ++round) {
    const std::size_t before = log.size();
    WEFT_ASSERT_OK(io().submit(timer));
    if (round % 2 == 1) {
      EXPECT_EQ(poll_for(0ms), 0u);
    }
    status first;
    status second;
    std::thread a([&] { first = io().cancel(timer); });
    std::thread b([&] { second = io().cancel(timer); });
    a.join();
    b.join();
    // Nobody polled in between: the timer was in flight for both.
    EXPECT_TRUE(first.is_ok()) << first;
    EXPECT_TRUE(second.is_ok()) << second;
    ASSERT_TRUE(poll_until([&] { return log.size() > before; })) << "round " << round;
    EXPECT_EQ(poll_for(0ms), 0u) << "round " << round << ": two cancels gave two callbacks";
    ASSERT_EQ(log.size(), before + 1);
    WEFT_EXPECT_CODE(log.entries()[before].result, status_code::cancelled);
  }
}

TEST_P(cancel_race_cts, cancel_while_poll_sleeps) {
  const int rounds = iterations(50);
  auto& timer = make<timer_op>();
  timer.when = deadline::infinite();
  for (int round = 0; round < rounds; ++round) {
    const std::size_t before = log.size();
    WEFT_ASSERT_OK(io().submit(timer));
    EXPECT_EQ(poll_for(0ms), 0u);
    status cancelled;
    std::thread canceller([&] { cancelled = io().cancel(timer); });
    const bool done = poll_until([&] { return log.size() > before; });  // sleeps until woken
    canceller.join();
    ASSERT_TRUE(done) << "round " << round << ": a cross-thread cancel did not wake the poll";
    EXPECT_TRUE(cancelled.is_ok()) << cancelled;
    WEFT_EXPECT_CODE(log.entries()[before].result, status_code::cancelled);
  }
}

// ---- The storm: 4 submitter threads, one poll thread, a small pool of
// operation slots that move between threads through their callbacks.

struct storm_slot;

struct storm_state {
  std::mutex mutex;
  std::condition_variable slot_freed;
  std::vector<storm_slot*> free_slots;     // guarded by mutex
  std::vector<int> seen;                   // per id: callbacks (poll thread only)
  std::vector<status_code> results;        // per id (poll thread only)
  std::size_t completed = 0;               // poll thread only
};

struct storm_slot {
  storm_state* state = nullptr;
  nop_op nop;
  timer_op timer;
  bool use_timer = false;
  std::size_t id = 0;  // written by the submitter before submit, read by the callback

  static void on_complete(void* user, operation&, status result) {
    auto* slot = static_cast<storm_slot*>(user);
    storm_state& state = *slot->state;
    const std::size_t id = slot->id;
    ++state.seen[id];
    state.results[id] = result.code();
    ++state.completed;
    {
      const std::lock_guard lock(state.mutex);
      state.free_slots.push_back(slot);  // from here on another thread may resubmit it
    }
    state.slot_freed.notify_one();
  }
};

WEFT_CTS_SUITE(storm_cts);

TEST_P(storm_cts, cross_thread_submit_storm) {
  constexpr int threads = 4;
  constexpr int pool = 16;
  const int per_thread = iterations(2000);
  const std::size_t total = static_cast<std::size_t>(threads) * static_cast<std::size_t>(per_thread);
  storm_state state;
  state.seen.assign(total, 0);
  state.results.assign(total, status_code::unknown);
  std::vector<std::unique_ptr<storm_slot>> slots;
  for (int i = 0; i < pool; ++i) {
    auto slot = std::make_unique<storm_slot>();
    slot->state = &state;
    slot->use_timer = i % 2 == 1;
    for (operation* op : {static_cast<operation*>(&slot->nop), static_cast<operation*>(&slot->timer)}) {
      op->on_complete = &storm_slot::on_complete;
      op->user_data = slot.get();
    }
    state.free_slots.push_back(slot.get());
    slots.push_back(std::move(slot));
  }
  std::vector<unsigned char> expect_cancel(total, 0);

  std::mutex errors_mutex;
  std::vector<std::string> errors;
  const auto report = [&](std::string text) {
    const std::lock_guard lock(errors_mutex);
    errors.push_back(std::move(text));
  };
  WEFT_ASSERT_OK(io().poll(deadline::immediate()).status());  // this thread owns poll
  std::vector<std::thread> submitters;
  for (int t = 0; t < threads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        storm_slot* slot = nullptr;
        {
          std::unique_lock lock(state.mutex);
          if (!state.slot_freed.wait_for(lock, 20s, [&] { return !state.free_slots.empty(); })) {
            report("thread " + std::to_string(t) + ": no slot came back within 20 s");
            return;
          }
          slot = state.free_slots.back();
          state.free_slots.pop_back();
        }
        slot->id = static_cast<std::size_t>(t) * static_cast<std::size_t>(per_thread) + static_cast<std::size_t>(i);
        const bool cancel_it = slot->use_timer && i % 16 == 5;
        expect_cancel[slot->id] = cancel_it ? 1 : 0;  // distinct ids: no two threads write one element
        operation* op = &slot->nop;
        if (slot->use_timer) {
          slot->timer.when = cancel_it ? deadline::infinite() : deadline::after(static_cast<std::int64_t>(i % 4) * 50'000);
          op = &slot->timer;
        }
        const status submitted = io().submit(*op);
        if (!submitted.is_ok()) {
          report("submit: " + submitted.to_string());
          return;
        }
        if (cancel_it) {
          const status cancelled = io().cancel(*op);  // infinite: still in flight
          if (!cancelled.is_ok()) report("cancel of an infinite timer: " + cancelled.to_string());
        }
      }
    });
  }
  const bool done = poll_until([&] { return state.completed >= total; }, 60s);
  for (std::thread& submitter : submitters) submitter.join();
  for (const std::string& error : errors) ADD_FAILURE() << error;
  ASSERT_TRUE(done) << state.completed << " of " << total << " completions";
  EXPECT_EQ(poll_for(5ms), 0u);
  std::size_t wrong = 0;
  for (std::size_t id = 0; id < total; ++id) {
    if (state.seen[id] != 1) {
      if (++wrong < 10) ADD_FAILURE() << "submission " << id << " got " << state.seen[id] << " callbacks";
      continue;
    }
    const status_code expected = expect_cancel[id] ? status_code::cancelled : status_code::ok;
    if (state.results[id] != expected && ++wrong < 10) {
      ADD_FAILURE() << "submission " << id << " completed " << state.results[id] << ", expected " << expected;
    }
  }
  EXPECT_EQ(wrong, 0u);
}

}  // namespace
}  // namespace weft::io::cts
