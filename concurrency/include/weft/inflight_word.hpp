// weft::inflight_word — who owns an asynchronous operation, and a cancel
// request delivered at most once per submission.
//
// A caller-owned operation struct goes back and forth: submit hands it to the
// owner (the proactor's poll thread), the final completion hands it back, and
// the caller may then free or reuse it. cancel() may come from any thread at
// any time. The word says whether the op is in flight and whether a cancel was
// requested, so that
//   - a double submit is detected (exactly one of two racing submits wins);
//   - a cancel of an op that is not in flight fails cleanly and touches
//     nothing else;
//   - exactly one canceller per submission is told to put the op on the
//     owner's cancel list;
//   - the owner never hands the op back while it is, or is about to be, on
//     that list: it keeps the op until it pops it.
//
//   submitter (any thread)              owner (poll thread)
//   if (!op.word.try_begin())           on natural completion:
//     return already_in_flight;           write op's results;
//   submit_list.push(&op);                if (op.word.try_finish()) hand_back(op);
//                                         else keep op (a cancel is coming);
//   canceller (any thread)              on popping op from the cancel list:
//   switch (op.word.request_cancel()) {   cancel the I/O if it still runs; once it
//     case requested:                     has completed: op.word.finish(); hand_back(op);
//       cancel_list.push(&op); ...
//     case already_requested: ...       // not_in_flight: nothing to cancel
//   }
//
// The cancel list needs its own link in the op: a cancel may be pushed while
// the op still sits on the submit list.
//
// Guarantees:
//   - try_begin() succeeds only from IDLE; while IN_FLIGHT only the owner
//     returns the word to IDLE;
//   - per submission, request_cancel() returns `requested` at most once, and
//     try_finish() fails exactly when it did;
//   - hand-back is the last touch: after the try_finish()/finish() step the
//     owner does not touch the op, so the caller may free it;
//   - visibility: everything the owner wrote to the op (results, and its own
//     cancel-list bookkeeping) before try_finish()/finish() happens-before a
//     later try_begin() and a later request_cancel() that returns `requested`.
//
// Who may call what: try_begin() from the submitting thread (any thread);
// request_cancel() from any thread while the op is alive (the caller's
// lifetime rule: not after it freed the op); try_finish() and finish() only
// from the owner. Progress: every call is one CAS, a store, or a short CAS loop
// that retries only when another thread changed the word (lock-free).
//
// One 32-bit word:
//
//   [31 ............ 2][   1   ][    0     ]
//    unused             CANCEL   IN_FLIGHT       IDLE = 0
//
//   IDLE --try_begin--> IN_FLIGHT --try_finish--> IDLE
//                           | request_cancel           ^
//                           v                          | finish (owner popped the op)
//                     IN_FLIGHT|CANCEL ----------------+
//
// Memory orders (no seq_cst: every decision is one RMW on one word):
//   - try_finish() is release on success and finish() is a release store:
//     they publish the completion (results, the owner's cancel-list pop) to
//     whoever acquires the word next. A submit after a hand-back was noticed
//     "through any means" still goes through try_begin()'s RMW, so
//   - try_begin() is acquire: a resubmitter sees the previous completion's
//     writes even if it learned of the hand-back only from the word;
//   - request_cancel()'s CAS is acquire: the word's modification order runs
//     finish (release) -> try_begin (an RMW, continuing the release sequence)
//     -> request, so the canceller's write of the op's cancel link comes after
//     the owner's last pop wrote it in the previous submission. It needs no
//     release: what it publishes (the op on the list) goes through the list.
//   - finish() may be a plain store: while IN_FLIGHT|CANCEL nobody else
//     writes the word (request_cancel only reads CANCEL, try_begin fails), so
//     it cuts no one's release sequence.
//   - the not_in_flight / already_requested answers come from a relaxed load
//     and carry no ordering: learn about a completion from the completion.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of inflight_word, for negative controls.
enum class inflight_word_site {
  begin_claim,       // try_begin()'s CAS: acquire
  begin_rmw,         // try_begin() is one CAS (split_rmw: a load, then a store)
  cancel_claim,      // request_cancel()'s CAS: acquire
  cancel_rmw,        // request_cancel() is one CAS (split_rmw: a load, then a store)
  complete_publish,  // try_finish()'s CAS to IDLE: release
  complete_recheck,  // try_finish() fails when CANCEL is set (drop: hands back regardless)
  finish_publish,    // finish()'s store of IDLE: release
};

