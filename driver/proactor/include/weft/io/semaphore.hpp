// weft::io::semaphore — a timeline semaphore: a 64-bit value that only rises,
// a sticky first failure, callbacks for "the value reached v", host waits
// with a deadline, and the frontier of work known complete at the value.
//
//   weft::io::semaphore sem(0);
//   // a waiter (any thread): a caller-owned timepoint, alive until its callback
//   weft::io::semaphore::timepoint tp{.fn = on_reached, .user_data = &op, .minimum_value = 5};
//   sem.acquire_timepoint(tp);           // on_reached(&op, tp, ok) once the value is >= 5
//   // or block: if (status s = sem.wait(5, weft::deadline::after(1ms)); !s.is_ok()) ...
//   // a signaller (any thread), after writing its results:
//   WEFT_RETURN_IF_ERROR(sem.signal(5));  // runs on_reached, wakes wait()
//   // a device that failed:
//   sem.fail(weft::errors::data_loss("queue 3: kernel returned 7"));
//
// Guarantees:
//   - Monotonic: signal(v) succeeds only if v exceeds the current value (each
//     value is signaled at most once); otherwise invalid_argument naming both
//     values, and nothing changes (neither the value nor the frontier).
//   - Sticky failure: the first fail() wins; it reaches every pending
//     timepoint and host wait, and every later one. Failure is checked BEFORE
//     the value everywhere: a failed semaphore fails its waiters even at
//     values it had already reached, and refuses further signals (returning
//     the failure). query() still reports the last value signaled.
//   - Timepoints: the callback runs exactly once — with ok when the value
//     reaches minimum_value, with a copy of the failure, or CANCELLED
//     ("semaphore destroyed") from the destructor — unless cancel_timepoint()
//     returned true first. It may run synchronously inside acquire_timepoint()
//     (already reached or failed), else on the thread whose signal()/fail()
//     resolved it. Callbacks run with no lock held: they may signal or fail
//     any semaphore, this one included, and acquire or cancel timepoints.
//     Among the timepoints one signal() satisfies, callbacks run in
//     registration order (FIFO); a callback that signals again runs the
//     callbacks it resolves before returning (nested, depth = chain length).
//   - After a callback returns, the semaphore never touches the timepoint
//     again, so the callback may free or reuse it.
//   - Happens-before: everything a signaller did before signal(v) happens-
//     before the callbacks and host waits it resolves, and before the return
//     of any query() that reads v or more; likewise for fail().
//   - Frontier: signal(v, f) merges f into the semaphore's accumulated
//     frontier before it advances the value, so a query_frontier() after a
//     query() that saw v includes f. Overflow is not an error: the frontier
//     stays unchanged, which is still a valid lower bound.
//
// Who may call what: every member from any thread, concurrently, including
// from inside a timepoint callback — except the destructor: destroy a
// semaphore only when no other thread uses it and no host wait is blocked on
// it; callbacks the destructor runs (CANCELLED) must not touch it.
//
// Progress and cost: query() and failed() are wait-free (one load). signal,
// fail, acquire_timepoint and cancel_timepoint take one std::mutex for
// O(pending timepoints) at most (signal walks the list to collect the
// satisfied ones; nothing is called under it). A signal with no host waiter
// makes no system call. wait() and wait_multiple() block on weft::event_count
// (no spinning) and honour their deadline.
//
// Allocation: the constructor allocates the frontier storage once
// (frontier_capacity entries of 16 bytes; if that allocation fails the
// semaphore works with capacity 0). A status copy per failed callback.
// wait_multiple() allocates its timepoints for more than 8 semaphores.
//
// The protocol (why no wake-up is lost): signal advances the value while
// holding the lock and collects the timepoints it satisfies before releasing
// it; acquire_timepoint checks failure and value and registers under the same
// lock. So a registration either sees the new value (and runs the callback
// itself) or is on the list the signaller walks. The lock-free fast path in
// acquire_timepoint (failure hint, then value) only ever takes the callback
// early, never registers. Host waits use the event_count pattern: the
// condition (failure hint, then value) is re-checked after announcing, and
// signal()/fail() notify after publishing.
//
// Memory orders: the value is a weft::timeline_word (release on advance,
// acquire on query). The failure hint is a weft::relaxed_cell set under the
// lock after the failure is stored: it only routes callers to the locked
// slow path, where the mutex orders the failure status itself; a reader that
// happens-after fail() reads it as set (coherence).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "weft/base/result.hpp"
#include "weft/base/status.hpp"
#include "weft/deadline.hpp"
#include "weft/event_count.hpp"
#include "weft/io/frontier.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/timeline_word.hpp"

namespace weft::io {

enum class wait_mode : std::uint8_t { all, any };

class semaphore {
 public:
  // A caller-owned, intrusive registration. Set fn, user_data and
  // minimum_value, then acquire_timepoint(); keep it alive and untouched
  // until its callback ran or cancel_timepoint() returned true.
  struct timepoint {
    using callback = void (*)(void* user_data, timepoint& tp, status result);
    callback fn = nullptr;
    void* user_data = nullptr;
    std::uint64_t minimum_value = 0;
    // semaphore-private: the registration links, guarded by the owning
    // semaphore's lock. Do not touch.
    timepoint* link_previous = nullptr;
    timepoint* link_next = nullptr;
    const semaphore* registered_on = nullptr;
  };

