// file_io.hpp (errno mapping, transfer arithmetic, blocking and nowait runners)
// and file_workers.hpp (the worker pool), tested without the proactor core.
#include "file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "file_workers.hpp"
#include "test_files.hpp"

namespace {

using weft::status;
using weft::status_code;
using weft::io::file_close_op;
using weft::io::file_open_op;
using weft::io::file_read_op;
using weft::io::file_write_op;
using weft::io::max_transfer_bytes;
using weft::io::operation;
using weft::io::detail::advance;
using weft::io::detail::chunk;
using weft::io::detail::describe;
using weft::io::detail::next_chunk;
using weft::io::detail::nowait_outcome;
using weft::io::detail::op_access;
using weft::io::detail::run_blocking;
using weft::io::detail::status_from_errno;
using weft::io::detail::transfer_state;
using weft::io::detail::try_nowait_read;
using weft::io::test::fd_guard;
using weft::io::test::pattern;
using weft::io::test::pipe_pair;
using weft::io::test::temp_dir;
using weft::io::test::temp_file;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::uint64_t& progress_of(operation& op) { return op_access::internal(op).progress; }

// An address range of `size` bytes that is reserved but never touched, for the
// arithmetic of transfers larger than memory.
struct reserved_span {
  explicit reserved_span(std::size_t bytes) : size(bytes) {
    base = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    EXPECT_NE(base, MAP_FAILED);
  }
  ~reserved_span() {
    if (base != MAP_FAILED) ::munmap(base, size);
  }
  std::span<std::byte> span() const { return {static_cast<std::byte*>(base), size}; }
  void* base;
  std::size_t size;
};

// ---------------------------------------------------------------- errno mapping

TEST(StatusFromErrno, MapsCodesAndNamesTheOperation) {
  struct {
    int error_number;
    status_code code;
  } cases[] = {{EBADF, status_code::invalid_argument},
               {EINVAL, status_code::invalid_argument},
               {ENOENT, status_code::not_found},
               {EEXIST, status_code::already_exists},
               {EACCES, status_code::permission_denied},
               {EPERM, status_code::permission_denied},
               {ENOSPC, status_code::resource_exhausted},
               {ENOMEM, status_code::resource_exhausted},
               {EMFILE, status_code::resource_exhausted},
               {ECANCELED, status_code::cancelled},
               {EIO, status_code::data_loss},
               {EAGAIN, status_code::unavailable},
               {ETIME, status_code::deadline_exceeded},
               {ENOSYS, status_code::unimplemented}};
  for (const auto& c : cases) {
    const status s = status_from_errno(c.error_number, "file_read fd 57 offset 4096");
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_TRUE(contains(s.message(), "file_read fd 57 offset 4096: ")) << s;
    EXPECT_TRUE(contains(s.message(), "(errno " + std::to_string(c.error_number) + ")")) << s;
  }
  EXPECT_EQ(status_from_errno(EBADF, "file_read fd 57 offset 4096").message(),
            "file_read fd 57 offset 4096: Bad file descriptor (errno 9)");
}

TEST(StatusFromErrno, UnknownErrnoIsUnknownAndStillNamed) {
  const status s = status_from_errno(4000, "file_close fd 3");
  EXPECT_EQ(s.code(), status_code::unknown);
  EXPECT_TRUE(contains(s.message(), "file_close fd 3: ")) << s;
  EXPECT_TRUE(contains(s.message(), "(errno 4000)")) << s;
}

// ---------------------------------------------------------------- transfer arithmetic

TEST(TransferMath, ChunksOfFiveGibibytesAreClampedAndContinued) {
  constexpr std::size_t five_gib = std::size_t{5} << 30;
  reserved_span memory(five_gib);
  file_read_op read;
  read.fd = 3;
  read.offset = 100;
  read.buffer = memory.span();

  std::vector<std::size_t> lengths;
  std::uint64_t expected_offset = 100;
  auto* expected_data = static_cast<std::byte*>(memory.base);
  for (;;) {
    const chunk piece = next_chunk(read);
    ASSERT_EQ(piece.offset, expected_offset);
    ASSERT_EQ(piece.data, expected_data);
    ASSERT_LE(piece.length, max_transfer_bytes);
    lengths.push_back(piece.length);
    weft::result<transfer_state> step = advance(read, piece.length);
    ASSERT_TRUE(step.ok()) << step.status();
    expected_offset += piece.length;
    expected_data += piece.length;
    EXPECT_EQ(read.bytes_read, expected_offset - 100);
    if (*step == transfer_state::finished) break;
    ASSERT_LT(lengths.size(), 10u);
  }
  ASSERT_EQ(lengths.size(), 3u);
  EXPECT_EQ(lengths[0], max_transfer_bytes);
  EXPECT_EQ(lengths[1], max_transfer_bytes);
  EXPECT_EQ(lengths[2], five_gib - 2 * max_transfer_bytes);
  EXPECT_EQ(read.bytes_read, five_gib);
  EXPECT_EQ(next_chunk(read).length, 0u);
}

TEST(TransferMath, ExactlyFourGibibytesNeverAsksForZeroBytes) {
  constexpr std::size_t four_gib = std::size_t{4} << 30;
  reserved_span memory(four_gib);
  file_write_op write;
  write.fd = 3;
  write.buffer = memory.span();
  std::size_t chunks = 0;
  for (;;) {
    const chunk piece = next_chunk(write);
    ASSERT_GT(piece.length, 0u);
    ++chunks;
    weft::result<transfer_state> step = advance(write, piece.length);
    ASSERT_TRUE(step.ok()) << step.status();
    if (*step == transfer_state::finished) break;
  }
  EXPECT_EQ(chunks, 3u);  // 2 x 0x7FFFF000 + 8 KiB
  EXPECT_EQ(write.bytes_written, four_gib);
}

TEST(TransferMath, ShortTransfersContinueFromProgress) {
  std::vector<std::byte> buffer(1000);
  file_read_op read;
  read.offset = 4096;
  read.buffer = buffer;
  ASSERT_EQ(*advance(read, 300), transfer_state::incomplete);
  chunk piece = next_chunk(read);
  EXPECT_EQ(piece.offset, 4096u + 300);
  EXPECT_EQ(piece.length, 700u);
  EXPECT_EQ(piece.data, buffer.data() + 300);
  ASSERT_EQ(*advance(read, 1), transfer_state::incomplete);
  ASSERT_EQ(*advance(read, 699), transfer_state::finished);
  EXPECT_EQ(read.bytes_read, 1000u);
}

TEST(TransferMath, ProgressSetBeforehandIsWhereTheTransferResumes) {
  std::vector<std::byte> buffer(1000);
  file_write_op write;
  write.offset = 10;
  write.buffer = buffer;
  progress_of(write) = 600;  // e.g. after an inline read or a previous chunk
  const chunk piece = next_chunk(write);
  EXPECT_EQ(piece.offset, 610u);
  EXPECT_EQ(piece.length, 400u);
  ASSERT_EQ(*advance(write, 400), transfer_state::finished);
  EXPECT_EQ(write.bytes_written, 1000u);
}

TEST(TransferMath, ZeroByteReadIsEndOfFile) {
  std::vector<std::byte> buffer(1000);
  file_read_op read;
  read.buffer = buffer;
  ASSERT_EQ(*advance(read, 250), transfer_state::incomplete);
  weft::result<transfer_state> step = advance(read, 0);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, transfer_state::finished);
  EXPECT_EQ(read.bytes_read, 250u);
}

