// The io_uring backend (src/uring_backend.cpp) driven directly through
// backend.hpp with a fake completion sink: setup and capabilities, nop, timers,
// watches, wake, file I/O (continued, clamped, short, EOF, errors), cancel,
// back-pressure and teardown. Skipped where the kernel refuses io_uring.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "test_files.hpp"
#include "weft/io/event.hpp"

namespace {

using namespace std::chrono_literals;
using weft::deadline;
using weft::status;
using weft::status_code;
using weft::io::event;
using weft::io::event_ptr;
using weft::io::file_close_op;
using weft::io::file_open_op;
using weft::io::file_read_op;
using weft::io::file_write_op;
using weft::io::nop_op;
using weft::io::operation;
using weft::io::proactor_options;
using weft::io::timer_op;
using weft::io::detail::backend;
using weft::io::detail::completion_sink;
using weft::io::detail::create_uring_backend;
using weft::io::detail::op_access;
using weft::io::detail::waitable;
using weft::io::test::fd_guard;
using weft::io::test::pattern;
using weft::io::test::pipe_pair;
using weft::io::test::temp_dir;
using weft::io::test::temp_file;
namespace capability = weft::io::capability;
namespace open_flag = weft::io::open_flag;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string capability_names(std::uint32_t bits) {
  static constexpr struct {
    std::uint32_t bit;
    const char* name;
  } names[] = {{capability::kernel_ring, "kernel_ring"},      {capability::single_issuer, "single_issuer"},
               {capability::defer_taskrun, "defer_taskrun"},  {capability::kernel_file_io, "kernel_file_io"},
               {capability::kernel_links, "kernel_links"},    {capability::nowait_reads, "nowait_reads"},
               {capability::multishot_poll, "multishot_poll"}};
  std::string text;
  for (const auto& entry : names) {
    if ((bits & entry.bit) == 0) continue;
    if (!text.empty()) text += '|';
    text += entry.name;
  }
  return text.empty() ? "none" : text;
}

// Linux major * 100 + minor, from uname.
int kernel_version() {
  utsname name{};
  if (::uname(&name) != 0) return 0;
  int major = 0;
  int minor = 0;
  if (std::sscanf(name.release, "%d.%d", &major, &minor) != 2) return 0;
  return major * 100 + minor;
}

std::size_t open_fd_count() {
  std::size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

struct fake_sink final : completion_sink {
  struct op_done {
    operation* op;
    status result;
  };
  struct watch_done {
    waitable* target;
    status result;
  };
  std::vector<op_done> completed;
  std::vector<watch_done> fired;

  void complete(operation& op, status result) override { completed.push_back({&op, std::move(result)}); }
  void watch_fired(waitable& w, status result) override { fired.push_back({&w, std::move(result)}); }
  const status* result_of(const operation& op) const {
    for (const op_done& done : completed)
      if (done.op == &op) return &done.result;
    return nullptr;
  }
};

// Reaps (and waits) until done() or `limit` passes; returns done().
template <class Done>
bool pump(backend& ring, fake_sink& sink, Done done, std::chrono::milliseconds limit = 5000ms) {
  const deadline until = deadline::after(limit);
  for (;;) {
    weft::result<std::size_t> reaped = ring.reap(sink);
    EXPECT_TRUE(reaped.ok()) << reaped.status();
    if (done()) return true;
    if (until.expired()) return false;
    const status waited = ring.wait(until);
    EXPECT_TRUE(waited.is_ok()) << waited;
  }
}

bool pump_count(backend& ring, fake_sink& sink, std::size_t count, std::chrono::milliseconds limit = 5000ms) {
  const auto reached = [&] { return sink.completed.size() >= count; };
  return pump(ring, sink, reached, limit);
}

// A descriptor number that is certainly not open.
int closed_fd() {
  const int fd = ::dup(0);
  ::close(fd);
  return fd;
}

class uring_backend_test : public ::testing::Test {
 protected:
  void SetUp() override {
    weft::result<std::unique_ptr<backend>> probe = create_uring_backend({});
    if (!probe.ok() && probe.status().code() == status_code::unavailable)
      GTEST_SKIP() << "io_uring unavailable here: " << probe.status();
  }

  // A bound backend (the test thread is the poll thread), or null after a
  // recorded failure.
  static std::unique_ptr<backend> open(const proactor_options& options = {}) {
    weft::result<std::unique_ptr<backend>> created = create_uring_backend(options);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    std::unique_ptr<backend> ring = std::move(*created);
    const status bound = ring->bind_poll_thread();
    EXPECT_TRUE(bound.is_ok()) << bound;
    return ring;
  }
};

// ---- setup and capabilities ------------------------------------------------------

TEST_F(uring_backend_test, SetupReportsCapabilities) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  const std::uint32_t caps = ring->capabilities();
  std::printf("io_uring capabilities on Linux %d.%02d: %s\n", kernel_version() / 100, kernel_version() % 100,
              capability_names(caps).c_str());
  EXPECT_EQ(ring->kind(), weft::io::backend_kind::io_uring);
  EXPECT_NE(caps & capability::kernel_ring, 0u);
  EXPECT_EQ(caps & capability::kernel_links, 0u) << "linked sequences are emulated by the core";
  if (kernel_version() >= 601) {  // everything this backend can use exists from 6.1 on
    const std::uint32_t expected = capability::kernel_ring | capability::single_issuer | capability::defer_taskrun |
                                   capability::kernel_file_io | capability::nowait_reads | capability::multishot_poll;
    EXPECT_EQ(caps, expected) << capability_names(caps);
  }
}

TEST_F(uring_backend_test, MaskedCapabilitiesAreHonoured) {
  for (const std::uint32_t allowed : {std::uint32_t{capability::kernel_ring | capability::kernel_file_io},
                                      std::uint32_t{capability::all & ~capability::defer_taskrun},
                                      std::uint32_t{capability::all & ~capability::multishot_poll}, std::uint32_t{0}}) {
    proactor_options options;
    options.allowed_capabilities = allowed;
    auto ring = open(options);
    ASSERT_NE(ring, nullptr);
    EXPECT_EQ(ring->capabilities() & ~allowed, 0u) << capability_names(ring->capabilities());
    // What is left still works: a nop through the ring.
    fake_sink sink;
    nop_op nop;
    ASSERT_TRUE(ring->start(nop));
    ASSERT_TRUE(pump_count(*ring, sink, 1));
    EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  }
}

TEST_F(uring_backend_test, FileOpsWithoutKernelFileIoAreRefused) {
  proactor_options options;
  options.allowed_capabilities = capability::all & ~capability::kernel_file_io;
  auto ring = open(options);
  ASSERT_NE(ring, nullptr);
  std::vector<std::byte> bytes(16);
  file_read_op read;
  read.fd = 0;
  read.buffer = bytes;
  fake_sink sink;
  ASSERT_TRUE(ring->start(read));
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  EXPECT_EQ(sink.completed[0].result.code(), status_code::unimplemented) << sink.completed[0].result;
  EXPECT_TRUE(contains(sink.completed[0].result.message(), "kernel_file_io")) << sink.completed[0].result;
}

TEST_F(uring_backend_test, QueueEntriesAreValidated) {
  for (const std::uint32_t entries : {0u, 32769u, 100000u}) {
    proactor_options options;
    options.queue_entries = entries;
    weft::result<std::unique_ptr<backend>> created = create_uring_backend(options);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.status().code(), status_code::invalid_argument);
    EXPECT_TRUE(contains(created.status().message(), std::to_string(entries))) << created.status();
    EXPECT_TRUE(contains(created.status().message(), "32768")) << created.status();
  }
  proactor_options largest;
  largest.queue_entries = 32768;
  EXPECT_NE(open(largest), nullptr);
}

