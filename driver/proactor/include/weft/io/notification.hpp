// weft::io::notification — an epoch that threads and proactor operations wait on
// to change: level-triggered wake-ups without lost signals (weft::event_count
// for synchronous waiters, an eventfd for proactor waits).
//
//   observe-check-wait, the pattern that loses nothing:
//   std::uint32_t token = n->begin_observe();     // announce interest, read the epoch
//   if (condition()) { n->end_observe(); }        // nothing to wait for
//   else n->wait(token, deadline);                // sleeps until a signal after begin_observe
//   // or asynchronously: notification_wait_op{target = n, use_token = true, token = token};
//   // submit it, then end_observe() — the proactor holds its own observation.
//
//   producer: make condition() true; n->signal();
//
// Guarantees: a signal() that follows begin_observe() moves the epoch, so a
// wait on that token returns (sync) or completes (async); signals coalesce; a
// signal with no observer costs one atomic RMW and no system call.
// signal(n) wakes up to n synchronous waiters (every async wait completes).
// The epoch is 32 bits and compared for inequality, so wrap-around is harmless.
//
// Lifetime: reference-counted like event (notification_ptr).
// Thread safety: every member from any thread; wait(token) must follow this
// thread's begin_observe() that produced the token (it ends that observation).
#pragma once

#include <climits>
#include <cstdint>

#include "weft/base/result.hpp"
#include "weft/deadline.hpp"
#include "weft/event_count.hpp"
#include "weft/io/waitable.hpp"

namespace weft::io {

class notification final : public detail::waitable {
 public:
  static result<ref_ptr<notification>> create();

  std::uint32_t begin_observe() { return epoch_.prepare_wait().epoch; }
  void end_observe() { epoch_.cancel_wait(); }
  // Ends the observation that produced `token`. True: the epoch moved (signaled);
  // false: the deadline passed first.
  bool wait(std::uint32_t token, deadline until = deadline::infinite()) {
    return epoch_.commit_wait(event_count<>::key{token}, until);
  }
  void signal(std::int32_t wake_count = INT32_MAX);
  std::uint32_t epoch_relaxed() const { return epoch_.epoch_relaxed(); }

 private:
  friend class detail::core;
  notification() = default;
  // Poll thread: reset the eventfd, then read the epoch (acquire: a waiter
  // completed for a signal sees what the signaller wrote before signal()).
  void drain();
  std::uint32_t epoch() const { return epoch_.epoch(); }
  event_count<> epoch_;
};

using notification_ptr = ref_ptr<notification>;

}  // namespace weft::io