TEST(TransferMath, ZeroByteWriteWithBytesLeftIsAnError) {
  std::vector<std::byte> buffer(1000);
  file_write_op write;
  write.fd = 12;
  write.offset = 64;
  write.buffer = buffer;
  ASSERT_EQ(*advance(write, 200), transfer_state::incomplete);
  weft::result<transfer_state> step = advance(write, 0);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), status_code::data_loss);
  EXPECT_TRUE(contains(step.status().message(), "file_write fd 12 offset 64")) << step.status();
  EXPECT_TRUE(contains(step.status().message(), "800 bytes left")) << step.status();
  EXPECT_EQ(write.bytes_written, 200u);
  EXPECT_EQ(progress_of(write), 200u);
}

TEST(TransferMath, MoreBytesThanAskedIsRejectedAndNotRecorded) {
  std::vector<std::byte> buffer(100);
  file_read_op read;
  read.buffer = buffer;
  weft::result<transfer_state> step = advance(read, 101);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), status_code::internal);
  EXPECT_EQ(progress_of(read), 0u);
  EXPECT_EQ(read.bytes_read, 0u);
}

TEST(TransferMath, OtherOperationsHaveNoChunks) {
  weft::io::timer_op timer;
  EXPECT_EQ(next_chunk(timer).length, 0u);
  weft::result<transfer_state> step = advance(timer, 0);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), status_code::internal);
}

