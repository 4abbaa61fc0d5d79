// The CTS fixture (cts.hpp): configurations, completion log, resource
// ownership, the fd leak check.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cts.hpp"

namespace weft::io::cts {

std::vector<backend_config> all_configs() {
  return {
      {"io_uring", backend_kind::io_uring, capability::all},
      {"io_uring_minimal", backend_kind::io_uring, minimal_uring_capabilities},
      {"epoll", backend_kind::epoll, capability::all},
  };
}

std::vector<backend_config> file_configs() {
  std::vector<backend_config> configs = all_configs();
  configs.push_back({"io_uring_kernel_reads", backend_kind::io_uring, capability::all & ~capability::nowait_reads});
  return configs;
}

std::string config_name(const ::testing::TestParamInfo<backend_config>& info) { return info.param.name; }

int iterations(int normal) {
#if defined(WEFT_SANITIZER_THREAD)
  return normal / 8 + 1;
#elif defined(WEFT_SANITIZER_ADDRESS)
  return normal / 3 + 1;
#else
  return normal;
#endif
}

int count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory's own descriptor
}

void completion_log::record(void* self, operation& op, status result) {
  auto* log = static_cast<completion_log*>(self);
  const std::lock_guard lock(log->mutex_);
  log->entries_.push_back({&op, std::move(result), monotonic_now_ns()});
}

std::size_t completion_log::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t completion_log::count(const operation& op) const {
  const std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const completion& c : entries_) n += c.op == &op ? 1 : 0;
  return n;
}

status completion_log::result(const operation& op) const {
  const std::lock_guard lock(mutex_);
  for (const completion& c : entries_) {
    if (c.op == &op) return c.result;
  }
  return errors::internal("no callback for this ", to_string(op.type()), " operation");
}

std::int64_t completion_log::time_of(const operation& op) const {
  const std::lock_guard lock(mutex_);
  for (const completion& c : entries_) {
    if (c.op == &op) return c.at_ns;
  }
  return 0;
}

std::vector<const operation*> completion_log::order() const {
  const std::lock_guard lock(mutex_);
  std::vector<const operation*> ops;
  for (const completion& c : entries_) ops.push_back(c.op);
  return ops;
}

std::vector<completion> completion_log::entries() const {
  const std::lock_guard lock(mutex_);
  return entries_;
}

void handshake::raise() {
  {
    const std::lock_guard lock(mutex_);
    raised_ = true;
  }
  changed_.notify_all();
}

bool handshake::wait(std::chrono::milliseconds budget) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, budget, [&] { return raised_; });
}

bool handshake::raised() const {
  const std::lock_guard lock(mutex_);
  return raised_;
}

void proactor_cts::SetUp() {
  fds_before_ = count_open_fds();
  proactor_options options;
  options.backend = config().kind;
  options.allowed_capabilities = config().allowed_capabilities;
  options.name = std::string("cts-") + config().name;
  customize(options);
  result<std::unique_ptr<proactor>> created = proactor::create(options);
  if (!created.ok() && created.status().code() == status_code::unavailable) {
    GTEST_SKIP() << config().name << " is unavailable here: " << created.status();
  }
  ASSERT_TRUE(created.ok()) << created.status();
  proactor_ = std::move(created).value();
}

void proactor_cts::TearDown() {
  if (proactor_) {
    // Deliver what is ready (a test that passed left nothing in flight);
    // destruction cancels the rest and runs their callbacks.
    for (int round = 0; round < 100; ++round) {
      result<std::size_t> polled = proactor_->poll(deadline::immediate());
      if (!polled.ok() || *polled == 0) break;
    }
    proactor_.reset();
  }
  owned_.clear();
  semaphores_.clear();
  semaphore_lists_.clear();
  value_lists_.clear();
  events_.clear();
  notifications_.clear();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
  EXPECT_EQ(count_open_fds(), fds_before_) << "file descriptors leaked (or closed) by the test";
}

std::span<std::byte> proactor_cts::make_buffer(std::size_t size, std::byte fill) {
  auto bytes = std::make_shared<std::vector<std::byte>>(size, fill);
  std::span<std::byte> view(*bytes);
  owned_.push_back(std::move(bytes));
  return view;
}

semaphore& proactor_cts::make_semaphore(std::uint64_t initial) { return semaphores_.emplace_back(initial); }

