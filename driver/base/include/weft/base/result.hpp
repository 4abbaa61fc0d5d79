// weft::result<T> — a T, or the non-ok status that says why there is none.
//
//   weft::result<weft::block_pool> pool = weft::block_pool::create(alloc, 4096, 64);
//   if (!pool.ok()) return pool.status();
//   void* block = pool->acquire().value_or(nullptr);
//
//   // or, inside a function returning status or result<U>:
//   WEFT_ASSIGN_OR_RETURN(weft::block_pool pool, weft::block_pool::create(alloc, 4096, 64));
//   WEFT_RETURN_IF_ERROR(pool.release(block));
//
// Guarantees:
//   - a result holds exactly one of a value and a non-ok status. Building one
//     from an ok status is a programming error; instead of crashing it holds
//     INTERNAL "result constructed from an OK status".
//   - status() is ok exactly when a value is held.
//
// Contract: value(), operator* and operator-> require ok(); debug builds stop
// on a violation (assert), release builds have undefined behaviour, as with
// std::optional. value_or() is the checked alternative.
//
// Macros (statement macros; not usable as the body of a braceless if):
//   WEFT_RETURN_IF_ERROR(expr)        expr yields a status; returns it if not ok.
//   WEFT_ASSIGN_OR_RETURN(lhs, expr)  expr yields a result<T>; returns its
//                                     status if not ok, else moves the value
//                                     into lhs ("auto x", "T x" or an existing
//                                     variable; a type with a comma in it
//                                     needs an alias first).
//
// Thread safety: a value type, like std::optional.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "weft/base/status.hpp"

namespace weft {

template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "result<T> holds an object; use status for void");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, weft::status>, "result<status> is ambiguous");

 public:
  using value_type = T;

  // A value: anything T can be built from (implicit when the conversion is).
  // clang-format off
  template <class U = T>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, result> &&
             !std::is_same_v<std::remove_cvref_t<U>, weft::status>)
  explicit(!std::is_convertible_v<U&&, T>) result(U&& value)
      : storage_(std::in_place_index<0>, std::forward<U>(value)) {}
  // clang-format on

  // An error. An ok status becomes INTERNAL (see above).
  result(weft::status error)
      : storage_(std::in_place_index<1>,
                 error.is_ok() ? errors::internal("result constructed from an OK status") : std::move(error)) {}

  bool ok() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }

  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T&& operator*() && { return std::move(checked()); }

  // ok() when a value is held.
  const weft::status& status() const noexcept {
    static const weft::status ok_status;
    const weft::status* error = std::get_if<1>(&storage_);
    return error ? *error : ok_status;
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? *std::get_if<0>(&storage_) : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return ok() ? std::move(*std::get_if<0>(&storage_)) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T& checked() {
    assert(ok() && "result::value() called on an error");
    return *std::get_if<0>(&storage_);
  }
  const T& checked() const {
    assert(ok() && "result::value() called on an error");
    return *std::get_if<0>(&storage_);
  }

  std::variant<T, weft::status> storage_;
};

}  // namespace weft

#define WEFT_RESULT_CONCAT_INNER(a, b) a##b
#define WEFT_RESULT_CONCAT(a, b) WEFT_RESULT_CONCAT_INNER(a, b)

#define WEFT_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    ::weft::status weft_return_if_error_status_ = (expr); \
    if (!weft_return_if_error_status_.is_ok()) {          \
      return weft_return_if_error_status_;                \
    }                                                     \
  } while (false)

#define WEFT_ASSIGN_OR_RETURN(lhs, expr) \
  WEFT_ASSIGN_OR_RETURN_IMPL(WEFT_RESULT_CONCAT(weft_assign_or_return_, __LINE__), lhs, expr)

#define WEFT_ASSIGN_OR_RETURN_IMPL(temporary, lhs, expr) \
  auto temporary = (expr);                               \
  if (!temporary.ok()) return temporary.status();        \
  lhs = std::move(temporary).value()
