// weft::io operations — caller-owned, intrusive descriptions of asynchronous work.
//
// An operation is a struct the caller allocates (stack, heap, pool, embedded in
// its own object), fills in, and submits to a weft::io::proactor. The proactor
// allocates nothing per operation on the hot path; everything it needs while the
// operation is in flight lives in the operation's private tail.
//
//   weft::io::file_read_op read;
//   read.fd = fd;
//   read.offset = 0;
//   read.buffer = std::span(bytes);
//   read.on_complete = [](void* user, weft::io::operation& op, weft::status s) { ... };
//   WEFT_RETURN_IF_ERROR(proactor.submit(read));
//
// OWNERSHIP (the one rule): the caller owns an operation until submit() returns
// OK; from then on the proactor owns it, until the operation's completion
// callback is called. That callback is the hand-back: during and after it the
// caller owns the operation again (it may free it, reuse it, resubmit it from
// inside the callback). While the proactor owns an operation the caller must
// not change, free or resubmit it; a second submit of an in-flight operation is
// detected (in every build, one CAS) and returns FAILED_PRECONDITION without
// touching the in-flight one. Objects an operation points at (buffers, paths,
// events, notifications, semaphores, spans) must stay alive until its callback.
//
// Every submitted operation gets exactly one callback, on the thread that calls
// proactor::poll(), with the operation's status: OK, CANCELLED (cancel(), a
// failed or cancelled linked predecessor, proactor destruction), or an error that
// names the operation and the bad value (an invalid fd, a failed semaphore, ...).
// A submit() that returns an error has taken nothing: no callback follows.
//
// Linked sequences: set op_flag::linked on every operation of a batch except the
// last; each starts only after its predecessor completed OK (a short read that
// reached end-of-file is OK). If a predecessor fails or is cancelled, every later
// operation of the sequence completes CANCELLED. Callbacks of a sequence run in
// sequence order. A batch whose last operation is linked is rejected.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>

#include "weft/base/status.hpp"
#include "weft/deadline.hpp"
#include "weft/inflight_word.hpp"
#include "weft/io/semaphore.hpp"
#include "weft/mpsc_slist.hpp"

namespace weft::io {

class event;
class notification;
class operation;

namespace detail {
class core;
struct op_access;

// A cancel request's link on the poll thread's cancel list (an operation may be
// on the submission list and the cancel list at once, so it needs two links).
struct cancel_link : slist_node<cancel_link> {
  operation* op = nullptr;
};

// The proactor's private tail of every operation. Written by the submitting
// thread before publication and by the poll thread after; never by the caller.
struct op_internal {
  inflight_word<> ownership;         // IDLE (caller) / IN_FLIGHT (proactor) + cancel request
  cancel_link cancel;                // entry on the cancel list
  operation* chain_next = nullptr;   // the linked successor, if any
  operation* local_next = nullptr;   // poll-thread FIFOs (ready, overflow, waiter lists)
  operation* live_prev = nullptr;    // the poll thread's list of every op it holds
  operation* live_next = nullptr;
  std::uint32_t core_flags = 0;      // poll-thread bookkeeping (see core.cpp)
  std::uint64_t progress = 0;        // bytes transferred so far (continued transfers)
  void* tracker = nullptr;           // semaphore-wait tracker / worker job
  status result;                     // the final status while a completion waits to be delivered
  alignas(8) unsigned char backend_scratch[32] = {};  // per-backend (io_uring timespec, heap index, ...)
};
}  // namespace detail

enum class op_type : std::uint8_t {
  nop,
  timer,
  event_wait,
  event_signal,
  notification_wait,
  notification_signal,
  file_open,
  file_read,
  file_write,
  file_close,
  semaphore_wait,
  semaphore_signal,
};

// "nop", "timer", ...; "unknown" outside the enum.
const char* to_string(op_type type) noexcept;

namespace op_flag {
inline constexpr std::uint32_t linked = 1u << 0;  // the next operation of the batch starts after this one succeeds
inline constexpr std::uint32_t all = linked;
}  // namespace op_flag

class operation : public slist_node<operation> {
 public:
  // Called once, on the poll thread, when the proactor hands the operation back.
  using callback = void (*)(void* user_data, operation& op, status result);

  callback on_complete = nullptr;  // required
  void* user_data = nullptr;
  std::uint32_t flags = 0;  // op_flag bits

  op_type type() const noexcept { return type_; }
  // A snapshot: true between a successful submit and the start of the callback.
  bool in_flight() const noexcept { return internal_.ownership.in_flight_relaxed(); }

  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;

 protected:
  explicit operation(op_type type) noexcept : type_(type) {}
  ~operation() = default;