TEST_F(uring_backend_test, ReapAndWaitNeedTheBoundPollThread) {
  weft::result<std::unique_ptr<backend>> created = create_uring_backend({});
  ASSERT_TRUE(created.ok()) << created.status();
  fake_sink sink;
  EXPECT_EQ((*created)->reap(sink).status().code(), status_code::failed_precondition);
  EXPECT_EQ((*created)->wait(deadline::immediate()).code(), status_code::failed_precondition);
}

TEST_F(uring_backend_test, SingleIssuerRefusesAnotherThread) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  if ((ring->capabilities() & capability::single_issuer) == 0) GTEST_SKIP() << "no single_issuer here";
  fake_sink sink;
  nop_op nop;
  ASSERT_TRUE(ring->start(nop));
  status other;
  std::thread intruder([&] { other = ring->reap(sink).status(); });
  intruder.join();
  EXPECT_EQ(other.code(), status_code::failed_precondition) << other;
  // The poll thread still submits what was queued.
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  EXPECT_TRUE(sink.completed[0].result.is_ok());
}

// ---- nop and timers ------------------------------------------------------------

TEST_F(uring_backend_test, NopCompletes) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  nop_op nops[8];
  for (nop_op& nop : nops) ASSERT_TRUE(ring->start(nop));
  ASSERT_TRUE(pump_count(*ring, sink, 8));
  EXPECT_EQ(sink.completed.size(), 8u);
  for (nop_op& nop : nops) {
    const status* result = sink.result_of(nop);
    ASSERT_NE(result, nullptr);
    EXPECT_TRUE(result->is_ok()) << *result;
  }
}

