// File-I/O helpers shared by the io_uring and epoll backends, the file-I/O
// worker pool and the core: errno mapping, the arithmetic of continued and
// clamped transfers, a blocking runner for the workers, and the inline
// RWF_NOWAIT read. Internal to driver/proactor.
//
// Transfers. A file_read_op / file_write_op covers its whole buffer; the
// kernel may move fewer bytes per call, and one call moves at most
// max_transfer_bytes. op_internal::progress counts the bytes already moved, so
// whoever issues the next call does:
//
//   chunk piece = next_chunk(op);                      // from progress, clamped
//   ssize_t n = pread(fd, piece.data, piece.length, piece.offset);
//   if (n < 0) -> status_from_errno(errno, describe(op))
//   result<transfer_state> step = advance(op, n);      // progress + out field
//   !step.ok()                          -> complete with step.status()
//   *step == transfer_state::finished   -> complete OK
//   else                                -> issue next_chunk(op) again
//
// A read that transfers 0 bytes reached end-of-file: finished, OK, with
// bytes_read < buffer size. A write that transfers 0 bytes while bytes are left
// can make no progress: advance() returns DATA_LOSS naming the op.
//
// Threads: every function works on the one operation it is given and keeps no
// state; the caller must own the operation (the poll thread, or the worker that
// dequeued it). status_from_errno, posix_open_flags and nowait_reads_supported
// may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "backend.hpp"
#include "weft/base/result.hpp"
#include "weft/io/operation.hpp"

namespace weft::io::detail {

// The next piece of a file_read / file_write: `length` bytes at file position
// `offset`, into or from `data` (for a write, data points at const bytes the
// caller must not write through). length is 0 when nothing is left, or when op
// is not a read or write.
struct chunk {
  void* data;
  std::size_t length;
  std::uint64_t offset;
};
chunk next_chunk(operation& op);

enum class transfer_state : std::uint8_t {
  incomplete,  // bytes are left: issue next_chunk(op)
  finished,    // the buffer is done, or a read reached end-of-file
};

// Records `transferred` bytes of the chunk next_chunk(op) returned: adds them to
// op_internal::progress and sets bytes_read / bytes_written to the total.
// Errors: DATA_LOSS for a 0-byte write with bytes left; INTERNAL if
// `transferred` exceeds what next_chunk asked for, or op is not a read/write
// (nothing is recorded then).
result<transfer_state> advance(operation& op, std::size_t transferred);

// Performs file_open / file_read / file_write / file_close synchronously
// (reads and writes continue from progress until done, end-of-file or an error;
// EINTR is retried) and fills the out fields. Blocks; used by file workers.
// Other op types: UNIMPLEMENTED. A close that reports EINTR counts as done (on
// Linux the descriptor is released either way; retrying could close a reused
// descriptor).
status run_blocking(operation& op);

// The open(2) flags for open_flag bits: O_RDONLY / O_WRONLY / O_RDWR (neither
// read nor write: O_RDONLY), O_CREAT, O_TRUNC, O_APPEND, O_DIRECT, O_EXCL, and
// always O_CLOEXEC. Bits outside open_flag::all are ignored (the core rejects
// them at submit).
int posix_open_flags(std::uint32_t open_flags) noexcept;

enum class nowait_outcome : std::uint8_t {
  finished,     // buffer full or end-of-file; bytes_read holds the total
  would_block,  // not (all) in the page cache: progress kept, continue asynchronously
  failed,       // `out` holds the error
};
// preadv2(RWF_NOWAIT) from progress until finished or the kernel would block.
// EINTR is retried; EAGAIN, and EOPNOTSUPP (the file does not take RWF_NOWAIT),
// are would_block. Bytes read before would_block stay recorded in progress.
nowait_outcome try_nowait_read(file_read_op& op, status& out);

// Whether this kernel takes preadv2(..., RWF_NOWAIT) (Linux 4.14+; probed once
// on an empty pipe and cached). A given file may still refuse it (memfd and
// tmpfs do on some kernels): try_nowait_read then says would_block. Any thread.
bool nowait_reads_supported() noexcept;

// "file_read fd 5 offset 4096 length 65536" (", after 8192 bytes" once some
// were transferred), "file_open \"/tmp/x\" flags read|write", "file_close fd 5",
// "timer", ... — the prefix of every error message about op.
std::string describe(const operation& op);

}  // namespace weft::io::detail
