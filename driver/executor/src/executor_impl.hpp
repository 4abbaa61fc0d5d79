// Member definitions of weft::exec::basic_executor, instantiated for the os
// and fuzz backends in executor.cpp. Every shared word touched here belongs to
// a concurrency/ primitive; the protocols are argued in their headers, and the
// comments below say which one closes each race.
#pragma once

#include <algorithm>
#include <new>
#include <string>
#include <utility>

#include "weft/exec/executor.hpp"
#include "weft/spin_policy.hpp"

namespace weft::exec {

template <class S>
struct basic_executor<S>::worker {
  std::uint32_t index = 0;
  std::span<std::byte> local_memory{};
  std::size_t scan_start = 0;  // worker thread only: where its next slot scan begins
  thread handle;
  relaxed_cell<std::uint64_t, S> drains{0};
  relaxed_cell<std::uint64_t, S> parks{0};
  relaxed_cell<std::uint64_t, S> requeues{0};
};

template <class S>
result<std::unique_ptr<basic_executor<S>>> basic_executor<S>::create(const executor_options& options) {
  if (options.worker_count > tuning::max_workers)
    return errors::invalid_argument("worker count ", options.worker_count, " exceeds the maximum ", tuning::max_workers);
  if (options.compute_slot_count == 0 || options.compute_slot_count > tuning::max_compute_slots)
    return errors::invalid_argument("compute slot count ", options.compute_slot_count, " is outside [1, ",
                                    tuning::max_compute_slots, "]");
  if (options.spin_ns < 0) return errors::invalid_argument("spin time ", options.spin_ns, " ns is negative");
  if (options.local_memory_bytes > (std::size_t{1} << 30))
    return errors::invalid_argument("worker local memory of ", options.local_memory_bytes,
                                    " bytes exceeds the 1 GiB limit");

  topology detected;
  const topology* topo = options.cpu_topology;
  if (topo == nullptr) {
    detected = topology::detect();
    topo = &detected;
  }
  if (topo->cpus.empty()) return errors::invalid_argument("the topology has no CPUs (source: ", topo->source, ")");

  allocator& memory = options.memory != nullptr ? *options.memory : default_allocator();
  std::unique_ptr<basic_executor> made(new (std::nothrow) basic_executor(options, memory));
  if (made == nullptr) return errors::resource_exhausted("cannot allocate the executor");
  WEFT_RETURN_IF_ERROR(made->start_workers(*topo));
  return made;
}

template <class S>
basic_executor<S>::basic_executor(const executor_options& options, allocator& memory)
    : options_(options), memory_(memory), slot_count_(options.compute_slot_count) {}

template <class S>
status basic_executor<S>::start_workers(const topology& topo) {
  const std::uint32_t count =
      options_.worker_count != 0 ? options_.worker_count : static_cast<std::uint32_t>(topo.worker_cpus(0).size());
  if (count == 0) return errors::invalid_argument("the topology yields no worker CPUs (source: ", topo.source, ")");
  if (count > tuning::max_workers)
    return errors::invalid_argument("the topology asks for ", count, " workers; the maximum is ", tuning::max_workers);

  auto slot_memory = memory_.allocate(sizeof(slot_type) * slot_count_, alignof(slot_type));
  if (!slot_memory.ok()) return slot_memory.status();
  slots_ = static_cast<slot_type*>(*slot_memory);
  for (std::uint32_t i = 0; i < slot_count_; ++i) new (&slots_[i]) slot_type();

  if (options_.pin_workers) worker_cpus_ = topo.worker_cpus(count);

  // Every worker exists (and is counted nowhere as idle) before any thread
  // starts: idle_set needs no initialization, a worker announces itself.
  workers_.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto w = std::make_unique<worker>();
    w->index = i;
    w->scan_start = i % slot_count_;
    if (options_.local_memory_bytes != 0) {
      auto bytes = memory_.allocate(options_.local_memory_bytes, 64);
      if (!bytes.ok()) {
        workers_.push_back(std::move(w));
        shutdown();
        return bytes.status();
      }
      w->local_memory = {static_cast<std::byte*>(*bytes), options_.local_memory_bytes};
    }
    workers_.push_back(std::move(w));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    worker& w = *workers_[i];
    thread_options t;
    t.name = options_.thread_name_prefix + "-" + std::to_string(i);
    if (!worker_cpus_.empty()) t.cpus = {worker_cpus_[i % worker_cpus_.size()]};
    auto started = thread::start(std::move(t), [this, &w] { worker_main(w); });
    if (!started.ok()) {
      shutdown();
      return started.status();
    }
    w.handle = std::move(*started);
  }
  return status::ok();
}

