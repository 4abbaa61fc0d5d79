// Model-checks example::countdown_latch with weft's public Relacy backend:
// one property that must hold and two negative controls that Relacy must
// catch. Exit status 0 only if the property passes and both controls are
// caught — a control that passes means the test cannot see the bug it exists
// for.
#include <weft/sync/relacy.hpp>  // first: contains Relacy's macros

#include <cstdio>

#include "countdown_latch.hpp"

namespace {

// Two parties each write their slot, then count down; a third thread waits
// and reads both slots. Relacy reports a DATA RACE if a write is not visible,
// and a DEADLOCK if the waiter sleeps forever.
template <class Policy>
struct latch_model : rl::test_suite<latch_model<Policy>, 3> {
  example::countdown_latch<weft::sync::relacy, Policy> latch{2};
  weft::sync::relacy::plain<int> slot[2];

  void thread(unsigned index) {
    if (index < 2) {
      slot[index].write(static_cast<int>(index) + 1);
      latch.count_down();
    } else {
      latch.wait();
      RL_ASSERT(slot[0].read() + slot[1].read() == 3);
    }
  }
};

template <class Test>
bool passes(rl::scheduler_type_e scheduler, const char* what, bool expect_pass) {
  rl::test_params params;
  params.search_type = scheduler;
  params.iteration_count = 100'000;
  // Relacy prints the failing history to output_stream; the controls are
  // expected to fail, so keep their output quiet.
  static struct : std::streambuf {
    int overflow(int c) override { return c; }
  } quiet;
  static std::ostream sink(&quiet);
  params.output_stream = &sink;
  params.progress_stream = &sink;
  const bool ok = rl::simulate<Test>(params);
  const bool as_expected = ok == expect_pass;
  std::printf("%-48s %-8s %s\n", what, ok ? "pass" : rl::test_result_str(params.test_result),
              as_expected ? "as expected" : "UNEXPECTED");
  return as_expected;
}

}  // namespace

int main() {
  using example::latch_site;
  namespace mutation = weft::mutation;
  bool ok = true;
  ok &= passes<latch_model<weft::verified>>(rl::sched_random, "waiter sees all parties' writes (random)", true);
  ok &= passes<latch_model<weft::verified>>(rl::sched_full, "waiter sees all parties' writes (full)", true);
  ok &= passes<latch_model<mutation::weaken<latch_site::count_down_rmw, std::memory_order_relaxed>>>(
      rl::sched_random, "control: relaxed count_down", false);
  ok &= passes<latch_model<mutation::drop<latch_site::wake_waiters>>>(rl::sched_random, "control: no wake",
                                                                        false);
  std::printf("%s\n", ok ? "countdown_latch: verified" : "countdown_latch: FAILED");
  return ok ? 0 : 1;
}
