// weft::io::event — a cross-thread, auto-reset wake-up that proactor
// operations can wait on (an eventfd underneath).
//
//   WEFT_ASSIGN_OR_RETURN(weft::io::event_ptr ready, weft::io::event::create());
//   weft::io::event_wait_op wait;  wait.target = ready.get();  ...  proactor.submit(wait);
//   ready->set();                        // any thread: completes the wait on the poll thread
//
// Semantics: set() makes the event signaled; an event_wait_op completes by
// consuming the signal (one set wakes one wait; sets not yet consumed coalesce
// into one). try_consume() consumes it synchronously. reset() drops a pending set.
//
// Lifetime: reference-counted. event_ptr holds one reference; a proactor holds
// one while it watches the event for a pending wait, so releasing the last
// event_ptr while a wait is in flight is safe (the wait still needs set() to
// complete, or a cancel). Async waits on one event should come from one proactor.
//
// Thread safety: set, reset, try_consume from any thread.
#pragma once

#include "weft/base/result.hpp"
#include "weft/io/waitable.hpp"

namespace weft::io {

class event final : public detail::waitable {
 public:
  static result<ref_ptr<event>> create();

  status set();          // any thread
  bool try_consume();    // any thread: true if it was signaled (and now is not)
  void reset() { static_cast<void>(try_consume()); }

 private:
  event() = default;
};

using event_ptr = ref_ptr<event>;

}  // namespace weft::io
