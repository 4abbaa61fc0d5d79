// 4 KiB reads from a file in the page cache: the case where the kernel has the
// data already and the question is only what reaching it costs. A 64 MiB file
// (page_cached_file), random aligned 4 KiB offsets from one fixed-seed
// sequence (every row reads the same blocks in the same order), every block's
// stamp checked. One thread, pinned to CPU 0. One iteration = 1024 reads
// (items_per_iteration); ops/s = 1e9 / ns per read.
//
// io_read4k/<row>/qd:{1,32}
//   pread                 a pread loop (qd:32 and qd:1 are the same loop: a
//                         synchronous call has no queue depth; both are run
//                         so that each depth has its own measurement)
//   liburing              the peer: qd reads kept in flight; io_uring_submit_and_wait(1),
//                         then every ready CQE is checked and its slot refilled
//                         (get_sqe + prep_read); at qd:1 one read per submit_and_wait
//   weft_uring            the proactor on io_uring, default capabilities: the
//                         core may read inline (preadv2 RWF_NOWAIT) when the
//                         nowait_reads capability is on
//   weft_uring_no_nowait  the same with nowait_reads masked: every read is an
//                         io_uring READ
//   weft_epoll            the epoll backend, default capabilities (inline reads,
//                         else the file-I/O workers)
// The weft rows keep qd file_read_ops in flight; each callback checks its block
// and resubmits its op for the next offset.
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "proactor/common.hpp"

namespace weft::bench {
namespace {

constexpr std::uint64_t reads_per_iteration = 1024;
constexpr std::int64_t read_iterations = 32;

// Everything a read row needs before its timed loop; fails the repetition
// (returns null) if the file cannot be had.
const page_cached_file* prepare(benchmark::State& state) {
  std::string why;
  const page_cached_file* file = page_cached_file::get(why);
  if (file == nullptr) {
    fail(state, why);
    return nullptr;
  }
  if (!file->warm()) {
    fail(state, "cannot read the benchmark file to warm the page cache");
    return nullptr;
  }
  return file;
}

void finish(benchmark::State& state, std::uint32_t depth, std::uint64_t checked) {
  record_probe(state, "probe_after_ns");
  state.counters["items_per_iteration"] = static_cast<double>(reads_per_iteration);
  state.counters["queue_depth"] = depth;
  state.counters["checked_ops"] = static_cast<double>(checked);
}

off_t offset_of(std::uint64_t block) { return static_cast<off_t>(block * page_cached_file::block_size); }

void run_pread(benchmark::State& state, std::uint32_t depth) {
  scoped_pin pin(consumer_cpu);
  const page_cached_file* file = prepare(state);
  if (file == nullptr) return;
  block_buffers buffer(1);
  block_sequence blocks(file->blocks());
  auto run_round = [&] {
    bool ok = true;
    for (std::uint64_t i = 0; i < reads_per_iteration; ++i) {
      const std::uint64_t block = blocks.next();
      const ssize_t got = pread(file->fd(), buffer.slot(0), page_cached_file::block_size, offset_of(block));
      ok = ok && got == static_cast<ssize_t>(page_cached_file::block_size) &&
           page_cached_file::holds(buffer.slot(0), block);
    }
    return ok;
  };
  bool ok = run_round();  // untimed, like every row's first round
  record_probe(state, "probe_before_ns");
  std::uint64_t checked = 0;
  for (auto _ : state) {
    if (!ok || !(ok = run_round())) break;
    checked += reads_per_iteration;
  }
  if (!ok) return fail(state, "pread returned a short read or the wrong block");
  finish(state, depth, checked);
}

void run_liburing(benchmark::State& state, std::uint32_t depth) {
  scoped_pin pin(consumer_cpu);
  const page_cached_file* file = prepare(state);
  if (file == nullptr) return;
  std::string why;
  raw_ring ring;
  if (!ring.init(depth, why)) return fail(state, why);
  io_uring* r = ring.get();
  block_buffers buffers(depth);
  std::vector<std::uint64_t> slot_block(depth);
  block_sequence blocks(file->blocks());
  auto issue = [&](std::uint32_t slot) {
    slot_block[slot] = blocks.next();
    io_uring_sqe* sqe = io_uring_get_sqe(r);
    io_uring_prep_read(sqe, file->fd(), buffers.slot(slot), page_cached_file::block_size,
                       static_cast<std::uint64_t>(offset_of(slot_block[slot])));
    io_uring_sqe_set_data64(sqe, slot);
  };
  auto run_round = [&] {
    std::uint64_t issued = 0;
    std::uint64_t done = 0;
    bool ok = true;
    for (std::uint32_t slot = 0; slot < depth; ++slot, ++issued) issue(slot);
    while (done < reads_per_iteration) {
      const int rc = io_uring_submit_and_wait(r, 1);
      if (rc == -EINTR) continue;  // an interrupted wait: the loop waits again
      if (rc < 0) {
        why = "io_uring_submit_and_wait: " + std::to_string(rc);
        return false;
      }
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0;
      unsigned seen = 0;
      io_uring_for_each_cqe(r, head, cqe) {
        const auto slot = static_cast<std::uint32_t>(cqe->user_data);
        ok = ok && cqe->res == static_cast<int>(page_cached_file::block_size) &&
             page_cached_file::holds(buffers.slot(slot), slot_block[slot]);
        ++done;
        ++seen;
        if (issued < reads_per_iteration) {
          issue(slot);
          ++issued;
        }
      }
      io_uring_cq_advance(r, seen);
    }
    return ok;
  };
  bool ok = run_round();  // untimed, like every row's first round
  record_probe(state, "probe_before_ns");
  std::uint64_t checked = 0;
  for (auto _ : state) {
    if (!ok || !(ok = run_round())) break;
    checked += reads_per_iteration;
  }
  if (!ok) return fail(state, why.empty() ? "liburing: a read was short or returned the wrong block" : why);
  finish(state, depth, checked);
}

struct read_round;

struct read_slot {
  io::file_read_op op;
  std::uint64_t block = 0;
  read_round* round = nullptr;
};

// The state one weft repetition shares with its callbacks (poll thread only).
struct read_round {
  io::proactor* proactor = nullptr;
  block_sequence* blocks = nullptr;
  int fd = -1;
  std::uint64_t issued = 0;
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::uint64_t bad = 0;
  std::string first_error;

