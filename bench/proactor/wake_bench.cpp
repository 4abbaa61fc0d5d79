// Cross-thread submit latency: a producer thread (CPU 1) starts work for a
// poll thread (the benchmark thread, CPU 0) that is blocked in the kernel with
// no timeout; the sample is the time from just before the producer's call to
// the moment the poll thread sees the result (the weft rows: inside the
// completion callback). One iteration = one sample; p50 / p99 / mean.
//
// Each round: the poll thread publishes "round r armed" and blocks; the
// producer sees it, busy-waits 100 µs (so the poll thread is asleep in the
// kernel, its vCPU possibly halted: the case a proactor's wake path exists
// for), stamps the time and makes its one call. The poll thread checks that
// what woke it is round r's call (an early or missing wake fails the
// repetition). 20 untimed rounds first.
//
// io_wake/<row>/cross_cpu
//   eventfd_epoll        the floor: write(eventfd) → epoll_wait(-1) returns
//   eventfd_uring_poll   write(eventfd) → a POLL_ADD CQE ends io_uring_submit_and_wait(1)
//                        (SINGLE_ISSUER | DEFER_TASKRUN ring; what weft's io_uring wake rides on)
//   weft_uring_nop       proactor::submit(nop) from the producer → the nop's callback,
//                        poll thread in poll(infinite), io_uring backend
//   weft_epoll_nop       the same, epoll backend
//   weft_uring_event     event::set() from the producer → an event_wait_op's callback
//   weft_epoll_event     the same, epoll backend
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <type_traits>

#include "proactor/common.hpp"
#include "weft/io/event.hpp"

namespace weft::bench {
namespace {

constexpr std::uint32_t warmup_rounds = 20;
constexpr std::int64_t samples_per_repetition = 500;
constexpr std::int64_t producer_gap_ns = 100'000;
constexpr std::int64_t give_up_ns = 10'000'000'000;

// What the two threads share. Bench code: plain atomics are fine here.
struct handshake {
  alignas(line_size) std::atomic<std::uint32_t> armed_round{0};  // poll thread → producer
  alignas(line_size) std::atomic<std::int64_t> sent_ns{0};       // producer → poll thread
  std::atomic<std::uint32_t> sent_round{0};
  std::atomic<bool> stop{false};
};

// ------------------------------------------------------------------ rows
// setup(why) on the poll thread; trigger() on the producer; wait_round(r,
// seen_ns, why) on the poll thread blocks until round r's trigger was seen and
// says when; unblock() on the producer when it gives up.

class eventfd_epoll_row {
 public:
  ~eventfd_epoll_row() {
    if (poller_ >= 0) close(poller_);
    if (fd_ >= 0) close(fd_);
  }
  bool setup(std::string& why) {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    poller_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event interest{};
    interest.events = EPOLLIN;
    if (fd_ < 0 || poller_ < 0 || epoll_ctl(poller_, EPOLL_CTL_ADD, fd_, &interest) != 0) {
      why = "cannot set up an eventfd in an epoll set: errno " + std::to_string(errno);
      return false;
    }
    return true;
  }
  void trigger() { write_one(); }
  void unblock() { write_one(); }
  bool wait_round(std::uint32_t, std::int64_t& seen_ns, std::string& why) {
    epoll_event ready{};
    int n;
    while ((n = epoll_wait(poller_, &ready, 1, -1)) < 0 && errno == EINTR) {
    }
    seen_ns = monotonic_now_ns();
    std::uint64_t count = 0;
    if (n != 1 || read(fd_, &count, sizeof count) != sizeof count) {
      why = "epoll_wait woke without a readable eventfd";
      return false;
    }
    return true;
  }

