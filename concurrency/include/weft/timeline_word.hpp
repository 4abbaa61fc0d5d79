// weft::timeline_word — a monotonic 64-bit value that publishes what its
// signallers wrote before advancing it.
//
// The lock-free half of a timeline semaphore: the current value, readable by
// anyone without a lock, that only ever moves up. A signaller writes its
// results, then advances the word to its value; a reader that sees a value
// >= v reads those results race-free.
//
//   // signaller (any thread):
//   results[v] = compute();
//   auto r = word.advance_to(v);      // r.advanced: this call moved it to v
//   if (!r.advanced) report("already at ", r.previous);
//   // reader (any thread):
//   if (word.load() >= v) use(results[v]);
//
// Guarantees:
//   - monotonic: the value only rises; advance_to(v) with v <= the current
//     value changes nothing and returns {false, current};
//   - exactly-once per value: among concurrent advance_to calls, those that
//     return advanced == true form one chain initial -> a -> b -> ... -> max,
//     each reporting the previous link as `previous`; the final value is the
//     maximum of the initial value and every requested value (no lost max);
//     two calls with the same value never both succeed;
//   - visibility: everything a signaller wrote before an advance_to(v) that
//     returned advanced == true happens-before the return of every load()
//     that reads v or any later value (later advances are RMWs, so they carry
//     v's release sequence along — a reader of max also sees the payload of
//     every successful signaller before it).
//
// Who may call what: every member from any thread, concurrently.
//
// Progress: load and load_relaxed are wait-free; advance_to is lock-free (a CAS
// loop that retries only when another signaller changed the value, and stops
// as soon as the value is at or above v).
//
// Memory orders:
//   advance_to: CAS release on success. Publishes the signaller's writes to
//               readers that acquire the value (or any later value: every
//               write to the word after construction is an RMW, so each one
//               continues the release sequences of all earlier ones).
//               Why not acq_rel: the acquire half would let a signaller read
//               the writes of signallers before it, and nothing in the
//               contract promises that — a signaller that needs them calls
//               load() first. The decision (who advanced, the max) needs no
//               order at all: the CASes are totally ordered by the word's
//               modification order, and each reads the latest value.
//               Failure is relaxed: a caller that loses only learns the value.
//   load:       acquire, pairing with advance_to's release.
//   load_relaxed: relaxed; for hints and diagnostics, publishes nothing.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of timeline_word, for negative controls.
enum class timeline_word_site {
  advance_publish,  // advance_to's CAS: release
  load_acquire,     // load(): acquire
  advance_rmw,      // advance_to updates in one CAS (split_rmw: a load, then a store)
};

template <class S = sync::os, class P = verified>
class timeline_word {
 public:
  using site = timeline_word_site;

  struct advance_result {
    bool advanced;           // this call moved the value to the requested one
    std::uint64_t previous;  // the value this call found (the one it replaced, if it advanced)
  };

  explicit timeline_word(std::uint64_t initial = 0) : value_(initial) {}
  timeline_word(const timeline_word&) = delete;
  timeline_word& operator=(const timeline_word&) = delete;

  // Any thread. The current value; the writes of every signaller that
  // advanced it to this value or below happen-before the return.
  std::uint64_t load() const { return value_.load(P::order(site::load_acquire, std::memory_order_acquire)); }

  // Any thread. The current value, publishing nothing.
  std::uint64_t load_relaxed() const { return value_.load(std::memory_order_relaxed); }

  // Any thread. Raises the value to v if it is below v.
  advance_result advance_to(std::uint64_t v) {
    std::uint64_t observed = value_.load(std::memory_order_relaxed);
    for (;;) {
      if (observed >= v) return {false, observed};
      if (!P::keep(site::advance_rmw)) {  // negative control only: "a store will do"
        value_.store(v, std::memory_order_release);
        return {true, observed};
      }
      if (value_.compare_exchange_weak(observed, v, P::order(site::advance_publish, std::memory_order_release),
                                       std::memory_order_relaxed)) {
        return {true, observed};
      }
    }
  }

 private:
  //  63                                                    0
  // +-------------------------------------------------------+
  // |                 value (monotonic, u64)                |
  // +-------------------------------------------------------+
  typename S::template atomic<std::uint64_t> value_;
};

}  // namespace weft
