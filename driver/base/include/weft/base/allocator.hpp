// weft::allocator — where driver memory comes from. Every weft API that
// allocates takes one (or an arena built on one), so an embedder can route,
// count or fail allocations.
//
//   weft::counting_allocator counted;                  // wraps default_allocator()
//   WEFT_ASSIGN_OR_RETURN(void* p, counted.allocate(4096, 64));
//   ...
//   counted.deallocate(p, 4096, 64);                   // same size and alignment
//   assert(counted.live_allocations() == 0);
//
// Contract of every allocator:
//   allocate(size, alignment): alignment must be a power of two (else
//     INVALID_ARGUMENT naming it); size 0 is allowed and gives a distinct
//     pointer that must still be deallocated. Out of memory is
//     RESOURCE_EXHAUSTED naming size and alignment. Never throws.
//   deallocate(p, size, alignment): p from allocate() on the same allocator
//     with the same size and alignment; nullptr is ignored.
//   Both are thread-safe: any thread, concurrently.
//
// default_allocator() is aligned ::operator new / delete (nothrow); requests
// above PTRDIFF_MAX bytes fail with RESOURCE_EXHAUSTED before reaching it.
// It lives for the whole program, including static destruction.
//
// counting_allocator counts what passes through it, for leak tests and
// diagnostics, and can inject failures. Its counters sit behind a std::mutex:
// it is a test and diagnostic tool, not a hot-path allocator, and a lock keeps
// the counters and the failure budget exact with no atomics in driver/.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>

#include "weft/base/result.hpp"

namespace weft {

class allocator {
 public:
  virtual ~allocator();
  virtual result<void*> allocate(std::size_t size, std::size_t alignment) = 0;
  virtual void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept = 0;
};

allocator& default_allocator() noexcept;

constexpr bool is_power_of_two(std::size_t value) noexcept { return value != 0 && (value & (value - 1)) == 0; }

class counting_allocator : public allocator {
 public:
  explicit counting_allocator(allocator& inner = default_allocator());
  counting_allocator(const counting_allocator&) = delete;
  counting_allocator& operator=(const counting_allocator&) = delete;

  result<void*> allocate(std::size_t size, std::size_t alignment) override;
  void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept override;

  // Snapshots (any thread).
  std::size_t live_allocations() const;    // allocated and not yet deallocated
  std::size_t live_bytes() const;          // their sizes, summed
  std::size_t total_allocations() const;   // every successful allocate() so far
  std::size_t failed_allocations() const;  // every allocate() that returned an error

  // Failure injection: the next `successful_allocations` calls to allocate()
  // succeed (if the inner allocator does), and every call after them fails
  // with RESOURCE_EXHAUSTED until fail_never(). fail_after(0) fails the next.
  void fail_after(std::size_t successful_allocations);
  void fail_never();

 private:
  allocator& inner_;
  mutable std::mutex mutex_;                   // cold path (tests, diagnostics): keeps counters and budget exact
  std::size_t live_allocations_ = 0;           // guarded by mutex_
  std::size_t live_bytes_ = 0;                 // guarded by mutex_
  std::size_t total_allocations_ = 0;          // guarded by mutex_
  std::size_t failed_allocations_ = 0;         // guarded by mutex_
  std::optional<std::size_t> failure_budget_;  // guarded by mutex_; successes left before failing
};

}  // namespace weft
