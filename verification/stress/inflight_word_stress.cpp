// Stress: weft::inflight_word as the proactor uses it, on real threads.
//
// EverySubmissionHandedBackExactlyOnce: 16 caller-owned ops. Two submitters
// scan them and try_begin() each (so they race to double-submit; the loser is
// refused), check the previous completion's result, and push the op on the
// owner's submit list. Two cancellers request_cancel() random ops and push the
// op on the cancel list when told `requested`. The owner (poll thread) takes
// submissions, completes them (result, try_finish(); a refused op is kept),
// and pops its cancel list (finish() and hand back a kept op). Checked:
//   - every submission is handed back exactly once (per op: hand-backs ==
//     submissions; a hand-back beyond the submissions taken is counted at once);
//   - an op is never handed back while its cancel is still to be popped
//     (try_finish() succeeding after a pop of that submission is an error),
//     and never pushed twice per submission (a second pop before hand-back);
//   - the submitter that wins try_begin() sees the last completion's result
//     through the word alone (plain fields; TSAN checks the order);
//   - pushes == pops; every word ends IDLE.
#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "stress.hpp"
#include "weft/inflight_word.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

template <class S>
class InflightWordStress : public ::testing::Test {};
TYPED_TEST_SUITE(InflightWordStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct op;

template <class S>
struct submit_link : weft::slist_node<submit_link<S>, S> {
  op<S>* target = nullptr;
};
template <class S>
struct cancel_link : weft::slist_node<cancel_link<S>, S> {
  op<S>* target = nullptr;
};

template <class S>
struct op {
  weft::inflight_word<S> word;
  submit_link<S> on_submit;  // two links: a cancel may come while the op is on the submit list
  cancel_link<S> on_cancel;
  std::size_t index = 0;
  std::uint64_t submissions = 0;  // written by the submitter that won try_begin()
  std::uint64_t payload = 0;      // likewise
  std::uint64_t result = 0;       // written by the owner before the hand-back
};

TYPED_TEST(InflightWordStress, EverySubmissionHandedBackExactlyOnce) {
  using S = TypeParam;
  using submit_list_type = weft::mpsc_slist<submit_link<S>, S>;
  using cancel_list_type = weft::mpsc_slist<cancel_link<S>, S>;
  constexpr std::size_t op_count = 16;
  constexpr unsigned submitters = 2, cancellers = 2;
  const std::uint64_t target = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 200'000);
  weft::stress::watchdog guard{std::chrono::seconds(150)};

  std::vector<op<S>> ops(op_count);
  for (std::size_t i = 0; i < op_count; ++i) {
    ops[i].index = i;
    ops[i].on_submit.target = &ops[i];
    ops[i].on_cancel.target = &ops[i];
  }
  submit_list_type submit_list;
  cancel_list_type cancel_list;
  std::atomic<std::uint64_t> submitted{0}, requested{0}, refused_submits{0}, bad_results{0};
  std::atomic<unsigned> submitters_done{0};
  std::atomic<bool> stop{false};

  // Owner-only bookkeeping.
  struct owner_state {
    bool completed = false;  // natural completion seen, op kept for its cancel
    bool popped = false;     // the cancel of this submission was popped
    std::uint64_t taken = 0, hand_backs = 0;
  };
  std::vector<owner_state> state(op_count);
  std::uint64_t handed_back = 0, popped = 0, kept = 0, errors = 0;

  weft::stress::run_threads(1 + submitters + cancellers, [&](unsigned index) {
    if (index == 0) {  // the owner
      std::deque<op<S>*> pending;
      auto hand_back = [&](op<S>& o) {
        owner_state& st = state[o.index];
        st = owner_state{false, false, st.taken, st.hand_backs + 1};
        if (st.hand_backs > st.taken) ++errors;
        ++handed_back;
      };
      auto complete = [&](op<S>& o) {
        owner_state& st = state[o.index];
        o.result = o.payload + 1;
        if (o.word.try_finish()) {
          if (st.popped) ++errors;  // its cancel was pushed, yet no CANCEL seen
          hand_back(o);
          return;
        }
        ++kept;
        st.completed = true;
        if (st.popped) {
          o.word.finish();
          hand_back(o);
        }
      };
      for (std::uint64_t turn = 0;; ++turn) {
        // Read each link before handling its op: a handed-back op may be
        // resubmitted and relinked at once.
        for (submit_link<S>* n = submit_list.flush_fifo(); n != nullptr;) {
          submit_link<S>* next = submit_list_type::next(n);
          ++state[n->target->index].taken;
          pending.push_back(n->target);
          n = next;
        }
        for (cancel_link<S>* n = cancel_list.flush(); n != nullptr;) {
          cancel_link<S>* next = cancel_list_type::next(n);
          op<S>& o = *n->target;
          owner_state& st = state[o.index];
          ++popped;
          if (st.popped) ++errors;  // two pushes for one submission
          st.popped = true;
          if (st.completed) {
            o.word.finish();
            hand_back(o);
          }
          n = next;
        }
        // Complete a little at a time, so that cancels land on in-flight ops.
        if (!pending.empty() && turn % 2 == 0) {
          complete(*pending.front());
          pending.pop_front();
        }
        if (pending.empty() && submitters_done.load(std::memory_order_acquire) == submitters &&
            handed_back == submitted.load(std::memory_order_relaxed)) {
          break;
        }
        if (pending.empty()) S::yield();
      }
      stop.store(true, std::memory_order_relaxed);
      return;
    }
    if (index <= submitters) {
      for (std::size_t i = index; submitted.load(std::memory_order_relaxed) < target; i = (i + 1) % op_count) {
        op<S>& o = ops[i];
        if (!o.word.try_begin()) {
          refused_submits.fetch_add(1, std::memory_order_relaxed);
          S::yield();
          continue;
        }
        if (o.submissions != 0 && o.result != o.payload + 1) bad_results.fetch_add(1, std::memory_order_relaxed);
        ++o.submissions;
        o.payload = o.submissions * 1000 + o.index;
        submitted.fetch_add(1, std::memory_order_relaxed);
        submit_list.push(&o.on_submit);
      }
      submitters_done.fetch_add(1, std::memory_order_release);
      return;
    }
    std::uint64_t rng = 0x9e3779b97f4a7c15ULL * index;
    while (!stop.load(std::memory_order_relaxed)) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      op<S>& o = ops[rng % op_count];
      if (o.word.request_cancel() == weft::cancel_request::requested) {
        requested.fetch_add(1, std::memory_order_relaxed);
        cancel_list.push(&o.on_cancel);
      }
      if (rng % 4 == 0) S::yield();
    }
  });

  EXPECT_EQ(errors, 0u) << "a hand-back beyond its submission, a hand-back with a cancel pending, or a double push";
  EXPECT_EQ(bad_results.load(), 0u) << "a resubmitter did not see the completion's result";
  std::uint64_t submissions = 0, mismatched = 0;
  for (std::size_t i = 0; i < op_count; ++i) {
    submissions += ops[i].submissions;
    mismatched += state[i].hand_backs == ops[i].submissions ? 0 : 1;
    EXPECT_FALSE(ops[i].word.in_flight_relaxed());
  }
  EXPECT_EQ(mismatched, 0u) << "an op was handed back more or fewer times than it was submitted";
  EXPECT_EQ(handed_back, submissions);
  EXPECT_EQ(popped, requested.load()) << "every cancel push popped once";
  EXPECT_TRUE(cancel_list.empty());
  EXPECT_GT(requested.load(), 0u) << "no cancel ever landed: the test did not exercise the race";
  ::testing::Test::RecordProperty("kept", static_cast<int>(kept));
  ::testing::Test::RecordProperty("refused_submits", static_cast<int>(refused_submits.load()));
}

}  // namespace