 private:
  void write_one() {
    const std::uint64_t one = 1;
    if (write(fd_, &one, sizeof one) != sizeof one) {
      // Cannot happen below 2^64 - 1 pending; the poll thread would notice the missing wake.
    }
  }
  int fd_ = -1;
  int poller_ = -1;
};

class eventfd_uring_row {
 public:
  ~eventfd_uring_row() {
    if (fd_ >= 0) close(fd_);
  }
  bool setup(std::string& why) {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) {
      why = "eventfd: errno " + std::to_string(errno);
      return false;
    }
    if (!ring_.init(8, why)) return false;
    arm();
    return true;
  }
  void trigger() { write_one(); }
  void unblock() { write_one(); }
  bool wait_round(std::uint32_t, std::int64_t& seen_ns, std::string& why) {
    io_uring_cqe* cqe = nullptr;
    // As in the timer peer: wait_cqe finishes a wait that ended early.
    int rc = io_uring_submit_and_wait(ring_.get(), 1);
    while (rc >= 0 && (rc = io_uring_wait_cqe(ring_.get(), &cqe)) == -EINTR) {
    }
    seen_ns = monotonic_now_ns();
    if (rc < 0 || cqe->res < 0 || !(cqe->res & POLLIN)) {
      why = "the eventfd's POLL_ADD did not complete with POLLIN";
      return false;
    }
    io_uring_cqe_seen(ring_.get(), cqe);
    std::uint64_t count = 0;
    if (read(fd_, &count, sizeof count) != sizeof count) {
      why = "the eventfd was not readable after its POLL_ADD fired";
      return false;
    }
    arm();  // goes to the kernel with the next wait's submit
    return true;
  }

 private:
  void arm() {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    io_uring_prep_poll_add(sqe, fd_, POLLIN);
  }
  void write_one() {
    const std::uint64_t one = 1;
    if (write(fd_, &one, sizeof one) != sizeof one) {
      // See eventfd_epoll_row.
    }
  }
  int fd_ = -1;
  raw_ring ring_;
};

// A weft proactor whose poll thread waits in poll(infinite); the producer
// submits a nop, or sets an event that an event_wait_op waits on.
class weft_row {
 public:
  weft_row(weft_config config, bool use_event) : config_(config), use_event_(use_event) {}
  ~weft_row() {
    // Destroyed on the poll thread; an event wait still in flight completes CANCELLED.
    proactor_.reset();
  }
  bool setup(std::string& why) {
    proactor_ = make_proactor(config_.kind, config_.allowed, why);
    if (!proactor_) return false;
    nop_.on_complete = on_done;
    nop_.user_data = this;
    if (use_event_) {
      auto made = io::event::create();
      if (!made.ok()) {
        why = "cannot create an event: " + made.status().to_string();
        return false;
      }
      event_ = std::move(made.value());
      wait_.target = event_.get();
      wait_.on_complete = on_done;
      wait_.user_data = this;
      if (const status s = proactor_->submit(wait_); !s.is_ok()) {
        why = "submit(event_wait): " + s.to_string();
        return false;
      }
    }
    return true;
  }
  void trigger() {
    const status s = use_event_ ? event_->set() : proactor_->submit(nop_);
    if (!s.is_ok()) trigger_failed_.store(true, std::memory_order_relaxed);
  }
  void unblock() { proactor_->wake(); }
  bool wait_round(std::uint32_t round, std::int64_t& seen_ns, std::string& why) {
    while (done_ < round) {
      auto polled = proactor_->poll(deadline::infinite());
      if (!polled.ok()) {
        why = "poll: " + polled.status().to_string();
        return false;
      }
      if (polled.value() == 0 && stop_requested_ != nullptr && stop_requested_->load(std::memory_order_acquire)) {
        why = "the producer gave up";
        return false;
      }
    }
    seen_ns = seen_ns_;
    if (done_ != round || bad_ || trigger_failed_.load(std::memory_order_relaxed)) {
      why = "a completion failed, repeated, or the producer's call failed: " + first_error_;
      return false;
    }
    return true;
  }
  void watch_stop(const std::atomic<bool>* stop) { stop_requested_ = stop; }

 private:
  static void on_done(void* user, io::operation&, status result) {
    auto& row = *static_cast<weft_row*>(user);
    row.seen_ns_ = monotonic_now_ns();
    ++row.done_;
    if (!result.is_ok() && !row.bad_) {
      row.bad_ = true;
      row.first_error_ = result.to_string();
    }
    // Re-arm the wait before the poll thread publishes the next round.
    if (row.use_event_ && result.is_ok()) {
      if (const status s = row.proactor_->submit(row.wait_); !s.is_ok() && !row.bad_) {
        row.bad_ = true;
        row.first_error_ = s.to_string();
      }
    }
  }

