// weft::io::frontier_tracker — the current epoch of every registered axis,
// and callbacks for whoever waits until a frontier is reached.
//
//   WEFT_ASSIGN_OR_RETURN(auto tracker, weft::io::frontier_tracker::create({.axis_capacity = 16}));
//   WEFT_RETURN_IF_ERROR(tracker->register_axis(queue_axis));        // setup, before use
//   weft::io::frontier_waiter waiter(on_reached, &my_op);            // caller-owned
//   WEFT_RETURN_IF_ERROR(tracker->wait(needed, waiter));              // needed: a frontier_view
//   ...                                                               // elsewhere, as work completes:
//   tracker->advance(queue_axis, 8);   // runs on_reached(&my_op, waiter, ok) once `needed` is reached
//
// Guarantees:
//   - A waiter's callback runs exactly once per successful wait(): with ok
//     once every axis of its frontier reached the entry's epoch, with a copy
//     of the axis failure when an axis it lists fails, or CANCELLED when the
//     tracker is destroyed first — unless cancel_wait() returned true, after
//     which it never runs. A wait() that returns an error never runs it.
//   - The callback may run inside wait() (already reached or failed), or on
//     the thread whose advance()/fail_axis() resolved it.
//   - Happens-before: whatever a thread did before advance(axis, e) (or
//     fail_axis) happens-before every callback it (or a later call) resolves
//     with that entry, and before any query that observes epoch e. All state
//     sits behind one mutex, and every resolution passes through it.
//   - Callbacks and bridge-semaphore calls run with no tracker lock held, so
//     they may re-enter the tracker (wait, advance, fail, cancel) freely.
//   - wait() copies the frontier into the waiter (inline room for
//     frontier_waiter::inline_capacity entries, or the storage span the
//     caller gave it); the caller's frontier may die as soon as wait returns.
//   - No allocation after create() except status copies for failures.
//
// Axes: register_axis() each axis (optionally with a bridge semaphore that
// mirrors it: every raised epoch is signaled to the bridge, in increasing
// order, and an axis failure fails the bridge). Epochs start at 0 ("nothing
// done"). Axes are never unregistered; retire_axis() fails one for good and
// detaches its bridge.
//
// Thread safety: every member from any thread, concurrently, including from
// inside a callback. Blocking: one std::mutex guards the axis table and the
// waiter list (held for O(waiters × log entries) in advance/fail, never
// across a callout), so a racing advance and wait cannot lose a wake-up: each
// re-checks under the lock what the other changed under it. Destroy the
// tracker only once no other thread uses it; callbacks run by the destructor
// (CANCELLED) must not use the tracker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "weft/base/allocator.hpp"
#include "weft/base/result.hpp"
#include "weft/base/status.hpp"
#include "weft/io/frontier.hpp"

namespace weft::io {

class semaphore;  // weft/io/semaphore.hpp: status signal(std::uint64_t); void fail(status)
class frontier_tracker;

// A caller-owned wait on a frontier. Set fn (and user_data, and storage for
// frontiers above inline_capacity entries) before wait(); don't touch the
// waiter again until its callback ran or cancel_wait() returned true. After
// that it may be reused or freed.
class frontier_waiter {
 public:
  using callback = void (*)(void* user_data, frontier_waiter& waiter, status result);
  static constexpr std::size_t inline_capacity = 4;

  frontier_waiter() noexcept = default;
  frontier_waiter(callback on_done, void* data, std::span<frontier_entry> room = {}) noexcept
      : fn(on_done), user_data(data), storage(room) {}
  frontier_waiter(const frontier_waiter&) = delete;
  frontier_waiter& operator=(const frontier_waiter&) = delete;

  callback fn = nullptr;
  void* user_data = nullptr;
  // Room for frontiers of more than inline_capacity entries; must stay valid
  // while the waiter waits.
  std::span<frontier_entry> storage;

  // The frontier the last wait() copied in (valid from a successful wait()
  // until the waiter is reused, so also inside the callback).
  frontier_view frontier() const noexcept { return {entries_, count_}; }

 private:
  friend class frontier_tracker;
  // Guarded by the owner's mutex while waiting.
  frontier_waiter* next_ = nullptr;
  frontier_waiter* previous_ = nullptr;
  const frontier_tracker* owner_ = nullptr;  // non-null exactly while pending
  const frontier_entry* entries_ = nullptr;
  std::uint8_t count_ = 0;
  std::uint8_t unmet_ = 0;  // entries whose axis has not reached their epoch
  frontier_entry inline_entries_[inline_capacity] = {};
};

struct frontier_tracker_options {
  std::size_t axis_capacity = 64;  // registered axes at most; 1..65536
  allocator* memory = nullptr;     // for the axis table; nullptr = default_allocator()
};

class frontier_tracker {
 public:
  static constexpr std::size_t max_axis_capacity = 65536;

