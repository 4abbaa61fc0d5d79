// event and notification: eventfd-backed waitables.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <new>

#include "backend.hpp"
#include "weft/io/event.hpp"
#include "weft/io/notification.hpp"

namespace weft::io {

namespace detail {

waitable::~waitable() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {
// Reads the eventfd counter (resetting it); 0 when it was already zero.
std::uint64_t drain_eventfd(int fd) {
  std::uint64_t value = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &value, sizeof value);
    if (n == static_cast<ssize_t>(sizeof value)) return value;
    if (n < 0 && errno == EINTR) continue;
    return 0;  // EAGAIN: not signaled
  }
}

status signal_eventfd(int fd, const char* what) {
  const std::uint64_t one = 1;
  for (;;) {
    const ssize_t n = ::write(fd, &one, sizeof one);
    if (n == static_cast<ssize_t>(sizeof one)) return status::ok();
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: the counter is at its maximum, i.e. already signaled.
    if (n < 0 && errno == EAGAIN) return status::ok();
    return status_from_errno(errno, std::string(what) + ": eventfd write");
  }
}

result<int> make_eventfd(const char* what) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return status_from_errno(errno, std::string(what) + ": eventfd");
  return fd;
}
}  // namespace

}  // namespace detail

result<ref_ptr<event>> event::create() {
  WEFT_ASSIGN_OR_RETURN(int fd, detail::make_eventfd("event::create"));
  event* e = new (std::nothrow) event();
  if (e == nullptr) {
    ::close(fd);
    return errors::resource_exhausted("event::create: out of memory");
  }
  e->fd_ = fd;
  return ref_ptr<event>::adopt(e);
}

status event::set() { return detail::signal_eventfd(fd_, "event::set"); }

bool event::try_consume() { return detail::drain_eventfd(fd_) != 0; }

result<ref_ptr<notification>> notification::create() {
  WEFT_ASSIGN_OR_RETURN(int fd, detail::make_eventfd("notification::create"));
  notification* n = new (std::nothrow) notification();
  if (n == nullptr) {
    ::close(fd);
    return errors::resource_exhausted("notification::create: out of memory");
  }
  n->fd_ = fd;
  return ref_ptr<notification>::adopt(n);
}

void notification::signal(std::int32_t wake_count) {
  // The epoch moves only when someone observes (event_count's no-waiter fast
  // path); proactor waits hold an observation, so they are counted, and the
  // eventfd write that wakes their watch is needed only then.
  const bool observed = wake_count == 1 ? epoch_.notify_one() : epoch_.notify_all();
  if (observed) static_cast<void>(detail::signal_eventfd(fd_, "notification::signal"));
}

void notification::drain() { static_cast<void>(detail::drain_eventfd(fd_)); }

}  // namespace weft::io
