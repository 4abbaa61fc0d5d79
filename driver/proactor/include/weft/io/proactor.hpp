// weft::io::proactor — completion-based asynchronous I/O and scheduling: io_uring
// through liburing, or epoll with a small file-I/O worker pool.
//
//   WEFT_ASSIGN_OR_RETURN(auto proactor, weft::io::proactor::create({}));
//   weft::io::timer_op tick;
//   tick.when = weft::deadline::after(std::chrono::milliseconds(5));
//   tick.on_complete = [](void*, weft::io::operation&, weft::status s) { ... };
//   WEFT_RETURN_IF_ERROR(proactor->submit(tick));        // any thread
//   while (running) proactor->poll(weft::deadline::infinite());  // the one poll thread
//
// Threads:
//   - submit(), cancel(), wake(): any thread, concurrently. submit() hands the
//     operations to the poll thread through a lock-free list and wakes it only
//     if it may be asleep (weft::doorbell): a submit costs two atomic RMWs, plus
//     one eventfd write when the poll thread sleeps in the kernel.
//   - poll(): one thread, the poll owner — the first thread that calls it.
//     Callbacks run there. It is the only thread that enters io_uring (the ring
//     is created with SINGLE_ISSUER | DEFER_TASKRUN when the kernel takes them,
//     and enabled by the first poll, which the kernel binds as the issuer).
//     poll() from another thread returns FAILED_PRECONDITION naming both threads.
//   - callbacks may submit, cancel, wake; they must not call poll().
//
// Operations and ownership: weft/io/operation.hpp (the proactor owns an operation
// from a successful submit until its callback; exactly one callback each).
//
// poll(until): starts what was submitted, delivers every completion that is
// ready, and if there was none blocks until one arrives, wake() is called, or
// `until` passes. Returns the number of callbacks it ran (0: the deadline passed
// or wake() was called). Errors are misuse (wrong thread) or a failing kernel
// interface, never an operation's own error (that goes to its callback).
//
// Back-pressure: submit() never fails because the kernel queue is full; the
// poll thread holds what does not fit and issues it as completions make room.
//
// cancel(op): OK if op was in flight (its callback follows with CANCELLED, or
// with its natural result when that won the race); NOT_FOUND if op is not in
// flight (already handed back, never submitted) — nothing is touched then. The
// caller must not free op concurrently with cancel(op).
//
// Destruction: from the poll thread (or with no poll running). Every operation
// still in flight is cancelled and its callback runs (CANCELLED) before the
// destructor returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "weft/base/result.hpp"
#include "weft/deadline.hpp"
#include "weft/io/event.hpp"
#include "weft/io/notification.hpp"
#include "weft/io/operation.hpp"

namespace weft::io {

enum class backend_kind : std::uint8_t {
  automatic,  // io_uring; epoll if io_uring is unavailable (EPERM, ENOSYS, ENOMEM, too old)
  io_uring,
  epoll,
};
const char* to_string(backend_kind kind) noexcept;

// What the running backend does natively. Each bit can be masked off with
// proactor_options::allowed_capabilities; the proactor then takes the portable
// path for it (the conformance suite runs every test both ways).
namespace capability {
inline constexpr std::uint32_t kernel_ring = 1u << 0;     // completions come from io_uring
inline constexpr std::uint32_t single_issuer = 1u << 1;   // the ring took IORING_SETUP_SINGLE_ISSUER
inline constexpr std::uint32_t defer_taskrun = 1u << 2;   // ... and IORING_SETUP_DEFER_TASKRUN
inline constexpr std::uint32_t kernel_file_io = 1u << 3;  // read/write/open/close are io_uring ops (else workers)
inline constexpr std::uint32_t kernel_links = 1u << 4;    // IOSQE_IO_LINK chains: no backend offers it yet
                                                          // (the poll thread chains sequences)
inline constexpr std::uint32_t nowait_reads = 1u << 5;    // page-cached reads run inline (preadv2 RWF_NOWAIT)
inline constexpr std::uint32_t multishot_poll = 1u << 6;  // the wake eventfd stays armed (multishot POLL_ADD)
inline constexpr std::uint32_t all = (1u << 7) - 1;
}  // namespace capability

// "kernel_ring|kernel_file_io|..." for messages and test names.
std::string capabilities_to_string(std::uint32_t capabilities);

struct proactor_options {
  backend_kind backend = backend_kind::automatic;
  // io_uring submission queue entries (rounded up to a power of two), and the
  // epoll backend's event batch. [1, 32768].
  std::uint32_t queue_entries = 256;
  std::uint32_t allowed_capabilities = capability::all;
  // Threads for file I/O when it does not go through io_uring. [1, 64].
  std::uint32_t file_workers = 2;
  std::string name = "proactor";
};

class proactor {
 public:
  static result<std::unique_ptr<proactor>> create(const proactor_options& options = {});
  ~proactor();
  proactor(const proactor&) = delete;
  proactor& operator=(const proactor&) = delete;

  // Any thread. One operation, or a batch (linked sequences: op_flag::linked).
  // Validation covers the whole batch before anything is taken: on error
  // nothing was submitted and no callback follows. Errors: INVALID_ARGUMENT /
  // OUT_OF_RANGE naming the operation (index, type) and the bad field;
  // FAILED_PRECONDITION for an operation already in flight.
  status submit(operation& op);
  status submit(std::span<operation* const> batch);

  // The poll owner only; see above.
  result<std::size_t> poll(deadline until);

  // Any thread: makes a poll() in progress return (0 if nothing completed), or
  // the next one return at once. Coalesces.
  void wake();

  // Any thread; see above.
  status cancel(operation& op);

  backend_kind backend() const noexcept;
  std::uint32_t capabilities() const noexcept;  // after allowed_capabilities

 private:
  explicit proactor(std::unique_ptr<detail::core> core) noexcept;
  std::unique_ptr<detail::core> core_;
};

}  // namespace weft::io
