#include "ingress/connection_table.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <vector>

namespace chatpipe {
namespace {

struct FakeConnection {
  uint64_t id_;
  std::function<void()> on_destroy;
  uint64_t id() const { return id_; }
  ~FakeConnection() {
    if (on_destroy) on_destroy();
  }
};

using Table = ConnectionTable<FakeConnection>;

uint64_t AddOn(Table& table, int fd) {
  const uint64_t id = table.NextId(fd);
  table.Add(std::make_unique<FakeConnection>(FakeConnection{id, {}}));
  return id;
}

TEST(ConnectionTableTest, FindsAConnectionByItsIdOnly) {
  Table table;
  const uint64_t a = AddOn(table, 7);
  const uint64_t b = AddOn(table, 3);
  ASSERT_NE(table.Find(a), nullptr);
  EXPECT_EQ(table.Find(a)->id(), a);
  EXPECT_EQ(table.Find(b)->id(), b);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.Find(a + (uint64_t{1} << 32)), nullptr);  // the same descriptor, another connection
  EXPECT_EQ(table.Find(uint64_t{1} << 32 | 5), nullptr);     // a descriptor never used
  EXPECT_EQ(table.Find(uint64_t{1} << 32 | 1000), nullptr);  // past the array
}

TEST(ConnectionTableTest, AnOldIdFindsNothingOnceItsDescriptorIsReused) {
  Table table;
  const uint64_t old_id = AddOn(table, 9);
  table.Remove(old_id);
  EXPECT_EQ(table.Find(old_id), nullptr);
  const uint64_t new_id = AddOn(table, 9);
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(table.Find(old_id), nullptr);
  table.Remove(old_id);  // a late close of the old connection leaves the new one alone
  ASSERT_NE(table.Find(new_id), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ConnectionTableTest, ADestructorSeesItsSlotEmptyAlready) {
  Table table;
  const uint64_t id = table.NextId(4);
  bool found_itself = true;
  table.Add(std::make_unique<FakeConnection>(FakeConnection{id, [&] { found_itself = table.Find(id) != nullptr; }}));
  table.Remove(id);
  EXPECT_FALSE(found_itself);
  EXPECT_TRUE(table.empty());
}

TEST(ConnectionTableTest, ForEachToleratesRemovalsAndAdditions) {
  Table table;
  std::vector<uint64_t> ids;
  for (int fd : {10, 11, 12, 13}) ids.push_back(AddOn(table, fd));
  std::vector<uint64_t> visited;
  uint64_t added = 0;
  table.ForEach([&](FakeConnection& c) {
    visited.push_back(c.id());
    if (c.id() == ids[0]) table.Remove(ids[2]);  // not reached yet: skipped
    if (c.id() == ids[1]) table.Remove(ids[1]);  // itself
    if (c.id() == ids[3]) added = AddOn(table, 100);  // grows the array while iterating: visited later
  });
  EXPECT_EQ(visited, (std::vector<uint64_t>{ids[0], ids[1], ids[3], added}));
  EXPECT_EQ(table.size(), 3u);
  table.Clear();
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.Find(ids[0]), nullptr);
}

std::vector<uint64_t> VisitInTurn(Table& table, size_t parts) {
  std::vector<uint64_t> visited;
  table.ForEachInTurn(parts, [&](FakeConnection& c) { visited.push_back(c.id()); });
  return visited;
}

TEST(ConnectionTableTest, ForEachInTurnVisitsEveryConnectionInPartsCalls) {
  Table table;
  std::vector<uint64_t> ids;
  for (int fd = 0; fd < 8; ++fd) ids.push_back(AddOn(table, fd));
  EXPECT_EQ(VisitInTurn(table, 2), (std::vector<uint64_t>{ids[0], ids[4], ids[2], ids[6]}));
  EXPECT_EQ(VisitInTurn(table, 2), (std::vector<uint64_t>{ids[1], ids[5], ids[3], ids[7]}));
  table.Remove(ids[4]);
  table.Remove(ids[6]);
  EXPECT_EQ(VisitInTurn(table, 2), (std::vector<uint64_t>{ids[0], ids[2]}));  // the next pass, without them
}

TEST(ConnectionTableTest, ForEachInTurnCoversATableWithGapsInPartsCalls) {
  Table table;
  std::set<uint64_t> ids;
  for (int fd : {0, 1, 3, 4, 6, 7, 8}) ids.insert(AddOn(table, fd));  // 9 slots, 2 of them empty
  std::set<uint64_t> visited;
  for (int call = 0; call < 3; ++call)
    for (uint64_t id : VisitInTurn(table, 3)) visited.insert(id);
  EXPECT_EQ(visited, ids);
}

TEST(ConnectionTableTest, ConnectionsOpenedTogetherFallInDifferentParts) {
  Table table;
  for (int fd = 0; fd < 1024; ++fd) AddOn(table, fd);
  // Each of 32 calls visits one of the first 32 descriptors, and 32 connections in all.
  std::set<uint64_t> first_32;
  for (int call = 0; call < 32; ++call) {
    const std::vector<uint64_t> visited = VisitInTurn(table, 32);
    EXPECT_EQ(visited.size(), 32u);
    int among_first_32 = 0;
    for (uint64_t id : visited)
      if (static_cast<uint32_t>(id) < 32) ++among_first_32, first_32.insert(id);
    EXPECT_EQ(among_first_32, 1) << "call " << call;
  }
  EXPECT_EQ(first_32.size(), 32u);
}

}  // namespace
}  // namespace chatpipe
