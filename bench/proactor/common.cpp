#include "proactor/common.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace weft::bench {

bool quick_mode() noexcept {
  const char* value = std::getenv("WEFT_BENCH_QUICK");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

std::int64_t scaled_iterations(std::int64_t full) noexcept {
  if (!quick_mode()) return full;
  return full / 10 > 0 ? full / 10 : 1;
}

namespace {

std::string errno_text(const char* what, int error_number) {
  return std::string(what) + ": " + std::strerror(error_number) + " (errno " + std::to_string(error_number) + ")";
}

}  // namespace

const page_cached_file* page_cached_file::get(std::string& why) {
  static std::once_flag once;
  static page_cached_file* file = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr && dir[0] != '\0' ? dir : "/tmp") + "/weft-proactor-bench-XXXXXX";
    std::vector<char> name(path.begin(), path.end());
    name.push_back('\0');
    const int fd = mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
      failure = errno_text(("cannot create " + path).c_str(), errno);
      return;
    }
    unlink(name.data());
    auto made = std::unique_ptr<page_cached_file>(new page_cached_file());
    made->fd_ = fd;
    const std::uint64_t bytes = (quick_mode() ? 4ull : 64ull) << 20;
    made->blocks_ = bytes / block_size;
    // 1 MiB at a time; the first 8 bytes of block i hold i + 1 (a hole would read 0).
    constexpr std::size_t chunk = 1 << 20;
    std::vector<std::byte> data(chunk);
    for (std::uint64_t offset = 0; offset < bytes; offset += chunk) {
      for (std::size_t at = 0; at < chunk; at += block_size) {
        const std::uint64_t stamp = (offset + at) / block_size + 1;
        std::memcpy(data.data() + at, &stamp, sizeof stamp);
      }
      if (pwrite(fd, data.data(), chunk, static_cast<off_t>(offset)) != static_cast<ssize_t>(chunk)) {
        failure = errno_text("cannot write the benchmark file", errno);
        return;
      }
    }
    if (!made->warm()) {
      failure = errno_text("cannot read the benchmark file back", errno);
      return;
    }
    file = made.release();
  });
  if (file == nullptr) why = failure;
  return file;
}

page_cached_file::~page_cached_file() {
  if (fd_ >= 0) close(fd_);
}

bool page_cached_file::warm() const noexcept {
  constexpr std::size_t chunk = 1 << 20;
  static thread_local std::vector<std::byte> scratch(chunk);
  const std::uint64_t bytes = blocks_ * block_size;
  for (std::uint64_t offset = 0; offset < bytes; offset += chunk) {
    if (pread(fd_, scratch.data(), chunk, static_cast<off_t>(offset)) != static_cast<ssize_t>(chunk)) return false;
  }
  return true;
}

bool page_cached_file::holds(const std::byte* data, std::uint64_t index) noexcept {
  std::uint64_t stamp = 0;
  std::memcpy(&stamp, data, sizeof stamp);
  return stamp == index + 1;
}

block_buffers::block_buffers(std::size_t slots)
    : memory_(static_cast<std::byte*>(
          ::operator new[](slots * page_cached_file::block_size, std::align_val_t{page_cached_file::block_size}))) {}

void block_buffers::aligned_free::operator()(std::byte* p) const noexcept {
  ::operator delete[](p, std::align_val_t{page_cached_file::block_size});
}

raw_ring::~raw_ring() {
  if (ready_) io_uring_queue_exit(&ring_);
}

bool raw_ring::init(unsigned entries, std::string& why) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  const int rc = io_uring_queue_init_params(entries, &ring_, &params);
  if (rc < 0) {
    why = errno_text("io_uring_queue_init_params(SINGLE_ISSUER | DEFER_TASKRUN)", -rc);
    return false;
  }
  ready_ = true;
  return true;
}

std::unique_ptr<io::proactor> make_proactor(io::backend_kind kind, std::uint32_t allowed, std::string& why) {
  io::proactor_options options;
  options.backend = kind;
  options.allowed_capabilities = allowed;
  options.name = "bench";
  auto made = io::proactor::create(options);
  if (!made.ok()) {
    why = std::string("cannot create the ") + io::to_string(kind) + " proactor: " + made.status().to_string();
    return nullptr;
  }
  std::unique_ptr<io::proactor> proactor = std::move(made.value());
  if (proactor->backend() != kind) {
    why = std::string("asked for the ") + io::to_string(kind) + " proactor, got " + io::to_string(proactor->backend());
    return nullptr;
  }
  return proactor;
}

bool poll_until(io::proactor& proactor, const std::uint64_t& done, std::uint64_t target, deadline give_up,
                std::string& why) {
  while (done < target) {
    auto polled = proactor.poll(give_up);
    if (!polled.ok()) {
      why = "poll failed: " + polled.status().to_string();
      return false;
    }
    if (polled.value() == 0 && give_up.expired() && done < target) {
      why = "gave up waiting: " + std::to_string(done) + " of " + std::to_string(target) + " completions arrived";
      return false;
    }
  }
  return true;
}

}  // namespace weft::bench
