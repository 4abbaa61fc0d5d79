#include "weft/base/status.hpp"

#include <ostream>

namespace weft {

std::string_view to_string(status_code code) {
  switch (code) {
    case status_code::ok:
      return "OK";
    case status_code::cancelled:
      return "CANCELLED";
    case status_code::invalid_argument:
      return "INVALID_ARGUMENT";
    case status_code::out_of_range:
      return "OUT_OF_RANGE";
    case status_code::not_found:
      return "NOT_FOUND";
    case status_code::already_exists:
      return "ALREADY_EXISTS";
    case status_code::resource_exhausted:
      return "RESOURCE_EXHAUSTED";
    case status_code::failed_precondition:
      return "FAILED_PRECONDITION";
    case status_code::aborted:
      return "ABORTED";
    case status_code::unavailable:
      return "UNAVAILABLE";
    case status_code::deadline_exceeded:
      return "DEADLINE_EXCEEDED";
    case status_code::data_loss:
      return "DATA_LOSS";
    case status_code::permission_denied:
      return "PERMISSION_DENIED";
    case status_code::unimplemented:
      return "UNIMPLEMENTED";
    case status_code::internal:
      return "INTERNAL";
    case status_code::unknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::ostream& operator<<(std::ostream& out, status_code code) { return out << to_string(code); }

status::status(status_code code, std::string message) {
  if (code != status_code::ok) error_ = std::make_unique<error>(error{code, std::move(message)});
}

status::status(const status& other) : error_(other.error_ ? std::make_unique<error>(*other.error_) : nullptr) {}

status& status::operator=(const status& other) {
  if (this != &other) error_ = other.error_ ? std::make_unique<error>(*other.error_) : nullptr;
  return *this;
}

const std::string& status::message() const noexcept {
  static const std::string empty;
  return error_ ? error_->message : empty;
}

std::string status::to_string() const {
  std::string text(weft::to_string(code()));
  if (error_ && !error_->message.empty()) {
    text += ": ";
    text += error_->message;
  }
  return text;
}

bool operator==(const status& a, const status& b) { return a.code() == b.code() && a.message() == b.message(); }

std::ostream& operator<<(std::ostream& out, const status& s) { return out << s.to_string(); }

status annotate(const status& s, std::string_view context) {
  if (s.is_ok()) return s;
  std::string message(context);
  message += ": ";
  message += s.message();
  return status(s.code(), std::move(message));
}

}  // namespace weft