// ---------------------------------------------------------------- describe, open flags

TEST(Describe, NamesTheOperationAndItsFields) {
  std::vector<std::byte> buffer(65536);
  file_read_op read;
  read.fd = 5;
  read.offset = 4096;
  read.buffer = buffer;
  EXPECT_EQ(describe(read), "file_read fd 5 offset 4096 length 65536");
  progress_of(read) = 8192;
  EXPECT_EQ(describe(read), "file_read fd 5 offset 4096 length 65536, after 8192 bytes");

  file_open_op open;
  open.path = "/tmp/x";
  open.open_flags = weft::io::open_flag::read | weft::io::open_flag::write | weft::io::open_flag::create;
  EXPECT_EQ(describe(open), "file_open \"/tmp/x\" flags read|write|create");
  open.path = nullptr;
  open.open_flags = 1u << 20;
  EXPECT_EQ(describe(open), "file_open (null path) flags 0x100000");

  file_close_op close;
  close.fd = 9;
  EXPECT_EQ(describe(close), "file_close fd 9");
  weft::io::nop_op nop;
  EXPECT_EQ(describe(nop), "nop");
}

TEST(OpenFlags, MapToPosixAndAlwaysCloseOnExec) {
  using namespace weft::io;
  using detail::posix_open_flags;
  EXPECT_EQ(posix_open_flags(open_flag::read), O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(posix_open_flags(0), O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(posix_open_flags(open_flag::write), O_WRONLY | O_CLOEXEC);
  EXPECT_EQ(posix_open_flags(open_flag::read | open_flag::write), O_RDWR | O_CLOEXEC);
  EXPECT_EQ(posix_open_flags(open_flag::write | open_flag::create | open_flag::truncate | open_flag::exclusive),
            O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC);
  EXPECT_EQ(posix_open_flags(open_flag::write | open_flag::append | open_flag::direct),
            O_WRONLY | O_APPEND | O_DIRECT | O_CLOEXEC);
}

// ---------------------------------------------------------------- run_blocking

TEST(RunBlocking, OpenWriteCloseOpenReadRoundTrip) {
  temp_dir dir;
  const std::string path = dir.file("round-trip");
  const std::vector<std::byte> data = pattern(1 << 20);

  file_open_op create;
  create.path = path.c_str();
  create.open_flags = weft::io::open_flag::write | weft::io::open_flag::create | weft::io::open_flag::exclusive;
  create.permissions = 0600;
  ASSERT_TRUE(run_blocking(create).is_ok());
  ASSERT_GE(create.fd, 0);
  EXPECT_NE(::fcntl(create.fd, F_GETFD) & FD_CLOEXEC, 0);
  struct stat info {};
  ASSERT_EQ(::fstat(create.fd, &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  file_write_op write;
  write.fd = create.fd;
  write.offset = 512;
  write.buffer = data;
  ASSERT_TRUE(run_blocking(write).is_ok());
  EXPECT_EQ(write.bytes_written, data.size());

  file_close_op close;
  close.fd = create.fd;
  ASSERT_TRUE(run_blocking(close).is_ok());
  EXPECT_EQ(::fcntl(create.fd, F_GETFD), -1);  // really closed

  file_open_op reopen;
  reopen.path = path.c_str();
  ASSERT_TRUE(run_blocking(reopen).is_ok());
  std::vector<std::byte> back(data.size());
  file_read_op read;
  read.fd = reopen.fd;
  read.offset = 512;
  read.buffer = back;
  ASSERT_TRUE(run_blocking(read).is_ok());
  EXPECT_EQ(read.bytes_read, data.size());
  EXPECT_EQ(back, data);
  ::close(reopen.fd);
}

TEST(RunBlocking, ReadStopsAtEndOfFileWithOk) {
  const std::vector<std::byte> data = pattern(10000);
  const temp_file file(data);
  std::vector<std::byte> back(8192);
  file_read_op read;
  read.fd = file.fd();
  read.offset = 5000;
  read.buffer = back;
  ASSERT_TRUE(run_blocking(read).is_ok());
  EXPECT_EQ(read.bytes_read, 5000u);
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + 5000, data.begin() + 5000));

  file_read_op past_end;
  past_end.fd = file.fd();
  past_end.offset = 1 << 20;
  past_end.buffer = back;
  ASSERT_TRUE(run_blocking(past_end).is_ok());
  EXPECT_EQ(past_end.bytes_read, 0u);
}

TEST(RunBlocking, ReadResumesAtProgress) {
  const std::vector<std::byte> data = pattern(4096);
  const temp_file file(data);
  std::vector<std::byte> back(4096);
  file_read_op read;
  read.fd = file.fd();
  read.buffer = back;
  progress_of(read) = 1000;  // the first 1000 bytes are "already there"
  ASSERT_TRUE(run_blocking(read).is_ok());
  EXPECT_EQ(read.bytes_read, 4096u);
  EXPECT_EQ(back[999], std::byte{0});
  EXPECT_TRUE(std::equal(back.begin() + 1000, back.end(), data.begin() + 1000));
}

TEST(RunBlocking, InvalidFdIsInvalidArgumentNamingTheFd) {
  std::vector<std::byte> buffer(64);
  file_read_op read;
  read.fd = 987654;
  read.offset = 4096;
  read.buffer = buffer;
  const status s = run_blocking(read);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(s.message(), "file_read fd 987654 offset 4096")) << s;
  EXPECT_TRUE(contains(s.message(), "(errno 9)")) << s;

  file_write_op write;
  write.fd = -1;
  write.buffer = buffer;
  const status w = run_blocking(write);
  EXPECT_EQ(w.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(w.message(), "file_write fd -1")) << w;

  file_close_op close;
  close.fd = 987654;
  const status c = run_blocking(close);
  EXPECT_EQ(c.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(c.message(), "file_close fd 987654")) << c;
}

TEST(RunBlocking, OpenErrorsNameThePath) {
  temp_dir dir;
  const std::string missing = dir.file("missing");
  file_open_op open;
  open.path = missing.c_str();
  const status s = run_blocking(open);
  EXPECT_EQ(s.code(), status_code::not_found);
  EXPECT_TRUE(contains(s.message(), missing)) << s;
  EXPECT_EQ(open.fd, -1);

  const std::string existing = dir.file("existing");
  const int fd = ::open(existing.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  file_open_op exclusive;
  exclusive.path = existing.c_str();
  exclusive.open_flags = weft::io::open_flag::write | weft::io::open_flag::create | weft::io::open_flag::exclusive;
  EXPECT_EQ(run_blocking(exclusive).code(), status_code::already_exists);

  file_open_op null_path;
  const status n = run_blocking(null_path);
  EXPECT_EQ(n.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(n.message(), "null path")) << n;
}

TEST(RunBlocking, WriteToReadOnlyFdFails) {
  const std::vector<std::byte> data = pattern(16);
  const temp_file file(data);
  const fd_guard read_only(::open(file.path().c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(read_only.get(), 0);
  file_write_op write;
  write.fd = read_only.get();
  write.buffer = data;
  const status s = run_blocking(write);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(write.bytes_written, 0u);
}

TEST(RunBlocking, NonFileOperationsAreUnimplemented) {
  weft::io::timer_op timer;
  const status s = run_blocking(timer);
  EXPECT_EQ(s.code(), status_code::unimplemented);
  EXPECT_TRUE(contains(s.message(), "timer")) << s;
}

// ---------------------------------------------------------------- try_nowait_read

TEST(NowaitRead, ProbeFindsSupportOnThisKernel) {
  // Linux 4.14+ takes RWF_NOWAIT; the test machines run far newer kernels.
  EXPECT_TRUE(weft::io::detail::nowait_reads_supported());
}

TEST(NowaitRead, CachedFileReadsInlineToEndOfFile) {
  const std::vector<std::byte> data = pattern(100000);
  const temp_file file(data);  // just written: in the page cache
  std::vector<std::byte> back(150000);
  file_read_op read;
  read.fd = file.fd();
  read.buffer = back;
  status out;
  const nowait_outcome outcome = try_nowait_read(read, out);
  if (outcome == nowait_outcome::would_block) {
    // The filesystem may refuse RWF_NOWAIT; what was read must still be right.
    EXPECT_LT(read.bytes_read, data.size());
    EXPECT_TRUE(std::equal(back.begin(), back.begin() + read.bytes_read, data.begin()));
    GTEST_SKIP() << "the filesystem of the temp dir does not take RWF_NOWAIT";
  }
  ASSERT_EQ(outcome, nowait_outcome::finished) << out;
  EXPECT_EQ(read.bytes_read, data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), back.begin()));
}

TEST(NowaitRead, FileThatRefusesNowaitWouldBlockInsteadOfFailing) {
  // shmem (memfd) refuses RWF_NOWAIT with EOPNOTSUPP on some kernels: that must
  // send the read to the asynchronous path, not fail it.
  const fd_guard memfd(::memfd_create("weft-nowait-test", MFD_CLOEXEC));
  ASSERT_GE(memfd.get(), 0);
  const std::vector<std::byte> data = pattern(8192);
  ASSERT_EQ(::pwrite(memfd.get(), data.data(), data.size(), 0), 8192);
  std::vector<std::byte> back(4096);
  file_read_op read;
  read.fd = memfd.get();
  read.offset = 2048;
  read.buffer = back;
  status out;
  const nowait_outcome outcome = try_nowait_read(read, out);
  ASSERT_NE(outcome, nowait_outcome::failed) << out;
  EXPECT_TRUE(out.is_ok());
  if (outcome == nowait_outcome::finished) {
    EXPECT_EQ(read.bytes_read, 4096u);
  } else {
    EXPECT_EQ(read.bytes_read, 0u);
    EXPECT_EQ(progress_of(read), 0u);
  }
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + read.bytes_read, data.begin() + 2048));
}

