// The proactor core: see core.hpp for the threads, lists and ownership protocol.
#include "core.hpp"

#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <limits>
#include <mutex>
#include <new>
#include <ostream>
#include <utility>

#include "file_io.hpp"
#include "file_workers.hpp"
#include "weft/io/event.hpp"
#include "weft/io/notification.hpp"
#include "weft/io/semaphore.hpp"

namespace weft::io::detail {

namespace {

// op_internal::core_flags (poll thread only; zero while the op is idle).
enum : std::uint32_t {
  cf_arrived = 1u << 0,        // drained from the submission list (with its whole sequence)
  cf_started = 1u << 1,        // held by the backend, the workers, a tracker or a waiter list
  cf_cancel_seen = 1u << 2,    // its cancel request was popped: hand back with finish()
  cf_cancel_wanted = 1u << 3,  // cancel it (user request popped, or shutdown)
  cf_done = 1u << 4,           // finished while a cancel request was pending: parked until the pop
  cf_overflow = 1u << 5,       // waiting in overflow_ for backend room
  cf_successor = 1u << 6,      // waits for its linked predecessor
  cf_workers = 1u << 7,        // running on the file workers
  cf_observing = 1u << 8,      // a notification wait holding an observation
  cf_cancel_issued = 1u << 9,  // backend::cancel was called
  cf_queued = 1u << 10,        // in ready_
};

constexpr std::size_t max_semaphores_per_op = 1024;

op_internal& in(operation& op) noexcept { return op_access::internal(op); }

// The calling thread's id, cached: poll() and submit() compare it with the
// poll owner's on every call, and gettid() is a system call.
thread_local std::int64_t cached_tid = 0;
std::int64_t current_tid() noexcept {
  if (cached_tid == 0) cached_tid = static_cast<std::int64_t>(gettid());
  return cached_tid;
}

// "operation 2 (timer)" in messages, formatted only when a message is built:
// validating a good operation allocates nothing.
struct op_ref {
  std::size_t index;
  op_type type;
};
std::ostream& operator<<(std::ostream& out, const op_ref& r) {
  return out << "operation " << r.index << " (" << to_string(r.type) << ")";
}

status validate_semaphores(const op_ref& label, std::span<semaphore* const> sems,
                           std::span<const std::uint64_t> values) {
  if (sems.empty()) return errors::invalid_argument(label, ": semaphores is empty");
  if (sems.size() > max_semaphores_per_op)
    return errors::out_of_range(label, ": ", sems.size(), " semaphores exceed the limit of ", max_semaphores_per_op);
  if (values.size() != sems.size())
    return errors::invalid_argument(label, ": ", sems.size(), " semaphores but ", values.size(), " values");
  for (std::size_t i = 0; i < sems.size(); ++i) {
    if (sems[i] == nullptr) return errors::invalid_argument(label, ": semaphores[", i, "] is null");
  }
  return status::ok();
}

template <class Op>
status validate_transfer(const op_ref& label, const Op& op, std::size_t length, const void* data) {
  if (op.fd < 0) return errors::invalid_argument(label, ": fd ", op.fd, " is not a file descriptor");
  if (length == 0) return errors::invalid_argument(label, ": zero-length transfer at fd ", op.fd);
  if (data == nullptr) return errors::invalid_argument(label, ": buffer is null with length ", length);
  constexpr std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (op.offset > limit || length > limit - op.offset)
    return errors::out_of_range(label, ": offset ", op.offset, " + length ", length, " exceeds ", limit);
  return status::ok();
}

status validate(std::size_t index, const operation& op, bool last_in_batch) {
  const op_ref label{index, op.type()};
  if (op.on_complete == nullptr) return errors::invalid_argument(label, ": on_complete is null");
  if ((op.flags & ~op_flag::all) != 0)
    return errors::invalid_argument(label, ": unknown flags 0x", std::hex, op.flags & ~op_flag::all);
  if ((op.flags & op_flag::linked) != 0 && last_in_batch)
    return errors::invalid_argument(label, ": linked, but it is the last operation of the batch");
  switch (op.type()) {
    case op_type::nop:
    case op_type::timer:
      return status::ok();
    case op_type::event_wait:
      if (static_cast<const event_wait_op&>(op).target == nullptr) return errors::invalid_argument(label, ": target is null");
      return status::ok();
    case op_type::event_signal:
      if (static_cast<const event_signal_op&>(op).target == nullptr)
        return errors::invalid_argument(label, ": target is null");
      return status::ok();
    case op_type::notification_wait:
      if (static_cast<const notification_wait_op&>(op).target == nullptr)
        return errors::invalid_argument(label, ": target is null");
      return status::ok();
    case op_type::notification_signal: {
      const auto& s = static_cast<const notification_signal_op&>(op);
      if (s.target == nullptr) return errors::invalid_argument(label, ": target is null");
      if (s.wake_count < 1) return errors::invalid_argument(label, ": wake_count ", s.wake_count, " is below 1");
      return status::ok();
    }
    case op_type::file_open: {
      const auto& o = static_cast<const file_open_op&>(op);
      if (o.path == nullptr) return errors::invalid_argument(label, ": path is null");
      if ((o.open_flags & ~open_flag::all) != 0)
        return errors::invalid_argument(label, ": unknown open_flags 0x", std::hex, o.open_flags);
      if ((o.open_flags & (open_flag::read | open_flag::write)) == 0)
        return errors::invalid_argument(label, ": open_flags has neither read nor write");
      if (o.permissions > 07777) return errors::invalid_argument(label, ": permissions 0", std::oct, o.permissions, " exceed 07777");
      return status::ok();
    }
    case op_type::file_read: {
      const auto& r = static_cast<const file_read_op&>(op);
      return validate_transfer(label, r, r.buffer.size(), r.buffer.data());
    }
    case op_type::file_write: {
      const auto& w = static_cast<const file_write_op&>(op);
      return validate_transfer(label, w, w.buffer.size(), w.buffer.data());
    }
    case op_type::file_close: {
      const auto& c = static_cast<const file_close_op&>(op);
      if (c.fd < 0) return errors::invalid_argument(label, ": fd ", c.fd, " is not a file descriptor");
      return status::ok();
    }
    case op_type::semaphore_wait: {
      const auto& w = static_cast<const semaphore_wait_op&>(op);
      if (w.mode != wait_mode::all && w.mode != wait_mode::any)
        return errors::invalid_argument(label, ": wait mode ", static_cast<int>(w.mode), " is neither all nor any");
      return validate_semaphores(label, w.semaphores, w.values);
    }
    case op_type::semaphore_signal: {
      const auto& s = static_cast<const semaphore_signal_op&>(op);
      return validate_semaphores(label, s.semaphores, s.values);
    }
  }
  return errors::invalid_argument(label, ": unknown operation type ", static_cast<int>(op.type()));
}

waitable& wait_target(operation& op) {
  if (op.type() == op_type::event_wait) return *static_cast<event_wait_op&>(op).target;
  return *static_cast<notification_wait_op&>(op).target;
}

}  // namespace

// ---------------------------------------------------------------------------
// op_fifo

void op_fifo::push_back(operation& op) noexcept {
  in(op).local_next = nullptr;
  if (tail_ == nullptr) {
    head_ = tail_ = &op;
  } else {
    in(*tail_).local_next = &op;
    tail_ = &op;
  }
}

void op_fifo::push_front(operation& op) noexcept {
  in(op).local_next = head_;
  head_ = &op;
  if (tail_ == nullptr) tail_ = &op;
}

operation* op_fifo::pop_front() noexcept {
  operation* op = head_;
  if (op == nullptr) return nullptr;
  head_ = in(*op).local_next;
  if (head_ == nullptr) tail_ = nullptr;
  in(*op).local_next = nullptr;
  return op;
}

// ---------------------------------------------------------------------------
// Semaphore waits: one heap tracker per wait, shared with the timepoint
// callbacks (any thread) under a mutex. Whoever sets `resolved` first owns the
// completion: a timepoint callback posts it through remote_; a cancel on the
// poll thread finishes it directly. The tracker is freed by whichever of the
// poll thread (after the op's completion, `abandoned`) and the last running
// callback comes second.

struct semaphore_wait_tracker {
  core* owner = nullptr;
  semaphore_wait_op* op = nullptr;
  std::mutex mutex;
  std::size_t count = 0;
  std::size_t registered = 0;   // timepoints [0, registered) were handed to acquire_timepoint
  std::size_t outstanding = 0;  // registered, callback not yet run, not cancelled
  std::size_t remaining = 0;    // mode all: semaphores not yet reached
  bool resolved = false;
  bool abandoned = false;
  status outcome;
  std::unique_ptr<semaphore::timepoint[]> timepoints;

