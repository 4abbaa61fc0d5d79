#include "weft/inflight_word.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "weft/mpsc_slist.hpp"

namespace {

using word_t = weft::inflight_word<>;
using weft::cancel_request;

TEST(InflightWord, StartsIdle) {
  word_t word;
  EXPECT_FALSE(word.in_flight_relaxed());
  EXPECT_FALSE(word.cancel_requested_relaxed());
}

TEST(InflightWord, SecondSubmitIsRefused) {
  word_t word;
  EXPECT_TRUE(word.try_begin());
  EXPECT_TRUE(word.in_flight_relaxed());
  EXPECT_FALSE(word.try_begin()) << "double submit";
  EXPECT_TRUE(word.in_flight_relaxed());
}

TEST(InflightWord, CancelOfAnIdleOpTouchesNothing) {
  word_t word;
  EXPECT_EQ(word.request_cancel(), cancel_request::not_in_flight);
  EXPECT_FALSE(word.cancel_requested_relaxed());
  EXPECT_TRUE(word.try_begin()) << "a failed cancel leaves no trace on the next submission";
}

TEST(InflightWord, NaturalCompletionHandsBack) {
  word_t word;
  ASSERT_TRUE(word.try_begin());
  EXPECT_TRUE(word.try_finish());
  EXPECT_FALSE(word.in_flight_relaxed());
  EXPECT_EQ(word.request_cancel(), cancel_request::not_in_flight) << "cancel after hand-back";
  EXPECT_TRUE(word.try_begin()) << "the op can be resubmitted";
}

TEST(InflightWord, OnlyTheFirstCancelIsToldToEnqueue) {
  word_t word;
  ASSERT_TRUE(word.try_begin());
  EXPECT_EQ(word.request_cancel(), cancel_request::requested);
  EXPECT_TRUE(word.cancel_requested_relaxed());
  EXPECT_EQ(word.request_cancel(), cancel_request::already_requested);
  EXPECT_EQ(word.request_cancel(), cancel_request::already_requested);
  EXPECT_FALSE(word.try_begin()) << "still in flight";
}

TEST(InflightWord, CompletionAfterACancelKeepsTheOpUntilFinish) {
  word_t word;
  ASSERT_TRUE(word.try_begin());
  ASSERT_EQ(word.request_cancel(), cancel_request::requested);
  EXPECT_FALSE(word.try_finish()) << "the op is on the cancel list: no hand-back";
  EXPECT_TRUE(word.in_flight_relaxed());
  EXPECT_FALSE(word.try_begin());
  EXPECT_EQ(word.request_cancel(), cancel_request::already_requested);
  word.finish();
  EXPECT_FALSE(word.in_flight_relaxed());
  EXPECT_FALSE(word.cancel_requested_relaxed());
  EXPECT_EQ(word.request_cancel(), cancel_request::not_in_flight);
}

TEST(InflightWord, EachSubmissionGetsItsOwnCancel) {
  word_t word;
  for (int submission = 0; submission < 3; ++submission) {
    ASSERT_TRUE(word.try_begin());
    EXPECT_EQ(word.request_cancel(), cancel_request::requested) << "submission " << submission;
    EXPECT_FALSE(word.try_finish());
    word.finish();
  }
}

TEST(InflightWord, RacingSubmitsHaveExactlyOneWinner) {
  for (int round = 0; round < 200; ++round) {
    word_t word;
    std::atomic<int> winners{0};
    std::thread a([&] { winners += word.try_begin() ? 1 : 0; });
    std::thread b([&] { winners += word.try_begin() ? 1 : 0; });
    a.join();
    b.join();
    ASSERT_EQ(winners.load(), 1);
  }
}

// The pattern in inflight_word.hpp's header comment, on one thread: an op is
// submitted, cancelled (pushed on the cancel list once), completes naturally
// (kept), and is handed back only after the owner popped it.
struct op_t {
  struct cancel_link : weft::slist_node<cancel_link> {
    op_t* op;
  };
  word_t word;
  cancel_link cancel{{}, this};
  int result = 0;
};

TEST(InflightWord, UsageExampleFromHeader) {
  op_t op;
  weft::mpsc_slist<op_t::cancel_link> cancel_list;
  int handed_back = 0;

  ASSERT_TRUE(op.word.try_begin());  // submitter
  for (int canceller = 0; canceller < 2; ++canceller) {
    if (op.word.request_cancel() == cancel_request::requested) cancel_list.push(&op.cancel);
  }
  op.result = 42;  // owner: natural completion
  bool kept = !op.word.try_finish();
  if (!kept) ++handed_back;
  EXPECT_TRUE(kept);
  while (op_t::cancel_link* link = cancel_list.pop()) {  // owner: the cancel list
    EXPECT_EQ(link->op, &op);
    link->op->word.finish();
    ++handed_back;
  }
  EXPECT_EQ(handed_back, 1);
  EXPECT_TRUE(cancel_list.empty()) << "pushed exactly once";
  EXPECT_TRUE(op.word.try_begin()) << "handed back: free to resubmit";
}

}  // namespace
