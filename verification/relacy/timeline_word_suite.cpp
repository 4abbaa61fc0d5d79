// Relacy suite for weft::timeline_word.
//
// Model 1, race_model<Policy>: three signallers advance one word from 0 to
// 2, 1 and 2 (two of them race for the same value). Each records what
// advance_to returned. In after():
//   the value is the max (2);
//   exactly one of the two signallers of 2 advanced;
//   the successes form one chain: sorted by value, each `previous` is the
//   value of the success before it (0 for the first) — so no value was
//   claimed twice and no advance was overwritten;
//   a failure reported a `previous` at or above its own value.
//
// Model 2, payload_model<Policy>: signaller A writes payload_a (plain<int>)
// and advances to 1; signaller B writes payload_b and advances to 2; a reader
// loads the value and reads the payload of the signaller whose value it saw
// (the value v can only be in the word if v's signaller stored it).
//
// Model 3, relay_model<Policy>: the release sequence. A writes a payload and
// advances to 1; B waits with load_relaxed() (no synchronization) until it
// sees 1, then advances to 2; a reader that loads 2 reads A's payload. Only
// the release sequence makes that safe: B's RMW continues A's release, and B
// itself acquired nothing.
//
// Negative controls, each with the report that catches it:
//   - advance_rmw split into a load and a store (model 1): two signallers load
//     0, the one with 2 stores first and the one with 1 overwrites it: the
//     value ends below the max, or two successes replace the same value
//     (assertion). In model 3 the plain store breaks A's release sequence and
//     the reader's payload read races (data race).
//   - advance_publish relaxed (model 2): the reader reads the payload without
//     synchronizing with its signaller (data race).
//   - load_acquire relaxed (model 2): the same race from the reader's side.
#include "harness.hpp"
#include "weft/timeline_word.hpp"

namespace {

using weft::timeline_word_site;
namespace mutation = weft::mutation;
using plain_int = weft::sync::relacy::plain<int>;

template <class Policy>
struct race_model : rl::test_suite<race_model<Policy>, 3> {
  static constexpr std::uint64_t requested[3] = {2, 1, 2};
  weft::timeline_word<weft::sync::relacy, Policy> word;
  plain_int advanced[3];
  weft::sync::relacy::plain<std::uint64_t> previous[3];

  void thread(unsigned index) {
    const auto r = word.advance_to(requested[index]);
    advanced[index].write(r.advanced ? 1 : 0);
    previous[index].write(r.previous);
  }

  void after() {
    RL_ASSERT(word.load_relaxed() == 2);
    RL_ASSERT(advanced[0].read() + advanced[2].read() == 1);
    // Walk the chain upward from the initial value: each step must be the
    // success whose `previous` is the current link, and there is exactly one.
    std::uint64_t link = 0;
    int successes = 0;
    for (int step = 0; step < 3; ++step) {
      int found = 0;
      std::uint64_t next = link;
      for (unsigned i = 0; i < 3; ++i) {
        if (advanced[i].read() == 1 && previous[i].read() == link) {
          ++found;
          next = requested[i];
        }
      }
      RL_ASSERT(found <= 1);
      if (found == 0) break;
      RL_ASSERT(next > link);
      link = next;
      ++successes;
    }
    RL_ASSERT(link == 2);
    RL_ASSERT(successes == advanced[0].read() + advanced[1].read() + advanced[2].read());
    for (unsigned i = 0; i < 3; ++i) {
      if (advanced[i].read() == 0) RL_ASSERT(previous[i].read() >= requested[i]);
    }
  }
};

template <class Policy>
struct payload_model : rl::test_suite<payload_model<Policy>, 3> {
  weft::timeline_word<weft::sync::relacy, Policy> word;
  plain_int payload_a, payload_b;

  void thread(unsigned index) {
    if (index == 0) {
      payload_a.write(10);
      word.advance_to(1);
    } else if (index == 1) {
      payload_b.write(20);
      word.advance_to(2);
    } else {
      const std::uint64_t seen = word.load();
      if (seen == 1) RL_ASSERT(payload_a.read() == 10);
      if (seen == 2) RL_ASSERT(payload_b.read() == 20);
    }
  }
};

template <class Policy>
struct relay_model : rl::test_suite<relay_model<Policy>, 3> {
  weft::timeline_word<weft::sync::relacy, Policy> word;
  plain_int payload;

  void thread(unsigned index) {
    if (index == 0) {
      payload.write(10);
      word.advance_to(1);
    } else if (index == 1) {
      while (word.load_relaxed() < 1) rl::yield(1, $);
      const auto r = word.advance_to(2);
      RL_ASSERT(r.advanced && r.previous == 1);
    } else {
      if (word.load() == 2) RL_ASSERT(payload.read() == 10);
    }
  }
};

using verified = weft::verified;
using split_advance = mutation::split_rmw<timeline_word_site::advance_rmw>;
using advance_relaxed = mutation::weaken<timeline_word_site::advance_publish, std::memory_order_relaxed>;
using load_relaxed = mutation::weaken<timeline_word_site::load_acquire, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(timeline_word, "max wins, one chain of successes", random, pass, race_model<verified>);
WEFT_RELACY_CASE(timeline_word, "max wins, one chain of successes", full, pass, race_model<verified>);
WEFT_RELACY_CASE(timeline_word, "reader sees the payload of the value", random, pass, payload_model<verified>);
WEFT_RELACY_CASE(timeline_word, "reader sees the payload of the value", full, pass, payload_model<verified>);
WEFT_RELACY_CASE(timeline_word, "a later advance carries the payload", random, pass, relay_model<verified>);
WEFT_RELACY_CASE(timeline_word, "a later advance carries the payload", full, pass, relay_model<verified>);
WEFT_RELACY_CASE(timeline_word, "control: advance as load + store", full, caught, race_model<split_advance>);
WEFT_RELACY_CASE(timeline_word, "control: advance as load + store (release sequence)", full, caught,
                 relay_model<split_advance>);
WEFT_RELACY_CASE(timeline_word, "control: advance relaxed", full, caught, payload_model<advance_relaxed>);
WEFT_RELACY_CASE(timeline_word, "control: load relaxed", full, caught, payload_model<load_relaxed>);
