// Stress: threads pop slots from a small pool, hold them briefly, and push
// them back, with the tag starting just below 2^32 so that it wraps at once.
// A slot must never be held by two threads (an atomic owner word per slot,
// plus a plain payload TSAN watches), and at the end every slot is in the list
// exactly once.
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "stress.hpp"
#include "weft/tagged_freelist.hpp"

namespace {

template <class S>
class TaggedFreelistStress : public ::testing::Test {};
TYPED_TEST_SUITE(TaggedFreelistStress, weft::stress::backends, weft::stress::backend_names);

TYPED_TEST(TaggedFreelistStress, NoSlotTwiceNoneLost) {
  using S = TypeParam;
  using list_t = weft::tagged_freelist<S>;
  constexpr unsigned threads = 4;
  constexpr std::uint32_t slots = 6;  // fewer slots than threads x 2: pops often find it empty
  const std::uint64_t rounds = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 300'000);
  weft::stress::watchdog guard{std::chrono::seconds(120)};

  std::array<typename list_t::link, slots> links;
  list_t list(links, std::numeric_limits<std::uint32_t>::max() - 10);
  list.fill();
  std::array<std::atomic<unsigned>, slots> owner{};
  std::array<std::uint64_t, slots> payload{};  // plain: ordered by push/pop only
  std::atomic<std::uint64_t> duplicates{0}, taken{0};

  weft::stress::run_threads(threads, [&](unsigned index) {
    const unsigned me = index + 1;
    std::vector<std::uint32_t> held;
    held.reserve(2);
    std::uint64_t local = 0;
    for (std::uint64_t round = 0; round < rounds; ++round) {
      // Hold one or two slots at a time, so pushes and pops interleave in
      // every order the ABA interleaving needs.
      const unsigned want = 1 + static_cast<unsigned>(round % 2);
      while (held.size() < want) {
        const std::optional<std::uint32_t> slot = list.pop();
        if (!slot) break;
        if (owner[*slot].exchange(me, std::memory_order_relaxed) != 0) duplicates.fetch_add(1);
        ++payload[*slot];
        held.push_back(*slot);
        ++local;
      }
      for (std::uint32_t slot : held) {
        owner[slot].store(0, std::memory_order_relaxed);
        list.push(slot);
      }
      held.clear();
    }
    taken.fetch_add(local, std::memory_order_relaxed);
  });

  EXPECT_EQ(duplicates.load(), 0u) << "a slot was handed out twice";
  std::uint64_t payload_total = 0;
  for (std::uint64_t p : payload) payload_total += p;
  EXPECT_EQ(payload_total, taken.load());
  std::array<int, slots> seen{};
  while (const std::optional<std::uint32_t> slot = list.pop()) {
    ASSERT_LT(*slot, slots);
    ++seen[*slot];
  }
  for (std::uint32_t i = 0; i < slots; ++i) EXPECT_EQ(seen[i], 1) << "slot " << i;
}

}  // namespace
