// Frontiers: axis layout, validation, compare/merge/dominance/satisfaction,
// and properties over random frontiers checked against a std::map model.
#include "weft/io/frontier.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace weft::io {
namespace {

using entries = std::vector<frontier_entry>;
using model = std::map<std::uint64_t, std::uint64_t>;

constexpr std::uint64_t queue(std::uint32_t n) { return make_queue_axis(1, 0, 0, n); }

// --- the reference model -------------------------------------------------

model to_model(frontier_view f) {
  model m;
  for (const auto& e : f) m[e.axis] = e.epoch;
  return m;
}
entries from_model(const model& m) {
  entries out;
  for (const auto& [axis, epoch] : m) out.push_back({axis, epoch});
  return out;
}
std::uint64_t at(const model& m, std::uint64_t axis) {
  auto it = m.find(axis);
  return it == m.end() ? 0 : it->second;
}
frontier_order model_compare(const model& a, const model& b) {
  bool a_ahead = false, b_ahead = false;
  model keys = a;
  keys.insert(b.begin(), b.end());
  for (const auto& [axis, unused] : keys) {
    a_ahead |= at(a, axis) > at(b, axis);
    b_ahead |= at(a, axis) < at(b, axis);
  }
  if (a_ahead && b_ahead) return frontier_order::concurrent;
  if (a_ahead) return frontier_order::after;
  return b_ahead ? frontier_order::before : frontier_order::equal;
}
model model_merge(model a, const model& b) {
  for (const auto& [axis, epoch] : b) a[axis] = std::max(at(a, axis), epoch);
  return a;
}
entries model_undominated(const model& reference, const model& target) {
  entries out;
  for (const auto& [axis, epoch] : target)
    if (at(reference, axis) < epoch) out.push_back({axis, epoch});
  return out;
}

// Small axis universe and epoch range, so random frontiers overlap often and
// every relation (equal, before, after, concurrent) shows up.
entries random_frontier(std::mt19937_64& rng, std::size_t max_entries = 8) {
  model m;
  const std::size_t n = rng() % (max_entries + 1);
  for (std::size_t i = 0; i < n; ++i) m[queue(static_cast<std::uint32_t>(rng() % 10))] = 1 + rng() % 4;
  return from_model(m);
}

// --- axes ------------------------------------------------------------------

TEST(FrontierAxis, FieldsRoundTrip) {
  const std::uint64_t axis = make_axis(0xab, 0xcd, axis_domain::epilogue, 0x12'3456'789a);
  EXPECT_EQ(axis_session(axis), 0xab);
  EXPECT_EQ(axis_machine(axis), 0xcd);
  EXPECT_EQ(axis_domain_of(axis), axis_domain::epilogue);
  EXPECT_EQ(axis_ordinal(axis), 0x12'3456'789au);
  EXPECT_EQ(axis, 0xabcd'0212'3456'789aull);
}

TEST(FrontierAxis, ExtremesRoundTrip) {
  const std::uint64_t top = make_axis(0xff, 0xff, axis_domain::host, axis_ordinal_mask);
  EXPECT_EQ(top, ~std::uint64_t{0} & ~(std::uint64_t{0xfc} << axis_domain_shift));
  EXPECT_EQ(axis_session(top), 0xff);
  EXPECT_EQ(axis_machine(top), 0xff);
  EXPECT_EQ(axis_domain_of(top), axis_domain::host);
  EXPECT_EQ(axis_ordinal(top), axis_ordinal_mask);
  EXPECT_EQ(make_axis(0, 0, axis_domain::queue, 0), 0u);
}

TEST(FrontierAxis, OrdinalAbove40BitsIsDropped) {
  const std::uint64_t axis = make_axis(1, 2, axis_domain::host, (std::uint64_t{1} << 40) | 7);
  EXPECT_EQ(axis_ordinal(axis), 7u);
  EXPECT_EQ(axis_session(axis), 1);
  EXPECT_EQ(axis_machine(axis), 2);
  EXPECT_EQ(axis_domain_of(axis), axis_domain::host);
}

TEST(FrontierAxis, QueueAxisRoundTrip) {
  constexpr std::uint64_t axis = make_queue_axis(3, 4, 0xfe, 0xdead'beef);
  static_assert(queue_axis_device(axis) == 0xfe && queue_axis_queue(axis) == 0xdead'beef);
  EXPECT_EQ(axis_domain_of(axis), axis_domain::queue);
  EXPECT_EQ(axis_session(axis), 3);
  EXPECT_EQ(axis_machine(axis), 4);
  EXPECT_NE(make_queue_axis(3, 4, 1, 0), make_queue_axis(3, 4, 0, 1));
}

TEST(FrontierAxis, SortOrderGroupsBySessionThenMachineThenDomain) {
  EXPECT_LT(make_axis(1, 9, axis_domain::host, 99), make_axis(2, 0, axis_domain::queue, 0));
  EXPECT_LT(make_axis(1, 0, axis_domain::host, 99), make_axis(1, 1, axis_domain::queue, 0));
  EXPECT_LT(make_axis(1, 1, axis_domain::queue, 99), make_axis(1, 1, axis_domain::collective, 0));
}

TEST(FrontierAxis, ToStringIsFixedWidthHex) {
  EXPECT_EQ(axis_to_string(0x0100'0000'0000'0005), "0x0100000000000005");
  EXPECT_EQ(axis_to_string(0), "0x0000000000000000");
  EXPECT_EQ(axis_to_string(~std::uint64_t{0}), "0xffffffffffffffff");
}

// --- validation and owning forms --------------------------------------------

TEST(FrontierValidate, EmptyAndSortedAreValid) {
  EXPECT_TRUE(validate({}).is_ok());
  const entries f = {{queue(1), 1}, {queue(2), 9}, {queue(7), 3}};
  EXPECT_TRUE(validate(f).is_ok());
}

TEST(FrontierValidate, UnsortedNamesIndexAndBothAxes) {
  const entries f = {{queue(1), 1}, {queue(5), 1}, {queue(3), 1}};
  const status s = validate(f);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_NE(s.message().find("entry 2"), std::string::npos) << s;
  EXPECT_NE(s.message().find(axis_to_string(queue(3))), std::string::npos) << s;
  EXPECT_NE(s.message().find(axis_to_string(queue(5))), std::string::npos) << s;
}

TEST(FrontierValidate, DuplicateAxis) {
  const entries f = {{queue(1), 1}, {queue(1), 2}};
  const status s = validate(f);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_NE(s.message().find("entry 1 duplicates axis " + axis_to_string(queue(1))), std::string::npos) << s;
}

TEST(FrontierValidate, ZeroEpoch) {
  const entries f = {{queue(1), 1}, {queue(2), 0}};
  const status s = validate(f);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_NE(s.message().find("entry 1"), std::string::npos) << s;
  EXPECT_NE(s.message().find("epoch 0"), std::string::npos) << s;
}

TEST(FrontierValidate, MoreThan255Entries) {
  entries f;
  for (std::uint32_t i = 0; i < 256; ++i) f.push_back({queue(i), 1});
  const status s = validate(f);
  EXPECT_EQ(s.code(), status_code::invalid_argument);
  EXPECT_NE(s.message().find("256"), std::string::npos) << s;
  f.pop_back();
  EXPECT_TRUE(validate(f).is_ok());
}

TEST(FixedFrontier, AssignCopiesValidEntries) {
  fixed_frontier<4> f;
  EXPECT_TRUE(f.empty());
  const entries source = {{queue(1), 2}, {queue(3), 4}};
  ASSERT_TRUE(f.assign(source).is_ok());
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), source);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f.capacity(), 4u);
  f.clear();
  EXPECT_TRUE(f.empty());
}

TEST(FixedFrontier, AssignUnsortedFailsAndKeepsContents) {
  fixed_frontier<4> f;
  const entries good = {{queue(1), 1}};
  ASSERT_TRUE(f.assign(good).is_ok());
  const entries bad = {{queue(2), 1}, {queue(1), 1}};
  EXPECT_EQ(f.assign(bad).code(), status_code::invalid_argument);
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), good);
}

TEST(FixedFrontier, AssignOverCapacityIsResourceExhausted) {
  single_frontier f;
  const entries two = {{queue(1), 1}, {queue(2), 1}};
  const status s = f.assign(two);
  EXPECT_EQ(s.code(), status_code::resource_exhausted);
  EXPECT_NE(s.message().find("capacity of 1"), std::string::npos) << s;
  EXPECT_TRUE(f.empty());
}

TEST(FixedFrontier, SingleEntryFormIsCheap) {
  EXPECT_LE(sizeof(single_frontier), 24u);
  single_frontier f;
  const entries one = {{queue(9), 5}};
  ASSERT_TRUE(f.assign(one).is_ok());
  EXPECT_EQ(epoch_of(f, queue(9)), 5u);
  single_frontier copy = f;  // a value: copies are independent
  f.clear();
  EXPECT_EQ(copy.size(), 1u);
}

TEST(FrontierBuffer, CapacityComesFromStorageCappedAt255) {
  std::vector<frontier_entry> big(300);
  frontier_buffer buffer(big);
  EXPECT_EQ(buffer.capacity(), 255u);
  std::vector<frontier_entry> small(3);
  EXPECT_EQ(frontier_buffer(small).capacity(), 3u);
  frontier_buffer none;
  EXPECT_EQ(none.capacity(), 0u);
  const entries one = {{queue(1), 1}};
  EXPECT_FALSE(merge(none, one));
  EXPECT_TRUE(merge(none, {}));
}

TEST(FrontierBuffer, AssignFromItsOwnStorageShifts) {
  std::vector<frontier_entry> storage(4);
  frontier_buffer buffer(storage);
  const entries three = {{queue(1), 1}, {queue(2), 2}, {queue(3), 3}};
  ASSERT_TRUE(buffer.assign(three).is_ok());
  ASSERT_TRUE(buffer.assign(buffer.view().subspan(1)).is_ok());
  EXPECT_EQ(entries(buffer.view().begin(), buffer.view().end()), entries(three.begin() + 1, three.end()));
}

// --- compare -------------------------------------------------------------------

TEST(FrontierCompare, EmptyFrontiers) {
  const entries one = {{queue(1), 1}};
  EXPECT_EQ(compare({}, {}), frontier_order::equal);
  EXPECT_EQ(compare({}, one), frontier_order::before);
  EXPECT_EQ(compare(one, {}), frontier_order::after);
}

TEST(FrontierCompare, FastPathAllFourOrders) {
  const entries base = {{queue(1), 2}, {queue(2), 2}, {queue(3), 2}};
  const entries higher = {{queue(1), 2}, {queue(2), 3}, {queue(3), 2}};
  const entries mixed = {{queue(1), 3}, {queue(2), 1}, {queue(3), 2}};
  EXPECT_EQ(compare(base, base), frontier_order::equal);
  EXPECT_EQ(compare(base, higher), frontier_order::before);
  EXPECT_EQ(compare(higher, base), frontier_order::after);
  EXPECT_EQ(compare(base, mixed), frontier_order::concurrent);
}

TEST(FrontierCompare, SlowPathSubsetAndSuperset) {
  const entries small = {{queue(2), 2}};
  const entries large = {{queue(1), 1}, {queue(2), 2}, {queue(3), 1}};
  EXPECT_EQ(compare(small, large), frontier_order::before);
  EXPECT_EQ(compare(large, small), frontier_order::after);
  const entries small_ahead = {{queue(2), 3}};
  EXPECT_EQ(compare(small_ahead, large), frontier_order::concurrent);
}

TEST(FrontierCompare, SlowPathDisjointAxesAreConcurrent) {
  const entries a = {{queue(1), 1}};
  const entries b = {{queue(2), 1}};
  EXPECT_EQ(compare(a, b), frontier_order::concurrent);
}

TEST(FrontierCompare, SameSizeDifferentAxesLeavesFastPathMidway) {
  // Lockstep for the first entry, then the axes differ.
  const entries a = {{queue(1), 5}, {queue(2), 1}, {queue(4), 1}};
  const entries b = {{queue(1), 5}, {queue(3), 1}, {queue(4), 1}};
  EXPECT_EQ(compare(a, b), frontier_order::concurrent);
  const entries c = {{queue(1), 5}, {queue(2), 1}, {queue(3), 1}};
  const entries d = {{queue(1), 5}, {queue(3), 1}, {queue(4), 1}};
  EXPECT_EQ(compare(c, d), frontier_order::concurrent);
}

TEST(FrontierCompare, MissingAxisCountsAsZero) {
  const entries a = {{queue(1), 1}, {queue(2), 1}};
  const entries b = {{queue(1), 1}};
  EXPECT_EQ(compare(a, b), frontier_order::after);
  EXPECT_EQ(compare(b, a), frontier_order::before);
}

TEST(FrontierCompare, MatchesModelOnRandomFrontiers) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng);
    ASSERT_EQ(compare(a, b), model_compare(to_model(a), to_model(b)));
  }
}