semaphore_wait_op& proactor_cts::make_semaphore_wait(std::initializer_list<semaphore*> semaphores,
                                                     std::initializer_list<std::uint64_t> values, wait_mode mode) {
  auto& wait = make<semaphore_wait_op>();
  wait.mode = mode;
  wait.semaphores = semaphore_lists_.emplace_back(semaphores);
  wait.values = value_lists_.emplace_back(values);
  return wait;
}

semaphore_signal_op& proactor_cts::make_semaphore_signal(std::initializer_list<semaphore*> semaphores,
                                                         std::initializer_list<std::uint64_t> values) {
  auto& signal = make<semaphore_signal_op>();
  signal.semaphores = semaphore_lists_.emplace_back(semaphores);
  signal.values = value_lists_.emplace_back(values);
  return signal;
}

event_ptr proactor_cts::make_event() {
  result<event_ptr> created = event::create();
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return {};
  events_.push_back(*created);
  return *created;
}

notification_ptr proactor_cts::make_notification() {
  result<notification_ptr> created = notification::create();
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return {};
  notifications_.push_back(*created);
  return *created;
}

std::string proactor_cts::temp_path(const std::string& name) {
  if (temp_dir_.empty()) {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/weft-cts-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
      return "/nonexistent/" + name;
    }
    temp_dir_ = pattern;
  }
  return temp_dir_ + "/" + name;
}

int proactor_cts::make_file(const std::string& name, std::size_t size) {
  const std::string path = temp_path(name);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << "open " << path << ": " << std::strerror(errno);
  if (fd < 0) return fd;
  std::vector<std::byte> content(size);
  for (std::size_t i = 0; i < size; ++i) content[i] = byte_at(i);
  EXPECT_EQ(::pwrite(fd, content.data(), size, 0), static_cast<ssize_t>(size));
  return adopt_fd(fd);
}

int proactor_cts::adopt_fd(int fd) {
  fds_.push_back(fd);
  return fd;
}

void proactor_cts::forget_fd(int fd) { std::erase(fds_, fd); }

bool proactor_cts::poll_until(const std::function<bool()>& done, std::chrono::milliseconds budget) {
  const deadline until = deadline::after(budget);
  while (!done()) {
    if (until.expired()) return false;
    result<std::size_t> polled = proactor_->poll(until);
    if (!polled.ok()) {
      ADD_FAILURE() << "poll: " << polled.status();
      return false;
    }
  }
  return true;
}

status proactor_cts::await_callback(const operation& op, std::size_t nth, std::chrono::milliseconds budget) {
  const char* type = to_string(op.type());
  if (!poll_until([&] { return log.count(op) >= nth; }, budget)) {
    ADD_FAILURE() << "callback " << nth << " of a " << type << " operation did not come within " << budget.count()
                  << " ms";
    return errors::deadline_exceeded("callback ", nth, " of a ", type, " operation did not come");
  }
  EXPECT_EQ(log.count(op), nth) << "a " << type << " operation got more callbacks than it was submitted";
  std::size_t seen = 0;
  for (const completion& entry : log.entries()) {
    if (entry.op == &op && ++seen == nth) return entry.result;
  }
  return errors::internal("unreachable: the completion log only grows");
}

status proactor_cts::submit_and_await(operation& op, std::chrono::milliseconds budget) {
  const std::size_t nth = log.count(op) + 1;
  const status submitted = proactor_->submit(op);
  if (!submitted.is_ok()) {
    ADD_FAILURE() << "submit of a " << to_string(op.type()) << " operation refused: " << submitted;
    return submitted;
  }
  return await_callback(op, nth, budget);
}

std::size_t proactor_cts::poll_for(std::chrono::milliseconds span) {
  const deadline until = deadline::after(span);
  std::size_t callbacks = 0;
  do {
    result<std::size_t> polled = proactor_->poll(until);
    if (!polled.ok()) {
      ADD_FAILURE() << "poll: " << polled.status();
      break;
    }
    callbacks += *polled;
  } while (!until.expired());
  return callbacks;
}

status proactor_cts::submit_batch(std::initializer_list<operation*> ops) {
  return proactor_->submit(std::span<operation* const>(ops.begin(), ops.size()));
}

}  // namespace weft::io::cts
