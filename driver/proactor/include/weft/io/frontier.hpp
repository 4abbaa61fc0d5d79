// weft::io frontiers — sparse vector clocks over "axes" (a queue, a collective
// channel, a host thread ...), each entry saying "this axis has reached at
// least this epoch". A frontier attached to a semaphore value or a queue says
// which work is known complete; comparing two of them says whether one
// history contains the other, which is what lets a queue skip a wait that its
// own ordering already guarantees (wait elision).
//
//   weft::io::fixed_frontier<4> seen;                      // empty: "nothing known"
//   const weft::io::frontier_entry done[] = {{queue_a, 7}, {queue_b, 3}};
//   if (weft::status s = seen.assign(done); !s.is_ok()) return s;   // validated
//   weft::io::merge(seen, other.view());                   // component-wise max
//   if (weft::io::dominates(seen, needed)) { /* the wait is already satisfied */ }
//
// Representation: entries sorted strictly ascending by axis, every epoch >= 1;
// an axis a frontier does not list counts as epoch 0 there. At most 255
// entries (frontier_max_entries), so counts fit a byte and every loop is
// short.
//
// Guarantees:
//   - Nothing here allocates or throws. merge works in place (right to left)
//     with no scratch buffer.
//   - Caller data is validated wherever it becomes a stored frontier:
//     assign() returns invalid_argument naming the index and the offending
//     axes or epoch; merge() refuses (returns false, target unchanged) a
//     source that is not a valid frontier. So a fixed_frontier or a
//     frontier_buffer always holds a valid frontier.
//   - Overflow is not an error: a merge whose result would exceed the
//     target's capacity returns false and leaves the target unchanged, which
//     is still a valid lower bound of what is known (just less precise).
//   - The queries (compare, dominates, is_satisfied, find_undominated,
//     epoch_of) trust their arguments to be valid frontiers (validate() says
//     whether they are); on invalid input they give an unspecified answer but
//     never read outside the spans.
//
// Thread safety: frontier values are plain data (like std::array): distinct
// objects from different threads freely, one object needs external
// synchronization when someone writes it. Every function is re-entrant.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "weft/base/status.hpp"

namespace weft::io {

// ---- Axes -----------------------------------------------------------------
//
//   63      56 55      48 47      40 39                                    0
//  +----------+----------+----------+---------------------------------------+
//  | session  | machine  |  domain  |               ordinal                 |
//  +----------+----------+----------+---------------------------------------+
//  queue axes split the ordinal:    | device 39:32 |    queue 31:0          |
//
// Widths: axes are never reused, so a process restart (a new tracker
// session) must not collide with the previous one's live axes: 8 session
// bits give 256 sessions before a wrap, far more than can be live at once.
// 8 machine bits cover a 256-node collective, beyond what one proactor
// coordinates. The domain needs 2 bits today (4 kinds); 8 keep the ordinal
// byte-aligned and leave room. The 40-bit ordinal is what remains: queue axes
// use 8 bits of device (a machine has a handful of devices; 256 is generous)
// and 32 bits of queue, so queue ids may come from a never-reused counter.
enum class axis_domain : std::uint8_t { queue = 0, collective = 1, epilogue = 2, host = 3 };

inline constexpr unsigned axis_session_shift = 56;
inline constexpr unsigned axis_machine_shift = 48;
inline constexpr unsigned axis_domain_shift = 40;
inline constexpr std::uint64_t axis_ordinal_mask = (std::uint64_t{1} << 40) - 1;
inline constexpr unsigned queue_axis_device_shift = 32;
inline constexpr std::uint64_t queue_axis_queue_mask = 0xffff'ffffu;

// Ordinal bits above bit 39 are dropped (axis_ordinal_mask); everything else
// is exact, so make_axis and the accessors round-trip.
constexpr std::uint64_t make_axis(std::uint8_t session, std::uint8_t machine, axis_domain domain,
                                  std::uint64_t ordinal) noexcept {
  return std::uint64_t{session} << axis_session_shift | std::uint64_t{machine} << axis_machine_shift |
         std::uint64_t{static_cast<std::uint8_t>(domain)} << axis_domain_shift | (ordinal & axis_ordinal_mask);
}
constexpr std::uint64_t make_queue_axis(std::uint8_t session, std::uint8_t machine, std::uint8_t device,
                                        std::uint32_t queue) noexcept {
  return make_axis(session, machine, axis_domain::queue, std::uint64_t{device} << queue_axis_device_shift | queue);
}
constexpr std::uint8_t axis_session(std::uint64_t axis) noexcept {
  return static_cast<std::uint8_t>(axis >> axis_session_shift);
}
constexpr std::uint8_t axis_machine(std::uint64_t axis) noexcept {
  return static_cast<std::uint8_t>(axis >> axis_machine_shift);
}
// May be a value outside the named enumerators when the axis came from
// elsewhere; compare against the ones you handle.
constexpr axis_domain axis_domain_of(std::uint64_t axis) noexcept {
  return static_cast<axis_domain>(static_cast<std::uint8_t>(axis >> axis_domain_shift));
}
constexpr std::uint64_t axis_ordinal(std::uint64_t axis) noexcept { return axis & axis_ordinal_mask; }
// Meaningful for queue-domain axes only.
constexpr std::uint8_t queue_axis_device(std::uint64_t axis) noexcept {
  return static_cast<std::uint8_t>(axis >> queue_axis_device_shift);
}
constexpr std::uint32_t queue_axis_queue(std::uint64_t axis) noexcept {
  return static_cast<std::uint32_t>(axis & queue_axis_queue_mask);
}

// "0x" and 16 hex digits, so the session/machine/domain bytes stay readable
// in messages.
std::string axis_to_string(std::uint64_t axis);

// ---- Entries, views, queries --------------------------------------------

struct frontier_entry {
  std::uint64_t axis = 0;
  std::uint64_t epoch = 0;
  friend constexpr bool operator==(const frontier_entry&, const frontier_entry&) = default;
};

// A borrowed frontier: any contiguous sorted run of entries (a fixed_frontier,
// a frontier_buffer, a caller array checked with validate()).
using frontier_view = std::span<const frontier_entry>;

inline constexpr std::size_t frontier_max_entries = 255;

// ok, or invalid_argument naming the first problem: more than 255 entries, a
// zero epoch (index, axis), or an axis not above its predecessor (index, both
// axes; equal axes are reported as a duplicate).
status validate(frontier_view f);

enum class frontier_order : std::uint8_t {
  equal,       // same epoch on every axis
  before,      // a <= b on every axis and < on one: a happened before b
  after,       // a >= b on every axis and > on one
  concurrent,  // each is ahead on some axis
};
// Missing axes count as epoch 0. When both list the same axes this is one
// pass over the epochs that stops at the first sign of concurrency.
frontier_order compare(frontier_view a, frontier_view b) noexcept;

// a >= b on every axis (b's history is contained in a's).
bool dominates(frontier_view a, frontier_view b) noexcept;

// Every entry of f is reached in `current` (sorted entries of the current
// state, e.g. a tracker's axis table; zero epochs allowed there). An axis
// missing from `current` is not reached. Stops at the first unmet entry.
bool is_satisfied(frontier_view f, frontier_view current) noexcept;

// The entries of `target` that `reference` does not cover (axis missing from
// reference, or a higher epoch in target), in axis order. Writes the first
// out.size() of them and returns how many there are in total, so a return
// above out.size() shows truncation; an empty `out` only counts. An empty
// result means dominates(reference, target).
std::size_t find_undominated(frontier_view reference, frontier_view target, std::span<frontier_entry> out) noexcept;

// The epoch f lists for axis, or 0 (binary search).
std::uint64_t epoch_of(frontier_view f, std::uint64_t axis) noexcept;

namespace detail {
// The shared bodies of the two owning forms below: `count` of `capacity`
// entries of `entries` are in use.
status assign_entries(frontier_entry* entries, std::size_t capacity, std::uint8_t& count, frontier_view source);
bool merge_entries(frontier_entry* entries, std::size_t capacity, std::uint8_t& count, frontier_view source) noexcept;
}  // namespace detail

// ---- Owning forms ------------------------------------------------------------

// A frontier stored inline with room for Capacity entries (1..255).
// fixed_frontier<1> (single_frontier) is 24 bytes. Copyable; always valid.
template <std::size_t Capacity>
class fixed_frontier {
  static_assert(Capacity >= 1 && Capacity <= frontier_max_entries, "a frontier holds 1..255 entries");

