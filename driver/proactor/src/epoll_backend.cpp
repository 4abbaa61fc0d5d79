// The epoll backend: detail::backend over one epoll set, for kernels (or
// sandboxes) where io_uring is unavailable. Internal to driver/proactor.
//
// What it does itself (everything on the poll thread except wake()):
//   - nop: completes at the next reap().
//   - timer: a binary min-heap ordered by (deadline, start order) — so timers
//     with equal deadlines complete in the order they started — and ONE timerfd
//     (CLOCK_MONOTONIC, TFD_TIMER_ABSTIME) in the epoll set, armed at or before
//     the earliest finite deadline. Deadlines keep their nanoseconds: nothing is
//     rounded to milliseconds, and a timer completes only once the clock has
//     reached its deadline (a past one at the next reap); a cancel before then
//     completes it CANCELLED. The heap index, cached deadline and start order live
//     in the op's backend_scratch (no allocation per timer).
//   - watches: EPOLLIN | EPOLLONESHOT on the waitable's eventfd. A fired
//     one-shot registration stays in the set, disabled, so a re-arm is one
//     EPOLL_CTL_MOD (ADD only the first time, when MOD says ENOENT); disarm is
//     EPOLL_CTL_DEL. The set of armed watches decides what an event means: an
//     event for a watch that is no longer armed (disarmed after epoll_wait
//     returned it) is dropped, so each arm fires exactly once.
//   - wait(): epoll_pwait2 with the exact remaining nanoseconds (Linux 5.11+),
//     else epoll_wait with the milliseconds rounded UP. Events it returns are
//     kept for the next reap() (a one-shot event is reported only once).
//   - wake(): writes 1 to an eventfd in the set (async-signal-safe).
// File operations never reach start() (the core sends them to file_workers,
// since this backend has no kernel_file_io); if one does, it completes
// UNIMPLEMENTED. nowait_reads is reported when the kernel takes RWF_NOWAIT.
//
// Completions queued by start()/cancel()/disarm_watch() are delivered by the
// next reap(); reap() detaches each list before calling the sink, so whatever
// the sink starts during a call waits for the following reap().
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <new>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "file_io.hpp"

namespace weft::io::detail {
namespace {

constexpr std::uint64_t wake_tag = 1;   // epoll_event.data for the wake eventfd
constexpr std::uint64_t timer_tag = 2;  // ... the timerfd; a watch's is its waitable* (aligned, so never 1 or 2)
constexpr std::uint32_t not_in_heap = UINT32_MAX;

enum class pending_result : std::uint8_t { ok, cancelled, unimplemented };

// The backend's state in op_internal::backend_scratch.
struct op_scratch {
  operation* pending_next;    // the pending-completion FIFO
  std::int64_t deadline_ns;   // timer: cached `when`
  std::uint64_t start_order;  // timer: tie-break among equal deadlines
  std::uint32_t heap_index;   // timer: position in heap_, or not_in_heap
  pending_result result;      // what the pending completion reports
};
static_assert(sizeof(op_scratch) <= sizeof(op_internal::backend_scratch));
static_assert(alignof(op_scratch) <= 8);

op_scratch& scratch(operation& op) {
  return *std::launder(reinterpret_cast<op_scratch*>(op_access::internal(op).backend_scratch));
}

timespec to_timespec(std::int64_t ns) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return t;
}

class epoll_backend final : public backend {
 public:
  explicit epoll_backend(const proactor_options& options) : events_(options.queue_entries) {
    capabilities_ = (nowait_reads_supported() ? capability::nowait_reads : 0u) & options.allowed_capabilities;
  }
  ~epoll_backend() override {
    for (int fd : {timer_fd_, wake_fd_, epoll_fd_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  epoll_backend(const epoll_backend&) = delete;
  epoll_backend& operator=(const epoll_backend&) = delete;

  status open() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return status_from_errno(errno, "epoll backend: epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return status_from_errno(errno, "epoll backend: eventfd");
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) return status_from_errno(errno, "epoll backend: timerfd_create");
    for (auto [fd, tag] : {std::pair{wake_fd_, wake_tag}, std::pair{timer_fd_, timer_tag}}) {
      epoll_event interest{};
      interest.events = EPOLLIN;  // level-triggered: stays ready until drained
      interest.data.u64 = tag;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &interest) != 0)
        return status_from_errno(errno, "epoll backend: epoll_ctl add fd " + std::to_string(fd));
    }
    return status::ok();
  }