TEST(NowaitRead, BadFdFailsWithTheStatus) {
  std::vector<std::byte> back(16);
  file_read_op read;
  read.fd = 987655;
  read.buffer = back;
  status out;
  ASSERT_EQ(try_nowait_read(read, out), nowait_outcome::failed);
  EXPECT_EQ(out.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(out.message(), "file_read fd 987655")) << out;
}

TEST(NowaitRead, PipeIsNotSeekableAndFails) {
  const pipe_pair pipe;
  std::vector<std::byte> back(16);
  file_read_op read;
  read.fd = pipe.reader();
  read.buffer = back;
  status out;
  EXPECT_EQ(try_nowait_read(read, out), nowait_outcome::failed);
  EXPECT_EQ(out.code(), status_code::invalid_argument) << out;
}

// ---------------------------------------------------------------- file_workers

using weft::io::detail::file_workers;

// Records posts; can hold a worker inside post() of one chosen op, which makes
// "a worker has it" observable without timing.
class recording_sink final : public weft::io::detail::remote_sink {
 public:
  struct entry {
    operation* op;
    status result;
    std::thread::id thread;
  };

  void post(operation& op, status result) override {
    std::unique_lock<std::mutex> lock(mutex_);
    entries_.push_back({&op, std::move(result), std::this_thread::get_id()});
    changed_.notify_all();
    if (&op == held_) changed_.wait(lock, [this] { return held_ == nullptr; });
  }

