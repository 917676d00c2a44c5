// SPDX-License-Identifier: MIT
#include <kernel/range_set.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using atl::Range;
using atl::RangeError;
using atl::RangeSet;
using atl::u64;

namespace {

// RangeSet is large (fixed capacity): keep it off the test's stack.
std::unique_ptr<RangeSet> make() { return std::make_unique<RangeSet>(); }

std::vector<std::pair<u64, u64>> dump(const RangeSet& s)
{
    std::vector<std::pair<u64, u64>> out;
    for (std::size_t i = 0; i < s.count(); ++i)
        out.emplace_back(s.at(i).start, s.at(i).end);
    return out;
}

using V = std::vector<std::pair<u64, u64>>;

TEST(RangeSet, InsertMergesNeighbours)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x1000, 0x2000 }));
    ASSERT_TRUE(s->insert({ 0x3000, 0x4000 }));
    EXPECT_EQ(dump(*s), (V { { 0x1000, 0x2000 }, { 0x3000, 0x4000 } }));
    ASSERT_TRUE(s->insert({ 0x2000, 0x3000 }));
    EXPECT_EQ(dump(*s), (V { { 0x1000, 0x4000 } }));
    EXPECT_EQ(s->total(), 0x3000u);
}

TEST(RangeSet, InsertRejectsOverlapAndLeavesSetUnchanged)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x1000, 0x3000 }));
    RangeError err {};
    EXPECT_FALSE(s->insert({ 0x2000, 0x4000 }, &err));
    EXPECT_EQ(err, RangeError::Overlap);
    EXPECT_FALSE(s->insert({ 0x0, 0x1001 }, &err));
    EXPECT_FALSE(s->insert({ 0x1800, 0x1900 }, &err));
    EXPECT_EQ(dump(*s), (V { { 0x1000, 0x3000 } }));
    EXPECT_FALSE(s->insert({ 0x5000, 0x4000 }, &err));
    EXPECT_EQ(err, RangeError::Invalid);
}

TEST(RangeSet, RemoveIgnoresMissingBytesAndReportsPieces)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x1000, 0x2000 }));
    ASSERT_TRUE(s->insert({ 0x3000, 0x5000 }));
    V removed;
    ASSERT_TRUE(s->remove({ 0x0, 0x4000 }, [&](Range r) { removed.emplace_back(r.start, r.end); }));
    EXPECT_EQ(removed, (V { { 0x1000, 0x2000 }, { 0x3000, 0x4000 } }));
    EXPECT_EQ(dump(*s), (V { { 0x4000, 0x5000 } }));
}

TEST(RangeSet, RemoveSplitsARange)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x0, 0x10000 }));
    ASSERT_TRUE(s->remove({ 0x4000, 0x5000 }));
    EXPECT_EQ(dump(*s), (V { { 0x0, 0x4000 }, { 0x5000, 0x10000 } }));
    EXPECT_TRUE(s->contains({ 0x5000, 0x6000 }));
    EXPECT_FALSE(s->contains({ 0x3000, 0x6000 }));
    EXPECT_TRUE(s->intersects({ 0x3000, 0x6000 }));
    EXPECT_FALSE(s->intersects({ 0x4000, 0x5000 }));
}

TEST(RangeSet, AllocateFirstFitWithAlignmentAndFloor)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x1000, 0x3000 }));
    ASSERT_TRUE(s->insert({ 0x10000, 0x40000 }));
    u64 a = 0;
    ASSERT_TRUE(s->allocate(0x1000, 0x1000, &a));
    EXPECT_EQ(a, 0x1000u);
    ASSERT_TRUE(s->allocate(0x2000, 0x10000, &a)); // 0x2000 left in the first range: too small
    EXPECT_EQ(a, 0x10000u);
    ASSERT_TRUE(s->allocate(0x1000, 0x1000, &a, 0x20000));
    EXPECT_EQ(a, 0x20000u);
    EXPECT_FALSE(s->allocate(0x100000, 0x1000, &a));
    EXPECT_FALSE(s->allocate(0x1000, 0x3000, &a)); // alignment must be a power of two
    EXPECT_FALSE(s->allocate(0, 0x1000, &a));
    EXPECT_EQ(s->total(), 0x1000u + 0x30000u - 0x3000u);
}

TEST(RangeSet, FreeingEverythingRestoresOneRange)
{
    auto s = make();
    ASSERT_TRUE(s->insert({ 0x100000, 0x200000 }));
    std::vector<u64> got;
    u64 a = 0;
    while (s->allocate(0x1000, 0x1000, &a))
        got.push_back(a);
    EXPECT_EQ(got.size(), 256u);
    EXPECT_EQ(s->count(), 0u);
    // Give back in an interleaved order: odd pages, then even ones.
    for (std::size_t i = 1; i < got.size(); i += 2)
        ASSERT_TRUE(s->insert({ got[i], got[i] + 0x1000 }));
    for (std::size_t i = 0; i < got.size(); i += 2)
        ASSERT_TRUE(s->insert({ got[i], got[i] + 0x1000 }));
    EXPECT_EQ(dump(*s), (V { { 0x100000, 0x200000 } }));
}

TEST(RangeSet, CapacityExhaustionFailsCleanly)
{
    auto s = make();
    for (u64 i = 0; i < RangeSet::k_capacity; ++i)
        ASSERT_TRUE(s->insert({ i * 0x2000, i * 0x2000 + 0x1000 }));
    RangeError err {};
    EXPECT_FALSE(s->insert({ 0x10000000, 0x10001000 }, &err));
    EXPECT_EQ(err, RangeError::Full);
    // Splitting a full set's range is refused, and the set is unchanged.
    auto before = dump(*s);
    EXPECT_TRUE(s->remove({ 0x0, 0x1000 })); // removing a whole range needs no room
    EXPECT_EQ(s->count(), RangeSet::k_capacity - 1);
    ASSERT_TRUE(s->insert({ 0x0, 0x1000 }));
    EXPECT_EQ(dump(*s), before);
    ASSERT_TRUE(s->insert({ 0x1000, 0x1800 })); // grows a range, no new entry
    EXPECT_FALSE(s->remove({ 0x400, 0x800 })); // would split: no room
    EXPECT_TRUE(s->contains({ 0x0, 0x1800 }));
}

} // namespace
