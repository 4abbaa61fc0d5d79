// How fast weft's executor gets one dispatch done, against the floors a user
// could not beat and the std::thread + condition_variable pool they could
// write instead. Every dispatch is timed on its own (manual time; p50, p99,
// mean). Placement: the benchmark thread (the caller) on CPU 0, the single
// worker on CPU 1; the wake-all rows put worker i on CPU i.
//
// exec_parked_wake/<row>/<caller_spins|caller_blocks>: schedule -> drained ->
//   caller sees completion, starting from a worker that is parked. Between
//   dispatches the caller busy-waits worker_spin_ns + 100 us (every row
//   alike, so every partner has been asleep as long), and for the weft rows
//   it also waits until statistics().parks shows the worker parked after the
//   previous dispatch (a repetition fails if it never does). caller_blocks
//   makes the caller sleep in FUTEX_WAIT too, so a round trip is two wakes:
//   the futex ping-pong.
//     futex_raw                    the floor: a thread in FUTEX_WAIT, woken by
//                                  FUTEX_WAKE, answers by setting the flag
//     condvar_pool                 condvar_pool with one worker, one task
//     weft_executor_spin0          executor, 1 worker, spin_ns = 0
//     weft_executor_spin_default   executor, 1 worker, the default spin_ns
// exec_warm_pickup/<row>/cross_cpu: the same dispatch to a worker that is
//   still spinning (2 us after the previous one); the caller spins.
//     spin_raw                     the floor: a thread spinning on a flag
//     weft_executor_spin_default   reports parks_per_dispatch (should be 0)
// exec_wake_all/<row>/workers:N/caller_cpu:{0,N-1}: every one of N parked
//   workers must run (weft: a compute process with wake budget N whose drain
//   completes once each worker index has checked in, keep_active until then);
//   the caller blocks, because it shares a CPU with a worker: worker 0's CPU
//   (the worker wake() posts first) or worker N-1's (posted last). Same gap
//   and park check as the parked rows.
//     futex_raw      N threads in FUTEX_WAIT on one word, one FUTEX_WAKE(all)
//     condvar_pool   N workers, a broadcast (notify_all)
//     weft_executor_spin0 / weft_executor_spin_default
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "executor/common.hpp"
#include "executor/condvar_pool.hpp"
#include "executor/weft_shot.hpp"
#include "harness/harness.hpp"
#include "weft/exec/tuning.hpp"

namespace weft::bench {
namespace {

constexpr std::int64_t parked_gap_ns = exec::tuning::worker_spin_ns + 100'000;
constexpr std::int64_t warm_gap_ns = 2'000;
constexpr std::int64_t park_timeout_ns = 200'000'000;

// ------------------------------------------------------------------ rows
// Each row: ready(why) before the first dispatch, round_trip(how) -> ns (or
// -1), finish(how, why) after it, and partner_idle(): the partner reached the
// state the row measures from.

// What a row with nothing to set up, check or wait for answers.
struct simple_row {
  bool ready(std::string&) { return true; }
  bool finish(caller_wait, std::string&) { return true; }
  bool partner_idle() const { return true; }
};

// A thread that answers each request by setting the reply flag, waiting for
// the request parked in FUTEX_WAIT (PartnerWait = blocks: the floor of the
// parked rows) or spinning on it (spins: the floor of the warm rows).
template <caller_wait PartnerWait>
class flag_partner : public simple_row {
 public:
  flag_partner() : thread_(producer_cpu, [this] { serve(); }) {}
  ~flag_partner() {
    stop_.store(true, std::memory_order_relaxed);
    request_.set();
    thread_.join();
  }
  std::int64_t round_trip(caller_wait how) {
    reply_.reset();
    const std::int64_t start = now_ns();
    request_.set();
    reply_.wait(how);
    return now_ns() - start;
  }

