#include "file_io.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace weft::io::detail {
namespace {

// A file transfer's fields, read or write alike.
struct transfer_view {
  int fd;
  std::uint64_t offset;
  std::byte* data;  // const for a write: only passed to pwrite
  std::size_t size;
  std::size_t* out;
};

bool view_of(operation& op, transfer_view& view) {
  if (op.type() == op_type::file_read) {
    auto& read = static_cast<file_read_op&>(op);
    view = {read.fd, read.offset, read.buffer.data(), read.buffer.size(), &read.bytes_read};
    return true;
  }
  if (op.type() == op_type::file_write) {
    auto& write = static_cast<file_write_op&>(op);
    view = {write.fd, write.offset, const_cast<std::byte*>(write.buffer.data()), write.buffer.size(),
            &write.bytes_written};
    return true;
  }
  return false;
}

std::string open_flag_names(std::uint32_t flags) {
  static constexpr struct {
    std::uint32_t bit;
    const char* name;
  } names[] = {{open_flag::read, "read"},          {open_flag::write, "write"},   {open_flag::create, "create"},
               {open_flag::truncate, "truncate"},  {open_flag::append, "append"}, {open_flag::direct, "direct"},
               {open_flag::exclusive, "exclusive"}};
  std::string text;
  for (const auto& entry : names) {
    if ((flags & entry.bit) == 0) continue;
    if (!text.empty()) text += '|';
    text += entry.name;
  }
  if ((flags & ~open_flag::all) != 0) {
    if (!text.empty()) text += '|';
    std::ostringstream extra;
    extra << "0x" << std::hex << (flags & ~open_flag::all);
    text += extra.str();
  }
  return text.empty() ? "none" : text;
}

status run_transfer(operation& op) {
  const bool is_read = op.type() == op_type::file_read;
  for (;;) {
    const chunk piece = next_chunk(op);
    if (piece.length == 0) return status::ok();  // an empty buffer: nothing to move
    ssize_t moved = 0;
    do {
      const int fd = is_read ? static_cast<file_read_op&>(op).fd : static_cast<file_write_op&>(op).fd;
      const auto position = static_cast<off_t>(piece.offset);
      moved =
          is_read ? ::pread(fd, piece.data, piece.length, position) : ::pwrite(fd, piece.data, piece.length, position);
    } while (moved < 0 && errno == EINTR);
    if (moved < 0) return status_from_errno(errno, describe(op));
    result<transfer_state> step = advance(op, static_cast<std::size_t>(moved));
    if (!step.ok()) return step.status();
    if (*step == transfer_state::finished) return status::ok();
  }
}

status run_open(file_open_op& op) {
  if (op.path == nullptr) return errors::invalid_argument(describe(op), ": path is null");
  int fd = -1;
  do {
    fd = ::open(op.path, posix_open_flags(op.open_flags), static_cast<mode_t>(op.permissions & 07777));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return status_from_errno(errno, describe(op));
  op.fd = fd;
  return status::ok();
}

status run_close(file_close_op& op) {
  if (::close(op.fd) != 0 && errno != EINTR) return status_from_errno(errno, describe(op));
  return status::ok();
}

status_code code_for_errno(int error_number) {
  switch (error_number) {
    case EBADF:
    case EINVAL:
    case EFAULT:
    case ESPIPE:
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
      return status_code::invalid_argument;
    case ENOENT:
    case ENXIO:
    case ENODEV:
      return status_code::not_found;
    case EEXIST:
      return status_code::already_exists;
    case EACCES:
    case EPERM:
    case EROFS:
      return status_code::permission_denied;
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EDQUOT:
    case ENOBUFS:
      return status_code::resource_exhausted;
    case EFBIG:
    case EOVERFLOW:
    case ERANGE:
      return status_code::out_of_range;
    case ECANCELED:
      return status_code::cancelled;
    case EAGAIN:
    case EBUSY:
    case EINTR:
    case ETXTBSY:
      return status_code::unavailable;
    case ETIME:
    case ETIMEDOUT:
      return status_code::deadline_exceeded;
    case ENOSYS:
    case EOPNOTSUPP:
      return status_code::unimplemented;
    case EIO:
      return status_code::data_loss;  // the device failed: written data may not have reached it
    case EPIPE:
      return status_code::failed_precondition;
    default:
      return status_code::unknown;
  }
}

}  // namespace

status status_from_errno(int error_number, const std::string& what) {
  const char* text = ::strerrordesc_np(error_number);  // thread-safe, unlike strerror
  return make_status(code_for_errno(error_number), what, ": ", text != nullptr ? text : "Unknown error", " (errno ",
                     error_number, ")");
}

chunk next_chunk(operation& op) {
  transfer_view view{};
  if (!view_of(op, view)) return {nullptr, 0, 0};
  const std::uint64_t progress = op_access::internal(op).progress;
  if (progress >= view.size) return {view.data + view.size, 0, view.offset + view.size};
  const std::size_t left = view.size - static_cast<std::size_t>(progress);
  return {view.data + progress, std::min(left, max_transfer_bytes), view.offset + progress};
}

result<transfer_state> advance(operation& op, std::size_t transferred) {
  transfer_view view{};
  if (!view_of(op, view)) return errors::internal("advance: ", describe(op), " is not a file transfer");
  const chunk asked = next_chunk(op);
  if (transferred > asked.length)
    return errors::internal(describe(op), ": the kernel reported ", transferred, " bytes for a chunk of ",
                            asked.length);
  if (transferred == 0 && asked.length != 0 && op.type() == op_type::file_write)
    return errors::data_loss(describe(op), ": write made no progress with ", asked.length, " bytes left");
  std::uint64_t& progress = op_access::internal(op).progress;
  progress += transferred;
  *view.out = static_cast<std::size_t>(progress);
  if (transferred == 0 || progress >= view.size) return transfer_state::finished;
  return transfer_state::incomplete;
}

status run_blocking(operation& op) {
  switch (op.type()) {
    case op_type::file_open:
      return run_open(static_cast<file_open_op&>(op));
    case op_type::file_read:
    case op_type::file_write:
      return run_transfer(op);
    case op_type::file_close:
      return run_close(static_cast<file_close_op&>(op));
    default:
      return errors::unimplemented("run_blocking: ", describe(op), " is not a file operation");
  }
}

int posix_open_flags(std::uint32_t open_flags) noexcept {
  const bool reads = (open_flags & open_flag::read) != 0;
  const bool writes = (open_flags & open_flag::write) != 0;
  int flags = O_CLOEXEC | (reads && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY);
  if (open_flags & open_flag::create) flags |= O_CREAT;
  if (open_flags & open_flag::truncate) flags |= O_TRUNC;
  if (open_flags & open_flag::append) flags |= O_APPEND;
  if (open_flags & open_flag::direct) flags |= O_DIRECT;
  if (open_flags & open_flag::exclusive) flags |= O_EXCL;
  return flags;
}

nowait_outcome try_nowait_read(file_read_op& op, status& out) {
  for (;;) {
    const chunk piece = next_chunk(op);
    if (piece.length == 0) return nowait_outcome::finished;
    iovec vector{piece.data, piece.length};
    ssize_t moved = 0;
    do {
      moved = ::preadv2(op.fd, &vector, 1, static_cast<off_t>(piece.offset), RWF_NOWAIT);
    } while (moved < 0 && errno == EINTR);
    if (moved < 0) {
      if (errno == EAGAIN || errno == EOPNOTSUPP) return nowait_outcome::would_block;
      out = status_from_errno(errno, describe(op));
      return nowait_outcome::failed;
    }
    result<transfer_state> step = advance(op, static_cast<std::size_t>(moved));
    if (!step.ok()) {
      out = step.status();
      return nowait_outcome::failed;
    }
    if (*step == transfer_state::finished) return nowait_outcome::finished;
  }
}

bool nowait_reads_supported() noexcept {
  // An empty pipe read at the current position (offset -1) with RWF_NOWAIT
  // says EAGAIN when the kernel knows the flag, EOPNOTSUPP when it does not
  // (ENOSYS without preadv2). Pipes take RWF_NOWAIT on every kernel that has
  // it for regular files worth reading inline; memfd/tmpfs may not, so it is no
  // probe.
  static const bool supported = [] {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    char byte = 0;
    iovec vector{&byte, 1};
    ssize_t moved = 0;
    do {
      moved = ::preadv2(ends[0], &vector, 1, -1, RWF_NOWAIT);
    } while (moved < 0 && errno == EINTR);
    const bool works = moved < 0 && errno == EAGAIN;
    ::close(ends[0]);
    ::close(ends[1]);
    return works;
  }();
  return supported;
}

std::string describe(const operation& op) {
  std::ostringstream text;
  text << to_string(op.type());
  switch (op.type()) {
    case op_type::file_open: {
      const auto& open = static_cast<const file_open_op&>(op);
      text << ' ';
      if (open.path == nullptr) {
        text << "(null path)";
      } else {
        text << '"' << open.path << '"';
      }
      text << " flags " << open_flag_names(open.open_flags);
      break;
    }
    case op_type::file_read:
    case op_type::file_write: {
      transfer_view view{};
      view_of(const_cast<operation&>(op), view);  // reads fields only
      text << " fd " << view.fd << " offset " << view.offset << " length " << view.size;
      const std::uint64_t progress = op_access::internal(op).progress;
      if (progress != 0) text << ", after " << progress << " bytes";
      break;
    }
    case op_type::file_close:
      text << " fd " << static_cast<const file_close_op&>(op).fd;
      break;
    default:
      break;
  }
  return text.str();
}

}  // namespace weft::io::detail
