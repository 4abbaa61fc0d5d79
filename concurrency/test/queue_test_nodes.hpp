// Test pieces shared by the intrusive queue tests (mpsc_queue_test.cpp,
// work_queue_test.cpp): a node that carries a value, a helper that pops
// everything, and a backend whose hooks stop a thread at a chosen point inside
// the algorithm, so a window the real scheduler hits rarely can be tested
// deterministically.
//
//   using queue_t = weft::mpsc_queue<weft::test::job>;           // std::atomic backend
//   using probe_queue = weft::mpsc_queue<weft::test::probe_job, weft::test::probe>;
//   weft::test::parked_producer producer(queue, node);  // returns once node is in its window
//   ... assert what a consumer sees meanwhile ...
//   producer.release_and_join();
//
// The probe's hooks are thread_local std::function slots, each fired at most
// once (it is cleared before it runs, so a hook may push or pop on the same
// queue without firing itself again):
//   before_acquire_load  before an acquire load (in both queues only the
//                        consumer's link loads are acquire loads)
//   after_relaxed_load   right after a relaxed load (mpsc_queue: the
//                        consumer's head checks)
//   before_link_publish  before a release store of a non-null value (in both
//                        queues only a push's link store is one)
// Set a hook on the thread that will run into it, right before the call.
//
// Memory orders (test scaffolding, not under test): parked_producer's
// in_window_ release/acquire makes the producer's exchange, done before its
// hook ran, visible to the test thread that returns from the constructor;
// released_ release/acquire orders everything the test did meanwhile before
// the producer's link store. join() publishes first_.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "weft/mpsc_queue.hpp"
#include "weft/sync/os.hpp"

namespace weft::test {

// A queue node that carries `value`, for checking the pop order.
template <class S>
struct valued_node : mpsc_queue_node<valued_node<S>, S> {
  explicit valued_node(int v = 0) : value(v) {}
  int value;
};

// Pops until the queue stops returning nodes; the values in pop order.
template <class Queue>
std::vector<int> pop_all(Queue& queue) {
  std::vector<int> out;
  while (auto r = queue.try_pop()) out.push_back(r.node->value);
  return out;
}

// The std::atomic backend with the hooks above; plain cells are sync::os's.
struct probe {
  static inline thread_local std::function<void()> before_acquire_load;
  static inline thread_local std::function<void()> after_relaxed_load;
  static inline thread_local std::function<void()> before_link_publish;

  template <class T>
  class atomic {
   public:
    atomic() noexcept : value_{} {}
    atomic(T initial) noexcept : value_(initial) {}  // NOLINT: mirrors std::atomic
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order order) const {
      if (order == std::memory_order_acquire) fire(before_acquire_load);
      const T v = value_.load(order);
      if (order == std::memory_order_relaxed) fire(after_relaxed_load);
      return v;
    }
    void store(T desired, std::memory_order order) {
      if (order == std::memory_order_release && desired != T{}) fire(before_link_publish);
      value_.store(desired, order);
    }
    T exchange(T desired, std::memory_order order) { return value_.exchange(desired, order); }
    T fetch_add(T delta, std::memory_order order) { return value_.fetch_add(delta, order); }
    T fetch_sub(T delta, std::memory_order order) { return value_.fetch_sub(delta, order); }

   private:
    static void fire(std::function<void()>& hook) {
      if (!hook) return;
      auto once = std::move(hook);
      hook = nullptr;
      once();
    }
    std::atomic<T> value_;
  };
  template <class T>
  using plain = sync::os::plain<T>;
};

using job = valued_node<sync::os>;
using probe_job = valued_node<probe>;

// A producer thread that pushes one node and stops inside its window (after
// swapping the node in, before linking it) until released. Test thread only;
// the constructor returns once the producer is in the window.
template <class Queue>
class parked_producer {
 public:
  parked_producer(Queue& queue, probe_job& node)
      : thread_([this, &queue, &node] {
          probe::before_link_publish = [this] {
            in_window_.store(true, std::memory_order_release);
            while (!released_.load(std::memory_order_acquire)) std::this_thread::yield();
          };
          first_ = queue.push(&node);
        }) {
    while (!in_window_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  parked_producer(const parked_producer&) = delete;
  parked_producer& operator=(const parked_producer&) = delete;
  // Lets the push finish; returns what it returned (whether it was "first").
  bool release_and_join() {
    released_.store(true, std::memory_order_release);
    thread_.join();
    return first_;
  }
  ~parked_producer() {
    if (thread_.joinable()) release_and_join();
  }

 private:
  std::atomic<bool> in_window_{false};
  std::atomic<bool> released_{false};
  bool first_ = false;
  std::thread thread_;
};

}  // namespace weft::test
