// Relacy suite for weft::doorbell.
//
// The owner's blocking system call is modeled as an eventfd: a 32-bit counter
// that a ring() told `true` bumps and futex-wakes, and that the owner's sleep
// takes with exchange(0), futex-waiting while it reads 0. Every access is
// relaxed, so the model wakes but synchronizes nothing: every order the
// protocol needs must come from the doorbell. A lost wake leaves the owner
// futex-blocked with every producer finished: Relacy reports DEADLOCK.
//
// Model 1, owner_model<Producers, Policy>: each producer pushes one item (a
// plain payload) on a real mpsc_slist and rings; a `true` ring reads the
// owner's wake target (plain, written by the owner once before its first
// sleep, standing in for a lazily created eventfd) and posts. The owner loops
// take -> drain -> prepare_sleep -> block -> finish_sleep -> drain until it
// has every item.
//   no lost wake — every item drained (else DEADLOCK);
//   coalescing — wake posts == sleeps: each sleep consumed a post (the owner
//     blocks until one comes) and no sleep got two (after());
//   owner -> ringer visibility — the wake target read races otherwise.
// The list synchronizes the payloads itself, so a doorbell that forgets to
// publish shows here as a lost item, not a race: the owner acquires nothing,
// mpsc_slist::flush()'s relaxed emptiness check reads the stale null head,
// the owner's next prepare_sleep() succeeds with no ring left to come.
//
// Model 2, sleep_once_model: two rings race one prepare_sleep() (small
// enough for the full search): if the owner's claim won, both rings follow it
// and exactly one posts; if a ring came first, the owner does not sleep.
//
// Model 3, message_model<Policy>: one producer writes a plain payload and
// rings, with no list: the doorbell alone orders the payload, so the owner
// reading it after the take() or finish_sleep() that consumed the ring is a
// data race unless that RMW acquired the ring's release.
//
// Negative controls, each with the report that catches it:
//   - ring_rmw split into a load and a store (models 1, 2): a ring loads 0, the
//     owner's CAS claims SLEEPING, the ring's store of PENDING erases it and
//     returns false: the owner sleeps with no one to wake it (DEADLOCK); or
//     two rings both load SLEEPING and both post (posts > sleeps).
//   - sleep_recheck dropped (models 1, 2): prepare_sleep() stores SLEEPING over a
//     PENDING whose ring saw the owner awake: DEADLOCK.
//   - ring_publish acquire only (model 3: data race on the payload; model 1:
//     DEADLOCK, as above).
//   - ring_publish release only (model 1): the waking ringer does not acquire
//     the owner's prepare_sleep(): data race on the wake target.
//   - sleep_claim relaxed (model 1): the same race from the owner's side.
//   - take_acquire relaxed (model 3, and model 1 through the lost item).
//   - finish_acquire relaxed (model 3, when the owner slept before the ring).
#include "harness.hpp"
#include "weft/doorbell.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

using weft::doorbell_site;
namespace mutation = weft::mutation;
using relacy_sync = weft::sync::relacy;
using plain_int = relacy_sync::plain<int>;

// The eventfd of the owner's sleep; relaxed throughout (see the top).
struct eventfd_model {
  relacy_sync::atomic<std::uint32_t> count{0};

  void post() {
    count.fetch_add(1, std::memory_order_relaxed);
    relacy_sync::wake(count, 1);
  }
  // Blocks until at least one post; takes them all; returns how many.
  std::uint32_t wait() {
    for (;;) {
      const std::uint32_t taken = count.exchange(0, std::memory_order_relaxed);
      if (taken != 0) return taken;
      relacy_sync::wait(count, 0, weft::deadline::infinite());
    }
  }
};

struct item : weft::slist_node<item, relacy_sync> {
  plain_int payload;
};

template <unsigned Producers, class Policy>
struct owner_model : rl::test_suite<owner_model<Producers, Policy>, Producers + 1> {
  static constexpr unsigned owner = Producers;
  weft::doorbell<relacy_sync, Policy> bell;
  weft::mpsc_slist<item, relacy_sync> list;
  item items[Producers];
  eventfd_model efd;
  plain_int wake_target;  // written by the owner before its first sleep
  rl::atomic<int> posts;  // rings told true
  plain_int sleeps;       // owner only
  plain_int posts_taken;  // owner only: eventfd counts its sleeps consumed

  void before() { posts.store(0, rl::mo_relaxed, $); }

  unsigned drain() {
    unsigned got = 0;
    for (item* n = list.flush(); n != nullptr; n = weft::mpsc_slist<item, relacy_sync>::next(n)) {
      RL_ASSERT(n->payload.read() == 100 + static_cast<int>(n - items));
      ++got;
    }
    return got;
  }

  void thread(unsigned index) {
    if (index < Producers) {
      items[index].payload.write(100 + static_cast<int>(index));
      list.push(&items[index]);
      if (bell.ring()) {
        RL_ASSERT(wake_target.read() == 1);
        posts.fetch_add(1, rl::mo_relaxed, $);
        efd.post();
      }
      return;
    }
    wake_target.write(1);
    unsigned got = 0;
    while (got < Producers) {
      if (bell.take()) {
        got += drain();
        continue;
      }
      if (!bell.prepare_sleep()) continue;
      sleeps.write(sleeps.read() + 1);
      posts_taken.write(posts_taken.read() + static_cast<int>(efd.wait()));
      if (bell.finish_sleep()) got += drain();
    }
  }

