// The io_uring backend of the proactor, through liburing 2.3. What it does and
// what the core does: backend.hpp.
//
// Threads. Every member except wake() runs on the poll thread, and only the
// poll thread touches the ring (SQ, CQ, io_uring_enter), so nothing here is
// locked. wake() (any thread) writes the wake eventfd, which has a POLL_ADD
// armed in the ring: the write completes that poll, which ends a wait().
// This file holds no shared-memory protocol of its own: the ring indexes are
// liburing's (acquire/release on the kernel-shared head and tail), and op
// memory is written by the kernel and read back by the poll thread only.
//
// Setup ladder (io_uring_queue_init_params; only EINVAL moves down a rung):
//   1. SINGLE_ISSUER | DEFER_TASKRUN | R_DISABLED   (Linux 6.1)
//   2. SINGLE_ISSUER | R_DISABLED                   (Linux 6.0)
//   3. no flags
// R_DISABLED defers the single-issuer binding: bind_poll_thread() enables the
// rings (IORING_REGISTER_ENABLE_RINGS, 5.10) on the poll thread, which becomes
// the issuer. Masking single_issuer (or defer_taskrun) in allowed_capabilities
// skips the rungs that request it. Any other errno (EPERM: seccomp or the
// io_uring_disabled sysctl; ENOSYS; ENOMEM) is UNAVAILABLE naming the errno
// and the flags tried, and the factory falls back to epoll.
//
// Kernel requirements: IORING_FEAT_NODROP (5.5) and IORING_FEAT_EXT_ARG (5.11,
// timed waits without a TIMEOUT SQE) are required, so 5.11 is the floor; NOP
// (5.1), TIMEOUT with IORING_TIMEOUT_ABS (5.5), ASYNC_CANCEL (5.5) and POLL_ADD
// (5.1) are then always there. Capabilities:
//   kernel_ring      always
//   single_issuer    the ring took IORING_SETUP_SINGLE_ISSUER (6.0)
//   defer_taskrun    the ring took IORING_SETUP_DEFER_TASKRUN (6.1)
//   kernel_file_io   the probe lists READ, WRITE, OPENAT and CLOSE (5.6)
//   nowait_reads     preadv2(RWF_NOWAIT) works (4.14); the core reads inline
//   multishot_poll   a multishot POLL_ADD on a readable eventfd posts a CQE
//                    with IORING_CQE_F_MORE on a scratch ring (5.13)
//   kernel_links     not offered: the core emulates linked sequences
// each masked by proactor_options::allowed_capabilities.
//
// user_data: an operation's own address; internal SQEs set bit 63, a 7-bit tag
// in bits 56..62 and a 56-bit payload (user addresses fit in 56 bits even with
// LA57 five-level paging):
//
//   63 | 62 ........ 56 | 55 ........................ 0
//    1 | tag (wake,     | payload (the waitable of a
//      |  watch, cancel)|  watch; 0 otherwise)
//
// Transfers. A read/write goes in pieces from op_internal::progress
// (next_chunk: at most max_transfer_bytes each); each CQE advance()s and, if
// bytes are left, issues the next piece under the same user_data, so a short
// transfer or a clamp is continued before complete() is reported. A cancel
// between pieces is remembered in the op's scratch and stops the continuation.
//
// Cancel. An ASYNC_CANCEL (cancel64) SQE on the target's user_data, tagged so
// its own CQE is ignored; the target's CQE (-ECANCELED, or its natural result
// when that won) is the report. The kernel takes SQEs in order, so a cancel
// queued before a resubmission of the same op (same user_data) can only hit
// the old incarnation; a cancel still owed when its target completes is
// dropped for the same reason.
//
// Back-pressure. start() and arm_watch() return false when the SQ is full
// (the core retries after a reap). Work the backend itself owes — a cancel, a
// transfer's next piece, the wake poll's re-arm — first flushes the SQ to the
// kernel to make room, and if even that fails is kept and retried at the next
// reap/wait.
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "file_io.hpp"

