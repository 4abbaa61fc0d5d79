// CTS: linked sequences, and input the proactor must refuse without taking
// anything.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE(sequence_cts);

TEST_P(sequence_cts, two_and_three_linked_nops_in_order) {
  auto& a = make<nop_op>();
  a.flags = op_flag::linked;
  auto& b = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&a, &b}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&a, &b}));

  auto& x = make<nop_op>();
  x.flags = op_flag::linked;
  auto& y = make<nop_op>();
  y.flags = op_flag::linked;
  auto& z = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&x, &y, &z}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 5; }));
  const std::vector<const operation*> order = log.order();
  EXPECT_EQ(std::vector<const operation*>(order.begin() + 2, order.end()), (std::vector<const operation*>{&x, &y, &z}));
  for (const completion& c : log.entries()) EXPECT_TRUE(c.result.is_ok()) << c.result;
}

TEST_P(sequence_cts, mixed_linked_and_unlinked_in_one_batch) {
  // Two sequences in one batch: [a → b], [c → d → e], and a lone f.
  auto& a = make<nop_op>();
  auto& b = make<nop_op>();
  auto& c = make<timer_op>();
  auto& d = make<nop_op>();
  auto& e = make<nop_op>();
  auto& f = make<nop_op>();
  a.flags = op_flag::linked;
  c.flags = op_flag::linked;
  c.when = deadline::after(5ms);
  d.flags = op_flag::linked;
  WEFT_ASSERT_OK(submit_batch({&a, &b, &c, &d, &e, &f}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 6; }));
  const std::vector<const operation*> order = log.order();
  const auto position = [&](const operation& op) { return std::find(order.begin(), order.end(), &op) - order.begin(); };
  EXPECT_LT(position(a), position(b));
  EXPECT_LT(position(c), position(d));
  EXPECT_LT(position(d), position(e));
  EXPECT_GE(log.time_of(d), c.when.monotonic_ns()) << "d ran before its linked timer expired";
  for (const completion& entry : log.entries()) EXPECT_TRUE(entry.result.is_ok()) << entry.result;
}

TEST_P(sequence_cts, linked_timer_chain_order) {
  // The later deadline first: the second timer starts only when the first
  // completed, so it fires after it even though its deadline passed long ago.
  auto& slow = make<timer_op>();
  slow.when = deadline::after(30ms);
  slow.flags = op_flag::linked;
  auto& fast = make<timer_op>();
  fast.when = deadline::after(1ms);
  fast.flags = op_flag::linked;
  auto& relative = make<timer_op>();
  relative.when = deadline::at(slow.when.monotonic_ns() + 10'000'000);
  WEFT_ASSERT_OK(submit_batch({&slow, &fast, &relative}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&slow, &fast, &relative}));
  EXPECT_GE(log.time_of(slow), slow.when.monotonic_ns());
  EXPECT_GE(log.time_of(fast), slow.when.monotonic_ns());
  EXPECT_GE(log.time_of(relative), relative.when.monotonic_ns());
  for (const completion& c : log.entries()) EXPECT_TRUE(c.result.is_ok()) << c.result;
}

