// CTS: creation, capabilities, poll deadlines, wake, the poll owner,
// destruction with operations in flight.
#include <cstdio>
#include <thread>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE(lifecycle_cts);

TEST_P(lifecycle_cts, create_and_destroy) {
  EXPECT_EQ(io().backend(), config().kind);
  destroy_proactor();
  // A second proactor of the same configuration in the same process.
  proactor_options options;
  options.backend = config().kind;
  options.allowed_capabilities = config().allowed_capabilities;
  result<std::unique_ptr<proactor>> again = proactor::create(options);
  ASSERT_TRUE(again.ok()) << again.status();
  result<std::size_t> polled = (*again)->poll(deadline::immediate());
  ASSERT_TRUE(polled.ok()) << polled.status();
  EXPECT_EQ(*polled, 0u);
}

TEST_P(lifecycle_cts, capabilities) {
  const std::uint32_t caps = io().capabilities();
  const std::string text = capabilities_to_string(caps);
  std::printf("[ caps     ] %s: backend %s, capabilities %s\n", config().name, to_string(io().backend()), text.c_str());
  RecordProperty("capabilities", text);
  EXPECT_EQ(caps & ~config().allowed_capabilities, 0u) << "capabilities outside the allowed mask: " << text;
  EXPECT_EQ(caps & ~capability::all, 0u) << text;
  if (config().kind == backend_kind::io_uring) {
    EXPECT_NE(caps & capability::kernel_ring, 0u) << text;
  } else {
    EXPECT_EQ(caps & (capability::kernel_ring | capability::single_issuer | capability::defer_taskrun |
                      capability::kernel_file_io | capability::kernel_links),
              0u)
        << "epoll claims io_uring capabilities: " << text;
  }
  if (config().allowed_capabilities == capability::all && config().kind == backend_kind::io_uring) {
    // This machine's kernel (6.x) takes file I/O on the ring. (kernel_links is
    // optional: the core emulates linked sequences when it is absent.)
    EXPECT_NE(caps & capability::kernel_file_io, 0u) << text;
  }
  // Every bit has a name; names are separated by '|'.
  for (std::uint32_t bit = 1; bit & capability::all; bit <<= 1) {
    const std::string name = capabilities_to_string(bit);
    EXPECT_FALSE(name.empty()) << "bit " << bit;
    EXPECT_EQ(name.find('|'), std::string::npos) << name;
    if (caps & bit) {
      EXPECT_NE(text.find(name), std::string::npos) << name << " missing from " << text;
    }
  }
}

