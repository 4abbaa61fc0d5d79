// The executor with budget-1 (immediate) processes: the anchor's
// ExecutorProcessTest cases for the immediate list, plus schedule storms.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "jobs.hpp"

namespace weft::exec {
namespace {

template <class S>
class executor_test : public test::executor_fixture<S> {};
TYPED_TEST_SUITE(executor_test, test::backends, test::backend_names);

TYPED_TEST(executor_test, single_process_completes_immediately) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type j;
  j.log = &log;
  j.make(&TestFixture::job_type::counting, &group);
  ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
  this->wait_idle(group);
  EXPECT_EQ(j.drains.load(), 1u);
  this->expect_completed_and_released_once(j);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_EQ(j.proc->state(), lifecycle::completed);
}

TYPED_TEST(executor_test, multi_drain_process) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type j;
  j.complete_after = 5;
  j.make(&TestFixture::job_type::exclusive_counting, &group);
  ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
  this->wait_idle(group);
  EXPECT_EQ(j.drains.load(), 5u);
  EXPECT_EQ(j.overlaps.load(), 0u);
  this->expect_completed_and_released_once(j);
}

TYPED_TEST(executor_test, dependency_chain_runs_in_order) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type a, b, c;
  test::log_in_order(log, {&a, &b, &c});
  c.make(&TestFixture::job_type::counting, &group, 1);
  b.make_waking(c, &TestFixture::job_type::counting, &group, 1);
  a.make_waking(b, &TestFixture::job_type::counting, &group);
  ASSERT_TRUE(ex->schedule(*a.proc).is_ok());  // only A: B and C are woken by their predecessors
  this->wait_idle(group);
  EXPECT_EQ(test::completion_ids(log), (std::vector<int>{0, 1, 2}));
}

TYPED_TEST(executor_test, diamond_dependency) {
  using process = typename TestFixture::process_type;
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type a, b, c, d;
  test::log_in_order(log, {&a, &b, &c, &d});
  d.make(&TestFixture::job_type::counting, &group, 2);
  b.make_waking(d, &TestFixture::job_type::counting, &group, 1);
  c.make_waking(d, &TestFixture::job_type::counting, &group, 1);
  process* to_bc[] = {b.proc.get(), c.proc.get()};
  a.make(&TestFixture::job_type::counting, &group, 0, 1, to_bc);
  ASSERT_TRUE(ex->schedule(*a.proc).is_ok());
  this->wait_idle(group);
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries.front().id, 0);
  EXPECT_EQ(entries.back().id, 3);
  EXPECT_EQ(d.drains.load(), 1u);
}

TYPED_TEST(executor_test, sleep_and_rewake) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type j;
  j.make(&TestFixture::job_type::sleeping, &group);
  ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
  ASSERT_TRUE(j.entered_sleep.wait_at_least(1));
  // Asleep: idle and on no list, so nothing drains it until the next schedule.
  EXPECT_EQ(j.completions.get(), 0u);
  j.ready.store(1);
  ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
  this->wait_idle(group);
  EXPECT_EQ(j.drains.load(), 2u);  // one that found nothing, one that completed
  EXPECT_EQ(j.completions.get(), 1u);
}

TYPED_TEST(executor_test, drain_error_delivered_to_completion) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type j;
  j.log = &log;
  j.failure = errors::data_loss("block 17 checksum mismatch");
  j.make(&TestFixture::job_type::failing, &group);
  ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
  this->wait_idle(group);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::data_loss);
  EXPECT_EQ(log.entries()[0].result.message(), "block 17 checksum mismatch");
  EXPECT_EQ(j.drains.load(), 1u);  // an error completes the process
  EXPECT_EQ(j.releases.get(), 1u);
}

