// Shared helpers for the real-thread stress suites.
//
// Every suite is a typed test over the backends it runs on (os and fuzz), and
// bounds its work so that the TSAN build (5-15x slower) still finishes in
// seconds: use stress::scaled(n).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "weft/sync/fuzz.hpp"
#include "weft/sync/os.hpp"

namespace weft::stress {

using backends = ::testing::Types<weft::sync::os, weft::sync::fuzz>;

struct backend_names {
  template <class T>
  static std::string GetName(int) { return T::name; }
};

// Work counts shrink under sanitizers, which slow atomics by 5-15x.
inline std::uint64_t scaled(std::uint64_t n) {
#if defined(WEFT_SANITIZER_THREAD)
  return n / 8 + 1;
#elif defined(WEFT_SANITIZER_ADDRESS)
  return n / 4 + 1;
#else
  return n;
#endif
}

// Starts `count` threads running fn(index) together and joins them all.
template <class Fn>
void run_threads(unsigned count, Fn fn) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      fn(i);
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
}

// Fails the test (instead of hanging CI) if the scope takes longer than the
// limit. The check runs on a helper thread; it aborts the process because a
// hung protocol cannot be unwound.
class watchdog {
 public:
  explicit watchdog(std::chrono::seconds limit) : thread_([this, limit] {
      const auto until = std::chrono::steady_clock::now() + limit;
      while (!done_.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() > until) {
          std::fprintf(stderr, "weft stress watchdog: test exceeded %llds, aborting\n",
                       static_cast<long long>(limit.count()));
          std::abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }) {}
  ~watchdog() {
    done_.store(true, std::memory_order_release);
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace weft::stress
