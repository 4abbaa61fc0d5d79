// CTS: semaphore signal and wait operations, alone and in linked sequences.
#include <thread>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE(semaphore_cts);

TEST_P(semaphore_cts, signal_op_advances) {
  semaphore& a = make_semaphore(0);
  semaphore& b = make_semaphore(10);
  auto& signal = make_semaphore_signal({&a, &b}, {3, 12});
  WEFT_EXPECT_CODE(submit_and_await(signal), status_code::ok);
  EXPECT_EQ(a.query(), 3u);
  EXPECT_EQ(b.query(), 12u);
}

TEST_P(semaphore_cts, non_monotonic_signal_fails_and_cancels_successors) {
  semaphore& sem = make_semaphore(5);
  auto& signal = make_semaphore_signal({&sem}, {3});
  signal.flags = op_flag::linked;
  auto& next = make<nop_op>();
  next.flags = op_flag::linked;
  auto& last = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&signal, &next, &last}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  const status failed = log.result(signal);
  EXPECT_EQ(failed.code(), status_code::invalid_argument) << failed;
  EXPECT_NE(failed.message().find('3'), std::string::npos) << failed;
  EXPECT_NE(failed.message().find('5'), std::string::npos) << failed;
  WEFT_EXPECT_CODE(log.result(next), status_code::cancelled);
  WEFT_EXPECT_CODE(log.result(last), status_code::cancelled);
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&signal, &next, &last}));
  EXPECT_EQ(sem.query(), 5u);
  // Equal is not an advance either.
  const std::uint64_t same[] = {5};
  signal.values = same;
  signal.flags = 0;
  WEFT_EXPECT_CODE(submit_and_await(signal), status_code::invalid_argument);
}

TEST_P(semaphore_cts, wait_already_satisfied) {
  semaphore& sem = make_semaphore(10);
  auto& wait = make_semaphore_wait({&sem}, {7});
  WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST_P(semaphore_cts, wait_pending_then_signal_from_another_thread) {
  semaphore& sem = make_semaphore(0);
  auto& wait = make_semaphore_wait({&sem}, {3});
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(10ms), 0u);
  status signalled;
  std::thread signaller([&] {
    signalled = sem.signal(2);  // not yet
    if (signalled.is_ok()) signalled = sem.signal(3);
  });
  const bool done = poll_until([&] { return log.size() == 1; });
  signaller.join();
  ASSERT_TRUE(signalled.is_ok()) << signalled;
  ASSERT_TRUE(done) << "a signal from another thread did not complete the wait";
  WEFT_EXPECT_CODE(log.result(wait), status_code::ok);
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST_P(semaphore_cts, wait_all_partial_then_complete) {
  semaphore& a = make_semaphore(0);
  semaphore& b = make_semaphore(0);
  auto& wait = make_semaphore_wait({&a, &b}, {1, 2}, wait_mode::all);
  WEFT_ASSERT_OK(io().submit(wait));
  WEFT_ASSERT_OK(a.signal(1));
  WEFT_ASSERT_OK(b.signal(1));
  EXPECT_EQ(poll_for(20ms), 0u) << "wait all completed with one of two semaphores reached";
  WEFT_ASSERT_OK(b.signal(2));
  WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints(), 0u);
}

TEST_P(semaphore_cts, wait_any_reports_satisfied_index) {
  semaphore& a = make_semaphore(0);
  semaphore& b = make_semaphore(0);
  semaphore& c = make_semaphore(0);
  auto& wait = make_semaphore_wait({&a, &b, &c}, {5, 5, 5}, wait_mode::any);
  wait.satisfied_index = 99;
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(10ms), 0u);
  WEFT_ASSERT_OK(b.signal(5));
  WEFT_EXPECT_CODE(await_callback(wait), status_code::ok);
  EXPECT_EQ(wait.satisfied_index, 1u);
  EXPECT_EQ(a.pending_timepoints() + b.pending_timepoints() + c.pending_timepoints(), 0u)
      << "wait any left timepoints on the semaphores it no longer waits for";
  // Already satisfied at submit.
  WEFT_ASSERT_OK(c.signal(9));
  WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
  EXPECT_TRUE(wait.satisfied_index == 1 || wait.satisfied_index == 2) << wait.satisfied_index;
}

TEST_P(semaphore_cts, failed_semaphore_fails_wait) {
  semaphore& sem = make_semaphore(0);
  auto& wait = make_semaphore_wait({&sem}, {3});
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(5ms), 0u);
  sem.fail(errors::aborted("device lost on queue 2"));
  const status result = await_callback(wait);
  EXPECT_EQ(result.code(), status_code::aborted) << result;
  EXPECT_NE(result.message().find("device lost on queue 2"), std::string::npos) << result;
}

TEST_P(semaphore_cts, already_failed_semaphore_never_completes_wait_ok) {
  semaphore& sem = make_semaphore(10);
  sem.fail(errors::data_loss("bad page"));
  for (const std::uint64_t value : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{11}}) {
    for (const wait_mode mode : {wait_mode::all, wait_mode::any}) {
      auto& wait = make_semaphore_wait({&sem}, {value}, mode);
      const status result = submit_and_await(wait);
      EXPECT_EQ(result.code(), status_code::data_loss) << "value " << value << ": " << result;
    }
  }
  // A signal op on the failed semaphore fails with that status too.
  auto& signal = make_semaphore_signal({&sem}, {20});
  WEFT_EXPECT_CODE(submit_and_await(signal), status_code::data_loss);
}

