// weft::exec::executor — a pool of worker threads that drain processes.
//
//   auto made = weft::exec::executor::create({.worker_count = 4});
//   if (!made.ok()) return made.status();
//   weft::exec::executor& ex = **made;
//   ex.schedule(process);            // any thread, after publishing the process's work
//   ...
//   ex.shutdown();                   // or destroy it: queued processes complete CANCELLED
//
// How work flows (driver/executor/README.md draws it):
//   - schedule(p) goes through p's drain_gate: of all the schedules that race
//     while p is idle exactly one enqueues it; the rest only set its NEED bit,
//     which the current drainer sees before it lets p go idle (no lost
//     schedule, at most one queue membership).
//   - An immediate process (budget 1) is pushed on the ready queue (a
//     weft::work_queue, FIFO) and one idle worker is woken; the worker that
//     pops it drains it exclusively, up to tuning::immediate_slice_limit calls,
//     then re-queues it or lets it go idle.
//   - A compute process (budget N) is placed in a free compute slot
//     (weft::compute_slot, 64-bit placement epochs) and N distinct idle workers
//     are woken; any worker may enter, drain once and leave. The last one out
//     with no work closes the placement and releases it: vacates the slot,
//     then places the process again if a drainer made progress or a schedule
//     arrived (the drain_gate's NEED bit), or lets it go idle. When every
//     slot is taken the process waits on the ready queue and the worker that
//     pops it tries the slots again, else drains it alone for a slice (the
//     overflow path: it never stalls).
//   - Workers, each iteration: one compute-slot drain, then one look at the
//     ready queue — compute first, but a ready process is never starved by
//     compute work. With nothing found they keep looking for a time budget
//     (tuning::worker_spin_ns), then park in a weft::idle_set.
//   - wake(n) claims n *distinct* idle workers: the scheduling thread posts to
//     at most tuning::wake_direct_max of them, the rest becomes relay credit
//     that each woken worker passes on (tuning::relay_fanout at a time).
//   - Completion is resolved once (weft::lifecycle_word): on_complete runs
//     eagerly in the drainer that finished it, dependents are woken and
//     scheduled; on_release runs after the last drainer left.
//   - cancel(p) works in every state: suspended (resolved and released
//     right there), runnable but idle (queued so a worker resolves it — the
//     anchor stranded this case), queued or draining (the drainer sees it).
//   - shutdown() stops and joins the workers, then completes every process
//     still queued or placed with CANCELLED (and their dependents), and frees
//     everything it allocated.
//
// Thread safety: schedule, cancel, set_wake_budget, wake_workers and the
// snapshots from any thread, including from drain and completion callbacks;
// create and shutdown/destruction from one thread, with no concurrent calls
// (a schedule racing shutdown is refused with failed_precondition only if it
// happens after shutdown began; callers must stop scheduling first).
// Allocation: create() allocates the worker table, the slots and per-worker
// scratch from options.memory; nothing is allocated per schedule or drain
// (a reported error boxes its status).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weft/base/allocator.hpp"
#include "weft/base/result.hpp"
#include "weft/base/status.hpp"
#include "weft/base/thread.hpp"
#include "weft/base/topology.hpp"
#include "weft/compute_slot.hpp"
#include "weft/exec/process.hpp"
#include "weft/exec/tuning.hpp"
#include "weft/idle_set.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/sync/fuzz.hpp"
#include "weft/sync/os.hpp"
#include "weft/work_queue.hpp"

namespace weft::exec {

struct executor_options {
  // Worker threads; 0 = one per physical core of the topology.
  std::uint32_t worker_count = 0;
  // Where the workers run; nullptr = topology::detect() (sysfs, with a fallback).
  const topology* cpu_topology = nullptr;
  // Pin worker i to cpu_topology->worker_cpus(worker_count)[i].
  bool pin_workers = false;
  std::uint32_t compute_slot_count = tuning::compute_slot_count;
  // Time an idle worker keeps looking for work before it parks; 0 parks at once.
  std::int64_t spin_ns = tuning::worker_spin_ns;
  std::size_t local_memory_bytes = tuning::worker_local_memory_bytes;
  std::string thread_name_prefix = "weft-worker";
  // Where the executor's tables come from; nullptr = default_allocator().
  allocator* memory = nullptr;
};

// Counters summed over workers; relaxed snapshots for tests, benchmarks and
// diagnostics.
struct executor_statistics {
  std::uint64_t drains = 0;        // drain calls
  std::uint64_t parks = 0;         // times a worker went to sleep
  std::uint64_t placements = 0;    // compute-slot placements (first and re-placements)
  std::uint64_t overflowed = 0;    // compute processes that found every slot taken
  std::uint64_t requeues = 0;      // immediate processes sent back after their slice limit
};

template <class S = sync::os>
class basic_executor {
 public:
  using process_type = basic_process<S>;

