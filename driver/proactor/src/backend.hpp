// weft::io::detail::backend — what the proactor core needs from an event loop
// (io_uring or epoll). Internal to driver/proactor.
//
// Division of work:
//   core (core.cpp)  — submit/validation, the submission/cancel/remote lists and
//                      the doorbell, ownership words, linked sequences, software
//                      operations (event/notification/semaphore signal, nop when
//                      the backend has no kernel ring), semaphore waits, event and
//                      notification waits (through watches), inline nowait reads,
//                      delivering callbacks in order.
//   backend          — nop (kernel), timers, file I/O when kernel_file_io, one-shot
//                      readable watches on eventfds, blocking for events, the
//                      wake syscall.
//   file_workers     — file I/O on threads when the backend has no kernel_file_io.
//
// Every member except wake() is called from the poll thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "weft/base/result.hpp"
#include "weft/deadline.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/proactor.hpp"
#include "weft/io/waitable.hpp"

namespace weft::io::detail {

// Implemented by the core; the backend reports to it from reap() (poll thread).
class completion_sink {
 public:
  // A started operation finished. Exactly once per successful start(). For file
  // transfers, after the whole transfer (the backend continues short transfers
  // itself from op_internal::progress); the byte count is in the op's out field.
  virtual void complete(operation& op, status result) = 0;
  // An armed watch fired: OK = the fd is readable; CANCELLED after disarm_watch;
  // another error if the kernel refused the watch. Exactly once per arm.
  virtual void watch_fired(waitable& w, status result) = 0;

 protected:
  ~completion_sink() = default;
};

// Implemented by the core; thread-safe: workers and semaphore timepoints post
// completions of operations they finished (a lock-free list + doorbell + wake).
class remote_sink {
 public:
  virtual void post(operation& op, status result) = 0;

 protected:
  ~remote_sink() = default;
};

class backend {
 public:
  virtual ~backend() = default;

  virtual backend_kind kind() const noexcept = 0;
  // After the options' allowed_capabilities mask.
  virtual std::uint32_t capabilities() const noexcept = 0;

  // The first poll() calls this on the poll thread (io_uring: enable the ring,
  // which binds the SINGLE_ISSUER submitter).
  virtual status bind_poll_thread() = 0;

  // Starts nop, timer, file_open/read/write/close (the last four only with
  // kernel_file_io). False: no room now (queue full) — the core keeps the
  // operation and retries after the next reap. A transfer starts at
  // op_internal::progress bytes into the buffer.
  virtual bool start(operation& op) = 0;

  // A started operation should complete soon: CANCELLED, or its natural result
  // if that wins. Its complete() still comes from reap().
  virtual void cancel(operation& op) = 0;

  // One-shot "readable" watch on w.fd(); false: no room now.
  virtual bool arm_watch(waitable& w) = 0;
  // An armed watch should fire soon (CANCELLED unless it already fired).
  virtual void disarm_watch(waitable& w) = 0;

  // Issues what was started, then delivers every completion that is ready
  // without blocking. Returns how many complete()/watch_fired() calls it made.
  virtual result<std::size_t> reap(completion_sink& sink) = 0;

  // Blocks until reap() would find something, wake() is called, or `until`
  // passes (whichever first; spurious returns are allowed).
  virtual status wait(deadline until) = 0;

  // Any thread: the system call that makes wait() return.
  virtual void wake() = 0;
};

// Unavailable (status code unavailable) when the kernel refuses io_uring
// (EPERM, ENOSYS, ENOMEM, missing features); other codes for real failures.
result<std::unique_ptr<backend>> create_uring_backend(const proactor_options& options);
result<std::unique_ptr<backend>> create_epoll_backend(const proactor_options& options);

// Maps an errno from a file or ring call to a status: EBADF -> invalid_argument,
// ENOENT -> not_found, EACCES/EPERM -> permission_denied, ENOSPC/ENOMEM/EMFILE ->
// resource_exhausted, ECANCELED -> cancelled, EINVAL -> invalid_argument, ...
// The message is "<what>: <strerror> (errno N)".
status status_from_errno(int error_number, const std::string& what);

}  // namespace weft::io::detail
