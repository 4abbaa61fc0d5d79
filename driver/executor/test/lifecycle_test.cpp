// Creating, cancelling and shutting down: bad options, cancel in every state,
// shutdown under load, no leaks, topology-driven worker counts.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "jobs.hpp"
#include "weft/base/allocator.hpp"
#include "weft/base/topology.hpp"

namespace weft::exec {
namespace {

template <class S>
class lifecycle_test : public test::executor_fixture<S> {};
TYPED_TEST_SUITE(lifecycle_test, test::backends, test::backend_names);

TYPED_TEST(lifecycle_test, bad_options_are_refused_naming_the_value) {
  executor_options o;
  o.worker_count = 1000;
  auto too_many = basic_executor<TypeParam>::create(o);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), status_code::invalid_argument);
  EXPECT_NE(too_many.status().message().find("1000"), std::string::npos) << too_many.status().to_string();

  o = {};
  o.worker_count = 1;
  o.compute_slot_count = 0;
  auto no_slots = basic_executor<TypeParam>::create(o);
  ASSERT_FALSE(no_slots.ok());
  EXPECT_NE(no_slots.status().message().find("compute slot count 0"), std::string::npos);

  o = {};
  o.worker_count = 1;
  o.spin_ns = -5;
  auto negative_spin = basic_executor<TypeParam>::create(o);
  ASSERT_FALSE(negative_spin.ok());
  EXPECT_NE(negative_spin.status().message().find("-5"), std::string::npos);

  topology empty;
  o = {};
  o.cpu_topology = &empty;
  auto no_cpus = basic_executor<TypeParam>::create(o);
  ASSERT_FALSE(no_cpus.ok());
  EXPECT_EQ(no_cpus.status().code(), status_code::invalid_argument);
}

TYPED_TEST(lifecycle_test, bad_schedules_are_refused_and_change_nothing) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type suspended;
  suspended.make(&TestFixture::job_type::counting, &group, 2);
  const status s = ex->schedule(*suspended.proc);
  EXPECT_EQ(s.code(), status_code::failed_precondition);
  EXPECT_NE(s.message().find("2 dependencies"), std::string::npos) << s.to_string();
  EXPECT_EQ(suspended.proc->state(), lifecycle::suspended);

  typename TestFixture::process_type::options bad;
  bad.drain = nullptr;
  typename TestFixture::process_type no_drain(bad);
  EXPECT_EQ(ex->schedule(no_drain).code(), status_code::invalid_argument);
  EXPECT_EQ(ex->cancel(no_drain).code(), status_code::invalid_argument);

  typename TestFixture::job_type immediate;
  immediate.make(&TestFixture::job_type::counting, nullptr);
  EXPECT_EQ(ex->set_wake_budget(*immediate.proc, 4).code(), status_code::invalid_argument);
  typename TestFixture::job_type compute;
  compute.make(&TestFixture::job_type::counting, nullptr, 0, 2);
  const status zero = ex->set_wake_budget(*compute.proc, 0);
  EXPECT_EQ(zero.code(), status_code::invalid_argument);
  EXPECT_NE(zero.message().find("wake budget 0"), std::string::npos);
  EXPECT_EQ(compute.proc->wake_budget(), 2u);

  ASSERT_TRUE(ex->cancel(*suspended.proc).is_ok());  // so the scope drains
  this->wait_idle(group);
}

TYPED_TEST(lifecycle_test, cancel_suspended_resolves_and_releases_inline) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type a, dependent;
  test::log_in_order(log, {&a, &dependent});
  dependent.make(&TestFixture::job_type::counting, &group, 1);
  a.make_waking(dependent, &TestFixture::job_type::counting, &group, 1);
  ASSERT_TRUE(ex->cancel(*a.proc).is_ok());
  EXPECT_EQ(a.completions.get(), 1u);  // inline, before cancel returned
  EXPECT_EQ(a.releases.get(), 1u);
  this->wait_idle(group);
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].result.code(), status_code::cancelled);
  EXPECT_TRUE(entries[1].result.is_ok());  // the dependent still runs (errors do not block dependents)
  EXPECT_EQ(dependent.drains.load(), 1u);
  EXPECT_EQ(a.drains.load(), 0u);
}