TEST(FrontierCompare, ReflexiveAndAntisymmetric) {
  std::mt19937_64 rng(12);
  const auto mirror = [](frontier_order o) {
    return o == frontier_order::before  ? frontier_order::after
           : o == frontier_order::after ? frontier_order::before
                                        : o;
  };
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng);
    ASSERT_EQ(compare(a, a), frontier_order::equal);
    ASSERT_EQ(compare(b, a), mirror(compare(a, b)));
    if (compare(a, b) == frontier_order::equal) {
      ASSERT_EQ(a, b);
    }
  }
}

TEST(FrontierCompare, Transitive) {
  std::mt19937_64 rng(13);
  int chains = 0;
  for (int round = 0; round < 20000; ++round) {
    const entries a = random_frontier(rng, 4), b = random_frontier(rng, 4), c = random_frontier(rng, 4);
    if (compare(a, b) == frontier_order::before && compare(b, c) == frontier_order::before) {
      ++chains;
      ASSERT_EQ(compare(a, c), frontier_order::before);
    }
    if (dominates(a, b) && dominates(b, c)) {
      ASSERT_TRUE(dominates(a, c));
    }
  }
  EXPECT_GT(chains, 20);  // the property was really exercised
}

// --- dominates / is_satisfied / epoch_of -------------------------------------

