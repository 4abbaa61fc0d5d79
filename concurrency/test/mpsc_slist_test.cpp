#include "weft/mpsc_slist.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

struct job : weft::slist_node<job> {
  explicit job(int v = 0) : value(v) {}
  int value;
};
using list_t = weft::mpsc_slist<job>;

std::vector<int> values(job* chain) {
  std::vector<int> out;
  for (job* n = chain; n != nullptr; n = list_t::next(n)) out.push_back(n->value);
  return out;
}

TEST(MpscSlist, EmptyListFlushesAndPopsNothing) {
  list_t list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.flush(), nullptr);
  EXPECT_EQ(list.flush_fifo(), nullptr);
  EXPECT_EQ(list.pop(), nullptr);
  EXPECT_EQ(list.discard(), 0u);
}

TEST(MpscSlist, PushReportsWhetherTheListWasEmpty) {
  list_t list;
  job a{1}, b{2};
  EXPECT_TRUE(list.push(&a));
  EXPECT_FALSE(list.push(&b));
  EXPECT_FALSE(list.empty());
  list.flush();
  EXPECT_TRUE(list.push(&a));
}

TEST(MpscSlist, SingleElementRoundTrip) {
  list_t list;
  job a{7};
  list.push(&a);
  job* got = list.pop();
  ASSERT_EQ(got, &a);
  EXPECT_EQ(list_t::next(got), nullptr);
  EXPECT_TRUE(list.empty());
}

TEST(MpscSlist, FlushIsLifoAndFlushFifoIsPushOrder) {
  list_t list;
  job n[4] = {job{0}, job{1}, job{2}, job{3}};
  for (job& j : n) list.push(&j);
  EXPECT_EQ(values(list.flush()), (std::vector<int>{3, 2, 1, 0}));
  for (job& j : n) list.push(&j);
  EXPECT_EQ(values(list.flush_fifo()), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(list.empty());
}

TEST(MpscSlist, PopTakesNewestFirst) {
  list_t list;
  job a{1}, b{2}, c{3};
  list.push(&a);
  list.push(&b);
  list.push(&c);
  EXPECT_EQ(list.pop()->value, 3);
  EXPECT_EQ(list.pop()->value, 2);
  EXPECT_EQ(list.pop()->value, 1);
  EXPECT_EQ(list.pop(), nullptr);
}

TEST(MpscSlist, PushChainActsLikePushingLastToFirst) {
  list_t list;
  job x{10};
  job chain[3] = {job{1}, job{2}, job{3}};
  chain[0].slist_next.write(&chain[1]);
  chain[1].slist_next.write(&chain[2]);
  EXPECT_TRUE(list.push(&x));
  EXPECT_FALSE(list.push_chain(&chain[0], &chain[2]));
  EXPECT_EQ(values(list.flush()), (std::vector<int>{1, 2, 3, 10}));
  chain[0].slist_next.write(&chain[1]);
  chain[1].slist_next.write(&chain[2]);
  EXPECT_TRUE(list.push_chain(&chain[0], &chain[2]));
  EXPECT_EQ(values(list.flush_fifo()), (std::vector<int>{3, 2, 1}));
}

TEST(MpscSlist, DiscardCountsAndEmpties) {
  list_t list;
  job n[5];
  for (job& j : n) list.push(&j);
  EXPECT_EQ(list.discard(), 5u);
  EXPECT_TRUE(list.empty());
}

TEST(MpscSlist, ReverseOfEmptyAndSingle) {
  EXPECT_EQ(list_t::reverse(nullptr), nullptr);
  job a{1};
  a.slist_next.write(nullptr);
  EXPECT_EQ(list_t::reverse(&a), &a);
}

}  // namespace