  backend_kind kind() const noexcept override { return backend_kind::epoll; }
  std::uint32_t capabilities() const noexcept override { return capabilities_; }
  status bind_poll_thread() override { return status::ok(); }

  bool start(operation& op) override {
    op_scratch& s = *new (op_access::internal(op).backend_scratch) op_scratch{};
    s.heap_index = not_in_heap;
    if (op.type() == op_type::nop) {
      push_pending(op, pending_result::ok);
    } else if (op.type() == op_type::timer) {
      start_timer(static_cast<timer_op&>(op), s);
    } else {
      push_pending(op, pending_result::unimplemented);
    }
    return true;
  }

  void cancel(operation& op) override {
    if (op.type() != op_type::timer) return;  // a nop (or refused op) completes at the next reap anyway
    op_scratch& s = scratch(op);
    if (s.heap_index == not_in_heap) return;  // completed already
    heap_remove(s.heap_index);
    push_pending(op, pending_result::cancelled);
    // The timerfd may now fire early for a timer that is gone: harmless, and
    // cheaper than a re-arm per cancel.
  }

  bool arm_watch(waitable& w) override {
    if (!armed_.insert(&w).second) return true;  // already armed: it fires once
    epoll_event interest{};
    interest.events = EPOLLIN | EPOLLONESHOT;
    interest.data.u64 = reinterpret_cast<std::uintptr_t>(&w);
    int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w.fd(), &interest);
    if (rc != 0 && errno == ENOENT) rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, w.fd(), &interest);
    if (rc != 0) {
      armed_.erase(&w);
      refused_.push_back({&w, status_from_errno(errno, "watch on fd " + std::to_string(w.fd()))});
    }
    return true;
  }

  void disarm_watch(waitable& w) override {
    if (armed_.erase(&w) == 0) return;  // fired already, or never armed
    static_cast<void>(::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.fd(), nullptr));
    disarmed_.push_back(&w);
  }

  result<std::size_t> reap(completion_sink& sink) override {
    std::size_t delivered = 0;
    if (stashed_ > 0) delivered += dispatch_events(sink, std::exchange(stashed_, 0));
    int ready = 0;
    do {
      ready = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return status_from_errno(errno, "epoll backend: epoll_wait");
    delivered += dispatch_events(sink, static_cast<std::size_t>(ready));
    delivered += deliver_pending(sink);  // decided before this reap: first
    delivered += expire_timers(sink);
    arm_timerfd();
    return delivered;
  }

  status wait(deadline until) override {
    if (stashed_ > 0 || pending_head_ != nullptr || !disarmed_.empty() || !refused_.empty()) return status::ok();
    if (!heap_.empty() && scratch(*heap_.front()).deadline_ns <= monotonic_now_ns()) return status::ok();
    const int capacity = static_cast<int>(events_.size());
    int ready = 0;
    if (until.is_infinite()) {
      ready = ::epoll_wait(epoll_fd_, events_.data(), capacity, -1);
    } else {
      const std::int64_t left = until.remaining_ns();
      if (have_pwait2_) {
        const timespec timeout = to_timespec(left);
        ready = ::epoll_pwait2(epoll_fd_, events_.data(), capacity, &timeout, nullptr);
        if (ready < 0 && errno == ENOSYS) have_pwait2_ = false;
      }
      if (!have_pwait2_) {
        // Round up: a wait that returns before `until` makes the caller spin.
        const std::int64_t ms = (left + 999'999) / 1'000'000;
        ready = ::epoll_wait(epoll_fd_, events_.data(), capacity, ms > INT_MAX ? INT_MAX : static_cast<int>(ms));
      }
    }
    if (ready < 0) {
      if (errno == EINTR) return status::ok();  // spurious return: allowed
      return status_from_errno(errno, "epoll backend: epoll_wait");
    }
    stashed_ = static_cast<std::size_t>(ready);
    return status::ok();
  }

  void wake() override {
    const int saved_errno = errno;  // async-signal-safe: a signal handler may call this
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: the fd is readable already.
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    errno = saved_errno;
  }

 private:
  void push_pending(operation& op, pending_result result) {
    op_scratch& s = scratch(op);
    s.result = result;
    s.pending_next = nullptr;
    if (pending_tail_ == nullptr) {
      pending_head_ = &op;
    } else {
      scratch(*pending_tail_).pending_next = &op;
    }
    pending_tail_ = &op;
  }

  void start_timer(timer_op& op, op_scratch& s) {
    // A past deadline goes through the heap too, so timers due at the same
    // reap still complete in (deadline, start order). wait() returns at once
    // while the earliest deadline has passed, so the timerfd is not needed.
    s.deadline_ns = op.when.monotonic_ns();
    s.start_order = next_start_order_++;
    s.heap_index = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(&op);
    sift_up(s.heap_index);
    if (s.heap_index == 0 && s.deadline_ns > monotonic_now_ns()) arm_timerfd();
  }

  // Arms the timerfd for the earliest finite deadline unless it already fires
  // at or before it (a stale earlier fire only costs one empty reap).
  void arm_timerfd() {
    if (heap_.empty()) return;
    const std::int64_t earliest = scratch(*heap_.front()).deadline_ns;
    if (earliest == deadline::infinite_ns) return;
    if (timerfd_armed_ns_ != 0 && timerfd_armed_ns_ <= earliest) return;
    itimerspec when{};
    when.it_value = to_timespec(earliest);
    if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &when, nullptr) == 0) timerfd_armed_ns_ = earliest;
    // On failure (only EINVAL/EFAULT for our arguments, i.e. never) wait()
    // still returns for timers through its own expiry check before sleeping.
  }

  std::size_t dispatch_events(completion_sink& sink, std::size_t count) {
    std::size_t delivered = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const epoll_event event = events_[k];
      if (event.data.u64 == wake_tag) {
        drain(wake_fd_);
      } else if (event.data.u64 == timer_tag) {
        drain(timer_fd_);
        timerfd_armed_ns_ = 0;
      } else {
        auto* w = reinterpret_cast<waitable*>(static_cast<std::uintptr_t>(event.data.u64));
        if (armed_.erase(w) == 0) continue;  // disarmed since epoll_wait returned it
        sink.watch_fired(*w, status::ok());
        ++delivered;
      }
    }
    return delivered;
  }

  static void drain(int fd) {
    std::uint64_t count = 0;
    while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
    }
  }

  std::size_t expire_timers(completion_sink& sink) {
    if (heap_.empty()) return 0;
    std::size_t delivered = 0;
    const std::int64_t now = monotonic_now_ns();
    while (!heap_.empty() && scratch(*heap_.front()).deadline_ns <= now) {
      operation& op = *heap_.front();
      heap_remove(0);
      sink.complete(op, status::ok());
      ++delivered;
    }
    return delivered;
  }

  std::size_t deliver_pending(completion_sink& sink) {
    std::size_t delivered = 0;
    operation* op = std::exchange(pending_head_, nullptr);
    pending_tail_ = nullptr;
    while (op != nullptr) {
      operation& current = *op;
      const pending_result result = scratch(current).result;
      op = scratch(current).pending_next;
      switch (result) {
        case pending_result::ok:
          sink.complete(current, status::ok());
          break;
        case pending_result::cancelled:
          sink.complete(current, errors::cancelled(describe(current), ": cancelled"));
          break;
        case pending_result::unimplemented:
          sink.complete(current, errors::unimplemented(describe(current), ": not supported by the epoll backend"));
          break;
      }
      ++delivered;
    }
    std::vector<std::pair<waitable*, status>> refused = std::exchange(refused_, {});
    for (auto& [w, error] : refused) {
      sink.watch_fired(*w, std::move(error));
      ++delivered;
    }
    std::vector<waitable*> disarmed = std::exchange(disarmed_, {});
    for (waitable* w : disarmed) {
      sink.watch_fired(*w, errors::cancelled("watch on fd ", w->fd(), ": disarmed"));
      ++delivered;
    }
    return delivered;
  }

  // ---- the timer heap: a binary min-heap on (deadline_ns, start_order)

  bool earlier(std::uint32_t a, std::uint32_t b) {
    const op_scratch& x = scratch(*heap_[a]);
    const op_scratch& y = scratch(*heap_[b]);
    return x.deadline_ns != y.deadline_ns ? x.deadline_ns < y.deadline_ns : x.start_order < y.start_order;
  }
  void swap_slots(std::uint32_t a, std::uint32_t b) {
    std::swap(heap_[a], heap_[b]);
    scratch(*heap_[a]).heap_index = a;
    scratch(*heap_[b]).heap_index = b;
  }
  void sift_up(std::uint32_t index) {
    while (index > 0) {
      const std::uint32_t parent = (index - 1) / 2;
      if (!earlier(index, parent)) return;
      swap_slots(index, parent);
      index = parent;
    }
  }
  void sift_down(std::uint32_t index) {
    const auto size = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t best = index;
      for (std::uint32_t child : {2 * index + 1, 2 * index + 2}) {
        if (child < size && earlier(child, best)) best = child;
      }
      if (best == index) return;
      swap_slots(index, best);
      index = best;
    }
  }
  void heap_remove(std::uint32_t index) {
    const auto last = static_cast<std::uint32_t>(heap_.size() - 1);
    scratch(*heap_[index]).heap_index = not_in_heap;
    if (index != last) {
      heap_[index] = heap_[last];
      scratch(*heap_[index]).heap_index = index;
    }
    heap_.pop_back();
    if (index == heap_.size()) return;  // removed the last slot
    if (index > 0 && earlier(index, (index - 1) / 2)) {
      sift_up(index);
    } else {
      sift_down(index);
    }
  }

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;
  std::uint32_t capabilities_ = 0;
  bool have_pwait2_ = true;
  std::vector<epoll_event> events_;  // queue_entries events per epoll_wait
  std::size_t stashed_ = 0;          // events_[0, stashed_) came from wait(), not yet dispatched
  std::vector<operation*> heap_;
  std::uint64_t next_start_order_ = 0;
  std::int64_t timerfd_armed_ns_ = 0;  // when the timerfd fires next; 0: not armed
  operation* pending_head_ = nullptr;  // completions for the next reap, FIFO through op_scratch
  operation* pending_tail_ = nullptr;
  std::unordered_set<waitable*> armed_;                // watches armed and not yet reported
  std::vector<waitable*> disarmed_;                    // report CANCELLED at the next reap
  std::vector<std::pair<waitable*, status>> refused_;  // epoll_ctl refused the arm: report the error
};

}  // namespace

result<std::unique_ptr<backend>> create_epoll_backend(const proactor_options& options) {
  if (options.queue_entries < 1 || options.queue_entries > 32768)
    return errors::invalid_argument("epoll backend: queue_entries ", options.queue_entries, " is outside [1, 32768]");
  std::unique_ptr<epoll_backend> made(new (std::nothrow) epoll_backend(options));
  if (made == nullptr) return errors::resource_exhausted("epoll backend: cannot allocate the backend");
  WEFT_RETURN_IF_ERROR(made->open());
  return std::unique_ptr<backend>(std::move(made));
}

}  // namespace weft::io::detail
