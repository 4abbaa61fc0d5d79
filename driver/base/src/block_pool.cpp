#include "weft/base/block_pool.hpp"

#include <algorithm>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "weft/ref_count.hpp"
#include "weft/tagged_freelist.hpp"

namespace weft {

namespace {

using freelist = tagged_freelist<>;
constexpr std::size_t cache_line = 64;
constexpr std::size_t max_bytes = static_cast<std::size_t>(PTRDIFF_MAX);

constexpr std::size_t round_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

// Both hot words on one line: acquire's pop leaves the line owned by this
// core, so the counter update right after it does not move another line.
struct alignas(cache_line) block_pool::control {
  control(std::span<freelist::link> links, std::uint32_t blocks) : free_blocks(links), available_plus_one(blocks + 1) {
    free_blocks.fill();
  }
  freelist free_blocks;
  // Free blocks + 1. The +1 keeps the count above zero so ref_count's
  // "no reference left" check never fires: release() increments before its
  // push and acquire() decrements after its pop, so every decrement follows
  // the increment (or the initial count) of the block it took.
  ref_count<> available_plus_one;
};

result<block_pool> block_pool::create(allocator& backing, std::size_t block_size, std::uint32_t block_count,
                                      std::size_t alignment) {
  if (block_size == 0) return errors::invalid_argument("block_pool: block size 0 must be at least 1 byte");
  if (!is_power_of_two(alignment)) {
    return errors::invalid_argument("block_pool: alignment ", alignment, " is not a power of two");
  }
  if (block_count == 0) return errors::invalid_argument("block_pool: block count 0 must be at least 1");
  if (block_count == freelist::none) {
    return errors::invalid_argument("block_pool: block count ", block_count, " exceeds the maximum ",
                                    freelist::none - 1);
  }
  const std::size_t slab_alignment = std::max(alignment, cache_line);
  const std::size_t links_bytes = std::size_t{block_count} * sizeof(freelist::link);
  const std::size_t fixed_bytes = sizeof(control) + links_bytes;
  if (alignment > max_bytes || block_size > max_bytes - alignment ||
      round_up(block_size, alignment) > (max_bytes - fixed_bytes - cache_line) / block_count) {
    return errors::invalid_argument("block_pool: ", block_count, " blocks of ", block_size, " bytes (alignment ",
                                    alignment, ") do not fit in the address space");
  }
  const std::size_t stride = round_up(block_size, alignment);
  const std::size_t control_offset = round_up(stride * block_count, cache_line);
  const std::size_t links_offset = control_offset + sizeof(control);
  const std::size_t slab_bytes = links_offset + links_bytes;

  result<void*> slab = backing.allocate(slab_bytes, slab_alignment);
  if (!slab.ok()) {
    return annotate(slab.status(), "block_pool: slab for " + std::to_string(block_count) + " blocks of " +
                                       std::to_string(block_size) + " bytes");
  }
  auto* bytes = static_cast<std::byte*>(*slab);
  auto* links = reinterpret_cast<freelist::link*>(bytes + links_offset);
  for (std::uint32_t i = 0; i < block_count; ++i) ::new (links + i) freelist::link(freelist::none);

  block_pool pool;
  pool.backing_ = &backing;
  pool.slab_ = bytes;
  pool.slab_bytes_ = slab_bytes;
  pool.slab_alignment_ = slab_alignment;
  pool.control_ = ::new (bytes + control_offset) control(std::span(links, block_count), block_count);
  pool.block_size_ = block_size;
  pool.stride_ = stride;
  pool.alignment_ = alignment;
  pool.capacity_ = block_count;
  return pool;
}

block_pool::block_pool(block_pool&& other) noexcept
    : backing_(other.backing_),
      slab_(std::exchange(other.slab_, nullptr)),
      slab_bytes_(std::exchange(other.slab_bytes_, 0)),
      slab_alignment_(other.slab_alignment_),
      control_(std::exchange(other.control_, nullptr)),
      block_size_(other.block_size_),
      stride_(other.stride_),
      alignment_(other.alignment_),
      capacity_(std::exchange(other.capacity_, 0)) {}

block_pool& block_pool::operator=(block_pool&& other) noexcept {
  if (this != &other) {
    destroy();
    backing_ = other.backing_;
    slab_ = std::exchange(other.slab_, nullptr);
    slab_bytes_ = std::exchange(other.slab_bytes_, 0);
    slab_alignment_ = other.slab_alignment_;
    control_ = std::exchange(other.control_, nullptr);
    block_size_ = other.block_size_;
    stride_ = other.stride_;
    alignment_ = other.alignment_;
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

block_pool::~block_pool() { destroy(); }

void block_pool::destroy() noexcept {
  if (slab_ == nullptr) return;
  control_->~control();  // the links are trivially destructible
  backing_->deallocate(slab_, slab_bytes_, slab_alignment_);
  slab_ = nullptr;
  control_ = nullptr;
  capacity_ = 0;
}

result<void*> block_pool::acquire() {
  if (slab_ == nullptr) return errors::failed_precondition("block_pool: acquire on a moved-from pool");
  const std::optional<std::uint32_t> index = control_->free_blocks.pop();
  if (!index) {
    return errors::resource_exhausted("block pool of ", capacity_, " blocks of ", block_size_, " bytes is exhausted");
  }
  static_cast<void>(control_->available_plus_one.release());  // never the last: see control
  return slab_ + std::size_t{*index} * stride_;
}

status block_pool::release(void* block) {
  if (slab_ == nullptr) return errors::failed_precondition("block_pool: release on a moved-from pool");
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  const auto first = reinterpret_cast<std::uintptr_t>(slab_);
  const std::size_t blocks_bytes = stride_ * capacity_;
  if (address < first || address - first >= blocks_bytes) {
    return errors::invalid_argument("block_pool: address ", block, " is outside the pool's blocks [",
                                    static_cast<const void*>(slab_), ", ",
                                    static_cast<const void*>(slab_ + blocks_bytes), ")");
  }
  const std::size_t offset = address - first;
  if (offset % stride_ != 0) {
    return errors::invalid_argument("block_pool: address ", block, " is ", offset % stride_, " bytes into block ",
                                    offset / stride_, ", not at the start of a block");
  }
  control_->available_plus_one.acquire();  // before the push: see control
  control_->free_blocks.push(static_cast<std::uint32_t>(offset / stride_));
  return status::ok();
}

std::uint32_t block_pool::available_relaxed() const {
  if (control_ == nullptr) return 0;
  const std::uint32_t count = control_->available_plus_one.count_relaxed();
  return std::min(count - 1, capacity_);
}

bool block_pool::owns(const void* p) const {
  if (slab_ == nullptr) return false;
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  const auto first = reinterpret_cast<std::uintptr_t>(slab_);
  return address >= first && address - first < stride_ * capacity_ && (address - first) % stride_ == 0;
}

}  // namespace weft
