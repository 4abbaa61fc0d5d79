// weft::status — an error as a value: a code plus a message that says what was
// wrong and with which values.
//
//   weft::status set_workers(std::uint32_t n) {
//     if (n == 0 || n > max_workers)
//       return weft::errors::invalid_argument("worker count ", n, " is outside [1, ", max_workers, "]");
//     return weft::status::ok();
//   }
//   if (weft::status s = set_workers(0); !s.is_ok()) log(s.to_string());
//   // "INVALID_ARGUMENT: worker count 0 is outside [1, 256]"
//
// Guarantees:
//   - an ok status allocates nothing and is one null pointer wide; copying or
//     moving it is a pointer copy. A non-ok status owns one heap block
//     {code, message}; copying it copies the block.
//   - a status built with status_code::ok is ok whatever message it was given
//     (the message is dropped), so `is_ok()` and `code() == ok` always agree.
//   - equality compares code and message.
//
// Message convention (driver/base/README.md): lowercase, no trailing period;
// start with the operation or file concerned, then what was wrong, naming the
// offending values and the limit they broke. make_status streams its parts
// with operator<< (bool as true/false); note that a std::uint8_t or char part
// prints as a character, so widen small integers before passing them.
//
// Thread safety: a value type. Distinct objects may be used from different
// threads; one object is not synchronized (like std::string).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace weft {

enum class status_code : std::uint8_t {
  ok,
  cancelled,
  invalid_argument,
  out_of_range,
  not_found,
  already_exists,
  resource_exhausted,
  failed_precondition,
  aborted,
  unavailable,
  deadline_exceeded,
  data_loss,
  permission_denied,
  unimplemented,
  internal,
  unknown,
};

// "OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for a value outside the enum.
std::string_view to_string(status_code code);
std::ostream& operator<<(std::ostream& out, status_code code);

class [[nodiscard]] status {
 public:
  status() noexcept = default;  // ok
  status(status_code code, std::string message);
  status(const status& other);
  status& operator=(const status& other);
  status(status&&) noexcept = default;
  status& operator=(status&&) noexcept = default;
  ~status() = default;

  static status ok() noexcept { return status(); }

  bool is_ok() const noexcept { return error_ == nullptr; }
  status_code code() const noexcept { return error_ ? error_->code : status_code::ok; }
  const std::string& message() const noexcept;  // empty for ok
  // "OK", or "CODE: message" ("CODE" alone when the message is empty).
  std::string to_string() const;

  friend bool operator==(const status& a, const status& b);

 private:
  struct error {
    status_code code;
    std::string message;
  };
  std::unique_ptr<error> error_;  // null exactly when ok
};

std::ostream& operator<<(std::ostream& out, const status& s);

// The status whose message is the parts streamed together; ok (and no
// formatting) when code is ok.
template <class... Parts>
status make_status(status_code code, const Parts&... parts) {
  if (code == status_code::ok) return status();
  std::ostringstream text;
  text << std::boolalpha;
  (text << ... << parts);
  return status(code, std::move(text).str());
}

// The same code with "context: " in front of the message; ok stays ok.
status annotate(const status& s, std::string_view context);

// Shorthands: weft::errors::invalid_argument("alignment ", a, " is not a power of two").
namespace errors {
template <class... Parts>
status cancelled(const Parts&... parts) {
  return make_status(status_code::cancelled, parts...);
}
template <class... Parts>
status invalid_argument(const Parts&... parts) {
  return make_status(status_code::invalid_argument, parts...);
}
template <class... Parts>
status out_of_range(const Parts&... parts) {
  return make_status(status_code::out_of_range, parts...);
}
template <class... Parts>
status not_found(const Parts&... parts) {
  return make_status(status_code::not_found, parts...);
}
template <class... Parts>
status already_exists(const Parts&... parts) {
  return make_status(status_code::already_exists, parts...);
}
template <class... Parts>
status resource_exhausted(const Parts&... parts) {
  return make_status(status_code::resource_exhausted, parts...);
}
template <class... Parts>
status failed_precondition(const Parts&... parts) {
  return make_status(status_code::failed_precondition, parts...);
}
template <class... Parts>
status aborted(const Parts&... parts) {
  return make_status(status_code::aborted, parts...);
}
template <class... Parts>
status unavailable(const Parts&... parts) {
  return make_status(status_code::unavailable, parts...);
}
template <class... Parts>
status deadline_exceeded(const Parts&... parts) {
  return make_status(status_code::deadline_exceeded, parts...);
}
template <class... Parts>
status data_loss(const Parts&... parts) {
  return make_status(status_code::data_loss, parts...);
}
template <class... Parts>
status permission_denied(const Parts&... parts) {
  return make_status(status_code::permission_denied, parts...);
}
template <class... Parts>
status unimplemented(const Parts&... parts) {
  return make_status(status_code::unimplemented, parts...);
}
template <class... Parts>
status internal(const Parts&... parts) {
  return make_status(status_code::internal, parts...);
}
}  // namespace errors

}  // namespace weft
