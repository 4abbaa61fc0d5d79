// weft::io::semaphore — contract and protocol in weft/io/semaphore.hpp.
#include "weft/io/semaphore.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <utility>

namespace weft::io {

namespace {

std::unique_ptr<frontier_entry[]> allocate_frontier(std::uint8_t capacity) {
  if (capacity == 0) return nullptr;
  return std::unique_ptr<frontier_entry[]>(new (std::nothrow) frontier_entry[capacity]);
}

}  // namespace

semaphore::semaphore(std::uint64_t initial_value, std::uint8_t frontier_capacity)
    : value_(initial_value),
      frontier_storage_(allocate_frontier(frontier_capacity)),
      frontier_(std::span<frontier_entry>(frontier_storage_.get(), frontier_storage_ ? frontier_capacity : 0)) {}

semaphore::~semaphore() {
  timepoint* pending = nullptr;
  timepoint** pending_tail = &pending;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    while (head_ != nullptr) {
      timepoint* tp = head_;
      unlink_locked(*tp);
      *pending_tail = tp;
      pending_tail = &tp->link_next;
    }
  }
  dispatch(pending, errors::cancelled("semaphore destroyed"));
}

status semaphore::failure() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

status semaphore::signal(std::uint64_t value) { return signal_locked_and_dispatch(value, nullptr); }

status semaphore::signal(std::uint64_t value, frontier_view f) { return signal_locked_and_dispatch(value, &f); }

status semaphore::signal_locked_and_dispatch(std::uint64_t value, const frontier_view* f) {
  timepoint* ready = nullptr;
  timepoint** ready_tail = &ready;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_.is_ok()) return failure_;
    // Every advance happens under mutex_, so this read is the current value.
    const std::uint64_t current = value_.load_relaxed();
    if (value <= current) {
      return errors::invalid_argument("semaphore signal: value ", value, " does not exceed the current value ",
                                      current);
    }
    if (f != nullptr) {
      if (status invalid = validate(*f); !invalid.is_ok()) return annotate(invalid, "semaphore signal: frontier");
      // false on overflow: the old frontier stays, still a valid lower bound.
      static_cast<void>(frontier_.merge(*f));
    }
    static_cast<void>(value_.advance_to(value));
    for (timepoint* tp = head_; tp != nullptr;) {
      timepoint* next = tp->link_next;
      if (tp->minimum_value <= value) {
        unlink_locked(*tp);
        *ready_tail = tp;
        ready_tail = &tp->link_next;
      }
      tp = next;
    }
  }
  host_waiters_.notify_all();
  dispatch(ready, status::ok());
  return status::ok();
}

void semaphore::fail(status failure) {
  if (failure.is_ok()) failure = errors::internal("semaphore fail called with an ok status");
  timepoint* pending = nullptr;
  timepoint** pending_tail = &pending;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_.is_ok()) return;  // the first failure wins
    failure_ = failure;
    failed_hint_.store(1);
    while (head_ != nullptr) {
      timepoint* tp = head_;
      unlink_locked(*tp);
      *pending_tail = tp;
      pending_tail = &tp->link_next;
    }
  }
  host_waiters_.notify_all();
  dispatch(pending, failure);
}

void semaphore::acquire_timepoint(timepoint& tp) {
  if (tp.fn == nullptr) return;
  // Lock-free fast path: failure first, then the value. It only ever runs
  // the callback early; registration needs the lock.
  if (!failed() && value_.load() >= tp.minimum_value) {
    tp.fn(tp.user_data, tp, status::ok());
    return;
  }
  status result;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.is_ok()) {
      if (value_.load() < tp.minimum_value) {
        append_locked(tp);
        return;
      }
    } else {
      result = failure_;
    }
  }
  tp.fn(tp.user_data, tp, std::move(result));
}

bool semaphore::cancel_timepoint(timepoint& tp) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (tp.registered_on != this) return false;
  unlink_locked(tp);
  return true;
}

