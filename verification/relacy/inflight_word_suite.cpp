// Relacy suite for weft::inflight_word.
//
// An op is a struct with the word, a cancel-list link (it derives from
// slist_node) and a plain result field; the cancel list is a real mpsc_slist.
//
// Model 1, double_submit: two threads try_begin() the same idle op; exactly
// one wins.
//
// Model 2, cancel_vs_completion: the op lives on the heap and is in flight.
// The owner completes it naturally (writes the result, try_finish(); if that
// fails it waits for the op on the cancel list, pops it and finish()es), hands
// it back through a flag outside the op, and then takes one more turn of the
// poll loop: it drains its cancel list, as it would the next time round. The
// caller cancels (pushing the op if told `requested`), waits for the hand-back,
// reads the result, checks that a cancel now returns not_in_flight, and frees
// the op. Properties:
//   handed back only after the cancel list no longer holds the op (the code
//     hands back once by construction; the stress suite counts hand-backs) — otherwise the owner's later pop reads the
//     freed op (ACCESS TO FREED MEMORY or a data race on its link);
//   a cancel after the hand-back returns not_in_flight (assertion).
//
// Model 3, resubmit_model<Policy, Cancelled>: the completion is learned only
// through the word. The resubmitter spins on try_begin() and then reads the
// result: the word must carry the completion's writes. Cancelled: the op was
// cancelled and pushed in the set-up, so the owner's path is pop + finish();
// a third thread spins on request_cancel() until it gets `requested` for the
// *next* submission and pushes the op, writing the link the owner's pop wrote.
//
// Model 4, two_cancellers: two cancellers race the owner's natural
// completion: at most one `requested`, pushed once, popped once; none when
// the completion came first. Without the owner (OwnerCompletes false) the
// cancellers only race each other: exactly one `requested`, one push.
//
// Negative controls, each with the report that catches it:
//   - complete_recheck dropped (model 2): try_finish() hands back while the
//     op is on the cancel list; the caller frees it and the owner's next pop
//     reads it: ACCESS TO FREED MEMORY / data race.
//   - cancel_rmw split into a load and a store (model 4): both cancellers
//     load IN_FLIGHT and both are told `requested` (assertion; the only
//     failure left without the owner). With the owner, a canceller's store
//     can also land after try_finish() and resurrect IN_FLIGHT|CANCEL.
//   - finish_publish relaxed (model 3, cancelled): the resubmitter's read of
//     the result races the owner's write.
//   - complete_publish relaxed (model 3): the same race on the try_finish()
//     path.
//   - begin_claim relaxed (model 3): the resubmitter acquires nothing.
//   - cancel_claim relaxed (model 3, cancelled): the late canceller's push
//     writes the op's link unordered with the owner's pop that wrote it in the
//     previous submission (data race).
//   - begin_rmw split (model 1): both submitters win (assertion).
#include <cstring>
#include <new>

#include "harness.hpp"
#include "weft/inflight_word.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

using weft::cancel_request;
using weft::inflight_word_site;
namespace mutation = weft::mutation;
using relacy_sync = weft::sync::relacy;
using plain_int = relacy_sync::plain<int>;
constexpr int completed = 42;

template <class Policy>
struct op_t : weft::slist_node<op_t<Policy>, relacy_sync> {
  weft::inflight_word<relacy_sync, Policy> word;
  plain_int result;
};

template <class Policy>
using cancel_list_t = weft::mpsc_slist<op_t<Policy>, relacy_sync>;

// The owner's natural completion, as the poll thread does it: results, then
// try_finish(); a cancelled op is kept until popped, then finish()ed.
template <class Policy>
void complete(op_t<Policy>& op, cancel_list_t<Policy>& cancel_list) {
  op.result.write(completed);
  if (op.word.try_finish()) return;
  op_t<Policy>* popped;
  while ((popped = cancel_list.pop()) == nullptr) rl::yield(1, $);
  RL_ASSERT(popped == &op);
  op.word.finish();
}

template <class Policy>
struct double_submit : rl::test_suite<double_submit<Policy>, 2> {
  weft::inflight_word<relacy_sync, Policy> word;
  rl::atomic<int> winners;

  void before() { winners.store(0, rl::mo_relaxed, $); }
  void thread(unsigned) {
    if (word.try_begin()) winners.fetch_add(1, rl::mo_relaxed, $);
  }
  void after() { RL_ASSERT(winners.load(rl::mo_relaxed, $) == 1); }
};

template <class Policy>
struct cancel_vs_completion : rl::test_suite<cancel_vs_completion<Policy>, 2> {
  using op_type = op_t<Policy>;
  op_type* op = nullptr;
  cancel_list_t<Policy> cancel_list;
  rl::atomic<int> handed_back;  // the completion callback, outside the op

  // Relacy's allocator, poisoned on free (see drain_gate_suite.cpp for why).
  static op_type* make_op() { return new (rl::rl_malloc(sizeof(op_type), $)) op_type; }
  static void free_op(op_type* o) {
    o->~op_type();
    std::memset(static_cast<void*>(o), 0xdd, sizeof(op_type));
    rl::rl_free(o, $);
  }

  void before() {
    handed_back.store(0, rl::mo_relaxed, $);
    op = make_op();
    RL_ASSERT(op->word.try_begin());
  }

  void thread(unsigned index) {
    if (index == 0) {  // owner
      complete(*op, cancel_list);
      handed_back.store(1, rl::mo_release, $);
      // The next turn of the poll loop: whatever is on the cancel list is touched.
      while (op_type* late = cancel_list.pop()) static_cast<void>(late->result.read());
      return;
    }
    if (op->word.request_cancel() == cancel_request::requested) cancel_list.push(op);
    while (handed_back.load(rl::mo_acquire, $) == 0) rl::yield(1, $);
    RL_ASSERT(op->result.read() == completed);
    RL_ASSERT(op->word.request_cancel() == cancel_request::not_in_flight);
    free_op(op);
  }

