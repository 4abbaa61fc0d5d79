// Shared pieces of the executor tests. driver/ holds no std::atomic, so the
// tests' own cross-thread state uses weft primitives too (relaxed_cell,
// event_count) or a mutex where only a test thread waits.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/base/status.hpp"
#include "weft/deadline.hpp"
#include "weft/event_count.hpp"
#include "weft/relaxed_cell.hpp"
#include "weft/sync/fuzz.hpp"
#include "weft/sync/os.hpp"
#include "weft/testing/watchdog.hpp"

namespace weft::exec::test {

using backends = ::testing::Types<weft::sync::os, weft::sync::fuzz>;

struct backend_names {
  template <class T>
  static std::string GetName(int) { return T::name; }
};

// Work counts shrink under sanitizers and the fuzz backend (which sleeps at
// random atomic operations).
template <class S>
std::uint64_t scaled(std::uint64_t n) {
#if defined(WEFT_SANITIZER_THREAD)
  n = n / 8 + 1;
#elif defined(WEFT_SANITIZER_ADDRESS)
  n = n / 4 + 1;
#endif
  if constexpr (std::is_same_v<S, weft::sync::fuzz>) n = n / 4 + 1;
  return n;
}

// Aborts the test binary if a test runs past its limit (weft/testing/watchdog.hpp).
using weft::testing::watchdog;

// A count that threads bump and a test thread waits on.
class counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.fetch_add(n);
    changed_.notify_all();
  }
  std::uint64_t get() const { return value_.load(); }
  bool wait_at_least(std::uint64_t n, std::chrono::seconds limit = std::chrono::seconds(60)) {
    return changed_.await([&] { return value_.load() >= n; }, deadline::after(limit));
  }

 private:
  relaxed_cell<std::uint64_t> value_{0};
  event_count<> changed_;
};

// Polls `condition` (with a short sleep) until it holds or the limit passes:
// for states nothing signals, such as "every worker has parked".
template <class Condition>
bool eventually(Condition&& condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

// Completion statuses in arrival order; a mutex because only callbacks write
// and the test thread reads after the scope went idle.
class status_log {
 public:
  void record(int id, const status& s) {
    std::lock_guard lock(mutex_);
    entries_.push_back({id, s});
  }
  struct entry {
    int id;
    status result;
  };
  std::vector<entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;  // callbacks append, the test reads once at the end
  std::vector<entry> entries_;
};

}  // namespace weft::exec::test