namespace weft::io::detail {
namespace {

constexpr std::uint32_t max_queue_entries = 32768;        // the kernel's IORING_MAX_ENTRIES
constexpr int max_overflow_passes = 32;                   // CQ-overflow flushes per reap
constexpr std::int64_t unarmed_wake_wait_ns = 1'000'000;  // wait() bound while the wake poll is not armed

// ---- user_data ----------------------------------------------------------------
constexpr std::uint64_t internal_bit = std::uint64_t{1} << 63;
constexpr int tag_shift = 56;
constexpr std::uint64_t payload_mask = (std::uint64_t{1} << tag_shift) - 1;

enum class internal_tag : std::uint8_t { wake = 1, watch = 2, cancel = 3 };

std::uint64_t internal_data(internal_tag tag, const void* payload) noexcept {
  return internal_bit | (std::uint64_t{static_cast<std::uint8_t>(tag)} << tag_shift) |
         (reinterpret_cast<std::uintptr_t>(payload) & payload_mask);
}
internal_tag tag_of(std::uint64_t data) noexcept { return static_cast<internal_tag>((data >> tag_shift) & 0x7f); }
std::uint64_t op_data(const operation& op) noexcept { return reinterpret_cast<std::uintptr_t>(&op); }

// ---- per-operation state in op_internal::backend_scratch ----------------------
struct op_state {
  __kernel_timespec when;  // a timer's absolute deadline; the kernel reads it at submit
  bool in_kernel;          // an SQE for the op is queued or in flight
  bool cancel_requested;   // stop continuing the transfer
  bool stalled;            // the next piece found no SQE: on stalled_
};
static_assert(sizeof(op_state) <= sizeof(op_internal::backend_scratch));
static_assert(alignof(op_state) <= 8);

op_state& reset_state(operation& op) noexcept { return *new (op_access::internal(op).backend_scratch) op_state{}; }
op_state& state_of(operation& op) noexcept {
  return *std::launder(reinterpret_cast<op_state*>(op_access::internal(op).backend_scratch));
}

__kernel_timespec to_timespec(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  return {ns / 1'000'000'000, ns % 1'000'000'000};
}

std::string setup_flag_names(unsigned flags) {
  if (flags == 0) return "none";
  std::string text;
  auto add = [&](unsigned bit, const char* name) {
    if ((flags & bit) == 0) return;
    if (!text.empty()) text += '|';
    text += name;
  };
  add(IORING_SETUP_SINGLE_ISSUER, "single_issuer");
  add(IORING_SETUP_DEFER_TASKRUN, "defer_taskrun");
  add(IORING_SETUP_R_DISABLED, "r_disabled");
  return text;
}

std::string errno_text(int error_number) {
  const char* text = ::strerrordesc_np(error_number);
  return std::string(text != nullptr ? text : "Unknown error") + " (errno " + std::to_string(error_number) + ")";
}

// Whether a multishot POLL_ADD works (5.13+): on a scratch ring, a readable
// eventfd must post a CQE flagged IORING_CQE_F_MORE (older kernels: EINVAL).
bool multishot_poll_works() {
  io_uring scratch{};
  if (io_uring_queue_init(2, &scratch, 0) < 0) return false;
  bool works = false;
  const int fd = ::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);  // readable at once
  if (fd >= 0) {
    io_uring_sqe* sqe = io_uring_get_sqe(&scratch);
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, 1);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_submit_and_wait(&scratch, 1) >= 0 && io_uring_peek_cqe(&scratch, &cqe) == 0) {
      works = cqe->res > 0 && (cqe->flags & IORING_CQE_F_MORE) != 0;
      io_uring_cqe_seen(&scratch, cqe);
    }
  }
  io_uring_queue_exit(&scratch);  // also ends the armed poll
  if (fd >= 0) ::close(fd);
  return works;
}

