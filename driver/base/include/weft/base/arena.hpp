// weft::arena — a bump allocator for many small objects that die together
// (a command-buffer recording, a parsed configuration, one request's scratch).
//
//   weft::arena scratch(weft::default_allocator());          // 64 KiB blocks
//   WEFT_ASSIGN_OR_RETURN(auto* node, scratch.make<graph_node>(id, name));
//   WEFT_ASSIGN_OR_RETURN(std::span<float> weights, scratch.make_array<float>(n));  // zeroed
//   scratch.reset();   // everything above is gone; one block is kept for reuse
//
// Memory comes from the allocator in blocks of `block_size` bytes (the block
// header included), obtained lazily on the first allocation that needs one. A
// request that cannot fit in an empty block gets a block of its own, and the
// current block keeps serving small requests. reset() returns every block but
// the current one; the destructor returns them all.
//
// The arena never runs destructors: make<T> and make_array<T> construct in
// place and forget. Use it for trivially destructible types, or destroy
// objects yourself before reset().
//
// Errors: an alignment that is not a power of two, or a size whose block would
// overflow, is INVALID_ARGUMENT; the allocator's own failure is passed on with
// "arena: " in front. A failed call changes nothing.
//
// Thread safety: none. An arena belongs to one thread at a time (move it to
// hand it over); it is the caller's per-thread or per-object scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "weft/base/allocator.hpp"
#include "weft/base/result.hpp"

namespace weft {

class arena {
 public:
  static constexpr std::size_t default_block_size = 64 * 1024;
  static constexpr std::size_t min_block_size = 256;  // smaller requests are raised to this

  explicit arena(allocator& backing, std::size_t block_size = default_block_size);
  ~arena();
  arena(arena&& other) noexcept;
  arena& operator=(arena&& other) noexcept;
  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;

  // Uninitialized memory, aligned as asked, valid until reset() or destruction.
  result<void*> allocate(std::size_t size, std::size_t alignment);

  // A T built in place from args (T(args...), or T{args...} for aggregates).
  template <class T, class... A>
  result<T*> make(A&&... args) {
    result<void*> memory = allocate(sizeof(T), alignof(T));
    if (!memory.ok()) return memory.status();
    if constexpr (std::is_constructible_v<T, A&&...>) {
      return ::new (*memory) T(std::forward<A>(args)...);
    } else {
      return ::new (*memory) T{std::forward<A>(args)...};
    }
  }

  // n value-initialized Ts (zero for arithmetic types).
  template <class T>
  result<std::span<T>> make_array(std::size_t n) {
    if (n > max_bytes / sizeof(T)) {
      return errors::invalid_argument("arena: array of ", n, " elements of ", sizeof(T), " bytes is too large");
    }
    result<void*> memory = allocate(n * sizeof(T), alignof(T));
    if (!memory.ok()) return memory.status();
    T* first = static_cast<T*>(*memory);
    std::uninitialized_value_construct_n(first, n);
    return std::span<T>(first, n);
  }

  // Forgets every allocation; keeps the current block, returns the others.
  void reset();

  std::size_t bytes_allocated() const { return bytes_allocated_; }  // requested since the last reset
  std::size_t bytes_reserved() const { return bytes_reserved_; }    // held from the allocator, headers included
  std::size_t block_size() const { return block_size_; }

 private:
  static constexpr std::size_t max_bytes = static_cast<std::size_t>(PTRDIFF_MAX);
  struct block;

  static std::size_t payload_offset(std::size_t alignment);  // where a block's payload starts

  result<block*> new_block(std::size_t payload_bytes, std::size_t alignment);
  void release_blocks(block* keep);

  allocator* backing_;
  std::size_t block_size_;
  block* blocks_ = nullptr;   // every block, newest first
  block* current_ = nullptr;  // the block that serves bump allocations
  std::byte* cursor_ = nullptr;
  std::byte* end_ = nullptr;
  std::size_t bytes_allocated_ = 0;
  std::size_t bytes_reserved_ = 0;
};

}  // namespace weft
