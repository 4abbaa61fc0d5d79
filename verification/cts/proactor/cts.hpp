// The proactor conformance suite (CTS): every test runs against every backend
// configuration, through the public API only (weft/io/*.hpp).
//
//   WEFT_CTS_SUITE(timer_cts);                 // the fixture, instantiated over the configurations
//   TEST_P(timer_cts, past_deadline_completes_ok) {
//     auto& tick = make<timer_op>();           // fixture-owned; callback = the completion log
//     WEFT_EXPECT_CODE(submit_and_await(tick), status_code::ok);  // submit, poll until its callback
//   }
//
// Configurations: io_uring (every capability), io_uring_minimal (only
// kernel_ring|single_issuer|defer_taskrun: file I/O on workers, software links,
// no inline nowait reads, no multishot wake), epoll. A configuration whose
// create() returns UNAVAILABLE is skipped with the reason.
//
// What the fixture gives every test:
//   - a fresh proactor, created in SetUp (customize() may change the options);
//   - a completion log: one entry per callback (operation, status, time, order);
//   - ownership of everything an operation points at: operations, buffers,
//     semaphores, events, notifications and temporary files made through the
//     fixture are freed only after the proactor is destroyed, so a test that
//     fails half-way never frees memory the proactor still owns;
//   - TearDown drains, destroys the proactor (which cancels what is left),
//     frees the resources, and checks that the process holds exactly the file
//     descriptors it held before SetUp (no leaked ring, eventfd or file).
//
// Synchronization: no sleeps. poll_until(done) passes its own deadline to
// poll(), so it returns as soon as a callback runs; a completion the proactor
// fails to deliver, or a cross-thread submit/cancel/set/signal that fails to
// wake a sleeping poll, shows up as a timeout failure, not as a slow pass.
// Predicates that depend on other threads (not on callbacks) use a std::mutex
// and condition variable (handshake below).
//
// Threads: the test's main thread is the poll owner (it polls first).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "weft/base/result.hpp"
#include "weft/base/status.hpp"
#include "weft/deadline.hpp"
#include "weft/io/event.hpp"
#include "weft/io/notification.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/proactor.hpp"
#include "weft/io/semaphore.hpp"

namespace weft::io::cts {

using namespace std::chrono_literals;

struct backend_config {
  const char* name;
  backend_kind kind;
  std::uint32_t allowed_capabilities;
};

// Test names and failure messages print the configuration's name.
inline void PrintTo(const backend_config& config, std::ostream* out) { *out << config.name; }

inline constexpr std::uint32_t minimal_uring_capabilities =
    capability::kernel_ring | capability::single_issuer | capability::defer_taskrun;

std::vector<backend_config> all_configs();
// all_configs() plus io_uring_kernel_reads (every capability but nowait_reads),
// for the file suites: with nowait_reads a page-cached read runs inline on the
// poll thread and never reaches the ring's READ path.
std::vector<backend_config> file_configs();
std::string config_name(const ::testing::TestParamInfo<backend_config>& info);

// Iteration counts for loops: full in the default build, smaller under the
// sanitizers (TSAN runs these paths 5-15x slower).
int iterations(int normal);

// The content of test files: a pattern that differs between neighbouring
// offsets and repeats only every 251 bytes.
inline std::byte byte_at(std::uint64_t offset) { return static_cast<std::byte>((offset * 131 + 7) % 251); }

// Number of open file descriptors of this process.
int count_open_fds();

// One callback, as the completion log saw it.
struct completion {
  operation* op = nullptr;
  status result;
  std::int64_t at_ns = 0;  // CLOCK_MONOTONIC, when the callback ran
};

// Records every callback it is given. record() is the callback; it is called
// on the poll thread, the accessors may be called from any thread.
class completion_log {
 public:
  static void record(void* self, operation& op, status result);

  std::size_t size() const;
  std::size_t count(const operation& op) const;
  // The status of op's one callback (INTERNAL "no callback" if none).
  status result(const operation& op) const;
  // When op's first callback ran (0 if none).
  std::int64_t time_of(const operation& op) const;
  // The operations in callback order.
  std::vector<const operation*> order() const;
  std::vector<completion> entries() const;

 private:
  mutable std::mutex mutex_;
  std::vector<completion> entries_;
};

// A flag one thread raises and another waits for (with a deadline).
class handshake {
 public:
  void raise();
  bool wait(std::chrono::milliseconds budget = 10s);
  bool raised() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

class proactor_cts : public ::testing::TestWithParam<backend_config> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Override to change the options before create().
  virtual void customize(proactor_options& options) { static_cast<void>(options); }

  proactor& io() { return *proactor_; }
  const backend_config& config() const { return GetParam(); }
  bool is_uring() const { return GetParam().kind == backend_kind::io_uring; }