TYPED_TEST(executor_test, many_independent_processes) {
  auto ex = this->make_executor(4);
  basic_scope<TypeParam> group;
  auto jobs = this->make_jobs(64, [&](auto& j, int) { j.make(&TestFixture::job_type::exclusive_counting, &group); });
  for (auto& j : jobs) ASSERT_TRUE(ex->schedule(*j->proc).is_ok());
  this->wait_idle(group);
  for (auto& j : jobs) {
    EXPECT_EQ(j->drains.load(), 1u);
    this->expect_completed_and_released_once(*j);
  }
}

TYPED_TEST(executor_test, concurrent_schedule_from_multiple_threads) {
  auto ex = this->make_executor(4);
  basic_scope<TypeParam> group;
  constexpr int threads = 8, per_thread = 16;
  auto jobs = this->make_jobs(threads * per_thread, [&](auto& j, int) {
    j.complete_after = 3;
    j.make(&TestFixture::job_type::exclusive_counting, &group);
  });
  std::vector<std::thread> schedulers;
  for (int t = 0; t < threads; ++t) {
    schedulers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) EXPECT_TRUE(ex->schedule(*jobs[t * per_thread + i]->proc).is_ok());
    });
  }
  for (auto& t : schedulers) t.join();
  this->wait_idle(group);
  for (auto& j : jobs) {
    EXPECT_EQ(j->drains.load(), 3u);
    EXPECT_EQ(j->overlaps.load(), 0u);
    EXPECT_EQ(j->completions.get(), 1u);
  }
}

TYPED_TEST(executor_test, repeated_sleep_wake_cycles) {
  auto ex = this->make_executor(2);
  const int cycles = static_cast<int>(test::scaled<TypeParam>(50));
  for (int cycle = 0; cycle < cycles; ++cycle) {
    // A fresh process each cycle: the previous one may only be freed after
    // its release, which wait_idle guarantees.
    basic_scope<TypeParam> group;
    typename TestFixture::job_type j;
    j.make(&TestFixture::job_type::sleeping, &group);
    ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
    ASSERT_TRUE(j.entered_sleep.wait_at_least(1)) << "cycle " << cycle;
    j.ready.store(1);
    ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
    this->wait_idle(group);
    ASSERT_EQ(j.completions.get(), 1u);
  }
}

TYPED_TEST(executor_test, concurrent_sleep_wake_from_multiple_threads) {
  auto ex = this->make_executor(4);
  constexpr int threads = 8;
  const int cycles = static_cast<int>(test::scaled<TypeParam>(20));
  std::vector<std::thread> drivers;
  for (int t = 0; t < threads; ++t) {
    drivers.emplace_back([&] {
      for (int cycle = 0; cycle < cycles; ++cycle) {
        basic_scope<TypeParam> group;
        typename TestFixture::job_type j;
        j.make(&TestFixture::job_type::sleeping, &group);
        EXPECT_TRUE(ex->schedule(*j.proc).is_ok());
        EXPECT_TRUE(j.entered_sleep.wait_at_least(1));
        j.ready.store(1);
        EXPECT_TRUE(ex->schedule(*j.proc).is_ok());
        EXPECT_TRUE(group.wait_idle(deadline::after(std::chrono::seconds(60))).is_ok());
        EXPECT_EQ(j.completions.get(), 1u);
      }
    });
  }
  for (auto& t : drivers) t.join();
}

TYPED_TEST(executor_test, dependency_chain_with_multiple_drains) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type a, b, c;
  a.complete_after = 10, b.complete_after = 5, c.complete_after = 3;
  c.make(&TestFixture::job_type::exclusive_counting, &group, 1);
  b.make_waking(c, &TestFixture::job_type::exclusive_counting, &group, 1);
  a.make_waking(b, &TestFixture::job_type::exclusive_counting, &group);
  ASSERT_TRUE(ex->schedule(*a.proc).is_ok());
  this->wait_idle(group);
  EXPECT_EQ(a.drains.load(), 10u);
  EXPECT_EQ(b.drains.load(), 5u);
  EXPECT_EQ(c.drains.load(), 3u);
}