template <class S>
basic_executor<S>::~basic_executor() {
  shutdown();
}

// ---------------------------------------------------------------- scheduling

template <class S>
status basic_executor<S>::schedule(process_type& p) {
  if (!p.validity().is_ok()) return p.validity();
  if (p.is_resolved()) return status::ok();  // finished: a late schedule is harmless
  if (p.state() == lifecycle::suspended)
    return errors::failed_precondition("process is suspended with ", p.suspend_count(),
                                       " dependencies outstanding; it is scheduled when the last one wakes it");
  if (exiting_.load() != 0) return errors::failed_precondition("executor is shutting down; process not scheduled");
  // drain_gate: exactly one of the racing schedules of an idle process gets
  // true and enqueues; the others' needs_drain reaches the current drainer.
  if (p.gate_.schedule()) enqueue(p);
  return status::ok();
}

template <class S>
status basic_executor<S>::cancel(process_type& p) {
  if (!p.validity().is_ok()) return p.validity();
  const auto outcome = p.cancel(activator());
  if (outcome.resolved) {
    // It was suspended: never queued, never drained, so nobody else will
    // release it.
    p.release();
    return status::ok();
  }
  if (outcome.found == lifecycle::runnable && p.gate_.schedule()) {
    // Runnable and idle, on no list (the anchor stranded this case): the
    // gate just made us its only owner, as if we had popped it, so resolve
    // and release it right here. Queued or draining ones are resolved by
    // their drainer, which checks is_terminal() before every drain call.
    p.gate_.begin_drain();
    if (p.complete(activator())) p.release();
  }
  return status::ok();
}

template <class S>
status basic_executor<S>::set_wake_budget(process_type& p, std::uint32_t budget) {
  if (budget == 0 || budget > process_type::max_wake_budget)
    return errors::invalid_argument("wake budget ", budget, " is outside [1, ", process_type::max_wake_budget, "]");
  if (!p.is_compute()) return errors::invalid_argument("process is immediate; its wake budget stays 1, not ", budget);
  const std::uint32_t old = p.wake_budget_.exchange(budget);
  if (budget > old && !p.is_terminal()) wake_workers(budget - old);
  return status::ok();
}

template <class S>
void basic_executor<S>::enqueue(process_type& p) {
  if (p.is_compute() && !sweeping_) {
    // QUEUED -> DRAINING before anyone can enter: a placement is one long
    // drain shared by its drainers, and this consumes the NEED that brought
    // it here (a later schedule sets it again for the releaser).
    p.gate_.begin_drain();
    place(p, p.wake_budget());
    return;
  }
  ready_.push(&p);
  if (!sweeping_) wake_workers(1);
}

template <class S>
bool basic_executor<S>::try_place_in_slot(process_type& p) {
  for (std::uint32_t i = 0; i < slot_count_; ++i) {
    if (slots_[i].occupied_relaxed()) continue;
    if (slots_[i].try_place(&p)) {
      placements_.fetch_add(1);
      return true;
    }
  }
  return false;
}