  static void on_timepoint(void* user_data, semaphore::timepoint& tp, status result) {
    auto* t = static_cast<semaphore_wait_tracker*>(user_data);
    const std::size_t index = static_cast<std::size_t>(&tp - t->timepoints.get());
    bool post_now = false;
    bool free_now = false;
    status posted;
    {
      std::lock_guard<std::mutex> lock(t->mutex);
      --t->outstanding;
      if (!t->resolved) {
        if (!result.is_ok()) {
          t->resolved = post_now = true;
          posted = annotate(result, "semaphore_wait: semaphores[" + std::to_string(index) + "]");
        } else if (t->op->mode == wait_mode::any) {
          t->resolved = post_now = true;
          t->op->satisfied_index = index;
        } else if (--t->remaining == 0) {
          t->resolved = post_now = true;
        }
      }
      free_now = t->abandoned && t->outstanding == 0;
    }
    if (post_now) t->owner->post(*t->op, std::move(posted));
    if (free_now) delete t;
  }

  // Poll thread, once resolved: withdraw what is still registered, then let go.
  void retire() {
    for (std::size_t i = 0; i < registered; ++i) {
      if (op->semaphores[i]->cancel_timepoint(timepoints[i])) {
        std::lock_guard<std::mutex> lock(mutex);
        --outstanding;
      }
    }
    bool free_now = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      abandoned = true;
      free_now = outstanding == 0;
    }
    if (free_now) delete this;
  }
};

