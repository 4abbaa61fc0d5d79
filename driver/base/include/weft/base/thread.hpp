// weft::thread — a named, optionally pinned OS thread with a chosen stack
// size, started with an error value instead of an exception.
//
//   weft::thread_options options{.name = "weft-worker-3", .cpus = {3}};
//   WEFT_ASSIGN_OR_RETURN(weft::thread worker, weft::thread::start(options, [&] { run_worker(3); }));
//   ...
//   worker.join();            // or let the destructor join
//
// Guarantees:
//   - the name and the CPU set are in effect before the body runs (the name
//     is set by the new thread first thing; the CPU set is applied by
//     pthread_create itself, so start() fails instead of running unpinned);
//   - a thread object that still owns a running thread joins it when it is
//     destroyed or assigned over, never std::terminate()s;
//   - start() allocates one small block (the body and its name) that the new
//     thread frees; nothing else is hidden.
//
// Names: Linux keeps 15 bytes of a thread name; longer names are cut to 15
// bytes (at a UTF-8 character boundary) and name() returns the cut name.
//
// Pinning: CPU ids above max_cpu_id, and ids that are not online (per
// /sys/devices/system/cpu/online, when it is readable), are INVALID_ARGUMENT
// naming the id. An id that is online but outside the process's cpuset is
// dropped by the kernel; if no id is left, start() and pin_current_thread()
// fail with UNAVAILABLE naming the ids. pin_current_thread() also checks the
// mask that took effect: if an id was dropped it restores the previous mask
// and fails with UNAVAILABLE naming that id. (start() cannot check a thread
// that is already running; a partly applied set stays partly applied.)
//
// Stack size: 0 means the system default; smaller than PTHREAD_STACK_MIN is
// raised to it, and it is rounded up to whole pages.
//
// The body must not throw: an exception that escapes it terminates the
// process, as with std::thread.
//
// Thread safety: start(), pin_current_thread(), current_*() from any thread.
// A thread object belongs to one owner: join() and moves are not synchronized
// with each other. join() from the thread itself is a caller bug (asserted).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "weft/base/result.hpp"
#include "weft/base/status.hpp"

namespace weft {

struct thread_options {
  std::string name{};                 // pthread name, cut to 15 bytes
  std::vector<std::uint32_t> cpus{};  // empty = no pinning; else pin to this set
  std::size_t stack_size = 0;         // 0 = system default; else at least PTHREAD_STACK_MIN
};

class thread {
 public:
  thread() noexcept = default;  // owns no thread
  static result<thread> start(thread_options options, std::function<void()> body);

  thread(thread&& other) noexcept;
  thread& operator=(thread&& other) noexcept;  // joins the thread it owned first
  thread(const thread&) = delete;
  thread& operator=(const thread&) = delete;
  ~thread();

  // Waits for the body to return; nothing if not joinable.
  void join();
  bool joinable() const { return joinable_; }
  const std::string& name() const { return name_; }

 private:
  pthread_t handle_{};
  bool joinable_ = false;
  std::string name_;
};

// Pins the calling thread to `cpus` (any of them).
status pin_current_thread(std::span<const std::uint32_t> cpus);
// The CPUs the calling thread may run on, ascending.
result<std::vector<std::uint32_t>> current_thread_affinity();
std::string current_thread_name();
int current_cpu();  // sched_getcpu(), -1 if unknown

}  // namespace weft