 private:
  friend struct detail::op_access;
  op_type type_;
  detail::op_internal internal_;
};

// Completes OK. A measure of the proactor's own overhead.
struct nop_op final : operation {
  nop_op() noexcept : operation(op_type::nop) {}
};

// Completes OK at an absolute CLOCK_MONOTONIC deadline (weft::deadline; a past
// deadline completes at once, an infinite one only by cancel).
struct timer_op final : operation {
  timer_op() noexcept : operation(op_type::timer) {}
  deadline when = deadline::immediate();
};

// Completes when `target` is set, consuming the set (auto-reset: one set wakes
// one wait; sets that nobody consumed yet coalesce).
struct event_wait_op final : operation {
  event_wait_op() noexcept : operation(op_type::event_wait) {}
  event* target = nullptr;
};

// Sets `target` when the operation runs, then completes OK.
struct event_signal_op final : operation {
  event_signal_op() noexcept : operation(op_type::event_signal) {}
  event* target = nullptr;
};

// Completes when `target`'s epoch differs from the token: the epoch at submit,
// or, with use_token, the caller's token from notification::begin_observe()
// (so a signal between the caller's observation and the submit is not lost).
struct notification_wait_op final : operation {
  notification_wait_op() noexcept : operation(op_type::notification_wait) {}
  notification* target = nullptr;
  bool use_token = false;
  std::uint32_t token = 0;
};

// Signals `target` (waking up to wake_count synchronous waiters; every async
// wait on it completes) when the operation runs, then completes OK.
struct notification_signal_op final : operation {
  notification_signal_op() noexcept : operation(op_type::notification_signal) {}
  notification* target = nullptr;
  std::int32_t wake_count = INT32_MAX;
};

namespace open_flag {
inline constexpr std::uint32_t read = 1u << 0;
inline constexpr std::uint32_t write = 1u << 1;
inline constexpr std::uint32_t create = 1u << 2;
inline constexpr std::uint32_t truncate = 1u << 3;
inline constexpr std::uint32_t append = 1u << 4;
inline constexpr std::uint32_t direct = 1u << 5;
inline constexpr std::uint32_t exclusive = 1u << 6;
inline constexpr std::uint32_t all = (1u << 7) - 1;
}  // namespace open_flag

// Opens `path` (relative paths against the current directory; always O_CLOEXEC).
// On OK, `fd` holds the new descriptor, which the caller owns.
struct file_open_op final : operation {
  file_open_op() noexcept : operation(op_type::file_open) {}
  const char* path = nullptr;
  std::uint32_t open_flags = open_flag::read;
  std::uint32_t permissions = 0644;  // with open_flag::create
  int fd = -1;                       // out
};

// pread semantics at `offset`, for the whole buffer: the proactor continues
// short transfers (and splits transfers at max_transfer_bytes, below 2 GiB)
// until the buffer is full, end-of-file, or an error. bytes_read < buffer.size()
// on OK means end-of-file was reached. A zero-length buffer, or an offset +
// length beyond INT64_MAX, is rejected at submit.
struct file_read_op final : operation {
  file_read_op() noexcept : operation(op_type::file_read) {}
  int fd = -1;
  std::uint64_t offset = 0;
  std::span<std::byte> buffer;
  std::size_t bytes_read = 0;  // out
};

// pwrite semantics at `offset`, continued until the whole buffer is written or
// an error (bytes_written says how far it got).
struct file_write_op final : operation {
  file_write_op() noexcept : operation(op_type::file_write) {}
  int fd = -1;
  std::uint64_t offset = 0;
  std::span<const std::byte> buffer;
  std::size_t bytes_written = 0;  // out
};

// Closes `fd` (ownership of the descriptor passes to the proactor at submit).
struct file_close_op final : operation {
  file_close_op() noexcept : operation(op_type::file_close) {}
  int fd = -1;
};

// Completes when every (mode all) or any (mode any) semaphores[i] reaches
// values[i]; with the failure of an involved semaphore if one fails first.
struct semaphore_wait_op final : operation {
  semaphore_wait_op() noexcept : operation(op_type::semaphore_wait) {}
  wait_mode mode = wait_mode::all;
  std::span<semaphore* const> semaphores;
  std::span<const std::uint64_t> values;
  std::size_t satisfied_index = 0;  // out, mode any: which one was reached
};

// Signals semaphores[i] to values[i] in order when the operation runs; the
// first failing signal ends it with that status.
struct semaphore_signal_op final : operation {
  semaphore_signal_op() noexcept : operation(op_type::semaphore_signal) {}
  std::span<semaphore* const> semaphores;
  std::span<const std::uint64_t> values;
};

// Transfers are split at this size (INT32_MAX rounded down to 4 KiB, the
// kernel's per-call maximum), so a length that is a multiple of 4 GiB can never
// truncate to zero.
inline constexpr std::size_t max_transfer_bytes = 0x7FFFF000;

namespace detail {
// The proactor's (and its backends') access to an operation's private tail.
struct op_access {
  static op_internal& internal(operation& op) noexcept { return op.internal_; }
  static const op_internal& internal(const operation& op) noexcept { return op.internal_; }
};
}  // namespace detail

}  // namespace weft::io