TEST_P(sequence_cts, trailing_linked_rejected_nothing_submitted) {
  auto& lone = make<nop_op>();
  lone.flags = op_flag::linked;
  status refused = io().submit(lone);
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_NE(refused.message().find("linked"), std::string::npos) << refused;
  EXPECT_FALSE(lone.in_flight());

  auto& first = make<nop_op>();
  auto& last = make<nop_op>();
  last.flags = op_flag::linked;
  refused = submit_batch({&first, &last});
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_FALSE(first.in_flight()) << "a refused batch left its first operation in flight";
  EXPECT_FALSE(last.in_flight());
  EXPECT_EQ(poll_for(10ms), 0u) << "a refused batch produced callbacks";
  // Fixed, the same operations are accepted.
  last.flags = 0;
  lone.flags = 0;
  WEFT_ASSERT_OK(submit_batch({&first, &last, &lone}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
}

TEST_P(sequence_cts, failure_in_the_middle_cancels_the_rest) {
  auto& a = make<nop_op>();
  a.flags = op_flag::linked;
  auto& bad = make<file_read_op>();
  bad.fd = 987;  // not open (checked below)
  bad.buffer = make_buffer(16);
  bad.flags = op_flag::linked;
  auto& c = make<nop_op>();
  c.flags = op_flag::linked;
  auto& d = make<timer_op>();
  d.when = deadline::immediate();
  ASSERT_EQ(::fcntl(987, F_GETFD), -1);
  WEFT_ASSERT_OK(submit_batch({&a, &bad, &c, &d}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 4; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&a, &bad, &c, &d}));
  WEFT_EXPECT_CODE(log.result(a), status_code::ok);
  WEFT_EXPECT_CODE(log.result(bad), status_code::invalid_argument);
  WEFT_EXPECT_CODE(log.result(c), status_code::cancelled);
  WEFT_EXPECT_CODE(log.result(d), status_code::cancelled);
}

TEST_P(sequence_cts, cancel_head_cancels_the_rest) {
  for (const bool started : {false, true}) {
    const std::size_t base = log.size();
    auto& head = make<timer_op>();
    head.when = deadline::infinite();
    head.flags = op_flag::linked;
    auto& b = make<nop_op>();
    b.flags = op_flag::linked;
    auto& c = make<timer_op>();
    c.when = deadline::immediate();
    WEFT_ASSERT_OK(submit_batch({&head, &b, &c}));
    if (started) {
      EXPECT_EQ(poll_for(10ms), 0u);
    }
    WEFT_EXPECT_CODE(io().cancel(head), status_code::ok);
    ASSERT_TRUE(poll_until([&] { return log.size() == base + 3; }));
    const std::vector<const operation*> order = log.order();
    EXPECT_EQ(std::vector<const operation*>(order.begin() + static_cast<std::ptrdiff_t>(base), order.end()),
              (std::vector<const operation*>{&head, &b, &c}))
        << "started " << started;
    WEFT_EXPECT_CODE(log.result(head), status_code::cancelled);
    WEFT_EXPECT_CODE(log.result(b), status_code::cancelled);
    WEFT_EXPECT_CODE(log.result(c), status_code::cancelled);
  }
}

TEST_P(sequence_cts, linked_event_wait_then_nop) {
  event_ptr ready = make_event();
  ASSERT_TRUE(ready);
  auto& wait = make<event_wait_op>(ready.get());
  wait.flags = op_flag::linked;
  auto& set_other = make<event_signal_op>();
  event_ptr other = make_event();
  ASSERT_TRUE(other);
  set_other.target = other.get();
  WEFT_ASSERT_OK(submit_batch({&wait, &set_other}));
  EXPECT_EQ(poll_for(10ms), 0u);
  EXPECT_FALSE(other->try_consume()) << "the event_signal ran before the wait it is linked to";
  WEFT_ASSERT_OK(ready->set());
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&wait, &set_other}));
  WEFT_EXPECT_CODE(log.result(set_other), status_code::ok);
  EXPECT_TRUE(other->try_consume()) << "the event_signal op did not set its event";
}

TEST_P(sequence_cts, cancel_a_successor_before_it_starts) {
  auto& head = make<timer_op>();
  head.when = deadline::after(20ms);
  head.flags = op_flag::linked;
  auto& tail = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&head, &tail}));
  WEFT_EXPECT_CODE(io().cancel(tail), status_code::ok);
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&head, &tail}));
  const status head_result = log.result(head);
  EXPECT_TRUE(head_result.is_ok() || head_result.code() == status_code::cancelled) << head_result;
  WEFT_EXPECT_CODE(log.result(tail), status_code::cancelled);
}

WEFT_CTS_SUITE(bad_input_cts);

TEST_P(bad_input_cts, double_submit_of_inflight_op) {
  auto& timer = make<timer_op>();
  timer.when = deadline::after(20ms);
  WEFT_ASSERT_OK(io().submit(timer));
  const status again = io().submit(timer);
  EXPECT_EQ(again.code(), status_code::failed_precondition) << again;
  EXPECT_EQ(poll_for(0ms), 0u);
  EXPECT_EQ(io().submit(timer).code(), status_code::failed_precondition);
  EXPECT_TRUE(timer.in_flight());
  WEFT_EXPECT_CODE(await_callback(timer), status_code::ok);
  EXPECT_GE(log.time_of(timer), timer.when.monotonic_ns()) << "the double submit disturbed the first";
  EXPECT_EQ(poll_for(30ms), 0u) << "a second callback";
}

TEST_P(bad_input_cts, double_submit_in_one_batch) {
  auto& nop = make<nop_op>();
  auto& other = make<nop_op>();
  const status refused = submit_batch({&other, &nop, &nop});
  EXPECT_TRUE(refused.code() == status_code::failed_precondition || refused.code() == status_code::invalid_argument)
      << refused;
  EXPECT_FALSE(nop.in_flight());
  EXPECT_FALSE(other.in_flight());
  EXPECT_EQ(poll_for(10ms), 0u);
  // And an op already in flight in a batch refuses the whole batch.
  auto& timer = make<timer_op>();
  timer.when = deadline::infinite();
  WEFT_ASSERT_OK(io().submit(timer));
  WEFT_EXPECT_CODE(submit_batch({&nop, &timer}), status_code::failed_precondition);
  EXPECT_FALSE(nop.in_flight()) << "a refused batch left an operation in flight";
  EXPECT_EQ(poll_for(10ms), 0u);
  WEFT_ASSERT_OK(io().cancel(timer));
  WEFT_EXPECT_CODE(await_callback(timer), status_code::cancelled);
}