TEST_F(uring_backend_test, TimerCompletesNotBeforeItsAbsoluteDeadline) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  timer_op timer;
  timer.when = deadline::after(20ms);
  ASSERT_TRUE(ring->start(timer));
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  const std::int64_t seen = weft::monotonic_now_ns();
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_GE(seen, timer.when.monotonic_ns());
  std::printf("timer lateness: %.3f ms\n", static_cast<double>(seen - timer.when.monotonic_ns()) / 1e6);
}

TEST_F(uring_backend_test, PastAndImmediateTimersCompletePromptly) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  timer_op past;
  past.when = deadline::at(weft::monotonic_now_ns() - 1'000'000'000);
  timer_op immediate;
  immediate.when = deadline::immediate();
  ASSERT_TRUE(ring->start(past));
  ASSERT_TRUE(ring->start(immediate));
  ASSERT_TRUE(pump_count(*ring, sink, 2, 1000ms));
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_TRUE(sink.completed[1].result.is_ok()) << sink.completed[1].result;
}

TEST_F(uring_backend_test, TimersCompleteInDeadlineOrder) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  timer_op late;
  timer_op early;
  timer_op middle;
  const std::int64_t now = weft::monotonic_now_ns();
  late.when = deadline::at(now + 45'000'000);
  early.when = deadline::at(now + 15'000'000);
  middle.when = deadline::at(now + 30'000'000);
  ASSERT_TRUE(ring->start(late));
  ASSERT_TRUE(ring->start(early));
  ASSERT_TRUE(ring->start(middle));
  ASSERT_TRUE(pump_count(*ring, sink, 3));
  EXPECT_EQ(sink.completed[0].op, &early);
  EXPECT_EQ(sink.completed[1].op, &middle);
  EXPECT_EQ(sink.completed[2].op, &late);
}

TEST_F(uring_backend_test, InfiniteTimerCompletesOnlyByCancel) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  timer_op forever;
  forever.when = deadline::infinite();
  timer_op far;
  far.when = deadline::after(3600s);
  ASSERT_TRUE(ring->start(forever));
  ASSERT_TRUE(ring->start(far));
  EXPECT_FALSE(pump_count(*ring, sink, 1, 50ms));
  ring->cancel(forever);
  ring->cancel(far);
  ASSERT_TRUE(pump_count(*ring, sink, 2, 1000ms));
  for (const auto& done : sink.completed) EXPECT_EQ(done.result.code(), status_code::cancelled) << done.result;
  EXPECT_FALSE(pump_count(*ring, sink, 3, 20ms)) << "a cancelled timer completes exactly once";
}