// A CQE's fields, copied out so the CQ slot can be released before dispatch.
struct completion {
  std::uint64_t user_data;
  std::int32_t res;
  std::uint32_t flags;
};

class uring_backend final : public backend {
 public:
  uring_backend() = default;
  ~uring_backend() override {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }
  uring_backend(const uring_backend&) = delete;
  uring_backend& operator=(const uring_backend&) = delete;

  status init(const proactor_options& options);

  backend_kind kind() const noexcept override { return backend_kind::io_uring; }
  std::uint32_t capabilities() const noexcept override { return capabilities_; }
  status bind_poll_thread() override;
  bool start(operation& op) override;
  void cancel(operation& op) override;
  bool arm_watch(waitable& w) override;
  void disarm_watch(waitable& w) override;
  result<std::size_t> reap(completion_sink& sink) override;
  status wait(deadline until) override;
  void wake() override;

 private:
  io_uring_sqe* sqe_or_flush();
  status flush(bool get_events);
  bool issue_transfer(operation& op, bool may_flush);
  void request_cancel(std::uint64_t target);
  void forget_cancel(std::uint64_t target);
  void arm_wake();
  void drain_wake_fd();
  void retry_owed();
  std::size_t drain_cq(completion_sink& sink, unsigned limit);
  std::size_t dispatch(completion_sink& sink, const completion& cqe);
  std::size_t on_op_cqe(completion_sink& sink, operation& op, std::int32_t res);
  void finish_locally(operation& op, status result) { local_done_.emplace_back(&op, std::move(result)); }

  io_uring ring_{};
  bool ring_ready_ = false;     // io_uring_queue_init_params succeeded
  bool needs_enable_ = false;   // set up with R_DISABLED
  bool bound_ = false;          // bind_poll_thread() succeeded
  bool wake_armed_ = false;     // a POLL_ADD on wake_fd_ is queued or armed
  bool defer_taskrun_ = false;  // set up with DEFER_TASKRUN
  bool multishot_wake_ = false;
  int wake_fd_ = -1;
  std::uint32_t capabilities_ = 0;
  std::size_t in_kernel_ = 0;  // SQEs issued (ops, watches, cancels; not the wake poll) whose CQE is not reaped
  std::vector<operation*> stalled_;                        // transfers whose next piece found no SQE
  std::vector<std::uint64_t> owed_cancels_;                // cancel targets that found no SQE
  std::vector<std::pair<operation*, status>> local_done_;  // completions made without the kernel
};

status uring_backend::init(const proactor_options& options) {
  if (options.queue_entries == 0 || options.queue_entries > max_queue_entries)
    return errors::invalid_argument("io_uring queue_entries ", options.queue_entries, " is outside [1, ",
                                    max_queue_entries, "]");
  const unsigned entries = std::bit_ceil(options.queue_entries);
  const std::uint32_t allowed = options.allowed_capabilities;

  std::vector<unsigned> ladder;
  if ((allowed & capability::single_issuer) != 0) {
    if ((allowed & capability::defer_taskrun) != 0)
      ladder.push_back(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED);
    ladder.push_back(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED);
  }
  ladder.push_back(0);

  io_uring_params params{};
  std::string tried;
  int error = 0;
  for (const unsigned flags : ladder) {
    params = io_uring_params{};
    params.flags = flags;
    error = -io_uring_queue_init_params(entries, &ring_, &params);
    if (!tried.empty()) tried += ", ";
    tried += setup_flag_names(flags);
    if (error == 0) break;
    if (error != EINVAL) break;
  }
  if (error != 0)
    return errors::unavailable("io_uring setup (", entries, " entries) failed: ", errno_text(error),
                               "; flags tried: ", tried);
  ring_ready_ = true;

  if ((params.features & IORING_FEAT_NODROP) == 0)
    return errors::unavailable("io_uring kernel too old: no IORING_FEAT_NODROP (needs Linux 5.5)");
  if ((params.features & IORING_FEAT_EXT_ARG) == 0)
    return errors::unavailable("io_uring kernel too old: no IORING_FEAT_EXT_ARG (needs Linux 5.11)");
  needs_enable_ = (params.flags & IORING_SETUP_R_DISABLED) != 0;
  defer_taskrun_ = (params.flags & IORING_SETUP_DEFER_TASKRUN) != 0;

  std::uint32_t found = capability::kernel_ring;
  if ((params.flags & IORING_SETUP_SINGLE_ISSUER) != 0) found |= capability::single_issuer;
  if ((params.flags & IORING_SETUP_DEFER_TASKRUN) != 0) found |= capability::defer_taskrun;
  // Registration works here, before the ring is enabled and bound to the issuer.
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
    const bool files =
        io_uring_opcode_supported(probe, IORING_OP_READ) && io_uring_opcode_supported(probe, IORING_OP_WRITE) &&
        io_uring_opcode_supported(probe, IORING_OP_OPENAT) && io_uring_opcode_supported(probe, IORING_OP_CLOSE);
    if (files) found |= capability::kernel_file_io;
    io_uring_free_probe(probe);
  }
  if (nowait_reads_supported()) found |= capability::nowait_reads;
  if (multishot_poll_works()) found |= capability::multishot_poll;
  capabilities_ = found & allowed;
  multishot_wake_ = (capabilities_ & capability::multishot_poll) != 0;

  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return status_from_errno(errno, "io_uring wake eventfd");
  arm_wake();  // queued now, submitted by the first reap or wait
  return status::ok();
}

