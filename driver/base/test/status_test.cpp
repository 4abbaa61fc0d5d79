#include "weft/base/status.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using weft::status;
using weft::status_code;

static_assert(sizeof(status) <= 40);
static_assert(std::is_copy_constructible_v<status> && std::is_nothrow_move_constructible_v<status>);

TEST(Status, DefaultIsOkWithAnEmptyMessage) {
  const status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.code(), status_code::ok);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_EQ(s, status::ok());
}

TEST(Status, OkCodeDropsTheMessage) {
  const status s(status_code::ok, "ignored");
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s, status::ok());
}

TEST(Status, CarriesCodeAndMessage) {
  const status s(status_code::invalid_argument, "worker count 0 is outside [1, 256]");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_EQ(s.message(), "worker count 0 is outside [1, 256]");
  EXPECT_EQ(s.to_string(), "INVALID_ARGUMENT: worker count 0 is outside [1, 256]");
  EXPECT_EQ(status(status_code::aborted, "").to_string(), "ABORTED");
}

TEST(Status, MakeStatusStreamsItsParts) {
  const std::uint32_t count = 300;
  const status s = weft::make_status(status_code::invalid_argument, "worker count ", count, " exceeds the maximum ",
                                     256, " (pinned: ", true, ")");
  EXPECT_EQ(s.message(), "worker count 300 exceeds the maximum 256 (pinned: true)");
  EXPECT_TRUE(weft::make_status(status_code::ok, "anything").is_ok());
}

TEST(Status, ShorthandsCarryTheirCodes) {
  using namespace weft::errors;
  const std::vector<std::pair<status, status_code>> cases = {
      {cancelled("x"), status_code::cancelled},
      {invalid_argument("x"), status_code::invalid_argument},
      {out_of_range("x"), status_code::out_of_range},
      {not_found("x"), status_code::not_found},
      {already_exists("x"), status_code::already_exists},
      {resource_exhausted("x"), status_code::resource_exhausted},
      {failed_precondition("x"), status_code::failed_precondition},
      {aborted("x"), status_code::aborted},
      {unavailable("x"), status_code::unavailable},
      {deadline_exceeded("x"), status_code::deadline_exceeded},
      {data_loss("x"), status_code::data_loss},
      {permission_denied("x"), status_code::permission_denied},
      {unimplemented("x"), status_code::unimplemented},
      {internal("x"), status_code::internal},
  };
  for (const auto& [s, code] : cases) {
    EXPECT_EQ(s.code(), code);
    EXPECT_EQ(s.message(), "x");
  }
  EXPECT_EQ(weft::errors::out_of_range("offset ", 4096, " past ", 100).message(), "offset 4096 past 100");
}

TEST(Status, EveryCodeHasItsOwnName) {
  std::set<std::string> names;
  for (int code = 0; code <= static_cast<int>(status_code::unknown); ++code) {
    names.emplace(weft::to_string(static_cast<status_code>(code)));
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(status_code::unknown) + 1);
  EXPECT_EQ(weft::to_string(status_code::resource_exhausted), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(weft::to_string(static_cast<status_code>(200)), "UNKNOWN");
}

TEST(Status, CopiesAreIndependentAndEqualityComparesCodeAndMessage) {
  status original = weft::errors::data_loss("block 3 checksum mismatch");
  const status copy = original;
  EXPECT_EQ(copy, original);
  original = weft::errors::data_loss("block 4 checksum mismatch");
  EXPECT_EQ(copy.message(), "block 3 checksum mismatch");
  EXPECT_NE(copy, original);
  EXPECT_NE(weft::errors::aborted("m"), weft::errors::cancelled("m"));
  status moved_to = std::move(original);
  EXPECT_EQ(moved_to.message(), "block 4 checksum mismatch");
}

TEST(Status, AnnotatePrefixesTheMessageAndKeepsTheCode) {
  const status s = weft::annotate(weft::errors::not_found("no such file"), "/sys/x");
  EXPECT_EQ(s.code(), status_code::not_found);
  EXPECT_EQ(s.message(), "/sys/x: no such file");
  EXPECT_TRUE(weft::annotate(status::ok(), "context").is_ok());
}

}  // namespace
