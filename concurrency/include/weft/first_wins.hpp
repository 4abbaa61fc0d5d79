// weft::first_wins — a single-assignment slot: the first offer wins, a close
// takes the winner, every loser keeps its value.
//
// For "first error wins" and similar: several threads may each produce a
// candidate (an error status, a result); the first one offered is kept, the
// owner takes it once when it finishes, and anything offered after that is
// refused rather than lost.
//
//   // a producer (any thread):
//   auto error = std::make_unique<status>(...);
//   if (!slot.offer(error)) { /* lost the race or too late: `error` is still ours */ }
//   // the owner, when it completes (any thread, usually once):
//   std::unique_ptr<status> first = slot.take();   // null if nobody offered in time
//
// Guarantees:
//   - at most one offer() returns true between construction (or reset()) and
//     the first take(); every offer() after that take() returns false;
//   - an offer() that returns false leaves `value` untouched: the caller still
//     owns it (no leak, no overwrite); one that returns true moved it in;
//   - the first take() returns the winner if there was one, every later take()
//     returns null; a winner nobody took is deleted by the destructor or
//     reset();
//   - everything the winner wrote before offer() (the value's contents, and
//     anything else) happens-before the return of the take() that gets it.
//
// Who may call what:
//   offer, take, has_value_relaxed: any thread, concurrently.
//   reset and the destructor: only when no other thread uses the slot.
//
// Progress: take is wait-free (one exchange); offer is lock-free (a CAS that
// retries only if the slot changed from empty to empty, i.e. spuriously).
//
// State: one atomic pointer.
//   nullptr        empty and open
//   a T*           holds the winner (owned by the slot)
//   closed()       taken or closed: the address of a static tag, never a T
//
// Memory orders:
//   offer: CAS release on success. Publishes the value's contents (written
//          before offer) to the taker. Failure is relaxed: a loser learns only
//          that it lost and touches nothing shared.
//   take:  exchange acquire. Pairs with the winner's release, so the taker
//          reads the contents race-free. Nothing needs take's store to be
//          release: an offer that sees CLOSED only gives up.
//   The decision itself needs no order: offers and take are RMWs on one word,
//   so they are totally ordered by its modification order; whichever reaches
//   the word first decides.
#pragma once

#include <atomic>
#include <memory>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of first_wins, for negative controls.
enum class first_wins_site {
  offer_publish,  // offer's CAS: release
  take_acquire,   // take's exchange: acquire
  closed_check,   // offer refuses a closed slot
  take_rmw,       // take closes in one exchange (split_rmw: a load, then a store)
};

template <class T, class S = sync::os, class P = verified>
class first_wins {
 public:
  using site = first_wins_site;

  first_wins() : slot_(nullptr) {}
  ~first_wins() { delete winner_of(slot_.load(std::memory_order_relaxed)); }
  first_wins(const first_wins&) = delete;
  first_wins& operator=(const first_wins&) = delete;

  // Any thread. Moves `value` in if the slot is empty and not closed, and
  // returns true. Otherwise returns false and leaves `value` with the caller.
  // Offering a null value is a caller bug (S::check, false).
  bool offer(std::unique_ptr<T>& value) {
    if (!value) {
      S::check(false, "first_wins::offer: nothing to offer (null)");
      return false;
    }
    T* seen = slot_.load(std::memory_order_relaxed);
    for (;;) {
      // Both checks also spare a loser the contended RMW.
      if (P::keep(site::closed_check) && seen == closed()) return false;
      if (winner_of(seen) != nullptr) return false;
      if (slot_.compare_exchange_weak(seen, value.get(), P::order(site::offer_publish, std::memory_order_release),
                                      std::memory_order_relaxed)) {
        static_cast<void>(value.release());
        return true;
      }
    }
  }

  // Any thread. Closes the slot (later offers fail) and returns the winner, or
  // null if there was none or an earlier take() got it.
  std::unique_ptr<T> take() {
    T* previous;
    if (P::keep(site::take_rmw)) {
      previous = slot_.exchange(closed(), P::order(site::take_acquire, std::memory_order_acquire));
    } else {
      previous = slot_.load(std::memory_order_acquire);
      slot_.store(closed(), std::memory_order_release);
    }
    return std::unique_ptr<T>(winner_of(previous));
  }

  // Any thread. Offered and not yet taken; stale as soon as it returns.
  bool has_value_relaxed() const { return winner_of(slot_.load(std::memory_order_relaxed)) != nullptr; }

  // Single-threaded re-initialization: deletes an untaken winner and opens
  // the slot again, empty. No other call may run concurrently; publish the
  // slot to its next users through whatever hands them the owner.
  void reset() {
    delete winner_of(slot_.load(std::memory_order_relaxed));
    slot_.store(nullptr, std::memory_order_relaxed);
  }

 private:
  // A unique address that is never a T: the CLOSED state. (Function-local so
  // that T may still be incomplete where first_wins<T> is declared.)
  static T* closed() noexcept {
    alignas(T) static char tag = 0;
    return reinterpret_cast<T*>(&tag);
  }
  static T* winner_of(T* p) noexcept { return p == closed() ? nullptr : p; }

  typename S::template atomic<T*> slot_;
};

}  // namespace weft