// ---- watches and wake ------------------------------------------------------------

TEST_F(uring_backend_test, WatchFiresWhenTheEventIsSet) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  weft::result<event_ptr> created = event::create();
  ASSERT_TRUE(created.ok()) << created.status();
  event_ptr ready = std::move(*created);
  fake_sink sink;
  auto fired = [&](std::size_t n) { return [&sink, n] { return sink.fired.size() >= n; }; };
  ASSERT_TRUE(ring->arm_watch(*ready));
  EXPECT_FALSE(pump(*ring, sink, fired(1), 30ms));
  ASSERT_TRUE(ready->set().is_ok());
  ASSERT_TRUE(pump(*ring, sink, fired(1)));
  EXPECT_EQ(sink.fired[0].target, ready.get());
  EXPECT_TRUE(sink.fired[0].result.is_ok()) << sink.fired[0].result;
  // One-shot: it stays quiet until armed again, then fires again (still set).
  EXPECT_FALSE(pump(*ring, sink, fired(2), 20ms));
  ASSERT_TRUE(ring->arm_watch(*ready));
  ASSERT_TRUE(pump(*ring, sink, fired(2)));
  EXPECT_TRUE(sink.fired[1].result.is_ok()) << sink.fired[1].result;
}

TEST_F(uring_backend_test, DisarmFiresCancelledExactlyOnce) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  weft::result<event_ptr> created = event::create();
  ASSERT_TRUE(created.ok()) << created.status();
  event_ptr ready = std::move(*created);
  fake_sink sink;
  auto fired = [&](std::size_t n) { return [&sink, n] { return sink.fired.size() >= n; }; };
  // Armed and submitted, then disarmed.
  ASSERT_TRUE(ring->arm_watch(*ready));
  EXPECT_FALSE(pump(*ring, sink, fired(1), 10ms));
  ring->disarm_watch(*ready);
  ASSERT_TRUE(pump(*ring, sink, fired(1)));
  EXPECT_EQ(sink.fired[0].result.code(), status_code::cancelled) << sink.fired[0].result;
  EXPECT_TRUE(contains(sink.fired[0].result.message(), "fd " + std::to_string(ready->fd()))) << sink.fired[0].result;
  // Armed and disarmed before any submit.
  ASSERT_TRUE(ring->arm_watch(*ready));
  ring->disarm_watch(*ready);
  ASSERT_TRUE(pump(*ring, sink, fired(2)));
  EXPECT_EQ(sink.fired[1].result.code(), status_code::cancelled) << sink.fired[1].result;
  // A disarm racing a set: one report, OK or CANCELLED.
  ASSERT_TRUE(ring->arm_watch(*ready));
  ASSERT_TRUE(ready->set().is_ok());
  ring->disarm_watch(*ready);
  ASSERT_TRUE(pump(*ring, sink, fired(3)));
  EXPECT_TRUE(sink.fired[2].result.is_ok() || sink.fired[2].result.code() == status_code::cancelled)
      << sink.fired[2].result;
  EXPECT_FALSE(pump(*ring, sink, fired(4), 30ms)) << "exactly one watch_fired per arm";
}

void expect_wake_ends_wait(backend& ring) {
  fake_sink sink;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(ring.reap(sink).ok());
    std::thread waker([&ring] {
      std::this_thread::sleep_for(20ms);
      ring.wake();
    });
    const auto started = std::chrono::steady_clock::now();
    const status waited = ring.wait(deadline::after(10s));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    waker.join();
    EXPECT_TRUE(waited.is_ok()) << waited;
    EXPECT_LT(elapsed, 5s) << "round " << round << ": wake() did not end the wait";
  }
  EXPECT_TRUE(sink.completed.empty());
  EXPECT_TRUE(sink.fired.empty());
}

TEST_F(uring_backend_test, WakeFromAnotherThreadEndsWait) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  expect_wake_ends_wait(*ring);
}

