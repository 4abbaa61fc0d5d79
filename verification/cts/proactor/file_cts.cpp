// CTS: file open / read / write / close, argument checks, and transfers
// longer than max_transfer_bytes at offsets beyond 2 and 4 GiB.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "cts.hpp"

namespace weft::io::cts {
namespace {

WEFT_CTS_SUITE_OVER(file_cts, file_configs);

// A descriptor number that is not open in this process.
int unused_fd() {
  for (int fd = 900;; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) return fd;
  }
}

bool bytes_match(std::span<const std::byte> got, std::uint64_t file_offset) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != byte_at(file_offset + i)) return false;
  }
  return true;
}

TEST_P(file_cts, open_missing_not_found) {
  auto& open = make<file_open_op>();
  const std::string path = temp_path("missing");
  open.path = path.c_str();
  open.open_flags = open_flag::read;
  const status result = submit_and_await(open);
  EXPECT_EQ(result.code(), status_code::not_found) << result;
  EXPECT_NE(result.message().find("missing"), std::string::npos) << "the message should name the path: " << result;
  EXPECT_EQ(open.fd, -1);
}

TEST_P(file_cts, create_write_read_back) {
  const std::string path = temp_path("data");
  auto& open = make<file_open_op>();
  open.path = path.c_str();
  open.open_flags = open_flag::read | open_flag::write | open_flag::create | open_flag::exclusive;
  open.permissions = 0600;
  WEFT_ASSERT_OK(submit_and_await(open));
  ASSERT_GE(open.fd, 0);
  adopt_fd(open.fd);
  EXPECT_NE(::fcntl(open.fd, F_GETFD) & FD_CLOEXEC, 0) << "opened without O_CLOEXEC";
  struct stat info {};
  ASSERT_EQ(::fstat(open.fd, &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  constexpr std::size_t size = 256 * 1024;
  std::span<std::byte> out = make_buffer(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = byte_at(i);
  auto& write = make<file_write_op>();
  write.fd = open.fd;
  write.buffer = out;
  WEFT_ASSERT_OK(submit_and_await(write));
  EXPECT_EQ(write.bytes_written, size);

  std::span<std::byte> in = make_buffer(size);
  auto& read = make<file_read_op>();
  read.fd = open.fd;
  read.buffer = in;
  WEFT_ASSERT_OK(submit_and_await(read));
  EXPECT_EQ(read.bytes_read, size);
  EXPECT_TRUE(bytes_match(in, 0));

  // A second exclusive create of the same path fails.
  auto& again = make<file_open_op>();
  again.path = path.c_str();
  again.open_flags = open_flag::write | open_flag::create | open_flag::exclusive;
  WEFT_EXPECT_CODE(submit_and_await(again), status_code::already_exists);
}

TEST_P(file_cts, open_truncate_and_append) {
  const int fd = make_file("f", 1000);
  ASSERT_GE(fd, 0);
  const std::string path = temp_path("f");
  auto& open = make<file_open_op>();
  open.path = path.c_str();
  open.open_flags = open_flag::write | open_flag::truncate;
  WEFT_ASSERT_OK(submit_and_await(open));
  adopt_fd(open.fd);
  struct stat info {};
  ASSERT_EQ(::fstat(fd, &info), 0);
  EXPECT_EQ(info.st_size, 0) << "open_flag::truncate did not truncate";
  EXPECT_EQ(::fcntl(open.fd, F_GETFL) & O_ACCMODE, O_WRONLY);

  auto& append = make<file_open_op>();
  append.path = path.c_str();
  append.open_flags = open_flag::write | open_flag::append;
  WEFT_ASSERT_OK(submit_and_await(append));
  adopt_fd(append.fd);
  EXPECT_NE(::fcntl(append.fd, F_GETFL) & O_APPEND, 0);
}

TEST_P(file_cts, read_at_offset) {
  const int fd = make_file("f", 64 * 1024);
  ASSERT_GE(fd, 0);
  std::span<std::byte> in = make_buffer(1000);
  auto& read = make<file_read_op>();
  read.fd = fd;
  read.offset = 12345;
  read.buffer = in;
  WEFT_ASSERT_OK(submit_and_await(read));
  EXPECT_EQ(read.bytes_read, 1000u);
  EXPECT_TRUE(bytes_match(in, 12345));
}

TEST_P(file_cts, short_read_at_eof) {
  const int fd = make_file("f", 1000);
  ASSERT_GE(fd, 0);
  std::span<std::byte> in = make_buffer(4096, std::byte{0xEE});
  auto& read = make<file_read_op>();
  read.fd = fd;
  read.offset = 600;
  read.buffer = in;
  WEFT_ASSERT_OK(submit_and_await(read));
  EXPECT_EQ(read.bytes_read, 400u);
  EXPECT_TRUE(bytes_match(in.first(400), 600));
  EXPECT_EQ(in[400], std::byte{0xEE}) << "wrote past the bytes it reported";
}

TEST_P(file_cts, read_past_end_returns_zero_bytes) {
  const int fd = make_file("f", 1000);
  ASSERT_GE(fd, 0);
  auto& read = make<file_read_op>();
  read.fd = fd;
  read.offset = 5000;
  read.buffer = make_buffer(100);
  read.bytes_read = 77;
  WEFT_ASSERT_OK(submit_and_await(read));
  EXPECT_EQ(read.bytes_read, 0u);
}

TEST_P(file_cts, write_at_offset) {
  const int fd = make_file("f", 0);
  ASSERT_GE(fd, 0);
  std::span<std::byte> out = make_buffer(3000);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = byte_at(8192 + i);
  auto& write = make<file_write_op>();
  write.fd = fd;
  write.offset = 8192;
  write.buffer = out;
  WEFT_ASSERT_OK(submit_and_await(write));
  EXPECT_EQ(write.bytes_written, 3000u);
  struct stat info {};
  ASSERT_EQ(::fstat(fd, &info), 0);
  EXPECT_EQ(info.st_size, 8192 + 3000);
  std::vector<std::byte> back(8192 + 3000);
  ASSERT_EQ(::pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
  for (std::size_t i = 0; i < 8192; ++i) ASSERT_EQ(back[i], std::byte{0}) << i;
  EXPECT_TRUE(bytes_match(std::span(back).subspan(8192), 8192));
}

TEST_P(file_cts, close) {
  const int fd = make_file("f", 10);
  ASSERT_GE(fd, 0);
  auto& close = make<file_close_op>();
  close.fd = fd;
  WEFT_ASSERT_OK(io().submit(close));
  forget_fd(fd);  // the proactor owns it now
  WEFT_ASSERT_OK(await_callback(close));
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "fd " << fd << " is still open";
  EXPECT_EQ(errno, EBADF);
}

TEST_P(file_cts, invalid_fd_names_the_fd) {
  const int bad = unused_fd();
  auto& read = make<file_read_op>();
  read.fd = bad;
  read.buffer = make_buffer(64);
  auto& write = make<file_write_op>();
  write.fd = bad;
  write.buffer = make_buffer(64);
  auto& close = make<file_close_op>();
  close.fd = bad;
  // The close goes last: a close concurrent with a transfer on the same fd
  // would be the test's own race.
  for (operation* op : std::initializer_list<operation*>{&read, &write}) WEFT_ASSERT_OK(io().submit(*op));
  ASSERT_TRUE(poll_until([&] { return log.size() == 2; }));
  WEFT_ASSERT_OK(io().submit(close));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  for (operation* op : std::initializer_list<operation*>{&read, &write, &close}) {
    const status result = log.result(*op);
    EXPECT_EQ(result.code(), status_code::invalid_argument) << result;
    EXPECT_NE(result.message().find("fd " + std::to_string(bad)), std::string::npos)
        << "the message should name fd " << bad << ": " << result;
    EXPECT_NE(result.message().find(to_string(op->type())), std::string::npos) << result;
  }
  // A negative fd is refused at submit, naming it.
  auto& negative = make<file_read_op>();
  negative.fd = -1;
  negative.buffer = make_buffer(64);
  const status refused = io().submit(negative);
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_NE(refused.message().find("-1"), std::string::npos) << refused;
  EXPECT_FALSE(negative.in_flight());
}

TEST_P(file_cts, zero_length_read_rejected_at_submit) {
  const int fd = make_file("f", 100);
  ASSERT_GE(fd, 0);
  auto& read = make<file_read_op>();
  read.fd = fd;
  const status refused = io().submit(read);
  EXPECT_EQ(refused.code(), status_code::invalid_argument) << refused;
  EXPECT_FALSE(read.in_flight());
  EXPECT_EQ(poll_for(5ms), 0u) << "a refused submit produced a callback";
  EXPECT_EQ(log.size(), 0u);
}

TEST_P(file_cts, oversized_range_rejected_at_submit) {
  const int fd = make_file("f", 100);
  ASSERT_GE(fd, 0);
  auto& read = make<file_read_op>();
  read.fd = fd;
  read.offset = static_cast<std::uint64_t>(INT64_MAX) - 10;
  read.buffer = make_buffer(100);
  status refused = io().submit(read);
  EXPECT_EQ(refused.code(), status_code::out_of_range) << refused;
  EXPECT_NE(refused.message().find(std::to_string(read.offset)), std::string::npos) << refused;
  read.offset = UINT64_MAX;
  refused = io().submit(read);
  EXPECT_EQ(refused.code(), status_code::out_of_range) << refused;
  EXPECT_FALSE(read.in_flight());
  // The limit itself is fine: offset + length == INT64_MAX reads 0 bytes (end of file).
  read.offset = static_cast<std::uint64_t>(INT64_MAX) - 100;
  const status result = submit_and_await(read);
  EXPECT_TRUE(result.is_ok() || result.code() == status_code::out_of_range ||
              result.code() == status_code::invalid_argument)
      << result;
  if (result.is_ok()) {
    EXPECT_EQ(read.bytes_read, 0u);
  }
  EXPECT_EQ(poll_for(5ms), 0u);
}

TEST_P(file_cts, concurrent_reads_at_different_offsets) {
  constexpr std::size_t piece = 64 * 1024;
  constexpr int count = 16;
  const int fd = make_file("f", piece * count);
  ASSERT_GE(fd, 0);
  std::vector<file_read_op*> reads;
  for (int i = 0; i < count; ++i) {
    auto& read = make<file_read_op>();
    read.fd = fd;
    read.offset = (count - 1 - i) * piece + 3;  // unaligned, last one short
    read.buffer = make_buffer(piece);
    reads.push_back(&read);
    WEFT_ASSERT_OK(io().submit(read));
  }
  ASSERT_TRUE(poll_until([&] { return log.size() == count; }));
  for (file_read_op* read : reads) {
    WEFT_ASSERT_OK(log.result(*read));
    const std::size_t expected = std::min<std::uint64_t>(piece, piece * count - read->offset);
    EXPECT_EQ(read->bytes_read, expected) << "offset " << read->offset;
    EXPECT_TRUE(bytes_match(read->buffer.first(read->bytes_read), read->offset)) << "offset " << read->offset;
  }
}

TEST_P(file_cts, cancel_is_accepted) {
  // A file transfer cannot be held in flight portably, but cancel() must accept
  // it (not UNIMPLEMENTED) and its one callback reports OK or CANCELLED.
  const int fd = make_file("f", 1024 * 1024);
  ASSERT_GE(fd, 0);
  for (int round = 0; round < 20; ++round) {
    auto& read = make<file_read_op>();
    read.fd = fd;
    read.buffer = make_buffer(1024 * 1024);
    WEFT_ASSERT_OK(io().submit(read));
    if (round % 2 == 1) static_cast<void>(poll_for(0ms));
    const status cancelled = io().cancel(read);
    EXPECT_TRUE(cancelled.is_ok() || (round % 2 == 1 && cancelled.code() == status_code::not_found)) << cancelled;
    const status result = await_callback(read);
    EXPECT_TRUE(result.is_ok() || result.code() == status_code::cancelled) << result;
    if (result.is_ok()) {
      EXPECT_EQ(read.bytes_read, read.buffer.size());
    }
  }
  EXPECT_EQ(poll_for(5ms), 0u);
}

TEST_P(file_cts, read_continues_after_a_partial_cache_hit) {
  // The first half is in the page cache, the second is not: with nowait_reads
  // the first half is read inline and the rest must continue from there.
  constexpr std::size_t size = 4 * 1024 * 1024;
  const int fd = make_file("f", size);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fsync(fd), 0);
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(::posix_fadvise(fd, size / 2, 0, POSIX_FADV_DONTNEED), 0);
    std::vector<std::byte> warm(size / 2);
    ASSERT_EQ(::pread(fd, warm.data(), warm.size(), 0), static_cast<ssize_t>(warm.size()));
    auto& read = make<file_read_op>();
    read.fd = fd;
    read.offset = 0;
    read.buffer = make_buffer(size);
    WEFT_ASSERT_OK(submit_and_await(read));
    EXPECT_EQ(read.bytes_read, size);
    EXPECT_TRUE(bytes_match(read.buffer, 0)) << "round " << round;
  }
}

TEST_P(file_cts, linked_read_after_short_read_still_runs) {
  const int fd = make_file("f", 1000);
  ASSERT_GE(fd, 0);
  auto& short_read = make<file_read_op>();
  short_read.fd = fd;
  short_read.offset = 600;
  short_read.buffer = make_buffer(4096);
  short_read.flags = op_flag::linked;
  auto& next = make<file_read_op>();
  next.fd = fd;
  next.buffer = make_buffer(100);
  next.flags = op_flag::linked;
  auto& last = make<nop_op>();
  WEFT_ASSERT_OK(submit_batch({&short_read, &next, &last}));
  ASSERT_TRUE(poll_until([&] { return log.size() == 3; }));
  WEFT_EXPECT_CODE(log.result(short_read), status_code::ok);
  EXPECT_EQ(short_read.bytes_read, 400u);
  EXPECT_EQ(log.result(next).code(), status_code::ok) << "a short read broke its linked sequence: " << log.result(next);
  EXPECT_EQ(next.bytes_read, 100u);
  WEFT_EXPECT_CODE(log.result(last), status_code::ok);
  EXPECT_EQ(log.order(), (std::vector<const operation*>{&short_read, &next, &last}));
}

TEST_P(file_cts, linked_write_then_read_sees_the_data) {
  const int fd = make_file("f", 0);
  ASSERT_GE(fd, 0);
  for (int round = 0; round < 10; ++round) {
    const std::size_t base = log.size();
    std::span<std::byte> out = make_buffer(8192);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = byte_at(i + static_cast<std::size_t>(round));
    auto& write = make<file_write_op>();
    write.fd = fd;
    write.offset = 4096 * static_cast<std::uint64_t>(round);
    write.buffer = out;
    write.flags = op_flag::linked;
    auto& read = make<file_read_op>();
    read.fd = fd;
    read.offset = write.offset;
    read.buffer = make_buffer(8192);
    WEFT_ASSERT_OK(submit_batch({&write, &read}));
    ASSERT_TRUE(poll_until([&] { return log.size() == base + 2; }));
    WEFT_ASSERT_OK(log.result(write));
    WEFT_ASSERT_OK(log.result(read));
    ASSERT_EQ(read.bytes_read, 8192u);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), read.buffer.begin())) << "round " << round;
  }
}

