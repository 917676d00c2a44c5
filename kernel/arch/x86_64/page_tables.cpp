// SPDX-License-Identifier: MIT
#include <kernel/arch/page_tables.h>

#include <cerrno>

namespace atl {

namespace {

// Intel SDM Vol. 3A §4.5: 4-level paging entry bits.
constexpr u64 k_present = 1ull << 0;
constexpr u64 k_write = 1ull << 1;
constexpr u64 k_pwt = 1ull << 3;
constexpr u64 k_pcd = 1ull << 4;
constexpr u64 k_large_page = 1ull << 7;
constexpr u64 k_soft_mapped = 1ull << 9; // software: "mapped, PROT_NONE" in a non-present entry
constexpr u64 k_nx = 1ull << 63;
constexpr u64 k_addr_mask = 0x000ffffffffff000ull;
constexpr u64 k_table_flags = k_present | k_write; // upper levels allow all; leaves restrict

u64 leaf_flags(Access a, bool uncached)
{
    u64 f = 0;
    switch (a) {
    case Access::None: return k_soft_mapped;
    case Access::Read: f = k_present | k_nx; break;
    case Access::ReadWrite: f = k_present | k_write | k_nx; break;
    case Access::ReadExec: f = k_present; break;
    case Access::ReadWriteExec: f = k_present | k_write; break;
    }
    if (uncached)
        f |= k_pcd | k_pwt;
    return f;
}

Access access_of(u64 e)
{
    if (!(e & k_present))
        return Access::None;
    bool w = e & k_write, x = !(e & k_nx);
    if (w)
        return x ? Access::ReadWriteExec : Access::ReadWrite;
    return x ? Access::ReadExec : Access::Read;
}

bool is_mapped(u64 e) { return e & (k_present | k_soft_mapped); }

unsigned index(u64 virt, int level) { return (virt >> (12 + 9 * (level - 1))) & 511; } // level 4..1

u64 keep_cache_bits(u64 e) { return e & (k_pcd | k_pwt); }

} // namespace

u64* PageTables::next_table(u64* entry, bool create)
{
    if (*entry & k_present)
        return m_memory.table(*entry & k_addr_mask);
    if (!create)
        return nullptr;
    u64 t = m_memory.alloc_table();
    if (!t)
        return nullptr;
    *entry = t | k_table_flags;
    return m_memory.table(t);
}

bool PageTables::split_large(u64* pde)
{
    u64 e = *pde;
    u64 t = m_memory.alloc_table();
    if (!t)
        return false;
    u64* pt = m_memory.table(t);
    u64 base = e & k_addr_mask & ~(k_large - 1);
    // The small pages keep the large page's access; bit 7 becomes PAT in a 4 KiB entry: clear it.
    u64 flags = (e & ~k_addr_mask & ~k_large_page);
    for (u64 i = 0; i < 512; ++i)
        pt[i] = (base + i * k_small) | flags;
    *pde = t | k_table_flags;
    return true;
}

// Returns the leaf entry for virt: a PDE (level 2, large page) or a PTE (level 1).
// With `split`, a large page covering virt is split so a PTE is returned.
u64* PageTables::walk(u64 virt, bool create, bool split, int* level_out)
{
    u64* table = m_memory.table(m_root);
    for (int level = 4; level > 2; --level) {
        table = next_table(&table[index(virt, level)], create);
        if (!table)
            return nullptr;
    }
    u64* pde = &table[index(virt, 2)];
    if (*pde & k_large_page || (!(*pde & k_present) && (*pde & k_soft_mapped))) {
        if (!split) {
            *level_out = 2;
            return pde;
        }
        if (!split_large(pde))
            return nullptr;
    }
    u64* pt = next_table(pde, create);
    if (!pt)
        return nullptr;
    *level_out = 1;
    return &pt[index(virt, 1)];
}

Result<void> PageTables::map(u64 virt, u64 phys, u64 size, Access access, bool uncached)
{
    u64 flags = leaf_flags(access, uncached);
    u64 end = virt + size;
    while (virt < end) {
        bool large = (virt % k_large) == 0 && (phys % k_large) == 0 && end - virt >= k_large;
        if (large) {
            u64* table = m_memory.table(m_root);
            for (int level = 4; level > 2 && table; --level)
                table = next_table(&table[index(virt, level)], true);
            if (!table)
                return Error::from_errno(ENOMEM);
            u64* pde = &table[index(virt, 2)];
            if ((*pde & k_present) && !(*pde & k_large_page))
                m_memory.free_table(*pde & k_addr_mask);
            *pde = phys | flags | k_large_page;
            virt += k_large;
            phys += k_large;
            continue;
        }
        int level = 0;
        u64* pte = walk(virt, true, true, &level);
        if (!pte)
            return Error::from_errno(ENOMEM);
        *pte = phys | flags;
        virt += k_small;
        phys += k_small;
    }
    return {};
}

Result<void> PageTables::protect(u64 virt, u64 size, Access access)
{
    u64 end = virt + size;
    // First pass: everything must be mapped, so a failure changes nothing.
    for (u64 v = virt; v < end;) {
        std::optional<Mapping> m = query(v);
        if (!m)
            return Error::from_errno(ENOMEM);
        v = m->large ? (v & ~(k_large - 1)) + k_large : v + k_small;
    }
    while (virt < end) {
        int level = 0;
        u64* e = walk(virt, false, false, &level);
        bool whole = level == 2 && (virt % k_large) == 0 && end - virt >= k_large;
        if (level == 2 && !whole) {
            e = walk(virt, false, true, &level);
            if (!e)
                return Error::from_errno(ENOMEM); // out of memory for the split: earlier pages already changed
        }
        u64 phys = *e & k_addr_mask;
        u64 cache = keep_cache_bits(*e);
        *e = phys | leaf_flags(access, false) | (access == Access::None ? 0 : cache) | (level == 2 ? k_large_page : 0);
        virt += level == 2 ? k_large : k_small;
    }
    return {};
}

Result<void> PageTables::unmap(u64 virt, u64 size)
{
    u64 end = virt + size;
    while (virt < end) {
        int level = 0;
        u64* e = walk(virt, false, false, &level);
        if (!e || !is_mapped(*e)) {
            // Skip to the next page (or the next large page when there is no table at all).
            virt = e ? virt + (level == 2 ? k_large - (virt % k_large) : k_small) : (virt & ~(k_large - 1)) + k_large;
            continue;
        }
        if (level == 2 && !((virt % k_large) == 0 && end - virt >= k_large)) {
            e = walk(virt, false, true, &level);
            if (!e)
                return Error::from_errno(ENOMEM);
        }
        *e = 0;
        virt += level == 2 ? k_large : k_small;
    }
    return {};
}

std::optional<PageTables::Mapping> PageTables::query(u64 virt) const
{
    u64* table = m_memory.table(m_root);
    for (int level = 4; level > 2; --level) {
        u64 e = table[index(virt, level)];
        if (!(e & k_present))
            return std::nullopt;
        table = m_memory.table(e & k_addr_mask);
    }
    u64 pde = table[index(virt, 2)];
    if ((pde & k_large_page) || (!(pde & k_present) && (pde & k_soft_mapped))) {
        if (!is_mapped(pde))
            return std::nullopt;
        return Mapping { (pde & k_addr_mask & ~(k_large - 1)) + (virt % k_large), access_of(pde), true };
    }
    if (!(pde & k_present))
        return std::nullopt;
    u64 pte = m_memory.table(pde & k_addr_mask)[index(virt, 1)];
    if (!is_mapped(pte))
        return std::nullopt;
    return Mapping { (pte & k_addr_mask) + (virt % k_small), access_of(pte), false };
}

} // namespace atl
