// Sequential process throughput: how many small processes per second the
// executor gets through when each one is a separate unit of work, against
// oneTBB's equivalents and the caller doing the bodies itself. Every body is
// one tile of tile_set (~50 ns: the serial_call row shows it), so the
// difference between rows is what scheduling a unit costs.
//
// exec_sequential/<row>/chain:256 — a dependency chain: unit i+1 may start
//   only after unit i finished. weft: 256 processes, process i+1 has suspend
//   count 1 and is process i's dependent (the executor activates and
//   schedules it when i completes); the caller schedules the first and waits
//   (blocked) for the last one's on_complete. TBB: a flow graph of 256
//   continue_nodes joined by edges, try_put into the first, wait_for_all.
//   Each body checks that it ran in chain order.
// exec_sequential/<row>/batch:256 — 256 independent units submitted at once.
//   weft: the caller schedules 256 processes back to back and waits for the
//   last on_complete (a counter); TBB: task_group::run 256 times, wait().
//
// One iteration is one chain or batch (manual time: from the first schedule
// to the caller seeing the last completion; building and releasing the
// processes is not timed). Reported per unit (items_per_iteration = 256).
// weft runs the default executor (one worker per core, default spin,
// unpinned); TBB its default arena.
#include <tbb/flow_graph.h>
#include <tbb/task_group.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executor/common.hpp"
#include "harness/harness.hpp"
#include "weft/deadline.hpp"
#include "weft/exec/executor.hpp"
#include "weft/exec/process.hpp"
#include "weft/exec/scope.hpp"

namespace weft::bench {
namespace {

constexpr std::uint32_t units = 256;
constexpr int iterations = 40;

enum class shape { chain, batch };

// Runs bodies in order where the shape promises it, and counts the ones that
// did not.
struct unit_bodies {
  explicit unit_bodies(std::uint32_t count) : tiles(count) {}
  void run(std::uint32_t index) {
    tiles.run(index);
    if (ordered && next_in_order++ != index) ++out_of_order;
  }
  void start(shape s) {
    ordered = s == shape::chain;
    next_in_order = 0;
  }
  tile_set tiles;
  bool ordered = false;
  std::uint32_t next_in_order = 0;  // chain only: the chain orders every access
  std::uint64_t out_of_order = 0;
};

class serial_units {
 public:
  explicit serial_units(unit_bodies& bodies) : bodies_(bodies) {}
  bool ready(std::string&) { return true; }
  std::int64_t run(shape) {
    const std::int64_t start = now_ns();
    for (std::uint32_t i = 0; i < units; ++i) bodies_.run(i);
    return now_ns() - start;
  }

 private:
  unit_bodies& bodies_;
};

class tbb_units {
 public:
  explicit tbb_units(unit_bodies& bodies) : bodies_(bodies) {
    using node = tbb::flow::continue_node<tbb::flow::continue_msg>;
    for (std::uint32_t i = 0; i < units; ++i) {
      nodes_.push_back(std::make_unique<node>(graph_, [this, i](const tbb::flow::continue_msg&) { bodies_.run(i); }));
      if (i > 0) tbb::flow::make_edge(*nodes_[i - 1], *nodes_[i]);
    }
  }
  bool ready(std::string&) { return true; }
  std::int64_t run(shape s) {
    const std::int64_t start = now_ns();
    if (s == shape::chain) {
      nodes_.front()->try_put(tbb::flow::continue_msg());
      graph_.wait_for_all();
    } else {
      tbb::task_group group;
      for (std::uint32_t i = 0; i < units; ++i) group.run([this, i] { bodies_.run(i); });
      group.wait();
    }
    return now_ns() - start;
  }