// ---------------------------------------------------------------------------
// Creation and destruction

result<std::unique_ptr<core>> core::create(const proactor_options& options) {
  if (options.queue_entries < 1 || options.queue_entries > 32768)
    return errors::invalid_argument("proactor options: queue_entries ", options.queue_entries,
                                    " is outside [1, 32768]");
  if (options.file_workers < 1 || options.file_workers > 64)
    return errors::invalid_argument("proactor options: file_workers ", options.file_workers, " is outside [1, 64]");
  if ((options.allowed_capabilities & ~capability::all) != 0)
    return errors::invalid_argument("proactor options: allowed_capabilities has unknown bits 0x", std::hex,
                                    options.allowed_capabilities & ~capability::all);
  if (options.backend != backend_kind::automatic && options.backend != backend_kind::io_uring &&
      options.backend != backend_kind::epoll)
    return errors::invalid_argument("proactor options: backend ", static_cast<int>(options.backend), " is unknown");

  std::unique_ptr<core> c(new (std::nothrow) core());
  if (!c) return errors::resource_exhausted("proactor: out of memory");

  if (options.backend != backend_kind::epoll) {
    result<std::unique_ptr<backend>> uring = create_uring_backend(options);
    if (uring.ok()) {
      c->backend_ = std::move(uring).value();
    } else if (options.backend == backend_kind::io_uring || uring.status().code() != status_code::unavailable) {
      return uring.status();
    }
  }
  if (!c->backend_) {
    WEFT_ASSIGN_OR_RETURN(c->backend_, create_epoll_backend(options));
  }
  c->kind_ = c->backend_->kind();
  c->capabilities_ = c->backend_->capabilities() & options.allowed_capabilities;
  if ((c->capabilities_ & capability::kernel_file_io) == 0) {
    WEFT_ASSIGN_OR_RETURN(c->workers_, file_workers::create(options.file_workers, *c, options.name));
  }
  return c;
}

core::~core() {
  if (backend_) shutdown();
  workers_.reset();
  backend_.reset();
}

// Cancels and delivers everything still in flight. The destructor runs on the
// poll thread (or with no poll running) and no submit races with it.
void core::shutdown() {
  shutting_down_ = true;
  for (int rounds = 0;; ++rounds) {
    drain_lists();
    for (operation* op = live_head_; op != nullptr;) {
      operation* next = in(*op).live_next;
      op_internal& i = in(*op);
      if ((i.core_flags & cf_cancel_wanted) == 0) {
        i.core_flags |= cf_cancel_wanted;
        if ((i.core_flags & cf_started) != 0) cancel_started(*op);
      }
      op = next;
    }
    start_deferred();
    retry_overflow();
    result<std::size_t> reaped = backend_->reap(*this);
    static_cast<void>(reaped);
    deliver_ready();
    if (!arm_retry_.empty()) {
      for (waitable* w : arm_retry_) w->release();
      arm_retry_.clear();
    }
    if (delivered_count_ == submitted_count_.load() + direct_submitted_ && live_head_ == nullptr && armed_watches_ == 0)
      break;
    static_cast<void>(backend_->wait(deadline::after(std::int64_t{1'000'000})));
    bell_.finish_sleep();
  }
}

// ---------------------------------------------------------------------------
// Any thread

