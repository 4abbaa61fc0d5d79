// weft::exec::scope — counts a group of processes until each is released, and
// lets a thread wait until none is left.
//
//   weft::exec::scope group;
//   weft::exec::process a({.drain = ..., .scope = &group}), b({... .scope = &group});
//   executor.schedule(a); executor.schedule(b);
//   if (auto s = group.wait_idle(weft::deadline::after(std::chrono::seconds(5))); !s.is_ok()) { /* timed out */ }
//   // both processes have run on_release: their memory may be freed now
//
// A process counts in its scope from its construction until its on_release
// has returned (a cancelled suspended process is released by cancel). So an
// idle scope means every process in it is resolved and released, and
// everything those processes wrote is visible to the thread whose wait_idle
// returned OK.
//
// Thread safety: every member from any thread. The scope must outlive its
// processes' release.
#pragma once

#include <cstdint>

#include "weft/activity_count.hpp"
#include "weft/base/status.hpp"
#include "weft/deadline.hpp"
#include "weft/sync/os.hpp"

namespace weft::exec {

template <class S = sync::os>
class basic_scope {
 public:
  basic_scope() = default;
  basic_scope(const basic_scope&) = delete;
  basic_scope& operator=(const basic_scope&) = delete;

  // Processes not yet released; a relaxed snapshot.
  std::uint32_t outstanding() const { return count_.count_relaxed(); }
  bool idle() const { return count_.idle(); }

  // Blocks until every process of the scope is released, or `until` passes:
  // then deadline_exceeded, naming how many were still outstanding.
  status wait_idle(deadline until = deadline::infinite()) {
    if (count_.wait_idle(until)) return status::ok();
    return errors::deadline_exceeded("scope still has ", count_.count_relaxed(),
                                     " outstanding processes at the deadline");
  }

  // For processes (and callers tracking work of their own): one more / one
  // fewer outstanding item.
  void begin() { count_.begin(); }
  void end() { count_.end(); }

 private:
  activity_count<S> count_;
};

using scope = basic_scope<sync::os>;

}  // namespace weft::exec
