// Scratch files and descriptors for the proactor's unit tests (file_io_test.cpp,
// uring_backend_test.cpp): each cleans up after itself when it goes out of
// scope, so a test that fails half-way leaves no file and no open descriptor.
//
//   const std::vector<std::byte> data = pattern(4096);
//   temp_file file(data);              // a fresh file holding `data`, open O_RDWR
//   read.fd = file.fd();
//   temp_dir dir;                      // for paths the code under test creates
//   const std::string path = dir.file("created");
//
// Test code only, used from the test thread; failures to create anything are
// gtest failures (ADD_FAILURE / EXPECT), never exceptions.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace weft::io::test {

// `size` bytes that differ between neighbouring offsets (period 256), so a
// transfer at the wrong offset or with the wrong length compares unequal.
inline std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);
  return bytes;
}

// A private directory under $TMPDIR (or /tmp); the destructor removes the
// files named through file() and then the directory.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    path_ = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/weft-proactor-test-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << path_;
  }
  ~temp_dir() {
    for (const std::string& file : files_) ::unlink(file.c_str());
    ::rmdir(path_.c_str());
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  // The path of `name` in the directory (not created; removed at the end if it exists).
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// Closes the descriptor it holds (if any, i.e. >= 0) when it goes out of scope.
class fd_guard {
 public:
  explicit fd_guard(int fd = -1) : fd_(fd) {}
  ~fd_guard() { reset(); }
  fd_guard(fd_guard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  fd_guard& operator=(fd_guard&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }

  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

// A file holding `bytes` in its own temp_dir, opened read-write (O_CLOEXEC);
// the destructor closes it and removes the file and the directory.
class temp_file {
 public:
  explicit temp_file(std::span<const std::byte> bytes = {})
      : path_(dir_.file("data")), fd_(::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    EXPECT_GE(fd(), 0) << "open " << path_;
    EXPECT_EQ(::pwrite(fd(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size())) << path_;
  }

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  temp_dir dir_;
  std::string path_;
  fd_guard fd_;
};

// A pipe (O_CLOEXEC) whose ends are closed when it goes out of scope. A pipe
// returns what it has, so a read of it gets short pieces; it is not seekable.
class pipe_pair {
 public:
  pipe_pair() {
    int ends[2] = {-1, -1};
    EXPECT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    reader_ = fd_guard(ends[0]);
    writer_ = fd_guard(ends[1]);
  }

  int reader() const { return reader_.get(); }
  int writer() const { return writer_.get(); }
  void close_writer() { writer_.reset(); }

 private:
  fd_guard reader_;
  fd_guard writer_;
};

}  // namespace weft::io::test