TEST(FrontierDominates, BasicCases) {
  const entries a = {{queue(1), 3}, {queue(2), 3}};
  const entries b = {{queue(2), 2}};
  const entries c = {{queue(3), 1}};
  EXPECT_TRUE(dominates(a, a));
  EXPECT_TRUE(dominates(a, {}));
  EXPECT_FALSE(dominates({}, a));
  EXPECT_TRUE(dominates(a, b));
  EXPECT_FALSE(dominates(b, a));
  EXPECT_FALSE(dominates(a, c));  // c's axis is missing from a
}

TEST(FrontierDominates, AgreesWithCompare) {
  std::mt19937_64 rng(14);
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng);
    const frontier_order order = compare(a, b);
    ASSERT_EQ(dominates(a, b), order == frontier_order::equal || order == frontier_order::after);
  }
}

TEST(FrontierSatisfied, ReachedExceededShortMissing) {
  const entries current = {{queue(1), 5}, {queue(2), 0}, {queue(3), 7}};  // zero: registered, not advanced
  const entries reached = {{queue(1), 5}, {queue(3), 7}};
  const entries exceeded = {{queue(1), 4}};
  const entries short_one = {{queue(1), 5}, {queue(3), 8}};
  const entries not_advanced = {{queue(2), 1}};
  const entries missing = {{queue(4), 1}};
  EXPECT_TRUE(is_satisfied({}, current));
  EXPECT_TRUE(is_satisfied(reached, current));
  EXPECT_TRUE(is_satisfied(exceeded, current));
  EXPECT_FALSE(is_satisfied(short_one, current));
  EXPECT_FALSE(is_satisfied(not_advanced, current));
  EXPECT_FALSE(is_satisfied(missing, current));
}

