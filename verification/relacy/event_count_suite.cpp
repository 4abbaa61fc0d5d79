// Relacy suite for weft::event_count.
//
// Models (a lost wakeup shows up as Relacy's DEADLOCK: the waiter is blocked on
// the futex and nobody will ever wake it):
//
//   flag_model — `Waiters` threads wait through await() (the prepare /
//     re-check / commit loop) for a flag that one notifier sets with release
//     after writing a payload, and then notifies with notify_one (one waiter)
//     or notify_all. Every waiter must return having seen the flag and the
//     payload. A waiter loops only while commit_wait returns, which needs a
//     notify, so the loop is bounded.
//   relaxed_flag_model — one waiter, one notifier, the flag relaxed on both
//     sides and the loop written out by hand: the wake guarantee must not
//     depend on the condition's own memory order. The Dekker controls use
//     this model, so that only event_count's orders are under test.
//   token_model — `Pairs` notifiers each add one token and call notify_one;
//     `Pairs` waiters each take one token through await(). Every waiter must
//     get its token: notify_one must wake a waiter that can use the token, not
//     only some thread.
//   Both take the initial epoch as a parameter; the wrap cases start it at
//   UINT32_MAX so that the notify moves it across 2^32 -> 0.
//
// Negative controls (each must be reported as DEADLOCK):
//   - announce weakened to release: the waiter's RMW no longer acquires the
//     notifier's check, so its re-check may read the flag stale while the
//     check, ordered before it, read zero waiters — the store-buffering
//     outcome.
//   - check weakened to acquire: the same race from the notifier's side (no
//     release, so nothing flows to the waiter's announce).
//   - check split into a seq_cst load (and announce made seq_cst): the tokio
//     #1788 bug. The load may read the count from before the announce even
//     though both are seq_cst, because the flag store is not part of the
//     seq_cst order: only an RMW is guaranteed to read the latest count.
//   - await without its re-check: the waiter commits on a key taken after the
//     notifier already decided that nobody was waiting.
//   - epoch bump weakened to relaxed: a waiter may read the bumped epoch as
//     its key without seeing the flag, and sleep on an epoch nobody will move.
#include <cstdint>

#include "harness.hpp"
#include "weft/event_count.hpp"

namespace {

using weft::event_count_site;
namespace mutation = weft::mutation;
using ec_relacy = weft::sync::relacy;

template <unsigned Waiters, bool NotifyAll, std::uint32_t InitialEpoch, class Policy>
struct flag_model : rl::test_suite<flag_model<Waiters, NotifyAll, InitialEpoch, Policy>, Waiters + 1> {
  weft::event_count<ec_relacy, Policy> ec{InitialEpoch};
  rl::atomic<int> flag;
  weft::sync::relacy::plain<int> payload;  // written before the flag, read after: must not race

  void before() { flag.store(0, rl::mo_relaxed, $); }

  void thread(unsigned index) {
    if (index == Waiters) {
      payload.write(42);
      flag.store(1, rl::mo_release, $);
      if (NotifyAll) ec.notify_all(); else ec.notify_one();
      return;
    }
    const bool got = ec.await([&] { return flag.load(rl::mo_acquire, $) != 0; });
    RL_ASSERT(got);
    RL_ASSERT(payload.read() == 42);
  }

  void after() { RL_ASSERT(ec.waiters_relaxed() == 0); }
};

// The flag is relaxed on both sides here: the wake guarantee must not depend on
// the condition's own memory order (the edge runs through the waiter count).
template <std::uint32_t InitialEpoch, class Policy>
struct relaxed_flag_model : rl::test_suite<relaxed_flag_model<InitialEpoch, Policy>, 2> {
  weft::event_count<ec_relacy, Policy> ec{InitialEpoch};
  rl::atomic<int> flag;

  void before() { flag.store(0, rl::mo_relaxed, $); }

  void thread(unsigned index) {
    if (index == 1) {
      flag.store(1, rl::mo_relaxed, $);
      ec.notify_one();
      return;
    }
    while (flag.load(rl::mo_relaxed, $) == 0) {
      const auto key = ec.prepare_wait();
      if (flag.load(rl::mo_relaxed, $) != 0) {
        ec.cancel_wait();
        break;
      }
      ec.commit_wait(key);
    }
  }