status core::submit(std::span<operation* const> batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i] == nullptr) return errors::invalid_argument("operation ", i, " is null");
    WEFT_RETURN_IF_ERROR(validate(i, *batch[i], i + 1 == batch.size()));
  }
  // Take ownership of every op, or of none.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!in(*batch[i]).ownership.try_begin()) {
      for (std::size_t j = 0; j < i; ++j) roll_back(*batch[j]);
      return errors::failed_precondition(op_ref{i, batch[i]->type()},
                                         " is already in flight (an operation may be submitted again only after its "
                                         "callback)");
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    operation& op = *batch[i];
    op_internal& i_ = in(op);
    i_.chain_next = (op.flags & op_flag::linked) != 0 ? batch[i + 1] : nullptr;
    i_.progress = 0;
    i_.tracker = nullptr;
    i_.result = status::ok();
    switch (op.type()) {
      case op_type::file_open: static_cast<file_open_op&>(op).fd = -1; break;
      case op_type::file_read: static_cast<file_read_op&>(op).bytes_read = 0; break;
      case op_type::file_write: static_cast<file_write_op&>(op).bytes_written = 0; break;
      case op_type::semaphore_wait: static_cast<semaphore_wait_op&>(op).satisfied_index = 0; break;
      case op_type::notification_wait: {
        // The proactor's own observation, held until the wait completes: a
        // signal from now on moves the epoch. The token compared is the
        // caller's (use_token) or the epoch now.
        auto& w = static_cast<notification_wait_op&>(op);
        const std::uint32_t now = w.target->begin_observe();
        i_.progress = w.use_token ? w.token : now;
        break;
      }
      default: break;
    }
  }
  // On the poll thread itself (a callback, or code between polls) the
  // operations arrive at once: no list, no doorbell. owner_tid_ holds this
  // thread's id only if this thread stored it (its first poll), so bound_ and
  // the poll-thread state below are this thread's own.
  if (owner_tid_.load() == current_tid() && bound_ && !shutting_down_) {
    direct_submitted_ += batch.size();
    if (!submitted_.empty()) drain_submitted();  // keep this thread's earlier submits first
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const bool is_head = i == 0 || (batch[i - 1]->flags & op_flag::linked) == 0;
      if (is_head) arrive(*batch[i]);
    }
    return status::ok();
  }
  submitted_count_.fetch_add(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const bool is_head = i == 0 || (batch[i - 1]->flags & op_flag::linked) == 0;
    if (is_head) submitted_.push(batch[i]);
  }
  if (!batch.empty() && bell_.ring()) backend_->wake();
  return status::ok();
}

// Gives back an op whose submit failed. If another thread cancelled it in the
// moment it was ours, the op is (or will be) on cancels_, so it cannot simply be
// returned: it goes to the poll thread marked, and completes CANCELLED there
// with a callback (the one case where a failed submit is followed by one).
void core::roll_back(operation& op) {
  op_internal& i = in(op);
  if (i.ownership.try_finish()) return;
  i.chain_next = nullptr;
  i.result = status::ok();
  i.tracker = &rolled_back_marker_;
  submitted_count_.fetch_add(1);
  submitted_.push(&op);
}

status core::cancel(operation& op) {
  op_internal& i = in(op);
  switch (i.ownership.request_cancel()) {
    case weft::cancel_request::not_in_flight:
      return errors::not_found("cancel: the ", to_string(op.type()), " operation is not in flight");
    case weft::cancel_request::already_requested:
      return status::ok();
    case weft::cancel_request::requested:
      break;
  }
  i.cancel.op = &op;
  cancels_.push(&i.cancel);
  if (bell_.ring()) backend_->wake();
  return status::ok();
}

void core::post(operation& op, status result) {
  in(op).result = std::move(result);
  remote_.push(&op);
  if (bell_.ring()) backend_->wake();
}

void core::wake() {
  wake_requested_.store(1);
  if (bell_.ring()) backend_->wake();
}

// ---------------------------------------------------------------------------
// Poll thread

status core::check_owner() {
  const std::int64_t self = current_tid();
  std::int64_t owner = owner_tid_.load();
  if (owner == 0) {
    owner_tid_.store(self);
    owner = self;
  }
  if (owner != self)
    return errors::failed_precondition("poll: called from thread ", self, ", but the proactor's poll thread is ", owner);
  if (!bound_) {
    WEFT_RETURN_IF_ERROR(backend_->bind_poll_thread());
    bound_ = true;
  }
  return status::ok();
}