  // Any thread. frontier_capacity may be 0 (no frontier kept).
  explicit semaphore(std::uint64_t initial_value = 0, std::uint8_t frontier_capacity = 16);
  // Pending timepoints complete with CANCELLED "semaphore destroyed".
  ~semaphore();
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  // Any thread, lock-free: the current value (acquire: the writes of the
  // signals up to it are visible).
  std::uint64_t query() const { return value_.load(); }
  // Any thread, lock-free. Sticky.
  bool failed() const { return failed_hint_.load() != 0; }
  // Any thread: ok, or a copy of the first failure.
  status failure() const;

  // Any thread. Raises the value to `value` and resolves the timepoints and
  // host waits it satisfies. invalid_argument (naming both values) unless
  // value exceeds the current one; the failure if the semaphore failed.
  status signal(std::uint64_t value);
  // The same, and merges f into the semaphore's frontier (overflow keeps it
  // unchanged). An invalid f (unsorted, zero epoch, ...) is
  // invalid_argument and changes nothing.
  status signal(std::uint64_t value, frontier_view f);
  // Any thread. A non-ok status; the first failure wins and reaches every
  // current and future waiter. An ok status is a caller bug: it is replaced
  // by INTERNAL "semaphore fail called with an ok status".
  void fail(status failure);

  // Any thread. Registers tp, or runs tp.fn synchronously if the semaphore
  // already failed or reached tp.minimum_value. A null fn is a caller bug:
  // nothing is registered and nothing runs.
  void acquire_timepoint(timepoint& tp);
  // Any thread, for a tp acquired on this semaphore. True: tp was removed and
  // its callback never runs. False: its callback already ran or is running
  // (possibly on another thread); the caller synchronizes through the
  // callback itself.
  bool cancel_timepoint(timepoint& tp);

  // Any thread. Blocks until the value reaches `value` (ok), the semaphore
  // fails (the failure, even if the value was reached), or `until` passes
  // (deadline_exceeded naming the values; never earlier).
  status wait(std::uint64_t value, deadline until) const;

  // Any thread. Waits until every (all) or any (any) sems[i] reaches
  // values[i]: all → 0, any → the index of a reached one. The failure of an
  // involved semaphore → that failure; deadline → deadline_exceeded;
  // mismatched spans, an empty list or a null entry → invalid_argument
  // naming the sizes or the index. Leaves no timepoint registered on return.
  static result<std::size_t> wait_multiple(wait_mode mode, std::span<semaphore* const> sems,
                                           std::span<const std::uint64_t> values, deadline until);

  // Any thread. Copies the first out.size() entries of the frontier and
  // returns how many it has (more than out.size() shows truncation).
  std::size_t query_frontier(std::span<frontier_entry> out) const;
  // Any thread. The frontier's capacity (0 if its allocation failed).
  std::size_t frontier_capacity() const { return frontier_.capacity(); }
  // A caller-owned relay from this semaphore to another (no allocation):
  // link(v, target, tv, r) signals target to tv once this semaphore reaches
  // v. If that signal fails (target already failed, or already at tv or
  // beyond), or this semaphore fails or is destroyed first, target is failed
  // with that status instead, so its waiters never hang on a broken chain.
  // Keep r alive and untouched until the relay ran or unlink() returned
  // true; it is a timepoint underneath, so it may run inside link().
  struct relay {
    timepoint tp;  // semaphore-private
    semaphore* target = nullptr;
    std::uint64_t target_value = 0;
  };
  // Any thread.
  void link(std::uint64_t value, semaphore& target, std::uint64_t target_value, relay& r);
  // Any thread. True: removed before it ran, target untouched. False: it ran
  // or is running.
  bool unlink(relay& r) { return cancel_timepoint(r.tp); }

  // Any thread, for diagnostics and tests: timepoints registered and not yet
  // dispatched or cancelled (takes the lock; stale as soon as it returns).
  std::size_t pending_timepoints() const;

 private:
  status signal_locked_and_dispatch(std::uint64_t value, const frontier_view* f);
  void append_locked(timepoint& tp);
  void unlink_locked(timepoint& tp);
  static void dispatch(timepoint* chain, const status& result);

  timeline_word<> value_;
  relaxed_cell<std::uint32_t> failed_hint_{0};  // 1 once failure_ is set (set under mutex_)
  mutable event_count<> host_waiters_;           // wait(): notified by signal and fail

  // Guards failure_, the timepoint list and the frontier: registration and
  // collection must see one order of value changes (see the protocol above).
  mutable std::mutex mutex_;
  status failure_;
  timepoint* head_ = nullptr;  // FIFO of pending timepoints
  timepoint* tail_ = nullptr;
  std::unique_ptr<frontier_entry[]> frontier_storage_;
  frontier_buffer frontier_;
};

}  // namespace weft::io
