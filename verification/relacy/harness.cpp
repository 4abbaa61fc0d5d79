#include "harness.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace weft::verify {

const char* name_of(expect e) { return e == expect::pass ? "pass" : "caught"; }

const char* name_of(scheduler s) {
  switch (s) {
    case scheduler::random: return "random";
    case scheduler::bound: return "bound";
    case scheduler::full: return "full";
  }
  return "?";
}

rl::scheduler_type_e to_relacy(scheduler s) {
  switch (s) {
    case scheduler::random: return rl::sched_random;
    case scheduler::bound: return rl::sched_bound;
    case scheduler::full: return rl::sched_full;
  }
  return rl::sched_random;
}

std::vector<relacy_case>& registry() {
  static std::vector<relacy_case> cases;
  return cases;
}

int fixed_sink::overflow(int c) {
  if (c != traits_type::eof() && size_ < sizeof buffer_) buffer_[size_++] = static_cast<char>(c);
  return c == traits_type::eof() ? 0 : c;
}

std::streamsize fixed_sink::xsputn(const char* s, std::streamsize n) {
  for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
  return n;
}

progress_sink& progress() {
  static progress_sink sink;
  return sink;
}

void progress_sink::begin(const char* label) {
  std::snprintf(label_, sizeof label_, "%s", label);
  size_ = 0;
  if (!enabled_) return;
  char text[256];
  const int n = std::snprintf(text, sizeof text, "\r\033[K%s", label_);
  if (n > 0) (void)!::write(STDERR_FILENO, text, static_cast<std::size_t>(n < 256 ? n : 255));
}

int progress_sink::overflow(int c) {
  if (c == traits_type::eof()) return 0;
  if (c != '\n') {
    if (size_ + 1 < sizeof line_) line_[size_++] = static_cast<char>(c);
    return c;
  }
  line_[size_] = '\0';
  size_ = 0;
  if (enabled_) {
    char text[448];
    const int n = std::snprintf(text, sizeof text, "\r\033[K%s  %s", label_, line_);
    if (n > 0) (void)!::write(STDERR_FILENO, text, static_cast<std::size_t>(n < 448 ? n : 447));
  }
  return c;
}

}  // namespace weft::verify
