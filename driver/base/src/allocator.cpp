#include "weft/base/allocator.hpp"

#include <cassert>
#include <cstdint>
#include <new>

namespace weft {

allocator::~allocator() = default;

namespace {

class operator_new_allocator final : public allocator {
 public:
  result<void*> allocate(std::size_t size, std::size_t alignment) override {
    if (!is_power_of_two(alignment)) {
      return errors::invalid_argument("allocate: alignment ", alignment, " is not a power of two");
    }
    if (size > static_cast<std::size_t>(PTRDIFF_MAX)) {
      return errors::resource_exhausted("allocate: ", size, " bytes (alignment ", alignment,
                                        ") exceeds the largest possible object");
    }
    void* p = ::operator new (size, std::align_val_t{alignment}, std::nothrow);
    if (p == nullptr) {
      return errors::resource_exhausted("allocate: out of memory for ", size, " bytes (alignment ", alignment, ")");
    }
    return p;
  }

  // The unsized form: clang 14 declares sized delete only with -fsized-deallocation.
  void deallocate(void* p, std::size_t /*size*/, std::size_t alignment) noexcept override {
    if (p != nullptr) ::operator delete (p, std::align_val_t{alignment});
  }
};

}  // namespace

allocator& default_allocator() noexcept {
  // Never destroyed, so allocations freed during static destruction still work.
  static allocator& instance = *new operator_new_allocator();
  return instance;
}

counting_allocator::counting_allocator(allocator& inner) : inner_(inner) {}

result<void*> counting_allocator::allocate(std::size_t size, std::size_t alignment) {
  std::lock_guard lock(mutex_);
  if (failure_budget_ && *failure_budget_ == 0) {
    ++failed_allocations_;
    return errors::resource_exhausted("counting_allocator: injected failure for ", size, " bytes (alignment ",
                                      alignment, ") after ", total_allocations_, " successful allocations");
  }
  result<void*> p = inner_.allocate(size, alignment);
  if (!p.ok()) {
    ++failed_allocations_;
    return p;
  }
  if (failure_budget_) --*failure_budget_;
  ++live_allocations_;
  ++total_allocations_;
  live_bytes_ += size;
  return p;
}

void counting_allocator::deallocate(void* p, std::size_t size, std::size_t alignment) noexcept {
  if (p == nullptr) return;
  {
    std::lock_guard lock(mutex_);
    assert(live_allocations_ > 0 && live_bytes_ >= size && "counting_allocator: deallocate without allocate");
    --live_allocations_;
    live_bytes_ -= size;
  }
  inner_.deallocate(p, size, alignment);
}

std::size_t counting_allocator::live_allocations() const {
  std::lock_guard lock(mutex_);
  return live_allocations_;
}

std::size_t counting_allocator::live_bytes() const {
  std::lock_guard lock(mutex_);
  return live_bytes_;
}

std::size_t counting_allocator::total_allocations() const {
  std::lock_guard lock(mutex_);
  return total_allocations_;
}

std::size_t counting_allocator::failed_allocations() const {
  std::lock_guard lock(mutex_);
  return failed_allocations_;
}

void counting_allocator::fail_after(std::size_t successful_allocations) {
  std::lock_guard lock(mutex_);
  failure_budget_ = successful_allocations;
}

void counting_allocator::fail_never() {
  std::lock_guard lock(mutex_);
  failure_budget_.reset();
}

}  // namespace weft