status uring_backend::bind_poll_thread() {
  if (bound_) return status::ok();
  if (needs_enable_) {
    int error = 0;
    // io_uring_enable_rings() is declared by liburing 2.3 but missing from its
    // shared library's symbol map (fixed in 2.4): the same register call.
    do {
      error = -io_uring_register(static_cast<unsigned>(ring_.ring_fd), IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    } while (error == EINTR);
    if (error != 0) return status_from_errno(error, "io_uring enable rings on the poll thread");
  }
  bound_ = true;
  return status::ok();
}

io_uring_sqe* uring_backend::sqe_or_flush() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr && bound_) {
    static_cast<void>(io_uring_submit(&ring_));  // a failure leaves the SQ full: the caller keeps the work
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

// Submits what is queued; with get_events (always under DEFER_TASKRUN, where
// completions are posted only when the issuer enters the kernel) also runs
// pending task work and flushes overflowed CQEs.
status uring_backend::flush(bool get_events) {
  const bool enter = get_events || defer_taskrun_;
  const int submitted = enter ? io_uring_submit_and_get_events(&ring_) : io_uring_submit(&ring_);
  if (submitted >= 0) return status::ok();
  switch (-submitted) {
    case EINTR:
    case EAGAIN:  // no memory for requests right now: retried next time
    case EBUSY:   // CQ overflow backlog: the drain makes room
    case ETIME:
      return status::ok();
    case EEXIST:
      return errors::failed_precondition("io_uring submit: called from a thread other than the poll thread");
    default:
      return status_from_errno(-submitted, "io_uring submit");
  }
}

bool uring_backend::start(operation& op) {
  switch (op.type()) {
    case op_type::nop: {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) return false;
      reset_state(op).in_kernel = true;
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, op_data(op));
  ++in_kernel_;
      return true;
    }
    case op_type::timer: {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) return false;
      op_state& state = reset_state(op);
      state.in_kernel = true;
      // An infinite deadline converts to the kernel's KTIME_MAX: never expires.
      state.when = to_timespec(static_cast<timer_op&>(op).when.monotonic_ns());
      io_uring_prep_timeout(sqe, &state.when, 0, IORING_TIMEOUT_ABS);
      io_uring_sqe_set_data64(sqe, op_data(op));
  ++in_kernel_;
      return true;
    }
    case op_type::file_open:
    case op_type::file_read:
    case op_type::file_write:
    case op_type::file_close:
      break;
    default:
      reset_state(op);
      finish_locally(op, errors::unimplemented(describe(op), ": not an io_uring backend operation"));
      return true;
  }

  if ((capabilities_ & capability::kernel_file_io) == 0) {
    reset_state(op);
    finish_locally(op, errors::unimplemented(describe(op),
                                             ": file i/o is not a kernel operation on this ring "
                                             "(kernel_file_io is off)"));
    return true;
  }
  if (op.type() == op_type::file_read || op.type() == op_type::file_write) {
    reset_state(op);
    return issue_transfer(op, /*may_flush=*/false);
  }
  if (op.type() == op_type::file_open && static_cast<file_open_op&>(op).path == nullptr) {
    reset_state(op);
    finish_locally(op, errors::invalid_argument(describe(op), ": path is null"));
    return true;
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  reset_state(op).in_kernel = true;
  if (op.type() == op_type::file_open) {
    auto& open = static_cast<file_open_op&>(op);
    const bool create = (open.open_flags & open_flag::create) != 0;
    io_uring_prep_openat(sqe, AT_FDCWD, open.path, posix_open_flags(open.open_flags),
                         create ? static_cast<mode_t>(open.permissions & 07777) : 0);
  } else {
    io_uring_prep_close(sqe, static_cast<file_close_op&>(op).fd);
  }
  io_uring_sqe_set_data64(sqe, op_data(op));
  ++in_kernel_;
  return true;
}

