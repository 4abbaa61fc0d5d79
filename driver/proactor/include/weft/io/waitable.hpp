// weft::io::detail::waitable — what event and notification share: an eventfd,
// a reference count, and the poll thread's private list of operations waiting
// on it. Plus ref_ptr, the owning handle of a reference-counted object.
//
// The waiter list and the watch state are touched only by the poll thread of
// the one proactor that waits on the object (async waits on one object from
// two proactors are rejected with FAILED_PRECONDITION).
//
// Thread safety: retain/release from any thread (weft::ref_count: acq_rel on
// the last release so the deleter sees every holder's writes).
#pragma once

#include <cstdint>
#include <utility>

#include "weft/ref_count.hpp"

namespace weft::io {

class operation;
class event;
class notification;

// An owning pointer to a reference-counted weft::io object (event, notification).
template <class T>
class ref_ptr {
 public:
  ref_ptr() noexcept = default;
  // Adopts one reference the caller already holds.
  static ref_ptr adopt(T* object) noexcept {
    ref_ptr p;
    p.object_ = object;
    return p;
  }
  ref_ptr(const ref_ptr& other) noexcept : object_(other.object_) {
    if (object_) object_->retain();
  }
  ref_ptr(ref_ptr&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  ref_ptr& operator=(ref_ptr other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }
  ~ref_ptr() {
    if (object_) object_->release();
  }
  T* get() const noexcept { return object_; }
  T* operator->() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }

 private:
  T* object_ = nullptr;
};

namespace detail {
class core;

class waitable {
 public:
  waitable(const waitable&) = delete;
  waitable& operator=(const waitable&) = delete;

  int fd() const noexcept { return fd_; }
  void retain() noexcept { refs_.acquire(); }
  void release() noexcept {
    if (refs_.release()) delete this;
  }

 protected:
  waitable() = default;
  virtual ~waitable();

 private:
  friend class core;
  friend class weft::io::event;
  friend class weft::io::notification;

  int fd_ = -1;  // eventfd, EFD_NONBLOCK | EFD_CLOEXEC
  ref_count<> refs_{1};
  // Poll-thread state of the one proactor that waits on this object.
  core* watcher_ = nullptr;            // set by the first async wait, cleared when idle
  operation* waiters_head_ = nullptr;  // FIFO through op_internal::local_next
  operation* waiters_tail_ = nullptr;
  bool watch_armed_ = false;
  bool disarm_requested_ = false;
  alignas(8) unsigned char watch_scratch_[32] = {};  // backend's per-watch state
};
}  // namespace detail

}  // namespace weft::io