TEST(FrontierSatisfied, MatchesModel) {
  std::mt19937_64 rng(15);
  for (int round = 0; round < 5000; ++round) {
    const entries f = random_frontier(rng), current = random_frontier(rng);
    const model m = to_model(current);
    bool expected = true;
    for (const auto& e : f) expected &= at(m, e.axis) >= e.epoch;
    ASSERT_EQ(is_satisfied(f, current), expected);
  }
}

TEST(FrontierEpochOf, PresentAndAbsent) {
  const entries f = {{queue(1), 3}, {queue(4), 9}};
  EXPECT_EQ(epoch_of(f, queue(1)), 3u);
  EXPECT_EQ(epoch_of(f, queue(4)), 9u);
  EXPECT_EQ(epoch_of(f, queue(2)), 0u);
  EXPECT_EQ(epoch_of(f, queue(5)), 0u);
  EXPECT_EQ(epoch_of({}, queue(1)), 0u);
}

// --- merge -----------------------------------------------------------------------

TEST(FrontierMerge, EmptySourceChangesNothing) {
  fixed_frontier<2> f;
  const entries one = {{queue(1), 1}};
  ASSERT_TRUE(f.assign(one).is_ok());
  EXPECT_TRUE(merge(f, {}));
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), one);
}

TEST(FrontierMerge, IntoEmptyCopiesSource) {
  fixed_frontier<4> f;
  const entries source = {{queue(1), 1}, {queue(2), 7}};
  EXPECT_TRUE(merge(f, source));
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), source);
}