// Issues the piece of a read/write that starts at its progress. False: no SQE
// (nothing changed).
bool uring_backend::issue_transfer(operation& op, bool may_flush) {
  const chunk piece = next_chunk(op);
  if (piece.length == 0) {  // nothing left (an empty buffer): done, out field set
    static_cast<void>(advance(op, 0));
    finish_locally(op, status::ok());
    return true;
  }
  io_uring_sqe* sqe = may_flush ? sqe_or_flush() : io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  const auto length = static_cast<unsigned>(piece.length);  // <= max_transfer_bytes
  if (op.type() == op_type::file_read) {
    io_uring_prep_read(sqe, static_cast<file_read_op&>(op).fd, piece.data, length, piece.offset);
  } else {
    io_uring_prep_write(sqe, static_cast<file_write_op&>(op).fd, piece.data, length, piece.offset);
  }
  io_uring_sqe_set_data64(sqe, op_data(op));
  ++in_kernel_;
  state_of(op).in_kernel = true;
  return true;
}

void uring_backend::cancel(operation& op) {
  op_state& state = state_of(op);
  if (state.cancel_requested) return;
  state.cancel_requested = true;
  if (state.stalled) {  // between two pieces of a transfer: nothing in the kernel to cancel
    state.stalled = false;
    std::erase(stalled_, &op);
    finish_locally(op, status_from_errno(ECANCELED, describe(op)));
    return;
  }
  if (state.in_kernel) request_cancel(op_data(op));
}

void uring_backend::request_cancel(std::uint64_t target) {
  io_uring_sqe* sqe = sqe_or_flush();
  if (sqe == nullptr) {
    owed_cancels_.push_back(target);
    return;
  }
  io_uring_prep_cancel64(sqe, target, 0);
  io_uring_sqe_set_data64(sqe, internal_data(internal_tag::cancel, nullptr));
  ++in_kernel_;
}

// Its target completed: a cancel still owed would hit a later reuse of the
// same user_data (a resubmitted op, a re-armed watch).
void uring_backend::forget_cancel(std::uint64_t target) {
  if (!owed_cancels_.empty()) std::erase(owed_cancels_, target);
}

bool uring_backend::arm_watch(waitable& w) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  io_uring_prep_poll_add(sqe, w.fd(), POLLIN);
  io_uring_sqe_set_data64(sqe, internal_data(internal_tag::watch, &w));
  ++in_kernel_;
  return true;
}

void uring_backend::disarm_watch(waitable& w) { request_cancel(internal_data(internal_tag::watch, &w)); }

