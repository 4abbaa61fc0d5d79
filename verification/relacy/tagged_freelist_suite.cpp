// Relacy suite for weft::tagged_freelist.
//
// Model: a pool of `Slots` slots, all free at the start. `Threads` threads
// each run `Rounds` rounds of pop -> use -> push back. Using a slot means
// checking its plain<int> owner is 0, writing the thread's id, writing the
// payload, and clearing the owner before pushing it back.
//
// Properties:
//   no slot handed out twice — the owner check (assertion), and plain<> data
//     races if two threads ever hold a slot at once;
//   no slot lost — after(): the list holds every slot exactly once;
//   visibility — a popper reads the owner/payload the last pusher wrote.
//
// The verified 3-thread model runs under the random scheduler only: its
// context-bound search takes ~4 minutes at bound 3 (20M schedules); the
// 2-thread bound search and the 3-thread bound control stay within seconds.
//
// Negative controls (each must be reported):
//   - tag_increment dropped: the ABA interleaving (one thread reads head A and
//     link B; others pop A, pop B, push A; its CAS then succeeds and installs
//     B, which another thread holds) hands a slot out twice;
//   - push_publish weakened to relaxed: the next popper reads the slot's
//     owner without synchronizing with the pusher (data race);
//   - pop_acquire weakened to relaxed: the same race from the popper's side.
#include "harness.hpp"

#include "weft/tagged_freelist.hpp"

namespace {

using weft::tagged_freelist_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <unsigned Threads, unsigned Slots, unsigned Rounds, class Policy>
struct pool_model : rl::test_suite<pool_model<Threads, Slots, Rounds, Policy>, Threads> {
  using list_t = weft::tagged_freelist<weft::sync::relacy, Policy>;

  typename list_t::link links[Slots];
  list_t list{std::span<typename list_t::link>(links), 0xFFFFFFFEu};  // the tag wraps within a run
  plain_int owner[Slots];
  plain_int payload[Slots];

  void before() { list.fill(); }

  void thread(unsigned index) {
    const int me = static_cast<int>(index) + 1;
    for (unsigned round = 0; round < Rounds; ++round) {
      const std::optional<std::uint32_t> slot = list.pop();
      if (!slot) {
        rl::yield(1, $);
        continue;
      }
      RL_ASSERT(*slot < Slots);
      RL_ASSERT(owner[*slot].read() == 0);
      owner[*slot].write(me);
      payload[*slot].write(payload[*slot].read() + 1);
      RL_ASSERT(owner[*slot].read() == me);
      owner[*slot].write(0);
      list.push(*slot);
    }
  }

  void after() {
    int seen[Slots] = {};
    for (unsigned i = 0; i < Slots; ++i) {
      const std::optional<std::uint32_t> slot = list.pop();
      RL_ASSERT(slot.has_value() && *slot < Slots);
      if (slot) ++seen[*slot];
    }
    RL_ASSERT(!list.pop().has_value());
    for (unsigned i = 0; i < Slots; ++i) RL_ASSERT(seen[i] == 1);
  }
};

using verified = weft::verified;
using no_tag = mutation::drop<tagged_freelist_site::tag_increment>;
using push_relaxed = mutation::weaken<tagged_freelist_site::push_publish, std::memory_order_relaxed>;
using pop_relaxed = mutation::weaken<tagged_freelist_site::pop_acquire, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(tagged_freelist, "no slot handed out twice, none lost", random, pass, pool_model<3, 2, 2, verified>);
WEFT_RELACY_CASE(tagged_freelist, "no slot handed out twice, none lost", random, pass, pool_model<3, 3, 2, verified>);
WEFT_RELACY_CASE(tagged_freelist, "no slot handed out twice, none lost", bound, pass, pool_model<2, 2, 2, verified>);
WEFT_RELACY_CASE(tagged_freelist, "control: no tag increment (ABA)", random, caught, pool_model<3, 2, 2, no_tag>);
WEFT_RELACY_CASE(tagged_freelist, "control: push without release", bound, caught, pool_model<2, 2, 2, push_relaxed>);
WEFT_RELACY_CASE(tagged_freelist, "control: pop without acquire", bound, caught, pool_model<2, 2, 2, pop_relaxed>);
WEFT_RELACY_CASE(tagged_freelist, "control: no tag increment (ABA)", bound, caught, pool_model<3, 2, 2, no_tag>);