TEST(FrontierMerge, SameAxesTakesMaxInPlace) {
  fixed_frontier<3> f;
  const entries target = {{queue(1), 1}, {queue(2), 5}, {queue(3), 2}};
  const entries source = {{queue(1), 4}, {queue(2), 2}, {queue(3), 2}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));
  const entries expected = {{queue(1), 4}, {queue(2), 5}, {queue(3), 2}};
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, InterleavedAxesUnion) {
  fixed_frontier<8> f;
  const entries target = {{queue(1), 1}, {queue(3), 3}, {queue(5), 5}};
  const entries source = {{queue(2), 2}, {queue(3), 9}, {queue(6), 6}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));
  const entries expected = {{queue(1), 1}, {queue(2), 2}, {queue(3), 9}, {queue(5), 5}, {queue(6), 6}};
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, SourceBelowEveryTargetAxisShiftsTargetRight) {
  fixed_frontier<6> f;
  const entries target = {{queue(7), 7}, {queue(8), 8}, {queue(9), 9}};
  const entries source = {{queue(1), 1}, {queue(2), 2}, {queue(3), 3}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));
  entries expected = source;
  expected.insert(expected.end(), target.begin(), target.end());
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, SourceAboveEveryTargetAxisAppends) {
  fixed_frontier<4> f;
  const entries target = {{queue(1), 1}, {queue(2), 2}};
  const entries source = {{queue(8), 8}, {queue(9), 9}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));
  const entries expected = {{queue(1), 1}, {queue(2), 2}, {queue(8), 8}, {queue(9), 9}};
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, InsertionInTheMiddleShiftsOnlyTheTail) {
  fixed_frontier<5> f;
  const entries target = {{queue(1), 1}, {queue(2), 2}, {queue(8), 8}, {queue(9), 9}};
  const entries source = {{queue(5), 5}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));
  const entries expected = {{queue(1), 1}, {queue(2), 2}, {queue(5), 5}, {queue(8), 8}, {queue(9), 9}};
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, OverflowReturnsFalseAndLeavesTargetUnchanged) {
  fixed_frontier<3> f;
  const entries target = {{queue(1), 1}, {queue(5), 5}, {queue(9), 9}};
  const entries source = {{queue(5), 50}, {queue(6), 6}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_FALSE(merge(f, source));
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), target);  // not even the shared axis 5 moved
}

TEST(FrontierMerge, SharedAxesCountOnceTowardCapacity) {
  fixed_frontier<3> f;
  const entries target = {{queue(1), 1}, {queue(5), 5}};
  const entries source = {{queue(1), 2}, {queue(5), 1}, {queue(9), 9}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, source));  // union of 3 fits exactly
  const entries expected = {{queue(1), 2}, {queue(5), 5}, {queue(9), 9}};
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), expected);
}

TEST(FrontierMerge, FullCapacityOf255) {
  fixed_frontier<255> f;
  entries evens, odds;
  for (std::uint32_t i = 0; i < 255; ++i) (i % 2 == 0 ? evens : odds).push_back({queue(i), i + 1});
  ASSERT_TRUE(f.assign(evens).is_ok());
  EXPECT_TRUE(merge(f, odds));
  ASSERT_EQ(f.size(), 255u);
  for (std::uint32_t i = 0; i < 255; ++i) ASSERT_EQ(f.view()[i], (frontier_entry{queue(i), i + 1}));
  const entries one_more = {{queue(1000), 1}};
  EXPECT_FALSE(merge(f, one_more));
  EXPECT_EQ(f.size(), 255u);
}

