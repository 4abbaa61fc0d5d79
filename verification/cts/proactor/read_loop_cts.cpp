// CTS: a caller that resubmits reads from its callbacks (the usual streaming
// loop). Page-cached reads may complete inline on the poll thread; these tests
// check that such a loop neither keeps one poll() from returning nor starves a
// timer or a cancel, on every file configuration.
#include <cstdint>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE_OVER(read_loop_cts, file_configs);

constexpr std::size_t file_size = 1024 * 1024;
constexpr std::size_t block = 4096;

// One read op that resubmits itself at the next block from its callback until
// told to stop or until it has done `limit` reads (the limit only ends a loop
// that starves everything else, so that the test fails instead of hanging).
struct reader {
  proactor* io = nullptr;
  file_read_op op;
  std::uint64_t limit = 0;
  std::uint64_t reads = 0;
  std::uint64_t bad = 0;
  bool stop = false;
  bool finished = false;  // the last callback ran: the op is idle
  status last;

  void start(proactor& p, int fd, std::span<std::byte> buffer, std::uint64_t max_reads) {
    io = &p;
    limit = max_reads;
    op.fd = fd;
    op.offset = 0;
    op.buffer = buffer;
    op.on_complete = &on_read;
    op.user_data = this;
    last = p.submit(op);
  }

  static void on_read(void* self, operation&, status result) {
    auto& r = *static_cast<reader*>(self);
    if (!result.is_ok()) {
      r.last = std::move(result);
      r.finished = true;
      return;
    }
    ++r.reads;
    if (r.op.bytes_read != block || !bytes_at(r.op.buffer, r.op.offset)) ++r.bad;
    if (r.stop || r.reads >= r.limit) {
      r.finished = true;
      return;
    }
    r.op.offset = (r.op.offset + block) % file_size;
    r.last = r.io->submit(r.op);
    if (!r.last.is_ok()) r.finished = true;
  }

  static bool bytes_at(std::span<const std::byte> got, std::uint64_t offset) {
    for (std::size_t i = 0; i < got.size(); i += 97) {
      if (got[i] != byte_at(offset + i)) return false;
    }
    return true;
  }
};

TEST_P(read_loop_cts, poll_returns_while_callbacks_keep_resubmitting_reads) {
  const int fd = make_file("f", file_size);  // written through the page cache: cached
  ASSERT_GE(fd, 0);
  const std::uint64_t limit = static_cast<std::uint64_t>(iterations(200'000));
  reader r;
  r.start(io(), fd, make_buffer(block), limit);
  WEFT_ASSERT_OK(r.last);
  // Non-blocking polls: each must come back while the reader still runs.
  int polls = 0;
  std::uint64_t most_in_one_poll = 0;
  while (!r.finished && polls < 50) {
    const std::uint64_t before = r.reads;
    auto polled = io().poll(deadline::after(std::chrono::milliseconds(100)));
    WEFT_ASSERT_OK(polled.status());
    most_in_one_poll = std::max(most_in_one_poll, r.reads - before);
    ++polls;
  }
  EXPECT_FALSE(r.finished) << "the reader hit its limit of " << limit << " reads inside " << polls
                           << " poll() calls: one poll() ran " << most_in_one_poll << " callbacks";
  EXPECT_LT(most_in_one_poll, limit / 4);
  EXPECT_EQ(r.bad, 0u) << "a read returned the wrong bytes";
  r.stop = true;
  ASSERT_TRUE(poll_until([&] { return r.finished; }));
  WEFT_EXPECT_CODE(r.last, status_code::ok);
}

TEST_P(read_loop_cts, a_timer_fires_while_callbacks_keep_resubmitting_reads) {
  const int fd = make_file("f", file_size);
  ASSERT_GE(fd, 0);
  const std::uint64_t limit = static_cast<std::uint64_t>(iterations(500'000));
  reader r;
  r.start(io(), fd, make_buffer(block), limit);
  WEFT_ASSERT_OK(r.last);
  auto& tick = make<timer_op>();
  tick.when = deadline::after(std::chrono::milliseconds(20));
  WEFT_ASSERT_OK(io().submit(tick));
  ASSERT_TRUE(poll_until([&] { return log.count(tick) == 1 || r.finished; }, 30s));
  EXPECT_EQ(log.count(tick), 1u) << "the timer did not fire while the reader ran (" << r.reads << " reads)";
  EXPECT_FALSE(r.finished) << "the reader reached its limit before the timer fired: reads starved the timer";
  WEFT_EXPECT_CODE(log.result(tick), status_code::ok);
  EXPECT_GE(log.time_of(tick), tick.when.monotonic_ns());
  r.stop = true;
  ASSERT_TRUE(poll_until([&] { return r.finished; }));
  EXPECT_EQ(r.bad, 0u);
}

TEST_P(read_loop_cts, cancel_ends_a_resubmitting_reader) {
  const int fd = make_file("f", file_size);
  ASSERT_GE(fd, 0);
  reader r;
  r.start(io(), fd, make_buffer(block), static_cast<std::uint64_t>(iterations(500'000)));
  WEFT_ASSERT_OK(r.last);
  ASSERT_TRUE(poll_until([&] { return r.reads >= 100 || r.finished; }));
  ASSERT_FALSE(r.finished);
  // Between polls the op is in flight (submitted from its last callback):
  // the cancel must end it with CANCELLED or its natural result, and the
  // loop must then stop (an OK result resubmits; keep cancelling).
  std::uint64_t cancels = 0;
  ASSERT_TRUE(poll_until([&] {
    if (!r.finished) {
      const status c = io().cancel(r.op);
      if (c.is_ok()) ++cancels;
      r.stop = cancels >= 3;  // stop resubmitting after a few natural completions
    }
    return r.finished;
  }));
  EXPECT_GT(cancels, 0u);
  EXPECT_TRUE(r.last.is_ok() || r.last.code() == status_code::cancelled) << r.last;
  EXPECT_EQ(r.bad, 0u);
  EXPECT_EQ(poll_for(5ms), 0u) << "a callback after the reader finished";
}

}  // namespace
}  // namespace weft::io::cts
