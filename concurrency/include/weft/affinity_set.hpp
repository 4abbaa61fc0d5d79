// weft::affinity_set — a fixed-size atomic bitset over many 64-bit words, with
// per-bit claims.
//
// The executor keeps "which workers are idle", "which workers are live" and
// similar sets in one of these, sized for >= 256 workers. Every per-bit
// operation is one atomic RMW on the one word that holds the bit, and reports
// whether THIS call changed the bit. try_claim(bit) and claim_any() are the
// basis of "a wake claims distinct idle workers": of any number of threads
// that try to clear the same set bit, exactly one is told it did.
//
//   weft::affinity_set<256> idle;
//   idle.set(worker);                       // worker: "I am idle" (release)
//   std::size_t w = idle.claim_any(hint);   // waker: take one idle worker
//   if (w != idle.npos) post(w);            //   no other claimer got w
//
// Guarantees:
//   - exactly one claimer per set: each 0 -> 1 transition made by set() is
//     undone by at most one clear()/try_claim()/claim_any() that returns
//     "changed"; concurrent set()s of different bits never lose each other
//     (fetch_or / fetch_and, not load + store);
//   - publication: what a thread wrote before set(bit) is visible to the
//     thread whose claim of that bit succeeds (set is release, the claim
//     acquire);
//   - multi-word reads (find_first, count, for_each, load) read word by word:
//     each word is an atomic snapshot, the set as a whole is not. A bit that
//     stays set for the whole call is seen; a bit that changes during it may
//     or may not be. Protocols must not depend on cross-word consistency
//     (claim_any does not: it retries on the word it found).
//
// Who may call what: every member from any thread. Bit indices must be less
// than Bits (a precondition; not checked in release builds).
//
// Progress: set, clear, try_claim, test are wait-free (one RMW or load).
// claim_any is lock-free: it retries only when another thread cleared the bit
// it found. find_first, count, for_each and load are wait-free (one load per
// word).
//
// Memory orders (routed through P for negative controls):
//   set:    fetch_or, release  — publishes the setter's prior writes to the
//           claimer (set_publish);
//   clear / claims: fetch_and, acq_rel — acquire pairs with set's release;
//           release lets a later setter's claimer see what the clearer did
//           before clearing (a slot returned to a pool) (claim);
//   reads:  acquire (observe), so a bit seen set carries the setter's writes.
// No seq_cst: an affinity_set is not itself a Dekker handshake. A protocol
// that needs one (idle_set's "mark idle; re-check work") puts it on a word of
// its own (see idle_set.hpp).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "weft/policy.hpp"
#include "weft/sync/os.hpp"

namespace weft {

enum class affinity_set_site {
  set_publish,  // set()'s fetch_or: release
  set_rmw,      // set() as one RMW (split_rmw: load + store, loses concurrent sets)
  claim,        // clear()/claims' fetch_and: acq_rel
  claim_rmw,    // clear() as one RMW (split_rmw: load + store, two claimers of one bit)
  observe,      // word loads in test/find/count/for_each/load: acquire
};

// A plain (non-atomic) value of Bits bits: what affinity_set::load() returns,
// and a convenient way to build masks. Word 0 holds bits 0-63.
template <std::size_t Bits>
class affinity_bits {
 public:
  static_assert(Bits > 0, "an affinity set needs at least one bit");
  static constexpr std::size_t bit_count = Bits;
  static constexpr std::size_t word_bits = 64;
  static constexpr std::size_t word_count = (Bits + word_bits - 1) / word_bits;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  constexpr affinity_bits() noexcept = default;

  // The lowest `n` bits set (n clamped to Bits).
  static constexpr affinity_bits first_n(std::size_t n) noexcept {
    affinity_bits b;
    if (n > Bits) n = Bits;
    for (std::size_t w = 0; w < word_count && n > 0; ++w) {
      const std::size_t here = n < word_bits ? n : word_bits;
      b.words_[w] = here == word_bits ? ~std::uint64_t{0} : ((std::uint64_t{1} << here) - 1);
      n -= here;
    }
    return b;
  }

  constexpr bool test(std::size_t bit) const noexcept { return (words_[bit / word_bits] & mask(bit)) != 0; }
  constexpr void set(std::size_t bit) noexcept { words_[bit / word_bits] |= mask(bit); }
  constexpr void clear(std::size_t bit) noexcept { words_[bit / word_bits] &= ~mask(bit); }