  // Validates the options (each bad value is named in the status), allocates,
  // and starts the workers.
  static result<std::unique_ptr<basic_executor>> create(const executor_options& options = {});

  ~basic_executor();
  basic_executor(const basic_executor&) = delete;
  basic_executor& operator=(const basic_executor&) = delete;

  // Any thread, after publishing the process's work. Makes sure a worker will
  // drain `p` after this call (once, however many schedules race). A terminal
  // resolved process is left alone (a late schedule is harmless) and OK is
  // returned. Errors, with nothing done: the process's options are invalid;
  // it is still suspended; the executor is shutting down.
  status schedule(process_type& p);

  // Any thread. Cancels `p` in whatever state it is in; its completion runs
  // with CANCELLED (or the error it already had) exactly once and its
  // dependents are woken. A terminal process is left alone.
  status cancel(process_type& p);

  // Any thread, typically from p's own drain. Changes how many workers a
  // placement of compute process `p` wakes; raising it while `p` runs wakes
  // the difference now. Error for an immediate process or a budget outside
  // [1, process::max_wake_budget].
  status set_wake_budget(process_type& p, std::uint32_t budget);

  // Any thread. Wakes up to n distinct idle workers (directly or by relay);
  // returns how many this call posted to itself.
  unsigned wake_workers(unsigned n);

  // The destroying thread. Idempotent. See the header comment.
  void shutdown();

  std::uint32_t worker_count() const { return static_cast<std::uint32_t>(workers_.size()); }
  std::uint32_t compute_slot_count() const { return slot_count_; }
  // How many workers are parked or about to park; a relaxed snapshot.
  std::uint32_t idle_worker_count() const { return idle_.idle_count_relaxed(); }
  executor_statistics statistics() const;
  // The CPUs the workers were placed on (empty when not pinned).
  const std::vector<std::uint32_t>& worker_cpus() const { return worker_cpus_; }

 private:
  enum class step { nothing, busy, worked };
  struct worker;
  using slot_type = compute_slot<process_type, S>;

  explicit basic_executor(const executor_options& options, allocator& memory);
  status start_workers(const topology& topo);

  void worker_main(worker& w);
  step find_and_run(worker& w);
  step run_compute(worker& w);
  step run_ready(worker& w);
  bool drain_once(worker& w, process_type& p, drain_result& r);
  step drain_in_slot(worker& w, slot_type& slot, process_type& p, std::uint64_t epoch);
  void drain_exclusive(worker& w, process_type& first);
  void release_placement(slot_type& slot, process_type& p);
  void enqueue(process_type& p);
  void place(process_type& p, unsigned wake_count);
  bool try_place_in_slot(process_type& p);
  void relay(std::size_t from_worker);
  void cancel_in_shutdown(process_type& p);
  bool has_signal(std::uint64_t seen_placements) const;
  auto activator() {
    return [this](process_type& dependent) {
      if (dependent.gate_.schedule()) enqueue(dependent);
    };
  }

  executor_options options_;
  allocator& memory_;
  std::uint32_t slot_count_;

  // ---- shared between threads: each a verified primitive ----
  work_queue<process_type, S> ready_;
  idle_set<tuning::max_workers, S> idle_;
  slot_type* slots_ = nullptr;                     // slot_count_ of them, from memory_
  relaxed_cell<std::uint32_t, S> exiting_{0};      // set once by shutdown, then wake_all
  relaxed_cell<std::uint64_t, S> placements_{0};   // bumped per placement: what spinning workers watch
  relaxed_cell<std::uint32_t, S> relay_credit_{0};
  relaxed_cell<std::uint64_t, S> overflowed_{0};

  // ---- owned by the creating / destroying thread ----
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::uint32_t> worker_cpus_;
  bool shut_down_ = false;
  bool sweeping_ = false;  // shutdown is cancelling leftovers on this thread: enqueue goes to ready_ only
};

using executor = basic_executor<sync::os>;

extern template class basic_executor<sync::os>;
extern template class basic_executor<sync::fuzz>;

}  // namespace weft::exec