 private:
  unit_bodies& bodies_;
  tbb::flow::graph graph_;
  std::vector<std::unique_ptr<tbb::flow::continue_node<tbb::flow::continue_msg>>> nodes_;
};

class weft_units {
 public:
  explicit weft_units(unit_bodies& bodies) : bodies_(bodies), entries_(units), processes_(units), pointers_(units) {
    executor_ = make_executor(0, exec::tuning::worker_spin_ns, {}, error_);
    for (std::uint32_t i = 0; i < units; ++i) entries_[i] = {this, i};
  }
  bool ready(std::string& why) {
    if (executor_ != nullptr) return true;
    why = error_;
    return false;
  }
  // -1 on failure (error() says why).
  std::int64_t run(shape s) {
    remaining_.store(units, std::memory_order_relaxed);
    done_.reset();
    // Last to first: a process's dependents must exist when it is built.
    for (std::uint32_t i = units; i-- > 0;) {
      const bool chained = s == shape::chain;
      processes_[i].emplace(exec::process::options{
          .drain = &drain,
          .user_data = &entries_[i],
          .suspend_count = chained && i > 0 ? 1u : 0u,
          .on_complete = &on_complete,
          .dependents = chained && i + 1 < units ? std::span<exec::process* const>(&pointers_[i + 1], 1)
                                                 : std::span<exec::process* const>(),
          .scope = &scope_});
      pointers_[i] = &*processes_[i];
    }
    const std::int64_t start = now_ns();
    for (std::uint32_t i = 0; i < (s == shape::chain ? 1 : units); ++i) {
      if (status scheduled = executor_->schedule(*processes_[i]); !scheduled.is_ok()) {
        error_ = "schedule failed: " + scheduled.to_string();
        return -1;
      }
    }
    done_.wait(caller_wait::blocks);
    const std::int64_t elapsed = now_ns() - start;
    if (status idle = scope_.wait_idle(deadline::after(std::chrono::seconds(10))); !idle.is_ok()) {
      error_ = idle.to_string();
      return -1;
    }
    for (auto& p : processes_) p.reset();
    if (failures_.load(std::memory_order_relaxed) != 0) {
      error_ = "a process completed with an error";
      return -1;
    }
    return elapsed;
  }
  const std::string& error() const { return error_; }

 private:
  struct entry {
    weft_units* owner;
    std::uint32_t index;
  };
  static status drain(exec::process& p, const exec::worker_context&, exec::drain_result& result) {
    const entry& e = *static_cast<const entry*>(p.user_data());
    e.owner->bodies_.run(e.index);
    result.completed = true;
    return status::ok();
  }
  static void on_complete(exec::process& p, const status& final_status) {
    weft_units& self = *static_cast<const entry*>(p.user_data())->owner;
    if (!final_status.is_ok()) self.failures_.fetch_add(1, std::memory_order_relaxed);
    // acq_rel: the last completion carries every body's writes to the caller.
    if (self.remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) self.done_.set();
  }

  unit_bodies& bodies_;
  std::vector<entry> entries_;
  std::vector<std::optional<exec::process>> processes_;
  std::vector<exec::process*> pointers_;
  exec::scope scope_;
  alignas(line_size) std::atomic<std::uint32_t> remaining_{0};
  std::atomic<std::uint32_t> failures_{0};
  completion_flag done_;
  std::string error_;
  std::unique_ptr<exec::executor> executor_;  // last: stopped before the rest goes
};

template <class Row>
std::string error_of(const Row&) {
  return "dispatch failed";
}
std::string error_of(const weft_units& row) { return row.error(); }

template <class Row>
void run_units(benchmark::State& state, shape s) {
  wait_until_quiet();
  record_probe(state, "probe_before_ns");
  unit_bodies bodies(units);
  {
    Row row(bodies);
    std::string why;
    if (!row.ready(why)) return fail(state, why);
    constexpr int warmup = 3;
    std::uint64_t rounds = 0;
    for (int i = 0; i < warmup; ++i, ++rounds) {
      bodies.start(s);
      if (row.run(s) < 0) return fail(state, error_of(row));
    }
    bool ok = true;
    for (auto _ : state) {
      bodies.start(s);
      const std::int64_t ns = row.run(s);
      if (ns < 0) {
        ok = false;
        break;
      }
      ++rounds;
      state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    }
    if (!ok) return fail(state, error_of(row));
    if (!bodies.tiles.check(units, rounds, why)) return fail(state, why);
    if (bodies.out_of_order != 0)
      return fail(state, std::to_string(bodies.out_of_order) + " chain units ran out of order");
  }
  state.counters["items_per_iteration"] = units;
  record_probe(state, "probe_after_ns");
}

template <class Row>
void register_units(const char* row) {
  for (shape s : {shape::chain, shape::batch}) {
    const std::string name =
        std::string("exec_sequential/") + row + (s == shape::chain ? "/chain:" : "/batch:") + std::to_string(units);
    benchmark::RegisterBenchmark(name.c_str(), [s](benchmark::State& state) { run_units<Row>(state, s); })
        ->Iterations(iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

const bool registered = [] {
  register_units<serial_units>("serial_call");
  register_units<tbb_units>("tbb");
  register_units<weft_units>("weft_executor");
  return true;
}();

}  // namespace
}  // namespace weft::bench