  constexpr bool empty() const noexcept {
    for (std::uint64_t w : words_)
      if (w != 0) return false;
    return true;
  }
  constexpr std::size_t count() const noexcept {
    std::size_t n = 0;
    for (std::uint64_t w : words_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
  }
  // The first set bit at or after `start`, wrapping past the end; npos if empty.
  constexpr std::size_t find_first(std::size_t start = 0) const noexcept {
    return find_in([this](std::size_t w) { return words_[w]; }, start);
  }
  // Calls fn(bit) for every set bit, ascending.
  template <class Fn>
  constexpr void for_each(Fn&& fn) const {
    for (std::size_t w = 0; w < word_count; ++w) {
      for (std::uint64_t bits = words_[w]; bits != 0; bits &= bits - 1) {
        fn(w * word_bits + static_cast<std::size_t>(std::countr_zero(bits)));
      }
    }
  }

  constexpr std::uint64_t word(std::size_t index) const noexcept { return words_[index]; }
  constexpr void set_word(std::size_t index, std::uint64_t value) noexcept { words_[index] = value; }

  friend constexpr bool operator==(const affinity_bits&, const affinity_bits&) noexcept = default;

  static constexpr std::uint64_t mask(std::size_t bit) noexcept { return std::uint64_t{1} << (bit % word_bits); }

  // Shared by affinity_bits and affinity_set: scans words through `word_at`
  // from `start`, wrapping once around.
  template <class WordAt>
  static constexpr std::size_t find_in(WordAt&& word_at, std::size_t start) noexcept {
    if (start >= Bits) start = 0;
    const std::size_t first_word = start / word_bits;
    const std::size_t offset = start % word_bits;
    // The start word from `offset` up, the other words in order, then the
    // start word below `offset`.
    const std::uint64_t head = word_at(first_word) & (~std::uint64_t{0} << offset);
    if (head != 0) return first_word * word_bits + static_cast<std::size_t>(std::countr_zero(head));
    for (std::size_t i = 1; i < word_count; ++i) {
      const std::size_t w = (first_word + i) % word_count;
      const std::uint64_t bits = word_at(w);
      if (bits != 0) return w * word_bits + static_cast<std::size_t>(std::countr_zero(bits));
    }
    if (offset != 0) {
      const std::uint64_t tail = word_at(first_word) & ((std::uint64_t{1} << offset) - 1);
      if (tail != 0) return first_word * word_bits + static_cast<std::size_t>(std::countr_zero(tail));
    }
    return npos;
  }

 private:
  std::array<std::uint64_t, word_count> words_{};
};

template <std::size_t Bits, class S = sync::os, class P = verified>
class affinity_set {
 public:
  using site = affinity_set_site;
  using value_type = affinity_bits<Bits>;
  static constexpr std::size_t bit_count = Bits;
  static constexpr std::size_t word_bits = value_type::word_bits;
  static constexpr std::size_t word_count = value_type::word_count;
  static constexpr std::size_t npos = value_type::npos;

  affinity_set() = default;
  affinity_set(const affinity_set&) = delete;
  affinity_set& operator=(const affinity_set&) = delete;

  // Any thread. Sets `bit`; true if this call changed it from 0 to 1.
  bool set(std::size_t bit) {
    auto& w = words_[bit / word_bits];
    const std::uint64_t m = value_type::mask(bit);
    if (!P::keep(site::set_rmw)) {  // negative control only
      const std::uint64_t before = w.load(std::memory_order_relaxed);
      w.store(before | m, P::order(site::set_publish, std::memory_order_release));
      return (before & m) == 0;
    }
    return (w.fetch_or(m, P::order(site::set_publish, std::memory_order_release)) & m) == 0;
  }

  // Any thread. Clears `bit`; true if this call changed it from 1 to 0 — the
  // caller then owns whatever the bit stood for.
  bool clear(std::size_t bit) {
    auto& w = words_[bit / word_bits];
    const std::uint64_t m = value_type::mask(bit);
    if (!P::keep(site::claim_rmw)) {  // negative control only
      const std::uint64_t before = w.load(std::memory_order_acquire);
      if ((before & m) == 0) return false;
      w.store(before & ~m, std::memory_order_release);
      return true;
    }
    return (w.fetch_and(~m, P::order(site::claim, std::memory_order_acq_rel)) & m) != 0;
  }

  // Any thread. The claim of one known bit: clear() under the name that says
  // what the result means.
  bool try_claim(std::size_t bit) { return clear(bit); }

  // Any thread. Claims some set bit, searching from `start` and wrapping;
  // returns it, or npos if the set was seen empty. Concurrent callers never
  // get the same bit for one set().
  std::size_t claim_any(std::size_t start = 0) {
    for (;;) {
      const std::size_t bit = find_first(start);
      if (bit == npos || clear(bit)) return bit;
      start = bit;  // someone else took it; look again from there
    }
  }

  // Any thread. Snapshots of single bits, of the first set bit at or after
  // `start` (wrapping; npos if none seen), of the number of set bits, and of
  // the whole set (word by word).
  bool test(std::size_t bit) const { return (load_word(bit / word_bits) & value_type::mask(bit)) != 0; }
  std::size_t find_first(std::size_t start = 0) const {
    return value_type::find_in([this](std::size_t w) { return load_word(w); }, start);
  }
  std::size_t count() const { return load().count(); }
  bool empty() const { return find_first() == npos; }
  value_type load() const {
    value_type v;
    for (std::size_t w = 0; w < word_count; ++w) v.set_word(w, load_word(w));
    return v;
  }
  // Calls fn(bit) for every bit set in a word-by-word snapshot, ascending.
  template <class Fn>
  void for_each(Fn&& fn) const {
    load().for_each(fn);
  }

 private:
  std::uint64_t load_word(std::size_t w) const {
    return words_[w].load(P::order(site::observe, std::memory_order_acquire));
  }

  // Words on one cache line together: a set is usually scanned whole.
  std::array<typename S::template atomic<std::uint64_t>, word_count> words_{};
};

}  // namespace weft