result<std::size_t> core::poll(deadline until) {
  WEFT_RETURN_IF_ERROR(check_owner());
  inline_reads_this_poll_ = 0;
  std::size_t delivered = 0;
  bool drain = true;
  for (;;) {
    if (bell_.take() || drain) drain_lists();
    drain = false;
    if (!deferred_.empty()) start_deferred();
    retry_overflow();
    ring_starts_since_enter_ = 0;  // reap enters the kernel with whatever is queued
    WEFT_ASSIGN_OR_RETURN(std::size_t reaped, backend_->reap(*this));
    static_cast<void>(reaped);
    delivered += deliver_ready();
    if (delivered > 0) return delivered;
    if (wake_requested_.load() != 0 && wake_requested_.exchange(0) != 0) return std::size_t{0};
    if (until.expired()) return std::size_t{0};
    if (!bell_.prepare_sleep()) continue;  // a ring arrived: take() sees it
    ring_starts_since_enter_ = 0;
    status waited = backend_->wait(until);
    drain = bell_.finish_sleep();
    WEFT_RETURN_IF_ERROR(std::move(waited));
  }
}

// Called after an acquire on the doorbell (take / finish_sleep) that read the
// ring of every push it must see, so the relaxed empty() checks cannot miss
// those pushes; they save three RMWs per poll when a list is empty.
void core::drain_submitted() {
  for (operation* op = submitted_.flush_fifo(); op != nullptr;) {
    operation* next = mpsc_slist<operation>::next(op);
    arrive(*op);
    op = next;
  }
}

void core::drain_lists() {
  if (!submitted_.empty()) drain_submitted();
  if (!cancels_.empty()) {
    for (cancel_link* link = cancels_.flush_fifo(); link != nullptr;) {
      cancel_link* next = mpsc_slist<cancel_link>::next(link);
      handle_cancel(*link->op);
      link = next;
    }
  }
  if (remote_.empty()) return;
  for (operation* op = remote_.flush_fifo(); op != nullptr;) {
    operation* next = mpsc_slist<operation>::next(op);
    op_internal& i = in(*op);
    if (op->type() == op_type::semaphore_wait) {
      auto* tracker = static_cast<semaphore_wait_tracker*>(i.tracker);
      i.tracker = nullptr;
      i.core_flags &= ~cf_started;
      tracker->retire();
    } else {
      i.core_flags &= ~(cf_started | cf_workers);
    }
    finish(*op, std::move(i.result));
    op = next;
  }
}

void core::link_live(operation& op) {
  op_internal& i = in(op);
  i.live_prev = nullptr;
  i.live_next = live_head_;
  if (live_head_ != nullptr) in(*live_head_).live_prev = &op;
  live_head_ = &op;
}

void core::unlink_live(operation& op) {
  op_internal& i = in(op);
  if (i.live_prev != nullptr) {
    in(*i.live_prev).live_next = i.live_next;
  } else {
    live_head_ = i.live_next;
  }
  if (i.live_next != nullptr) in(*i.live_next).live_prev = i.live_prev;
  i.live_prev = i.live_next = nullptr;
}

void core::arrive(operation& head) {
  for (operation* op = &head; op != nullptr; op = in(*op).chain_next) {
    op_internal& i = in(*op);
    i.core_flags |= cf_arrived;
    if (op != &head) i.core_flags |= cf_successor;
    if ((i.core_flags & cf_cancel_seen) != 0 || shutting_down_ || i.tracker == &rolled_back_marker_)
      i.core_flags |= cf_cancel_wanted;
    if (i.tracker == &rolled_back_marker_) i.tracker = nullptr;
    link_live(*op);
  }
  start(head);
}

void core::start(operation& op) {
  op_internal& i = in(op);
  i.core_flags &= ~cf_successor;
  if ((i.core_flags & cf_cancel_wanted) != 0 || shutting_down_) {
    finish(op, errors::cancelled(to_string(op.type()), ": cancelled before it started"));
    return;
  }
  switch (op.type()) {
    case op_type::nop:
      if ((capabilities_ & capability::kernel_ring) != 0) {
        start_backend(op);
      } else {
        finish(op, status::ok());
      }
      return;
    case op_type::timer:
      start_backend(op);
      return;
    case op_type::event_signal:
      finish(op, static_cast<event_signal_op&>(op).target->set());
      return;
    case op_type::notification_signal: {
      auto& s = static_cast<notification_signal_op&>(op);
      s.target->signal(s.wake_count);
      finish(op, status::ok());
      return;
    }
    case op_type::semaphore_signal: {
      auto& s = static_cast<semaphore_signal_op&>(op);
      status result;
      for (std::size_t k = 0; k < s.semaphores.size() && result.is_ok(); ++k) {
        result = s.semaphores[k]->signal(s.values[k]);
        if (!result.is_ok()) result = annotate(result, "semaphore_signal: semaphores[" + std::to_string(k) + "]");
      }
      finish(op, std::move(result));
      return;
    }
    case op_type::semaphore_wait:
      start_semaphore_wait(op);
      return;
    case op_type::event_wait:
    case op_type::notification_wait:
      start_wait(op);
      return;
    case op_type::file_open:
    case op_type::file_read:
    case op_type::file_write:
    case op_type::file_close:
      start_file(op);
      return;
  }
  finish(op, errors::internal("proactor: no start path for ", to_string(op.type())));
}

