// weft::testing::watchdog: turns a hung test into a failed run instead of a
// stalled one.
//
// A test whose protocol can hang (a lost wake-up, a callback that never comes)
// holds one for as long as it may block:
//
//   TEST(frontier_tracker, concurrent_advances) {
//     weft::testing::watchdog guard;                   // 60 s
//     ...
//   }
//   class slow_fixture : public ::testing::Test {
//     weft::testing::watchdog dog_{std::chrono::seconds(120)};
//   };
//
// Guarantee: if the watchdog still exists `limit` after its construction, it
// prints "weft watchdog: <suite>.<test> exceeded <limit>s; aborting" to stderr
// (the test that was running when the watchdog was made) and calls
// std::abort(). It aborts the whole process because a hung thread cannot be
// unwound; the crash and the message fail the run. Destruction stops the
// watchdog at once, without waiting out the limit.
//
// Threads: the constructor starts one helper thread and the destructor joins
// it; construct and destroy it on the same (test) thread. Blocking: the helper
// sleeps on a condition variable. The one flag the two threads share sits
// under a mutex (driver/ code holds no atomics, and this is off every hot path).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace weft::testing {

class watchdog {
 public:
  explicit watchdog(std::chrono::seconds limit = std::chrono::seconds(60)) : test_name_(current_test_name()) {
    thread_ = std::thread([this, limit] {
      std::unique_lock lock(mutex_);
      if (!done_changed_.wait_for(lock, limit, [this] { return done_; })) {
        std::fprintf(stderr, "weft watchdog: %s exceeded %llds; aborting\n", test_name_.c_str(),
                     static_cast<long long>(limit.count()));
        std::abort();
      }
    });
  }
  ~watchdog() {
    {
      const std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_changed_.notify_all();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  static std::string current_test_name() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info == nullptr) return "(outside any test)";
    return std::string(info->test_suite_name()) + "." + info->name();
  }

  const std::string test_name_;
  std::mutex mutex_;  // guards done_: set once by the destructor, read by the helper
  std::condition_variable done_changed_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace weft::testing