  void after() {
    RL_ASSERT(posts.load(rl::mo_relaxed, $) == sleeps.read());
    RL_ASSERT(posts_taken.read() == sleeps.read());
    RL_ASSERT(efd.count.load(std::memory_order_relaxed) == 0);
  }
};

template <class Policy>
struct sleep_once_model : rl::test_suite<sleep_once_model<Policy>, 3> {
  weft::doorbell<relacy_sync, Policy> bell;
  eventfd_model efd;
  rl::atomic<int> posts;
  plain_int slept;

  void before() { posts.store(0, rl::mo_relaxed, $); }

  void thread(unsigned index) {
    if (index < 2) {
      if (bell.ring()) {
        posts.fetch_add(1, rl::mo_relaxed, $);
        efd.post();
      }
      return;
    }
    if (!bell.prepare_sleep()) return;  // a ring came first
    slept.write(1);
    efd.wait();  // both rings come after the claim: one of them must post
    RL_ASSERT(bell.finish_sleep());
  }

  void after() {
    RL_ASSERT(posts.load(rl::mo_relaxed, $) == slept.read());
    RL_ASSERT(efd.count.load(std::memory_order_relaxed) == 0);
  }
};

template <class Policy>
struct message_model : rl::test_suite<message_model<Policy>, 2> {
  weft::doorbell<relacy_sync, Policy> bell;
  eventfd_model efd;
  plain_int payload;

  void thread(unsigned index) {
    if (index == 0) {
      payload.write(42);
      if (bell.ring()) efd.post();
      return;
    }
    for (;;) {  // the only ring is the producer's: whoever consumes it reads the payload
      if (bell.take()) break;
      if (!bell.prepare_sleep()) continue;
      efd.wait();
      if (bell.finish_sleep()) break;
    }
    RL_ASSERT(payload.read() == 42);
  }
};

using verified = weft::verified;
using split_ring = mutation::split_rmw<doorbell_site::ring_rmw>;
using no_recheck = mutation::drop<doorbell_site::sleep_recheck>;
using ring_acquire_only = mutation::weaken<doorbell_site::ring_publish, std::memory_order_acquire>;
using ring_release_only = mutation::weaken<doorbell_site::ring_publish, std::memory_order_release>;
using claim_relaxed = mutation::weaken<doorbell_site::sleep_claim, std::memory_order_relaxed>;
using take_relaxed = mutation::weaken<doorbell_site::take_acquire, std::memory_order_relaxed>;
using finish_relaxed = mutation::weaken<doorbell_site::finish_acquire, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(doorbell, "no lost wake, one wake per sleep", random, pass, owner_model<1, verified>);
WEFT_RELACY_CASE(doorbell, "no lost wake, one wake per sleep", random, pass, owner_model<2, verified>);
WEFT_RELACY_CASE(doorbell, "no lost wake, one wake per sleep", random, pass, owner_model<3, verified>);
WEFT_RELACY_CASE(doorbell, "no lost wake, one wake per sleep", bound, pass, owner_model<1, verified>);
WEFT_RELACY_CASE(doorbell, "no lost wake, one wake per sleep", full, pass, sleep_once_model<verified>);
WEFT_RELACY_CASE(doorbell, "ring publishes the payload", random, pass, message_model<verified>);
WEFT_RELACY_CASE(doorbell, "ring publishes the payload", full, pass, message_model<verified>);
WEFT_RELACY_CASE(doorbell, "control: ring as load + store", random, caught, owner_model<2, split_ring>);
WEFT_RELACY_CASE(doorbell, "control: ring as load + store", full, caught, sleep_once_model<split_ring>);
WEFT_RELACY_CASE(doorbell, "control: prepare_sleep ignores PENDING", random, caught, owner_model<1, no_recheck>);
WEFT_RELACY_CASE(doorbell, "control: prepare_sleep ignores PENDING", full, caught, sleep_once_model<no_recheck>);
WEFT_RELACY_CASE(doorbell, "control: ring without release", full, caught, message_model<ring_acquire_only>);
WEFT_RELACY_CASE(doorbell, "control: ring without release", random, caught, owner_model<1, ring_acquire_only>);
WEFT_RELACY_CASE(doorbell, "control: ring without acquire", random, caught, owner_model<1, ring_release_only>);
WEFT_RELACY_CASE(doorbell, "control: sleep claim relaxed", random, caught, owner_model<1, claim_relaxed>);
WEFT_RELACY_CASE(doorbell, "control: take without acquire", full, caught, message_model<take_relaxed>);
WEFT_RELACY_CASE(doorbell, "control: take without acquire", random, caught, owner_model<1, take_relaxed>);
WEFT_RELACY_CASE(doorbell, "control: finish_sleep without acquire", full, caught, message_model<finish_relaxed>);
