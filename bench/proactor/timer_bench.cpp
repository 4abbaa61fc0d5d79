// Timer lateness: how long after its deadline a timer's completion is seen.
// One thread (pinned to CPU 0) arms one timer at a time, `ahead` after now on
// CLOCK_MONOTONIC, blocks until it fires, and records (time seen − deadline).
// One iteration = one timer; p50 / p99 / mean of the lateness per repetition.
// A timer seen before its deadline fails the repetition.
//
// io_timer/<row>/ahead:{100us,1ms}
//   clock_nanosleep    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME): the floor
//                      (subject to the thread's timer slack, 50 µs by default)
//   timerfd_epoll      a timerfd (TFD_TIMER_ABSTIME) in an epoll set, epoll_wait(-1)
//   liburing_timeout   IORING_OP_TIMEOUT with IORING_TIMEOUT_ABS, submit_and_wait(1)
//   weft_uring         weft::io::timer_op on the io_uring backend; time taken in the callback
//   weft_epoll         the same on the epoll backend
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "proactor/common.hpp"

namespace weft::bench {
namespace {

constexpr std::int64_t warmup_timers = 5;

timespec to_timespec(std::int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// Runs `fire(deadline_ns, why)` (returns the time the timer was seen, or -1)
// for every iteration and reports the lateness.
template <class Fire>
void measure(benchmark::State& state, std::int64_t ahead_ns, Fire fire) {
  std::string why;
  for (std::int64_t i = 0; i < warmup_timers; ++i) {
    if (fire(monotonic_now_ns() + ahead_ns, why) < 0) return fail(state, why);
  }
  latency_samples samples(static_cast<std::size_t>(state.max_iterations));
  std::int64_t early = 0;
  record_probe(state, "probe_before_ns");
  for (auto _ : state) {
    const std::int64_t target = monotonic_now_ns() + ahead_ns;
    const std::int64_t seen = fire(target, why);
    if (seen < 0) return fail(state, why);
    if (seen < target) ++early;
    samples.add(seen - target);
  }
  record_probe(state, "probe_after_ns");
  if (early > 0) return fail(state, std::to_string(early) + " timers completed before their deadline");
  samples.report(state);
  state.counters["ahead_ns"] = static_cast<double>(ahead_ns);
}

void run_nanosleep(benchmark::State& state, std::int64_t ahead_ns) {
  scoped_pin pin(consumer_cpu);
  measure(state, ahead_ns, [](std::int64_t target, std::string& why) -> std::int64_t {
    const timespec when = to_timespec(target);
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr)) == EINTR) {
    }
    if (rc != 0) {
      why = "clock_nanosleep: errno " + std::to_string(rc);
      return -1;
    }
    return monotonic_now_ns();
  });
}

void run_timerfd(benchmark::State& state, std::int64_t ahead_ns) {
  scoped_pin pin(consumer_cpu);
  const int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  const int poller = epoll_create1(EPOLL_CLOEXEC);
  epoll_event interest{};
  interest.events = EPOLLIN;
  if (timer < 0 || poller < 0 || epoll_ctl(poller, EPOLL_CTL_ADD, timer, &interest) != 0) {
    fail(state, "cannot set up a timerfd in an epoll set: errno " + std::to_string(errno));
  } else {
    measure(state, ahead_ns, [&](std::int64_t target, std::string& why) -> std::int64_t {
      itimerspec spec{};
      spec.it_value = to_timespec(target);
      if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
        why = "timerfd_settime: errno " + std::to_string(errno);
        return -1;
      }
      epoll_event ready{};
      int n;
      while ((n = epoll_wait(poller, &ready, 1, -1)) < 0 && errno == EINTR) {
      }
      const std::int64_t seen = monotonic_now_ns();
      std::uint64_t expirations = 0;
      if (n != 1 || read(timer, &expirations, sizeof expirations) != sizeof expirations || expirations != 1) {
        why = "the timerfd did not report one expiration";
        return -1;
      }
      return seen;
    });
  }
  if (poller >= 0) close(poller);
  if (timer >= 0) close(timer);
}

