// Relacy suite for weft::first_wins.
//
// Model: `Offerers` threads each allocate a message (new, through
// std::unique_ptr: Relacy replaces operator new and reports leaks), write its
// payload (plain<int> fields) and offer it; `Takers` threads take. A taker
// that gets a message reads its payload. A loser checks it still owns its own
// message, intact, and deletes it.
//
// Properties:
//   exactly one winner, or none if every take came first: the number of
//     accepted offers equals the number of messages taken, and is at most 1;
//   losers keep their value (assertion on their own message);
//   the taker reads the winner's payload race-free (plain<>);
//   no leak: every message is deleted by its loser, its taker, or (untaken
//     winner) the slot's destructor — Relacy reports a leak otherwise.
//
// Negative controls (each must be reported):
//   - offer_publish weakened to relaxed: the taker reads the payload without
//     synchronizing with the offerer (data race);
//   - take_acquire weakened to relaxed: the same race from the taker's side;
//   - take_rmw split into a load and a store: an offer that lands between
//     them is accepted and then overwritten by CLOSED — accepted != taken
//     (assertion; Relacy would also report the leaked message);
//   - closed_check dropped: an offer after the take replaces CLOSED and is
//     accepted though nobody will take it (accepted != taken).
#include <cstddef>
#include <memory>

#include "harness.hpp"
#include "weft/first_wins.hpp"

namespace {

using weft::first_wins_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

struct message {
  explicit message(int v) : payload(v), check(-v) {}
  // Relacy's replacement operator new/delete are inline, so the sized
  // operator delete in libstdc++ (which unique_ptr's delete calls) does not
  // reach them; class-specific unsized operators keep every allocation of a
  // message in Relacy's tracked heap.
  static void* operator new(std::size_t size) { return ::operator new(size); }
  static void operator delete(void* p) { ::operator delete(p); }
  plain_int payload;
  plain_int check;
};

template <unsigned Offerers, unsigned Takers, class Policy>
struct slot_model : rl::test_suite<slot_model<Offerers, Takers, Policy>, Offerers + Takers> {
  weft::first_wins<message, weft::sync::relacy, Policy> slot;
  rl::atomic<int> accepted, taken;

  void before() {
    accepted.store(0, rl::mo_relaxed, $);
    taken.store(0, rl::mo_relaxed, $);
  }

  void thread(unsigned index) {
    if (index < Offerers) {
      const int mine = static_cast<int>(index) + 1;
      auto m = std::make_unique<message>(mine);
      if (slot.offer(m)) {
        RL_ASSERT(m == nullptr);
        accepted.fetch_add(1, rl::mo_relaxed, $);
      } else {
        RL_ASSERT(m != nullptr);
        RL_ASSERT(m->payload.read() == mine);
      }
      return;
    }
    const std::unique_ptr<message> winner = slot.take();
    if (!winner) return;
    taken.fetch_add(1, rl::mo_relaxed, $);
    const int payload = winner->payload.read();
    RL_ASSERT(payload >= 1 && payload <= static_cast<int>(Offerers));
    RL_ASSERT(winner->check.read() == -payload);
  }

  void after() {
    const int a = accepted.load(rl::mo_relaxed, $);
    RL_ASSERT(a <= 1);
    RL_ASSERT(a == taken.load(rl::mo_relaxed, $));
    RL_ASSERT(!slot.has_value_relaxed());
  }
};

using verified = weft::verified;
using offer_relaxed = mutation::weaken<first_wins_site::offer_publish, std::memory_order_relaxed>;
using take_relaxed = mutation::weaken<first_wins_site::take_acquire, std::memory_order_relaxed>;
using split_take = mutation::split_rmw<first_wins_site::take_rmw>;
using no_closed_check = mutation::drop<first_wins_site::closed_check>;

}  // namespace

WEFT_RELACY_CASE(first_wins, "3 offers + take: one winner, visible, no leak", random, pass, slot_model<3, 1, verified>);
WEFT_RELACY_CASE(first_wins, "2 offers + 2 takes: one winner, taken once", random, pass, slot_model<2, 2, verified>);
WEFT_RELACY_CASE(first_wins, "2 offers + take: one winner, visible, no leak", full, pass, slot_model<2, 1, verified>);
WEFT_RELACY_CASE(first_wins, "control: offer relaxed", random, caught, slot_model<3, 1, offer_relaxed>);
WEFT_RELACY_CASE(first_wins, "control: take relaxed", random, caught, slot_model<3, 1, take_relaxed>);
WEFT_RELACY_CASE(first_wins, "control: take as load + store", random, caught, slot_model<3, 1, split_take>);
WEFT_RELACY_CASE(first_wins, "control: take as load + store", full, caught, slot_model<2, 1, split_take>);
WEFT_RELACY_CASE(first_wins, "control: offer without the closed check", random, caught,
                 slot_model<3, 1, no_closed_check>);
