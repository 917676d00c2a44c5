// SPDX-License-Identifier: MIT
#include <kernel/arch/page_tables.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

using namespace atl;

namespace {

// "Physical memory" for page tables: 4 KiB heap pages named by fake physical addresses.
class FakeMemory final : public PageTableMemory {
public:
    FakeMemory() = default;
    FakeMemory(const FakeMemory&) = delete;
public:
    ~FakeMemory()
    {
        for (auto& [phys, page] : m_pages)
            std::free(page);
    }
    u64 alloc_table() override
    {
        if (m_limit && m_pages.size() >= m_limit)
            return 0;
        void* p = std::aligned_alloc(4096, 4096);
        std::memset(p, 0, 4096);
        u64 phys = m_next += 4096;
        m_pages[phys] = static_cast<u64*>(p);
        return phys;
    }
    void free_table(u64 phys) override
    {
        auto it = m_pages.find(phys);
        ASSERT_NE(it, m_pages.end()) << "freeing a table that was never allocated";
        std::free(it->second);
        m_pages.erase(it);
    }
    u64* table(u64 phys) override { return m_pages.at(phys); }
    std::size_t live() const { return m_pages.size(); }
    std::size_t m_limit = 0;

private:
    std::map<u64, u64*> m_pages;
    u64 m_next = 0x7000000000;
};

constexpr u64 K4 = 4096, M2 = 2 << 20;

struct PageTablesTest : ::testing::Test {
    FakeMemory mem;
    std::unique_ptr<PageTables> pt;
    void SetUp() override { pt = std::make_unique<PageTables>(mem, mem.alloc_table()); }
    PageTables::Mapping q(u64 v)
    {
        PageTables::Mapping m {};
        EXPECT_TRUE(pt->query(v, &m)) << std::hex << v;
        return m;
    }
    bool mapped(u64 v)
    {
        PageTables::Mapping m {};
        return pt->query(v, &m);
    }
};

TEST_F(PageTablesTest, LargePagesWhereAlignedSmallElsewhere)
{
    ASSERT_TRUE(pt->map(0x100000, 0x100000, 8 * M2 - 0x100000, Access::ReadWrite));
    EXPECT_FALSE(q(0x100000).large);
    EXPECT_TRUE(q(M2).large);
    EXPECT_EQ(q(M2 + 0x1234).phys, M2 + 0x1234);
    EXPECT_EQ(q(0x1ff000).access, Access::ReadWrite);
    EXPECT_FALSE(mapped(0xff000));
    EXPECT_FALSE(mapped(8 * M2));
    // root + PDPT + PD + one PT for the first 2 MiB
    EXPECT_EQ(mem.live(), 4u);
}

TEST_F(PageTablesTest, ProtectSplitsALargePage)
{
    ASSERT_TRUE(pt->map(0, 0, 4 * M2, Access::ReadWrite));
    ASSERT_TRUE(pt->protect(M2 + 3 * K4, K4, Access::Read));
    EXPECT_EQ(q(M2 + 3 * K4).access, Access::Read);
    EXPECT_FALSE(q(M2 + 3 * K4).large);
    EXPECT_EQ(q(M2 + 2 * K4).access, Access::ReadWrite);
    EXPECT_EQ(q(M2 + 4 * K4).phys, M2 + 4 * K4);
    EXPECT_TRUE(q(2 * M2).large);
    ASSERT_TRUE(pt->protect(2 * M2, M2, Access::ReadExec)); // a whole large page stays large
    EXPECT_TRUE(q(2 * M2).large);
    EXPECT_EQ(q(2 * M2 + 5).access, Access::ReadExec);
}

TEST_F(PageTablesTest, ProtNoneIsMappedButNotAccessible)
{
    ASSERT_TRUE(pt->map(0x400000, 0x900000, 16 * K4, Access::ReadWrite));
    ASSERT_TRUE(pt->protect(0x400000, K4, Access::None));
    auto m = q(0x400000);
    EXPECT_EQ(m.access, Access::None);
    EXPECT_EQ(m.phys, 0x900000u);
    ASSERT_TRUE(pt->protect(0x400000, K4, Access::ReadWrite)); // and back
    EXPECT_EQ(q(0x400000).access, Access::ReadWrite);
    ASSERT_TRUE(pt->protect(0, M2, Access::None) == false); // not all mapped: refused
    EXPECT_EQ(q(0x401000).access, Access::ReadWrite);     // nothing changed
}

TEST_F(PageTablesTest, ProtNoneLargePageSplitsKeepsNone)
{
    ASSERT_TRUE(pt->map(M2, M2, M2, Access::None));
    EXPECT_EQ(q(M2).access, Access::None);
    ASSERT_TRUE(pt->protect(M2 + K4, K4, Access::ReadWrite));
    EXPECT_EQ(q(M2).access, Access::None);
    EXPECT_EQ(q(M2 + K4).access, Access::ReadWrite);
    EXPECT_EQ(q(M2 + K4).phys, M2 + K4);
}

TEST_F(PageTablesTest, UnmapPartOfALargePage)
{
    ASSERT_TRUE(pt->map(0, 0, 2 * M2, Access::ReadWrite));
    ASSERT_TRUE(pt->unmap(M2 - K4, 2 * K4));
    EXPECT_FALSE(mapped(M2 - K4));
    EXPECT_FALSE(mapped(M2));
    EXPECT_TRUE(mapped(M2 + K4));
    EXPECT_TRUE(mapped(M2 - 2 * K4));
    ASSERT_TRUE(pt->unmap(0x40000000, M2)); // nothing there: fine
}

TEST_F(PageTablesTest, RemappingLargeOverSplitFreesTheTable)
{
    ASSERT_TRUE(pt->map(0, 0, M2, Access::ReadWrite));
    ASSERT_TRUE(pt->protect(K4, K4, Access::Read)); // splits: one PT more
    std::size_t before = mem.live();
    ASSERT_TRUE(pt->map(0, 0, M2, Access::ReadExec));
    EXPECT_EQ(mem.live(), before - 1);
    EXPECT_TRUE(q(K4).large);
    EXPECT_EQ(q(K4).access, Access::ReadExec);
}

TEST_F(PageTablesTest, OutOfTableMemoryFailsWithoutCorruption)
{
    ASSERT_TRUE(pt->map(0, 0, 4 * M2, Access::ReadWrite));
    mem.m_limit = mem.live(); // no more tables
    EXPECT_FALSE(pt->protect(K4, K4, Access::Read));
    EXPECT_EQ(q(K4).access, Access::ReadWrite);
    EXPECT_FALSE(pt->map(1ull << 40, 0, K4, Access::Read));
}

TEST_F(PageTablesTest, HighAddressesUseTheirOwnTables)
{
    ASSERT_TRUE(pt->map(0x7f0000000000, 0x200000, 3 * K4, Access::ReadWrite));
    EXPECT_EQ(q(0x7f0000002000).phys, 0x202000u);
    EXPECT_FALSE(mapped(0x7f0000003000));
    EXPECT_FALSE(mapped(0x200000));
}

} // namespace
