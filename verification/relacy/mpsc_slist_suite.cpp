// Relacy suite for weft::mpsc_slist.
//
// Model: `Producers` threads each push `PerProducer` nodes, writing a
// plain<int> payload into each node first; producer 0 pushes its nodes as one
// push_chain when `Chain` (linked so that flush_fifo yields them in sequence
// order). One consumer takes nodes `Rounds` times, with flush_fifo(), pop() or
// both alternately (`Take`), yielding after an empty take. after() runs once
// every thread has finished and flushes what is left.
//
// Properties (checked on every node the consumer takes):
//   exactly once — the node was not received before; all are received in
//     the end and the list is empty;
//   contents visible — the payload reads back as written; the read is plain,
//     so Relacy reports a DATA RACE unless the push happened-before the take;
//   FIFO per producer via flush_fifo — within one flush_fifo() batch, each
//     producer's nodes come in push order (pop() is LIFO by contract, so the
//     order is checked per batch, not across takes).
//
// Negative controls (each must be reported):
//   - push_publish weakened to relaxed: the pushing CAS no longer releases the
//     payload: DATA RACE on the payload;
//   - take_acquire weakened to relaxed: flush's exchange and pop's loads no
//     longer acquire it: DATA RACE;
//   - push_rmw split into a load and a store: two producers can push on top
//     of the same head and lose a node; before that, the plain store breaks
//     the release sequence the pushing CASes form, so a flush that acquires
//     the newest push no longer synchronizes with the older pushes under it
//     and their payload reads race (Relacy reports this DATA RACE first);
//   - pop_rmw split ("only one consumer, so a plain store of the rest will
//     do"): a push that lands between pop's load and its store is lost. Needs
//     pop() racing a push, so it runs on the pop-only model.
#include "harness.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

using weft::mpsc_slist_site;
namespace mutation = weft::mutation;
using backend = weft::sync::relacy;

enum class take_mode { flush_fifo, pop, mixed };

template <unsigned Producers, unsigned PerProducer, unsigned Rounds, take_mode Take, bool Chain, class Policy>
struct slist_model
    : rl::test_suite<slist_model<Producers, PerProducer, Rounds, Take, Chain, Policy>, Producers + 1> {
  static constexpr unsigned total = Producers * PerProducer;

  struct item : weft::slist_node<item, backend> {
    backend::plain<int> payload;
  };
  using list_t = weft::mpsc_slist<item, backend, Policy>;

  list_t list;
  item items[Producers][PerProducer];
  int received[Producers][PerProducer];  // consumer thread, then after()
  unsigned received_count;

  static int payload_of(unsigned producer, unsigned sequence) { return static_cast<int>(100 + producer * 10 + sequence); }

  void before() {
    received_count = 0;
    for (unsigned p = 0; p < Producers; ++p)
      for (unsigned k = 0; k < PerProducer; ++k) received[p][k] = 0;
  }

  // Marks `node` received; returns its producer and sequence through the out
  // parameters for the order check.
  void take(item* node, unsigned& producer, unsigned& sequence) {
    for (unsigned p = 0; p < Producers; ++p) {
      for (unsigned k = 0; k < PerProducer; ++k) {
        if (node != &items[p][k]) continue;
        RL_ASSERT(received[p][k] == 0);                       // exactly once
        received[p][k] = 1;
        ++received_count;
        RL_ASSERT(node->payload.read() == payload_of(p, k));  // contents visible
        producer = p;
        sequence = k;
        return;
      }
    }
    RL_ASSERT(!"the list returned something that was never pushed");
  }

  // Takes a whole flush_fifo() batch; checks per-producer push order in it.
  bool take_fifo_batch() {
    item* n = list.flush_fifo();
    if (n == nullptr) return false;
    int last_sequence[Producers];
    for (unsigned p = 0; p < Producers; ++p) last_sequence[p] = -1;
    for (unsigned guard = 0; n != nullptr; ++guard) {
      RL_ASSERT(guard < total);  // a corrupted chain may cycle
      item* const next = list_t::next(n);
      unsigned p = 0, k = 0;
      take(n, p, k);
      RL_ASSERT(static_cast<int>(k) > last_sequence[p]);      // FIFO per producer
      last_sequence[p] = static_cast<int>(k);
      n = next;
    }
    return true;
  }

  bool take_one() {
    item* n = list.pop();
    if (n == nullptr) return false;
    RL_ASSERT(list_t::next(n) == nullptr);  // pop unlinks what it returns
    unsigned p = 0, k = 0;
    take(n, p, k);
    return true;
  }

  void thread(unsigned index) {
    if (index < Producers) {
      item* mine = items[index];
      for (unsigned k = 0; k < PerProducer; ++k) mine[k].payload.write(payload_of(index, k));
      if (Chain && index == 0) {
        // push_chain(first, last) acts like pushing last, ..., first: link
        // them newest-first so that sequence 0 is the oldest.
        for (unsigned k = PerProducer - 1; k > 0; --k) mine[k].slist_next.write(&mine[k - 1]);
        list.push_chain(&mine[PerProducer - 1], &mine[0]);
      } else {
        for (unsigned k = 0; k < PerProducer; ++k) list.push(&mine[k]);
      }
      return;
    }
    for (unsigned r = 0; r < Rounds; ++r) {
      const bool use_pop = Take == take_mode::pop || (Take == take_mode::mixed && r % 2 == 1);
      const bool got = use_pop ? take_one() : take_fifo_batch();
      if (!got) backend::pause();
    }
  }

  void after() {
    while (take_fifo_batch()) {
    }
    RL_ASSERT(list.empty());
    RL_ASSERT(received_count == total);  // nothing lost
  }
};