  // The tracker and its axis table (one allocation from options.memory; the
  // object itself from new). invalid_argument for a capacity outside
  // [1, 65536]; resource_exhausted when memory runs out.
  static result<std::unique_ptr<frontier_tracker>> create(const frontier_tracker_options& options = {});
  // Every pending waiter completes CANCELLED ("frontier tracker destroyed").
  ~frontier_tracker();
  frontier_tracker(const frontier_tracker&) = delete;
  frontier_tracker& operator=(const frontier_tracker&) = delete;

  // Adds an axis at epoch 0. already_exists for a registered axis,
  // resource_exhausted naming the capacity when the table is full. bridge
  // (borrowed; must outlive the registration or a retire_axis) is signaled
  // with each new epoch, in increasing order, after the tracker lock is
  // released; a signal error fails it.
  status register_axis(std::uint64_t axis, semaphore* bridge = nullptr);

  // Raises the axis to `epoch` and runs the callbacks of the waiters that
  // became satisfied; returns how many. An epoch at or below the current one
  // changes nothing and returns 0. not_found for an unregistered axis; a
  // failed axis returns (a copy of) its failure and stays where it was.
  result<std::size_t> advance(std::uint64_t axis, std::uint64_t epoch);

  // Fails the axis (first failure wins; a later call changes nothing and
  // returns 0): every pending waiter listing it completes with a copy, later
  // waits listing it fail at once, and the bridge is failed too. Returns how
  // many waiters it failed. invalid_argument for an ok `failure`, not_found
  // for an unregistered axis.
  result<std::size_t> fail_axis(std::uint64_t axis, status failure);
  // fail_axis, then detaches the bridge: when this returns, the tracker will
  // not call the bridge again (it waits for a bridge call in flight on
  // another thread), so the semaphore may be destroyed. From inside this
  // axis's own bridge callback it does not wait (it detaches at once). Two
  // threads retiring each other's axes from inside their bridges' callbacks
  // would wait for each other: don't.
  result<std::size_t> retire_axis(std::uint64_t axis, status failure);

  // Waits until every entry of `frontier` is reached (copying it into
  // waiter). ok means the callback will run exactly once (maybe already
  // did). Errors, with no callback: invalid_argument (no fn, invalid
  // frontier), resource_exhausted (frontier larger than the waiter's room),
  // not_found (an axis not registered), failed_precondition (waiter already
  // pending here). An empty frontier is reached at once.
  status wait(frontier_view frontier, frontier_waiter& waiter);
  // true: the waiter was pending and is removed; its callback never runs.
  // false: not pending here (already resolved — its callback ran or is
  // running on another thread — or never waited).
  bool cancel_wait(frontier_waiter& waiter);

  // current epoch >= epoch; the axis failure if it failed; not_found.
  result<bool> query_epoch_reached(std::uint64_t axis, std::uint64_t epoch) const;
  // The current epoch (also of a failed axis); not_found.
  result<std::uint64_t> current_epoch(std::uint64_t axis) const;

  std::size_t axis_count() const;
  std::size_t axis_capacity() const noexcept { return capacity_; }

 private:
  struct axis_slot;
  struct ready_list {
    frontier_waiter* head = nullptr;
    frontier_waiter* tail = nullptr;
    std::size_t count = 0;
  };

  frontier_tracker(allocator& memory, axis_slot* slots, std::size_t capacity) noexcept;
  axis_slot* find(std::uint64_t axis) const;  // requires mutex_
  void link(frontier_waiter& waiter);         // requires mutex_
  void unlink(frontier_waiter& waiter);       // requires mutex_
  static void append(ready_list& list, frontier_waiter& waiter);
  static void dispatch(ready_list& list, const status& result);
  bool claim_bridge(axis_slot& slot);  // requires mutex_; true: the caller must drive_bridge
  void drive_bridge(std::uint64_t axis);

  allocator& memory_;
  axis_slot* const slots_;  // [0, axis_count_) sorted by axis; guarded by mutex_
  const std::size_t capacity_;
  // Blocking by design: advance/wait/fail must see one consistent table and
  // waiter list, and a lock taken unconditionally is what makes the
  // advance-vs-wait race impossible rather than argued away.
  mutable std::mutex mutex_;
  std::condition_variable bridge_idle_;      // retire_axis waits here for a bridge call in flight
  std::size_t axis_count_ = 0;               // guarded by mutex_
  frontier_waiter* waiters_head_ = nullptr;  // pending waiters, oldest first; guarded by mutex_
  frontier_waiter* waiters_tail_ = nullptr;  // guarded by mutex_
};

}  // namespace weft::io