  void hold(operation& op) {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = &op;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = nullptr;
    }
    changed_.notify_all();
  }
  // Waits (up to 30 s) until at least n posts arrived; returns the count.
  std::size_t wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return entries_.size() >= n; });
    return entries_.size();
  }
  std::vector<entry> entries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }
  const entry* find(const operation& op) {
    std::lock_guard<std::mutex> lock(mutex_);
    const entry* found = nullptr;
    for (const entry& e : entries_) {
      if (e.op != &op) continue;
      EXPECT_EQ(found, nullptr) << "posted twice: " << describe(op);
      found = &e;
    }
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<entry> entries_;
  operation* held_ = nullptr;
};

TEST(FileWorkers, CountOutsideOneToSixtyFourIsRejected) {
  recording_sink sink;
  for (std::uint32_t count : {0u, 65u}) {
    auto made = file_workers::create(count, sink, "t");
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.status().code(), status_code::invalid_argument);
    EXPECT_TRUE(contains(made.status().message(), std::to_string(count))) << made.status();
  }
}

TEST(FileWorkers, ManyReadsAreEachPostedOnceWithTheirData) {
  constexpr std::size_t piece = 4096;
  constexpr std::size_t count = 256;
  const std::vector<std::byte> data = pattern(piece * count);
  const temp_file file(data);
  recording_sink sink;
  auto made = file_workers::create(4, sink, "wtest");
  ASSERT_TRUE(made.ok()) << made.status();
  std::vector<std::vector<std::byte>> buffers(count, std::vector<std::byte>(piece));
  std::vector<file_read_op> reads(count);
  for (std::size_t i = 0; i < count; ++i) {
    reads[i].fd = file.fd();
    reads[i].offset = i * piece;
    reads[i].buffer = buffers[i];
    (*made)->start(reads[i]);
  }
  ASSERT_EQ(sink.wait_for(count), count);
  for (std::size_t i = 0; i < count; ++i) {
    const recording_sink::entry* e = sink.find(reads[i]);
    ASSERT_NE(e, nullptr) << i;
    EXPECT_TRUE(e->result.is_ok()) << e->result;
    EXPECT_NE(e->thread, std::this_thread::get_id());
    EXPECT_EQ(reads[i].bytes_read, piece);
    EXPECT_TRUE(std::equal(buffers[i].begin(), buffers[i].end(), data.begin() + i * piece)) << i;
  }
  made->reset();
  EXPECT_EQ(sink.entries().size(), count);  // nothing more at destruction
}

