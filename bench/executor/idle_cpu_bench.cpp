// idle_cpu/<row>: what a peer burns while nothing is dispatched. The peer
// runs a burst of 500 parallel-for dispatches of 16 tiles (as in the
// parallel_for family), then the benchmark thread sleeps for one second
// after the last dispatch returned, and the process CPU time consumed over
// that second (CLOCK_PROCESS_CPUTIME_ID: every thread of the process) is
// reported as a percentage of one core:
//   idle_cpu_pct           the whole second
//   idle_cpu_pct_0_10ms    the first 10 ms (where a spin budget shows)
//   idle_cpu_pct_10_100ms  the next 90 ms
//   idle_cpu_pct_after_100ms  the last 900 ms (what is left once any spin ended)
// One iteration per repetition (manual time = the measured second).
//
// The figure is the whole process's, so each row must run alone in its
// process: scripts/bench_report.py starts one process per idle_cpu row (and
// one with OMP_WAIT_POLICY=passive for the OpenMP row). Run by hand, use
// --benchmark_filter with one row at a time.
#include <memory>
#include <string>

#include "executor/common.hpp"
#include "executor/parallel_for_peers.hpp"
#include "harness/harness.hpp"

namespace weft::bench {
namespace {

constexpr int burst_dispatches = 500;
constexpr std::uint32_t burst_tiles = 16;

void run_idle(benchmark::State& state, const peer_row& row) {
  record_probe(state, "probe_before_ns");
  tile_set tiles(burst_tiles);
  std::unique_ptr<any_peer> peer = row.make(tiles);
  std::string why;
  if (!peer->ready(why)) return fail(state, why);
  for (auto _ : state) {
    for (int i = 0; i < burst_dispatches; ++i) {
      if (peer->dispatch(burst_tiles) < 0) {
        why = peer->error();
        break;
      }
    }
    if (!why.empty()) break;
    // The windows start when the last dispatch has returned to the caller.
    const std::int64_t start = now_ns();
    const std::int64_t cpu_start = process_cpu_ns();
    sleep_until(start + 10'000'000);
    const std::int64_t cpu_10ms = process_cpu_ns();
    const std::int64_t at_10ms = now_ns();
    sleep_until(start + 100'000'000);
    const std::int64_t cpu_100ms = process_cpu_ns();
    const std::int64_t at_100ms = now_ns();
    sleep_until(start + 1'000'000'000);
    const std::int64_t cpu_end = process_cpu_ns();
    const std::int64_t end = now_ns();
    auto percent = [](std::int64_t cpu, std::int64_t wall) {
      return wall > 0 ? 100.0 * static_cast<double>(cpu) / static_cast<double>(wall) : 0.0;
    };
    state.counters["idle_cpu_pct"] = percent(cpu_end - cpu_start, end - start);
    state.counters["idle_cpu_pct_0_10ms"] = percent(cpu_10ms - cpu_start, at_10ms - start);
    state.counters["idle_cpu_pct_10_100ms"] = percent(cpu_100ms - cpu_10ms, at_100ms - at_10ms);
    state.counters["idle_cpu_pct_after_100ms"] = percent(cpu_end - cpu_100ms, end - at_100ms);
    state.SetIterationTime(static_cast<double>(end - start) * 1e-9);
  }
  if (!why.empty()) return fail(state, why);
  std::string check;
  if (!tiles.check(burst_tiles, static_cast<std::uint64_t>(burst_dispatches * state.iterations()), check))
    return fail(state, check);
  record_probe(state, "probe_after_ns");
}

const bool registered = [] {
  for (const peer_row& row : parallel_for_rows(true)) {
    const std::string name = "idle_cpu/" + row.name + "/after:1s";
    benchmark::RegisterBenchmark(name.c_str(), [row](benchmark::State& state) { run_idle(state, row); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
