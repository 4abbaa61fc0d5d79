// weft::exec::process driven by hand, without an executor: the lifecycle,
// dependents, errors and cancellation (the anchor's 22 process tests, in
// weft's terms).
#include "weft/exec/process.hpp"

#include <gtest/gtest.h>

#include <span>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace weft::exec {
namespace {

template <class S>
class process_test : public ::testing::Test {
 protected:
  using process_type = basic_process<S>;
  using options = typename process_type::options;

  static status no_work(process_type&, const worker_context&, drain_result&) { return status::ok(); }

  // Completion callback that records into the status_log in user_data slot 0.
  struct record {
    test::status_log* log;
    int id;
  };
  static void log_completion(process_type& p, const status& s) {
    auto* r = static_cast<record*>(p.user_data());
    r->log->record(r->id, s);
  }

  static options basic(std::uint32_t suspend_count = 0, std::uint32_t wake_budget = 1) {
    options o;
    o.drain = &no_work;
    o.suspend_count = suspend_count;
    o.wake_budget = wake_budget;
    return o;
  }

  // basic(suspend_count), its completion recorded through `r` (which must
  // outlive the process).
  static options logged(record& r, std::uint32_t suspend_count = 0) {
    options o = basic(suspend_count);
    o.user_data = &r;
    o.on_complete = &log_completion;
    return o;
  }

  // basic(suspend_count) with `dependents` (caller-owned: they must outlive
  // the process).
  static options waking(std::span<process_type* const> dependents, std::uint32_t suspend_count = 0) {
    options o = basic(suspend_count);
    o.dependents = dependents;
    return o;
  }

  // Collects the dependents a resolution activated, in order.
  struct activated {
    std::vector<process_type*> list;
    void operator()(process_type& p) { list.push_back(&p); }
  };

  test::watchdog dog_{std::chrono::seconds(60)};
};

TYPED_TEST_SUITE(process_test, test::backends, test::backend_names);

TYPED_TEST(process_test, initialize_suspended) {
  typename TestFixture::process_type p(TestFixture::basic(1));
  EXPECT_EQ(p.state(), lifecycle::suspended);
  EXPECT_FALSE(p.is_terminal());
  EXPECT_FALSE(p.has_error());
  EXPECT_EQ(p.wake_budget(), 1u);
  EXPECT_FALSE(p.is_compute());
  EXPECT_TRUE(p.validity().is_ok());
}

TYPED_TEST(process_test, initialize_runnable_keeps_budget_and_picks_compute) {
  typename TestFixture::process_type p(TestFixture::basic(0, 4));
  EXPECT_EQ(p.state(), lifecycle::runnable);
  EXPECT_EQ(p.wake_budget(), 4u);
  EXPECT_TRUE(p.is_compute());
}

TYPED_TEST(process_test, invalid_options_name_the_bad_value) {
  auto o = TestFixture::basic();
  o.drain = nullptr;
  typename TestFixture::process_type no_drain(o);
  EXPECT_EQ(no_drain.validity().code(), status_code::invalid_argument);
  EXPECT_NE(no_drain.validity().message().find("drain"), std::string::npos);

  auto b = TestFixture::basic(0, 0);
  typename TestFixture::process_type zero_budget(b);
  EXPECT_EQ(zero_budget.validity().code(), status_code::invalid_argument);
  EXPECT_NE(zero_budget.validity().message().find(" 0 "), std::string::npos) << zero_budget.validity().to_string();

  auto i = TestFixture::basic(0, 3);
  i.kind = process_kind::immediate;
  typename TestFixture::process_type immediate_wide(i);
  EXPECT_NE(immediate_wide.validity().message().find("3"), std::string::npos);

  typename TestFixture::process_type* null_dependent[] = {nullptr};
  auto d = TestFixture::basic();
  d.dependents = null_dependent;
  typename TestFixture::process_type bad_dependent(d);
  EXPECT_NE(bad_dependent.validity().message().find("dependent 0"), std::string::npos);
}

TYPED_TEST(process_test, wake_single) {
  typename TestFixture::process_type p(TestFixture::basic(1));
  EXPECT_TRUE(p.wake());
  EXPECT_EQ(p.state(), lifecycle::runnable);
}

TYPED_TEST(process_test, wake_multiple_only_last_activates) {
  typename TestFixture::process_type p(TestFixture::basic(3));
  EXPECT_FALSE(p.wake());
  EXPECT_FALSE(p.wake());
  EXPECT_EQ(p.state(), lifecycle::suspended);
  EXPECT_TRUE(p.wake());
  EXPECT_EQ(p.state(), lifecycle::runnable);
}

TYPED_TEST(process_test, wake_cancelled_returns_false) {
  typename TestFixture::process_type p(TestFixture::basic(1));
  typename TestFixture::activated none;
  p.cancel(none);
  EXPECT_FALSE(p.wake());
  EXPECT_EQ(p.state(), lifecycle::cancelled);
}

TYPED_TEST(process_test, complete_success) {
  test::status_log log;
  typename TestFixture::record r{&log, 7};
  typename TestFixture::process_type p(TestFixture::logged(r));
  typename TestFixture::activated act;
  EXPECT_TRUE(p.complete(act));
  EXPECT_TRUE(p.is_terminal());
  EXPECT_EQ(p.state(), lifecycle::completed);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_TRUE(log.entries()[0].result.is_ok());
  EXPECT_TRUE(act.list.empty());
  // A second completion is not a second resolution.
  EXPECT_FALSE(p.complete(act));
  EXPECT_EQ(log.entries().size(), 1u);
}

TYPED_TEST(process_test, complete_with_error) {
  test::status_log log;
  typename TestFixture::record r{&log, 1};
  typename TestFixture::process_type p(TestFixture::logged(r));
  p.report_error(errors::internal("tile 3 failed"));
  typename TestFixture::activated act;
  EXPECT_TRUE(p.complete(act));
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::internal);
  EXPECT_EQ(log.entries()[0].result.message(), "tile 3 failed");
}