// A long-running budget-1 process is sliced: another ready process still
// runs on the single worker while the first keeps reporting work.
TYPED_TEST(executor_test, busy_process_does_not_monopolize_the_worker) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type busy, quick;
  busy.make(&TestFixture::job_type::endless, &group);
  quick.make(&TestFixture::job_type::counting, &group);
  ASSERT_TRUE(ex->schedule(*busy.proc).is_ok());
  ASSERT_TRUE(ex->schedule(*quick.proc).is_ok());
  ASSERT_TRUE(quick.completions.wait_at_least(1));
  EXPECT_EQ(busy.completions.get(), 0u);
  busy.stop.store(1);
  this->wait_idle(group);
  EXPECT_GT(ex->statistics().requeues, 0u);
}

// Schedule storm: 4 threads hammer schedule() on the same 8 processes while 2
// workers drain them. Every unit of published work is consumed, no drain
// overlaps another of the same process, and no schedule is lost.
TYPED_TEST(executor_test, schedule_storm_from_four_threads_onto_two_workers) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  constexpr int processes = 8, threads = 4;
  const std::uint32_t per_thread = static_cast<std::uint32_t>(test::scaled<TypeParam>(20000));
  struct inbox {
    relaxed_cell<std::uint32_t> published{0};
    relaxed_cell<std::uint32_t> consumed{0};  // written by the (exclusive) drainer only
    relaxed_cell<std::uint32_t> inside{0};
    relaxed_cell<std::uint32_t> overlaps{0};
    relaxed_cell<std::uint32_t> finish{0};
  };
  using process = typename TestFixture::process_type;
  struct holder {
    inbox box;
    std::unique_ptr<process> proc;
    test::counter releases;
  };
  std::vector<std::unique_ptr<holder>> hs;
  for (int i = 0; i < processes; ++i) {
    auto h = std::make_unique<holder>();
    typename process::options o;
    o.user_data = h.get();
    o.scope = &group;
    o.on_release = +[](process& p) { static_cast<holder*>(p.user_data())->releases.add(); };
    o.drain = +[](process& p, const worker_context&, drain_result& r) -> status {
      inbox& b = static_cast<holder*>(p.user_data())->box;
      if (b.inside.fetch_add(1) != 0) b.overlaps.fetch_add(1);
      // The drain_gate's acquire makes every publication before a schedule
      // visible here; take everything published so far.
      const std::uint32_t published = b.published.load();
      const std::uint32_t consumed = b.consumed.load();
      if (published != consumed) {
        b.consumed.store(published);
        r.did_work = true;
      } else if (b.finish.load() != 0) {
        r.completed = true;
      }
      b.inside.fetch_sub(1);
      return status::ok();
    };
    h->proc = std::make_unique<process>(o);
    hs.push_back(std::move(h));
  }
  std::vector<std::thread> storm;
  for (int t = 0; t < threads; ++t) {
    storm.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < per_thread; ++i) {
        holder& h = *hs[(i + t) % processes];
        h.box.published.fetch_add(1);
        EXPECT_TRUE(ex->schedule(*h.proc).is_ok());
      }
    });
  }
  for (auto& t : storm) t.join();
  for (auto& h : hs) {
    h->box.finish.store(1);
    ASSERT_TRUE(ex->schedule(*h->proc).is_ok());
  }
  this->wait_idle(group);
  std::uint64_t total = 0;
  for (auto& h : hs) {
    EXPECT_EQ(h->box.overlaps.load(), 0u);
    EXPECT_EQ(h->box.consumed.load(), h->box.published.load());
    EXPECT_EQ(h->releases.get(), 1u);
    total += h->box.consumed.load();
  }
  EXPECT_EQ(total, std::uint64_t{threads} * per_thread);
}

}  // namespace
}  // namespace weft::exec