// The anchor stranded this one: runnable, asleep on no list, then cancelled.
TYPED_TEST(lifecycle_test, cancel_runnable_idle_process_completes) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type sleeper, dependent;
  test::log_in_order(log, {&sleeper, &dependent});
  dependent.make(&TestFixture::job_type::counting, &group, 1);
  sleeper.make_waking(dependent, &TestFixture::job_type::sleeping, &group);
  ASSERT_TRUE(ex->schedule(*sleeper.proc).is_ok());
  ASSERT_TRUE(sleeper.entered_sleep.wait_at_least(1));
  ASSERT_TRUE(ex->cancel(*sleeper.proc).is_ok());
  this->wait_idle(group);
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, 0);
  EXPECT_EQ(entries[0].result.code(), status_code::cancelled);
  EXPECT_EQ(sleeper.releases.get(), 1u);
  EXPECT_EQ(dependent.completions.get(), 1u);
  // A late schedule of the finished process is harmless.
  EXPECT_TRUE(ex->schedule(*sleeper.proc).is_ok());
}

TYPED_TEST(lifecycle_test, cancel_idle_compute_process_completes) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type sleeper;
  sleeper.log = &log;
  sleeper.make(&TestFixture::job_type::sleeping, &group, 0, 2);
  ASSERT_TRUE(ex->schedule(*sleeper.proc).is_ok());
  ASSERT_TRUE(sleeper.entered_sleep.wait_at_least(1));
  ASSERT_TRUE(ex->cancel(*sleeper.proc).is_ok());
  this->wait_idle(group);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::cancelled);
  EXPECT_EQ(sleeper.releases.get(), 1u);
}

TYPED_TEST(lifecycle_test, cancel_draining_processes_completes_them) {
  auto ex = this->make_executor(2);
  basic_scope<TypeParam> group;
  test::status_log log;
  typename TestFixture::job_type immediate, compute;
  test::log_in_order(log, {&immediate, &compute});
  immediate.make(&TestFixture::job_type::endless, &group);
  compute.make(&TestFixture::job_type::endless, &group, 0, 2);
  ASSERT_TRUE(ex->schedule(*immediate.proc).is_ok());
  ASSERT_TRUE(ex->schedule(*compute.proc).is_ok());
  ASSERT_TRUE(test::eventually([&] { return immediate.drains.load() > 5 && compute.drains.load() > 5; }));
  ASSERT_TRUE(ex->cancel(*immediate.proc).is_ok());
  ASSERT_TRUE(ex->cancel(*compute.proc).is_ok());
  this->wait_idle(group);
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) EXPECT_EQ(e.result.code(), status_code::cancelled) << e.id;
  EXPECT_EQ(immediate.releases.get(), 1u);
  EXPECT_EQ(compute.releases.get(), 1u);
}

TYPED_TEST(lifecycle_test, scope_wait_idle_honours_its_deadline) {
  auto ex = this->make_executor(1);
  basic_scope<TypeParam> group;
  typename TestFixture::job_type sleeper;
  sleeper.make(&TestFixture::job_type::sleeping, &group);
  ASSERT_TRUE(ex->schedule(*sleeper.proc).is_ok());
  ASSERT_TRUE(sleeper.entered_sleep.wait_at_least(1));
  const status timed_out = group.wait_idle(deadline::after(std::chrono::milliseconds(20)));
  EXPECT_EQ(timed_out.code(), status_code::deadline_exceeded);
  EXPECT_NE(timed_out.message().find("1 outstanding"), std::string::npos) << timed_out.to_string();
  sleeper.ready.store(1);
  ASSERT_TRUE(ex->schedule(*sleeper.proc).is_ok());
  this->wait_idle(group);
}

