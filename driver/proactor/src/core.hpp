// weft::io::detail::core — the backend-independent half of the proactor.
//
// Threads and lists:
//
//   submit() (any thread)          cancel() (any thread)       workers, semaphore
//        |  inflight_word::           |  inflight_word::          timepoints (any thread)
//        |  try_begin per op          |  request_cancel           |  post(op, status)
//        v                            v                           v
//   submitted_ (mpsc_slist)      cancels_ (mpsc_slist)       remote_ (mpsc_slist)
//        \____________________________|___________________________/
//                                     |  each push then bell_.ring(); a ring that
//                                     |  finds the poll thread asleep makes the
//                                     v  wake syscall (backend::wake)
//                               poll thread: take -> drain the three lists ->
//                               start ops -> backend reap -> deliver callbacks
//
// Everything below "poll thread" in the class is touched by the poll thread
// only (the op_internal fields core_flags, chain_*, live_*, local_next too).
//
// Ownership and cancel (weft::inflight_word in each operation): submit
// try_begin()s every op of a batch (rolling back on a double submit), then
// writes the op's private tail and pushes the sequence heads. The hand-back
// before a callback is try_finish(); it fails when a cancel request is pending,
// i.e. the op is on, or about to be pushed on, cancels_: the op is then parked
// (cf_done) until the poll thread pops that request, and handed back with
// finish(). So the caller never gets an op back that a list still references.
// core_flags is written only by the poll thread and is zero whenever the op is
// idle, so a cancel popped before the op itself arrived can mark it safely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend.hpp"
#include "weft/base/result.hpp"
#include "weft/deadline.hpp"
#include "weft/doorbell.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/proactor.hpp"
#include "weft/mpsc_slist.hpp"
#include "weft/relaxed_cell.hpp"

namespace weft::io::detail {

class file_workers;
struct semaphore_wait_tracker;

// Poll-thread FIFO of operations through op_internal::local_next.
class op_fifo {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push_back(operation& op) noexcept;
  void push_front(operation& op) noexcept;
  operation* pop_front() noexcept;

 private:
  operation* head_ = nullptr;
  operation* tail_ = nullptr;
};

class core final : public completion_sink, public remote_sink {
 public:
  static result<std::unique_ptr<core>> create(const proactor_options& options);
  ~core();

  status submit(std::span<operation* const> batch);
  result<std::size_t> poll(deadline until);
  void wake();
  status cancel(operation& op);

  backend_kind kind() const noexcept { return kind_; }
  std::uint32_t capabilities() const noexcept { return capabilities_; }

  // completion_sink (poll thread, from backend::reap).
  void complete(operation& op, status result) override;
  void watch_fired(waitable& w, status result) override;
  // remote_sink (any thread).
  void post(operation& op, status result) override;

  // Semaphore-wait trackers resolve through post(); see core.cpp.
  friend struct semaphore_wait_tracker;

 private:
  core() = default;

  // Poll thread.
  void roll_back(operation& op);
  status check_owner();
  void drain_lists();
  void drain_submitted();
  void arrive(operation& head);
  void start(operation& op);
  void start_backend(operation& op);
  void start_file(operation& op);
  void start_deferred();
  void start_semaphore_wait(operation& op);
  void start_wait(operation& op);
  void arm(waitable& w);
  void settle(waitable& w);
  void serve_waiters(waitable& w);
  void handle_cancel(operation& op);
  void cancel_started(operation& op);
  void finish(operation& op, status result);  // the op's work is over: queue its callback
  std::size_t deliver_ready();
  void retry_overflow();
  void link_live(operation& op);
  void unlink_live(operation& op);
  void shutdown();

  backend_kind kind_ = backend_kind::epoll;
  std::uint32_t capabilities_ = 0;
  std::unique_ptr<backend> backend_;
  std::unique_ptr<file_workers> workers_;

  // Any thread.
  mpsc_slist<operation> submitted_;
  mpsc_slist<cancel_link> cancels_;
  mpsc_slist<operation> remote_;
  doorbell<> bell_;
  relaxed_cell<std::uint32_t> wake_requested_{0};
  relaxed_cell<std::int64_t> owner_tid_{0};
  relaxed_cell<std::uint64_t> submitted_count_{0};

  // Poll thread.
  bool bound_ = false;
  bool shutting_down_ = false;
  std::uint64_t delivered_count_ = 0;
  std::uint64_t direct_submitted_ = 0;  // submits made on the poll thread itself
  // The read method (start_file): ring starts since the backend last entered
  // the kernel, and inline reads since poll() began.
  std::uint32_t ring_starts_since_enter_ = 0;
  std::uint32_t inline_reads_this_poll_ = 0;
  // Inline reads one poll() runs; a read that would run inline past them
  // waits in deferred_ for the next poll(). So a caller that resubmits reads
  // from its callbacks cannot keep one poll() from returning, and timers and
  // other completions are reaped between the runs.
  static constexpr std::uint32_t max_inline_reads_per_poll = 16;
  std::size_t armed_watches_ = 0;
  op_fifo ready_;     // finished, callback pending (in order)
  op_fifo overflow_;  // backend had no room; retried after each reap
  op_fifo deferred_;  // reads past max_inline_reads_per_poll; started by the next poll()
  std::vector<waitable*> arm_retry_;  // waitables whose arm_watch found no room
  operation* live_head_ = nullptr;    // every arrived op not yet handed back
  char rolled_back_marker_ = 0;       // op_internal::tracker of an op whose failed submit raced a cancel
};

}  // namespace weft::io::detail