status semaphore::wait(std::uint64_t value, deadline until) const {
  // The condition may be relaxed: event_count orders it (see event_count.hpp).
  static_cast<void>(
      host_waiters_.await([&] { return failed_hint_.load() != 0 || value_.load_relaxed() >= value; }, until));
  if (failed()) return failure();
  const std::uint64_t current = value_.load();  // acquire: the signaller's writes
  if (current >= value) return status::ok();
  return errors::deadline_exceeded("semaphore wait: value ", value, " not reached by the deadline (current value ",
                                   current, ")");
}

std::size_t semaphore::query_frontier(std::span<frontier_entry> out) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const frontier_view f = frontier_.view();
  std::copy_n(f.begin(), std::min(f.size(), out.size()), out.begin());
  return f.size();
}

std::size_t semaphore::pending_timepoints() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::size_t count = 0;
  for (const timepoint* tp = head_; tp != nullptr; tp = tp->link_next) ++count;
  return count;
}

void semaphore::append_locked(timepoint& tp) {
  tp.registered_on = this;
  tp.link_next = nullptr;
  tp.link_previous = tail_;
  if (tail_ != nullptr) {
    tail_->link_next = &tp;
  } else {
    head_ = &tp;
  }
  tail_ = &tp;
}

void semaphore::unlink_locked(timepoint& tp) {
  if (tp.link_previous != nullptr) {
    tp.link_previous->link_next = tp.link_next;
  } else {
    head_ = tp.link_next;
  }
  if (tp.link_next != nullptr) {
    tp.link_next->link_previous = tp.link_previous;
  } else {
    tail_ = tp.link_previous;
  }
  tp.link_previous = nullptr;
  tp.link_next = nullptr;
  tp.registered_on = nullptr;
}

// Runs a chain collected under the lock, in order, with no lock held. Reads
// each link before the callback, which may free its timepoint.
void semaphore::dispatch(timepoint* chain, const status& result) {
  while (chain != nullptr) {
    timepoint* tp = chain;
    chain = tp->link_next;
    tp->link_next = nullptr;
    tp->fn(tp->user_data, *tp, result);
  }
}

// ---- link -------------------------------------------------------------------

namespace {

void on_relay(void* user_data, semaphore::timepoint&, status result) {
  // Copy out first: once the target is signaled, its waiters may free r.
  const auto& r = *static_cast<const semaphore::relay*>(user_data);
  semaphore& target = *r.target;
  const std::uint64_t target_value = r.target_value;
  if (result.is_ok()) {
    status signaled = target.signal(target_value);
    if (signaled.is_ok() || target.failed()) return;  // a failed target keeps its own first failure
    result = annotate(signaled, "semaphore link");
  }
  target.fail(std::move(result));
}

}  // namespace

void semaphore::link(std::uint64_t value, semaphore& target, std::uint64_t target_value, relay& r) {
  r.target = &target;
  r.target_value = target_value;
  r.tp.fn = &on_relay;
  r.tp.user_data = &r;
  r.tp.minimum_value = value;
  acquire_timepoint(r.tp);
}

// ---- wait_multiple ----------------------------------------------------------

namespace {

constexpr std::size_t inline_timepoints = 8;
constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

// Lives in wait_multiple's frame; every timepoint's callback reports here.
struct multi_wait_frame {
  explicit multi_wait_frame(semaphore::timepoint* first) : timepoints(first) {}

  semaphore::timepoint* const timepoints;
  // Guards the fields below. A callback holds it through its notify, so once
  // the waiter reads a callback's `dispatched` under it, that callback is done
  // with the frame (it only unlocks) and the frame may die.
  std::mutex mutex;
  event_count<> changed;
  std::size_t reached = 0;
  std::size_t first_reached = none;
  std::size_t dispatched = 0;
  status failure;
};

void on_multi_wait_timepoint(void* user_data, semaphore::timepoint& tp, status result) {
  auto& frame = *static_cast<multi_wait_frame*>(user_data);
  const std::lock_guard<std::mutex> lock(frame.mutex);
  if (result.is_ok()) {
    ++frame.reached;
    if (frame.first_reached == none) frame.first_reached = static_cast<std::size_t>(&tp - frame.timepoints);
  } else if (frame.failure.is_ok()) {
    frame.failure = std::move(result);
  }
  ++frame.dispatched;
  frame.changed.notify_all();
}

}  // namespace

