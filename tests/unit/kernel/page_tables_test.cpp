// SPDX-License-Identifier: MIT
#include <kernel/arch/page_tables.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

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
        if (m_fail_at && ++m_attempts == m_fail_at)
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
    bool holds(u64 phys) const { return m_pages.count(phys) != 0; }
    std::size_t m_limit = 0;
    // The m_fail_at-th table allocation (counted in m_attempts) fails; 0: none does.
    long m_fail_at = 0;
    long m_attempts = 0;

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
        std::optional<PageTables::Mapping> m = pt->query(v);
        EXPECT_TRUE(m) << std::hex << v;
        return m.value_or(PageTables::Mapping {});
    }
    bool mapped(u64 v) { return pt->query(v).has_value(); }
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
    Result<void> refused = pt->protect(0, M2, Access::None); // not all mapped: refused
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ENOMEM); // as mprotect(2) says
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
    Result<void> r = pt->protect(K4, K4, Access::Read);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOMEM);
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

// Every table reachable from the root (x86-64's format: present entries of levels 4 and 3, and
// present entries of level 2 that are not large pages, point at a table), the root included.
std::set<u64> reachable_tables(FakeMemory& mem, u64 root)
{
    std::set<u64> out { root };
    auto walk = [&](auto& self, u64 table, int level) -> void {
        if (level == 1)
            return;
        for (int i = 0; i < 512; ++i) {
            u64 e = mem.table(table)[i];
            if (!(e & 1) || (level == 2 && (e & 0x80)))
                continue;
            u64 child = e & 0x000ffffffffff000ull;
            EXPECT_TRUE(mem.holds(child)) << "an entry points at a table that is not allocated";
            if (!mem.holds(child) || !out.insert(child).second)
                continue;
            self(self, child, level - 1);
        }
    };
    walk(walk, root, 4);
    return out;
}

// A sequence of edits that allocates tables at every level (a new PML4 entry's PDPT and PD,
// page tables for small pages, the splits of large pages), run with its Nth table allocation
// failing, for every N until it succeeds. Each failure leaves every page either as it was or as
// asked, and every table allocated hanging in the tree (none lost); the run that succeeds gives
// the whole mapping, and freeing the tree it reaches gives back every table there is.
TEST(PageTablesFailingAllocator, EveryFailureLeavesTheTreeConsistent)
{
    // 8 KiB of small pages just below 512 GiB (the last PML4 entry's first), then from 512 GiB
    // (a new PML4 entry) two large pages and 8 KiB more, physically contiguous.
    constexpr u64 v0 = (512ull << 30) - 2 * K4, p0 = 4 * M2 - 2 * K4, size = 2 * K4 + 2 * M2 + 2 * K4;
    auto expect_phys = [](u64 v) { return p0 + (v - v0); };
    bool succeeded = false;
    for (long n = 1; n < 64 && !succeeded; ++n) {
        FakeMemory mem;
        PageTables pt(mem, mem.alloc_table());
        mem.m_fail_at = n;
        Result<void> r = pt.map(v0, p0, size, Access::ReadWrite);
        if (r) // splits one large page (protect) and then the other (unmap)
            r = pt.protect(512ull << 30, K4, Access::Read);
        if (r)
            r = pt.unmap((512ull << 30) + M2 + K4, K4);
        if (!r) {
            EXPECT_EQ(r.error().code(), ENOMEM);
            EXPECT_EQ(mem.m_attempts, n) << "an allocation after the one that failed";
        } else {
            succeeded = true;
            EXPECT_LT(mem.m_attempts, n) << "succeeded although an allocation failed";
        }
        for (u64 v = v0; v < v0 + size; v += K4) {
            std::optional<PageTables::Mapping> m = pt.query(v);
            if (!m) {
                EXPECT_FALSE(succeeded && v != (512ull << 30) + M2 + K4) << std::hex << v;
                continue;
            }
            EXPECT_EQ(m->phys, expect_phys(v)) << std::hex << v;
            // The protected page: read-only once protect() succeeded, read-write before.
            bool protected_page = v == (512ull << 30);
            if (protected_page && !succeeded)
                EXPECT_TRUE(m->access == Access::Read || m->access == Access::ReadWrite);
            else
                EXPECT_EQ(m->access, protected_page ? Access::Read : Access::ReadWrite) << std::hex << v;
        }
        EXPECT_FALSE(pt.query(v0 - K4));
        EXPECT_FALSE(pt.query(v0 + size));
        std::set<u64> tables = reachable_tables(mem, pt.root());
        EXPECT_EQ(tables.size(), mem.live()) << "tables allocated that the tree does not reach (N = " << n << ")";
        for (u64 t : tables)
            mem.free_table(t);
        EXPECT_EQ(mem.live(), 0u);
    }
    EXPECT_TRUE(succeeded);
}

} // namespace