TEST_F(uring_backend_test, WakeWithOneShotPollReArms) {
  proactor_options options;
  options.allowed_capabilities = capability::all & ~capability::multishot_poll;
  auto ring = open(options);
  ASSERT_NE(ring, nullptr);
  expect_wake_ends_wait(*ring);
}

TEST_F(uring_backend_test, WaitReturnsByItsDeadline) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  const auto started = std::chrono::steady_clock::now();
  const deadline until = deadline::after(30ms);
  while (!until.expired()) ASSERT_TRUE(ring->wait(until).is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// ---- files ---------------------------------------------------------------------

TEST_F(uring_backend_test, WriteThenReadBackWithShortReadAndEof) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  const temp_file file;
  const int fd = file.fd();
  ASSERT_GE(fd, 0);
  const std::vector<std::byte> data = pattern((1 << 20) + 123);
  fake_sink sink;

  file_write_op write;
  write.fd = fd;
  write.offset = 4096;
  write.buffer = data;
  ASSERT_TRUE(ring->start(write));
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_EQ(write.bytes_written, data.size());

  std::vector<std::byte> back(data.size());
  file_read_op read;
  read.fd = fd;
  read.offset = 4096;
  read.buffer = back;
  ASSERT_TRUE(ring->start(read));
  ASSERT_TRUE(pump_count(*ring, sink, 2));
  EXPECT_TRUE(sink.completed[1].result.is_ok()) << sink.completed[1].result;
  EXPECT_EQ(read.bytes_read, data.size());
  EXPECT_TRUE(back == data);

  // Past the end: the transfer stops at end-of-file, OK.
  std::vector<std::byte> more(3 * data.size());
  file_read_op short_read;
  short_read.fd = fd;
  short_read.offset = 4096 + 1000;
  short_read.buffer = more;
  file_read_op at_eof;
  at_eof.fd = fd;
  at_eof.offset = 4096 + data.size() + 10;
  at_eof.buffer = std::span(more).first(100);
  ASSERT_TRUE(ring->start(short_read));
  ASSERT_TRUE(ring->start(at_eof));
  ASSERT_TRUE(pump_count(*ring, sink, 4));
  ASSERT_NE(sink.result_of(short_read), nullptr);
  EXPECT_TRUE(sink.result_of(short_read)->is_ok()) << *sink.result_of(short_read);
  EXPECT_EQ(short_read.bytes_read, data.size() - 1000);
  EXPECT_TRUE(std::equal(data.begin() + 1000, data.end(), more.begin()));
  ASSERT_NE(sink.result_of(at_eof), nullptr);
  EXPECT_TRUE(sink.result_of(at_eof)->is_ok()) << *sink.result_of(at_eof);
  EXPECT_EQ(at_eof.bytes_read, 0u);
}