// ---- Transfers longer than max_transfer_bytes, at offsets beyond 2 and 4 GiB.

constexpr std::uint64_t gib = 1ull << 30;
constexpr std::uint64_t mib = 1ull << 20;
constexpr std::size_t marker_size = 64;

class large_file_cts : public proactor_cts {
 protected:
  void SetUp() override {
    proactor_cts::SetUp();
#if defined(WEFT_SANITIZER_THREAD) || defined(WEFT_SANITIZER_ADDRESS)
    // The sanitizers' pread/pwrite interceptors walk the shadow of the whole
    // 2 GiB buffer (TSAN ~50 s, ASAN ~15 s per test) and cannot see the
    // kernel's writes into an mmap'd buffer anyway: the default build runs these.
    GTEST_SKIP() << "2 GiB transfers run in the default build only (sanitizer interceptors make them slow)";
#endif
  }
  // A sparse file of 4 GiB + 8 MiB with markers written at `offsets`, opened
  // and already unlinked (nothing to clean up if the test dies). -1 and a
  // skip reason when the file system cannot hold it.
  int sparse_file(std::span<const std::uint64_t> offsets, std::uint64_t space_needed, std::string& skip_reason) {
    const std::string path = temp_path("sparse");
    struct statvfs fs {};
    if (::statvfs(path.substr(0, path.rfind('/')).c_str(), &fs) == 0 &&
        static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < space_needed) {
      skip_reason = "the temporary directory has less than " + std::to_string(space_needed / mib) + " MiB free";
      return -1;
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      skip_reason = "cannot create " + path + ": " + std::strerror(errno);
      return -1;
    }
    ::unlink(path.c_str());
    adopt_fd(fd);
    struct stat info {};
    if (::ftruncate(fd, static_cast<off_t>(4 * gib + 8 * mib)) != 0 || ::fstat(fd, &info) != 0 ||
        static_cast<std::uint64_t>(info.st_blocks) * 512 > 64 * mib) {
      skip_reason = "the temporary directory's file system does not keep sparse files";
      return -1;
    }
    for (std::uint64_t offset : offsets) write_marker(fd, offset);
    return fd;
  }
  static void write_marker(int fd, std::uint64_t offset) {
    std::byte marker[marker_size];
    for (std::size_t i = 0; i < marker_size; ++i) marker[i] = byte_at(offset + i);
    EXPECT_EQ(::pwrite(fd, marker, marker_size, static_cast<off_t>(offset)), static_cast<ssize_t>(marker_size));
  }
  // An anonymous MAP_NORESERVE mapping: pages cost nothing until touched.
  std::span<std::byte> sparse_buffer(std::size_t size) {
    void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) return {};
    // A read fills every page: huge pages make that 512 times fewer faults.
    static_cast<void>(::madvise(memory, size, MADV_HUGEPAGE));
    mapping_ = std::shared_ptr<void>(memory, [size](void* p) { ::munmap(p, size); });
    return {static_cast<std::byte*>(memory), size};
  }
  void TearDown() override {
    proactor_cts::TearDown();
    mapping_.reset();
  }

 private:
  std::shared_ptr<void> mapping_;
};
INSTANTIATE_TEST_SUITE_P(cts, large_file_cts, ::testing::ValuesIn(file_configs()), config_name);

