#include "file_workers.hpp"

#include <new>
#include <utility>

#include "file_io.hpp"

namespace weft::io::detail {
namespace {
operation*& next_of(operation& op) { return op_access::internal(op).local_next; }
}  // namespace

result<std::unique_ptr<file_workers>> file_workers::create(std::uint32_t count, remote_sink& sink, std::string name) {
  if (count < 1 || count > 64) return errors::invalid_argument("file workers: count ", count, " is outside [1, 64]");
  std::unique_ptr<file_workers> pool(new (std::nothrow) file_workers(sink));
  if (pool == nullptr) return errors::resource_exhausted("file workers: cannot allocate the pool");
  pool->threads_.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index) {
    thread_options options{.name = name + "-io" + std::to_string(index)};
    result<thread> started = thread::start(std::move(options), [raw = pool.get()] { raw->run(); });
    if (!started.ok()) return annotate(started.status(), "file workers");  // ~file_workers joins the others
    pool->threads_.push_back(std::move(*started));
  }
  return pool;
}

file_workers::~file_workers() {
  operation* queued = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queued = std::exchange(head_, nullptr);
    tail_ = nullptr;
  }
  work_available_.notify_all();
  // Queued ops are posted before the join: no worker can take them any more,
  // and their owners need not wait for a long transfer a worker is running.
  while (queued != nullptr) {
    operation& op = *queued;
    queued = std::exchange(next_of(op), nullptr);
    sink_.post(op, errors::cancelled(describe(op), ": cancelled (the file workers stopped)"));
  }
  for (thread& worker : threads_) worker.join();
}

void file_workers::start(operation& op) {
  next_of(op) = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tail_ == nullptr) {
      head_ = &op;
    } else {
      next_of(*tail_) = &op;
    }
    tail_ = &op;
  }
  work_available_.notify_one();
}

bool file_workers::cancel(operation& op) {
  std::lock_guard<std::mutex> lock(mutex_);
  operation* previous = nullptr;
  for (operation* current = head_; current != nullptr; previous = current, current = next_of(*current)) {
    if (current != &op) continue;
    operation* const after = next_of(op);
    if (previous == nullptr) {
      head_ = after;
    } else {
      next_of(*previous) = after;
    }
    if (tail_ == &op) tail_ = previous;
    next_of(op) = nullptr;
    return true;
  }
  return false;
}

void file_workers::run() {
  for (;;) {
    operation* op = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_available_.wait(lock, [this] { return stopping_ || head_ != nullptr; });
      if (stopping_) return;  // what is still queued is the destructor's to cancel
      op = head_;
      head_ = next_of(*op);
      if (head_ == nullptr) tail_ = nullptr;
      next_of(*op) = nullptr;
    }
    status result = run_blocking(*op);
    sink_.post(*op, std::move(result));
  }
}

}  // namespace weft::io::detail