 public:
  constexpr fixed_frontier() noexcept = default;  // empty: no axis known

  // Replaces the contents with a copy of `entries` after validating them:
  // invalid_argument (see validate) or resource_exhausted naming the size and
  // the capacity; on error the frontier is unchanged.
  status assign(frontier_view entries) { return detail::assign_entries(entries_.data(), Capacity, count_, entries); }
  // Component-wise max with `source` (see merge below).
  bool merge(frontier_view source) noexcept { return detail::merge_entries(entries_.data(), Capacity, count_, source); }
  void clear() noexcept { count_ = 0; }

  frontier_view view() const noexcept { return {entries_.data(), count_}; }
  operator frontier_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  static constexpr std::size_t capacity() noexcept { return Capacity; }

 private:
  std::uint8_t count_ = 0;
  std::array<frontier_entry, Capacity> entries_{};
};

using single_frontier = fixed_frontier<1>;

// A frontier kept in storage the caller owns, with a capacity chosen at run
// time (min(storage.size(), 255)); e.g. a semaphore's frontier in a block
// allocated at creation. Does not own the storage; copying the buffer makes a
// second handle to the same storage (don't). Starts empty.
class frontier_buffer {
 public:
  frontier_buffer() noexcept = default;  // capacity 0: stays empty, every non-empty merge overflows
  explicit frontier_buffer(std::span<frontier_entry> storage) noexcept
      : entries_(storage.data()),
        capacity_(storage.size() < frontier_max_entries ? storage.size() : frontier_max_entries) {}

  status assign(frontier_view entries) { return detail::assign_entries(entries_, capacity_, count_, entries); }
  bool merge(frontier_view source) noexcept { return detail::merge_entries(entries_, capacity_, count_, source); }
  void clear() noexcept { count_ = 0; }

  frontier_view view() const noexcept { return {entries_, count_}; }
  operator frontier_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  frontier_entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint8_t count_ = 0;
};

// target := component-wise max(target, source), in place. Returns false and
// leaves target unchanged when the result would need more than its capacity,
// or when source is not a valid frontier. Paths: an empty source or one that
// target already dominates changes nothing; the same axis list takes the max
// in place; otherwise a counting pass checks the size first and a right-to-
// left pass merges without scratch space. source may alias target (merging a
// frontier with itself or a part of itself changes nothing).
template <std::size_t Capacity>
bool merge(fixed_frontier<Capacity>& target, frontier_view source) noexcept {
  return target.merge(source);
}
inline bool merge(frontier_buffer& target, frontier_view source) noexcept { return target.merge(source); }

}  // namespace weft::io