  // The caller owns `slot` (before its first submit, or in its callback).
  void issue(read_slot& slot) {
    slot.block = blocks->next();
    slot.op.fd = fd;
    slot.op.offset = static_cast<std::uint64_t>(offset_of(slot.block));
    slot.op.bytes_read = 0;
    ++issued;
    if (const status s = proactor->submit(slot.op); !s.is_ok()) note(s);
  }
  void note(const status& s) {
    if (bad++ == 0) first_error = s.to_string();
  }
};

void on_read(void* user, io::operation&, status result) {
  auto& slot = *static_cast<read_slot*>(user);
  read_round& round = *slot.round;
  ++round.done;
  if (!result.is_ok()) {
    round.note(result);
  } else if (slot.op.bytes_read != page_cached_file::block_size ||
             !page_cached_file::holds(slot.op.buffer.data(), slot.block)) {
    round.note(errors::internal("read " + std::to_string(slot.op.bytes_read) + " bytes of block " +
                                std::to_string(slot.block) + ", or the wrong block"));
  }
  if (round.issued < round.total) round.issue(slot);
}

void run_weft(benchmark::State& state, weft_config config, std::uint32_t depth) {
  scoped_pin pin(consumer_cpu);
  const page_cached_file* file = prepare(state);
  if (file == nullptr) return;
  std::string why;
  auto proactor = make_proactor(config.kind, config.allowed, why);
  if (!proactor) return fail(state, why);
  block_buffers buffers(depth);
  std::vector<read_slot> slots(depth);
  block_sequence blocks(file->blocks());
  read_round round;
  round.proactor = proactor.get();
  round.blocks = &blocks;
  round.fd = file->fd();
  for (std::uint32_t i = 0; i < depth; ++i) {
    slots[i].op.buffer = std::span<std::byte>(buffers.slot(i), page_cached_file::block_size);
    slots[i].op.on_complete = on_read;
    slots[i].op.user_data = &slots[i];
    slots[i].round = &round;
  }
  const deadline give_up = repetition_give_up();
  auto run_round = [&] {
    round.issued = 0;
    round.done = 0;
    round.total = reads_per_iteration;
    for (read_slot& slot : slots) round.issue(slot);
    return poll_until(*proactor, round.done, round.total, give_up, why) && round.bad == 0;
  };
  // One untimed round, like every row's (here the first poll also binds the
  // poll thread): every row then reads the same blocks in its timed rounds.
  bool ok = run_round();
  record_probe(state, "probe_before_ns");
  std::uint64_t checked = 0;
  for (auto _ : state) {
    if (!ok || !(ok = run_round())) break;
    checked += round.done;
  }
  if (!ok) return fail(state, why.empty() ? round.first_error : why);
  state.counters["capabilities"] = proactor->capabilities();
  finish(state, depth, checked);
}

const bool registered = [] {
  const weft_config weft_rows[] = {
      {"weft_uring", io::backend_kind::io_uring, io::capability::all},
      {"weft_uring_no_nowait", io::backend_kind::io_uring, io::capability::all & ~io::capability::nowait_reads},
      {"weft_epoll", io::backend_kind::epoll, io::capability::all},
  };
  for (std::uint32_t depth : {1u, 32u}) {
    const std::string variant = "/qd:" + std::to_string(depth);
    auto add = [&](const std::string& row, auto body) {
      benchmark::RegisterBenchmark(("io_read4k/" + row + variant).c_str(), body)
          ->Iterations(scaled_iterations(read_iterations))
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    };
    add("pread", [depth](benchmark::State& state) { run_pread(state, depth); });
    add("liburing", [depth](benchmark::State& state) { run_liburing(state, depth); });
    for (const weft_config& config : weft_rows) {
      add(config.row, [config, depth](benchmark::State& state) { run_weft(state, config, depth); });
    }
  }
  return true;
}();

}  // namespace
}  // namespace weft::bench