template <class S>
void basic_executor<S>::place(process_type& p, unsigned wake_count) {
  if (try_place_in_slot(p)) {
    wake_workers(wake_count);
    return;
  }
  // Every slot is taken: the ready queue is the overflow list. The worker
  // that pops p tries the slots again, and drains it alone if they are still
  // full, so it keeps making progress until a slot frees.
  overflowed_.fetch_add(1);
  ready_.push(&p);
  wake_workers(1);
}

template <class S>
unsigned basic_executor<S>::wake_workers(unsigned n) {
  if (n == 0) return 0;
  const unsigned direct = std::min(n, tuning::wake_direct_max);
  // The credit goes up before the direct posts, so a worker we wake cannot
  // look for it too early. If fewer workers were idle than asked, the credit
  // outlives the demand: it costs a few spurious wakes later, bounded by the
  // worker count (busy workers see the work before they park: idle_set's
  // handshake), never a missed one.
  if (n > direct) {
    const std::uint32_t cap = worker_count();
    if (relay_credit_.load() < cap) relay_credit_.fetch_add(std::min<unsigned>(n - direct, cap));
  }
  return idle_.wake(direct);
}

template <class S>
void basic_executor<S>::relay(std::size_t from_worker) {
  const std::uint32_t credit = relay_credit_.exchange(0);
  if (credit == 0) return;
  const unsigned take = std::min<unsigned>(credit, tuning::relay_fanout);
  const unsigned woken = idle_.wake(take, from_worker + 1);
  if (woken == take && credit > take) relay_credit_.fetch_add(credit - take);
}

// ------------------------------------------------------------------ workers

template <class S>
bool basic_executor<S>::has_signal(std::uint64_t seen_placements) const {
  return exiting_.load() != 0 || ready_.maybe_nonempty() || placements_.load() != seen_placements;
}

template <class S>
void basic_executor<S>::worker_main(worker& w) {
  std::int64_t idle_since = 0;  // when the current run of fruitless scans began; 0 = working
  for (;;) {
    if (exiting_.load() != 0) break;
    if (relay_credit_.load() != 0) relay(w.index);  // pass on wake demand (one relaxed load when there is none)
    const std::uint64_t seen = placements_.load();
    const step found = find_and_run(w);
    if (found == step::worked) {
      idle_since = 0;
      continue;
    }
    if (found == step::busy) continue;  // another worker is popping right now: look again

    const std::int64_t now = S::now_ns();
    if (idle_since == 0) idle_since = now;
    const std::int64_t left = options_.spin_ns - (now - idle_since);
    if (left > 0) {
      // Time-based spin (weft::spin_policy): watch the cheap signals — a
      // ready process, a new placement, shutdown — until one changes or the
      // budget is spent, then scan again either way.
      spin_policy<S>(left, static_cast<std::uint32_t>(std::min<std::int64_t>(left, 1u << 30)))
          .spin([&] { return has_signal(seen); });
      continue;
    }

    // Park (weft::idle_set). Announce first, then scan once more: a waker that
    // published before our announce is seen by this scan; one that publishes
    // after it finds us idle and posts to us, so park() returns at once.
    idle_.prepare_park(w.index);
    const step again = find_and_run(w);
    if (again != step::nothing || exiting_.load() != 0) {
      idle_.cancel_park(w.index);
      if (again == step::worked) idle_since = 0;
      continue;
    }
    w.parks.fetch_add(1);
    idle_.park(w.index);
    idle_since = 0;
  }
}

template <class S>
typename basic_executor<S>::step basic_executor<S>::find_and_run(worker& w) {
  // Compute slots first (the throughput path), then one look at the ready
  // queue in the same iteration, so a budget-1 process is never starved by a
  // compute phase (the anchor looked at its immediate list only when every
  // slot came up empty).
  const step compute = run_compute(w);
  const step ready = run_ready(w);
  return std::max(compute, ready);
}

