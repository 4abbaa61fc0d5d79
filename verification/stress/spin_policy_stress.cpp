// Stress: two threads hand a turn back and forth through spin_then_wait, under
// three spin budgets — none (always park), a budget shorter than a handoff
// (spins that mostly fail, then park), and the tuned default (handoffs mostly
// caught while spinning). The condition is a relaxed load: event_count's
// handshake must carry the ordering. A lost wake leaves one side asleep and
// the watchdog fails the test; the turn count must end exactly at 2 * rounds.
#include "stress.hpp"
#include "weft/event_count.hpp"
#include "weft/spin_policy.hpp"

namespace {

template <class S>
class SpinPolicyStress : public ::testing::Test {};
TYPED_TEST_SUITE(SpinPolicyStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
void ping_pong(const weft::spin_policy<S>& policy, std::uint64_t rounds) {
  weft::stress::watchdog guard{std::chrono::seconds(120)};
  weft::event_count<S> wake[2];
  std::atomic<std::uint64_t> turn{0};
  std::uint64_t parked_or_spun[2] = {0, 0};

  weft::stress::run_threads(2, [&](unsigned side) {
    for (std::uint64_t i = 0; i < rounds; ++i) {
      const std::uint64_t mine = 2 * i + side;
      const bool ok = weft::spin_then_wait(
          wake[side], [&] { return turn.load(std::memory_order_relaxed) == mine; }, weft::deadline::infinite(),
          policy);
      ASSERT_TRUE(ok);
      ++parked_or_spun[side];
      turn.store(mine + 1, std::memory_order_relaxed);
      wake[1 - side].notify_one();
    }
  });

  EXPECT_EQ(turn.load(), 2 * rounds);
  EXPECT_EQ(parked_or_spun[0], rounds);
  EXPECT_EQ(parked_or_spun[1], rounds);
}

std::uint64_t rounds_for(bool fuzz) { return weft::stress::scaled(fuzz ? 2'000 : 20'000); }

TYPED_TEST(SpinPolicyStress, PingPongAlwaysParking) {
  ping_pong<TypeParam>(weft::spin_policy<TypeParam>::none(), rounds_for(std::is_same_v<TypeParam, weft::sync::fuzz>));
}

TYPED_TEST(SpinPolicyStress, PingPongWithTooShortSpins) {
  ping_pong<TypeParam>(weft::spin_policy<TypeParam>(50, 16), rounds_for(std::is_same_v<TypeParam, weft::sync::fuzz>));
}

TYPED_TEST(SpinPolicyStress, PingPongWithTunedSpin) {
  ping_pong<TypeParam>(weft::spin_policy<TypeParam>{}, rounds_for(std::is_same_v<TypeParam, weft::sync::fuzz>));
}

}  // namespace
