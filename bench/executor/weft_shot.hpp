// One weft process per dispatch, for the latency rows: the process is rebuilt
// for every dispatch (a resolved process never runs again), scheduled, and the
// caller waits for the flag its on_complete sets. The drain function is the
// row's: it gets the shot and may use context().
//
//   weft_shot shot(executor, 1, &complete_at_once, nullptr);
//   const std::int64_t ns = shot.round_trip(caller_wait::blocks);   // schedule -> on_complete seen
//   if (!shot.finish(caller_wait::blocks, why)) ...                   // on_release seen; status OK
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "executor/common.hpp"
#include "weft/exec/executor.hpp"
#include "weft/exec/process.hpp"

namespace weft::bench {

class weft_shot {
 public:
  using drain_function = status (*)(weft_shot&, const exec::worker_context&, exec::drain_result&);

  // budget 1: an immediate process (the ready queue); above 1: a compute
  // process that wakes `budget` workers.
  weft_shot(exec::executor& executor, std::uint32_t budget, drain_function drain, void* context)
      : executor_(executor), budget_(budget), drain_(drain), context_(context) {}

  void* context() const { return context_; }
  // Parks counted over the executor's workers right before the last dispatch.
  std::uint64_t parks_before_dispatch() const { return parks_before_; }

  // Caller thread: the ns from just before schedule() to the moment the
  // caller sees on_complete's flag; -1 if schedule() refused (finish() says why).
  std::int64_t round_trip(caller_wait how) {
    completed_.reset();
    released_.reset();
    process_.reset();
    process_.emplace(
        exec::process::options{.drain = &call_drain,
                               .user_data = this,
                               .wake_budget = budget_,
                               .kind = budget_ > 1 ? exec::process_kind::compute : exec::process_kind::immediate,
                               .on_complete = &on_complete,
                               .on_release = &on_release});
    parks_before_ = executor_.statistics().parks;
    const std::int64_t start = now_ns();
    schedule_status_ = executor_.schedule(*process_);
    if (!schedule_status_.is_ok()) return -1;
    completed_.wait(how);
    return now_ns() - start;
  }

  // Caller thread, after round_trip: waits for on_release (the process may be
  // rebuilt after it) and checks the dispatch went through with OK.
  bool finish(caller_wait how, std::string& why) {
    if (!schedule_status_.is_ok()) {
      why = "schedule failed: " + schedule_status_.to_string();
      return false;
    }
    released_.wait(how);
    if (!final_status_.is_ok()) {
      why = "process completed with " + final_status_.to_string();
      return false;
    }
    return true;
  }

 private:
  static status call_drain(exec::process& p, const exec::worker_context& worker, exec::drain_result& result) {
    weft_shot& self = *static_cast<weft_shot*>(p.user_data());
    return self.drain_(self, worker, result);
  }
  static void on_complete(exec::process& p, const status& final_status) {
    weft_shot& self = *static_cast<weft_shot*>(p.user_data());
    self.final_status_ = final_status;
    self.completed_.set();
  }
  static void on_release(exec::process& p) { static_cast<weft_shot*>(p.user_data())->released_.set(); }

  exec::executor& executor_;
  const std::uint32_t budget_;
  const drain_function drain_;
  void* const context_;
  std::uint64_t parks_before_ = 0;
  status schedule_status_;
  status final_status_;
  completion_flag completed_;
  completion_flag released_;
  std::optional<exec::process> process_;
};

}  // namespace weft::bench
