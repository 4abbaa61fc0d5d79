// weft::exec::process — the executor's unit of work.
//
// A process is a drain function that workers call repeatedly, each call doing
// a bounded slice of work, plus everything needed to run it without a task
// graph: a suspend count (fan-in), a list of dependents (fan-out), a wake
// budget (how many workers to bring up for it), a first-error-wins status, a
// completion callback and a release callback.
//
//   struct my_work { /* inbox, tiles, ... */ };
//   weft::exec::process p({.drain = +[](process& self, const worker_context& w, drain_result& r) -> weft::status {
//                             auto& work = *static_cast<my_work*>(self.user_data());
//                             r.did_work = work.run_one_slice(w.worker_index);
//                             r.completed = work.done();
//                             return weft::status::ok();
//                           },
//                          .user_data = &work,
//                          .on_complete = +[](process&, const weft::status& s) { /* eager: results are final */ },
//                          .on_release = +[](process& self) { /* now safe to free what drain touched */ }});
//   executor.schedule(p);          // after publishing work, from any thread
//
// Lifecycle (weft::lifecycle_word; it only moves forward):
//
//   SUSPENDED --last wake()--> RUNNABLE --complete / error--> COMPLETED
//       |                          |
//       +------ cancel() ----------+-----------------------> CANCELLED
//
// Exactly one thread *resolves* a terminal process: it runs on_complete once
// with the final status (the first reported error, else CANCELLED for a
// cancelled process, else OK) and wakes each dependent, in the order of the
// dependents span; a dependent whose suspend count reaches zero becomes
// runnable and is scheduled. Errors do not stop dependents: they run and can
// inspect shared state. on_release runs once, after resolution, when no worker
// can touch the process any more — with several cooperative drainers that is
// after the last one has left, so on_complete may run while other workers are
// still inside drain() and must not free anything drain() uses.
//
// The drain contract (drain_result, zeroed before each call):
//   did_work     useful work happened; call again soon. For a compute process
//                it also tells whichever drainer leaves last that another
//                pass is needed.
//   completed    all work is done; the process completes (sticky: a drain
//                called again after returning completed must say so again).
//   keep_active  no work this call, but more is expected from peers very
//                soon (e.g. waiting for other workers' tiles): keep this
//                worker here instead of letting the process go idle.
//   A non-OK return status is reported as the process's error (first error
//   wins) and completes it.
//   With none of the three set, the process has no work: it goes idle (off
//   every list, costing nothing) until the next schedule().
//
// Classes (immutable for the process's life, so routing never flips):
//   immediate   wake budget 1: one drainer at a time, through the executor's
//               ready queue and the process's drain_gate;
//   compute     budget N: placed in a compute slot, drained by many workers
//               at once (weft::compute_slot); the budget is how many workers a
//               placement wakes and can change while it runs.
//   kind::automatic picks compute when wake_budget > 1.
//
// Who may call what: the constructor and the fields of options before the
// first schedule; state(), is_terminal(), has_error(), wake_budget() from any
// thread; wake(), complete(), cancel(), report_error() are the lifecycle
// operations the executor uses and that tests (or a caller driving processes
// by hand) may call directly — their thread rules are on each. A process must
// stay alive until its on_release has run (or, if it is never scheduled,
// until nobody refers to it). The executor never touches a process after its
// on_release; a caller must not either, so a schedule() or cancel() must not
// race the release: make the process's completion depend on something the
// last schedule published, and free it only after that schedule returned and
// on_release ran (a scope's wait_idle on the scheduling thread does both).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "weft/base/status.hpp"
#include "weft/drain_gate.hpp"
#include "weft/first_wins.hpp"
#include "weft/lifecycle_word.hpp"
#include "weft/mpsc_queue.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/sync/fuzz.hpp"
#include "weft/sync/os.hpp"

#include "weft/exec/scope.hpp"