void run_liburing(benchmark::State& state, std::int64_t ahead_ns) {
  scoped_pin pin(consumer_cpu);
  std::string why;
  raw_ring ring;
  if (!ring.init(8, why)) return fail(state, why);
  io_uring* r = ring.get();
  __kernel_timespec when{};
  measure(state, ahead_ns, [&](std::int64_t target, std::string& error) -> std::int64_t {
    when.tv_sec = target / 1'000'000'000;
    when.tv_nsec = target % 1'000'000'000;
    io_uring_sqe* sqe = io_uring_get_sqe(r);
    io_uring_prep_timeout(sqe, &when, 0, IORING_TIMEOUT_ABS);
    io_uring_cqe* cqe = nullptr;
    // The wait inside submit_and_wait can end early (an interrupted wait still
    // returns the submitted count); wait_cqe then finishes it, without a system
    // call when the CQE is already there.
    int rc = io_uring_submit_and_wait(r, 1);
    while (rc >= 0 && (rc = io_uring_wait_cqe(r, &cqe)) == -EINTR) {
    }
    const std::int64_t seen = monotonic_now_ns();
    if (rc < 0 || cqe->res != -ETIME) {
      error = "the io_uring timeout did not complete with -ETIME (" + std::to_string(rc) + ")";
      return -1;
    }
    io_uring_cqe_seen(r, cqe);
    return seen;
  });
}

struct timer_slot {
  io::timer_op op;
  std::uint64_t done = 0;
  std::int64_t seen = 0;
  status result;
};

void on_timer(void* user, io::operation&, status result) {
  auto& slot = *static_cast<timer_slot*>(user);
  slot.seen = monotonic_now_ns();
  slot.result = std::move(result);
  ++slot.done;
}

void run_weft(benchmark::State& state, weft_config config, std::int64_t ahead_ns) {
  scoped_pin pin(consumer_cpu);
  std::string why;
  auto proactor = make_proactor(config.kind, config.allowed, why);
  if (!proactor) return fail(state, why);
  timer_slot slot;
  slot.op.on_complete = on_timer;
  slot.op.user_data = &slot;
  const deadline give_up = repetition_give_up();
  measure(state, ahead_ns, [&](std::int64_t target, std::string& error) -> std::int64_t {
    slot.op.when = deadline::at(target);
    if (const status s = proactor->submit(slot.op); !s.is_ok()) {
      error = "submit: " + s.to_string();
      return -1;
    }
    if (!poll_until(*proactor, slot.done, slot.done + 1, give_up, error)) return -1;
    if (!slot.result.is_ok()) {
      error = "the timer completed with " + slot.result.to_string();
      return -1;
    }
    return slot.seen;
  });
}

const bool registered = [] {
  struct ahead {
    const char* name;
    std::int64_t ns;
    std::int64_t timers;
  };
  const weft_config weft_rows[] = {
      {"weft_uring", io::backend_kind::io_uring, io::capability::all},
      {"weft_epoll", io::backend_kind::epoll, io::capability::all},
  };
  for (const ahead& a : {ahead{"100us", 100'000, 1000}, ahead{"1ms", 1'000'000, 200}}) {
    const std::string variant = std::string("/ahead:") + a.name;
    const std::int64_t ns = a.ns;
    auto add = [&](const std::string& row, auto body) {
      benchmark::RegisterBenchmark(("io_timer/" + row + variant).c_str(), body)
          ->Iterations(scaled_iterations(a.timers))
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    };
    add("clock_nanosleep", [ns](benchmark::State& state) { run_nanosleep(state, ns); });
    add("timerfd_epoll", [ns](benchmark::State& state) { run_timerfd(state, ns); });
    add("liburing_timeout", [ns](benchmark::State& state) { run_liburing(state, ns); });
    for (const weft_config& config : weft_rows) {
      add(config.row, [config, ns](benchmark::State& state) { run_weft(state, config, ns); });
    }
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