enum class cancel_request { not_in_flight, already_requested, requested };

template <class S = sync::os, class P = verified>
class inflight_word {
 public:
  using site = inflight_word_site;
  static constexpr std::uint32_t idle = 0;
  static constexpr std::uint32_t in_flight_bit = 1;
  static constexpr std::uint32_t cancel_bit = 2;

  inflight_word() : word_(idle) {}
  inflight_word(const inflight_word&) = delete;
  inflight_word& operator=(const inflight_word&) = delete;

  // The submitting thread. True: IDLE -> IN_FLIGHT, the op now belongs to the
  // owner. False: it is already in flight (a double submit); nothing changed.
  bool try_begin() {
    std::uint32_t expected = idle;
    if (!P::keep(site::begin_rmw)) {  // negative control only
      if (word_.load(std::memory_order_acquire) != idle) return false;
      word_.store(in_flight_bit, std::memory_order_relaxed);
      return true;
    }
    return word_.compare_exchange_strong(
        expected, in_flight_bit, P::order(site::begin_claim, std::memory_order_acquire), std::memory_order_relaxed);
  }

  // Any thread, while the op is alive. `requested`: the caller, and no one
  // else for this submission, must push the op on the cancel list.
  cancel_request request_cancel() {
    std::uint32_t observed = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((observed & in_flight_bit) == 0) return cancel_request::not_in_flight;
      if ((observed & cancel_bit) != 0) return cancel_request::already_requested;
      if (!P::keep(site::cancel_rmw)) {  // negative control only
        word_.store(observed | cancel_bit, std::memory_order_relaxed);
        return cancel_request::requested;
      }
      if (word_.compare_exchange_weak(observed, observed | cancel_bit,
                                      P::order(site::cancel_claim, std::memory_order_acquire),
                                      std::memory_order_relaxed)) {
        return cancel_request::requested;
      }
    }
  }

  // Owner only, on natural completion, after writing the results. True: the
  // op is IDLE and handed back — do not touch it again. False: a cancel was
  // requested; the op is (or will be) on the cancel list: keep it, pop it,
  // then call finish().
  bool try_finish() {
    if (!P::keep(site::complete_recheck)) {  // negative control only: ignores CANCEL
      word_.store(idle, P::order(site::complete_publish, std::memory_order_release));
      return true;
    }
    std::uint32_t expected = in_flight_bit;
    if (word_.compare_exchange_strong(expected, idle, P::order(site::complete_publish, std::memory_order_release),
                                      std::memory_order_relaxed)) {
      return true;
    }
    S::check(expected == (in_flight_bit | cancel_bit), "inflight_word::try_finish: the op is not in flight");
    return false;
  }

  // Owner only, after it popped the op from the cancel list and the operation
  // has completed. The op is IDLE and handed back: the last touch.
  void finish() {
    S::check(word_.load(std::memory_order_relaxed) == (in_flight_bit | cancel_bit),
             "inflight_word::finish: no cancel was requested (use try_finish)");
    word_.store(idle, P::order(site::finish_publish, std::memory_order_release));
  }

  // Snapshots for diagnostics and tests; stale as soon as they return.
  bool cancel_requested_relaxed() const { return (word_.load(std::memory_order_relaxed) & cancel_bit) != 0; }
  bool in_flight_relaxed() const { return (word_.load(std::memory_order_relaxed) & in_flight_bit) != 0; }

 private:
  typename S::template atomic<std::uint32_t> word_;
};

}  // namespace weft