void core::start_backend(operation& op) {
  op_internal& i = in(op);
  if (overflow_.empty() && backend_->start(op)) {
    i.core_flags |= cf_started;
    ++ring_starts_since_enter_;
    return;
  }
  i.core_flags |= cf_overflow;
  overflow_.push_back(op);
}

void core::retry_overflow() {
  while (operation* op = overflow_.pop_front()) {
    op_internal& i = in(*op);
    if ((i.core_flags & cf_cancel_wanted) != 0) {
      i.core_flags &= ~cf_overflow;
      finish(*op, errors::cancelled(to_string(op->type()), ": cancelled before it started"));
      continue;
    }
    if (!backend_->start(*op)) {
      overflow_.push_front(*op);
      break;
    }
    i.core_flags = (i.core_flags & ~cf_overflow) | cf_started;
  }
  // Waitables whose watch found no room.
  if (arm_retry_.empty()) return;
  std::vector<waitable*> retry;
  retry.swap(arm_retry_);
  for (waitable* w : retry) {
    if (!w->watch_armed_ && w->waiters_head_ != nullptr) {
      arm(*w);
    }
    w->release();  // the reference the retry entry held
  }
}

void core::start_file(operation& op) {
  op_internal& i = in(op);
  // The read path chooses its method (bench/RESULTS.md has the measurements):
  // a read of cached pages copied inline (preadv2 RWF_NOWAIT) costs one system
  // call; on the ring it costs a share of one io_uring_enter plus the kernel's
  // per-request work, which is cheaper only when several requests share that
  // enter. So on a ring a read runs inline when it would enter the kernel
  // alone: nothing was queued on the ring since the last enter and no other
  // completion waits for its callback (whose resubmits would share the enter).
  // Without a kernel file path (epoll, masked rings) inline always wins over
  // the worker pool. Uncached data (EAGAIN) continues on the ring/workers.
  const bool kernel_files = (capabilities_ & capability::kernel_file_io) != 0;
  const bool alone = ring_starts_since_enter_ == 0 && ready_.empty();
  if (op.type() == op_type::file_read && (capabilities_ & capability::nowait_reads) != 0 &&
      (!kernel_files || alone)) {
    if (inline_reads_this_poll_ == max_inline_reads_per_poll) {
      deferred_.push_back(op);  // arrived, not started: a cancel is seen by start_deferred()
      return;
    }
    ++inline_reads_this_poll_;
    status failure;
    switch (try_nowait_read(static_cast<file_read_op&>(op), failure)) {
      case nowait_outcome::finished:
        finish(op, status::ok());
        return;
      case nowait_outcome::failed:
        finish(op, std::move(failure));
        return;
      case nowait_outcome::would_block:
        break;
    }
  }
  if (kernel_files) {
    start_backend(op);
    return;
  }
  i.core_flags |= cf_started | cf_workers;
  workers_->start(op);
}

void core::start_deferred() {
  op_fifo waiting;
  std::swap(waiting, deferred_);
  while (operation* op = waiting.pop_front()) {
    if ((in(*op).core_flags & cf_cancel_wanted) != 0 || shutting_down_) {
      finish(*op, errors::cancelled(to_string(op->type()), ": cancelled before it started"));
      continue;
    }
    start_file(*op);
  }
}