TEST_P(bad_input_cts, cancel_of_completed_op_touches_nothing) {
  auto& nop = make<nop_op>();
  WEFT_ASSERT_OK(io().submit(nop));
  ASSERT_TRUE(poll_until([&] { return log.size() == 1; }));
  for (int i = 0; i < 3; ++i) WEFT_EXPECT_CODE(io().cancel(nop), status_code::not_found);
  EXPECT_EQ(poll_for(5ms), 0u);
  // The stale cancels do not carry over to the next submission.
  WEFT_ASSERT_OK(io().submit(nop));
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  EXPECT_TRUE(log.entries()[1].result.is_ok()) << log.entries()[1].result;
}

void expect_refused(proactor& io, operation& op, const char* field) {
  const status refused = io.submit(op);
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_NE(refused.message().find(field), std::string::npos) << "should name " << field << ": " << refused;
  EXPECT_NE(refused.message().find(to_string(op.type())), std::string::npos) << refused;
  EXPECT_FALSE(op.in_flight());
}

TEST_P(bad_input_cts, invalid_fields_name_the_field) {
  auto& no_callback = make<nop_op>();
  no_callback.on_complete = nullptr;
  expect_refused(io(), no_callback, "on_complete");
  auto& bad_flags = make<nop_op>();
  bad_flags.flags = 1u << 7;
  expect_refused(io(), bad_flags, "flags");
  auto& event_wait = make<event_wait_op>();
  expect_refused(io(), event_wait, "target");
  auto& event_signal = make<event_signal_op>();
  expect_refused(io(), event_signal, "target");
  auto& notified = make<notification_wait_op>();
  expect_refused(io(), notified, "target");
  auto& notify = make<notification_signal_op>();
  expect_refused(io(), notify, "target");
  auto& open = make<file_open_op>();
  expect_refused(io(), open, "path");
  auto& open_flags = make<file_open_op>();
  open_flags.path = "/tmp";
  open_flags.open_flags = 1u << 20;
  expect_refused(io(), open_flags, "open_flags");
  auto& close = make<file_close_op>();
  expect_refused(io(), close, "fd");

  semaphore& sem = make_semaphore(0);
  semaphore* one[] = {&sem};
  semaphore* with_null[] = {&sem, nullptr};
  const std::uint64_t two_values[] = {1, 2};
  auto& mismatched = make<semaphore_wait_op>();
  mismatched.semaphores = one;
  mismatched.values = two_values;
  expect_refused(io(), mismatched, "values");
  auto& empty = make<semaphore_wait_op>();
  expect_refused(io(), empty, "semaphores");
  auto& null_entry = make<semaphore_signal_op>();
  null_entry.semaphores = with_null;
  null_entry.values = two_values;
  expect_refused(io(), null_entry, "semaphores[1]");
  auto& mismatched_signal = make<semaphore_signal_op>();
  mismatched_signal.semaphores = one;
  mismatched_signal.values = two_values;
  expect_refused(io(), mismatched_signal, "values");

  EXPECT_EQ(poll_for(10ms), 0u) << "a refused operation produced a callback";
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST_P(bad_input_cts, batch_with_one_bad_op_submits_nothing) {
  auto& a = make<nop_op>();
  auto& b = make<timer_op>();
  b.when = deadline::immediate();
  auto& bad = make<nop_op>();
  bad.on_complete = nullptr;
  auto& d = make<nop_op>();
  const status refused = submit_batch({&a, &b, &bad, &d});
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_NE(refused.message().find('2'), std::string::npos) << "should name the index of the bad op: " << refused;
  for (operation* op : std::initializer_list<operation*>{&a, &b, &bad, &d}) EXPECT_FALSE(op->in_flight());
  EXPECT_EQ(poll_for(10ms), 0u) << "part of a refused batch ran";
  // A null entry is refused the same way.
  WEFT_EXPECT_CODE(submit_batch({&a, nullptr}), status_code::invalid_argument);
  EXPECT_FALSE(a.in_flight());
  EXPECT_EQ(poll_for(5ms), 0u);
  // The good operations were not taken: they can be submitted now.
  WEFT_ASSERT_OK(submit_batch({&a, &b, &d}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
}

}  // namespace
}  // namespace weft::io::cts
