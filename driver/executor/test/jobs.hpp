// Drain functions and fixtures shared by the executor tests. Each job bundles
// its process with the state its drain function uses; user_data points at the
// job.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "test_support.hpp"
#include "weft/exec/executor.hpp"
#include "weft/exec/process.hpp"
#include "weft/exec/scope.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/work_queue.hpp"

namespace weft::exec::test {

template <class S>
struct job {
  using process = basic_process<S>;
  using drain_function = typename process::drain_function;

  // ---- configuration, set before the process is scheduled ----
  std::uint32_t complete_after = 1;  // counting: drains until completion
  std::uint32_t tiles = 0;           // tiles: how many
  status failure;                    // failing: what every drain returns
  int id = 0;
  status_log* log = nullptr;         // completion statuses, if set
  void* extra = nullptr;             // anything else a test's own drain needs

  // ---- shared state, all weft primitives ----
  relaxed_cell<std::uint32_t> drains{0};
  relaxed_cell<std::uint32_t> ready{0};         // sleeping: 1 = has work
  relaxed_cell<std::uint32_t> claimed{0};       // tiles: next tile to hand out
  relaxed_cell<std::uint32_t> retired{0};       // tiles: tiles finished
  relaxed_cell<std::uint32_t> inside{0};        // exclusive check: drainers inside right now
  relaxed_cell<std::uint32_t> overlaps{0};      // exclusive check: times two were inside
  relaxed_cell<std::uint32_t> stop{0};          // endless: 1 = complete at the next drain
  std::vector<std::unique_ptr<relaxed_cell<std::uint32_t>>> tile_hits;      // per tile
  std::vector<std::unique_ptr<relaxed_cell<std::uint32_t>>> worker_hits;    // per worker index
  counter entered_sleep;   // drains that found no work
  counter completions;
  counter releases;
  // fed: units pushed by the test, each taken by exactly one drain
  struct unit : mpsc_queue_node<unit> {};
  work_queue<unit> inbox;
  std::unique_ptr<process> proc;

  // Builds the process; `drain` is one of the static drains below.
  void make(drain_function drain, basic_scope<S>* group, std::uint32_t suspend_count = 0,
            std::uint32_t wake_budget = 1, std::span<process* const> dependents = {},
            process_kind kind = process_kind::automatic) {
    for (std::uint32_t i = 0; i < tiles; ++i) tile_hits.push_back(std::make_unique<relaxed_cell<std::uint32_t>>(0));
    for (std::uint32_t i = 0; i < 256; ++i) worker_hits.push_back(std::make_unique<relaxed_cell<std::uint32_t>>(0));
    typename process::options o;
    o.drain = drain;
    o.user_data = this;
    o.suspend_count = suspend_count;
    o.wake_budget = wake_budget;
    o.kind = kind;
    o.dependents = dependents;
    o.scope = group;
    o.on_complete = &on_complete;
    o.on_release = &on_release;
    proc = std::make_unique<process>(o);
  }

  // make() with one dependent, `next` (already made), whose suspend count
  // this process's resolution brings down; the job keeps the dependents span's
  // storage, so it outlives the process.
  void make_waking(job& next, drain_function drain, basic_scope<S>* group, std::uint32_t suspend_count = 0,
                   std::uint32_t wake_budget = 1) {
    next_ = next.proc.get();
    make(drain, group, suspend_count, wake_budget, std::span<process* const>(&next_, 1));
  }

  static job& of(process& p) { return *static_cast<job*>(p.user_data()); }

  static void on_complete(process& p, const status& s) {
    job& j = of(p);
    if (j.log != nullptr) j.log->record(j.id, s);
    j.completions.add();
  }
  static void on_release(process& p) { of(p).releases.add(); }

  std::uint32_t participants() const {
    std::uint32_t n = 0;
    for (const auto& w : worker_hits) n += w->load() != 0 ? 1 : 0;
    return n;
  }

  // Completes after complete_after drains, reporting work on each.
  static status counting(process& p, const worker_context& w, drain_result& r) {
    job& j = of(p);
    j.worker_hits[w.worker_index]->fetch_add(1);
    const std::uint32_t n = j.drains.fetch_add(1) + 1;
    r.did_work = true;
    r.completed = n >= j.complete_after;
    return status::ok();
  }

  // Like counting, and counts overlapping drains (an immediate process must
  // never have two drainers).
  static status exclusive_counting(process& p, const worker_context& w, drain_result& r) {
    job& j = of(p);
    if (j.inside.fetch_add(1) != 0) j.overlaps.fetch_add(1);
    status s = counting(p, w, r);
    j.inside.fetch_sub(1);
    return s;
  }