result<std::size_t> semaphore::wait_multiple(wait_mode mode, std::span<semaphore* const> sems,
                                             std::span<const std::uint64_t> values, deadline until) {
  const std::size_t n = sems.size();
  if (n != values.size()) {
    return errors::invalid_argument("semaphore wait_multiple: ", n, " semaphores but ", values.size(), " values");
  }
  if (n == 0) return errors::invalid_argument("semaphore wait_multiple: no semaphores to wait on");
  for (std::size_t i = 0; i < n; ++i) {
    if (sems[i] == nullptr) return errors::invalid_argument("semaphore wait_multiple: semaphore ", i, " is null");
  }
  if (n == 1) {
    if (status s = sems[0]->wait(values[0], until); !s.is_ok()) return s;
    return std::size_t{0};
  }

  // Fast path: failure first, then the values.
  for (std::size_t i = 0; i < n; ++i) {
    if (sems[i]->failed()) return sems[i]->failure();
  }
  std::size_t reached = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (sems[i]->query() >= values[i]) {
      if (mode == wait_mode::any) return i;
      ++reached;
    }
  }
  if (reached == n) return std::size_t{0};
  const char* mode_name = mode == wait_mode::all ? "all" : "any";
  auto timed_out = [&](std::size_t count) {
    return errors::deadline_exceeded("semaphore wait_multiple (", mode_name, "): ", count, " of ", n,
                                     " semaphores reached their values by the deadline");
  };
  if (until.expired()) return timed_out(reached);

  std::array<timepoint, inline_timepoints> inline_storage;
  std::unique_ptr<timepoint[]> heap_storage;
  timepoint* timepoints = inline_storage.data();
  if (n > inline_timepoints) {
    heap_storage.reset(new (std::nothrow) timepoint[n]);
    if (!heap_storage) {
      return errors::resource_exhausted("semaphore wait_multiple: cannot allocate ", n, " timepoints");
    }
    timepoints = heap_storage.get();
  }

  multi_wait_frame frame(timepoints);
  auto done = [&] {
    const std::lock_guard<std::mutex> lock(frame.mutex);
    if (!frame.failure.is_ok()) return true;
    return mode == wait_mode::any ? frame.first_reached != none : frame.reached == n;
  };
  std::size_t registered = 0;
  while (registered < n) {
    timepoint& tp = timepoints[registered];
    tp.fn = &on_multi_wait_timepoint;
    tp.user_data = &frame;
    tp.minimum_value = values[registered];
    sems[registered]->acquire_timepoint(tp);
    ++registered;
    if (done()) break;
  }
  static_cast<void>(frame.changed.await(done, until));

  // Leave nothing registered: a timepoint that cannot be cancelled has a
  // callback running or done; wait until each of those has reported.
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < registered; ++i) {
    if (sems[i]->cancel_timepoint(timepoints[i])) ++cancelled;
  }
  static_cast<void>(frame.changed.await(
      [&] {
        const std::lock_guard<std::mutex> lock(frame.mutex);
        return frame.dispatched + cancelled == registered;
      },
      deadline::infinite()));

  const std::lock_guard<std::mutex> lock(frame.mutex);
  if (!frame.failure.is_ok()) return frame.failure;
  if (mode == wait_mode::any && frame.first_reached != none) return frame.first_reached;
  if (mode == wait_mode::all && frame.reached == n) return std::size_t{0};
  return timed_out(frame.reached);
}

}  // namespace weft::io
