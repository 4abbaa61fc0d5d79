// weft::tagged_freelist — an ABA-safe lock-free free list of slot indices, for
// pools (blocks, operations) whose slots live in a caller-provided array.
//
// The list is a Treiber stack of 32-bit indices. Its head is one 64-bit word,
// the top index plus a tag that every successful push and pop increments; the
// links between free slots live in a caller-provided array of atomic 32-bit
// words, one per slot.
//
//   std::array<weft::tagged_freelist<>::link, 64> links;
//   weft::tagged_freelist<> free_slots(links);   // empty
//   free_slots.fill();                           // all 64 slots free (setup only)
//   if (auto slot = free_slots.pop()) {          // any thread
//     use(pool[*slot]);
//     free_slots.push(*slot);                    // any thread
//   }
//
// Why the tag: pop() reads head = A and A's link (B), then CASes head from A
// to B. If meanwhile other threads pop A, pop B and push A back, the head is A
// again, but A's link is no longer B: a CAS on the index alone would succeed
// and install B, which another thread owns — one slot handed out twice (the
// ABA problem). With the tag, the head is {t+3, A} instead of {t, A} and the
// stale CAS fails. The stale link read itself is harmless: links are atomic,
// so reading one while its slot is re-pushed is not a data race, and a value
// read from a head that has since changed is thrown away by the failed CAS.
//
// Guarantees:
//   - a slot pushed once is popped at most once before it is pushed again;
//     no pushed slot is lost: after all threads stop, the list holds exactly
//     the slots pushed and not popped;
//   - visibility: what a thread wrote to a slot before push() is visible to the
//     thread whose pop() returns it (release CAS, acquire CAS).
//
// Who may call what: push and pop from any thread; push(i) only for a slot the
// caller owns (popped earlier, or never in the list). fill() and the
// constructor: before the list is shared. empty_relaxed(): any thread.
//
// Progress: push and pop are lock-free (their CAS fails only when another push
// or pop changed the head).
//
// Memory orders: push's CAS is release (publishes the slot's contents and its
// link); pop loads the head with acquire (the link it then reads was written
// before the release that published that head) and its CAS acquires on
// success (the slot's contents) and on failure (the new head, whose link it
// reads next). Link loads and stores are relaxed: the head orders them.
//
// ABA limit: the tag wraps after 2^32 head changes; a pop preempted between
// its load and its CAS across exactly a multiple of 2^32 changes that ends on
// the same index could still succeed wrongly (the same bound as Boost's
// tagged_ptr, which keeps a 16-bit tag).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

// The argued orders and steps of tagged_freelist, for negative controls.
enum class tagged_freelist_site {
  push_publish,   // push's CAS: release
  pop_acquire,    // pop's head load and CAS: acquire
  tag_increment,  // every head change increments the tag (drop: ABA)
};

template <class S = sync::os, class P = verified>
class tagged_freelist {
 public:
  using site = tagged_freelist_site;
  using link = typename S::template atomic<std::uint32_t>;
  static constexpr std::uint32_t none = 0xFFFFFFFFu;

  // An empty list over `links` (one per slot; at most 2^32 - 1 slots).
  // `initial_tag` only matters to tests of the tag's wraparound.
  explicit tagged_freelist(std::span<link> links, std::uint32_t initial_tag = 0)
      : links_(links), head_(pack(initial_tag, none)) {
    S::check(links.size() < none, "tagged_freelist: too many slots");
  }
  tagged_freelist(const tagged_freelist&) = delete;
  tagged_freelist& operator=(const tagged_freelist&) = delete;

  std::uint32_t capacity() const { return static_cast<std::uint32_t>(links_.size()); }

  // Before the list is shared: makes every slot free, so that pops return
  // 0, 1, 2, ... in that order.
  void fill() {
    const std::uint32_t n = capacity();
    for (std::uint32_t i = 0; i < n; ++i) links_[i].store(i + 1 < n ? i + 1 : none, std::memory_order_relaxed);
    const std::uint32_t tag = tag_of(head_.load(std::memory_order_relaxed));
    head_.store(pack(tag + 1, n == 0 ? none : 0), std::memory_order_release);
  }

  // Any thread; `index` must be a slot the caller owns.
  void push(std::uint32_t index) {
    S::check(index < capacity(), "tagged_freelist::push: index out of range");
    std::uint64_t observed = head_.load(std::memory_order_relaxed);
    for (;;) {
      links_[index].store(index_of(observed), std::memory_order_relaxed);
      if (head_.compare_exchange_weak(observed, pack(next_tag(observed), index),
                                      P::order(site::push_publish, std::memory_order_release),
                                      std::memory_order_relaxed)) {
        return;
      }
    }
  }

  // Any thread. A free slot, now owned by the caller, or nothing if the list
  // is empty.
  std::optional<std::uint32_t> pop() {
    const std::memory_order acquire = P::order(site::pop_acquire, std::memory_order_acquire);
    std::uint64_t observed = head_.load(acquire);
    for (;;) {
      const std::uint32_t top = index_of(observed);
      if (top == none) return std::nullopt;
      // May be stale if `top` was popped and re-pushed since we read the head;
      // then the head's tag has changed and the CAS below fails.
      const std::uint32_t next = links_[top].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(observed, pack(next_tag(observed), next), acquire, acquire)) return top;
    }
  }

  // A snapshot for diagnostics and tests; stale as soon as it returns.
  bool empty_relaxed() const { return index_of(head_.load(std::memory_order_relaxed)) == none; }
  std::uint32_t tag_relaxed() const { return tag_of(head_.load(std::memory_order_relaxed)); }

 private:
  static constexpr std::uint64_t pack(std::uint32_t tag, std::uint32_t index) {
    return (std::uint64_t{tag} << 32) | index;
  }
  static constexpr std::uint32_t tag_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }
  static constexpr std::uint32_t index_of(std::uint64_t word) { return static_cast<std::uint32_t>(word); }
  static constexpr std::uint32_t next_tag(std::uint64_t word) {
    return tag_of(word) + (P::keep(site::tag_increment) ? 1u : 0u);  // wraps mod 2^32
  }

  std::span<link> links_;
  // The top of the stack:
  //   63            32 31             0
  //  +----------------+----------------+
  //  |      tag       |  index / none  |
  //  +----------------+----------------+
  typename S::template atomic<std::uint64_t> head_;
};

}  // namespace weft