TEST_P(large_file_cts, read_longer_than_max_transfer_across_2gib) {
  const std::uint64_t start = 3 * gib / 2 + 12345;  // unaligned
  const std::size_t length = max_transfer_bytes + 32 * mib;
  const std::uint64_t markers[] = {
      start,                                    // first bytes
      2 * gib - 4096,                           // below 2 GiB
      2 * gib - marker_size / 2,                // across 2 GiB
      start + max_transfer_bytes - marker_size / 2,  // across the split point
      start + length - marker_size,             // last bytes
  };
  std::string skip;
  const int fd = sparse_file(markers, 64 * mib, skip);
  if (fd < 0) GTEST_SKIP() << skip;
  std::span<std::byte> buffer = sparse_buffer(length);
  ASSERT_EQ(buffer.size(), length) << "mmap of " << length << " bytes failed";

  auto& read = make<file_read_op>();
  read.fd = fd;
  read.offset = start;
  read.buffer = buffer;
  WEFT_ASSERT_OK(submit_and_await(read, 100s));
  EXPECT_EQ(read.bytes_read, length) << "a read longer than max_transfer_bytes stopped short";
  for (std::uint64_t marker : markers) {
    EXPECT_TRUE(bytes_match(buffer.subspan(marker - start, marker_size), marker))
        << "marker at file offset " << marker << " is not at buffer offset " << marker - start;
  }
  EXPECT_EQ(buffer[gib], std::byte{0}) << "a hole read as non-zero";
}

