// Internal to driver/base: reading small text files (sysfs) and quoting their
// contents in error messages.
#pragma once

#include <string>
#include <string_view>

#include "weft/base/result.hpp"

namespace weft::detail {

// The whole file (at most 1 MiB). NOT_FOUND when it does not exist,
// PERMISSION_DENIED or UNAVAILABLE for other failures; messages name the path.
result<std::string> read_text_file(const std::string& path);

// text without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

// text in double quotes, with control and non-ASCII bytes escaped (\n, \xNN)
// and anything past 80 bytes replaced by "...".
std::string quoted(std::string_view text);

}  // namespace weft::detail