// Shutdown with work everywhere: endless immediate and compute processes
// being drained, more queued behind them, a dependent waiting. Everything
// completes exactly once (CANCELLED where it had not finished), is released
// exactly once, the threads are joined and the executor's memory is returned.
TYPED_TEST(lifecycle_test, shutdown_under_load_cancels_everything_once) {
  using process = typename TestFixture::process_type;
  counting_allocator memory;
  basic_scope<TypeParam> group;
  test::status_log log;
  std::vector<std::unique_ptr<typename TestFixture::job_type>> jobs;
  // A suspended process that only job 0 (endless, so cancelled by the
  // shutdown) wakes: the shutdown must resolve it too, not abandon it.
  typename TestFixture::job_type dependent;
  dependent.id = 99;
  dependent.log = &log;
  dependent.make(&TestFixture::job_type::counting, &group, 1);
  process* after_job0[] = {dependent.proc.get()};
  {
    executor_options o;
    o.memory = &memory;
    o.compute_slot_count = 2;
    auto ex = this->make_executor(2, o);
    EXPECT_GT(memory.live_allocations(), 0u);
    // 0..7 endless immediate, 8..15 endless compute (more than the 2 slots),
    // 16..23 immediate that complete normally.
    jobs = this->make_jobs(24, [&](auto& j, int i) {
      j.id = i;
      j.log = &log;
      if (i == 0) j.make(&TestFixture::job_type::endless, &group, 0, 1, after_job0);
      else if (i < 8) j.make(&TestFixture::job_type::endless, &group);
      else if (i < 16) j.make(&TestFixture::job_type::endless, &group, 0, 2);
      else j.make(&TestFixture::job_type::counting, &group);
    });
    for (auto& j : jobs) ASSERT_TRUE(ex->schedule(*j->proc).is_ok());
    ASSERT_TRUE(test::eventually([&] { return jobs[0]->drains.load() + jobs[8]->drains.load() > 4; }));
    ex->shutdown();
    EXPECT_EQ(ex->schedule(*jobs[0]->proc).code(), status_code::ok);  // resolved: harmless
    typename TestFixture::job_type late;
    late.make(&TestFixture::job_type::counting, &group);
    EXPECT_EQ(ex->schedule(*late.proc).code(), status_code::failed_precondition);
    EXPECT_TRUE(ex->cancel(*late.proc).is_ok());
  }  // destroying the executor after shutdown is fine
  EXPECT_EQ(memory.live_allocations(), 0u);
  ASSERT_TRUE(group.wait_idle(deadline::immediate()).is_ok()) << "something was abandoned";
  for (auto& j : jobs) this->expect_completed_and_released_once(*j);
  this->expect_completed_and_released_once(dependent);
  for (const auto& e : log.entries()) {
    if (e.id < 16 || e.id == dependent.id) {
      EXPECT_EQ(e.result.code(), status_code::cancelled) << "job " << e.id;
    }
  }
}

TYPED_TEST(lifecycle_test, worker_count_comes_from_the_topology) {
  const topology three = topology::flat(3);
  executor_options o;
  o.cpu_topology = &three;
  auto made = basic_executor<TypeParam>::create(o);
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  EXPECT_EQ((*made)->worker_count(), 3u);

  auto detected = basic_executor<TypeParam>::create({});
  ASSERT_TRUE(detected.ok()) << detected.status().to_string();
  EXPECT_GE((*detected)->worker_count(), 1u);
}

TYPED_TEST(lifecycle_test, pinned_workers_run_where_the_topology_says) {
  const topology here = topology::detect();
  executor_options o;
  o.cpu_topology = &here;
  o.pin_workers = true;
  auto made = basic_executor<TypeParam>::create(o);
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  auto& ex = **made;
  ASSERT_EQ(ex.worker_cpus().size(), ex.worker_count());
  basic_scope<TypeParam> group;
  typename TestFixture::job_type j;
  j.make(
      +[](typename TestFixture::process_type& p, const worker_context& w, drain_result& r) -> status {
        auto& job = TestFixture::job_type::of(p);
        job.worker_hits[w.worker_index]->store(static_cast<std::uint32_t>(current_cpu() + 1));
        r.completed = true;
        return status::ok();
      },
      &group);
  ASSERT_TRUE(ex.schedule(*j.proc).is_ok());
  this->wait_idle(group);
  for (std::uint32_t w = 0; w < ex.worker_count(); ++w) {
    const std::uint32_t cpu_plus_one = j.worker_hits[w]->load();
    if (cpu_plus_one != 0) {
      EXPECT_EQ(cpu_plus_one - 1, ex.worker_cpus()[w]) << "worker " << w;
    }
  }
}

TYPED_TEST(lifecycle_test, parked_workers_wake_for_new_work) {
  executor_options o;
  o.spin_ns = 0;
  auto ex = this->make_executor(2, o);
  // Both workers find nothing and park (the count is taken just before the
  // futex wait, after the idle announcement).
  ASSERT_TRUE(test::eventually([&] { return ex->statistics().parks >= 2; }));
  const std::uint64_t parks_before = ex->statistics().parks;
  for (int round = 0; round < 20; ++round) {
    basic_scope<TypeParam> group;
    typename TestFixture::job_type j;
    j.make(&TestFixture::job_type::counting, &group);
    ASSERT_TRUE(ex->schedule(*j.proc).is_ok());
    this->wait_idle(group);
  }
  // The workers parked again between rounds (or at the latest once the
  // work ran out): each round above was a wake of a parked worker, not one
  // long spin. Waited for, because the last park may follow the last round.
  EXPECT_TRUE(test::eventually([&] { return ex->statistics().parks > parks_before; }));
}

}  // namespace
}  // namespace weft::exec