TEST_P(lifecycle_cts, poll_idle_immediate_returns_zero) {
  for (int round = 0; round < 3; ++round) {
    const std::int64_t start = monotonic_now_ns();
    result<std::size_t> polled = io().poll(deadline::immediate());
    ASSERT_TRUE(polled.ok()) << polled.status();
    EXPECT_EQ(*polled, 0u);
    EXPECT_LT(monotonic_now_ns() - start, 1'000'000'000) << "an immediate poll blocked";
  }
}

TEST_P(lifecycle_cts, poll_deadline_not_before) {
  for (const auto span : {20ms, 5ms}) {
    const deadline until = deadline::after(span);
    result<std::size_t> polled = io().poll(until);
    const std::int64_t returned = monotonic_now_ns();
    ASSERT_TRUE(polled.ok()) << polled.status();
    EXPECT_EQ(*polled, 0u);
    EXPECT_GE(returned, until.monotonic_ns()) << "poll returned " << (until.monotonic_ns() - returned)
                                              << " ns before its deadline";
    EXPECT_LT(returned - until.monotonic_ns(), 2'000'000'000) << "poll overslept";
  }
}

TEST_P(lifecycle_cts, wake_from_another_thread_ends_infinite_poll) {
  WEFT_ASSERT_OK(io().poll(deadline::immediate()).status());  // this thread owns poll
  for (int round = 0; round < 3; ++round) {
    handshake done;
    handshake rescued;
    auto& rescue = make<nop_op>();
    std::thread waker([&] {
      io().wake();
      // If wake() failed to end the poll, end it with a submit and say so.
      if (!done.wait(10s)) {
        rescued.raise();
        static_cast<void>(io().submit(rescue));
      }
    });
    result<std::size_t> polled = io().poll(deadline::infinite());
    done.raise();
    waker.join();
    ASSERT_TRUE(polled.ok()) << polled.status();
    EXPECT_FALSE(rescued.raised()) << "wake() did not end an infinite poll within 10 s";
    if (!rescued.raised()) {
      EXPECT_EQ(*polled, 0u);
    }
  }
}

TEST_P(lifecycle_cts, wake_before_poll_returns_at_once) {
  io().wake();
  io().wake();  // coalesces
  const std::int64_t start = monotonic_now_ns();
  result<std::size_t> polled = io().poll(deadline::after(10s));
  ASSERT_TRUE(polled.ok()) << polled.status();
  EXPECT_EQ(*polled, 0u);
  EXPECT_LT(monotonic_now_ns() - start, 5'000'000'000) << "a pending wake did not make poll return";
}

TEST_P(lifecycle_cts, poll_from_non_owner_fails) {
  WEFT_ASSERT_OK(io().poll(deadline::immediate()).status());
  status other;
  std::thread intruder([&] { other = io().poll(deadline::immediate()).status(); });
  intruder.join();
  EXPECT_EQ(other.code(), status_code::failed_precondition) << other;
  EXPECT_FALSE(other.message().empty());
  // The owner still polls, and operations still complete.
  auto& nop = make<nop_op>();
  WEFT_EXPECT_CODE(submit_and_await(nop), status_code::ok);
}

TEST_P(lifecycle_cts, destroy_cancels_inflight_ops) {
  auto ready = make_event();
  auto changed = make_notification();
  semaphore& sem = make_semaphore(0);
  semaphore* sems[] = {&sem};
  const std::uint64_t values[] = {5};

  // Started ones (the poll thread has seen them) ...
  auto& forever = make<timer_op>();
  forever.when = deadline::infinite();
  auto& far = make<timer_op>();
  far.when = deadline::after(1h);
  auto& event_wait = make<event_wait_op>(ready.get());
  auto& notified = make<notification_wait_op>(changed.get());
  auto& sem_wait = make<semaphore_wait_op>();
  sem_wait.semaphores = sems;
  sem_wait.values = values;
  for (operation* op : std::initializer_list<operation*>{&forever, &far, &event_wait, &notified, &sem_wait}) {
    WEFT_ASSERT_OK(io().submit(*op));
  }
  EXPECT_EQ(poll_for(20ms), 0u);
  // ... and ones submitted after the last poll, including a linked sequence.
  auto& late_timer = make<timer_op>();
  late_timer.when = deadline::infinite();
  auto& head = make<timer_op>();
  head.when = deadline::infinite();
  head.flags = op_flag::linked;
  auto& tail = make<nop_op>();
  WEFT_ASSERT_OK(io().submit(late_timer));
  WEFT_ASSERT_OK(submit_batch({&head, &tail}));

  destroy_proactor();
  const std::vector<operation*> all = {&forever, &far, &event_wait, &notified, &sem_wait, &late_timer, &head, &tail};
  EXPECT_EQ(log.size(), all.size());
  for (operation* op : all) {
    EXPECT_EQ(log.count(*op), 1u) << to_string(op->type());
    WEFT_EXPECT_CODE(log.result(*op), status_code::cancelled);
    EXPECT_FALSE(op->in_flight());
  }
  // The objects waited on are untouched and usable without a proactor.
  WEFT_ASSERT_OK(ready->set());
  EXPECT_TRUE(ready->try_consume());
  WEFT_ASSERT_OK(sem.signal(5));
  EXPECT_EQ(sem.query(), 5u);
}

TEST_P(lifecycle_cts, submit_from_another_thread_wakes_poll) {
  WEFT_ASSERT_OK(io().poll(deadline::immediate()).status());
  for (int round = 0; round < 5; ++round) {
    auto& nop = make<nop_op>();
    status submitted;
    std::thread submitter([&] { submitted = io().submit(nop); });
    // poll's deadline is 10 s away: only a wake-up ends it early.
    const bool done = poll_until([&] { return log.count(nop) == 1; });
    submitter.join();
    ASSERT_TRUE(submitted.is_ok()) << submitted;
    ASSERT_TRUE(done) << "round " << round << ": a cross-thread submit did not wake the poll";
    WEFT_EXPECT_CODE(log.result(nop), status_code::ok);
  }
}

}  // namespace
}  // namespace weft::io::cts
