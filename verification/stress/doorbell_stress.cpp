// Stress: weft::doorbell as the proactor's poll thread uses it, on real threads.
//
// EveryItemArrivesAndEachSleepGetsOneWake: three producers push items on an
// mpsc_slist and ring(); a ring told `true` writes an eventfd. The owner
// drains on take(), and otherwise prepare_sleep()s and really blocks in the
// kernel (poll + read on the eventfd) until woken, then finish_sleep()s.
// Producers pause now and then so the owner sleeps often. Checked:
//   - no lost wake: a sleep that lasts 5 s is reported (the owner then
//     carries on so the test ends);
//   - coalescing: every read of the eventfd returns exactly 1, and the number
//     of rings told `true` equals the number of sleeps;
//   - every item is drained exactly once, and the item's plain payload is
//     intact (TSAN checks that list + doorbell order it).
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "stress.hpp"
#include "weft/doorbell.hpp"
#include "weft/mpsc_slist.hpp"

namespace {

template <class S>
class DoorbellStress : public ::testing::Test {};
TYPED_TEST_SUITE(DoorbellStress, weft::stress::backends, weft::stress::backend_names);

template <class S>
struct job : weft::slist_node<job<S>, S> {
  std::uint64_t id = 0;
  std::uint64_t payload = 0;
};

TYPED_TEST(DoorbellStress, EveryItemArrivesAndEachSleepGetsOneWake) {
  using S = TypeParam;
  using list_type = weft::mpsc_slist<job<S>, S>;
  constexpr unsigned producers = 3;
  const std::uint64_t per_producer = weft::stress::scaled(std::is_same_v<S, weft::sync::fuzz> ? 20'000 : 100'000);
  const std::uint64_t total = per_producer * producers;
  weft::stress::watchdog guard{std::chrono::seconds(150)};

  const int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  weft::doorbell<S> bell;
  list_type list;
  std::vector<job<S>> jobs(total);
  for (std::uint64_t i = 0; i < total; ++i) jobs[i].id = i;
  std::atomic<std::uint64_t> wakes_sent{0};
  std::atomic<std::uint64_t> failed_writes{0};

  std::vector<int> seen(total, 0);
  std::uint64_t received = 0, sleeps = 0, stalls = 0, bad_counts = 0, bad_payloads = 0;

  weft::stress::run_threads(producers + 1, [&](unsigned index) {
    if (index < producers) {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        job<S>& j = jobs[index * per_producer + i];
        j.payload = j.id * 3 + 1;
        list.push(&j);
        if (bell.ring()) {
          wakes_sent.fetch_add(1, std::memory_order_relaxed);
          const std::uint64_t one = 1;
          if (write(efd, &one, sizeof one) != static_cast<ssize_t>(sizeof one))
            failed_writes.fetch_add(1, std::memory_order_relaxed);
        }
        if (i % 64 == 63) std::this_thread::sleep_for(std::chrono::microseconds(5));  // let the owner sleep
      }
      return;
    }
    auto drain = [&] {
      for (job<S>* n = list.flush(); n != nullptr; n = list_type::next(n)) {
        if (n->payload != n->id * 3 + 1) ++bad_payloads;
        ++seen[n->id];
        ++received;
      }
    };
    while (received < total) {
      if (bell.take()) {
        drain();
        continue;
      }
      if (!bell.prepare_sleep()) continue;
      ++sleeps;
      pollfd p{efd, POLLIN, 0};
      if (poll(&p, 1, 5000) == 1) {
        std::uint64_t count = 0;
        if (read(efd, &count, sizeof count) != static_cast<ssize_t>(sizeof count) || count != 1) ++bad_counts;
      } else {
        ++stalls;
      }
      if (bell.finish_sleep()) drain();
    }
  });
  close(efd);

  EXPECT_EQ(stalls, 0u) << "the owner slept 5 s with work published: a lost wake";
  EXPECT_EQ(bad_counts, 0u) << "a sleep was woken more than once";
  EXPECT_EQ(wakes_sent.load(), sleeps) << "one wake per sleep";
  EXPECT_EQ(failed_writes.load(), 0u);
  EXPECT_EQ(bad_payloads, 0u);
  std::uint64_t not_once = 0;
  for (int s : seen) not_once += s == 1 ? 0 : 1;
  EXPECT_EQ(not_once, 0u) << "items drained zero or several times";
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(bell.sleeping_relaxed());  // PENDING may remain: a last ring after its item was drained
  EXPECT_GT(sleeps, 0u) << "the owner never slept: the test did not exercise the wake path";
  ::testing::Test::RecordProperty("sleeps", static_cast<int>(sleeps));
}

}  // namespace
