// Relacy suite for weft::affinity_set.
//
// Models (Bits = 128: two words, so claims and sets cross a word boundary):
//
//   claim_model — `Members` of the bits 63, 64, 0, 127 are set before the
//     threads start (the full search uses 63 and 64: four bits took 28M
//     executions and 210 s);
//     `Claimers` threads call claim_any() from different hints until it
//     reports the set empty. Each claimer writes the bit's owner slot (a
//     plain<int>), so two claimers of one bit race (Relacy reports it) and
//     the owner count is checked.
//     Property: exactly one claimer per bit, and every set bit is claimed.
//
//   publish_model — two setters each write a payload for their bits and set
//     them: bits 1 and 2 (the same word, so a lost update would show) and 70;
//     one claimer polls claim_any() a bounded number of times and reads the
//     payload of every bit it claims.
//     Property: the payload written before set() is visible to the claimer
//     (no data race), and concurrent set()s lose no bit (every bit is claimed
//     or still set at the end).
//
// Negative controls:
//   - claim split into load + store (split_rmw on claim_rmw): two claimers
//     read the bit set and both "clear" it — a duplicate wake in idle_set.
//   - set split into load + store (split_rmw on set_rmw): two setters of one
//     word overwrite each other, a bit is lost.
//   - set weakened to relaxed (set_publish): the claimer reads the payload
//     without synchronizing with the setter: data race.
#include "harness.hpp"
#include "weft/affinity_set.hpp"

namespace {

using weft::affinity_set_site;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;
constexpr std::size_t bits = 128;

template <unsigned Claimers, int Members, class Policy>
struct claim_model : rl::test_suite<claim_model<Claimers, Members, Policy>, Claimers> {
  static constexpr std::size_t members[] = {63, 64, 0, 127};
  static_assert(Members >= 1 && Members <= 4);
  weft::affinity_set<bits, backend, Policy> set;
  backend::plain<int> owners[Members];  // claims per member, written by the claimer

  void before() {
    for (int i = 0; i < Members; ++i) set.set(members[i]);
  }

  static int slot(std::size_t bit) {
    for (int i = 0; i < Members; ++i)
      if (members[i] == bit) return i;
    return -1;
  }

  void thread(unsigned index) {
    for (;;) {
      const std::size_t bit = set.claim_any(index * 50);
      if (bit == set.npos) return;
      const int i = slot(bit);
      RL_ASSERT(i >= 0);
      owners[i].write(owners[i].read() + 1);
    }
  }

  void after() {
    for (auto& o : owners) RL_ASSERT(o.read() == 1);
    RL_ASSERT(set.empty());
  }
};

template <class Policy>
struct publish_model : rl::test_suite<publish_model<Policy>, 3> {
  static constexpr int polls = 4;
  weft::affinity_set<bits, backend, Policy> set;
  backend::plain<int> payload[bits];
  rl::atomic<int> claimed;

  void before() { claimed.store(0, rl::mo_relaxed, $); }

  void publish(std::size_t bit) {
    payload[bit].write(static_cast<int>(bit) + 1);
    RL_ASSERT(set.set(bit));
  }

  void thread(unsigned index) {
    if (index == 0) {
      publish(1);
      publish(70);
      return;
    }
    if (index == 1) {
      publish(2);
      return;
    }
    for (int i = 0; i < polls; ++i) {
      const std::size_t bit = set.claim_any();
      if (bit == set.npos) {
        rl::yield(1, $);
        continue;
      }
      RL_ASSERT(payload[bit].read() == static_cast<int>(bit) + 1);
      claimed.fetch_add(1, rl::mo_relaxed, $);
    }
  }

  void after() {
    const std::size_t left = set.count();
    RL_ASSERT(static_cast<std::size_t>(claimed.load(rl::mo_relaxed, $)) + left == 3);
  }
};

using verified = weft::verified;
using split_claim = mutation::split_rmw<affinity_set_site::claim_rmw>;
using split_set = mutation::split_rmw<affinity_set_site::set_rmw>;
using weak_set = mutation::weaken<affinity_set_site::set_publish, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(affinity_set, "exactly one claimer per bit", random, pass, claim_model<3, 4, verified>);
WEFT_RELACY_CASE(affinity_set, "exactly one claimer per bit", full, pass, claim_model<2, 2, verified>);
WEFT_RELACY_CASE(affinity_set, "set publishes to claimer, no lost set", random, pass, publish_model<verified>);
WEFT_RELACY_CASE(affinity_set, "set publishes to claimer, no lost set", bound, pass, publish_model<verified>);
WEFT_RELACY_CASE(affinity_set, "control: claim as load + store", full, caught, claim_model<2, 2, split_claim>);
WEFT_RELACY_CASE(affinity_set, "control: set as load + store", random, caught, publish_model<split_set>);
WEFT_RELACY_CASE(affinity_set, "control: set relaxed (no release)", random, caught, publish_model<weak_set>);
