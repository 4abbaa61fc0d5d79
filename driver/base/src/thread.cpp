#include "weft/base/thread.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <utility>

#include "text_file.hpp"
#include "weft/base/topology.hpp"

namespace weft {

namespace {

constexpr std::size_t max_name_bytes = 15;  // Linux: 16 including the terminating NUL

std::string cut_name(std::string name) {
  if (name.size() <= max_name_bytes) return name;
  std::size_t keep = max_name_bytes;
  // Do not split a UTF-8 character: back up over its continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
  name.resize(keep);
  return name;
}

struct cpu_set_deleter {
  void operator()(cpu_set_t* set) const { CPU_FREE(set); }
};

// A dynamically sized cpu_set_t (ids may exceed CPU_SETSIZE).
struct cpu_mask {
  std::unique_ptr<cpu_set_t, cpu_set_deleter> set;
  std::size_t bytes = 0;
  std::size_t bits = 0;

  static cpu_mask with_bits(std::size_t bits) {
    cpu_mask mask;
    mask.set.reset(CPU_ALLOC(bits));
    mask.bytes = CPU_ALLOC_SIZE(bits);
    mask.bits = bits;
    if (mask.set) CPU_ZERO_S(mask.bytes, mask.set.get());
    return mask;
  }
  bool has(std::uint32_t cpu) const { return cpu < bits && CPU_ISSET_S(cpu, bytes, set.get()); }
};

// Checks ids against max_cpu_id and the online list, and builds their mask.
result<cpu_mask> mask_of(std::span<const std::uint32_t> cpus, std::string_view who) {
  if (cpus.empty()) return errors::invalid_argument(who, ": the cpu list is empty");
  for (std::uint32_t cpu : cpus) {
    if (cpu > max_cpu_id)
      return errors::invalid_argument(who, ": cpu ", cpu, " exceeds the largest cpu id ", max_cpu_id);
  }
  const std::string online_path = "/sys/devices/system/cpu/online";
  result<std::string> online_text = detail::read_text_file(online_path);
  if (online_text.ok()) {
    result<std::vector<std::uint32_t>> online = parse_cpulist(*online_text);
    if (online.ok()) {
      for (std::uint32_t cpu : cpus) {
        if (!std::binary_search(online->begin(), online->end(), cpu)) {
          return errors::invalid_argument(who, ": cpu ", cpu, " is not online (online cpus: ", format_cpulist(*online),
                                          ")");
        }
      }
    }
  }
  const std::uint32_t largest = *std::max_element(cpus.begin(), cpus.end());
  cpu_mask mask = cpu_mask::with_bits(std::size_t{largest} + 1);
  if (!mask.set) return errors::resource_exhausted(who, ": cannot allocate a cpu mask for cpu ", largest);
  for (std::uint32_t cpu : cpus) CPU_SET_S(cpu, mask.bytes, mask.set.get());
  return mask;
}

std::string list_of(std::span<const std::uint32_t> cpus) {
  return format_cpulist(std::vector<std::uint32_t>(cpus.begin(), cpus.end()));
}

status affinity_failure(std::string_view who, std::span<const std::uint32_t> cpus, int error) {
  if (error == EINVAL) {
    return errors::unavailable(who, ": none of cpus ", list_of(cpus), " is allowed for this process (",
                               std::strerror(error), ")");
  }
  if (error == EPERM)
    return errors::permission_denied(who, ": pinning to cpus ", list_of(cpus), ": ", std::strerror(error));
  return errors::internal(who, ": pinning to cpus ", list_of(cpus), ": ", std::strerror(error));
}

result<cpu_mask> affinity_mask() {
  for (std::size_t bits = CPU_SETSIZE; bits <= std::size_t{max_cpu_id} + 1; bits *= 2) {
    cpu_mask mask = cpu_mask::with_bits(bits);
    if (!mask.set) return errors::resource_exhausted("current_thread_affinity: cannot allocate a cpu mask");
    if (sched_getaffinity(0, mask.bytes, mask.set.get()) == 0) return mask;
    if (errno != EINVAL) return errors::internal("current_thread_affinity: sched_getaffinity: ", std::strerror(errno));
  }
  return errors::internal("current_thread_affinity: the kernel's cpu mask is larger than ", max_cpu_id + 1, " bits");
}

struct start_block {
  std::function<void()> body;
  std::string name;
};

void* thread_entry(void* argument) {
  const std::unique_ptr<start_block> start(static_cast<start_block*>(argument));
  if (!start->name.empty()) pthread_setname_np(pthread_self(), start->name.c_str());
  start->body();
  return nullptr;
}

// Destroys a pthread_attr_t on every path out of thread::start.
struct attr_guard {
  pthread_attr_t* attr;
  ~attr_guard() { pthread_attr_destroy(attr); }
};

}  // namespace

result<thread> thread::start(thread_options options, std::function<void()> body) {
  std::string name = cut_name(std::move(options.name));
  const std::string who = "thread::start '" + name + "'";
  if (!body) return errors::invalid_argument(who, ": the body is empty");

  pthread_attr_t attr;
  if (const int error = pthread_attr_init(&attr); error != 0) {
    return errors::resource_exhausted(who, ": pthread_attr_init: ", std::strerror(error));
  }
  const attr_guard guard{&attr};
  if (options.stack_size != 0) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::size_t stack = std::max<std::size_t>(options.stack_size, PTHREAD_STACK_MIN);
    if (stack > SIZE_MAX - page)
      return errors::invalid_argument(who, ": stack size ", options.stack_size, " is too large");
    stack = (stack + page - 1) / page * page;
    if (const int error = pthread_attr_setstacksize(&attr, stack); error != 0) {
      return errors::invalid_argument(who, ": stack size ", options.stack_size, ": ", std::strerror(error));
    }
  }
  cpu_mask mask;
  if (!options.cpus.empty()) {
    result<cpu_mask> built = mask_of(options.cpus, who);
    if (!built.ok()) return built.status();
    mask = std::move(built).value();
    if (const int error = pthread_attr_setaffinity_np(&attr, mask.bytes, mask.set.get()); error != 0) {
      return affinity_failure(who, options.cpus, error);
    }
  }

