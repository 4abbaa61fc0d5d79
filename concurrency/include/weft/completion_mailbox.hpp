// weft::completion_mailbox — a bounded MPSC ring of small messages.
//
// Completion reports flow from many threads (workers, the proactor's poll
// thread) to one owner that applies them. Producers copy a message into a
// fixed ring with try_push(), which never blocks and never overwrites: a full
// ring says no and the producer decides (retry later, fall back, count it).
// The owner takes every published message, in claim order, with drain(fn).
// Nothing allocates after construction.
//
//   struct done { std::uint32_t op; std::int32_t status; };
//   weft::completion_mailbox<done, 256> mailbox;
//   if (!mailbox.try_push({op, status})) handle_back_pressure();  // any thread
//   mailbox.drain([&](const done& d) { complete(d.op, d.status); }); // owner only
//
// Guarantees:
//   - no loss, no duplicate: every message whose try_push returned true is
//     delivered by exactly one drain; a false try_push left the ring unchanged;
//   - claim order: drain delivers messages in the order producers claimed
//     their positions, so one producer's messages arrive in push order;
//   - visibility: what a producer wrote before try_push (and the message
//     itself) happens-before the drain's call of fn for that message; the
//     consumer's reads of a slot happen-before a producer's reuse of it;
//   - try_push returns false only if the ring was full at some point during
//     the call: every slot claimed and not yet drained.
//
// Head of line (the one property to design around): a push claims a position
// first and publishes the message second. drain() stops at the first position
// whose message is not published yet, even if later positions are, so a
// producer preempted between its claim and its publish holds back every
// message claimed after it (and, if it stays preempted, eventually fills the
// ring, so other producers see "full"). The window is a few instructions; it
// becomes visible only when that producer is descheduled. drain() returns what
// it delivered, and has_pending() stays true across such a gap, so the owner
// can tell "nothing to do" from "come back soon".
//
// Concurrency: try_push from any number of threads; drain from ONE consumer
// thread at a time. has_pending() and capacity() from any thread.
//
// Progress: try_push is lock-free (its CAS fails only when another producer
// claimed the position first); drain is wait-free (at most max_messages
// messages, default one ring's worth, so a steady stream cannot keep the owner
// inside drain forever), but delivery is blocking in the head-of-line sense
// above.
//
// Layout: claim position, drain position and the slots sit on separate cache
// lines; slots are not padded (a slot is touched by one producer, then by the
// consumer).
//
// Positions are 64-bit and every comparison is by modular difference, so they
// wrap correctly (the unit tests start them near 2^64 with for_test_start_at);
// 64 bits also keep a producer stalled between its load of the claim position
// and its CAS from being fooled by a counter that wrapped meanwhile (the ABA a
// 32-bit position would allow after 2^32 claims).
//
// Slot sequence protocol (Vyukov's bounded queue), for slot i and position p
// with p % Capacity == i:
//
//   sequence == p             free: the producer claiming p may write it
//   sequence == p + 1         published: the consumer at p may read it
//   sequence == p + Capacity  drained: free for the producer claiming p + Capacity
//
// A producer at p that finds sequence < p (by modular difference) sees the
// message of p - Capacity still in the slot: the ring is full.
//
// Memory orders (sites in completion_mailbox_site):
//   publish (release) / take_check (acquire): the producer's sequence store
//     p + 1 and the consumer's load of it carry the message to the consumer;
//   release_slot (release) / claim_check (acquire): the consumer's store of
//     p + Capacity and the next producer's load of it order the consumer's read
//     of the old message before the producer's overwrite;
//   claim (the CAS on the claim position) is relaxed: it only hands out
//     distinct positions; the slot's sequence, not the counter, carries data.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

enum class completion_mailbox_site {
  claim_check,   // the producer's slot sequence load before claiming: acquire
  claim,         // the claiming CAS on the claim position (split_rmw: a load and a store)
  publish,       // the producer's sequence store p + 1: release
  take_check,    // the consumer's slot sequence load: acquire
  release_slot,  // the consumer's sequence store p + Capacity: release
};