void core::start_semaphore_wait(operation& op) {
  auto& w = static_cast<semaphore_wait_op&>(op);
  op_internal& i = in(op);
  auto* t = new (std::nothrow) semaphore_wait_tracker();
  if (t != nullptr) t->timepoints.reset(new (std::nothrow) semaphore::timepoint[w.semaphores.size()]);
  if (t == nullptr || !t->timepoints) {
    delete t;
    finish(op, errors::resource_exhausted("semaphore_wait: out of memory for ", w.semaphores.size(), " timepoints"));
    return;
  }
  t->owner = this;
  t->op = &w;
  t->count = w.semaphores.size();
  t->remaining = t->count;
  i.tracker = t;
  i.core_flags |= cf_started;
  for (std::size_t k = 0; k < t->count; ++k) {
    {
      std::lock_guard<std::mutex> lock(t->mutex);
      if (t->resolved) break;
      ++t->outstanding;
      t->registered = k + 1;
    }
    semaphore::timepoint& tp = t->timepoints[k];
    tp.fn = &semaphore_wait_tracker::on_timepoint;
    tp.user_data = t;
    tp.minimum_value = w.values[k];
    w.semaphores[k]->acquire_timepoint(tp);  // may resolve (and post) right here
  }
}

void core::start_wait(operation& op) {
  op_internal& i = in(op);
  waitable& w = wait_target(op);
  if (w.watcher_ != nullptr && w.watcher_ != this) {
    if (op.type() == op_type::notification_wait) static_cast<notification_wait_op&>(op).target->end_observe();
    finish(op, errors::failed_precondition(to_string(op.type()), ": the target is already waited on by another proactor"));
    return;
  }
  if (op.type() == op_type::notification_wait) i.core_flags |= cf_observing;
  i.core_flags |= cf_started;
  i.local_next = nullptr;
  if (w.waiters_tail_ == nullptr) {
    w.waiters_head_ = w.waiters_tail_ = &op;
  } else {
    in(*w.waiters_tail_).local_next = &op;
    w.waiters_tail_ = &op;
  }
  w.watcher_ = this;
  serve_waiters(w);  // already signaled: complete without a watch
  settle(w);
}

// After the waiter list changed: a watch while someone waits, none otherwise
// (an armed watch with no waiter is withdrawn, so nothing stays in the kernel).
void core::settle(waitable& w) {
  if (w.waiters_head_ != nullptr) {
    if (!w.watch_armed_ && !shutting_down_) arm(w);
    return;
  }
  if (w.watch_armed_) {
    if (!w.disarm_requested_) {
      w.disarm_requested_ = true;
      backend_->disarm_watch(w);
    }
    return;
  }
  w.watcher_ = nullptr;
}

void core::arm(waitable& w) {
  w.retain();
  if (backend_->arm_watch(w)) {
    w.watch_armed_ = true;  // the reference is released in watch_fired
    ++armed_watches_;
    return;
  }
  arm_retry_.push_back(&w);  // keeps the reference until retried
}

// Completes the waiters the object's current state satisfies.
void core::serve_waiters(waitable& w) {
  operation* head = w.waiters_head_;
  if (head == nullptr) return;
  if (head->type() == op_type::event_wait) {
    auto* ev = static_cast<event_wait_op&>(*head).target;
    while (w.waiters_head_ != nullptr && ev->try_consume()) {
      operation* op = w.waiters_head_;
      w.waiters_head_ = in(*op).local_next;
      if (w.waiters_head_ == nullptr) w.waiters_tail_ = nullptr;
      in(*op).core_flags &= ~cf_started;
      finish(*op, status::ok());
    }
    return;
  }
  auto* n = static_cast<notification_wait_op&>(*head).target;
  n->drain();
  const std::uint32_t epoch = n->epoch();
  operation* prev = nullptr;
  for (operation* op = w.waiters_head_; op != nullptr;) {
    operation* next = in(*op).local_next;
    if (static_cast<std::uint32_t>(in(*op).progress) != epoch) {
      if (prev == nullptr) {
        w.waiters_head_ = next;
      } else {
        in(*prev).local_next = next;
      }
      if (w.waiters_tail_ == op) w.waiters_tail_ = prev;
      in(*op).core_flags &= ~(cf_started | cf_observing);
      n->end_observe();
      finish(*op, status::ok());
    } else {
      prev = op;
    }
    op = next;
  }
}

void core::watch_fired(waitable& w, status result) {
  w.watch_armed_ = false;
  w.disarm_requested_ = false;
  --armed_watches_;
  if (!result.is_ok() && result.code() != status_code::cancelled) {
    // The kernel refused the watch: the waiters cannot be served.
    while (operation* op = w.waiters_head_) {
      w.waiters_head_ = in(*op).local_next;
      if (op->type() == op_type::notification_wait) static_cast<notification_wait_op&>(*op).target->end_observe();
      in(*op).core_flags &= ~(cf_started | cf_observing);
      finish(*op, result);
    }
    w.waiters_tail_ = nullptr;
  } else {
    serve_waiters(w);
  }
  settle(w);
  w.release();  // the armed watch's reference; may delete w
}

