// The Relacy suite harness: how a suite registers model-check cases and how
// weft-verify runs them.
//
// A case is one rl::test_suite run under one scheduler, with what the run must
// produce: `expect::pass` (a property of the real primitive) or
// `expect::caught` (a negative control: the same template with a mutation that
// Relacy must report). Register cases at namespace scope in a suite file:
//
//   WEFT_RELACY_CASE(drain_gate, "no lost schedule", random, pass, no_lost_schedule<3, weft::verified>);
//
// Iteration budgets come from the runner (weft-verify --quick / --iterations);
// the full and context-bound searches compute their own iteration count.
#pragma once

#include "weft/sync/relacy.hpp"

#include <cstdint>
#include <string>
#include <streambuf>
#include <vector>

namespace weft::verify {

enum class expect { pass, caught };
enum class scheduler { random, bound, full };

const char* name_of(expect e);
const char* name_of(scheduler s);

struct run_config {
  std::uint64_t random_iterations = 100'000;
  unsigned context_bound = 2;
  bool keep_history = false;  // collect Relacy's execution history of a failure
};

struct run_result {
  bool passed = false;          // Relacy found nothing
  std::uint64_t iterations = 0; // iterations explored (to the failure, if any)
  std::string failure;          // Relacy's verdict, e.g. "DEADLOCK"; empty if passed
  std::string history;          // the failing execution, when keep_history
};

struct relacy_case {
  const char* primitive;
  const char* property;
  scheduler sched;
  unsigned threads;
  expect expected;
  run_result (*run)(scheduler, const run_config&);
};

std::vector<relacy_case>& registry();

struct registrar {
  explicit registrar(const relacy_case& c) { registry().push_back(c); }
};

// Relacy replaces the global operator new and allocates from its own arena
// while a simulation runs, so a std::ostringstream that grows during the run
// later frees that memory with the wrong allocator. Relacy's output goes into
// this fixed buffer instead (truncated, never reallocated).
class fixed_sink : public std::streambuf {
 public:
  std::string text() const { return std::string(buffer_, size_); }
  void clear() { size_ = 0; }

 protected:
  int overflow(int c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  char buffer_[1 << 16];
  std::size_t size_ = 0;
};

// Receives Relacy's "NN% (iter/total)" progress lines and redraws the
// runner's live progress line; writes with write(2), never allocates.
class progress_sink : public std::streambuf {
 public:
  void begin(const char* label);
  void set_enabled(bool enabled) { enabled_ = enabled; }

 protected:
  int overflow(int c) override;

 private:
  char line_[256];
  std::size_t size_ = 0;
  char label_[160] = {};
  bool enabled_ = false;
};

progress_sink& progress();

rl::scheduler_type_e to_relacy(scheduler s);

template <class Test>
run_result run_relacy(scheduler s, const run_config& config) {
  static fixed_sink output;
  output.clear();
  std::ostream out(&output);
  std::ostream prog(&progress());
  rl::test_params params;
  params.search_type = to_relacy(s);
  params.iteration_count = config.random_iterations;
  params.context_bound = config.context_bound;
  params.output_stream = &out;
  params.progress_stream = &prog;
  params.collect_history = config.keep_history;
  params.output_history = config.keep_history;
  run_result result;
  result.passed = rl::simulate<Test>(params);
  result.iterations = params.stop_iteration;
  if (!result.passed) {
    result.failure = rl::test_result_str(params.test_result);
    if (config.keep_history) result.history = output.text();
  }
  return result;
}

template <class Test>
constexpr unsigned thread_count() {
  return static_cast<unsigned>(Test::params::thread_count);
}

}  // namespace weft::verify

#define WEFT_RELACY_CONCAT_(a, b) a##b
#define WEFT_RELACY_CONCAT(a, b) WEFT_RELACY_CONCAT_(a, b)

// Registers one case. `Test` may contain commas (template arguments): it is
// the trailing variadic argument.
#define WEFT_RELACY_CASE(primitive, property, sched, expected, ...)                                   \
  static const ::weft::verify::registrar WEFT_RELACY_CONCAT(weft_relacy_case_, __LINE__){            \
      ::weft::verify::relacy_case{#primitive, property, ::weft::verify::scheduler::sched,             \
                                  ::weft::verify::thread_count<__VA_ARGS__>(),                        \
                                  ::weft::verify::expect::expected, &::weft::verify::run_relacy<__VA_ARGS__>}}
