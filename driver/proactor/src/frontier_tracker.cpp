// The frontier tracker: a sorted axis table and a FIFO list of pending
// waiters behind one mutex; callbacks and bridge calls are collected under
// the lock and made after it is released. Contract in
// weft/io/frontier_tracker.hpp.
#include "weft/io/frontier_tracker.hpp"

#include <algorithm>
#include <new>
#include <thread>
#include <utility>

#include "weft/io/semaphore.hpp"

namespace weft::io {

struct frontier_tracker::axis_slot {
  std::uint64_t axis = 0;
  std::uint64_t epoch = 0;
  std::uint32_t waiters = 0;  // pending waiters whose frontier lists this axis
  status failure;             // first failure; sticky
  // Bridge: calls are made outside the lock by one thread at a time per axis
  // (the "driver", bridge_busy), which keeps signaling until bridge_signaled
  // catches up with bridge_target, so the semaphore sees epochs in order even
  // when advances race.
  semaphore* bridge = nullptr;
  std::uint64_t bridge_target = 0;    // highest epoch the bridge should reach
  std::uint64_t bridge_signaled = 0;  // highest epoch handed to the bridge
  bool bridge_fail_pending = false;
  bool bridge_busy = false;
  std::thread::id bridge_driver;  // valid while bridge_busy
};

namespace {

status not_registered(const char* operation, std::uint64_t axis) {
  return errors::not_found(operation, ": axis ", axis_to_string(axis), " is not registered");
}

}  // namespace

result<std::unique_ptr<frontier_tracker>> frontier_tracker::create(const frontier_tracker_options& options) {
  if (options.axis_capacity == 0 || options.axis_capacity > max_axis_capacity) {
    return errors::invalid_argument("frontier tracker axis capacity ", options.axis_capacity, " is outside [1, ",
                                    max_axis_capacity, "]");
  }
  allocator& memory = options.memory ? *options.memory : default_allocator();
  const std::size_t bytes = options.axis_capacity * sizeof(axis_slot);
  WEFT_ASSIGN_OR_RETURN(void* table, memory.allocate(bytes, alignof(axis_slot)));
  auto* slots = static_cast<axis_slot*>(table);
  std::uninitialized_default_construct_n(slots, options.axis_capacity);
  std::unique_ptr<frontier_tracker> tracker(new (std::nothrow) frontier_tracker(memory, slots, options.axis_capacity));
  if (!tracker) {
    std::destroy_n(slots, options.axis_capacity);
    memory.deallocate(table, bytes, alignof(axis_slot));
    return errors::resource_exhausted("frontier tracker: out of memory for the tracker object");
  }
  return tracker;
}

frontier_tracker::frontier_tracker(allocator& memory, axis_slot* slots, std::size_t capacity) noexcept
    : memory_(memory), slots_(slots), capacity_(capacity) {}

frontier_tracker::~frontier_tracker() {
  ready_list cancelled;
  {
    std::lock_guard lock(mutex_);
    while (waiters_head_ != nullptr) {
      frontier_waiter& waiter = *waiters_head_;
      unlink(waiter);
      append(cancelled, waiter);
    }
  }
  dispatch(cancelled, errors::cancelled("frontier tracker destroyed"));
  std::destroy_n(slots_, capacity_);
  memory_.deallocate(slots_, capacity_ * sizeof(axis_slot), alignof(axis_slot));
}

frontier_tracker::axis_slot* frontier_tracker::find(std::uint64_t axis) const {
  axis_slot* end = slots_ + axis_count_;
  axis_slot* found = std::lower_bound(slots_, end, axis,
                                      [](const axis_slot& slot, std::uint64_t wanted) { return slot.axis < wanted; });
  return found != end && found->axis == axis ? found : nullptr;
}

status frontier_tracker::register_axis(std::uint64_t axis, semaphore* bridge) {
  std::lock_guard lock(mutex_);
  axis_slot* end = slots_ + axis_count_;
  axis_slot* at = std::lower_bound(slots_, end, axis,
                                   [](const axis_slot& slot, std::uint64_t wanted) { return slot.axis < wanted; });
  if (at != end && at->axis == axis) {
    return errors::already_exists("frontier register_axis: axis ", axis_to_string(axis), " is already registered");
  }
  if (axis_count_ == capacity_) {
    return errors::resource_exhausted("frontier register_axis: axis ", axis_to_string(axis),
                                      " does not fit; the axis table is full at its capacity of ", capacity_);
  }
  // Setup-time insertion keeps the table sorted for binary search; no slot
  // is in use outside the lock, so moving slots is safe.
  std::move_backward(at, end, end + 1);
  *at = axis_slot{};
  at->axis = axis;
  at->bridge = bridge;
  ++axis_count_;
  return status::ok();
}

std::size_t frontier_tracker::axis_count() const {
  std::lock_guard lock(mutex_);
  return axis_count_;
}

void frontier_tracker::link(frontier_waiter& waiter) {
  waiter.owner_ = this;
  waiter.next_ = nullptr;
  waiter.previous_ = waiters_tail_;
  (waiters_tail_ ? waiters_tail_->next_ : waiters_head_) = &waiter;
  waiters_tail_ = &waiter;
  for (const frontier_entry& entry : waiter.frontier()) ++find(entry.axis)->waiters;
}

void frontier_tracker::unlink(frontier_waiter& waiter) {
  (waiter.previous_ ? waiter.previous_->next_ : waiters_head_) = waiter.next_;
  (waiter.next_ ? waiter.next_->previous_ : waiters_tail_) = waiter.previous_;
  waiter.next_ = waiter.previous_ = nullptr;
  waiter.owner_ = nullptr;
  for (const frontier_entry& entry : waiter.frontier()) --find(entry.axis)->waiters;
}

void frontier_tracker::append(ready_list& list, frontier_waiter& waiter) {
  waiter.next_ = nullptr;
  (list.tail ? list.tail->next_ : list.head) = &waiter;
  list.tail = &waiter;
  ++list.count;
}

void frontier_tracker::dispatch(ready_list& list, const status& result) {
  for (frontier_waiter* waiter = list.head; waiter != nullptr;) {
    // The callback may reuse or free the waiter: step past it first.
    frontier_waiter* next = waiter->next_;
    waiter->next_ = nullptr;
    waiter->fn(waiter->user_data, *waiter, result);
    waiter = next;
  }
  list = {};
}

result<std::size_t> frontier_tracker::advance(std::uint64_t axis, std::uint64_t epoch) {
  ready_list ready;
  bool drive = false;
  {
    std::lock_guard lock(mutex_);
    axis_slot* slot = find(axis);
    if (slot == nullptr) return not_registered("frontier advance", axis);
    if (!slot->failure.is_ok()) return slot->failure;
    if (epoch <= slot->epoch) return std::size_t{0};
    const std::uint64_t previous = slot->epoch;
    slot->epoch = epoch;
    if (slot->waiters > 0) {
      for (frontier_waiter* waiter = waiters_head_; waiter != nullptr;) {
        frontier_waiter* next = waiter->next_;
        const std::uint64_t needed = epoch_of(waiter->frontier(), axis);
        if (needed > previous && needed <= epoch && --waiter->unmet_ == 0) {
          unlink(*waiter);
          append(ready, *waiter);
        }
        waiter = next;
      }
    }
    if (slot->bridge != nullptr) {
      slot->bridge_target = epoch;
      drive = claim_bridge(*slot);
    }
  }
  const std::size_t resolved = ready.count;
  dispatch(ready, status::ok());
  if (drive) drive_bridge(axis);
  return resolved;
}

result<std::size_t> frontier_tracker::fail_axis(std::uint64_t axis, status failure) {
  if (failure.is_ok())
    return errors::invalid_argument("frontier fail_axis: axis ", axis_to_string(axis), " needs a non-ok status");
  ready_list failed;
  bool drive = false;
  {
    std::lock_guard lock(mutex_);
    axis_slot* slot = find(axis);
    if (slot == nullptr) return not_registered("frontier fail_axis", axis);
    if (!slot->failure.is_ok()) return std::size_t{0};
    slot->failure = failure;
    for (frontier_waiter* waiter = waiters_head_; waiter != nullptr && slot->waiters > 0;) {
      frontier_waiter* next = waiter->next_;
      if (epoch_of(waiter->frontier(), axis) != 0) {
        unlink(*waiter);
        append(failed, *waiter);
      }
      waiter = next;
    }
    if (slot->bridge != nullptr) {
      slot->bridge_fail_pending = true;
      drive = claim_bridge(*slot);
    }
  }
  const std::size_t resolved = failed.count;
  dispatch(failed, failure);
  if (drive) drive_bridge(axis);
  return resolved;
}

result<std::size_t> frontier_tracker::retire_axis(std::uint64_t axis, status failure) {
  WEFT_ASSIGN_OR_RETURN(std::size_t resolved, fail_axis(axis, std::move(failure)));
  semaphore* undelivered = nullptr;
  status undelivered_failure;
  {
    std::unique_lock lock(mutex_);
    // A driver on another thread finishes what is pending (including the
    // failure) before going idle; wait for it. When this thread is the driver
    // (retire from inside a bridge callback), it cannot be waited for: detach
    // now, and deliver a pending failure here since the driver will stop.
    const std::thread::id self = std::this_thread::get_id();
    bridge_idle_.wait(lock, [&] {
      const axis_slot* slot = find(axis);
      return !slot->bridge_busy || slot->bridge_driver == self;
    });
    axis_slot* slot = find(axis);
    if (slot->bridge != nullptr && slot->bridge_fail_pending) {
      undelivered = slot->bridge;
      undelivered_failure = slot->failure;
      slot->bridge_fail_pending = false;
    }
    slot->bridge = nullptr;
  }
  if (undelivered != nullptr) undelivered->fail(std::move(undelivered_failure));
  return resolved;
}

bool frontier_tracker::claim_bridge(axis_slot& slot) {
  if (slot.bridge_busy) return false;
  slot.bridge_busy = true;
  slot.bridge_driver = std::this_thread::get_id();
  return true;
}

void frontier_tracker::drive_bridge(std::uint64_t axis) {
  for (;;) {
    semaphore* bridge = nullptr;
    status failure;
    std::uint64_t target = 0;
    {
      std::lock_guard lock(mutex_);
      axis_slot* slot = find(axis);  // axes never leave the table
      bridge = slot->bridge;
      if (bridge != nullptr && slot->bridge_fail_pending) {
        slot->bridge_fail_pending = false;
        failure = slot->failure;
      } else if (bridge != nullptr && slot->failure.is_ok() && slot->bridge_target > slot->bridge_signaled) {
        target = slot->bridge_signaled = slot->bridge_target;
      } else {
        slot->bridge_busy = false;
        bridge_idle_.notify_all();
        return;
      }
    }
    // A refused signal means the semaphore was signaled past `target` by
    // someone else or already failed: fail() makes that loud, and is a no-op
    // on a failed semaphore.
    if (!failure.is_ok()) {
      bridge->fail(std::move(failure));
    } else if (status signaled = bridge->signal(target); !signaled.is_ok()) {
      bridge->fail(std::move(signaled));
    }
  }
}

status frontier_tracker::wait(frontier_view frontier, frontier_waiter& waiter) {
  if (waiter.fn == nullptr) return errors::invalid_argument("frontier wait: the waiter has no callback");
  if (status valid = validate(frontier); !valid.is_ok()) return annotate(valid, "frontier wait");
  frontier_entry* room = waiter.inline_entries_;
  if (frontier.size() > frontier_waiter::inline_capacity) {
    if (frontier.size() > waiter.storage.size()) {
      return errors::resource_exhausted("frontier wait: frontier of ", frontier.size(),
                                        " entries exceeds the waiter's storage of ", waiter.storage.size(),
                                        " entries (inline capacity ", frontier_waiter::inline_capacity, ")");
    }
    room = waiter.storage.data();
  }
  status failure;
  {
    std::lock_guard lock(mutex_);
    if (waiter.owner_ == this) return errors::failed_precondition("frontier wait: the waiter is already pending");
    std::size_t unmet = 0;
    for (const frontier_entry& entry : frontier) {
      const axis_slot* slot = find(entry.axis);
      if (slot == nullptr) return not_registered("frontier wait", entry.axis);
      if (!slot->failure.is_ok() && failure.is_ok()) failure = slot->failure;
      unmet += slot->epoch < entry.epoch ? 1 : 0;
    }
    // Copied under the lock: the waiter is ours from here until resolved.
    std::copy(frontier.begin(), frontier.end(), room);
    waiter.entries_ = room;
    waiter.count_ = static_cast<std::uint8_t>(frontier.size());
    waiter.unmet_ = static_cast<std::uint8_t>(unmet);
    if (failure.is_ok() && unmet > 0) {
      link(waiter);
      return status::ok();
    }
  }
  waiter.fn(waiter.user_data, waiter, failure);  // already reached, or an axis failed
  return status::ok();
}

bool frontier_tracker::cancel_wait(frontier_waiter& waiter) {
  std::lock_guard lock(mutex_);
  if (waiter.owner_ != this) return false;
  unlink(waiter);
  return true;
}

result<bool> frontier_tracker::query_epoch_reached(std::uint64_t axis, std::uint64_t epoch) const {
  std::lock_guard lock(mutex_);
  const axis_slot* slot = find(axis);
  if (slot == nullptr) return not_registered("frontier query_epoch_reached", axis);
  if (!slot->failure.is_ok()) return slot->failure;
  return slot->epoch >= epoch;
}

result<std::uint64_t> frontier_tracker::current_epoch(std::uint64_t axis) const {
  std::lock_guard lock(mutex_);
  const axis_slot* slot = find(axis);
  if (slot == nullptr) return not_registered("frontier current_epoch", axis);
  return slot->epoch;
}

}  // namespace weft::io