  // A fixture-owned operation whose callback records into `log`.
  template <class Op>
  Op& make() {
    auto owned = std::make_shared<Op>();
    owned->on_complete = &completion_log::record;
    owned->user_data = &log;
    Op& op = *owned;
    owned_.push_back(std::move(owned));
    return op;
  }
  // The same, aimed at `target` (event and notification operations):
  //   auto& wait = make<event_wait_op>(ready.get());
  template <class Op, class Target>
  Op& make(Target* target) {
    Op& op = make<Op>();
    op.target = target;
    return op;
  }
  // A fixture-owned semaphore operation on semaphores[i] for values[i]; the
  // fixture owns copies of both lists (a test may still point the operation
  // at lists of its own).
  semaphore_wait_op& make_semaphore_wait(std::initializer_list<semaphore*> semaphores,
                                         std::initializer_list<std::uint64_t> values, wait_mode mode = wait_mode::all);
  semaphore_signal_op& make_semaphore_signal(std::initializer_list<semaphore*> semaphores,
                                             std::initializer_list<std::uint64_t> values);
  std::span<std::byte> make_buffer(std::size_t size, std::byte fill = std::byte{0});
  semaphore& make_semaphore(std::uint64_t initial = 0);
  event_ptr make_event();
  notification_ptr make_notification();

  // A path in this test's private temporary directory (under $TMPDIR or
  // /tmp); the directory and everything in it is removed in TearDown.
  std::string temp_path(const std::string& name);
  // Creates `path` with `size` bytes of the pattern byte_at(i) and returns an
  // fd opened O_RDWR (owned by the fixture: closed in TearDown).
  int make_file(const std::string& name, std::size_t size);
  int adopt_fd(int fd);  // closed in TearDown (unless the test closed it through the proactor: forget_fd)
  void forget_fd(int fd);

  // Polls until done() holds or the budget runs out; poll's deadline is the
  // budget's end, so it returns as soon as any callback ran. False on timeout
  // (or a poll error, which is also reported as a failure).
  bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds budget = 10s);
  // Polls until `op`'s callback number `nth` (counting from the first since
  // SetUp) ran and returns that callback's status. A timeout (after `budget`)
  // or a poll error fails the test and returns DEADLINE_EXCEEDED; more than
  // `nth` callbacks (two for one submission) fails the test too.
  status await_callback(const operation& op, std::size_t nth = 1, std::chrono::milliseconds budget = 10s);
  // Submits `op` and awaits the callback of this submission:
  //   WEFT_EXPECT_CODE(submit_and_await(wait), status_code::ok);
  // A refused submit fails the test and is returned as the status.
  status submit_and_await(operation& op, std::chrono::milliseconds budget = 10s);
  // Polls for `span` of wall time and returns how many callbacks ran.
  std::size_t poll_for(std::chrono::milliseconds span);
  // Destroys the proactor now (from the poll thread).
  void destroy_proactor() { proactor_.reset(); }
  // Submits every op of `ops` as one batch.
  status submit_batch(std::initializer_list<operation*> ops);

  completion_log log;
  std::unique_ptr<proactor> proactor_;

 private:
  int fds_before_ = 0;
  std::vector<std::shared_ptr<void>> owned_;
  std::deque<semaphore> semaphores_;
  std::deque<std::vector<semaphore*>> semaphore_lists_;  // the lists make_semaphore_wait/_signal copied
  std::deque<std::vector<std::uint64_t>> value_lists_;
  std::vector<event_ptr> events_;
  std::vector<notification_ptr> notifications_;
  std::vector<int> fds_;
  std::string temp_dir_;
};

// Declares the fixture `suite` and instantiates it over every configuration
// (WEFT_CTS_SUITE_OVER: over the configurations `configs()` returns).
#define WEFT_CTS_SUITE_OVER(suite, configs)                                                      \
  class suite : public ::weft::io::cts::proactor_cts {};                                        \
  INSTANTIATE_TEST_SUITE_P(cts, suite, ::testing::ValuesIn(configs()), ::weft::io::cts::config_name)
#define WEFT_CTS_SUITE(suite) WEFT_CTS_SUITE_OVER(suite, ::weft::io::cts::all_configs)

// Expects a status code, printing the whole status on failure.
#define WEFT_EXPECT_CODE(expr, expected_code)             \
  do {                                                    \
    const ::weft::status weft_cts_status_ = (expr);       \
    EXPECT_EQ(weft_cts_status_.code(), (expected_code)) << weft_cts_status_; \
  } while (false)
#define WEFT_ASSERT_OK(expr)                             \
  do {                                                   \
    const ::weft::status weft_cts_status_ = (expr);      \
    ASSERT_TRUE(weft_cts_status_.is_ok()) << weft_cts_status_; \
  } while (false)

}  // namespace weft::io::cts