namespace weft::exec {

template <class S>
class basic_executor;

// What a drain call reports; see the header comment.
struct drain_result {
  bool did_work = false;
  bool completed = false;
  bool keep_active = false;
};

// Handed to every drain call.
struct worker_context {
  std::uint32_t worker_index = 0;          // 0 .. worker_count - 1 (stable per worker thread)
  std::span<std::byte> local_memory = {};  // this worker's scratch, valid during the call
};

enum class process_kind : std::uint8_t { automatic, immediate, compute };

template <class S = sync::os>
class basic_process : public mpsc_queue_node<basic_process<S>, S> {
 public:
  using drain_function = status (*)(basic_process&, const worker_context&, drain_result&);
  using completion_function = void (*)(basic_process&, const status&);
  using release_function = void (*)(basic_process&);

  struct options {
    drain_function drain = nullptr;
    void* user_data = nullptr;
    std::uint32_t suspend_count = 0;               // dependencies that must wake() it first
    std::uint32_t wake_budget = 1;                 // >= 1
    process_kind kind = process_kind::automatic;
    completion_function on_complete = nullptr;     // optional
    release_function on_release = nullptr;         // optional
    std::span<basic_process* const> dependents{};  // caller-owned; must outlive resolution
    basic_scope<S>* scope = nullptr;               // optional: counted from construction to release
  };

  static constexpr std::uint32_t max_wake_budget = 1u << 16;

  explicit basic_process(const options& o)
      : drain_(o.drain),
        user_data_(o.user_data),
        on_complete_(o.on_complete),
        on_release_(o.on_release),
        dependents_(o.dependents),
        scope_(o.scope),
        compute_(o.kind == process_kind::compute || (o.kind == process_kind::automatic && o.wake_budget > 1)),
        life_(o.suspend_count < lifecycle_word<S>::max_suspend_count ? o.suspend_count : 0),
        wake_budget_(o.wake_budget),
        valid_(validate_options(o)) {
    if (scope_ != nullptr) scope_->begin();
  }
  basic_process(const basic_process&) = delete;
  basic_process& operator=(const basic_process&) = delete;

  // Why the options cannot run, naming the bad value; OK if they can. The
  // executor refuses to schedule an invalid process (and resolves nothing).
  const status& validity() const { return valid_; }

  void* user_data() const { return user_data_; }
  bool is_compute() const { return compute_; }
  std::span<basic_process* const> dependents() const { return dependents_; }

  // Any thread; acquire, so a terminal state makes the resolver's writes...
  // only once resolved (see lifecycle_word).
  lifecycle state() const { return life_.state(); }
  bool is_terminal() const { return life_.is_terminal(); }
  bool is_resolved() const { return life_.resolved_relaxed(); }
  // Any thread; a relaxed snapshot.
  bool has_error() const { return error_.has_value_relaxed(); }
  std::uint32_t wake_budget() const { return wake_budget_.load(); }
  std::uint32_t suspend_count() const { return life_.suspend_count_relaxed(); }

  // Any thread: one dependency of this process is resolved. True for exactly
  // the caller that made it runnable; that caller must schedule it.
  bool wake() { return life_.wake(); }

  // A drainer (or any thread while the process runs): records `error` as the
  // process's error unless one is already recorded (first error wins; later
  // ones are dropped, returning false) and marks it finished, so drains stop
  // and the next complete() resolves it with that error.
  bool report_error(status error) {
    if (error.is_ok()) error = errors::internal("report_error called with an OK status");
    auto boxed = std::make_unique<status>(std::move(error));
    const bool first = error_.offer(boxed);
    life_.finish();
    return first;
  }

  // A thread that may finish the process (its drainer, or whoever holds a
  // terminal process): completes it if it is still runnable and, if this call
  // wins the one-time resolution, runs on_complete with the final status and
  // wakes the dependents, calling on_activated(dependent) for each that
  // became runnable, in dependents order. True if this call resolved it.
  template <class OnActivated>
  bool complete(OnActivated&& on_activated) {
    if (!life_.resolve()) return false;
    resolve(on_activated);
    return true;
  }