using verified = weft::verified;
using weak_publish = mutation::weaken<mpsc_slist_site::push_publish, std::memory_order_relaxed>;
using weak_take = mutation::weaken<mpsc_slist_site::take_acquire, std::memory_order_relaxed>;
using split_push = mutation::split_rmw<mpsc_slist_site::push_rmw>;
using split_pop = mutation::split_rmw<mpsc_slist_site::pop_rmw>;

template <class Policy, take_mode Take = take_mode::mixed, bool Chain = false>
using three_producers = slist_model<3, 2, 4, Take, Chain, Policy>;

}  // namespace

WEFT_RELACY_CASE(mpsc_slist, "exactly once, contents visible (flush_fifo+pop)", random, pass, three_producers<verified>);
WEFT_RELACY_CASE(mpsc_slist, "FIFO per producer via flush_fifo, push_chain", random, pass,
                 three_producers<verified, take_mode::flush_fifo, true>);
WEFT_RELACY_CASE(mpsc_slist, "exactly once, contents visible (pop)", random, pass,
                 three_producers<verified, take_mode::pop>);
WEFT_RELACY_CASE(mpsc_slist, "exactly once, contents visible (flush_fifo+pop)", full, pass,
                 slist_model<2, 1, 2, take_mode::mixed, false, verified>);
WEFT_RELACY_CASE(mpsc_slist, "FIFO per producer via flush_fifo, push_chain", bound, pass,
                 slist_model<2, 2, 3, take_mode::mixed, true, verified>);
WEFT_RELACY_CASE(mpsc_slist, "control: push CAS relaxed (no release)", random, caught, three_producers<weak_publish>);
WEFT_RELACY_CASE(mpsc_slist, "control: push CAS relaxed (no release)", full, caught,
                 slist_model<2, 1, 2, take_mode::mixed, false, weak_publish>);
WEFT_RELACY_CASE(mpsc_slist, "control: take relaxed (no acquire)", random, caught, three_producers<weak_take>);
WEFT_RELACY_CASE(mpsc_slist, "control: push CAS split into load+store", random, caught, three_producers<split_push>);
WEFT_RELACY_CASE(mpsc_slist, "control: pop CAS split into load+store", random, caught,
                 three_producers<split_pop, take_mode::pop>);
