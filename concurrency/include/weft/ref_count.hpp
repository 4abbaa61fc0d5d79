// weft::ref_count — an intrusive reference count whose last release hands the
// object to exactly one destroyer, after everything every holder did.
//
//   struct buffer { weft::ref_count<> refs; /* ... */ };   // starts at 1
//   b->refs.acquire();                         // a holder makes another reference
//   if (b->refs.release()) destroy(b);         // exactly one caller gets true
//   if (b->refs.try_acquire()) { use(b); ... } // revive-proof: fails at zero
//
// Guarantees:
//   - release() returns true to exactly one caller: the one whose release
//     takes the count from 1 to 0;
//   - everything any holder wrote before its release() happens-before the
//     return of the release() that returns true (the destroyer sees it all);
//   - try_acquire() never takes the count from 0 to 1: an object whose last
//     reference is gone stays dead (the weak-reference / pool lookup pattern).
//
// Who may call what:
//   acquire, release: a thread that holds a reference (acquire makes a new
//     one, release gives one up). Releasing more references than exist is a
//     caller bug, and so is acquiring 2^32 - 1 of them: debug builds stop.
//   try_acquire, count_relaxed: any thread that can reach the object's memory
//     (e.g. through a pool slot that is never freed, only recycled).
//   reset: only while no other thread can reach the object.
//
// Progress: acquire and release are wait-free (one RMW); try_acquire is
// lock-free (a CAS loop that retries while other threads change the count).
//
// Memory orders:
//   acquire():     fetch_add relaxed. The new reference comes from one the
//                  caller already holds; the object is already visible to it.
//   release():     fetch_sub release, and on the last drop a load acquire. All
//                  decrements are RMWs on one word, so each earlier release is
//                  the head of a release sequence that reaches the final value
//                  0; the destroyer's acquire load reads that 0 and so
//                  synchronizes with every earlier release. The alternatives:
//                  a standalone acquire fence after the fetch_sub is the
//                  classic form (Boost, Rust's Arc), but TSAN does not model
//                  fences, so under TSAN it would need the os backend's
//                  substitute and the production path would go unchecked;
//                  fetch_sub(acq_rel) is simplest but pays the acquire on every
//                  release instead of only the last. The load is on the same
//                  cache line the fetch_sub just owned, so it costs little.
//   try_acquire(): CAS acquire on success: a caller that finds the object
//                  through a pool lookup then reads its contents, which the
//                  thread that (re)initialized the count published with a
//                  release (reset()) or a release sequence through this word.
//   reset():       release store, for the same reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of ref_count, for negative controls.
enum class ref_count_site {
  release_publish,  // release's fetch_sub: release
  last_acquire,     // the last releaser's load: acquire
  release_rmw,      // release decrements in one RMW (split_rmw: a load, then a store)
  try_acquire,      // try_acquire's CAS on success: acquire
};

template <class S = sync::os, class P = verified>
class ref_count {
 public:
  using site = ref_count_site;

  explicit ref_count(std::uint32_t initial = 1) : count_(initial) {}
  ref_count(const ref_count&) = delete;
  ref_count& operator=(const ref_count&) = delete;

  // A holder of a reference: adds one.
  void acquire() {
    const std::uint32_t before = count_.fetch_add(1, std::memory_order_relaxed);
    S::check(before != 0, "ref_count::acquire: the object has no reference left (use try_acquire)");
    S::check(before != std::numeric_limits<std::uint32_t>::max(), "ref_count::acquire: count overflow");
    static_cast<void>(before);
  }

  // Any thread that can reach the object: adds one unless the count is 0.
  bool try_acquire() {
    std::uint32_t observed = count_.load(std::memory_order_relaxed);
    while (observed != 0) {
      S::check(observed != std::numeric_limits<std::uint32_t>::max(), "ref_count::try_acquire: overflow");
      if (count_.compare_exchange_weak(observed, observed + 1, P::order(site::try_acquire, std::memory_order_acquire),
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // A holder gives up its reference. True for exactly one caller: the last;
  // it then sees every other holder's writes and may destroy the object.
  bool release() {
    std::uint32_t before;
    if (P::keep(site::release_rmw)) {
      before = count_.fetch_sub(1, P::order(site::release_publish, std::memory_order_release));
    } else {
      // Negative control only: the decrement as a load and a store, with
      // orders strong enough that only the atomicity is missing.
      before = count_.load(std::memory_order_acquire);
      if (before != 0) count_.store(before - 1, std::memory_order_release);
    }
    if (before == 0) {
      S::check(false, "ref_count::release: released more references than were held");
      return false;
    }
    if (before != 1) return false;
    static_cast<void>(count_.load(P::order(site::last_acquire, std::memory_order_acquire)));
    return true;
  }

  // A snapshot for diagnostics and tests; stale as soon as it returns.
  std::uint32_t count_relaxed() const { return count_.load(std::memory_order_relaxed); }

  // Only while no other thread can reach the object (a pool recycling it).
  void reset(std::uint32_t count) { count_.store(count, std::memory_order_release); }

 private:
  // The number of references; 0 means dead (try_acquire fails).
  typename S::template atomic<std::uint32_t> count_;
};

}  // namespace weft
