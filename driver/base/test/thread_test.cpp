#include "weft/base/thread.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/base/time.hpp"
#include "weft/base/topology.hpp"

namespace {

using weft::status_code;

std::string os_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(Thread, RunsTheBodyAndJoins) {
  int ran = 0;
  weft::result<weft::thread> t = weft::thread::start({}, [&ran] { ran = 1; });
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->joinable());
  t->join();
  EXPECT_FALSE(t->joinable());
  EXPECT_EQ(ran, 1);
  t->join();  // a second join does nothing
}

TEST(Thread, TheNameIsSetBeforeTheBodyRuns) {
  std::string seen_by_os;
  std::string seen_by_weft;
  weft::thread t = weft::thread::start({.name = "weft-test"}, [&] {
                     seen_by_os = os_thread_name();
                     seen_by_weft = weft::current_thread_name();
                   }).value();
  EXPECT_EQ(t.name(), "weft-test");
  t.join();
  EXPECT_EQ(seen_by_os, "weft-test");
  EXPECT_EQ(seen_by_weft, "weft-test");
}

TEST(Thread, LongNamesAreCutTo15BytesAtACharacterBoundary) {
  std::string seen;
  weft::thread ascii =
      weft::thread::start({.name = "abcdefghijklmnopqrstuvwxyz"}, [&seen] { seen = os_thread_name(); }).value();
  EXPECT_EQ(ascii.name(), "abcdefghijklmno");
  ascii.join();
  EXPECT_EQ(seen, "abcdefghijklmno");

  const std::string fourteen = "abcdefghijklmn";
  weft::thread utf8 = weft::thread::start({.name = fourteen + "\xC3\xA9" + "z"}, [] {}).value();
  EXPECT_EQ(utf8.name(), fourteen) << "the two-byte character at bytes 14-15 must not be split";
}

TEST(Thread, RejectsAnEmptyBody) {
  const weft::result<weft::thread> t = weft::thread::start({.name = "nobody"}, {});
  EXPECT_EQ(t.status().code(), status_code::invalid_argument);
  EXPECT_NE(t.status().message().find("nobody"), std::string::npos) << t.status();
}

TEST(Thread, PinsToTheRequestedCpuBeforeTheBodyRuns) {
  const std::vector<std::uint32_t> allowed = weft::current_thread_affinity().value();
  ASSERT_FALSE(allowed.empty());
  const std::uint32_t cpu = allowed.back();
  std::vector<std::uint32_t> affinity_inside;
  int cpu_inside = -2;
  weft::thread t = weft::thread::start({.name = "pinned", .cpus = {cpu}}, [&] {
                     affinity_inside = weft::current_thread_affinity().value_or(std::vector<std::uint32_t>{});
                     cpu_inside = weft::current_cpu();
                   }).value();
  t.join();
  EXPECT_EQ(affinity_inside, std::vector<std::uint32_t>{cpu});
  EXPECT_EQ(cpu_inside, static_cast<int>(cpu));
}

TEST(Thread, PinningToACpuThatDoesNotExistFailsNamingIt) {
  const std::vector<std::uint32_t> before = weft::current_thread_affinity().value();
  const weft::result<weft::thread> t = weft::thread::start({.name = "nowhere", .cpus = {0, 100000}}, [] {});
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().code() == status_code::invalid_argument || t.status().code() == status_code::unavailable)
      << t.status();
  EXPECT_NE(t.status().message().find("100000"), std::string::npos) << t.status();

  const std::uint32_t missing[] = {100000};
  const weft::status pinned = weft::pin_current_thread(missing);
  EXPECT_TRUE(pinned.code() == status_code::invalid_argument || pinned.code() == status_code::unavailable) << pinned;
  EXPECT_NE(pinned.message().find("100000"), std::string::npos) << pinned;
  EXPECT_EQ(weft::current_thread_affinity().value(), before) << "a failed pin must leave the mask alone";

  const std::uint32_t beyond[] = {weft::max_cpu_id + 1};
  EXPECT_EQ(weft::pin_current_thread(beyond).code(), status_code::invalid_argument);
  EXPECT_EQ(weft::pin_current_thread({}).code(), status_code::invalid_argument);
}

TEST(Thread, PinCurrentThreadRestrictsTheCallingThread) {
  const std::vector<std::uint32_t> allowed = weft::current_thread_affinity().value();
  const std::uint32_t cpu = allowed.front();
  weft::status pinned;
  std::vector<std::uint32_t> after;
  int running_on = -2;
  // On a thread of its own, so the test process keeps its mask.
  weft::thread t = weft::thread::start({.name = "pin-self"}, [&] {
                     const std::uint32_t only[] = {cpu};
                     pinned = weft::pin_current_thread(only);
                     after = weft::current_thread_affinity().value_or(std::vector<std::uint32_t>{});
                     running_on = weft::current_cpu();
                   }).value();
  t.join();
  EXPECT_TRUE(pinned.is_ok()) << pinned;
  EXPECT_EQ(after, std::vector<std::uint32_t>{cpu});
  EXPECT_EQ(running_on, static_cast<int>(cpu));
  EXPECT_EQ(weft::current_thread_affinity().value(), allowed);
}

TEST(Thread, StackSizeIsAppliedAndSmallSizesAreRaised) {
  std::size_t stack_inside = 0;
  weft::thread big = weft::thread::start({.name = "big-stack", .stack_size = 3 * 1024 * 1024}, [&] {
                       pthread_attr_t attr;
                       if (pthread_getattr_np(pthread_self(), &attr) == 0) {
                         pthread_attr_getstacksize(&attr, &stack_inside);
                         pthread_attr_destroy(&attr);
                       }
                     }).value();
  big.join();
  EXPECT_GE(stack_inside, std::size_t{3 * 1024 * 1024});

  int ran = 0;
  weft::thread tiny = weft::thread::start({.name = "tiny-stack", .stack_size = 1}, [&ran] { ran = 1; }).value();
  tiny.join();
  EXPECT_EQ(ran, 1);
}

TEST(Thread, DestructionAndAssignmentJoinTheOwnedThread) {
  int first_done = 0;
  int second_done = 0;
  {
    weft::thread t = weft::thread::start({.name = "slow-1"}, [&first_done] {
                       weft::sleep_for_ns(20'000'000);
                       first_done = 1;
                     }).value();
    t = weft::thread::start({.name = "slow-2"}, [&second_done] {
          weft::sleep_for_ns(20'000'000);
          second_done = 1;
        }).value();
    EXPECT_EQ(first_done, 1) << "assignment joins the thread it replaces";
    EXPECT_EQ(t.name(), "slow-2");
  }
  EXPECT_EQ(second_done, 1) << "the destructor joins";
}

TEST(Thread, DefaultAndMovedFromThreadsOwnNothing) {
  weft::thread empty;
  EXPECT_FALSE(empty.joinable());
  empty.join();
  weft::thread source = weft::thread::start({.name = "moved"}, [] {}).value();
  weft::thread target = std::move(source);
  EXPECT_FALSE(source.joinable());
  EXPECT_TRUE(target.joinable());
  EXPECT_EQ(target.name(), "moved");
}

TEST(Thread, CurrentCpuIsOneTheThreadMayRunOn) {
  const std::vector<std::uint32_t> allowed = weft::current_thread_affinity().value();
  const int cpu = weft::current_cpu();
  ASSERT_GE(cpu, 0);
  EXPECT_TRUE(std::binary_search(allowed.begin(), allowed.end(), static_cast<std::uint32_t>(cpu)));
}

}  // namespace
