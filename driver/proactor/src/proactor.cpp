// weft::io::proactor: the public face of detail::core.
#include "weft/io/proactor.hpp"

#include <utility>

#include "core.hpp"

namespace weft::io {

const char* to_string(op_type type) noexcept {
  switch (type) {
    case op_type::nop: return "nop";
    case op_type::timer: return "timer";
    case op_type::event_wait: return "event_wait";
    case op_type::event_signal: return "event_signal";
    case op_type::notification_wait: return "notification_wait";
    case op_type::notification_signal: return "notification_signal";
    case op_type::file_open: return "file_open";
    case op_type::file_read: return "file_read";
    case op_type::file_write: return "file_write";
    case op_type::file_close: return "file_close";
    case op_type::semaphore_wait: return "semaphore_wait";
    case op_type::semaphore_signal: return "semaphore_signal";
  }
  return "unknown";
}

const char* to_string(backend_kind kind) noexcept {
  switch (kind) {
    case backend_kind::automatic: return "automatic";
    case backend_kind::io_uring: return "io_uring";
    case backend_kind::epoll: return "epoll";
  }
  return "unknown";
}

std::string capabilities_to_string(std::uint32_t capabilities) {
  static constexpr struct {
    std::uint32_t bit;
    const char* name;
  } names[] = {
      {capability::kernel_ring, "kernel_ring"},       {capability::single_issuer, "single_issuer"},
      {capability::defer_taskrun, "defer_taskrun"},   {capability::kernel_file_io, "kernel_file_io"},
      {capability::kernel_links, "kernel_links"},     {capability::nowait_reads, "nowait_reads"},
      {capability::multishot_poll, "multishot_poll"},
  };
  std::string out;
  for (const auto& n : names) {
    if ((capabilities & n.bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += n.name;
  }
  return out.empty() ? "none" : out;
}

result<std::unique_ptr<proactor>> proactor::create(const proactor_options& options) {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<detail::core> core, detail::core::create(options));
  return std::unique_ptr<proactor>(new proactor(std::move(core)));
}

proactor::proactor(std::unique_ptr<detail::core> core) noexcept : core_(std::move(core)) {}
proactor::~proactor() = default;

status proactor::submit(operation& op) {
  operation* one[] = {&op};
  return core_->submit(one);
}
status proactor::submit(std::span<operation* const> batch) { return core_->submit(batch); }
result<std::size_t> proactor::poll(deadline until) { return core_->poll(until); }
void proactor::wake() { core_->wake(); }
status proactor::cancel(operation& op) { return core_->cancel(op); }
backend_kind proactor::backend() const noexcept { return core_->kind(); }
std::uint32_t proactor::capabilities() const noexcept { return core_->capabilities(); }

}  // namespace weft::io