template <class Msg, std::size_t Capacity, class S = sync::os, class P = verified>
class completion_mailbox {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                "completion_mailbox: Capacity must be a power of two and at least 2 (a slot is found as "
                "position & (Capacity - 1), and a one-slot ring cannot tell 'published' from 'free again')");
  static_assert(Capacity <= (std::size_t{1} << 32),
                "completion_mailbox: Capacity above 2^32 is not supported (positions are compared by 64-bit "
                "modular difference)");
  static_assert(std::is_trivially_copyable_v<Msg>,
                "completion_mailbox: Msg must be trivially copyable (messages are copied in and out of the "
                "ring by value and never destroyed in place)");
  static_assert(std::is_default_constructible_v<Msg>,
                "completion_mailbox: Msg must be default constructible (the ring holds Capacity of them)");

 public:
  using site = completion_mailbox_site;
  using message_type = Msg;

  completion_mailbox() : claim_pos_(0), drain_pos_(0) { set_positions(0); }
  completion_mailbox(const completion_mailbox&) = delete;
  completion_mailbox& operator=(const completion_mailbox&) = delete;

  static constexpr std::size_t capacity() { return Capacity; }

  // Any thread. Copies `message` into the ring; false (and no change) if full.
  bool try_push(const Msg& message) {
    std::uint64_t pos = claim_pos_.load(std::memory_order_relaxed);
    for (;;) {
      slot& s = slots_[pos & mask];
      const std::uint64_t seq = s.sequence.load(P::order(site::claim_check, std::memory_order_acquire));
      const auto lag = static_cast<std::int64_t>(seq - pos);
      if (lag == 0) {
        if (claim(pos)) {
          s.message.write(message);
          s.sequence.store(pos + 1, P::order(site::publish, std::memory_order_release));
          return true;
        }
        // `pos` now holds the claim position another producer moved to.
      } else if (lag < 0) {
        return false;  // the slot still holds (or is about to hold) the message from pos - Capacity
      } else {
        // Another producer claimed `pos` (and maybe drained past it): catch up.
        S::pause();
        pos = claim_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer only. Calls fn(const Msg&) for each published message in claim
  // order, at most max_messages of them, stopping at the first position whose
  // producer has not published yet. Each slot is handed back to the producers
  // before fn runs on a copy of its message. Returns how many were delivered.
  template <class Fn>
  std::size_t drain(Fn&& fn, std::size_t max_messages = Capacity) {
    std::uint64_t pos = drain_pos_.load(std::memory_order_relaxed);  // only this thread writes it
    std::size_t delivered = 0;
    while (delivered < max_messages) {
      slot& s = slots_[pos & mask];
      if (s.sequence.load(P::order(site::take_check, std::memory_order_acquire)) != pos + 1) break;
      const Msg message = s.message.read();
      s.sequence.store(pos + Capacity, P::order(site::release_slot, std::memory_order_release));
      ++pos;
      // relaxed: read by has_pending() only, as a hint.
      drain_pos_.store(pos, std::memory_order_relaxed);
      ++delivered;
      fn(message);
    }
    return delivered;
  }

  // Any thread; a relaxed snapshot. True if some message has been claimed and
  // not yet drained — including one whose producer has not published it yet,
  // so drain() may deliver nothing while this is true (see "head of line").
  // On the consumer thread it never misses a message whose try_push
  // happened-before the call.
  bool has_pending() const {
    const std::uint64_t drained = drain_pos_.load(std::memory_order_relaxed);
    const std::uint64_t claimed = claim_pos_.load(std::memory_order_relaxed);
    return static_cast<std::int64_t>(claimed - drained) > 0;
  }

  // Test hook: moves an empty, quiescent mailbox (no concurrent calls, nothing
  // pending) so that the next message is claimed at `position`, e.g. just
  // below 2^64 to exercise wraparound. Not for production use.
  void for_test_start_at(std::uint64_t position) {
    claim_pos_.store(position, std::memory_order_relaxed);
    drain_pos_.store(position, std::memory_order_relaxed);
    set_positions(position);
  }

 private:
  static constexpr std::uint64_t mask = Capacity - 1;
  static constexpr std::size_t cache_line = 64;

  struct slot {
    typename S::template atomic<std::uint64_t> sequence;
    typename S::template plain<Msg> message;
  };

  bool claim(std::uint64_t& pos) {
    if (P::keep(site::claim)) {
      return claim_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed);
    }
    // The mutant: the load that produced `pos` and this store are separate, so
    // two producers that read the same position both "claim" it.
    claim_pos_.store(pos + 1, std::memory_order_relaxed);
    return true;
  }

  void set_positions(std::uint64_t first) {
    for (std::uint64_t p = first; p != first + Capacity; ++p) slots_[p & mask].sequence.store(p, std::memory_order_relaxed);
  }

  alignas(cache_line) typename S::template atomic<std::uint64_t> claim_pos_;  // producers
  alignas(cache_line) typename S::template atomic<std::uint64_t> drain_pos_;  // consumer (read by has_pending)
  alignas(cache_line) slot slots_[Capacity];
};

}  // namespace weft
