// What the proactor benchmarks share: the page-cached file the read rows read,
// the fixed-seed offset sequence, a plain liburing ring for the raw peers, a
// weft proactor made with an exact backend, and a poll loop with a give-up
// time (a lost completion fails the repetition instead of hanging the run).
//
//   std::string why;
//   const page_cached_file* file = page_cached_file::get(why);   // once per process
//   block_sequence blocks(file->blocks());                      // same offsets for every row
//   raw_ring ring;  ring.init(64, why);                          // SINGLE_ISSUER | DEFER_TASKRUN
//   auto proactor = make_proactor(io::backend_kind::io_uring, io::capability::all, why);
//
// Quick mode (environment WEFT_BENCH_QUICK=1): a 4 MiB file and a tenth of
// the iterations, for a smoke run that checks every row still works; the
// figures it prints mean nothing.
//
// Thread safety: page_cached_file::get from any thread (it is made once);
// every other object belongs to the thread that made it (the raw ring to the
// one thread that may submit to it).
#pragma once

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "harness/harness.hpp"
#include "weft/deadline.hpp"
#include "weft/io/proactor.hpp"

namespace weft::bench {

bool quick_mode() noexcept;

// `full` iterations, or a tenth of them (at least 1) in quick mode.
std::int64_t scaled_iterations(std::int64_t full) noexcept;

// A file of 4 KiB blocks in $TMPDIR (or /tmp), unlinked as soon as it is
// open (nothing is left behind), each block stamped with its index, and read
// once so that the page cache holds it.
class page_cached_file {
 public:
  static constexpr std::size_t block_size = 4096;

  // The process's one file, made on first use (64 MiB; 4 MiB in quick mode).
  // Null, with `why` filled, if it cannot be made.
  static const page_cached_file* get(std::string& why);

  int fd() const noexcept { return fd_; }
  std::uint64_t blocks() const noexcept { return blocks_; }
  // Reads the whole file (1 MiB preads) so that its pages are cached before a
  // repetition starts, whatever happened to the cache since. False on error.
  bool warm() const noexcept;
  // True if `data` (one block) holds the stamp of block `index`.
  static bool holds(const std::byte* data, std::uint64_t index) noexcept;

  page_cached_file(const page_cached_file&) = delete;
  page_cached_file& operator=(const page_cached_file&) = delete;
  ~page_cached_file();

 private:
  page_cached_file() = default;
  int fd_ = -1;
  std::uint64_t blocks_ = 0;
};

// Block indices in [0, blocks) from a fixed-seed xorshift64*, so every row
// reads the same offsets in the same order. `blocks` is a power of two.
class block_sequence {
 public:
  explicit block_sequence(std::uint64_t blocks) noexcept : mask_(blocks - 1) {}
  std::uint64_t next() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return (state_ * 0x2545F4914F6CDD1Dull >> 20) & mask_;
  }

 private:
  std::uint64_t mask_;
  std::uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

// A 4 KiB-aligned buffer of one block per slot.
class block_buffers {
 public:
  explicit block_buffers(std::size_t slots);
  std::byte* slot(std::size_t index) noexcept { return memory_.get() + index * page_cached_file::block_size; }

 private:
  struct aligned_free {
    void operator()(std::byte* p) const noexcept;
  };
  std::unique_ptr<std::byte, aligned_free> memory_;
};

// The raw liburing peer's ring, set up the way a careful user would for one
// thread that submits and reaps: SINGLE_ISSUER | DEFER_TASKRUN (the thread that
// calls init() is the issuer). No registered files or buffers: the weft rows
// do not register them either.
class raw_ring {
 public:
  raw_ring() = default;
  raw_ring(const raw_ring&) = delete;
  raw_ring& operator=(const raw_ring&) = delete;
  ~raw_ring();
  bool init(unsigned entries, std::string& why);
  io_uring* get() noexcept { return &ring_; }

 private:
  io_uring ring_{};
  bool ready_ = false;
};

// A proactor on exactly `kind` (no silent fallback) with `allowed`
// capabilities. Null, with `why` filled, if that is not what the machine gives.
std::unique_ptr<io::proactor> make_proactor(io::backend_kind kind, std::uint32_t allowed, std::string& why);

// Polls until `done` reaches `target`. False, with `why` filled, if poll()
// fails or `give_up` passes first.
bool poll_until(io::proactor& proactor, const std::uint64_t& done, std::uint64_t target, deadline give_up,
                std::string& why);

// A generous give-up time for one repetition: a run that gets here lost a
// completion.
inline deadline repetition_give_up() noexcept { return deadline::after(std::int64_t{30'000'000'000}); }

// The rows of the weft proactor, by backend and capabilities.
struct weft_config {
  const char* row;
  io::backend_kind kind;
  std::uint32_t allowed;
};

}  // namespace weft::bench