TEST(FrontierMerge, InvalidSourceIsRefusedAndTargetUnchanged) {
  fixed_frontier<8> f;
  const entries target = {{queue(2), 2}};
  ASSERT_TRUE(f.assign(target).is_ok());
  const entries unsorted = {{queue(3), 1}, {queue(1), 1}};
  const entries duplicate = {{queue(1), 1}, {queue(1), 2}};
  const entries zero = {{queue(1), 0}};
  EXPECT_FALSE(merge(f, unsorted));
  EXPECT_FALSE(merge(f, duplicate));
  EXPECT_FALSE(merge(f, zero));
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), target);
  EXPECT_TRUE(validate(f).is_ok());
}

TEST(FrontierMerge, IdempotentAndSelfAliasing) {
  fixed_frontier<4> f;
  const entries target = {{queue(1), 1}, {queue(3), 3}, {queue(4), 2}};
  ASSERT_TRUE(f.assign(target).is_ok());
  EXPECT_TRUE(merge(f, f.view()));
  EXPECT_TRUE(merge(f, f.view().subspan(1)));
  const entries copy = target;
  EXPECT_TRUE(merge(f, copy));
  EXPECT_EQ(entries(f.view().begin(), f.view().end()), target);
}

TEST(FrontierMerge, SourceDominanceYieldsSource) {
  std::mt19937_64 rng(16);
  int dominated = 0;
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng);
    fixed_frontier<16> f;
    ASSERT_TRUE(f.assign(a).is_ok());
    ASSERT_TRUE(merge(f, b));
    if (dominates(b, a)) {
      ++dominated;
      ASSERT_EQ(entries(f.view().begin(), f.view().end()), b);
    }
    if (dominates(a, b)) {
      ASSERT_EQ(entries(f.view().begin(), f.view().end()), a);
    }
  }
  EXPECT_GT(dominated, 50);
}

TEST(FrontierMerge, MatchesModelAndIsLeastUpperBound) {
  std::mt19937_64 rng(17);
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng);
    fixed_frontier<16> f;
    ASSERT_TRUE(f.assign(a).is_ok());
    ASSERT_TRUE(merge(f, b));
    ASSERT_TRUE(validate(f).is_ok());
    ASSERT_EQ(entries(f.view().begin(), f.view().end()), from_model(model_merge(to_model(a), to_model(b))));
    ASSERT_TRUE(dominates(f, a));
    ASSERT_TRUE(dominates(f, b));
  }
}

TEST(FrontierMerge, CommutativeAndAssociative) {
  std::mt19937_64 rng(18);
  for (int round = 0; round < 3000; ++round) {
    const entries a = random_frontier(rng), b = random_frontier(rng), c = random_frontier(rng);
    fixed_frontier<32> ab, ba, ab_c, a_bc, bc;
    ASSERT_TRUE(ab.assign(a).is_ok() && ab.merge(b));
    ASSERT_TRUE(ba.assign(b).is_ok() && ba.merge(a));
    ASSERT_EQ(compare(ab, ba), frontier_order::equal);
    ASSERT_TRUE(ab_c.assign(ab).is_ok() && ab_c.merge(c));
    ASSERT_TRUE(bc.assign(b).is_ok() && bc.merge(c));
    ASSERT_TRUE(a_bc.assign(a).is_ok() && a_bc.merge(bc));
    ASSERT_EQ(compare(ab_c, a_bc), frontier_order::equal);
  }
}

TEST(FrontierMerge, OverflowModelOnRandomFrontiers) {
  // With a capacity of 4 many unions do not fit: then false and unchanged.
  std::mt19937_64 rng(19);
  int overflows = 0;
  for (int round = 0; round < 5000; ++round) {
    const entries a = random_frontier(rng, 4), b = random_frontier(rng, 4);
    fixed_frontier<4> f;
    ASSERT_TRUE(f.assign(a).is_ok());
    const model expected = model_merge(to_model(a), to_model(b));
    const bool fits = expected.size() <= 4;
    ASSERT_EQ(merge(f, b), fits);
    ASSERT_EQ(entries(f.view().begin(), f.view().end()), fits ? from_model(expected) : a);
    overflows += fits ? 0 : 1;
  }
  EXPECT_GT(overflows, 100);
}

