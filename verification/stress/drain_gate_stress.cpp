// Stress: weft::drain_gate as the executor uses it, on real threads.
//
// EveryUnitDrainedOnceBySingleDrainer: three producers push units into one
// process's mpsc_slist inbox and schedule(); a true result puts the process on
// a ready list (a mutex and a token count). Two workers take it and drain:
// begin_drain(), flush the inbox (the slist's single consumer, which only the
// gate makes safe), repeat while finish_drain(). Producers publish in short
// rounds; after each, an IDLE gate with undrained units is a lost schedule
// (without rounds a later schedule would rescue them and hide it). Every unit
// must be drained exactly once, two drains must never overlap, and the gate
// must end IDLE with no NEED. The process's plain fields (drain count, per-unit
// marks) are written by every drain on whichever worker runs it: TSAN checks
// that the gate orders them.
//
// HandOverIsTheLastTouch: the process is heap-allocated each round and freed
// by its last owner without waiting for anyone else, as in the Relacy
// hand-over model: W owns it (DRAINING), P publishes a unit and schedules; if
// P wins it drains and frees the process, if P loses W re-drains and frees it
// once it knows P's outcome. A touch after a hand-over is a heap-use-after-free
// under ASAN or a race under TSAN.
#include <barrier>
#include <cstdint>
#include <mutex>
#include <vector>

#include "stress.hpp"
#include "weft/drain_gate.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