void core::handle_cancel(operation& op) {
  op_internal& i = in(op);
  i.core_flags |= cf_cancel_seen | cf_cancel_wanted;
  if ((i.core_flags & cf_done) != 0) {
    // It finished while the request was on its way: deliver the natural result.
    i.core_flags = (i.core_flags & ~cf_done) | cf_queued;
    ready_.push_back(op);
    return;
  }
  if ((i.core_flags & cf_arrived) == 0) return;  // arrive() sees cf_cancel_seen
  if ((i.core_flags & cf_started) != 0) cancel_started(op);
  // Otherwise: queued (finishing anyway), in overflow_ or deferred_, or waiting
  // for its predecessor — start()/retry_overflow()/start_deferred() see
  // cf_cancel_wanted.
}

void core::cancel_started(operation& op) {
  op_internal& i = in(op);
  switch (op.type()) {
    case op_type::semaphore_wait: {
      auto* t = static_cast<semaphore_wait_tracker*>(i.tracker);
      {
        std::lock_guard<std::mutex> lock(t->mutex);
        if (t->resolved) return;  // its post is on the way
        t->resolved = true;
      }
      i.tracker = nullptr;
      i.core_flags &= ~cf_started;
      t->retire();
      finish(op, errors::cancelled("semaphore_wait: cancelled"));
      return;
    }
    case op_type::event_wait:
    case op_type::notification_wait: {
      waitable& w = wait_target(op);
      operation* prev = nullptr;
      for (operation* cur = w.waiters_head_; cur != nullptr; prev = cur, cur = in(*cur).local_next) {
        if (cur != &op) continue;
        if (prev == nullptr) {
          w.waiters_head_ = i.local_next;
        } else {
          in(*prev).local_next = i.local_next;
        }
        if (w.waiters_tail_ == &op) w.waiters_tail_ = prev;
        break;
      }
      if ((i.core_flags & cf_observing) != 0) static_cast<notification_wait_op&>(op).target->end_observe();
      i.core_flags &= ~(cf_started | cf_observing);
      finish(op, errors::cancelled(to_string(op.type()), ": cancelled"));
      settle(w);
      return;
    }
    default:
      break;
  }
  if ((i.core_flags & cf_workers) != 0) {
    if (workers_->cancel(op)) {
      i.core_flags &= ~(cf_started | cf_workers);
      finish(op, errors::cancelled(to_string(op.type()), ": cancelled before a worker took it"));
    }
    return;  // a worker has it: its post follows
  }
  if ((i.core_flags & cf_cancel_issued) == 0) {
    i.core_flags |= cf_cancel_issued;
    backend_->cancel(op);
  }
}

void core::complete(operation& op, status result) {
  in(op).core_flags &= ~(cf_started | cf_cancel_issued);
  finish(op, std::move(result));
}

void core::finish(operation& op, status result) {
  op_internal& i = in(op);
  i.result = std::move(result);
  i.core_flags |= cf_queued;
  ready_.push_back(op);
}

std::size_t core::deliver_ready() {
  std::size_t delivered = 0;
  while (operation* op = ready_.pop_front()) {
    op_internal& i = in(*op);
    status result = std::move(i.result);
    operation* next = i.chain_next;
    const operation::callback fn = op->on_complete;
    void* const user_data = op->user_data;
    const std::uint32_t flags = i.core_flags & ~cf_queued;
    const op_type type = op->type();

    unlink_live(*op);
    i.core_flags = 0;
    i.chain_next = nullptr;
    bool handed_back;
    if ((flags & cf_cancel_seen) != 0) {
      i.ownership.finish();
      handed_back = true;
    } else {
      handed_back = i.ownership.try_finish();
    }
    if (!handed_back) {
      // A cancel request is on its way to cancels_: keep the op until it is popped.
      i.core_flags = flags | cf_done;
      i.chain_next = next;
      i.result = std::move(result);
      link_live(*op);
      continue;
    }
    // From here on the caller owns *op.
    ++delivered_count_;
    ++delivered;
    const bool succeeded = result.is_ok();
    const status_code code = result.code();
    fn(user_data, *op, std::move(result));
    if (next != nullptr) {
      if (succeeded) {
        start(*next);
      } else {
        finish(*next, errors::cancelled(to_string(next->type()), ": its linked predecessor (", to_string(type),
                                        ") ended with ", to_string(code)));
      }
    }
  }
  return delivered;
}

}  // namespace weft::io::detail
