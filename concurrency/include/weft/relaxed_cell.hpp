// weft::relaxed_cell — a shared integer that no protocol depends on: a hint, a
// budget, a statistic.
//
// Some shared values only steer heuristics: a worker's wake budget, "the last
// queue that had work", a counter of completed operations for a report. They
// must be atomic (a torn or lost update would be a bug, and a data race is
// undefined behavior) but they order nothing. relaxed_cell says so in its type,
// so that driver/ code holds no raw std::atomic and a reader can see at once
// that no synchronization hangs on it.
//
//   weft::relaxed_cell<std::uint64_t> completed;
//   completed.fetch_add(1);                  // any thread
//   report(completed.load());                // any thread; a recent value
//
// Guarantees:
//   - every operation is atomic: concurrent fetch_add / fetch_sub / exchange
//     never lose an update, and a load returns a value some store or RMW
//     wrote (never a torn one);
//   - per-cell coherence: one thread never reads an older value after a
//     newer one;
//   - NOTHING about other memory: all operations are memory_order_relaxed, so
//     reading a value does not make the writes that preceded it (in the thread
//     that stored it) visible. Never use a relaxed_cell as a flag, a count of
//     published items, or anything a reader then acts on other data for — use
//     a primitive whose contract says it publishes.
//   - arithmetic wraps modulo 2^N, as std::atomic's does.
//
// Who may call what: every member from any thread.
//
// Progress: wait-free (one atomic instruction each).
//
// Memory orders: relaxed everywhere, by definition; the only site is the
// atomicity of the read-modify-writes, which a negative control splits.
#pragma once

#include <atomic>
#include <type_traits>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The steps of relaxed_cell, for negative controls.
enum class relaxed_cell_site {
  update_rmw,  // fetch_add / fetch_sub / exchange in one RMW (split_rmw: a load, then a store)
};

template <class T, class S = sync::os, class P = verified>
class relaxed_cell {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>, "relaxed_cell holds an integer");

 public:
  using site = relaxed_cell_site;

  explicit relaxed_cell(T initial = T{}) : value_(initial) {}
  relaxed_cell(const relaxed_cell&) = delete;
  relaxed_cell& operator=(const relaxed_cell&) = delete;

  // Any thread. Each returns the value before the operation, like std::atomic.
  T load() const { return value_.load(std::memory_order_relaxed); }
  void store(T value) { value_.store(value, std::memory_order_relaxed); }
  T exchange(T value) {
    if (!P::keep(site::update_rmw)) return split_update([value](T) { return value; });
    return value_.exchange(value, std::memory_order_relaxed);
  }
  T fetch_add(T delta) {
    if (!P::keep(site::update_rmw)) return split_update([delta](T before) { return wrapping_add(before, delta); });
    return value_.fetch_add(delta, std::memory_order_relaxed);
  }
  T fetch_sub(T delta) {
    if (!P::keep(site::update_rmw)) return split_update([delta](T before) { return wrapping_sub(before, delta); });
    return value_.fetch_sub(delta, std::memory_order_relaxed);
  }

 private:
  // Modular arithmetic without signed overflow, as std::atomic does it.
  using unsigned_t = std::make_unsigned_t<T>;
  static T wrapping_add(T a, T b) {
    return static_cast<T>(static_cast<unsigned_t>(static_cast<unsigned_t>(a) + static_cast<unsigned_t>(b)));
  }
  static T wrapping_sub(T a, T b) {
    return static_cast<T>(static_cast<unsigned_t>(static_cast<unsigned_t>(a) - static_cast<unsigned_t>(b)));
  }

  // The split_rmw control: a load, then a store of a value computed from it;
  // an update by another thread in between is lost.
  template <class Update>
  T split_update(Update update) {
    const T before = load();
    store(update(before));
    return before;
  }

  typename S::template atomic<T> value_;
};

}  // namespace weft
