// Bounded MPSC message throughput: weft::completion_mailbox against
// boost::lockfree::queue with a fixed capacity and (one producer only)
// boost::lockfree::spsc_queue, all with the same capacity.
//
// mailbox/<peer>/producers:P — P producers each copy messages_per_producer
// 16-byte messages {producer, sequence} into the ring per round, retrying
// (same idle policy for every peer) when it is full; the benchmark thread
// drains until it has all of them. The consumer checks that each producer's
// sequence numbers arrive in order with no gap and no repeat, which all three
// structures guarantee per producer; any mismatch fails the repetition.
// Placement as in the MPSC handoff: consumer CPU 0, producer 0 CPU 1,
// producer 1 CPU 0.
#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.hpp"
#include "weft/completion_mailbox.hpp"

namespace weft::bench {
namespace {

constexpr std::size_t ring_capacity = 1024;
constexpr std::size_t messages_per_producer = 32768;
constexpr int mailbox_rounds = 8;

struct message {
  std::uint32_t producer;
  std::uint32_t unused;
  std::uint64_t sequence;
};

struct weft_mailbox {
  completion_mailbox<message, ring_capacity> ring;
  bool try_push(const message& m) { return ring.try_push(m); }
  template <class F>
  std::size_t take(F&& f) {
    return ring.drain(f);
  }
};

struct boost_queue_fixed {
  boost::lockfree::queue<message, boost::lockfree::capacity<ring_capacity>> ring;
  bool try_push(const message& m) { return ring.push(m); }
  template <class F>
  std::size_t take(F&& f) {
    return ring.consume_all(f);
  }
};

struct boost_spsc_queue {
  boost::lockfree::spsc_queue<message, boost::lockfree::capacity<ring_capacity>> ring;
  bool try_push(const message& m) { return ring.push(m); }
  template <class F>
  std::size_t take(F&& f) {
    return ring.consume_all(f);
  }
};

template <class Peer>
void run_mailbox(benchmark::State& state, int producers) {
  scoped_pin pin(consumer_cpu);
  if (!pin.ok()) return fail(state, "cannot pin the consumer to CPU 0");
  record_probe(state, "probe_before_ns");

  auto peer = std::make_unique<Peer>();
  round_gate gate;
  std::vector<std::unique_ptr<pinned_thread>> threads;
  for (int p = 0; p < producers; ++p) {
    threads.push_back(std::make_unique<pinned_thread>(p == 0 ? producer_cpu : consumer_cpu, [&peer, &gate, p] {
      message m{static_cast<std::uint32_t>(p), 0, 0};
      for (std::uint32_t seen = 0;;) {
        const std::uint32_t round = gate.wait_after(seen);
        if (round == 0) return;
        seen = round;
        for (std::size_t i = 0; i < messages_per_producer; ++i) {
          idle_backoff idle;
          while (!peer->try_push(m)) idle.wait();
          ++m.sequence;
        }
      }
    }));
  }

  std::array<std::uint64_t, 2> next_sequence{};
  std::uint64_t errors = 0;
  const std::uint64_t total = static_cast<std::uint64_t>(producers) * messages_per_producer;
  auto receive = [&](const message& m) {
    if (m.producer >= static_cast<std::uint32_t>(producers) || m.sequence != next_sequence[m.producer]) {
      ++errors;
    } else {
      ++next_sequence[m.producer];
    }
  };
  auto run_round = [&]() -> bool {
    gate.open();
    std::uint64_t received = 0;
    idle_backoff idle;
    std::int64_t last_progress = now_ns();
    while (received < total) {
      if (const std::size_t got = peer->take(receive)) {
        received += got;
        idle.reset();
        last_progress = now_ns();
      } else {
        idle.wait();
        if (now_ns() - last_progress > 10'000'000'000) break;  // 10 s without a message: something was lost
      }
    }
    return received == total && errors == 0;
  };

  bool ok = run_round();  // warm-up
  for (auto _ : state) {
    if (!ok || !(ok = run_round())) break;
  }
  gate.open(/*stop=*/true);
  bool pinned = true;
  for (auto& t : threads) {
    t->join();
    pinned = pinned && t->pinned_ok();
  }
  if (!ok) {
    return fail(state, "mailbox check failed: " + std::to_string(errors) +
                           " messages out of order, repeated or from an unknown producer, or some never arrived");
  }
  if (!pinned) return fail(state, "cannot pin a producer");

  record_probe(state, "probe_after_ns");
  state.counters["items_per_iteration"] = static_cast<double>(total);
  state.counters["producers"] = producers;
  state.counters["verified_items"] = static_cast<double>(total) * static_cast<double>(state.iterations() + 1);
}

template <class Peer>
void register_mailbox(const char* peer_name, std::initializer_list<int> producer_counts) {
  for (int producers : producer_counts) {
    const std::string name = std::string("mailbox/") + peer_name + "/producers:" + std::to_string(producers);
    benchmark::RegisterBenchmark(name.c_str(), [producers](benchmark::State& state) { run_mailbox<Peer>(state, producers); })
        ->Iterations(mailbox_rounds)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

const bool registered = [] {
  register_mailbox<weft_mailbox>("weft_completion_mailbox", {1, 2});
  register_mailbox<boost_queue_fixed>("boost_lockfree_queue_fixed", {1, 2});
  register_mailbox<boost_spsc_queue>("boost_spsc_queue", {1});  // single producer by contract
  return true;
}();

}  // namespace
}  // namespace weft::bench
