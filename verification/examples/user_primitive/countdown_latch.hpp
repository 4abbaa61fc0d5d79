// A user's own primitive, written against weft's sync backend interface so
// the same source runs in production (weft::sync::os) and under the Relacy
// model checker (weft::sync::relacy). This is the worked example for the
// README's "model-check your own primitive" section; it is not part of weft.
//
// countdown_latch: N parties call count_down() once each; wait() blocks until
// all have. Everything a party wrote before its count_down() is visible to a
// thread returning from wait().
//
// Memory orders:
//   count_down: fetch_sub(acq_rel) — release publishes this party's writes;
//     acquire lets the last party's wake carry every earlier party's writes
//     (the RMWs form one release sequence, so acquire alone on the waiter's
//     side would also do; acq_rel keeps the last party's view complete).
//   wait: load(acquire) of 0 synchronizes with the release sequence.
// The futex word is the 32-bit counter itself: a waiter sleeps while it holds
// the value it read, so a count_down between the read and the sleep makes the
// futex return at once (no lost wake without any Dekker pair).
#pragma once

#include <cstdint>

#include "weft/deadline.hpp"
#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace example {

// The sites a negative control may mutate.
enum class latch_site { count_down_rmw, wait_acquire, wake_waiters };

template <class S = weft::sync::os, class P = weft::verified>
class countdown_latch {
 public:
  using site = latch_site;
  explicit countdown_latch(std::uint32_t parties) : remaining_(parties) {}

  void count_down() {
    const std::uint32_t before =
        remaining_.fetch_sub(1, P::order(site::count_down_rmw, std::memory_order_acq_rel));
    if (before == 1 && P::keep(site::wake_waiters)) S::wake(remaining_, 1 << 30);
  }

  void wait() {
    for (;;) {
      const std::uint32_t seen = remaining_.load(P::order(site::wait_acquire, std::memory_order_acquire));
      if (seen == 0) return;
      S::wait(remaining_, seen, weft::deadline::infinite());
    }
  }

 private:
  typename S::template atomic<std::uint32_t> remaining_;
};

}  // namespace example
