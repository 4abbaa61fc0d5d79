#include "weft/base/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using weft::result;
using weft::status;
using weft::status_code;

TEST(Result, HoldsAValue) {
  result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().is_ok());
  r.value() = 7;
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value_or(0), 7);
}

TEST(Result, HoldsAnError) {
  const result<int> r = weft::errors::not_found("key 9");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.status().code(), status_code::not_found);
  EXPECT_EQ(r.status().message(), "key 9");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, AnOkStatusBecomesInternal) {
  const result<int> r = status::ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), status_code::internal);
  EXPECT_EQ(r.status().message(), "result constructed from an OK status");
}

TEST(Result, MemberAccessAndConversions) {
  result<std::string> text = "hello";  // const char* -> std::string
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 5u);
  char byte = 0;
  const result<void*> pointer = &byte;  // char* -> void*
  EXPECT_EQ(*pointer, &byte);
}

TEST(Result, MoveOnlyValues) {
  result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  std::unique_ptr<int> taken = std::move(r).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
  result<std::unique_ptr<int>> error = weft::errors::aborted("no");
  EXPECT_EQ(std::move(error).value_or(nullptr), nullptr);
}

status check_positive(int n) {
  if (n <= 0) return weft::errors::invalid_argument("n ", n, " is not positive");
  return status::ok();
}

result<int> half_of_positive(int n) {
  WEFT_RETURN_IF_ERROR(check_positive(n));
  return n / 2;
}

result<int> quarter_of_positive(int n) {
  WEFT_ASSIGN_OR_RETURN(const int half, half_of_positive(n));
  WEFT_ASSIGN_OR_RETURN(int quarter, half_of_positive(half));
  return quarter;
}

status require_quarter(int n, int expected) {
  int quarter = 0;
  WEFT_ASSIGN_OR_RETURN(quarter, quarter_of_positive(n));
  if (quarter != expected) return weft::errors::internal("quarter ", quarter);
  return status::ok();
}

TEST(Result, MacrosReturnEarlyOnErrorAndPassValuesThrough) {
  EXPECT_EQ(half_of_positive(10).value_or(-1), 5);
  EXPECT_EQ(half_of_positive(-3).status().message(), "n -3 is not positive");
  EXPECT_EQ(quarter_of_positive(20).value_or(-1), 5);
  EXPECT_EQ(quarter_of_positive(1).status().message(), "n 0 is not positive");  // fails in the second step
  EXPECT_TRUE(require_quarter(40, 10).is_ok());
  EXPECT_EQ(require_quarter(0, 0).code(), status_code::invalid_argument);
}

#ifndef NDEBUG
TEST(ResultDeathTest, ValueOfAnErrorStopsInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const result<int> r = weft::errors::unavailable("gone");
  EXPECT_DEATH(static_cast<void>(r.value()), "result::value\\(\\) called on an error");
}
#endif

}  // namespace