TEST(FileWorkers, ErrorsArePostedWithTheStatus) {
  recording_sink sink;
  auto made = file_workers::create(1, sink, "wtest");
  ASSERT_TRUE(made.ok()) << made.status();
  file_close_op close;
  close.fd = 987656;
  (*made)->start(close);
  ASSERT_EQ(sink.wait_for(1), 1u);
  const recording_sink::entry* e = sink.find(close);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->result.code(), status_code::invalid_argument);
  EXPECT_TRUE(contains(e->result.message(), "file_close fd 987656")) << e->result;
}

TEST(FileWorkers, CancelRemovesQueuedOpsButNotTheRunningOne) {
  recording_sink sink;
  auto made = file_workers::create(1, sink, "wtest");
  ASSERT_TRUE(made.ok()) << made.status();
  file_workers& workers = **made;
  file_close_op running, second, third, fourth;
  for (file_close_op* op : {&running, &second, &third, &fourth}) op->fd = 987657;
  sink.hold(running);
  workers.start(running);
  ASSERT_EQ(sink.wait_for(1), 1u);  // the one worker is inside post(running)
  workers.start(second);
  workers.start(third);
  workers.start(fourth);
  EXPECT_FALSE(workers.cancel(running));  // a worker has it; its post came
  EXPECT_TRUE(workers.cancel(third));     // middle of the queue
  EXPECT_TRUE(workers.cancel(fourth));    // tail
  EXPECT_FALSE(workers.cancel(third));    // already removed
  sink.release();
  ASSERT_EQ(sink.wait_for(2), 2u);
  EXPECT_NE(sink.find(second), nullptr);
  made->reset();
  EXPECT_EQ(sink.find(third), nullptr);
  EXPECT_EQ(sink.find(fourth), nullptr);
  EXPECT_EQ(sink.entries().size(), 2u);

  // The queue still works after removing its tail.
  auto again = file_workers::create(1, sink, "wtest");
  ASSERT_TRUE(again.ok());
  (*again)->start(third);
  EXPECT_EQ(sink.wait_for(3), 3u);
}

