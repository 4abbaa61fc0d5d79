#include "weft/base/arena.hpp"

#include <algorithm>
#include <cstdint>

namespace weft {

// The head of every block; the payload starts at payload_offset(alignment).
struct arena::block {
  block* next;
  std::size_t bytes;      // the whole allocation, header included
  std::size_t alignment;  // what it was allocated with
};

namespace {

constexpr std::size_t header_alignment = alignof(std::max_align_t);

constexpr std::size_t round_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

// Bytes from p up to the next multiple of alignment.
std::size_t padding_for(const std::byte* p, std::size_t alignment) {
  return static_cast<std::size_t>(-reinterpret_cast<std::uintptr_t>(p)) & (alignment - 1);
}

}  // namespace

std::size_t arena::payload_offset(std::size_t alignment) {
  return round_up(sizeof(block), std::max(alignment, header_alignment));
}

arena::arena(allocator& backing, std::size_t block_size)
    : backing_(&backing), block_size_(std::clamp(block_size, min_block_size, max_bytes)) {}

arena::~arena() { release_blocks(nullptr); }

arena::arena(arena&& other) noexcept
    : backing_(other.backing_),
      block_size_(other.block_size_),
      blocks_(std::exchange(other.blocks_, nullptr)),
      current_(std::exchange(other.current_, nullptr)),
      cursor_(std::exchange(other.cursor_, nullptr)),
      end_(std::exchange(other.end_, nullptr)),
      bytes_allocated_(std::exchange(other.bytes_allocated_, 0)),
      bytes_reserved_(std::exchange(other.bytes_reserved_, 0)) {}

arena& arena::operator=(arena&& other) noexcept {
  if (this != &other) {
    release_blocks(nullptr);
    backing_ = other.backing_;
    block_size_ = other.block_size_;
    blocks_ = std::exchange(other.blocks_, nullptr);
    current_ = std::exchange(other.current_, nullptr);
    cursor_ = std::exchange(other.cursor_, nullptr);
    end_ = std::exchange(other.end_, nullptr);
    bytes_allocated_ = std::exchange(other.bytes_allocated_, 0);
    bytes_reserved_ = std::exchange(other.bytes_reserved_, 0);
  }
  return *this;
}

result<arena::block*> arena::new_block(std::size_t payload_bytes, std::size_t alignment) {
  alignment = std::max(alignment, header_alignment);
  const std::size_t offset = payload_offset(alignment);
  if (offset > max_bytes || payload_bytes > max_bytes - offset) {
    return errors::invalid_argument("arena: request of ", payload_bytes, " bytes (alignment ", alignment,
                                    ") is too large");
  }
  result<void*> memory = backing_->allocate(offset + payload_bytes, alignment);
  if (!memory.ok()) return annotate(memory.status(), "arena");
  block* fresh = ::new (*memory) block{blocks_, offset + payload_bytes, alignment};
  blocks_ = fresh;
  bytes_reserved_ += fresh->bytes;
  return fresh;
}

result<void*> arena::allocate(std::size_t size, std::size_t alignment) {
  if (!is_power_of_two(alignment)) {
    return errors::invalid_argument("arena: alignment ", alignment, " is not a power of two");
  }
  if (current_ != nullptr) {
    const std::size_t padding = padding_for(cursor_, alignment);
    const auto room = static_cast<std::size_t>(end_ - cursor_);
    if (padding <= room && size <= room - padding) {
      void* p = cursor_ + padding;
      cursor_ += padding + size;
      bytes_allocated_ += size;
      return p;
    }
  }
  // A fresh standard block's payload is header_alignment-aligned, so this is
  // the most padding the request can need there.
  const std::size_t standard_payload = block_size_ - payload_offset(header_alignment);
  const std::size_t worst_padding = alignment > header_alignment ? alignment - header_alignment : 0;
  if (size <= standard_payload && worst_padding <= standard_payload - size) {
    result<block*> fresh = new_block(standard_payload, header_alignment);
    if (!fresh.ok()) return fresh.status();
    current_ = *fresh;
    cursor_ = reinterpret_cast<std::byte*>(current_) + payload_offset(header_alignment);
    end_ = reinterpret_cast<std::byte*>(current_) + current_->bytes;
    return allocate(size, alignment);  // fits now
  }
  result<block*> own = new_block(size, alignment);
  if (!own.ok()) return own.status();
  bytes_allocated_ += size;
  return reinterpret_cast<std::byte*>(*own) + payload_offset((*own)->alignment);
}

void arena::reset() {
  release_blocks(current_);
  blocks_ = current_;
  bytes_allocated_ = 0;
  bytes_reserved_ = 0;
  if (current_ != nullptr) {
    current_->next = nullptr;
    cursor_ = reinterpret_cast<std::byte*>(current_) + payload_offset(header_alignment);
    bytes_reserved_ = current_->bytes;
  }
}

void arena::release_blocks(block* keep) {
  for (block* b = blocks_; b != nullptr;) {
    block* next = b->next;
    if (b != keep) backing_->deallocate(b, b->bytes, b->alignment);
    b = next;
  }
  if (keep == nullptr) {
    blocks_ = current_ = nullptr;
    cursor_ = end_ = nullptr;
  }
}

}  // namespace weft