template <class S>
typename basic_executor<S>::step basic_executor<S>::run_compute(worker& w) {
  for (std::uint32_t k = 0; k < slot_count_; ++k) {
    const std::size_t i = (w.scan_start + k) % slot_count_;
    slot_type& slot = slots_[i];
    if (!slot.open_relaxed()) continue;
    const auto entered = slot.try_enter();
    if (!entered) continue;
    w.scan_start = (i + 1) % slot_count_;  // rotate: workers spread over concurrent compute processes
    return drain_in_slot(w, slot, *entered->item, entered->epoch);
  }
  return step::nothing;
}

// One drain call, unless p is already terminal (cancelled, or finished by
// another drainer). True: p is finished (completed, failed or terminal) and
// the caller resolves it.
template <class S>
bool basic_executor<S>::drain_once(worker& w, process_type& p, drain_result& r) {
  if (p.is_terminal()) return true;
  status drained = p.drain({w.index, w.local_memory}, r);
  w.drains.fetch_add(1);
  if (!drained.is_ok()) {
    p.report_error(std::move(drained));
    return true;
  }
  return r.completed;
}

template <class S>
typename basic_executor<S>::step basic_executor<S>::drain_in_slot(worker& w, slot_type& slot, process_type& p,
                                                                   std::uint64_t epoch) {
  // compute_slot: while we are inside, this placement cannot be released, so
  // p stays valid and stays this placement's process.
  drain_result r;
  const bool finished = drain_once(w, p, r);
  if (finished) {
    // lifecycle_word: one resolver, even with every drainer finishing at
    // once. Completion is eager; the release waits for the last drainer.
    p.complete(activator());
    slot.close(epoch);  // no new drainers for a finished process
    if (slot.leave(true)) release_placement(slot, p);
    return step::worked;
  }
  // Progress is published to whichever drainer leaves last through the
  // slot's acq_rel leave chain (a relaxed cell is enough for that).
  if (r.did_work && p.progress_.load() == 0) p.progress_.store(1);
  const bool no_work = !r.did_work && !r.keep_active;
  // The last drainer out with no work closes the placement in the same step.
  if (slot.leave(no_work)) release_placement(slot, p);
  return no_work ? step::nothing : step::worked;
}

template <class S>
void basic_executor<S>::release_placement(slot_type& slot, process_type& p) {
  // We hold the placement's one release: the slot is closed and empty of
  // drainers, so p is ours alone until we hand it on.
  slot.vacate();
  if (p.is_terminal()) {
    // Resolved by a drainer (or, for a cancelled process, here).
    p.complete(activator());
    p.release();
    return;
  }
  // Another pass is due if a drainer made progress since the placement's
  // last pass; otherwise the drain_gate decides in one RMW: a schedule that
  // raced the release either set NEED before our step (we place again) or
  // finds the gate IDLE after it (it enqueues).
  if (p.progress_.exchange(0) != 0) {
    // The drainer that made progress is awake and will look again: place
    // without waking anyone. (Still DRAINING; begin_drain consumes NEED with
    // acquire.)
    p.gate_.begin_drain();
    place(p, 0);
    return;
  }
  if (p.gate_.finish_drain()) place(p, p.wake_budget());
}

template <class S>
typename basic_executor<S>::step basic_executor<S>::run_ready(worker& w) {
  if (!ready_.maybe_nonempty()) return step::nothing;
  const auto popped = ready_.try_pop();
  if (!popped) return popped.status == work_queue_status::empty ? step::nothing : step::busy;
  process_type& p = *popped.node;
  p.gate_.begin_drain();  // QUEUED -> DRAINING; consumes NEED
  const std::uint32_t budget = p.wake_budget();  // before placing: then p may complete without us
  if (p.is_compute() && !p.is_terminal() && try_place_in_slot(p)) {
    // An overflowed compute process found a slot; this worker scans next.
    wake_workers(budget - 1);
    return step::worked;
  }
  drain_exclusive(w, p);
  return step::worked;
}

