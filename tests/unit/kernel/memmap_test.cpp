// SPDX-License-Identifier: MIT
#include <kernel/memmap.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace atl;

namespace {

using V = std::vector<std::pair<u64, u64>>;

V collect(std::vector<MemoryMapEntry> map, std::vector<Range> reserved, u64 limit, const char** err = nullptr)
{
    auto set = std::make_unique<RangeSet>();
    const char* e = collect_usable_memory(map.data(), map.size(), reserved.data(), reserved.size(), limit, *set);
    if (err)
        *err = e;
    V out;
    for (std::size_t i = 0; i < set->count(); ++i)
        out.emplace_back(set->at(i).start, set->at(i).end);
    return out;
}

constexpr u64 MiB = 1 << 20;

TEST(MemoryMap, QemuLikeMapMinusImage)
{
    // What QEMU's PVH loader reports for -m 16M: low RAM, a reserved BIOS hole, RAM from 1 MiB.
    auto v = collect({ { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 }, { MiB, 15 * MiB, 1 } },
        { { MiB, MiB + 0x34567 } }, 4ull << 30);
    EXPECT_EQ(v, (V { { 0, 0x9f000 }, { MiB + 0x35000, 16 * MiB } }));
}

TEST(MemoryMap, UnalignedRamShrinksReservedGrows)
{
    auto v = collect({ { 0x1800, 0x3000, 1 }, { 0x10000, 0x10000, 1 }, { 0x14800, 0x100, 2 } }, {}, ~0ull);
    EXPECT_EQ(v, (V { { 0x2000, 0x4000 }, { 0x10000, 0x14000 }, { 0x15000, 0x20000 } }));
}

TEST(MemoryMap, OverlappingRamEntriesMergeAndReservedWins)
{
    auto v = collect({ { 0x100000, 0x200000, 1 }, { 0x200000, 0x200000, 1 }, { 0x380000, 0x1000, 3 } }, {}, ~0ull);
    EXPECT_EQ(v, (V { { 0x100000, 0x380000 }, { 0x381000, 0x400000 } }));
}

TEST(MemoryMap, ClippedAtLimitAndOverflowSaturates)
{
    auto v = collect({ { 0xfff00000, 0x200000, 1 }, { 0xffffffffffff0000ull, 0x20000, 1 } }, {}, 4ull << 30);
    EXPECT_EQ(v, (V { { 0xfff00000, 0x100000000ull } }));
}

TEST(MemoryMap, ReservedRangesAreRemoved)
{
    auto v = collect({ { 0, 64 * MiB, 1 } }, { { 0, MiB }, { 8 * MiB, 8 * MiB + 1 } }, ~0ull);
    EXPECT_EQ(v, (V { { MiB, 8 * MiB }, { 8 * MiB + 0x1000, 64 * MiB } }));
}

TEST(MemoryMap, NoRamGivesNothing)
{
    const char* err = "unset";
    auto v = collect({ { 0, 64 * MiB, 2 } }, {}, ~0ull, &err);
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(err, nullptr);
}

} // namespace

// Found by tests/fuzz/memmap.cpp: a RAM entry starting within a page of 2^64 had its start
// rounded up past 2^64 to 0, and with its end clipped to the limit it claimed all memory below
// the limit: every MMIO hole and reserved region became RAM for the page allocator.
TEST(MemoryMap, RamNearTheTopOfTheAddressSpaceClaimsNothingBelowIt)
{
    auto v = collect({ { 0xfffffffffffffffeull, 0x3f000, 1 }, { 0xffffffffffffffffull, 0, 2 } }, {}, 0x1b000);
    EXPECT_TRUE(v.empty());
    v = collect({ { 0, 0x10000, 1 }, { 0xfffffffffffff001ull, 0x10, 1 } }, {}, 512ull << 30);
    EXPECT_EQ(v, (V { { 0, 0x10000 } }));
}

// A hole that reaches an unaligned limit near 2^64 is still a hole (its end used to round up
// to 0, which removed nothing).
TEST(MemoryMap, HoleUpToAnUnalignedLimitNearTheTopIsRemoved)
{
    auto v = collect({ { 0, ~0ull, 1 }, { 0x5000, ~0ull - 0x5000, 2 } }, {}, ~0ull);
    EXPECT_EQ(v, (V { { 0, 0x5000 } }));
}
