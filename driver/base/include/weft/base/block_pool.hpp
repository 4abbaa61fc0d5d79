// weft::block_pool — fixed-size blocks handed out and taken back from any
// thread without a lock (I/O buffers, operation records, staging memory).
//
//   WEFT_ASSIGN_OR_RETURN(weft::block_pool pool,
//                         weft::block_pool::create(weft::default_allocator(), 4096, 256));
//   WEFT_ASSIGN_OR_RETURN(void* buffer, pool.acquire());      // any thread
//   fill(buffer);
//   WEFT_RETURN_IF_ERROR(pool.release(buffer));               // any thread, maybe another one
//
// Layout: create() makes one allocation, the slab, and nothing allocates
// after it:
//
//   | block 0 | block 1 | ... | block N-1 | control (own cache line) | links[N] |
//     stride = block_size rounded up to alignment
//
// The free blocks are a weft::tagged_freelist of indices whose links live in
// the slab, after the blocks, so a free block's own bytes are never touched
// by the pool. The control line holds the free list head and a weft::ref_count
// used as the counter behind available_relaxed().
//
// Guarantees:
//   - a block is handed out by acquire() to at most one caller at a time: it
//     comes back only through release();
//   - what a thread wrote into a block before release() is visible to the
//     thread whose acquire() returns it next (the free list's release push and
//     acquire pop; see tagged_freelist.hpp);
//   - every block is block_size() bytes and aligned to the requested alignment;
//   - release() of a pointer that is not the start of one of this pool's
//     blocks returns INVALID_ARGUMENT naming the address, and changes nothing.
//     Releasing a block twice, or one still in use, is a caller bug that the
//     pool cannot detect.
//
// Who may call what: acquire, release, available_relaxed and the accessors
// from any thread, concurrently. Moving or destroying the pool: only when no
// other thread uses it and (for destruction) no block is still in use.
//
// Progress: acquire and release are lock-free (the free list's CAS loop plus
// one RMW on the counter). No memory order is written here: every cross-thread
// step is a tagged_freelist or ref_count operation, whose contract and Relacy
// suite carry the argument.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/base/allocator.hpp"
#include "weft/base/result.hpp"

namespace weft {

class block_pool {
 public:
  static result<block_pool> create(allocator& backing, std::size_t block_size, std::uint32_t block_count,
                                   std::size_t alignment = 64);

  block_pool(block_pool&& other) noexcept;
  block_pool& operator=(block_pool&& other) noexcept;
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;
  ~block_pool();

  // A free block, now owned by the caller; RESOURCE_EXHAUSTED when none is
  // free, FAILED_PRECONDITION on a moved-from pool.
  result<void*> acquire();
  // Gives back a block from acquire().
  status release(void* block);

  std::size_t block_size() const { return block_size_; }  // as requested
  std::size_t stride() const { return stride_; }          // distance between blocks
  std::size_t alignment() const { return alignment_; }
  std::uint32_t capacity() const { return capacity_; }
  // A snapshot, stale as soon as it returns; exact when no call is in flight.
  std::uint32_t available_relaxed() const;
  // Whether p is the start of one of this pool's blocks (free or not).
  bool owns(const void* p) const;

 private:
  struct control;

  block_pool() = default;
  void destroy() noexcept;

  allocator* backing_ = nullptr;
  std::byte* slab_ = nullptr;  // null in a moved-from pool
  std::size_t slab_bytes_ = 0;
  std::size_t slab_alignment_ = 0;
  control* control_ = nullptr;
  std::size_t block_size_ = 0;
  std::size_t stride_ = 0;
  std::size_t alignment_ = 0;
  std::uint32_t capacity_ = 0;
};

}  // namespace weft
