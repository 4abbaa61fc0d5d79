#include "weft/completion_mailbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

namespace {

struct done {
  std::uint32_t op = 0;
  std::int32_t status = 0;
};

template <class Mailbox>
std::vector<std::uint32_t> drain_ops(Mailbox& mailbox, std::size_t max = Mailbox::capacity()) {
  std::vector<std::uint32_t> out;
  mailbox.drain([&](const done& d) { out.push_back(d.op); }, max);
  return out;
}

using small_t = weft::completion_mailbox<done, 4>;
constexpr std::uint64_t max_position = std::numeric_limits<std::uint64_t>::max();

TEST(CompletionMailbox, EmptyMailboxDeliversNothing) {
  small_t mailbox;
  EXPECT_EQ(small_t::capacity(), 4u);
  EXPECT_FALSE(mailbox.has_pending());
  EXPECT_EQ(mailbox.drain([](const done&) { ADD_FAILURE() << "nothing was pushed"; }), 0u);
}

TEST(CompletionMailbox, SingleMessageRoundTrip) {
  small_t mailbox;
  ASSERT_TRUE(mailbox.try_push({7, -5}));
  EXPECT_TRUE(mailbox.has_pending());
  done got;
  EXPECT_EQ(mailbox.drain([&](const done& d) { got = d; }), 1u);
  EXPECT_EQ(got.op, 7u);
  EXPECT_EQ(got.status, -5);
  EXPECT_FALSE(mailbox.has_pending());
}

TEST(CompletionMailbox, FullRingRefusesWithoutOverwriting) {
  small_t mailbox;
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.try_push({i, 0})) << i;
  EXPECT_FALSE(mailbox.try_push({99, 0}));
  EXPECT_FALSE(mailbox.try_push({100, 0}));
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{0, 1, 2, 3}));
  EXPECT_TRUE(mailbox.try_push({4, 0}));  // one drain frees every slot
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{4}));
}

TEST(CompletionMailbox, OneFreedSlotAdmitsExactlyOneMore) {
  small_t mailbox;
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.try_push({i, 0}));
  EXPECT_EQ(drain_ops(mailbox, 1), (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(mailbox.try_push({4, 0}));
  EXPECT_FALSE(mailbox.try_push({5, 0}));
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{1, 2, 3, 4}));
}

TEST(CompletionMailbox, ManyLapsKeepOrder) {
  small_t mailbox;
  std::uint32_t next_push = 0, next_expected = 0;
  for (int round = 0; round < 50; ++round) {
    const int burst = 1 + round % 4;
    for (int i = 0; i < burst; ++i) ASSERT_TRUE(mailbox.try_push({next_push++, round}));
    mailbox.drain([&](const done& d) { EXPECT_EQ(d.op, next_expected++); });
  }
  EXPECT_EQ(next_expected, next_push);
}

TEST(CompletionMailbox, DrainRespectsMaxAndDefaultsToOneRing) {
  small_t mailbox;
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.try_push({i, 0}));
  EXPECT_EQ(drain_ops(mailbox, 0), (std::vector<std::uint32_t>{}));
  EXPECT_EQ(drain_ops(mailbox, 3), (std::vector<std::uint32_t>{0, 1, 2}));
  // A callback that refills the ring cannot keep drain running forever.
  std::uint32_t op = 100;
  const std::size_t delivered = mailbox.drain([&](const done&) { mailbox.try_push({op++, 0}); });
  EXPECT_EQ(delivered, small_t::capacity());
  EXPECT_TRUE(mailbox.has_pending());
}

TEST(CompletionMailbox, SlotIsFreedBeforeTheCallbackRuns) {
  weft::completion_mailbox<done, 2> mailbox;
  ASSERT_TRUE(mailbox.try_push({1, 0}));
  ASSERT_TRUE(mailbox.try_push({2, 0}));
  bool pushed_inside = false;
  mailbox.drain([&](const done& d) { if (d.op == 1) pushed_inside = mailbox.try_push({3, 0}); }, 1);
  EXPECT_TRUE(pushed_inside);
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{2, 3}));
}

TEST(CompletionMailbox, UsageExampleFromHeaderCompilesAndRuns) {
  weft::completion_mailbox<done, 256> mailbox;
  int back_pressure = 0, completed = 0;
  for (std::uint32_t op = 0; op < 300; ++op)
    if (!mailbox.try_push({op, 0})) ++back_pressure;
  mailbox.drain([&](const done& d) { completed += d.status == 0 ? 1 : 0; });
  EXPECT_EQ(back_pressure, 300 - 256);
  EXPECT_EQ(completed, 256);
}