TEST_P(large_file_cts, write_longer_than_max_transfer_across_4gib) {
  const std::uint64_t start = 3 * gib - 12345;  // unaligned
  const std::size_t length = max_transfer_bytes + 16 * mib;
  std::string skip;
  const int fd = sparse_file({}, length + 512 * mib, skip);
  if (fd < 0) GTEST_SKIP() << skip;
  std::span<std::byte> buffer = sparse_buffer(length);
  ASSERT_EQ(buffer.size(), length) << "mmap of " << length << " bytes failed";
  const std::uint64_t markers[] = {
      start,
      start + max_transfer_bytes - marker_size / 2,  // across the split point
      4 * gib - marker_size / 2,                     // across 4 GiB
      4 * gib + 4096,
      start + length - marker_size,
  };
  for (std::uint64_t marker : markers) {
    for (std::size_t i = 0; i < marker_size; ++i) buffer[marker - start + i] = byte_at(marker + i);
  }
  auto& write = make<file_write_op>();
  write.fd = fd;
  write.offset = start;
  write.buffer = buffer;
  WEFT_ASSERT_OK(submit_and_await(write, 100s));
  EXPECT_EQ(write.bytes_written, length);
  struct stat info {};
  ASSERT_EQ(::fstat(fd, &info), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(info.st_size), start + length);
  // Read the markers back through the proactor (offsets beyond 4 GiB).
  for (std::uint64_t marker : markers) {
    auto& back = make<file_read_op>();
    back.fd = fd;
    back.offset = marker;
    back.buffer = make_buffer(marker_size);
    WEFT_ASSERT_OK(submit_and_await(back));
    EXPECT_EQ(back.bytes_read, marker_size);
    EXPECT_TRUE(bytes_match(back.buffer, marker)) << "marker at file offset " << marker;
  }
  std::byte hole[16];
  ASSERT_EQ(::pread(fd, hole, sizeof hole, static_cast<off_t>(start + gib)), static_cast<ssize_t>(sizeof hole));
  for (std::byte b : hole) EXPECT_EQ(b, std::byte{0});
}

}  // namespace
}  // namespace weft::io::cts