  static status failing(process& p, const worker_context&, drain_result&) {
    job& j = of(p);
    j.drains.fetch_add(1);
    return j.failure;
  }

  // No work until `ready` is set; then completes.
  static status sleeping(process& p, const worker_context&, drain_result& r) {
    job& j = of(p);
    j.drains.fetch_add(1);
    if (j.ready.load() == 0) {
      j.entered_sleep.add();
      return status::ok();
    }
    r.did_work = true;
    r.completed = true;
    return status::ok();
  }

  // Hands out `tiles` tiles one per call to whoever drains; the drainer that
  // retires the last one completes the process.
  static status tiled(process& p, const worker_context& w, drain_result& r) {
    return run_tile(p, w, r, of(p).claimed.fetch_add(1));
  }
  // The rest of tiled() for a tile the caller claimed.
  static status run_tile(process& p, const worker_context& w, drain_result& r, std::uint32_t tile) {
    job& j = of(p);
    j.drains.fetch_add(1);
    j.worker_hits[w.worker_index]->fetch_add(1);
    if (tile >= j.tiles) {
      r.completed = j.retired.load() == j.tiles;
      return status::ok();
    }
    j.tile_hits[tile]->fetch_add(1);
    r.did_work = true;
    r.completed = j.retired.fetch_add(1) + 1 == j.tiles;
    return status::ok();
  }

  // Takes one unit from the inbox per call (counted in `retired` and
  // `entered_sleep`); completes when the inbox is empty and `stop` is set.
  static status fed(process& p, const worker_context&, drain_result& r) {
    job& j = of(p);
    j.drains.fetch_add(1);
    const auto popped = j.inbox.try_pop();
    if (popped) {
      j.retired.fetch_add(1);
      j.entered_sleep.add();
      r.did_work = true;
    } else if (popped.status != work_queue_status::empty) {
      r.keep_active = true;  // another drainer is popping, or a push is mid-way
    } else if (j.stop.load() != 0) {
      r.completed = true;
    }
    return status::ok();
  }

  // Reports keep_active until `stop` is set, then completes.
  static status endless(process& p, const worker_context& w, drain_result& r) {
    job& j = of(p);
    j.drains.fetch_add(1);
    j.worker_hits[w.worker_index]->fetch_add(1);
    if (j.stop.load() != 0) {
      r.completed = true;
      return status::ok();
    }
    r.keep_active = true;
    return status::ok();
  }

 private:
  process* next_ = nullptr;  // make_waking's dependent
};

// Points each job's completion log at `log`, with ids 0, 1, ... in list order.
template <class S>
void log_in_order(status_log& log, std::initializer_list<job<S>*> jobs) {
  int id = 0;
  for (job<S>* j : jobs) {
    j->log = &log;
    j->id = id++;
  }
}

// The ids in `log`, in completion order.
inline std::vector<int> completion_ids(const status_log& log) {
  std::vector<int> ids;
  for (const auto& e : log.entries()) ids.push_back(e.id);
  return ids;
}

template <class S>
class executor_fixture : public ::testing::Test {
 protected:
  using process_type = basic_process<S>;
  using executor = basic_executor<S>;
  using job_type = job<S>;

  std::unique_ptr<executor> make_executor(std::uint32_t workers, executor_options o = {}) {
    o.worker_count = workers;
    auto made = executor::create(o);
    EXPECT_TRUE(made.ok()) << made.status().to_string();
    if (!made.ok()) return nullptr;
    return std::move(made).value();
  }

  void wait_idle(basic_scope<S>& group) {
    const status s = group.wait_idle(deadline::after(std::chrono::seconds(60)));
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  // `count` fresh jobs, each handed to setup(job, index), which configures
  // and makes it.
  template <class Setup>
  static std::vector<std::unique_ptr<job_type>> make_jobs(int count, Setup setup) {
    std::vector<std::unique_ptr<job_type>> jobs;
    for (int i = 0; i < count; ++i) {
      jobs.push_back(std::make_unique<job_type>());
      setup(*jobs.back(), i);
    }
    return jobs;
  }

  // The process completed (on_complete ran) and was released, once each.
  static void expect_completed_and_released_once(const job_type& j) {
    EXPECT_EQ(j.completions.get(), 1u) << "job " << j.id;
    EXPECT_EQ(j.releases.get(), 1u) << "job " << j.id;
  }

  watchdog dog_{std::chrono::seconds(120)};
};

}  // namespace weft::exec::test