void uring_backend::arm_wake() {
  io_uring_sqe* sqe = sqe_or_flush();
  wake_armed_ = sqe != nullptr;
  if (sqe == nullptr) return;  // retried by the next reap/wait
  if (multishot_wake_) {
    io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
  } else {
    io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
  }
  io_uring_sqe_set_data64(sqe, internal_data(internal_tag::wake, nullptr));
}

void uring_backend::drain_wake_fd() {
  std::uint64_t count = 0;
  while (::read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

void uring_backend::wake() {
  // EAGAIN means the counter is saturated: the fd is readable already.
  const std::uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void uring_backend::retry_owed() {
  if (!wake_armed_) arm_wake();
  if (!stalled_.empty()) {
    std::vector<operation*> waiting;
    waiting.swap(stalled_);
    for (operation* op : waiting) {
      if (issue_transfer(*op, /*may_flush=*/true)) {
        state_of(*op).stalled = false;
      } else {
        stalled_.push_back(op);
      }
    }
  }
  if (!owed_cancels_.empty()) {
    std::vector<std::uint64_t> targets;
    targets.swap(owed_cancels_);
    for (std::uint64_t target : targets) request_cancel(target);
  }
}

result<std::size_t> uring_backend::reap(completion_sink& sink) {
  if (!bound_) return errors::failed_precondition("io_uring reap before bind_poll_thread");
  std::size_t delivered = 0;
  if (!local_done_.empty()) {
    std::vector<std::pair<operation*, status>> done;
    done.swap(local_done_);  // completions that start more work land in the next reap
    for (auto& [op, result] : done) sink.complete(*op, std::move(result));
    delivered += done.size();
  }
  retry_owed();
  // Enter the kernel only when something of ours is there or queued: with
  // nothing in flight but the wake poll (whose completions matter only to a
  // sleeping poll thread, and wait() always enters), a poll that ran
  // everything inline (nowait reads, software ops) costs no system call.
  if (in_kernel_ != 0 || io_uring_sq_ready(&ring_) != 0) WEFT_RETURN_IF_ERROR(flush(false));
  // A snapshot of what is ready: completions of work that dispatch issues
  // (continued transfers, resubmissions) wait for the next reap.
  delivered += drain_cq(sink, io_uring_cq_ready(&ring_));
  for (int pass = 0; pass < max_overflow_passes && io_uring_cq_has_overflow(&ring_); ++pass) {
    WEFT_RETURN_IF_ERROR(flush(true));  // NODROP kept them: move them onto the CQ
    delivered += drain_cq(sink, io_uring_cq_ready(&ring_));
  }
  return delivered;
}

std::size_t uring_backend::drain_cq(completion_sink& sink, unsigned limit) {
  constexpr unsigned batch_size = 64;
  std::size_t delivered = 0;
  while (limit > 0) {
    completion batch[batch_size];
    unsigned count = 0;
    unsigned head = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      if (count == std::min(limit, batch_size)) break;
      batch[count++] = {cqe->user_data, cqe->res, cqe->flags};
    }
    if (count == 0) break;
    io_uring_cq_advance(&ring_, count);
    limit -= count;
    for (unsigned i = 0; i < count; ++i) delivered += dispatch(sink, batch[i]);
  }
  return delivered;
}

std::size_t uring_backend::dispatch(completion_sink& sink, const completion& cqe) {
  if ((cqe.user_data & internal_bit) == 0 || tag_of(cqe.user_data) != internal_tag::wake) --in_kernel_;
  if ((cqe.user_data & internal_bit) == 0)
    return on_op_cqe(sink, *reinterpret_cast<operation*>(static_cast<std::uintptr_t>(cqe.user_data)), cqe.res);
  switch (tag_of(cqe.user_data)) {
    case internal_tag::wake:
      drain_wake_fd();
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) arm_wake();  // one-shot, or the kernel ended the multishot
      return 0;
    case internal_tag::watch: {
      forget_cancel(cqe.user_data);
      auto& w = *reinterpret_cast<waitable*>(static_cast<std::uintptr_t>(cqe.user_data & payload_mask));
      if (cqe.res >= 0) {
        sink.watch_fired(w, status::ok());
      } else {
        sink.watch_fired(w, status_from_errno(-cqe.res, "watch on fd " + std::to_string(w.fd())));
      }
      return 1;
    }
    case internal_tag::cancel:  // the cancelled SQE reports the outcome
      return 0;
  }
  return 0;
}

std::size_t uring_backend::on_op_cqe(completion_sink& sink, operation& op, std::int32_t res) {
  op_state& state = state_of(op);
  state.in_kernel = false;
  forget_cancel(op_data(op));
  const int error = res < 0 ? -res : 0;
  status outcome;
  switch (op.type()) {
    case op_type::nop:
      if (error != 0) outcome = status_from_errno(error, describe(op));
      break;
    case op_type::timer:
      if (error != 0 && error != ETIME) outcome = status_from_errno(error, describe(op));  // ETIME: it expired
      break;
    case op_type::file_open:
      if (error != 0) {
        outcome = status_from_errno(error, describe(op));
      } else {
        static_cast<file_open_op&>(op).fd = res;
      }
      break;
    case op_type::file_close:
      if (error != 0) outcome = status_from_errno(error, describe(op));
      break;
    case op_type::file_read:
    case op_type::file_write: {
      if (error == EINTR) {  // the piece was interrupted: retry it unless cancelled
        if (state.cancel_requested) {
          outcome = status_from_errno(ECANCELED, describe(op));
          break;
        }
        if (!issue_transfer(op, /*may_flush=*/true)) {
          state.stalled = true;
          stalled_.push_back(&op);
        }
        return 0;
      }
      if (error != 0) {
        outcome = status_from_errno(error, describe(op));
        break;
      }
      result<transfer_state> step = advance(op, static_cast<std::size_t>(res));
      if (!step.ok()) {
        outcome = step.status();
      } else if (*step == transfer_state::incomplete) {
        if (state.cancel_requested) {
          outcome = status_from_errno(ECANCELED, describe(op));
        } else {
          if (!issue_transfer(op, /*may_flush=*/true)) {
            state.stalled = true;
            stalled_.push_back(&op);
          }
          return 0;
        }
      }
      break;
    }
    default:
      outcome = errors::internal(describe(op), ": unexpected io_uring completion");
      break;
  }
  sink.complete(op, std::move(outcome));
  return 1;
}

status uring_backend::wait(deadline until) {
  if (!bound_) return errors::failed_precondition("io_uring wait before bind_poll_thread");
  retry_owed();
  if (!local_done_.empty() || io_uring_cq_ready(&ring_) > 0 || until.expired()) return flush(false);
  std::int64_t left = until.remaining_ns();
  if (!wake_armed_) left = std::min(left, unarmed_wake_wait_ns);  // a wake() would go unseen
  __kernel_timespec timeout = to_timespec(left);
  io_uring_cqe* cqe = nullptr;
  // Submits what is queued and waits for one CQE (running deferred task work);
  // the relative timeout rides in IORING_ENTER_EXT_ARG.
  const int result =
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, left == deadline::infinite_ns ? nullptr : &timeout, nullptr);
  if (result >= 0) return status::ok();
  switch (-result) {
    case ETIME:
    case EINTR:
    case EAGAIN:
    case EBUSY:
      return status::ok();  // the caller loops
    case EEXIST:
      return errors::failed_precondition("io_uring wait: called from a thread other than the poll thread");
    default:
      return status_from_errno(-result, "io_uring wait");
  }
}

}  // namespace

result<std::unique_ptr<backend>> create_uring_backend(const proactor_options& options) {
  auto uring = std::make_unique<uring_backend>();
  WEFT_RETURN_IF_ERROR(uring->init(options));
  return std::unique_ptr<backend>(std::move(uring));
}

}  // namespace weft::io::detail
