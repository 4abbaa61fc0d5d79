// The MPSC handoff benchmark loop, shared by every queue measured against it.
//
// P producer threads each own `jobs_per_producer` pre-allocated jobs (one
// cache line each, like a typical task record). In round r a producer writes
// the round's stamp into each of its jobs and hands it over; the benchmark
// thread is the one consumer and takes jobs until it has all P * N of them,
// checking every stamp (handoff_check): a lost, duplicated or stale job fails
// the repetition. One benchmark iteration is one round; the real time of the
// iterations includes releasing the producers (a few microseconds against a
// round of several milliseconds).
//
// Placement: consumer on CPU 0; producer 0 on CPU 1, producer 1 on CPU 0
// (sharing the consumer's CPU, as in any 2-producer run on two CPUs).
//
// A peer is a type with
//   using node = ...;                    // a job type holding `std::uint64_t stamp`
//   struct producer { explicit producer(Peer&); void push(node*);
//                     void push_chain(node* first, std::size_t count, std::uint64_t stamp); // chain mode only
//                   };
//   struct consumer { explicit consumer(Peer&); template <class F> std::size_t take(F&& f); };
// take() hands whatever it could get to f(node*) and returns how many.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.hpp"

namespace weft::bench {

inline constexpr std::size_t jobs_per_producer = 32768;
inline constexpr std::size_t chain_length = 64;
inline constexpr int handoff_rounds = 8;  // benchmark iterations per repetition

enum class handoff_mode { single, chain };

inline int producer_cpu_of(int producer_index) { return producer_index == 0 ? producer_cpu : consumer_cpu; }

template <class Peer, handoff_mode Mode>
void run_handoff(benchmark::State& state, int producers) {
  using node = typename Peer::node;
  scoped_pin pin(consumer_cpu);
  if (!pin.ok()) return fail(state, "cannot pin the consumer to CPU 0");
  record_probe(state, "probe_before_ns");

  auto peer = std::make_unique<Peer>();
  std::vector<std::unique_ptr<node[]>> jobs;
  for (int p = 0; p < producers; ++p) jobs.push_back(std::make_unique<node[]>(jobs_per_producer));

  round_gate gate;
  std::vector<std::unique_ptr<pinned_thread>> threads;
  for (int p = 0; p < producers; ++p) {
    threads.push_back(std::make_unique<pinned_thread>(producer_cpu_of(p), [&peer, &gate, &jobs, p] {
      typename Peer::producer handle(*peer);
      node* const mine = jobs[static_cast<std::size_t>(p)].get();
      for (std::uint32_t seen = 0;;) {
        const std::uint32_t round = gate.wait_after(seen);
        if (round == 0) return;
        seen = round;
        const std::uint64_t stamp = 2 * static_cast<std::uint64_t>(round);
        if constexpr (Mode == handoff_mode::single) {
          for (std::size_t i = 0; i < jobs_per_producer; ++i) {
            mine[i].stamp = stamp;
            handle.push(&mine[i]);
          }
        } else {
          for (std::size_t i = 0; i < jobs_per_producer; i += chain_length) handle.push_chain(&mine[i], chain_length, stamp);
        }
      }
    }));
  }

  typename Peer::consumer consumer(*peer);
  handoff_check check;
  const std::uint64_t total = static_cast<std::uint64_t>(producers) * jobs_per_producer;
  std::string why;
  auto run_round = [&]() -> bool {
    check.start_round(gate.open());
    idle_backoff idle;
    std::int64_t last_progress = now_ns();
    while (check.received() < total) {
      if (consumer.take([&check](node* job) { check.receive(job->stamp); }) != 0) {
        idle.reset();
        last_progress = now_ns();
      } else {
        idle.wait();
        if (now_ns() - last_progress > 10'000'000'000) break;  // 10 s without a job: something was lost
      }
    }
    return check.round_ok(total, why);
  };

  bool ok = run_round();  // warm-up: peers allocate their blocks and free lists here
  for (auto _ : state) {
    if (!ok || !(ok = run_round())) break;
  }
  gate.open(/*stop=*/true);
  bool pinned = true;
  for (auto& t : threads) {
    t->join();
    pinned = pinned && t->pinned_ok();
  }
  if (!ok) return fail(state, why);
  if (!pinned) return fail(state, "cannot pin a producer");

  record_probe(state, "probe_after_ns");
  state.counters["items_per_iteration"] = static_cast<double>(total);
  state.counters["producers"] = producers;
  state.counters["verified_items"] = static_cast<double>(total) * static_cast<double>(state.iterations() + 1);
}

// Registers `name`/producers:P for P = 1, 2.
template <class Peer, handoff_mode Mode>
void register_handoff(const std::string& family, const char* peer_name) {
  for (int producers : {1, 2}) {
    const std::string name = family + "/" + peer_name + "/producers:" + std::to_string(producers);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [producers](benchmark::State& state) { run_handoff<Peer, Mode>(state, producers); })
        ->Iterations(handoff_rounds)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace weft::bench