TEST(FrontierMerge, WorksOnACallerStorageBuffer) {
  std::vector<frontier_entry> storage(3);
  frontier_buffer buffer(storage);
  const entries a = {{queue(2), 2}};
  const entries b = {{queue(1), 1}, {queue(3), 3}};
  const entries c = {{queue(4), 4}};
  EXPECT_TRUE(merge(buffer, a));
  EXPECT_TRUE(merge(buffer, b));
  EXPECT_FALSE(merge(buffer, c));
  const entries expected = {{queue(1), 1}, {queue(2), 2}, {queue(3), 3}};
  EXPECT_EQ(entries(buffer.view().begin(), buffer.view().end()), expected);
  EXPECT_EQ(storage, expected);  // it really lives in the caller's storage
}

// --- find_undominated ------------------------------------------------------------

TEST(FrontierUndominated, NoneWhenReferenceDominates) {
  const entries reference = {{queue(1), 5}, {queue(2), 5}};
  const entries target = {{queue(1), 5}, {queue(2), 1}};
  frontier_entry out[2];
  EXPECT_EQ(find_undominated(reference, target, out), 0u);
  EXPECT_EQ(find_undominated(reference, {}, out), 0u);
}

TEST(FrontierUndominated, ListsMissingAndHigherInAxisOrder) {
  const entries reference = {{queue(2), 5}, {queue(4), 5}};
  const entries target = {{queue(1), 1}, {queue(2), 5}, {queue(3), 1}, {queue(4), 6}};
  frontier_entry out[4];
  ASSERT_EQ(find_undominated(reference, target, out), 3u);
  EXPECT_EQ(out[0], (frontier_entry{queue(1), 1}));
  EXPECT_EQ(out[1], (frontier_entry{queue(3), 1}));
  EXPECT_EQ(out[2], (frontier_entry{queue(4), 6}));
}

TEST(FrontierUndominated, TruncationReportsTheTotal) {
  const entries target = {{queue(1), 1}, {queue(2), 1}, {queue(3), 1}};
  frontier_entry out[3] = {{}, {}, {queue(99), 99}};
  EXPECT_EQ(find_undominated({}, target, std::span<frontier_entry>(out, 2)), 3u);
  EXPECT_EQ(out[0], target[0]);
  EXPECT_EQ(out[1], target[1]);
  EXPECT_EQ(out[2], (frontier_entry{queue(99), 99}));  // nothing written past the span
}

TEST(FrontierUndominated, EmptyOutputOnlyCounts) {
  const entries reference = {{queue(1), 1}};
  const entries target = {{queue(1), 2}, {queue(2), 1}};
  EXPECT_EQ(find_undominated(reference, target, {}), 2u);
}

TEST(FrontierUndominated, MatchesModel) {
  std::mt19937_64 rng(20);
  for (int round = 0; round < 5000; ++round) {
    const entries reference = random_frontier(rng), target = random_frontier(rng);
    entries out(target.size());
    const std::size_t count = find_undominated(reference, target, out);
    out.resize(count);
    ASSERT_EQ(out, model_undominated(to_model(reference), to_model(target)));
    ASSERT_EQ(count == 0, dominates(reference, target));
  }
}

// --- scenarios --------------------------------------------------------------------

// One queue runs operations 1..N in order, each signalling its semaphore with
// the frontier {A: i}. A consumer queue B that already waited on A's epoch k
// (and merged it into its own frontier) can elide any later wait on an epoch
// <= k: find_undominated reports nothing to wait for.
TEST(FrontierScenario, GpuPipelineSequential) {
  const std::uint64_t a = queue(1), b = queue(2);
  fixed_frontier<4> consumer;
  const entries own = {{b, 1}};
  ASSERT_TRUE(consumer.assign(own).is_ok());
  for (std::uint64_t i = 1; i <= 10; ++i) {
    const entries producer_signal = {{a, i}};
    EXPECT_EQ(find_undominated(consumer, producer_signal, {}), 1u);  // must wait on A:i
    ASSERT_TRUE(merge(consumer, producer_signal));                   // waited: now known
    EXPECT_EQ(find_undominated(consumer, producer_signal, {}), 0u);  // a repeat wait is elided
    const entries earlier = {{a, i / 2 + 1}};
    EXPECT_TRUE(dominates(consumer, earlier));
  }
  EXPECT_EQ(consumer.size(), 2u);  // frontiers stay sparse: one entry per axis
  EXPECT_EQ(epoch_of(consumer, a), 10u);
}