TEST_F(uring_backend_test, OpenCreatesWithCloexecAndCloseReleases) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  temp_dir dir;
  const std::string path = dir.file("created");
  fake_sink sink;
  file_open_op open_op;
  open_op.path = path.c_str();
  open_op.open_flags = open_flag::read | open_flag::write | open_flag::create | open_flag::exclusive;
  open_op.permissions = 0600;
  ASSERT_TRUE(ring->start(open_op));
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  ASSERT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  ASSERT_GE(open_op.fd, 0);
  EXPECT_NE(::fcntl(open_op.fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(::fcntl(open_op.fd, F_GETFL) & O_ACCMODE, O_RDWR);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  // exclusive: a second create of the same path fails, naming it.
  file_open_op again;
  again.path = path.c_str();
  again.open_flags = open_flag::write | open_flag::create | open_flag::exclusive;
  ASSERT_TRUE(ring->start(again));
  ASSERT_TRUE(pump_count(*ring, sink, 2));
  EXPECT_EQ(sink.completed[1].result.code(), status_code::already_exists) << sink.completed[1].result;
  EXPECT_TRUE(contains(sink.completed[1].result.message(), path)) << sink.completed[1].result;

  file_close_op close_op;
  close_op.fd = open_op.fd;
  ASSERT_TRUE(ring->start(close_op));
  ASSERT_TRUE(pump_count(*ring, sink, 3));
  EXPECT_TRUE(sink.completed[2].result.is_ok()) << sink.completed[2].result;
  EXPECT_EQ(::fcntl(open_op.fd, F_GETFD), -1) << "the descriptor is closed";
}

TEST_F(uring_backend_test, ErrorsNameTheOperation) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  temp_dir dir;
  const std::string missing = dir.file("missing");
  const int bad_fd = closed_fd();
  std::vector<std::byte> bytes(64);
  fake_sink sink;

  file_open_op open_missing;
  open_missing.path = missing.c_str();
  file_read_op read_bad;
  read_bad.fd = bad_fd;
  read_bad.offset = 4096;
  read_bad.buffer = bytes;
  file_write_op write_bad;
  write_bad.fd = bad_fd;
  write_bad.buffer = bytes;
  file_close_op close_bad;
  close_bad.fd = bad_fd;
  file_open_op open_null;
  open_null.path = nullptr;
  for (operation* op : std::initializer_list<operation*>{&open_missing, &read_bad, &write_bad, &close_bad, &open_null})
    ASSERT_TRUE(ring->start(*op));
  ASSERT_TRUE(pump_count(*ring, sink, 5));
  EXPECT_EQ(sink.result_of(open_null)->code(), status_code::invalid_argument) << *sink.result_of(open_null);
  EXPECT_TRUE(contains(sink.result_of(open_null)->message(), "null")) << *sink.result_of(open_null);

  const std::string fd_text = "fd " + std::to_string(bad_fd);
  EXPECT_EQ(sink.result_of(open_missing)->code(), status_code::not_found) << *sink.result_of(open_missing);
  EXPECT_TRUE(contains(sink.result_of(open_missing)->message(), missing)) << *sink.result_of(open_missing);
  for (const operation* op : std::initializer_list<const operation*>{&read_bad, &write_bad, &close_bad}) {
    const status* result = sink.result_of(*op);
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(result->code(), status_code::invalid_argument) << *result;
    EXPECT_TRUE(contains(result->message(), fd_text)) << *result;
    EXPECT_TRUE(contains(result->message(), "errno 9")) << *result;
  }
  EXPECT_TRUE(contains(sink.result_of(read_bad)->message(), "file_read " + fd_text + " offset 4096"));
  EXPECT_EQ(read_bad.bytes_read, 0u);
}

TEST_F(uring_backend_test, ShortTransfersAreContinued) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  pipe_pair pipe;
  const std::vector<std::byte> sent = pattern(3000);
  std::vector<std::byte> got(sent.size());
  file_read_op read;
  read.fd = pipe.reader();
  read.buffer = got;
  fake_sink sink;
  ASSERT_TRUE(ring->start(read));
  std::thread writer([&] {
    for (std::size_t piece = 0; piece < 3; ++piece) {
      std::this_thread::sleep_for(10ms);
      EXPECT_EQ(::write(pipe.writer(), sent.data() + piece * 1000, 1000), 1000);
    }
  });
  const bool done = pump_count(*ring, sink, 1);
  writer.join();
  ASSERT_TRUE(done);
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_EQ(read.bytes_read, sent.size());
  EXPECT_TRUE(got == sent);
}

TEST_F(uring_backend_test, ShortReadEndsAtEndOfStream) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  pipe_pair pipe;
  const std::vector<std::byte> sent = pattern(1000);
  std::vector<std::byte> got(4000);
  file_read_op read;
  read.fd = pipe.reader();
  read.buffer = got;
  fake_sink sink;
  ASSERT_TRUE(ring->start(read));
  ASSERT_EQ(::write(pipe.writer(), sent.data(), sent.size()), 1000);
  EXPECT_FALSE(pump_count(*ring, sink, 1, 20ms)) << "the read waits for the rest";
  pipe.close_writer();
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_EQ(read.bytes_read, 1000u);
  EXPECT_TRUE(std::equal(sent.begin(), sent.end(), got.begin()));
}