// Wraparound: positions are 64-bit and compared by modular difference.
class CompletionMailboxWrap : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CompletionMailboxWrap, PushFullAndDrainAcrossTheBoundary) {
  small_t mailbox;
  mailbox.for_test_start_at(GetParam());
  EXPECT_FALSE(mailbox.has_pending());
  std::uint32_t next_push = 0, next_expected = 0;
  for (int round = 0; round < 12; ++round) {
    // Fill completely, check full, drain in two steps.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.try_push({next_push++, 0})) << "round " << round;
    EXPECT_FALSE(mailbox.try_push({9999, 0})) << "round " << round;
    EXPECT_TRUE(mailbox.has_pending());
    mailbox.drain([&](const done& d) { EXPECT_EQ(d.op, next_expected++); }, 1 + round % 3);
    mailbox.drain([&](const done& d) { EXPECT_EQ(d.op, next_expected++); });
    EXPECT_FALSE(mailbox.has_pending()) << "round " << round;
  }
  EXPECT_EQ(next_expected, next_push);
}

INSTANTIATE_TEST_SUITE_P(StartNear, CompletionMailboxWrap,
                         ::testing::Values(max_position - 1, max_position - 4, max_position - 6, max_position,
                                           (std::uint64_t{1} << 63) - 3,
                                           std::uint64_t{0xFFFFFFFF} - 2));

// ---------------------------------------------------------------------------
// Head of line, made deterministic: a backend whose hook stops a producer
// between its claim and its publish (the producer's only release store on the
// thread that arms the hook).
struct probe {
  static inline thread_local std::function<void()> before_release_store;

  template <class T>
  class atomic {
   public:
    atomic() noexcept : value_{} {}
    atomic(T initial) noexcept : value_(initial) {}  // NOLINT: mirrors std::atomic
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order order) const { return value_.load(order); }
    void store(T desired, std::memory_order order) {
      if (order == std::memory_order_release && before_release_store) {
        auto once = std::move(before_release_store);
        before_release_store = nullptr;
        once();
      }
      value_.store(desired, order);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) {
      return value_.compare_exchange_weak(expected, desired, success, failure);
    }

   private:
    std::atomic<T> value_;
  };
  template <class T>
  using plain = weft::sync::os::plain<T>;
  static void pause() {}
};

template <std::size_t Capacity>
using probe_mailbox = weft::completion_mailbox<done, Capacity, probe>;

// A producer that claims a position and stops before publishing until released.
template <class Mailbox>
class stalled_producer {
 public:
  stalled_producer(Mailbox& mailbox, done message)
      : thread_([this, &mailbox, message] {
          probe::before_release_store = [this] {
            claimed_.store(true, std::memory_order_release);
            while (!released_.load(std::memory_order_acquire)) std::this_thread::yield();
          };
          pushed_ = mailbox.try_push(message);
        }) {
    while (!claimed_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  bool release_and_join() {
    released_.store(true, std::memory_order_release);
    thread_.join();
    return pushed_;
  }
  ~stalled_producer() {
    if (thread_.joinable()) release_and_join();
  }

 private:
  std::atomic<bool> claimed_{false};
  std::atomic<bool> released_{false};
  bool pushed_ = false;
  std::thread thread_;
};

TEST(CompletionMailboxHeadOfLine, UnpublishedClaimHoldsBackLaterMessages) {
  probe_mailbox<4> mailbox;
  ASSERT_TRUE(mailbox.try_push({1, 0}));
  stalled_producer producer(mailbox, done{2, 0});  // claimed position 1, not published
  ASSERT_TRUE(mailbox.try_push({3, 0}));            // position 2, published
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{1}));  // stops at position 1
  EXPECT_TRUE(mailbox.has_pending());
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{}));
  EXPECT_TRUE(producer.release_and_join());
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_FALSE(mailbox.has_pending());
}

TEST(CompletionMailboxHeadOfLine, StalledProducerEventuallyFillsTheRing) {
  probe_mailbox<2> mailbox;
  stalled_producer producer(mailbox, done{1, 0});
  ASSERT_TRUE(mailbox.try_push({2, 0}));
  EXPECT_FALSE(mailbox.try_push({3, 0}));  // full: the stalled slot is not drainable
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{}));
  EXPECT_TRUE(producer.release_and_join());
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_TRUE(mailbox.try_push({3, 0}));
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{3}));
}

TEST(CompletionMailboxHeadOfLine, StallAcrossPositionWraparound) {
  probe_mailbox<4> mailbox;
  mailbox.for_test_start_at(max_position);  // the stalled claim is the last position before 0
  stalled_producer producer(mailbox, done{1, 0});
  ASSERT_TRUE(mailbox.try_push({2, 0}));  // position 0 after the wrap
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{}));
  EXPECT_TRUE(mailbox.has_pending());
  EXPECT_TRUE(producer.release_and_join());
  EXPECT_EQ(drain_ops(mailbox), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_FALSE(mailbox.has_pending());
}

}  // namespace