// P fans out to three workers (each waits for P:1 then runs), then a join
// queue waits on all three. The branches are concurrent with each other; the
// join's frontier dominates every branch and P.
TEST(FrontierScenario, MultiQueueFanOutFanIn) {
  const std::uint64_t p = queue(0), join = queue(9);
  const entries produced = {{p, 1}};
  std::vector<fixed_frontier<8>> branches(3);
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(branches[i].assign(produced).is_ok());
    const entries ran = {{queue(i + 1), 1}};
    ASSERT_TRUE(merge(branches[i], ran));
  }
  EXPECT_EQ(compare(branches[0], branches[1]), frontier_order::concurrent);
  EXPECT_EQ(compare(branches[1], branches[2]), frontier_order::concurrent);
  EXPECT_EQ(compare(produced, branches[0]), frontier_order::before);
  fixed_frontier<8> joined;
  for (const auto& branch : branches) ASSERT_TRUE(merge(joined, branch));
  const entries ran = {{join, 1}};
  ASSERT_TRUE(merge(joined, ran));
  EXPECT_EQ(joined.size(), 5u);
  for (const auto& branch : branches) EXPECT_EQ(compare(branch, joined), frontier_order::before);
  EXPECT_TRUE(dominates(joined, produced));
}

// Eight ranks each contribute their own axis to an all-reduce. Carrying every
// rank's axis downstream overflows a small frontier (and the merge refuses,
// keeping a valid lower bound); the collective axis summarizes all of them in
// one entry, so downstream frontiers stay small and still prove the order.
TEST(FrontierScenario, CollectiveCompression) {
  const std::uint64_t collective = make_axis(1, 0, axis_domain::collective, 1);
  fixed_frontier<4> downstream;
  const entries own = {{queue(100), 1}};
  ASSERT_TRUE(downstream.assign(own).is_ok());
  int refused = 0;
  for (std::uint32_t rank = 0; rank < 8; ++rank) {
    const entries contribution = {{queue(rank), 3}};
    if (!merge(downstream, contribution)) ++refused;
    ASSERT_TRUE(validate(downstream).is_ok());
  }
  EXPECT_EQ(refused, 5);  // room for 3 ranks beside its own axis
  EXPECT_EQ(downstream.size(), 4u);

  fixed_frontier<4> compressed;
  ASSERT_TRUE(compressed.assign(own).is_ok());
  const entries all_reduced = {{collective, 1}};
  ASSERT_TRUE(merge(compressed, all_reduced));
  EXPECT_EQ(compressed.size(), 2u);
  EXPECT_TRUE(dominates(compressed, all_reduced));
  EXPECT_EQ(find_undominated(compressed, all_reduced, {}), 0u);
}

// A queue on machine 0 needs work from machine 1. find_undominated yields
// exactly the remote entries, which the axis accessors identify as remote.
TEST(FrontierScenario, CrossMachineWait) {
  const std::uint64_t local_queue = make_queue_axis(1, 0, 0, 1);
  const std::uint64_t remote_queue = make_queue_axis(1, 1, 0, 1);
  const std::uint64_t remote_host = make_axis(1, 1, axis_domain::host, 7);
  fixed_frontier<8> local;
  const entries known = {{local_queue, 5}};
  ASSERT_TRUE(local.assign(known).is_ok());
  const entries needed = {{local_queue, 4}, {remote_queue, 2}, {remote_host, 1}};
  ASSERT_TRUE(validate(needed).is_ok());  // machine-major order keeps remote axes together
  frontier_entry out[4];
  const std::size_t count = find_undominated(local, needed, out);
  ASSERT_EQ(count, 2u);
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(axis_machine(out[i].axis), 1);
  EXPECT_EQ(axis_domain_of(out[1].axis), axis_domain::host);
  ASSERT_TRUE(merge(local, std::span<const frontier_entry>(out, count)));
  EXPECT_TRUE(dominates(local, needed));
}

}  // namespace
}  // namespace weft::io
