#include "text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weft::detail {

namespace {

constexpr std::size_t max_file_bytes = 1 << 20;

// Closes the descriptor on every path out of read_text_file.
struct descriptor {
  int fd;
  ~descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

status open_failure(const std::string& path, int error) {
  const std::string reason = std::strerror(error);
  if (error == ENOENT || error == ENOTDIR) return errors::not_found(path, ": ", reason);
  if (error == EACCES || error == EPERM) return errors::permission_denied(path, ": ", reason);
  return errors::unavailable(path, ": ", reason);
}

}  // namespace

result<std::string> read_text_file(const std::string& path) {
  descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return open_failure(path, errno);
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(file.fd, chunk, sizeof chunk);
    if (n == 0) return text;
    if (n < 0) {
      if (errno == EINTR) continue;
      return open_failure(path, errno);
    }
    if (text.size() + static_cast<std::size_t>(n) > max_file_bytes) {
      return errors::invalid_argument(path, ": file is larger than ", max_file_bytes, " bytes");
    }
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t\n\r\f\v";
  const std::size_t first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

std::string quoted(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      char escape[5];
      std::snprintf(escape, sizeof escape, "\\x%02X", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_shown) out += "...";
  out += '"';
  return out;
}

}  // namespace weft::detail