  auto block = std::make_unique<start_block>(start_block{std::move(body), name});
  pthread_t handle;
  if (const int error = pthread_create(&handle, &attr, thread_entry, block.get()); error != 0) {
    if (!options.cpus.empty() && error == EINVAL) return affinity_failure(who, options.cpus, error);
    if (error == EAGAIN) return errors::resource_exhausted(who, ": pthread_create: ", std::strerror(error));
    if (error == EPERM) return errors::permission_denied(who, ": pthread_create: ", std::strerror(error));
    return errors::internal(who, ": pthread_create: ", std::strerror(error));
  }
  static_cast<void>(block.release());  // the new thread owns it now
  thread started;
  started.handle_ = handle;
  started.joinable_ = true;
  started.name_ = std::move(name);
  return started;
}

thread::thread(thread&& other) noexcept
    : handle_(other.handle_), joinable_(std::exchange(other.joinable_, false)), name_(std::move(other.name_)) {}

thread& thread::operator=(thread&& other) noexcept {
  if (this != &other) {
    join();
    handle_ = other.handle_;
    joinable_ = std::exchange(other.joinable_, false);
    name_ = std::move(other.name_);
  }
  return *this;
}

thread::~thread() { join(); }

void thread::join() {
  if (!joinable_) return;
  assert(!pthread_equal(handle_, pthread_self()) && "weft::thread::join from the thread itself");
  joinable_ = false;
  if (pthread_join(handle_, nullptr) != 0) pthread_detach(handle_);  // EDEADLK: joining itself
}

status pin_current_thread(std::span<const std::uint32_t> cpus) {
  constexpr std::string_view who = "pin_current_thread";
  result<cpu_mask> wanted = mask_of(cpus, who);
  if (!wanted.ok()) return wanted.status();
  result<cpu_mask> previous = affinity_mask();
  if (!previous.ok()) return previous.status();
  if (sched_setaffinity(0, wanted->bytes, wanted->set.get()) != 0) return affinity_failure(who, cpus, errno);
  result<cpu_mask> effective = affinity_mask();
  if (!effective.ok()) return effective.status();
  for (std::uint32_t cpu : cpus) {
    if (!effective->has(cpu)) {
      static_cast<void>(sched_setaffinity(0, previous->bytes, previous->set.get()));
      return errors::unavailable(who, ": cpu ", cpu, " is online but not allowed for this process (cpuset)");
    }
  }
  return status::ok();
}

result<std::vector<std::uint32_t>> current_thread_affinity() {
  result<cpu_mask> mask = affinity_mask();
  if (!mask.ok()) return mask.status();
  std::vector<std::uint32_t> cpus;
  for (std::size_t cpu = 0; cpu < mask->bits; ++cpu) {
    if (mask->has(static_cast<std::uint32_t>(cpu))) cpus.push_back(static_cast<std::uint32_t>(cpu));
  }
  return cpus;
}

std::string current_thread_name() {
  char name[max_name_bytes + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return {};
  return name;
}

int current_cpu() { return sched_getcpu(); }

}  // namespace weft