TEST(FileWorkers, DestructionPostsQueuedOpsCancelled) {
  recording_sink sink;
  auto made = file_workers::create(1, sink, "wtest");
  ASSERT_TRUE(made.ok()) << made.status();
  std::unique_ptr<file_workers> workers = std::move(*made);
  std::vector<std::byte> buffer(16);
  file_close_op running;
  running.fd = 987658;
  file_read_op queued_a, queued_b;
  queued_a.fd = queued_b.fd = 987659;
  queued_a.buffer = queued_b.buffer = buffer;
  sink.hold(running);
  workers->start(running);
  ASSERT_EQ(sink.wait_for(1), 1u);
  workers->start(queued_a);
  workers->start(queued_b);
  std::thread destroyer([&] { workers.reset(); });
  ASSERT_EQ(sink.wait_for(3), 3u);  // posted before the join, while the worker is held
  sink.release();
  destroyer.join();
  for (const file_read_op* op : {&queued_a, &queued_b}) {
    const recording_sink::entry* e = sink.find(*op);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->result.code(), status_code::cancelled) << e->result;
    EXPECT_TRUE(contains(e->result.message(), "file_read fd 987659")) << e->result;
  }
  const std::vector<recording_sink::entry> all = sink.entries();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].op, &queued_a);  // in queue order
  EXPECT_EQ(all[2].op, &queued_b);
}

// Remembers the name of the thread that posted.
class naming_sink final : public weft::io::detail::remote_sink {
 public:
  explicit naming_sink(recording_sink& inner) : inner_(inner) {}
  void post(operation& op, status result) override {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    name_ = name;  // read by the test after the join
    inner_.post(op, std::move(result));
  }
  std::string name_;

 private:
  recording_sink& inner_;
};

TEST(FileWorkers, WorkerThreadsCarryThePoolName) {
  recording_sink sink;
  naming_sink naming(sink);
  auto made = file_workers::create(2, naming, "named");
  ASSERT_TRUE(made.ok()) << made.status();
  file_close_op close;
  close.fd = 987660;
  (*made)->start(close);
  ASSERT_EQ(sink.wait_for(1), 1u);
  made->reset();
  EXPECT_TRUE(naming.name_ == "named-io0" || naming.name_ == "named-io1") << naming.name_;
}

}  // namespace
