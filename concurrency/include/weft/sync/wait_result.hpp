// weft::sync::wait_result — why a backend futex wait returned.
#pragma once

namespace weft::sync {

enum class wait_result {
  woken,          // a wake() reached this waiter, or a spurious wakeup (callers re-check)
  value_changed,  // the word no longer held `expected` when the wait began
  timed_out,      // the deadline passed
};

}  // namespace weft::sync
