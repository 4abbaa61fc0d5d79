// weft::io::detail::file_workers — file I/O on a few threads, for a backend
// without kernel_file_io (epoll, or io_uring with that capability masked).
// Internal to driver/proactor.
//
//   WEFT_ASSIGN_OR_RETURN(auto workers, file_workers::create(2, remote, "proactor"));
//   workers->start(read_op);               // poll thread: queued, returns at once
//   ...                                    // a worker runs run_blocking(read_op), then
//                                          // remote.post(read_op, status) on its thread
//   if (workers->cancel(read_op)) finish(read_op, CANCELLED);  // still queued: removed
//                                          // else a worker has it and its post follows
//
// Guarantees: every op given to start() leaves through exactly one of: a
// worker's post (its run_blocking result), cancel() returning true (the caller
// completes it), or the destructor's post with CANCELLED (it was still
// queued). Ops start in FIFO order; up to `count` run at once. A running op is
// not interrupted: cancel() of it returns false and the op completes with its
// natural result.
//
// Threads: start() and cancel() from the poll thread (any one thread at a
// time would do; the queue is under a mutex). Posts come from the worker
// threads, "<name>-io<N>", never under the queue lock. The destructor (the
// owner, once no start()/cancel() can race it) stops the workers, posts the
// ops still queued CANCELLED from its own thread, then joins the workers (an op
// a worker is running finishes and is posted before the join returns).
//
// Synchronization: a std::mutex guards the queue and the stop flag; an idle
// worker sleeps on a std::condition_variable. The lock is held for a few
// pointer writes around a blocking system call that costs microseconds to
// milliseconds, so a lock-free queue would buy nothing here. The queue is
// intrusive through op_internal::local_next (the op is on no poll-thread list
// while a worker pool owns it): start() never allocates.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend.hpp"
#include "weft/base/result.hpp"
#include "weft/base/thread.hpp"
#include "weft/io/operation.hpp"

namespace weft::io::detail {

class file_workers {
 public:
  // count in [1, 64]; threads named "<name>-io<N>" (cut to 15 bytes).
  static result<std::unique_ptr<file_workers>> create(std::uint32_t count, remote_sink& sink, std::string name);
  ~file_workers();
  file_workers(const file_workers&) = delete;
  file_workers& operator=(const file_workers&) = delete;

  // Queues op (file_open/read/write/close) for a worker.
  void start(operation& op);
  // True: op was still queued and is removed; the caller completes it.
  // False: a worker has it (or it is not here); its post follows.
  bool cancel(operation& op);

 private:
  explicit file_workers(remote_sink& sink) noexcept : sink_(sink) {}
  void run();

  remote_sink& sink_;
  std::mutex mutex_;  // guards head_, tail_, stopping_ (see the header comment)
  std::condition_variable work_available_;
  operation* head_ = nullptr;  // FIFO through op_internal::local_next
  operation* tail_ = nullptr;
  bool stopping_ = false;
  std::vector<thread> threads_;
};

}  // namespace weft::io::detail
