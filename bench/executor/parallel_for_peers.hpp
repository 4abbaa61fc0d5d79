// The parallel-for implementations the parallel_for and idle_cpu rows compare:
// each runs tiles [0, count) of a tile_set across its threads, and
// dispatch(count) returns the ns from the start of the dispatch to the moment
// the caller has seen every tile finish (housekeeping after that moment, such
// as waiting for a weft process's on_release before reusing it, is not timed
// but happens before the next dispatch).
//
//   serial_loop        the caller runs every tile itself (the floor at 2 tiles)
//   condvar_pool_for   condvar_pool with 1 worker; the caller takes tiles too
//   tbb_for<P>         tbb::parallel_for over blocked_range(0, count, 1), with
//                      simple_partitioner (one task per tile) or auto_partitioner
//   openmp_for         #pragma omp parallel for (the default static schedule);
//                      the wait policy comes from OMP_WAIT_POLICY at start-up
//   weft_for           one weft process per dispatch (weft_shot), wake budget =
//                      the executor's worker count (compute; immediate with one
//                      worker); its drain claims up to 64 tiles per call from
//                      an atomic cursor; on_complete sets the flag the caller
//                      waits on (spinning or blocked).
//
// TBB, OpenMP and condvar_pool let the calling thread run tiles; weft's
// caller cannot (the executor's API has no "help" call), so on 2 vCPUs a weft
// dispatch runs on the workers while the caller waits. The weft rows differ in
// how that wait is arranged:
//   weft_executor      one worker per core (unpinned, default spin); the
//                      caller blocks in FUTEX_WAIT, because a spinning caller
//                      would take a CPU from a worker (measured on a busy
//                      machine: ~110 us p50 per dispatch, tick-bound)
//   weft_executor_1w   one worker pinned to CPU 1, the caller pinned to CPU 0
//                      and spinning: no wake on either side, one CPU of tiles
//   weft_executor_spin0  (idle_cpu only) as weft_executor with spin_ns = 0
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "executor/common.hpp"
#include "executor/condvar_pool.hpp"
#include "executor/weft_shot.hpp"
#include "weft/exec/executor.hpp"
#include "weft/exec/tuning.hpp"

namespace weft::bench {

// "openmp_default" without OMP_WAIT_POLICY, else "openmp_<policy>".
inline std::string openmp_row_name() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy == nullptr || *policy == '\0') return "openmp_default";
  std::string name = "openmp_";
  for (const char* c = policy; *c != '\0'; ++c) name += static_cast<char>(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
  return name;
}

// What every peer also has: ready() says whether it could be set up, error()
// why a dispatch returned -1. Only the weft rows can fail either.
struct infallible_peer {
  bool ready(std::string&) const { return true; }
  const std::string& error() const {
    static const std::string none = "dispatch failed";
    return none;
  }
};

class serial_loop : public infallible_peer {
 public:
  explicit serial_loop(tile_set& tiles) : tiles_(tiles) {}
  std::int64_t dispatch(std::uint32_t count) {
    const std::int64_t start = now_ns();
    for (std::uint32_t i = 0; i < count; ++i) tiles_.run(i);
    return now_ns() - start;
  }

 private:
  tile_set& tiles_;
};

class condvar_pool_for : public infallible_peer {
 public:
  // One worker: with the caller that makes one thread per CPU here.
  explicit condvar_pool_for(tile_set& tiles) : tiles_(tiles), pool_(1, {}) {}
  std::int64_t dispatch(std::uint32_t count) {
    const std::int64_t start = now_ns();
    pool_.start_tiles(count, &run_tile, &tiles_);
    pool_.help();
    pool_.wait(caller_wait::spins);  // what is left is in flight on a running worker
    return now_ns() - start;
  }

 private:
  static void run_tile(void* tiles, std::uint32_t index) { static_cast<tile_set*>(tiles)->run(index); }
  tile_set& tiles_;
  condvar_pool pool_;
};

template <class Partitioner>
class tbb_for : public infallible_peer {
 public:
  explicit tbb_for(tile_set& tiles) : tiles_(tiles) {}
  std::int64_t dispatch(std::uint32_t count) {
    const std::int64_t start = now_ns();
    tbb::parallel_for(
        tbb::blocked_range<std::uint32_t>(0, count, 1),
        [this](const tbb::blocked_range<std::uint32_t>& range) {
          for (std::uint32_t i = range.begin(); i != range.end(); ++i) tiles_.run(i);
        },
        Partitioner());
    return now_ns() - start;
  }

 private:
  tile_set& tiles_;
};

class openmp_for : public infallible_peer {
 public:
  explicit openmp_for(tile_set& tiles) : tiles_(tiles) {}
  std::int64_t dispatch(std::uint32_t count) {
    const std::int64_t start = now_ns();
    const auto n = static_cast<std::int64_t>(count);
#pragma omp parallel for
    for (std::int64_t i = 0; i < n; ++i) tiles_.run(static_cast<std::uint32_t>(i));
    return now_ns() - start;
  }

 private:
  tile_set& tiles_;
};

class weft_for {
 public:
  weft_for(exec::executor& executor, tile_set& tiles, caller_wait how)
      : tiles_(tiles), how_(how), shot_(executor, executor.worker_count(), &drain, this) {}

  // -1 when the dispatch failed; error() says why.
  std::int64_t dispatch(std::uint32_t count) {
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const std::int64_t elapsed = shot_.round_trip(how_);
    return shot_.finish(how_, error_) ? elapsed : -1;
  }