template <class S>
class DrainGateStress : public ::testing::Test {};
TYPED_TEST_SUITE(DrainGateStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(DrainGateStress, EveryUnitDrainedOnceBySingleDrainer) {
  using S = TypeParam;
  using gate_type = weft::drain_gate<S>;
  constexpr unsigned producers = 3;
  constexpr unsigned workers = 2;
  constexpr std::size_t burst = 4;  // units per producer per round
  const std::size_t rounds = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 3'000 : 20'000);
  const std::size_t total = rounds * producers * burst;
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  struct unit : weft::slist_node<unit, S> {
    std::size_t id = 0;
  };
  std::vector<unit> units(total);
  for (std::size_t i = 0; i < total; ++i) units[i].id = i;

  // The process: inbox, gate and plain state that only its drainer touches.
  weft::mpsc_slist<unit, S> inbox;
  gate_type gate;
  std::vector<int> drained(total, 0);
  std::uint64_t drains = 0;
  std::size_t handled = 0;

  std::mutex ready_mutex;  // the ready list: test scaffolding, not under test
  int ready_tokens = 0;
  std::barrier round_end(producers);
  bool stranded = false;  // written by producer 0 between the two round barriers
  std::atomic<unsigned> producers_done{0};
  // Relaxed on purpose: they count without ordering one drain after another,
  // which would hide a missing order in the gate from TSAN.
  std::atomic<int> inside{0};
  std::atomic<std::size_t> units_seen{0};
  std::atomic<std::uint64_t> overlaps{0}, enqueues{0}, taken{0};

  // After a round every schedule has returned, so an IDLE gate has no token
  // and no owner: undrained units then stay undrained for good. (The relaxed
  // count may lag for a moment, hence the grace period; a gate left in another
  // state with no progress, e.g. by an overwritten state, gets a longer one.)
  auto round_drained = [&](std::size_t expected) {
    std::size_t last = units_seen.load(std::memory_order_relaxed);
    auto last_progress = std::chrono::steady_clock::now();
    for (std::size_t seen = last; seen != expected; seen = units_seen.load(std::memory_order_relaxed)) {
      const auto now = std::chrono::steady_clock::now();
      if (seen != last) {
        last = seen;
        last_progress = now;
      }
      const auto quiet = now - last_progress;
      if (quiet > std::chrono::seconds(2)) return false;
      if (quiet > std::chrono::milliseconds(200) && gate.state_relaxed() == gate_type::idle) return false;
      std::this_thread::yield();
    }
    return true;
  };

  weft::stress::run_threads(producers + workers, [&](unsigned index) {
    if (index < producers) {
      for (std::size_t round = 0; round < rounds; ++round) {
        for (std::size_t i = 0; i < burst; ++i) {
          inbox.push(&units[(round * producers + index) * burst + i]);
          if (gate.schedule()) {
            enqueues.fetch_add(1, std::memory_order_relaxed);
            const std::lock_guard<std::mutex> lock(ready_mutex);
            ++ready_tokens;
          }
        }
        round_end.arrive_and_wait();
        if (index == 0 && !round_drained((round + 1) * producers * burst)) stranded = true;
        round_end.arrive_and_wait();
        if (stranded) break;
      }
      producers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    for (;;) {
      const bool finished = producers_done.load(std::memory_order_acquire) == producers;
      bool got = false;
      {
        const std::lock_guard<std::mutex> lock(ready_mutex);
        if (ready_tokens > 0) {
          --ready_tokens;
          got = true;
        }
      }
      if (!got) {
        if (finished) return;  // no producer left to enqueue, and no token
        std::this_thread::yield();
        continue;
      }
      taken.fetch_add(1, std::memory_order_relaxed);
      gate.begin_drain();
      do {
        if (inside.fetch_add(1, std::memory_order_relaxed) != 0) overlaps.fetch_add(1, std::memory_order_relaxed);
        ++drains;
        for (unit* n = inbox.flush(); n != nullptr; n = weft::mpsc_slist<unit, S>::next(n)) {
          ++drained[n->id];
          ++handled;
          units_seen.fetch_add(1, std::memory_order_relaxed);
        }
        inside.fetch_sub(1, std::memory_order_relaxed);
      } while (gate.finish_drain());
    }
  });

  EXPECT_FALSE(stranded) << "a schedule was lost: units stayed in the inbox of an IDLE gate";
  EXPECT_EQ(overlaps.load(), 0u) << "two drains ran at once";
  EXPECT_EQ(handled, total);
  std::size_t not_once = 0;
  for (int d : drained) not_once += d == 1 ? 0 : 1;
  EXPECT_EQ(not_once, 0u) << "units drained zero or several times";
  EXPECT_EQ(taken.load(), enqueues.load());
  EXPECT_GE(drains, enqueues.load());
  EXPECT_TRUE(inbox.empty());
  EXPECT_EQ(gate.state_relaxed(), gate_type::idle);
  EXPECT_FALSE(gate.needs_drain_relaxed());
}

TYPED_TEST(DrainGateStress, HandOverIsTheLastTouch) {
  using S = TypeParam;
  using gate_type = weft::drain_gate<S>;
  const std::uint64_t rounds = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 5'000 : 20'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  struct process {
    gate_type gate;
    std::uint64_t payload = 0;  // P's unit, written before its schedule()
    int drained[2] = {0, 0};
    int drains = 0;
  };
  enum : std::uint64_t { producer_won = 1, producer_lost = 2 };
  // Outside every process: the hand-off of the pointer to P, and P's outcome
  // (round * 4 + outcome, so a stale value is never mistaken for this round's).
  std::atomic<process*> offered{nullptr};
  std::atomic<std::uint64_t> outcome{0};
  std::atomic<std::uint64_t> bad_rounds{0};

  auto drain = [](process& p, int unit, std::uint64_t round) {
    ++p.drains;
    ++p.drained[unit];
    return unit == 0 || p.payload == round;
  };
  auto check_and_free = [&](process* p) {
    if (p->drained[0] != 1 || p->drained[1] != 1 || p->drains != 2) bad_rounds.fetch_add(1, std::memory_order_relaxed);
    delete p;
  };

  weft::stress::run_threads(2, [&](unsigned index) {
    for (std::uint64_t round = 1; round <= rounds; ++round) {
      if (index == 0) {  // W
        auto* p = new process;
        EXPECT_TRUE(p->gate.schedule());
        p->gate.begin_drain();
        offered.store(p, std::memory_order_release);
        int unit = 0;
        do {
          if (!drain(*p, unit, round)) bad_rounds.fetch_add(1, std::memory_order_relaxed);
          unit = 1;
        } while (p->gate.finish_drain());
        // p may be freed by now: wait outside it for P's outcome.
        std::uint64_t seen;
        while ((seen = outcome.load(std::memory_order_acquire)) / 4 != round) S::yield();
        if (seen % 4 == producer_lost) check_and_free(p);
        continue;
      }
      process* p;  // P
      while ((p = offered.exchange(nullptr, std::memory_order_acquire)) == nullptr) S::yield();
      p->payload = round;
      if (!p->gate.schedule()) {
        outcome.store(round * 4 + producer_lost, std::memory_order_release);
        continue;
      }
      outcome.store(round * 4 + producer_won, std::memory_order_release);
      p->gate.begin_drain();
      do {
        if (!drain(*p, 1, round)) bad_rounds.fetch_add(1, std::memory_order_relaxed);
      } while (p->gate.finish_drain());
      check_and_free(p);
    }
  });

  EXPECT_EQ(bad_rounds.load(), 0u) << "a unit was lost, drained twice, or drained without its payload";
}

}  // namespace
