// Relacy suite for weft::completion_mailbox.
//
// Model: `Producers` threads each try to push `PerProducer` messages into a
// ring of `Capacity` slots (small, so the ring fills and its slots are reused
// while the consumer runs). A producer retries a refused push up to `Attempts`
// times, yielding in between, and stops at the first message it could not
// push, so the messages that went in are a prefix 0..n-1 per producer. One
// consumer calls drain() `Drains` times, yielding after an empty one. after()
// runs once every thread has finished: no push is mid-publish any more, so one
// drain must deliver everything left and has_pending() must then be false.
// With `Wrap`, positions start two below 2^64 so the model crosses the
// wraparound of the 64-bit counters.
//
// The message is stored through S::plain, so every producer write and
// consumer read of a slot is race-checked.
//
// Properties (checked on every delivered message):
//   no lost message, no duplicate — the n-th message delivered for a producer
//     is its message n, and in the end exactly the pushed ones were delivered;
//   FIFO per producer — follows from the same check (claim order);
//   no torn message — the message's fields agree with each other (a check
//     word), and Relacy reports a DATA RACE on any unordered slot access.
//
// Negative controls (each must be reported):
//   - publish weakened to relaxed: the consumer may read the slot before the
//     producer's write is visible: DATA RACE;
//   - take_check weakened to relaxed: the same race from the consumer's side;
//   - release_slot weakened to relaxed: a producer of the next lap may
//     overwrite the slot before the consumer's read of the previous message
//     happened-before it: DATA RACE (needs slot reuse: Capacity < messages);
//   - claim_check weakened to relaxed: the same reuse race from the producer's
//     side;
//   - claim split into a load and a store: two producers claim one position
//     and write one slot: DATA RACE / a lost message.
#include "harness.hpp"
#include "weft/completion_mailbox.hpp"

#include <cstdint>
#include <limits>

namespace {

using weft::completion_mailbox_site;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;

struct message {
  int producer = 0;
  int sequence = 0;
  int check = 0;  // a function of the other two: a torn copy shows up here
};

int check_of(int producer, int sequence) { return producer * 7919 + sequence * 104729 + 17; }

template <unsigned Producers, unsigned PerProducer, std::size_t Capacity, unsigned Attempts, unsigned Drains,
          bool Wrap, class Policy>
struct mailbox_model
    : rl::test_suite<mailbox_model<Producers, PerProducer, Capacity, Attempts, Drains, Wrap, Policy>, Producers + 1> {
  weft::completion_mailbox<message, Capacity, backend, Policy> mailbox;
  unsigned pushed[Producers];          // written by its producer, read by after()
  unsigned delivered[Producers];       // consumer thread, then after()

  void before() {
    if (Wrap) mailbox.for_test_start_at(std::numeric_limits<std::uint64_t>::max() - 1);
    for (unsigned p = 0; p < Producers; ++p) pushed[p] = delivered[p] = 0;
  }

  void take(const message& m) {
    RL_ASSERT(m.producer >= 0 && m.producer < static_cast<int>(Producers));
    RL_ASSERT(m.check == check_of(m.producer, m.sequence));                         // no torn message
    RL_ASSERT(m.sequence == static_cast<int>(delivered[m.producer]));               // no loss, no duplicate, FIFO
    delivered[m.producer] += 1;
  }

  void thread(unsigned index) {
    if (index < Producers) {
      for (unsigned k = 0; k < PerProducer; ++k) {
        const int p = static_cast<int>(index), s = static_cast<int>(k);
        bool in = false;
        for (unsigned attempt = 0; attempt < Attempts && !in; ++attempt) {
          in = mailbox.try_push(message{p, s, check_of(p, s)});
          if (!in) backend::yield();
        }
        if (!in) return;  // back-pressure: this producer stops here
        pushed[index] = k + 1;
      }
      return;
    }
    for (unsigned d = 0; d < Drains; ++d) {
      if (mailbox.drain([this](const message& m) { take(m); }) == 0) backend::yield();
    }
  }

  void after() {
    mailbox.drain([this](const message& m) { take(m); });
    RL_ASSERT(!mailbox.has_pending());
    for (unsigned p = 0; p < Producers; ++p) RL_ASSERT(delivered[p] == pushed[p]);
  }
};

using verified = weft::verified;
using weak_publish = mutation::weaken<completion_mailbox_site::publish, std::memory_order_relaxed>;
using weak_take = mutation::weaken<completion_mailbox_site::take_check, std::memory_order_relaxed>;
using weak_release_slot = mutation::weaken<completion_mailbox_site::release_slot, std::memory_order_relaxed>;
using weak_claim_check = mutation::weaken<completion_mailbox_site::claim_check, std::memory_order_relaxed>;
using split_claim = mutation::split_rmw<completion_mailbox_site::claim>;

// 3 producers x 2 messages through 2 slots: the ring is full most of the time.
template <class Policy, bool Wrap = false>
using busy_ring = mailbox_model<3, 2, 2, 3, 4, Wrap, Policy>;
// For the systematic searches, which grow exponentially with every atomic
// operation: two producers contending for claims with slot reuse (bound), and
// one producer reusing a slot behind a single drain (full; a third thread or a
// second drain does not finish in minutes).
template <class Policy>
using contended_ring = mailbox_model<2, 2, 2, 1, 1, false, Policy>;
template <class Policy>
using reused_slot = mailbox_model<1, 3, 2, 1, 1, false, Policy>;

}  // namespace

WEFT_RELACY_CASE(completion_mailbox, "no lost message, FIFO per producer, no torn message", random, pass,
                 busy_ring<verified>);
WEFT_RELACY_CASE(completion_mailbox, "no lost message across 2^64 position wrap", random, pass,
                 busy_ring<verified, true>);
WEFT_RELACY_CASE(completion_mailbox, "no lost message, FIFO per producer, no torn message", bound, pass,
                 contended_ring<verified>);
WEFT_RELACY_CASE(completion_mailbox, "no torn message across slot reuse", full, pass, reused_slot<verified>);
WEFT_RELACY_CASE(completion_mailbox, "control: publish store relaxed", random, caught, busy_ring<weak_publish>);
WEFT_RELACY_CASE(completion_mailbox, "control: consumer sequence load relaxed", random, caught, busy_ring<weak_take>);
WEFT_RELACY_CASE(completion_mailbox, "control: slot hand-back store relaxed", random, caught, busy_ring<weak_release_slot>);
WEFT_RELACY_CASE(completion_mailbox, "control: slot hand-back store relaxed", full, caught, reused_slot<weak_release_slot>);
WEFT_RELACY_CASE(completion_mailbox, "control: producer sequence load relaxed", random, caught, busy_ring<weak_claim_check>);
WEFT_RELACY_CASE(completion_mailbox, "control: producer sequence load relaxed", bound, caught,
                 contended_ring<weak_claim_check>);
WEFT_RELACY_CASE(completion_mailbox, "control: claim CAS split into load+store", random, caught, busy_ring<split_claim>);
WEFT_RELACY_CASE(completion_mailbox, "control: claim CAS split into load+store", bound, caught, contended_ring<split_claim>);