  weft_config config_;
  bool use_event_;
  std::unique_ptr<io::proactor> proactor_;
  io::nop_op nop_;
  io::event_ptr event_;
  io::event_wait_op wait_;
  std::uint64_t done_ = 0;  // poll thread only
  std::int64_t seen_ns_ = 0;
  bool bad_ = false;
  std::string first_error_;
  std::atomic<bool> trigger_failed_{false};
  const std::atomic<bool>* stop_requested_ = nullptr;
};

template <class Row>
void run_cross_thread(benchmark::State& state, Row& row) {
  scoped_pin pin(consumer_cpu);
  std::string why;
  if (!row.setup(why)) return fail(state, why);
  handshake shake;
  if constexpr (std::is_same_v<Row, weft_row>) row.watch_stop(&shake.stop);
  // Before the producer starts: the probe's helper thread needs CPU 1 to itself.
  record_probe(state, "probe_before_ns");
  const std::uint32_t total = warmup_rounds + static_cast<std::uint32_t>(state.max_iterations);
  pinned_thread producer(producer_cpu, [&] {
    for (std::uint32_t round = 1; round <= total; ++round) {
      const std::int64_t give_up = now_ns() + give_up_ns;
      while (shake.armed_round.load(std::memory_order_acquire) < round) {
        if (now_ns() > give_up || shake.stop.load(std::memory_order_relaxed)) {
          shake.stop.store(true, std::memory_order_release);
          row.unblock();
          return;
        }
      }
      if (shake.stop.load(std::memory_order_acquire)) return;
      const std::int64_t until = now_ns() + producer_gap_ns;
      while (now_ns() < until) {
      }
      shake.sent_ns.store(now_ns(), std::memory_order_relaxed);
      shake.sent_round.store(round, std::memory_order_release);
      row.trigger();
    }
  });

  latency_samples samples(static_cast<std::size_t>(state.max_iterations));
  std::uint32_t round = 0;
  auto one_round = [&](bool record) -> bool {
    ++round;
    shake.armed_round.store(round, std::memory_order_release);
    std::int64_t seen = 0;
    if (!row.wait_round(round, seen, why)) return false;
    if (shake.sent_round.load(std::memory_order_acquire) != round) {
      why = "the poll thread woke before round " + std::to_string(round) + "'s call";
      return false;
    }
    if (record) samples.add(seen - shake.sent_ns.load(std::memory_order_relaxed));
    return true;
  };
  bool ok = true;
  for (std::uint32_t i = 0; i < warmup_rounds && ok; ++i) ok = one_round(false);
  for (auto _ : state) {
    if (!ok || !(ok = one_round(true))) break;
  }
  if (!ok) {
    shake.stop.store(true, std::memory_order_release);
    shake.armed_round.store(total + 1, std::memory_order_release);
  }
  producer.join();
  if (!producer.pinned_ok()) return fail(state, "cannot pin the producer thread");
  if (!ok) return fail(state, why);
  record_probe(state, "probe_after_ns");
  samples.report(state);
}

template <class Make>
void register_row(const char* row, Make make) {
  benchmark::RegisterBenchmark((std::string("io_wake/") + row + "/cross_cpu").c_str(),
                               [make](benchmark::State& state) {
                                 auto made = make();
                                 run_cross_thread(state, *made);
                               })
      ->Iterations(scaled_iterations(samples_per_repetition))
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  register_row("eventfd_epoll", [] { return std::make_unique<eventfd_epoll_row>(); });
  register_row("eventfd_uring_poll", [] { return std::make_unique<eventfd_uring_row>(); });
  const weft_config uring{"weft_uring", io::backend_kind::io_uring, io::capability::all};
  const weft_config epoll{"weft_epoll", io::backend_kind::epoll, io::capability::all};
  register_row("weft_uring_nop", [uring] { return std::make_unique<weft_row>(uring, false); });
  register_row("weft_epoll_nop", [epoll] { return std::make_unique<weft_row>(epoll, false); });
  register_row("weft_uring_event", [uring] { return std::make_unique<weft_row>(uring, true); });
  register_row("weft_epoll_event", [epoll] { return std::make_unique<weft_row>(epoll, true); });
  return true;
}();

}  // namespace
}  // namespace weft::bench
