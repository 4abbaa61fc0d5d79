// parallel_for/<row>/tiles:{2,16,256}: one dispatch = K tiny tiles (~50 ns
// each, see tile_set) run across all of a peer's threads, done and seen by
// the caller. Every dispatch is timed (manual time; p50, p99, mean per
// dispatch), and every tile must have run exactly once per dispatch. The rows
// are in parallel_for_peers.hpp. Each repetition first waits until no other
// peer's threads are still spinning (wait_until_quiet), then makes its peer
// and runs 50 untimed dispatches so that the peer's threads are warm, as
// they are in a program that dispatches back to back.
//
// Counters beside the latencies: process_cpu_ns_per_op is the CPU time of the
// whole process per dispatch (every thread, spinning included), and threads
// is how many threads the peer dispatches to (TBB arena concurrency, OpenMP
// max threads, weft workers; the caller counts where it takes tiles).
//
// The OpenMP row's wait policy is whatever OMP_WAIT_POLICY said when the
// process started; scripts/bench_report.py runs the openmp rows a second time
// in a separate process with OMP_WAIT_POLICY=passive.
#include <omp.h>
#include <tbb/task_arena.h>

#include <memory>
#include <optional>
#include <string>

#include "executor/common.hpp"
#include "executor/parallel_for_peers.hpp"
#include "harness/harness.hpp"

namespace weft::bench {
namespace {

int threads_of(const std::string& row) {
  if (row.rfind("tbb", 0) == 0) return tbb::this_task_arena::max_concurrency();
  if (row.rfind("openmp", 0) == 0) return omp_get_max_threads();
  if (row == "serial_loop") return 1;
  if (row == "condvar_pool") return 2;
  if (row == "weft_executor_1w") return 1;
  return static_cast<int>(topology::detect().worker_cpus(0).size());
}

void run_parallel_for(benchmark::State& state, const peer_row& row, std::uint32_t count) {
  constexpr int warmup = 50;
  wait_until_quiet();
  record_probe(state, "probe_before_ns");
  tile_set tiles(count);
  {
    std::unique_ptr<any_peer> peer = row.make(tiles);
    std::string why;
    if (!peer->ready(why)) return fail(state, why);
    state.counters["threads"] = threads_of(row.name);
    std::optional<scoped_pin> pin;
    if (row.pin_caller) {
      pin.emplace(consumer_cpu);
      if (!pin->ok()) return fail(state, "cannot pin the benchmark thread to CPU 0");
    }
    for (int i = 0; i < warmup; ++i) {
      if (peer->dispatch(count) < 0) return fail(state, peer->error());
    }
    latency_samples samples(static_cast<std::size_t>(state.max_iterations));
    bool ok = true;
    const std::int64_t cpu_before = process_cpu_ns();
    for (auto _ : state) {
      const std::int64_t ns = peer->dispatch(count);
      if (ns < 0) {
        ok = false;
        break;
      }
      samples.add(ns);
      state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    }
    const std::int64_t cpu = process_cpu_ns() - cpu_before;
    if (!ok) return fail(state, peer->error());
    if (!tiles.check(count, static_cast<std::uint64_t>(warmup + state.iterations()), why)) return fail(state, why);
    samples.report(state);
    report_process_cpu(state, cpu, samples.size());
  }
  record_probe(state, "probe_after_ns");
}

const bool registered = [] {
  for (const peer_row& row : parallel_for_rows(false)) {
    for (std::uint32_t count : {2u, 16u, 256u}) {
      const std::string name = "parallel_for/" + row.name + "/tiles:" + std::to_string(count);
      benchmark::RegisterBenchmark(name.c_str(),
                                   [row, count](benchmark::State& state) { run_parallel_for(state, row, count); })
          ->Iterations(count >= 256 ? 500 : 2000)
          ->UseManualTime()
          ->Unit(benchmark::kNanosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