  const std::string& error() const { return error_; }

 private:
  static constexpr std::uint32_t tiles_per_drain = 64;

  static status drain(weft_shot& shot, const exec::worker_context&, exec::drain_result& result) {
    weft_for& self = *static_cast<weft_for*>(shot.context());
    for (std::uint32_t n = 0; n < tiles_per_drain; ++n) {
      if (self.next_.load(std::memory_order_relaxed) >= self.count_) break;
      const std::uint32_t index = self.next_.fetch_add(1, std::memory_order_relaxed);
      if (index >= self.count_) break;
      self.tiles_.run(index);
      result.did_work = true;
      // acq_rel: the last retirer has every tile's writes; on_complete hands
      // them to the caller.
      if (self.done_.fetch_add(1, std::memory_order_acq_rel) + 1 == self.count_) {
        result.completed = true;
        return status::ok();
      }
    }
    if (self.done_.load(std::memory_order_acquire) == self.count_) {
      result.completed = true;  // sticky, as the drain contract asks
    } else if (!result.did_work) {
      result.keep_active = true;  // the last tiles are in flight on another worker
    }
    return status::ok();
  }

  tile_set& tiles_;
  const caller_wait how_;
  std::uint32_t count_ = 0;
  alignas(line_size) std::atomic<std::uint32_t> next_{0};
  alignas(line_size) std::atomic<std::uint32_t> done_{0};
  std::string error_;
  weft_shot shot_;
};

// A weft row: its own executor (`workers` workers, `spin_ns`, pinned to cpus
// or unpinned) and the caller's wait.
class weft_executor_for {
 public:
  weft_executor_for(tile_set& tiles, std::uint32_t workers, std::int64_t spin_ns,
                    const std::vector<std::uint32_t>& cpus, caller_wait how)
      : executor_(make_executor(workers, spin_ns, cpus, error_)) {
    if (executor_ != nullptr) for_.emplace(*executor_, tiles, how);
  }
  bool ready(std::string& why) const {
    if (executor_ != nullptr) return true;
    why = error_;
    return false;
  }
  std::int64_t dispatch(std::uint32_t count) { return for_->dispatch(count); }
  const std::string& error() const { return for_ ? for_->error() : error_; }

 private:
  std::string error_;
  std::unique_ptr<exec::executor> executor_;
  std::optional<weft_for> for_;
};

// Type erasure for the row tables below.
class any_peer {
 public:
  virtual ~any_peer() = default;
  virtual bool ready(std::string& why) = 0;
  virtual std::int64_t dispatch(std::uint32_t count) = 0;
  virtual const std::string& error() const = 0;
};

template <class Peer>
class peer_model final : public any_peer {
 public:
  template <class... Args>
  explicit peer_model(Args&&... args) : peer_(std::forward<Args>(args)...) {}
  bool ready(std::string& why) override { return peer_.ready(why); }
  std::int64_t dispatch(std::uint32_t count) override { return peer_.dispatch(count); }
  const std::string& error() const override { return peer_.error(); }

 private:
  Peer peer_;
};

struct peer_row {
  std::string name;
  bool pin_caller;  // run the caller on CPU 0 (after the peer is made, so its threads do not inherit the pin)
  std::function<std::unique_ptr<any_peer>(tile_set&)> make;
};

// The rows of the parallel_for family (and, with `idle` set, of idle_cpu,
// which leaves out the serial loop and the second TBB partitioner and adds
// weft at spin 0).
inline std::vector<peer_row> parallel_for_rows(bool idle) {
  const std::int64_t spin = exec::tuning::worker_spin_ns;
  std::vector<peer_row> rows;
  if (!idle)
    rows.push_back({"serial_loop", false, [](tile_set& t) { return std::make_unique<peer_model<serial_loop>>(t); }});
  rows.push_back(
      {"condvar_pool", false, [](tile_set& t) { return std::make_unique<peer_model<condvar_pool_for>>(t); }});
  rows.push_back({idle ? "tbb" : "tbb_simple", false,
                  [](tile_set& t) { return std::make_unique<peer_model<tbb_for<tbb::simple_partitioner>>>(t); }});
  if (!idle) {
    rows.push_back({"tbb_auto", false,
                    [](tile_set& t) { return std::make_unique<peer_model<tbb_for<tbb::auto_partitioner>>>(t); }});
  }
  rows.push_back({openmp_row_name(), false, [](tile_set& t) { return std::make_unique<peer_model<openmp_for>>(t); }});
  rows.push_back({"weft_executor", false, [spin](tile_set& t) {
                    return std::make_unique<peer_model<weft_executor_for>>(t, 0u, spin, std::vector<std::uint32_t>{},
                                                                           caller_wait::blocks);
                  }});
  if (idle) {
    rows.push_back({"weft_executor_spin0", false, [](tile_set& t) {
                      return std::make_unique<peer_model<weft_executor_for>>(
                          t, 0u, std::int64_t{0}, std::vector<std::uint32_t>{}, caller_wait::blocks);
                    }});
  } else {
    rows.push_back({"weft_executor_1w", true, [spin](tile_set& t) {
                      return std::make_unique<peer_model<weft_executor_for>>(
                          t, 1u, spin, std::vector<std::uint32_t>{static_cast<std::uint32_t>(producer_cpu)},
                          caller_wait::spins);
                    }});
  }
  return rows;
}

}  // namespace weft::bench
