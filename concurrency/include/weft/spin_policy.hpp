// weft::spin_policy — spin for a bounded time, then park.
//
// A waiter that expects its condition soon should not pay a park/wake round
// (~25 µs here) for a handoff that arrives in ~200 ns; a waiter that spins
// forever burns a CPU (the top complaint about every peer). spin_policy spins
// on a condition for a wall-time budget (weft::tuning::spin_budget_ns by
// default) and reports failure; spin_then_wait() then parks on an
// event_count. Budgets are time, not iterations, because iteration counts
// mean different times on different CPUs; an iteration cap still ends the
// spin where the clock does not move (under Relacy, now_ns() is frozen).
//
//   weft::event_count<> ec;                       // shared with the notifier
//   weft::spin_policy<> spin;                     // tuning defaults
//   if (!weft::spin_then_wait(ec, [&] { return ready(); }, deadline, spin)) {
//     // deadline passed with ready() still false
//   }
//   // notifier: make_ready(); ec.notify_one();
//
// Guarantee: spin_then_wait inherits event_count's: a notify after the
// condition became true is never lost, whether it lands during the spin (the
// condition is seen there, or the waiter prepares after it and re-checks) or
// during the park. The spin itself touches no shared state except through
// `condition`.
//
// Who may call what: a spin_policy is an immutable value; spin() and
// spin_then_wait() from any thread. `condition` must not block; it is called
// once per spin iteration, so keep it cheap (one or two loads).
//
// Progress: spin() returns after at most budget_ns of wall time (rounded up
// to a clock check) or iteration_cap iterations, whichever comes first, and
// never past the deadline; spin_then_wait then blocks as event_count::await.
//
// Memory orders: none of its own. What the caller's condition loads, and
// event_count's argued handshake (see event_count.hpp), carry the ordering.
#pragma once

#include <cstdint>

#include "weft/deadline.hpp"
#include "weft/event_count.hpp"
#include "weft/sync/os.hpp"
#include "weft/tuning.hpp"

namespace weft {

template <class S = sync::os>
class spin_policy {
 public:
  constexpr spin_policy() noexcept = default;
  constexpr spin_policy(std::int64_t budget_ns, std::uint32_t iteration_cap) noexcept
      : budget_ns_(budget_ns), iteration_cap_(iteration_cap) {}

  // Never spins: spin() checks the condition once.
  static constexpr spin_policy none() noexcept { return spin_policy(0, 0); }

  constexpr std::int64_t budget_ns() const noexcept { return budget_ns_; }
  constexpr std::uint32_t iteration_cap() const noexcept { return iteration_cap_; }

  // Any thread. True as soon as `condition()` returns true; false when the
  // budget, the iteration cap or `until` runs out first.
  template <class Condition>
  bool spin(Condition&& condition, deadline until = deadline::infinite()) const {
    if (condition()) return true;
    if (budget_ns_ <= 0 || iteration_cap_ == 0) return false;
    const std::int64_t start = S::now_ns();
    std::int64_t stop = start + budget_ns_;
    if (!until.is_infinite() && until.monotonic_ns() < stop) stop = until.monotonic_ns();
    if (stop <= start) return false;
    for (std::uint32_t i = 1; i <= iteration_cap_; ++i) {
      S::pause();
      if (condition()) return true;
      if (i % tuning::spin_clock_check_interval == 0 && S::now_ns() >= stop) return false;
    }
    return false;
  }

 private:
  std::int64_t budget_ns_ = tuning::spin_budget_ns;
  std::uint32_t iteration_cap_ = tuning::spin_iteration_cap;
};

// Any thread. Spins per `policy`, then waits on `ec` until `condition()` is
// true (returns true) or `until` passes with it false (returns false). The
// notifier makes the condition true and then calls ec.notify_one/all.
template <class S, class P, class Condition>
bool spin_then_wait(event_count<S, P>& ec, Condition&& condition, deadline until = deadline::infinite(),
                    const spin_policy<S>& policy = spin_policy<S>{}) {
  if (policy.spin(condition, until)) return true;
  return ec.await(condition, until);
}

}  // namespace weft