  void after() {
    RL_ASSERT(ec.waiters_relaxed() == 0);
    // A notify bumps the epoch only when it saw a waiter.
    const std::uint32_t moved = ec.epoch_relaxed() - InitialEpoch;
    RL_ASSERT(moved <= 1);
  }
};

template <unsigned Pairs, class Policy>
struct token_model : rl::test_suite<token_model<Pairs, Policy>, 2 * Pairs> {
  weft::event_count<ec_relacy, Policy> ec;
  rl::atomic<int> tokens;

  void before() { tokens.store(0, rl::mo_relaxed, $); }

  bool take() {
    int seen = tokens.load(rl::mo_acquire, $);
    while (seen > 0) {
      if (tokens.compare_exchange_weak(seen, seen - 1, rl::mo_acquire, $)) return true;
    }
    return false;
  }

  void thread(unsigned index) {
    if (index < Pairs) {
      tokens.fetch_add(1, rl::mo_release, $);
      ec.notify_one();
      return;
    }
    RL_ASSERT(ec.await([&] { return take(); }));
  }

  void after() {
    RL_ASSERT(tokens.load(rl::mo_relaxed, $) == 0);
    RL_ASSERT(ec.waiters_relaxed() == 0);
  }
};

constexpr std::uint32_t near_wrap = UINT32_MAX;

using verified = weft::verified;
using weak_announce = mutation::weaken<event_count_site::announce, std::memory_order_release>;
using weak_check = mutation::weaken<event_count_site::check, std::memory_order_acquire>;
// The split check with the announce strengthened to seq_cst as well, so that
// only the load-versus-RMW difference is under test.
using split_check = mutation::both<mutation::split_rmw<event_count_site::check>,
                                   mutation::weaken<event_count_site::announce, std::memory_order_seq_cst>>;
using no_recheck = mutation::drop<event_count_site::await_recheck>;
using weak_bump = mutation::weaken<event_count_site::epoch_bump, std::memory_order_relaxed>;

}  // namespace

WEFT_RELACY_CASE(event_count, "no lost wakeup (notify_all, 2 waiters)", random, pass, flag_model<2, true, 0, verified>);
WEFT_RELACY_CASE(event_count, "no lost wakeup (notify_all, 3 waiters)", random, pass, flag_model<3, true, 0, verified>);
WEFT_RELACY_CASE(event_count, "notify_one wakes a taker (2+2 threads)", random, pass, token_model<2, verified>);
WEFT_RELACY_CASE(event_count, "no lost wakeup (notify_one)", full, pass, flag_model<1, false, 0, verified>);
WEFT_RELACY_CASE(event_count, "no lost wakeup, relaxed condition", full, pass, relaxed_flag_model<0, verified>);
WEFT_RELACY_CASE(event_count, "no lost wakeup (notify_one)", bound, pass, flag_model<1, false, 0, verified>);
WEFT_RELACY_CASE(event_count, "epoch wrap UINT32_MAX -> 0", full, pass, relaxed_flag_model<near_wrap, verified>);
WEFT_RELACY_CASE(event_count, "epoch wrap UINT32_MAX -> 0 (3 threads)", random, pass, flag_model<2, true, near_wrap, verified>);
WEFT_RELACY_CASE(event_count, "control: announce release (no acquire)", full, caught, relaxed_flag_model<0, weak_announce>);
WEFT_RELACY_CASE(event_count, "control: check acquire (no release)", full, caught, relaxed_flag_model<0, weak_check>);
WEFT_RELACY_CASE(event_count, "control: check as seq_cst load", full, caught, relaxed_flag_model<0, split_check>);
WEFT_RELACY_CASE(event_count, "control: await without re-check", full, caught, flag_model<1, false, 0, no_recheck>);
WEFT_RELACY_CASE(event_count, "control: epoch bump relaxed", random, caught, flag_model<1, false, 0, weak_bump>);