TEST_F(uring_backend_test, CancelStopsAPendingAndAContinuedTransfer) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  pipe_pair pipe;
  std::vector<std::byte> got(4000);
  fake_sink sink;

  file_read_op idle;  // nothing ever arrives
  idle.fd = pipe.reader();
  idle.buffer = got;
  ASSERT_TRUE(ring->start(idle));
  EXPECT_FALSE(pump_count(*ring, sink, 1, 10ms));
  ring->cancel(idle);
  ASSERT_TRUE(pump_count(*ring, sink, 1));
  EXPECT_EQ(sink.completed[0].result.code(), status_code::cancelled) << sink.completed[0].result;
  EXPECT_EQ(idle.bytes_read, 0u);

  file_read_op partial;  // gets 1000 bytes, then is cancelled while waiting for more
  partial.fd = pipe.reader();
  partial.buffer = got;
  ASSERT_TRUE(ring->start(partial));
  ASSERT_EQ(::write(pipe.writer(), got.data(), 1000), 1000);
  ASSERT_TRUE(pump(*ring, sink, [&] { return op_access::internal(partial).progress == 1000; }));
  ring->cancel(partial);
  ASSERT_TRUE(pump_count(*ring, sink, 2));
  EXPECT_EQ(sink.completed[1].result.code(), status_code::cancelled) << sink.completed[1].result;
  EXPECT_TRUE(contains(sink.completed[1].result.message(), "after 1000 bytes")) << sink.completed[1].result;
  EXPECT_EQ(partial.bytes_read, 1000u);
}

// Maps `total` bytes of address space onto one small shared buffer repeated,
// so a multi-GiB read costs the page cache nothing and RAM only `slice`.
class aliased_buffer {
 public:
  aliased_buffer(std::size_t total, std::size_t slice) : total_(total), slice_(slice) {
    fd_ = ::memfd_create("weft-uring-test", MFD_CLOEXEC);
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::ftruncate(fd_, static_cast<off_t>(slice)), 0);
    void* range = ::mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    EXPECT_NE(range, MAP_FAILED);
    base_ = static_cast<std::byte*>(range);
    for (std::size_t at = 0; at < total; at += slice) {
      void* piece = ::mmap(base_ + at, slice, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd_, 0);
      EXPECT_EQ(piece, static_cast<void*>(base_ + at));
    }
  }
  ~aliased_buffer() {
    ::munmap(base_, total_);
    ::close(fd_);
  }
  aliased_buffer(const aliased_buffer&) = delete;
  aliased_buffer& operator=(const aliased_buffer&) = delete;
  std::span<std::byte> span() { return {base_, total_}; }
  std::span<std::byte> slice() { return {base_, slice_}; }

 private:
  std::size_t total_;
  std::size_t slice_;
  int fd_ = -1;
  std::byte* base_ = nullptr;
};

TEST_F(uring_backend_test, TransferLargerThanTheClampIsSplitAndContinued) {
  auto ring = open();
  ASSERT_NE(ring, nullptr);
  constexpr std::uint64_t gib = std::uint64_t{1} << 30;
  // A sparse memfd: its holes read as the shared zero page, so the kernel
  // neither allocates page cache nor touches a disk.
  const fd_guard sparse(::memfd_create("weft-uring-sparse", MFD_CLOEXEC));
  const int fd = sparse.get();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(5 * gib)), 0);  // all hole: reads are zeros
  const std::byte marker{0xAB};
  ASSERT_EQ(::pwrite(fd, &marker, 1, static_cast<off_t>(5 * gib - 1)), 1);  // the last byte

  aliased_buffer buffer(5 * gib / 2, 1 << 20);
  std::fill(buffer.slice().begin(), buffer.slice().end(), std::byte{0x5A});
  fake_sink sink;
  file_read_op big;  // 2.5 GiB of holes: two pieces (the clamp is just under 2 GiB)
  big.fd = fd;
  big.offset = gib;
  big.buffer = buffer.span();
  ASSERT_GT(big.buffer.size(), weft::io::max_transfer_bytes);
  ASSERT_TRUE(ring->start(big));
  ASSERT_TRUE(pump_count(*ring, sink, 1, 60000ms));
  EXPECT_TRUE(sink.completed[0].result.is_ok()) << sink.completed[0].result;
  EXPECT_EQ(big.bytes_read, 5 * gib / 2);
  EXPECT_TRUE(std::all_of(buffer.slice().begin(), buffer.slice().end(), [](std::byte b) { return b == std::byte{0}; }));

  file_read_op tail;  // 2.5 GiB asked from 4 GiB: ends at end-of-file after 1 GiB
  tail.fd = fd;
  tail.offset = 4 * gib;
  tail.buffer = buffer.span();
  ASSERT_TRUE(ring->start(tail));
  ASSERT_TRUE(pump_count(*ring, sink, 2, 60000ms));
  EXPECT_TRUE(sink.completed[1].result.is_ok()) << sink.completed[1].result;
  EXPECT_EQ(tail.bytes_read, gib);
}