TYPED_TEST(process_test, complete_without_callback) {
  typename TestFixture::process_type p(TestFixture::basic());
  p.report_error(errors::data_loss("dropped"));
  typename TestFixture::activated act;
  EXPECT_TRUE(p.complete(act));  // the boxed status is freed (ASAN checks)
  EXPECT_TRUE(p.is_terminal());
}

TYPED_TEST(process_test, completion_activates_dependents_in_order) {
  using process = typename TestFixture::process_type;
  process b(TestFixture::basic(1)), c(TestFixture::basic(1));
  process* deps[] = {&b, &c};
  process a(TestFixture::waking(deps));
  typename TestFixture::activated act;
  ASSERT_TRUE(a.complete(act));
  ASSERT_EQ(act.list.size(), 2u);
  EXPECT_EQ(act.list[0], &b);
  EXPECT_EQ(act.list[1], &c);
  EXPECT_EQ(b.state(), lifecycle::runnable);
  EXPECT_EQ(c.state(), lifecycle::runnable);
}

TYPED_TEST(process_test, dependent_with_other_dependencies_stays_suspended) {
  using process = typename TestFixture::process_type;
  process b(TestFixture::basic(2));
  process* deps[] = {&b};
  process a(TestFixture::waking(deps));
  typename TestFixture::activated act;
  a.complete(act);
  EXPECT_TRUE(act.list.empty());
  EXPECT_EQ(b.state(), lifecycle::suspended);
  EXPECT_EQ(b.suspend_count(), 1u);
}

TYPED_TEST(process_test, diamond_dependency) {
  using process = typename TestFixture::process_type;
  process d(TestFixture::basic(2));
  process* to_d[] = {&d};
  process b(TestFixture::waking(to_d, 1)), c(TestFixture::waking(to_d, 1));
  process* to_bc[] = {&b, &c};
  process a(TestFixture::waking(to_bc));

  typename TestFixture::activated act;
  a.complete(act);
  ASSERT_EQ(act.list.size(), 2u);
  typename TestFixture::activated after_b, after_c;
  b.complete(after_b);
  EXPECT_TRUE(after_b.list.empty());
  EXPECT_EQ(d.state(), lifecycle::suspended);
  c.complete(after_c);
  ASSERT_EQ(after_c.list.size(), 1u);
  EXPECT_EQ(after_c.list[0], &d);
}

TYPED_TEST(process_test, report_error_marks_terminal) {
  typename TestFixture::process_type p(TestFixture::basic());
  EXPECT_TRUE(p.report_error(errors::internal("bad")));
  EXPECT_TRUE(p.has_error());
  EXPECT_TRUE(p.is_terminal());
  EXPECT_EQ(p.state(), lifecycle::completed);
  typename TestFixture::activated act;
  EXPECT_TRUE(p.complete(act));
}

TYPED_TEST(process_test, first_error_wins) {
  test::status_log log;
  typename TestFixture::record r{&log, 0};
  typename TestFixture::process_type p(TestFixture::logged(r));
  EXPECT_TRUE(p.report_error(errors::internal("first")));
  EXPECT_FALSE(p.report_error(errors::data_loss("second")));
  typename TestFixture::activated act;
  p.complete(act);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.message(), "first");
}