 private:
  void serve() {
    for (;;) {
      request_.wait(PartnerWait);
      if (stop_.load(std::memory_order_relaxed)) return;  // set before the last request_.set()
      request_.reset();
      reply_.set();
    }
  }
  completion_flag request_;
  completion_flag reply_;
  std::atomic<bool> stop_{false};
  pinned_thread thread_;
};
using futex_partner = flag_partner<caller_wait::blocks>;
using spin_partner = flag_partner<caller_wait::spins>;

// N threads in FUTEX_WAIT on one generation word (the floor of wake-all).
class futex_crowd : public simple_row {
 public:
  explicit futex_crowd(std::uint32_t n) : n_(n) {
    for (std::uint32_t i = 0; i < n; ++i)
      threads_.push_back(std::make_unique<pinned_thread>(static_cast<int>(i), [this] { serve(); }));
  }
  ~futex_crowd() {
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    futex_call(generation_, FUTEX_WAKE_PRIVATE, INT_MAX);
    threads_.clear();
  }
  std::int64_t round_trip(caller_wait how) {
    reply_.reset();
    arrived_.store(0, std::memory_order_relaxed);
    const std::int64_t start = now_ns();
    generation_.fetch_add(1, std::memory_order_release);
    futex_call(generation_, FUTEX_WAKE_PRIVATE, INT_MAX);
    reply_.wait(how);
    return now_ns() - start;
  }

 private:
  void serve() {
    std::uint32_t seen = 0;
    for (;;) {
      std::uint32_t now = generation_.load(std::memory_order_acquire);
      while (now == seen) {
        futex_call(generation_, FUTEX_WAIT_PRIVATE, seen);
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stop_.load(std::memory_order_relaxed)) return;
      if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) reply_.set();
    }
  }
  const std::uint32_t n_;
  alignas(line_size) std::atomic<std::uint32_t> generation_{0};
  alignas(line_size) std::atomic<std::uint32_t> arrived_{0};
  std::atomic<bool> stop_{false};
  completion_flag reply_;
  std::vector<std::unique_ptr<pinned_thread>> threads_;
};

class pool_row : public simple_row {
 public:
  pool_row(std::uint32_t workers, std::vector<int> cpus, bool broadcast)
      : pool_(workers, std::move(cpus)), broadcast_(broadcast) {}
  bool ready(std::string& why) {
    if (pool_.pinned_ok()) return true;
    why = "cannot pin the pool's workers";
    return false;
  }
  std::int64_t round_trip(caller_wait how) {
    const std::int64_t start = now_ns();
    if (broadcast_) {
      pool_.start_broadcast(&nothing, nullptr);
    } else {
      pool_.start_tiles(1, &nothing, nullptr);
    }
    pool_.wait(how);
    return now_ns() - start;
  }

 private:
  static void nothing(void*, std::uint32_t) {}
  condvar_pool pool_;
  const bool broadcast_;
};

// The weft rows: an executor with `workers` workers on CPUs 1 (one worker)
// or 0..N-1, and one process per dispatch.
class weft_row {
 public:
  // expect_parked: partner_idle() waits for every worker to park after each
  // dispatch. Otherwise it never waits.
  weft_row(std::uint32_t workers, std::int64_t spin_ns, bool expect_parked) : expect_parked_(expect_parked) {
    std::vector<std::uint32_t> cpus;
    if (workers == 1) {
      cpus.push_back(static_cast<std::uint32_t>(producer_cpu));
    } else {
      for (std::uint32_t i = 0; i < workers; ++i) cpus.push_back(i);
    }
    executor_ = make_executor(workers, spin_ns, cpus, error_);
    if (executor_ != nullptr)
      shot_ = std::make_unique<weft_shot>(*executor_, workers, workers > 1 ? &check_in : &at_once, this);
  }
  bool ready(std::string& why) {
    if (executor_ != nullptr) return true;
    why = error_;
    return false;
  }
  std::int64_t round_trip(caller_wait how) {
    arrived_.store(0, std::memory_order_relaxed);
    return shot_->round_trip(how);
  }
  bool finish(caller_wait how, std::string& why) { return shot_->finish(how, why); }
  bool partner_idle() const {
    if (!expect_parked_) return true;
    const std::uint32_t workers = executor_->worker_count();
    return executor_->statistics().parks >= shot_->parks_before_dispatch() + workers &&
           executor_->idle_worker_count() == workers;
  }
  std::uint64_t parks() const { return executor_ != nullptr ? executor_->statistics().parks : 0; }

