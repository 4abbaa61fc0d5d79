// NOP throughput: what submitting an operation and getting its completion back
// costs, with nothing for the kernel to do. One thread submits and polls;
// pinned to CPU 0. One iteration = one batch (items_per_iteration = batch).
//
// io_nop/<row>/batch:{1,32}
//   liburing     the peer: io_uring_get_sqe + io_uring_prep_nop per op,
//                io_uring_submit_and_wait(batch), then io_uring_for_each_cqe +
//                io_uring_cq_advance; SINGLE_ISSUER | DEFER_TASKRUN ring
//   weft_uring   weft::io::proactor on io_uring: submit(op) or submit(span of
//                32), then poll() until every callback ran
//   weft_epoll   the same on the epoll backend (the nop completes in software)
// Every completion is checked (user_data / callback count); a missing or extra
// one fails the repetition.
#include <array>
#include <cerrno>
#include <string>

#include "proactor/common.hpp"

namespace weft::bench {
namespace {

constexpr std::uint32_t max_batch = 32;

std::int64_t nop_iterations(std::uint32_t batch) { return scaled_iterations(batch == 1 ? 100'000 : 5'000); }

void finish(benchmark::State& state, std::uint32_t batch, std::uint64_t checked) {
  record_probe(state, "probe_after_ns");
  state.counters["items_per_iteration"] = batch;
  state.counters["checked_ops"] = static_cast<double>(checked);
}

void run_liburing(benchmark::State& state, std::uint32_t batch) {
  scoped_pin pin(consumer_cpu);
  std::string why;
  raw_ring ring;
  if (!ring.init(2 * max_batch, why)) return fail(state, why);
  io_uring* r = ring.get();
  record_probe(state, "probe_before_ns");
  std::uint64_t submitted = 0;
  std::uint64_t reaped = 0;
  bool ok = true;
  for (auto _ : state) {
    for (std::uint32_t i = 0; i < batch; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(r);
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, ++submitted);
    }
    int rc = io_uring_submit_and_wait(r, batch);
    // NOPs complete while they are submitted; only the wait can be interrupted.
    while (rc == -EINTR) rc = io_uring_submit_and_wait(r, batch);
    if (rc < 0) {
      why = "io_uring_submit_and_wait: " + std::to_string(rc);
      ok = false;
      break;
    }
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(r, head, cqe) {
      // In order: NOPs complete as they are issued.
      ok = ok && cqe->res == 0 && cqe->user_data == reaped + 1;
      ++reaped;
      ++seen;
    }
    io_uring_cq_advance(r, seen);
    if (!ok) break;
  }
  if (!ok || reaped != submitted) {
    return fail(state, why.empty() ? "liburing: completions do not match submissions (" + std::to_string(reaped) +
                                         " of " + std::to_string(submitted) + ")"
                                   : why);
  }
  finish(state, batch, reaped);
}

struct nop_slot {
  io::nop_op op;
  std::uint64_t* done = nullptr;
  bool bad = false;
};

void on_nop(void* user, io::operation&, status result) {
  auto* slot = static_cast<nop_slot*>(user);
  if (!result.is_ok()) slot->bad = true;
  ++*slot->done;
}

void run_weft(benchmark::State& state, weft_config config, std::uint32_t batch) {
  scoped_pin pin(consumer_cpu);
  std::string why;
  auto proactor = make_proactor(config.kind, config.allowed, why);
  if (!proactor) return fail(state, why);
  std::uint64_t done = 0;
  std::array<nop_slot, max_batch> slots;
  std::array<io::operation*, max_batch> batch_ops{};
  for (std::uint32_t i = 0; i < max_batch; ++i) {
    slots[i].op.on_complete = on_nop;
    slots[i].op.user_data = &slots[i];
    slots[i].done = &done;
    batch_ops[i] = &slots[i].op;
  }
  const std::span<io::operation* const> ops(batch_ops.data(), batch);
  const deadline give_up = repetition_give_up();
  // One untimed batch: the first poll binds the poll thread (and enables the ring).
  std::uint64_t target = batch;
  bool ok = proactor->submit(ops).is_ok() && poll_until(*proactor, done, target, give_up, why);
  record_probe(state, "probe_before_ns");
  for (auto _ : state) {
    if (!ok) break;
    const status submitted = batch == 1 ? proactor->submit(slots[0].op) : proactor->submit(ops);
    if (!submitted.is_ok()) {
      why = "submit: " + submitted.to_string();
      ok = false;
      break;
    }
    target += batch;
    ok = poll_until(*proactor, done, target, give_up, why);
  }
  for (const nop_slot& slot : slots) ok = ok && !slot.bad;
  if (!ok || done != target) {
    return fail(state, why.empty() ? "a nop completed with an error or twice" : why);
  }
  finish(state, batch, done);
}

const bool registered = [] {
  const weft_config weft_rows[] = {
      {"weft_uring", io::backend_kind::io_uring, io::capability::all},
      {"weft_epoll", io::backend_kind::epoll, io::capability::all},
  };
  for (std::uint32_t batch : {1u, 32u}) {
    const std::string variant = "/batch:" + std::to_string(batch);
    benchmark::RegisterBenchmark(("io_nop/liburing" + variant).c_str(),
                                 [batch](benchmark::State& state) { run_liburing(state, batch); })
        ->Iterations(nop_iterations(batch))
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
    for (const weft_config& config : weft_rows) {
      benchmark::RegisterBenchmark((std::string("io_nop/") + config.row + variant).c_str(),
                                   [config, batch](benchmark::State& state) { run_weft(state, config, batch); })
          ->Iterations(nop_iterations(batch))
          ->UseRealTime()
          ->Unit(benchmark::kNanosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