TYPED_TEST(process_test, cancel_suspended_resolves_inline) {
  test::status_log log;
  typename TestFixture::record r{&log, 0};
  typename TestFixture::process_type p(TestFixture::logged(r, 2));
  typename TestFixture::activated act;
  const auto outcome = p.cancel(act);
  EXPECT_EQ(outcome.found, lifecycle::suspended);
  EXPECT_TRUE(outcome.resolved);
  EXPECT_EQ(p.state(), lifecycle::cancelled);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::cancelled);
}

TYPED_TEST(process_test, cancel_runnable_leaves_resolution_to_the_drainer) {
  test::status_log log;
  typename TestFixture::record r{&log, 0};
  typename TestFixture::process_type p(TestFixture::logged(r));
  typename TestFixture::activated act;
  const auto outcome = p.cancel(act);
  EXPECT_EQ(outcome.found, lifecycle::runnable);
  EXPECT_FALSE(outcome.resolved);
  EXPECT_EQ(p.state(), lifecycle::cancelled);
  EXPECT_TRUE(log.entries().empty());
  EXPECT_TRUE(act.list.empty());
  EXPECT_TRUE(p.complete(act));  // the drainer resolves it, with CANCELLED
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::cancelled);
}

TYPED_TEST(process_test, cancel_already_completed_is_a_no_op) {
  typename TestFixture::process_type p(TestFixture::basic());
  typename TestFixture::activated act;
  p.complete(act);
  const auto outcome = p.cancel(act);
  EXPECT_EQ(outcome.found, lifecycle::completed);
  EXPECT_FALSE(outcome.resolved);
  EXPECT_EQ(p.state(), lifecycle::completed);
}

TYPED_TEST(process_test, cancel_preserves_existing_error) {
  test::status_log log;
  typename TestFixture::record r{&log, 0};
  typename TestFixture::process_type p(TestFixture::logged(r, 1));
  p.report_error(errors::internal("earlier failure"));
  typename TestFixture::activated act;
  p.cancel(act);
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].result.code(), status_code::internal);
}

TYPED_TEST(process_test, cancel_suspended_wakes_dependents) {
  using process = typename TestFixture::process_type;
  process b(TestFixture::basic(1)), c(TestFixture::basic(1));
  process* deps[] = {&b, &c};
  process a(TestFixture::waking(deps, 1));
  typename TestFixture::activated act;
  a.cancel(act);
  ASSERT_EQ(act.list.size(), 2u);
  EXPECT_EQ(act.list[0], &b);
  EXPECT_EQ(act.list[1], &c);
}

TYPED_TEST(process_test, scope_counts_until_release) {
  basic_scope<TypeParam> group;
  auto o = TestFixture::basic();
  o.scope = &group;
  {
    typename TestFixture::process_type p(o);
    EXPECT_EQ(group.outstanding(), 1u);
    EXPECT_EQ(group.wait_idle(deadline::immediate()).code(), status_code::deadline_exceeded);
    typename TestFixture::activated act;
    p.complete(act);
    EXPECT_EQ(group.outstanding(), 1u);  // resolved, not yet released
    p.release();
  }
  EXPECT_TRUE(group.wait_idle(deadline::immediate()).is_ok());
}

TYPED_TEST(process_test, concurrent_wake_activates_exactly_once) {
  const int rounds = static_cast<int>(test::scaled<TypeParam>(200));
  for (int round = 0; round < rounds; ++round) {
    typename TestFixture::process_type p(TestFixture::basic(8));
    relaxed_cell<std::uint32_t> activations{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        if (p.wake()) activations.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(activations.load(), 1u) << "round " << round;
    ASSERT_EQ(p.state(), lifecycle::runnable);
  }
}

TYPED_TEST(process_test, concurrent_error_reporting_keeps_one) {
  const int rounds = static_cast<int>(test::scaled<TypeParam>(200));
  for (int round = 0; round < rounds; ++round) {
    test::status_log log;
    typename TestFixture::record r{&log, 0};
    typename TestFixture::process_type p(TestFixture::logged(r));
    relaxed_cell<std::uint32_t> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        if (p.report_error(errors::internal("thread ", t))) winners.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(winners.load(), 1u);
    ASSERT_TRUE(p.is_terminal());
    typename TestFixture::activated act;
    ASSERT_TRUE(p.complete(act));
    ASSERT_EQ(log.entries().size(), 1u);
    ASSERT_EQ(log.entries()[0].result.code(), status_code::internal);
  }
}

}  // namespace
}  // namespace weft::exec