TEST_P(semaphore_cts, failure_of_one_fails_wait_all_and_any) {
  semaphore& healthy = make_semaphore(0);
  semaphore& broken = make_semaphore(0);
  auto& all = make_semaphore_wait({&healthy, &broken}, {1, 1}, wait_mode::all);
  auto& any = make_semaphore_wait({&healthy, &broken}, {1, 1}, wait_mode::any);
  WEFT_ASSERT_OK(io().submit(all));
  WEFT_ASSERT_OK(io().submit(any));
  EXPECT_EQ(poll_for(5ms), 0u);
  broken.fail(errors::aborted("queue reset"));
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  WEFT_EXPECT_CODE(log.result(all), status_code::aborted);
  WEFT_EXPECT_CODE(log.result(any), status_code::aborted);
  EXPECT_EQ(healthy.pending_timepoints(), 0u);
}

TEST_P(semaphore_cts, cancel_pending_wait) {
  semaphore& sem = make_semaphore(0);
  auto& wait = make_semaphore_wait({&sem}, {1});
  WEFT_ASSERT_OK(io().submit(wait));
  EXPECT_EQ(poll_for(5ms), 0u);
  WEFT_EXPECT_CODE(io().cancel(wait), status_code::ok);
  WEFT_EXPECT_CODE(await_callback(wait), status_code::cancelled);
  EXPECT_EQ(sem.pending_timepoints(), 0u) << "a cancelled wait left its timepoint registered";
  WEFT_ASSERT_OK(sem.signal(1));
  EXPECT_EQ(poll_for(10ms), 0u) << "a cancelled wait got a second callback";
  WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
}

TEST_P(semaphore_cts, cancel_racing_with_signal) {
  const int rounds = iterations(200);
  semaphore& sem = make_semaphore(0);
  semaphore* sems[] = {&sem};
  std::uint64_t target[] = {0};
  auto& wait = make<semaphore_wait_op>();
  wait.semaphores = sems;
  wait.values = target;
  for (int round = 1; round <= rounds; ++round) {
    const std::size_t before = log.size();
    target[0] = static_cast<std::uint64_t>(round);
    WEFT_ASSERT_OK(io().submit(wait));
    static_cast<void>(poll_for(0ms));
    status signalled;
    std::thread signaller([&] { signalled = sem.signal(static_cast<std::uint64_t>(round)); });
    const status cancelled = io().cancel(wait);
    ASSERT_TRUE(poll_until([&] { return log.size() == before + 1; }));
    signaller.join();
    ASSERT_TRUE(signalled.is_ok()) << signalled;
    EXPECT_TRUE(cancelled.is_ok() || cancelled.code() == status_code::not_found) << cancelled;
    const status result = log.entries()[before].result;
    ASSERT_TRUE(result.is_ok() || result.code() == status_code::cancelled) << result;
    ASSERT_EQ(poll_for(0ms), 0u) << "round " << round << ": a second callback";
  }
  EXPECT_EQ(sem.pending_timepoints(), 0u);
}

TEST_P(semaphore_cts, linked_wait_then_nop) {
  semaphore& sem = make_semaphore(0);
  auto& wait = make_semaphore_wait({&sem}, {1});
  wait.flags = op_flag::linked;
  auto& after = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&wait, &after}));
  EXPECT_EQ(poll_for(10ms), 0u) << "the nop ran before the wait it is linked to";
  std::thread signaller([&] { EXPECT_TRUE(sem.signal(1).is_ok()); });
  const bool done = poll_until([&] { return log.size() == 2; });
  signaller.join();
  ASSERT_TRUE(done);
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&wait, &after}));
  WEFT_EXPECT_CODE(log.result(wait), status_code::ok);
  WEFT_EXPECT_CODE(log.result(after), status_code::ok);
}

TEST_P(semaphore_cts, linked_signal_then_wait_then_nop) {
  semaphore& sem = make_semaphore(0);
  auto& signal = make_semaphore_signal({&sem}, {2});
  signal.flags = op_flag::linked;
  auto& wait = make_semaphore_wait({&sem}, {2});
  wait.flags = op_flag::linked;
  auto& after = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&signal, &wait, &after}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&signal, &wait, &after}));
  for (const operation* op : log.order()) WEFT_EXPECT_CODE(log.result(*op), status_code::ok);
  EXPECT_EQ(sem.query(), 2u);
}

TEST_P(semaphore_cts, linked_wait_failure_cancels_chain) {
  semaphore& sem = make_semaphore(0);
  semaphore& untouched = make_semaphore(0);
  auto& wait = make_semaphore_wait({&sem}, {1});
  wait.flags = op_flag::linked;
  auto& middle = make<nop_op>();
  middle.flags = op_flag::linked;
  auto& signal = make_semaphore_signal({&untouched}, {1});
  WEFT_ASSERT_OK(submit_batch({&wait, &middle, &signal}));
  EXPECT_EQ(poll_for(5ms), 0u);
  sem.fail(errors::aborted("lost"));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&wait, &middle, &signal}));
  WEFT_EXPECT_CODE(log.result(wait), status_code::aborted);
  WEFT_EXPECT_CODE(log.result(middle), status_code::cancelled);
  WEFT_EXPECT_CODE(log.result(signal), status_code::cancelled);
  EXPECT_EQ(untouched.query(), 0u) << "a cancelled signal op signalled";
}

TEST_P(semaphore_cts, signal_op_wakes_host_waiter) {
  semaphore& sem = make_semaphore(0);
  status waited = errors::internal("not run");
  handshake started;
  std::thread host([&] {
    started.raise();
    waited = sem.wait(4, deadline::after(10s));
  });
  ASSERT_TRUE(started.wait());
  auto& signal = make_semaphore_signal({&sem}, {4});
  WEFT_ASSERT_OK(io().submit(signal));
  ASSERT_TRUE(poll_until([&] { return log.size() == 1; }));
  host.join();
  EXPECT_TRUE(waited.is_ok()) << waited;
}

}  // namespace
}  // namespace weft::io::cts