 private:
  static status at_once(weft_shot&, const exec::worker_context&, exec::drain_result& result) {
    result.completed = true;
    return status::ok();
  }
  // Completes once every worker index has drained it; until then a worker
  // that checked in stays (keep_active) and looks again.
  static status check_in(weft_shot& shot, const exec::worker_context& worker, exec::drain_result& result) {
    weft_row& self = *static_cast<weft_row*>(shot.context());
    const std::uint64_t all = (std::uint64_t{1} << self.executor_->worker_count()) - 1;
    const std::uint64_t bit = std::uint64_t{1} << worker.worker_index;
    const std::uint64_t seen = self.arrived_.fetch_or(bit, std::memory_order_acq_rel) | bit;
    if (seen == all) {
      result.completed = true;
    } else {
      result.keep_active = true;
    }
    return status::ok();
  }

  const bool expect_parked_;
  std::string error_;
  std::unique_ptr<exec::executor> executor_;
  alignas(line_size) std::atomic<std::uint64_t> arrived_{0};
  std::unique_ptr<weft_shot> shot_;
};

// ---------------------------------------------------------------- runner

struct wake_spec {
  caller_wait how;
  std::int64_t gap_ns;  // busy-waited between the end of one dispatch and the next
  int warmup;
  int caller_cpu = consumer_cpu;
};

template <class Row>
void run_wake(benchmark::State& state, Row& row, const wake_spec& spec) {
  std::string why;
  if (!row.ready(why)) return fail(state, why);
  auto wait_idle = [&](std::int64_t since) {
    busy_wait_until(since + spec.gap_ns);
    while (!row.partner_idle()) {
      if (now_ns() - since > park_timeout_ns) {
        why = "the worker did not park within 200 ms after a dispatch";
        return false;
      }
    }
    return true;
  };
  // finish() runs even after a failed round trip: it is what explains the failure.
  auto dispatch = [&] {
    const std::int64_t ns = row.round_trip(spec.how);
    return row.finish(spec.how, why) ? ns : -1;
  };
  for (int i = 0; i < spec.warmup; ++i) {
    if (!wait_idle(now_ns()) || dispatch() < 0) return fail(state, why);
  }

  latency_samples samples(static_cast<std::size_t>(state.max_iterations));
  bool ok = true;
  std::int64_t last_end = now_ns();
  for (auto _ : state) {
    if (!wait_idle(last_end)) {
      ok = false;
      break;
    }
    const std::int64_t ns = dispatch();
    if (ns < 0) {
      ok = false;
      break;
    }
    last_end = now_ns();
    samples.add(ns);
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
  }
  if (!ok) return fail(state, why);
  samples.report(state);
}

// Parks counted by a weft row's executor; other rows have none to count.
constexpr std::uint64_t no_parks = ~std::uint64_t{0};
template <class Row>
std::uint64_t parks_of(const Row&) {
  return no_parks;
}
std::uint64_t parks_of(const weft_row& row) { return row.parks(); }

// One repetition: a fresh row (made before the caller is pinned, because
// topology::detect() and threads that are not pinned explicitly follow the
// caller's affinity), the caller on CPU 0, probes around it.
template <class MakeRow>
void run_wake_repetition(benchmark::State& state, const wake_spec& spec, const MakeRow& make_row) {
  wait_until_quiet();
  record_probe(state, "probe_before_ns");
  {
    auto row = make_row();
    scoped_pin pin(spec.caller_cpu);
    if (!pin.ok()) return fail(state, "cannot pin the benchmark thread to CPU " + std::to_string(spec.caller_cpu));
    const std::uint64_t parks_before = parks_of(*row);
    run_wake(state, *row, spec);
    if (parks_before != no_parks) {
      state.counters["parks_per_dispatch"] =
          static_cast<double>(parks_of(*row) - parks_before) / static_cast<double>(state.iterations() + spec.warmup);
    }
  }
  record_probe(state, "probe_after_ns");
}

template <class MakeRow>
void register_wake(const std::string& name, wake_spec spec, int iterations, MakeRow make_row) {
  benchmark::RegisterBenchmark(
      name.c_str(), [spec, make_row](benchmark::State& state) { run_wake_repetition(state, spec, make_row); })
      ->Iterations(iterations)
      ->UseManualTime()
      ->Unit(benchmark::kNanosecond);
}

std::uint32_t wake_all_width() {
  const std::size_t cpus = topology::detect().cpus.size();
  return static_cast<std::uint32_t>(cpus < 2 ? 2 : (cpus > 8 ? 8 : cpus));
}

const bool registered = [] {
  constexpr int parked_iterations = 200;
  constexpr int warm_iterations = 2000;
  const std::int64_t default_spin = exec::tuning::worker_spin_ns;

  for (caller_wait how : {caller_wait::spins, caller_wait::blocks}) {
    const std::string variant = how == caller_wait::spins ? "/caller_spins" : "/caller_blocks";
    const wake_spec spec{how, parked_gap_ns, 5};
    register_wake("exec_parked_wake/futex_raw" + variant, spec, parked_iterations,
                  [] { return std::make_unique<futex_partner>(); });
    register_wake("exec_parked_wake/condvar_pool" + variant, spec, parked_iterations,
                  [] { return std::make_unique<pool_row>(1, std::vector<int>{producer_cpu}, false); });
    register_wake("exec_parked_wake/weft_executor_spin0" + variant, spec, parked_iterations,
                  [] { return std::make_unique<weft_row>(1, 0, true); });
    register_wake("exec_parked_wake/weft_executor_spin_default" + variant, spec, parked_iterations,
                  [default_spin] { return std::make_unique<weft_row>(1, default_spin, true); });
  }

  const wake_spec warm{caller_wait::spins, warm_gap_ns, 100};
  register_wake("exec_warm_pickup/spin_raw/cross_cpu", warm, warm_iterations,
                [] { return std::make_unique<spin_partner>(); });
  register_wake("exec_warm_pickup/weft_executor_spin_default/cross_cpu", warm, warm_iterations,
                [default_spin] { return std::make_unique<weft_row>(1, default_spin, false); });

  const std::uint32_t n = wake_all_width();
  std::vector<int> cpus;
  for (std::uint32_t i = 0; i < n; ++i) cpus.push_back(static_cast<int>(i));
  for (int caller_cpu : {0, static_cast<int>(n) - 1}) {
    const std::string variant = "/workers:" + std::to_string(n) + "/caller_cpu:" + std::to_string(caller_cpu);
    const wake_spec all{caller_wait::blocks, parked_gap_ns, 5, caller_cpu};
    register_wake("exec_wake_all/futex_raw" + variant, all, parked_iterations,
                  [n] { return std::make_unique<futex_crowd>(n); });
    register_wake("exec_wake_all/condvar_pool" + variant, all, parked_iterations,
                  [n, cpus] { return std::make_unique<pool_row>(n, cpus, true); });
    register_wake("exec_wake_all/weft_executor_spin0" + variant, all, parked_iterations,
                  [n] { return std::make_unique<weft_row>(n, 0, true); });
    register_wake("exec_wake_all/weft_executor_spin_default" + variant, all, parked_iterations,
                  [n, default_spin] { return std::make_unique<weft_row>(n, default_spin, true); });
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