  void after() { RL_ASSERT(cancel_list.empty()); }
};

template <class Policy, bool Cancelled>
struct resubmit_model : rl::test_suite<resubmit_model<Policy, Cancelled>, Cancelled ? 3 : 2> {
  op_t<Policy> op;
  cancel_list_t<Policy> cancel_list;

  void before() {
    RL_ASSERT(op.word.try_begin());
    if (Cancelled) {
      RL_ASSERT(op.word.request_cancel() == cancel_request::requested);
      cancel_list.push(&op);
    }
  }

  void thread(unsigned index) {
    if (index == 0) {
      complete(op, cancel_list);
    } else if (index == 1) {  // resubmits once it sees the op idle, by the word alone
      while (!op.word.try_begin()) rl::yield(1, $);
      RL_ASSERT(op.result.read() == completed);
      op.result.write(0);  // the next submission starts afresh
    } else {               // a canceller of the next submission
      while (op.word.request_cancel() != cancel_request::requested) rl::yield(1, $);
      cancel_list.push(&op);
    }
  }

  void after() {
    if (Cancelled) RL_ASSERT(cancel_list.pop() == &op);
    RL_ASSERT(cancel_list.empty());
  }
};

template <class Policy, bool OwnerCompletes = true>
struct two_cancellers : rl::test_suite<two_cancellers<Policy, OwnerCompletes>, 3> {
  op_t<Policy> op;
  cancel_list_t<Policy> cancel_list;
  rl::atomic<int> requested;

  void before() {
    requested.store(0, rl::mo_relaxed, $);
    RL_ASSERT(op.word.try_begin());
  }

  void thread(unsigned index) {
    if (index == 0) {
      if (OwnerCompletes) complete(op, cancel_list);
      return;
    }
    if (op.word.request_cancel() == cancel_request::requested) {
      RL_ASSERT(requested.fetch_add(1, rl::mo_relaxed, $) == 0);
      cancel_list.push(&op);
    }
  }

  void after() {
    if (!OwnerCompletes) {
      RL_ASSERT(requested.load(rl::mo_relaxed, $) == 1);
      RL_ASSERT(cancel_list.pop() == &op);
    }
    RL_ASSERT(cancel_list.empty());  // the one push was popped
    RL_ASSERT(OwnerCompletes != op.word.in_flight_relaxed());
  }
};

using verified = weft::verified;
using split_begin = mutation::split_rmw<inflight_word_site::begin_rmw>;
using hand_back_regardless = mutation::drop<inflight_word_site::complete_recheck>;
using split_cancel = mutation::split_rmw<inflight_word_site::cancel_rmw>;
using finish_relaxed = mutation::weaken<inflight_word_site::finish_publish, std::memory_order_relaxed>;
using complete_relaxed = mutation::weaken<inflight_word_site::complete_publish, std::memory_order_relaxed>;
using begin_relaxed = mutation::weaken<inflight_word_site::begin_claim, std::memory_order_relaxed>;
using cancel_relaxed = mutation::weaken<inflight_word_site::cancel_claim, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(inflight_word, "double submit: one winner", full, pass, double_submit<verified>);
WEFT_RELACY_CASE(inflight_word, "control: submit as load + store", full, caught, double_submit<split_begin>);
WEFT_RELACY_CASE(inflight_word, "hand back once, off the cancel list", random, pass, cancel_vs_completion<verified>);
WEFT_RELACY_CASE(inflight_word, "hand back once, off the cancel list", bound, pass, cancel_vs_completion<verified>);
WEFT_RELACY_CASE(inflight_word, "control: try_finish ignores CANCEL", random, caught,
                 cancel_vs_completion<hand_back_regardless>);
WEFT_RELACY_CASE(inflight_word, "resubmit sees the completion", random, pass, resubmit_model<verified, false>);
WEFT_RELACY_CASE(inflight_word, "resubmit sees the completion", bound, pass, resubmit_model<verified, false>);
WEFT_RELACY_CASE(inflight_word, "resubmit sees the cancelled completion", random, pass, resubmit_model<verified, true>);
WEFT_RELACY_CASE(inflight_word, "resubmit sees the cancelled completion", bound, pass, resubmit_model<verified, true>);
WEFT_RELACY_CASE(inflight_word, "control: finish without release", random, caught,
                 resubmit_model<finish_relaxed, true>);
WEFT_RELACY_CASE(inflight_word, "control: try_finish without release", random, caught,
                 resubmit_model<complete_relaxed, false>);
WEFT_RELACY_CASE(inflight_word, "control: try_begin without acquire", random, caught,
                 resubmit_model<begin_relaxed, false>);
WEFT_RELACY_CASE(inflight_word, "control: cancel without acquire", random, caught,
                 resubmit_model<cancel_relaxed, true>);
WEFT_RELACY_CASE(inflight_word, "one cancel request per submission", random, pass, two_cancellers<verified>);
WEFT_RELACY_CASE(inflight_word, "one cancel request per submission", bound, pass, two_cancellers<verified>);
WEFT_RELACY_CASE(inflight_word, "one cancel request per submission", full, pass, two_cancellers<verified, false>);
WEFT_RELACY_CASE(inflight_word, "control: cancel as load + store", random, caught, two_cancellers<split_cancel>);
WEFT_RELACY_CASE(inflight_word, "control: cancel as load + store", full, caught, two_cancellers<split_cancel, false>);