// ---- back-pressure and teardown -------------------------------------------------

TEST_F(uring_backend_test, FullSubmissionQueueRefusesUntilReaped) {
  proactor_options options;
  options.queue_entries = 3;  // rounded up to 4
  auto ring = open(options);
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  ASSERT_TRUE(ring->reap(sink).ok());  // submits the wake poll queued at setup
  nop_op nops[5];
  std::size_t started = 0;
  while (started < 5 && ring->start(nops[started])) ++started;
  EXPECT_EQ(started, 4u);
  timer_op timer;
  EXPECT_FALSE(ring->start(timer));
  ASSERT_TRUE(pump_count(*ring, sink, 4));
  EXPECT_TRUE(ring->start(nops[4]));
  ASSERT_TRUE(pump_count(*ring, sink, 5));
  for (const auto& done : sink.completed) EXPECT_TRUE(done.result.is_ok()) << done.result;
}

TEST_F(uring_backend_test, CompletionQueueOverflowLosesNothing) {
  proactor_options options;
  options.queue_entries = 1;  // SQ 1, CQ 2
  auto ring = open(options);
  ASSERT_NE(ring, nullptr);
  fake_sink sink;
  ASSERT_TRUE(ring->reap(sink).ok());  // submits the wake poll queued at setup
  nop_op nops[9];
  for (nop_op& nop : nops) {  // each submitted by a non-blocking wait; nobody drains the CQ
    ASSERT_TRUE(ring->start(nop));
    ASSERT_TRUE(ring->wait(deadline::immediate()).is_ok());
  }
  // NODROP kept the completions the CQ had no room for; one reap flushes and
  // delivers them all.
  weft::result<std::size_t> reaped = ring->reap(sink);
  ASSERT_TRUE(reaped.ok()) << reaped.status();
  EXPECT_EQ(*reaped, 9u);
  ASSERT_EQ(sink.completed.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(sink.completed[i].op, &nops[i]);
}

TEST_F(uring_backend_test, DestructionWithWorkInFlightReleasesEverything) {
  const std::size_t fds_before = open_fd_count();
  {
    pipe_pair pipe;
    std::vector<std::byte> got(100);
    weft::result<event_ptr> created = event::create();
    ASSERT_TRUE(created.ok());
    event_ptr ready = std::move(*created);
    timer_op forever;
    forever.when = deadline::infinite();
    file_read_op read;
    read.fd = pipe.reader();
    read.buffer = got;
    {
      auto ring = open();
      ASSERT_NE(ring, nullptr);
      ASSERT_TRUE(ring->start(forever));
      ASSERT_TRUE(ring->start(read));
      ASSERT_TRUE(ring->arm_watch(*ready));
      fake_sink sink;
      ASSERT_TRUE(ring->reap(sink).ok());
      EXPECT_TRUE(sink.completed.empty());
    }
  }
  EXPECT_EQ(open_fd_count(), fds_before) << "ring, eventfds and pipe are all closed";
}

}  // namespace