template <class S>
void basic_executor<S>::drain_exclusive(worker& w, process_type& first) {
  process_type* current = &first;
  // Continuations: when the process finishes, the first budget-1 dependent it
  // activates is drained right here instead of going through the ready queue
  // and a wake (a dependency chain stays on one warm worker). Bounded like a
  // slice, so a long chain still lets the queue in.
  std::uint32_t continuations = 0;
  for (std::uint32_t slices = 0;;) {
    process_type& p = *current;
    drain_result r;
    const bool finished = drain_once(w, p, r);
    if (finished) {
      // The only drainer: resolve, then release at once.
      process_type* next = nullptr;
      const bool keep_next = continuations < tuning::immediate_slice_limit;
      const bool resolved = p.complete([&](process_type& dependent) {
        if (!dependent.gate_.schedule()) return;
        if (next == nullptr && keep_next && !dependent.is_compute()) {
          next = &dependent;  // ours: the gate said so; drained below
        } else {
          enqueue(dependent);
        }
      });
      if (resolved) p.release();
      if (next == nullptr) return;
      ++continuations;
      next->gate_.begin_drain();
      current = next;
      slices = 0;
      continue;
    }
    if (r.did_work || r.keep_active) {
      if (++slices < tuning::immediate_slice_limit) continue;
      // Slice used up: to the back of the queue (still DRAINING: the next
      // popper's begin_drain takes over), so others get a turn.
      w.requeues.fetch_add(1);
      // Read before handing p on: once it is placed or queued, another
      // worker may complete and release it.
      const std::uint32_t budget = p.wake_budget();
      if (p.is_compute() && try_place_in_slot(p)) {
        wake_workers(budget);
      } else {
        ready_.push(&p);
      }
      return;
    }
    // No work: go idle unless a schedule raced us. After finish_drain()
    // returns false the process may already be someone else's (even freed):
    // nothing below touches it.
    if (p.gate_.finish_drain()) continue;
    return;
  }
}

// ----------------------------------------------------------------- shutdown

template <class S>
void basic_executor<S>::cancel_in_shutdown(process_type& p) {
  p.cancel(activator());  // runnable -> cancelled (never suspended here)
  if (p.complete(activator())) p.release();
}

template <class S>
void basic_executor<S>::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // idle_set's handshake makes the flag visible to every worker it wakes, and
  // a worker about to park re-checks it after announcing itself.
  exiting_.store(1);
  idle_.wake_all();
  for (auto& w : workers_) {
    if (w->handle.joinable()) w->handle.join();
  }
  // No worker runs now. Everything still placed or queued completes with
  // CANCELLED; dependents it activates land on the ready queue and are
  // cancelled in turn.
  sweeping_ = true;
  if (slots_ != nullptr) {
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
      slot_type& slot = slots_[i];
      const auto entered = slot.try_enter();
      if (!entered) continue;
      process_type& p = *entered->item;
      slot.close(entered->epoch);
      if (slot.leave(true)) {
        slot.vacate();
        cancel_in_shutdown(p);
      }
    }
  }
  for (;;) {
    const auto popped = ready_.try_pop();
    if (!popped) break;
    popped.node->gate_.begin_drain();
    cancel_in_shutdown(*popped.node);
  }
  if (slots_ != nullptr) {
    for (std::uint32_t i = 0; i < slot_count_; ++i) slots_[i].~slot_type();
    memory_.deallocate(slots_, sizeof(slot_type) * slot_count_, alignof(slot_type));
    slots_ = nullptr;
  }
  for (auto& w : workers_) {
    if (!w->local_memory.empty()) memory_.deallocate(w->local_memory.data(), w->local_memory.size(), 64);
    w->local_memory = {};
  }
}

template <class S>
executor_statistics basic_executor<S>::statistics() const {
  executor_statistics s;
  for (const auto& w : workers_) {
    s.drains += w->drains.load();
    s.parks += w->parks.load();
    s.requeues += w->requeues.load();
  }
  s.placements = placements_.load();
  s.overflowed = overflowed_.load();
  return s;
}

}  // namespace weft::exec