  struct cancel_outcome {
    lifecycle found;        // the state cancel() found
    bool resolved = false;  // found suspended: resolved here (on_complete ran, dependents woken)
  };

  // Any thread. Cancels the process: a suspended one is resolved right here
  // (with CANCELLED, or with an error already recorded) and its dependents are
  // woken, because nobody else will ever drain it; a runnable one becomes
  // CANCELLED and whoever drains or holds it next resolves it; a terminal one
  // is left alone. (The executor's cancel() also makes sure a runnable one is
  // on a list, and runs on_release for a suspended one.)
  template <class OnActivated>
  cancel_outcome cancel(OnActivated&& on_activated) {
    const lifecycle found = life_.cancel();
    if (found != lifecycle::suspended) return {found, false};
    resolve(on_activated);
    return {found, true};
  }

  // The thread that owns the process after its resolution, once no worker can
  // touch it: runs on_release, then leaves the scope. The process may be freed
  // by on_release; nothing here touches it afterwards.
  void release() {
    basic_scope<S>* const group = scope_;
    if (on_release_ != nullptr) on_release_(*this);
    if (group != nullptr) group->end();
  }

  // Calls the drain function.
  status drain(const worker_context& context, drain_result& result) { return drain_(*this, context, result); }

 private:
  template <class Executor>
  friend class executor_access;
  friend class basic_executor<S>;

  static status validate_options(const options& o) {
    if (o.drain == nullptr) return errors::invalid_argument("process has no drain function");
    if (o.wake_budget == 0 || o.wake_budget > max_wake_budget)
      return errors::invalid_argument("process wake budget ", o.wake_budget, " is outside [1, ", max_wake_budget, "]");
    if (o.suspend_count >= lifecycle_word<S>::max_suspend_count)
      return errors::invalid_argument("process suspend count ", o.suspend_count, " exceeds the maximum ",
                                      lifecycle_word<S>::max_suspend_count - 1);
    if (o.kind == process_kind::immediate && o.wake_budget > 1)
      return errors::invalid_argument("an immediate process has wake budget 1, not ", o.wake_budget);
    for (std::size_t i = 0; i < o.dependents.size(); ++i) {
      if (o.dependents[i] == nullptr) return errors::invalid_argument("process dependent ", i, " is null");
    }
    return status::ok();
  }

  template <class OnActivated>
  void resolve(OnActivated& on_activated) {
    // Snapshot first: on_complete may change what the caller's span refers to
    // only after it has run, but the dependents' storage must outlive this.
    const std::span<basic_process* const> dependents = dependents_;
    std::unique_ptr<status> error = error_.take();
    status final_status;
    if (error != nullptr) {
      final_status = std::move(*error);
    } else if (life_.state() == lifecycle::cancelled) {
      final_status = errors::cancelled("process cancelled");
    }
    if (on_complete_ != nullptr) on_complete_(*this, final_status);
    for (basic_process* dependent : dependents) {
      if (dependent->wake()) on_activated(*dependent);
    }
  }

  // ---- immutable after construction ----
  const drain_function drain_;
  void* const user_data_;
  const completion_function on_complete_;
  const release_function on_release_;
  const std::span<basic_process* const> dependents_;
  basic_scope<S>* const scope_;
  const bool compute_;

  // ---- shared between threads, each a verified primitive ----
  lifecycle_word<S> life_;
  first_wins<status, S> error_;
  drain_gate<S> gate_;                  // IDLE / QUEUED / DRAINING and needs_drain
  relaxed_cell<std::uint32_t, S> wake_budget_;
  // Set by a compute drainer that did work, consumed by the slot's releaser
  // (published to it by the slot's acq_rel leave chain): another pass is due.
  relaxed_cell<std::uint32_t, S> progress_{0};

  const status valid_;
};

using process = basic_process<sync::os>;

}  // namespace weft::exec
