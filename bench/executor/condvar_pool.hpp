// The peer a user writes by hand: a pool of std::threads that sleep on one
// std::condition_variable and run the dispatch the caller published under
// the mutex. No spinning anywhere: an idle worker is blocked in the kernel.
//
//   condvar_pool pool(1, {1});                 // one worker, pinned to CPU 1
//   pool.start_tiles(16, run_tile, &tiles);    // publish, notify_all
//   pool.help();                               // the caller takes tiles too (parallel-for)
//   pool.wait(caller_wait::spins);             // every tile has finished
//   pool.start_broadcast(check_in, &state);    // every worker runs check_in once
//   pool.wait(caller_wait::blocks);
//
// One dispatch at a time: start_* is called by the one caller thread, after
// wait() returned for the previous dispatch. Tiles are claimed from a cursor
// {generation:32 | next tile:32} with a CAS that checks the generation, so a
// worker that wakes late (after the caller finished the dispatch alone and
// started the next one) claims nothing of a dispatch it did not read: the
// caller never has to wait for slow helpers, only for claimed tiles. A
// broadcast is waited for by every worker's run, so no worker can be late.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "executor/common.hpp"
#include "harness/harness.hpp"

namespace weft::bench {

class condvar_pool {
 public:
  using tile_function = void (*)(void* context, std::uint32_t index);

  // `threads` workers; worker i pinned to cpus[i] if cpus is not empty.
  condvar_pool(std::uint32_t threads, std::vector<int> cpus) : cpus_(std::move(cpus)) {
    for (std::uint32_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { worker_main(i); });
    while (started_.load(std::memory_order_acquire) != threads) std::this_thread::yield();
  }
  ~condvar_pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  condvar_pool(const condvar_pool&) = delete;
  condvar_pool& operator=(const condvar_pool&) = delete;

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(threads_.size()); }
  // Every worker that should be pinned is (known once the constructor returns).
  bool pinned_ok() const noexcept { return pin_failures_.load(std::memory_order_relaxed) == 0; }

  // Caller thread: publish `count` tiles of fn and wake the workers.
  void start_tiles(std::uint32_t count, tile_function fn, void* context) { publish(count, fn, context, false); }
  // Caller thread: every worker runs fn(context, worker index) once.
  void start_broadcast(tile_function fn, void* context) { publish(size(), fn, context, true); }

  // Caller thread: run tiles of the current dispatch until none is unclaimed.
  void help() {
    std::uint32_t index = 0;
    while (claim(generation_, count_, index)) run_one(fn_, context_, index, count_);
  }

  // Caller thread: until every tile (every worker, for a broadcast) finished.
  void wait(caller_wait how) { done_.wait(how); }

 private:
  void publish(std::uint32_t count, tile_function fn, void* context, bool broadcast) {
    done_.reset();
    finished_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      ++generation_;
      fn_ = fn;
      context_ = context;
      count_ = count;
      broadcast_ = broadcast;
      cursor_.store(static_cast<std::uint64_t>(static_cast<std::uint32_t>(generation_)) << 32,
                    std::memory_order_relaxed);
    }
    wake_.notify_all();
  }

  // Claims the next tile of dispatch `generation`; false once it has none
  // left or a later dispatch has started.
  bool claim(std::uint64_t generation, std::uint32_t count, std::uint32_t& index) {
    std::uint64_t cursor = cursor_.load(std::memory_order_relaxed);
    for (;;) {
      if ((cursor >> 32) != static_cast<std::uint32_t>(generation)) return false;
      const auto next = static_cast<std::uint32_t>(cursor);
      if (next >= count) return false;
      if (cursor_.compare_exchange_weak(cursor, cursor + 1, std::memory_order_relaxed)) {
        index = next;
        return true;
      }
    }
  }

  void run_one(tile_function fn, void* context, std::uint32_t index, std::uint32_t count) {
    fn(context, index);
    // acq_rel: the last finisher has every tile's writes and hands them to
    // the caller through done_.
    if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == count) done_.set();
  }

  void worker_main(std::uint32_t index) {
    if (index < cpus_.size() && !pin_current_thread(cpus_[index])) pin_failures_.fetch_add(1);
    started_.fetch_add(1, std::memory_order_release);
    std::uint64_t seen = 0;
    for (;;) {
      tile_function fn = nullptr;
      void* context = nullptr;
      std::uint32_t count = 0;
      bool broadcast = false;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        fn = fn_;
        context = context_;
        count = count_;
        broadcast = broadcast_;
      }
      if (broadcast) {
        run_one(fn, context, index, count);
        continue;
      }
      std::uint32_t tile = 0;
      while (claim(seen, count, tile)) run_one(fn, context, tile, count);
    }
  }

  const std::vector<int> cpus_;
  std::mutex mutex_;  // the peer's own design: guards the dispatch description below
  std::condition_variable wake_;
  std::uint64_t generation_ = 0;  // written by the caller under mutex_; the caller may read it without
  tile_function fn_ = nullptr;
  void* context_ = nullptr;
  std::uint32_t count_ = 0;
  bool broadcast_ = false;
  bool stop_ = false;
  std::atomic<std::uint32_t> pin_failures_{0};
  std::atomic<std::uint32_t> started_{0};
  alignas(line_size) std::atomic<std::uint64_t> cursor_{0};
  alignas(line_size) std::atomic<std::uint32_t> finished_{0};
  completion_flag done_;
  std::vector<std::thread> threads_;
};

}  // namespace weft::bench
